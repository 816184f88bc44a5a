"""A browser for the pages: its own cookie jar, signed in through the sign-in form with a bearer
token of the test identity provider, and the anti-forgery token each form carries."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from httpx import Response

from tests.e2e.conftest import Service

_CSRF = r'<form method="post" action="{action}"><input type="hidden" name="csrf" value="([^"]*)">'


def form_token(html: str, action: str) -> str:
    """The CSRF token of the form posting to ``action`` on a page."""
    found = re.search(_CSRF.format(action=re.escape(action)), html)
    assert found, f"no form posting to {action}"
    return found.group(1)


def browser(svc: Service) -> TestClient:
    """A fresh browser (no cookies) that does not follow redirects by itself."""
    return TestClient(svc.app, follow_redirects=False)


def sign_in(client: TestClient, headers: dict[str, str]) -> Response:
    """Sign in with the bearer token of ``headers`` through the sign-in form."""
    nonce = form_token(client.get("/pages/login").text, "/pages/login")
    token = headers["Authorization"].removeprefix("Bearer ")
    return client.post("/pages/login", data={"token": token, "csrf": nonce})


def signed_in(svc: Service, headers: dict[str, str]) -> TestClient:
    """A browser signed in as the caller of ``headers``."""
    client = browser(svc)
    assert sign_in(client, headers).status_code == 303
    return client
