"""A browser for the pages: its own cookie jar, signed in through the sign-in form with a bearer
token of the test identity provider, the anti-forgery token each form carries, the hidden fields
and material rows of a form with files, and such forms posted as a browser encodes them."""

from __future__ import annotations

import re
from collections.abc import Sequence

from fastapi.testclient import TestClient
from httpx import Response

from tests.e2e.conftest import Service

# A file of a form's row as a browser posts it: its name, bytes and media type.
Upload = tuple[str, bytes, str]
Fields = dict[str, str | list[str]]  # a form's text fields: one value, or one a row
NO_FILE: Upload = ("", b"", "application/octet-stream")  # a row whose file was not chosen
BOUNDARY = "caseledger-form-boundary"
_CSRF = (
    r'<form method="post" action="{action}"[^>]*>'
    r'<input type="hidden" name="csrf" value="([^"]*)">'
)


def form_token(html: str, action: str) -> str:
    """The CSRF token of the form posting to ``action`` on a page."""
    found = re.search(_CSRF.format(action=re.escape(action)), html)
    assert found, f"no form posting to {action}"
    return found.group(1)


def form_of(html: str, action: str) -> str:
    """The HTML of the form posting to ``action`` on a page."""
    start = html.find(f'<form method="post" action="{action}"')
    assert start >= 0, f"no form posting to {action}"
    return html[start : html.index("</form>", start)]


def hidden_fields(html: str, action: str) -> dict[str, str]:
    """The form's own hidden fields (its CSRF token, one-time number, version), by name."""
    pattern = r'<input type="hidden" name="(csrf|nonce|version)" value="([^"]*)">'
    return dict(re.findall(pattern, form_of(html, action)))


def material_codes(html: str, action: str) -> list[str]:
    """The material code of each row of the form's material table, in order."""
    return re.findall(
        r'<input type="hidden" name="material" value="([^"]*)">', form_of(html, action)
    )


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


def multipart(fields: Fields, files: Sequence[Upload]) -> bytes:
    """A form with its files encoded as a browser sends it: a row without a file posts an empty
    file with an empty name (httpx would leave the name out, and the part would be no file)."""
    parts = [
        f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value.encode()
        for name, values in fields.items()
        for value in ([values] if isinstance(values, str) else values)
    ]
    parts += [
        f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: {media_type}\r\n\r\n".encode()
        + content
        for filename, content, media_type in files
    ]
    body = b"".join(f"--{BOUNDARY}\r\n".encode() + part + b"\r\n" for part in parts)
    return body + f"--{BOUNDARY}--\r\n".encode()


def post_files(
    client: TestClient, target: str, fields: Fields, files: Sequence[Upload]
) -> Response:
    """Post a form with files as multipart/form-data, as a browser does."""
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    response: Response = client.post(target, content=multipart(fields, files), headers=headers)
    return response
