"""Signing in to the pages: a bearer token (as ``caseledger token`` or the identity provider
issues it) is checked with the API's own ``verify_token`` and kept in an HttpOnly, SameSite=Strict
cookie scoped to /pages; every form that changes state carries a token derived from the session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from html import escape
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import AuthError, Principal, verify_token
from api.deps import Now, RuntimeDep
from api.pages.errors import LOGIN, SESSION_COOKIE, PageForbidden, PageRoute, SignInRequired
from api.pages.labels import ROLE
from api.pages.layout import Nav, home_of, page
from ledger.actors import Role
from licenses.errors import mask_id

LOGIN_COOKIE = "caseledger_login"  # the sign-in form's own CSRF nonce, before any session
MAX_TOKEN = 8000
router = APIRouter(prefix="/pages", tags=["pages"], route_class=PageRoute)


@dataclass(frozen=True)
class Session:
    """A signed-in browser: the principal its token names, and the token itself."""

    principal: Principal
    token: str

    def csrf(self, form: str) -> str:
        """The anti-forgery token of ``form`` for this session (only its holder can compute it)."""
        # Keyed by the session token, which only the browser's HttpOnly cookie holds, so a page on
        # another site can neither read nor compute it; the same in every worker process.
        key = self.token.encode("utf-8")
        return hmac.new(key, f"caseledger-pages-csrf:{form}".encode(), hashlib.sha256).hexdigest()

    def check_csrf(self, form: str, given: str) -> None:
        """Refuse a submission of ``form`` whose token is missing or not this session's."""
        expected = self.csrf(form).encode("ascii")
        if not given or not hmac.compare_digest(given.encode("utf-8"), expected):
            raise PageForbidden("表单校验失败（CSRF 令牌缺失或无效），请刷新页面后重新提交")

    def nav(self) -> Nav:
        """The navigation bar of this session's pages."""
        p = self.principal
        # An applicant's subject is their holder id, which pages show only masked.
        who = mask_id(p.sub) if p.role is Role.APPLICANT else p.sub
        return Nav(who, p.role, p.department, self.csrf("logout"))


async def current_session(request: Request, runtime: RuntimeDep, now: Now) -> Session:
    """The session of the cookie, verified exactly as a bearer token is (else sign in)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > MAX_TOKEN:
        raise SignInRequired()
    try:
        return Session(verify_token(token, runtime.auth, now), token)
    except AuthError:
        raise SignInRequired() from None


def signed_in(*roles: Role) -> Callable[..., Awaitable[Session]]:
    """A dependency letting only sessions of ``roles`` through (a 403 page otherwise)."""
    allowed = frozenset(roles)

    async def check(session: Annotated[Session, Depends(current_session)]) -> Session:
        if session.principal.role not in allowed:
            names = "、".join(ROLE[r.value] for r in sorted(allowed))
            mine = ROLE[session.principal.role.value]
            raise PageForbidden(f"此页面仅供{names}使用，当前登录角色为{mine}")
        return session

    return check


def _login_form(nonce: str, error: str | None = None) -> str:
    shown = f'<p class="error">{escape(error)}</p>' if error else ""
    return (
        f"{shown}<p>请粘贴统一身份认证签发的访问令牌"
        "（本地可用 <code>caseledger token</code> 生成）。</p>"
        f'<form method="post" action="{LOGIN}">'
        f'<input type="hidden" name="csrf" value="{escape(nonce)}">'
        '<label for="token">访问令牌</label>'
        f'<textarea id="token" name="token" rows="6" maxlength="{MAX_TOKEN}" required></textarea>'
        "<p><button>登录</button></p></form>"
    )


def _login_page(request: Request, error: str | None = None, status: int = 200) -> HTMLResponse:
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
    response = page("登录", _login_form(nonce, error), status=status)
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=3600,
        path=LOGIN,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    """The sign-in form. Anyone."""
    return _login_page(request)


@router.post("/login", response_class=HTMLResponse, responses={303: {"description": "signed in"}})
def login(
    request: Request,
    runtime: RuntimeDep,
    now: Now,
    token: Annotated[str, Form(max_length=MAX_TOKEN)] = "",
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Check a token as the API does; keep it in the session cookie and go to the role's page."""
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not nonce or not hmac.compare_digest(csrf.encode("utf-8"), nonce.encode("utf-8")):
        return _login_page(request, "登录表单已失效，请重新提交。", status=403)
    try:
        principal = verify_token(token.strip(), runtime.auth, now)
    except AuthError:
        return _login_page(request, "令牌无效或已过期，请重新获取。", status=400)
    response = RedirectResponse(home_of(principal.role), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token.strip(),
        path="/pages",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    response.delete_cookie(LOGIN_COOKIE, path=LOGIN, httponly=True, samesite="strict")
    return response


@router.post("/logout", responses={303: {"description": "signed out"}})
def logout(
    session: Annotated[Session, Depends(current_session)],
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """End the session (drop the cookie). The signed-in caller."""
    session.check_csrf("logout", csrf)
    response = RedirectResponse(LOGIN, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/pages", httponly=True, samesite="strict")
    return response
