"""The Simplified Chinese pages: the public catalog and an item's guide, escaped HTML, and signing
in with a bearer token kept in an HttpOnly, SameSite=Strict cookie scoped to /pages."""

from __future__ import annotations

from datetime import timedelta

from tests.e2e.browser import browser, form_token, sign_in, signed_in
from tests.e2e.conftest import LEAD, Service
from tests.scenarios import PERMIT


def test_the_catalog_page_lists_items_with_their_visits(service: Service) -> None:
    response = service.client.get("/pages/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in response.text and "政务服务事项目录" in response.text
    assert f'href="/pages/items/{PERMIT}"' in response.text and "最多跑一次" in response.text


def test_the_guide_says_what_may_be_tolerated_and_proven_by_e_license(service: Service) -> None:
    page = service.client.get(f"/pages/items/{PERMIT}").text
    assert "办事指南" in page and "50 个工作日" in page and "现场勘查" in page
    assert "可容缺" in page and "可用电子证照，无需提交" in page


def test_the_guide_of_an_unknown_item_is_a_404_page_naming_the_problem(service: Service) -> None:
    response = service.client.get("/pages/items/nope")
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
    assert "未找到" in response.text and "unknown-item" in response.text


def test_pages_forbid_framing_and_scripts(service: Service) -> None:
    policy = service.client.get("/pages/").headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy


# --- signing in ------------------------------------------------------------------------------


def test_a_valid_token_signs_in_with_a_strict_http_only_cookie(service: Service) -> None:
    client = browser(service)
    response = sign_in(client, service.tokens.verifier(LEAD))
    assert (response.status_code, response.headers["location"]) == (303, "/pages/verify")
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("caseledger_session=")
    )
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "path=/pages", "samesite=strict"} <= attributes
    page = client.get("/pages/verify")
    assert page.status_code == 200 and f"verifier-{LEAD}" in page.text
    assert page.headers["cache-control"] == "no-store"


def test_a_garbage_token_shows_the_sign_in_page_with_an_error(service: Service) -> None:
    client = browser(service)
    nonce = form_token(client.get("/pages/login").text, "/pages/login")
    response = client.post("/pages/login", data={"token": "not-a-jwt", "csrf": nonce})
    assert response.status_code == 400 and "令牌无效或已过期" in response.text
    assert "caseledger_session" not in client.cookies
    assert client.get("/pages/verify").status_code == 303


def test_a_sign_in_posted_without_the_forms_own_token_is_refused(service: Service) -> None:
    client = browser(service)
    token = service.tokens.auditor()["Authorization"].removeprefix("Bearer ")
    response = client.post("/pages/login", data={"token": token})
    assert response.status_code == 403 and "登录表单已失效" in response.text
    assert "caseledger_session" not in client.cookies


def test_an_expired_session_sends_the_browser_to_sign_in_again(service: Service) -> None:
    client = signed_in(service, service.tokens.verifier(LEAD))
    service.clock.advance(timedelta(hours=2))
    response = client.get("/pages/verify")
    assert (response.status_code, response.headers["location"]) == (303, "/pages/login")


def test_signing_out_needs_the_forms_token_and_ends_the_session(service: Service) -> None:
    client = signed_in(service, service.tokens.verifier(LEAD))
    assert client.post("/pages/logout", data={"csrf": "forged"}).status_code == 403
    token = form_token(client.get("/pages/verify").text, "/pages/logout")
    response = client.post("/pages/logout", data={"csrf": token})
    assert (response.status_code, response.headers["location"]) == (303, "/pages/login")
    assert client.get("/pages/verify").status_code == 303
