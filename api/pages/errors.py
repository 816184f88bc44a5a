"""How refusals show on pages: a browser without a session is sent to sign in (303), and every
other refusal is a Chinese error page with the status and stable problem type the API uses."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from html import escape
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.errors import ApiProblem, problem_for
from api.pages.layout import page
from keys.errors import KeyManagementError
from ledger.errors import LedgerError
from licenses.errors import LicenseError
from projections.errors import ProjectionError

LOGIN = "/pages/login"
SESSION_COOKIE = "caseledger_session"
log = logging.getLogger("caseledger.pages")
_TITLES = {
    400: "请求有误",
    401: "请先登录",
    403: "无权访问",
    404: "未找到",
    409: "当前状态不允许此操作",
    422: "请求内容无效",
    503: "服务暂不可用",
}
_DOMAIN = (LedgerError, LicenseError, KeyManagementError, ProjectionError)


class SignInRequired(Exception):
    """No session, or one whose token no longer verifies."""


class PageForbidden(Exception):
    """A signed-in caller whose role may not use a page, or a form without its CSRF token."""


def error_page(status: int, slug: str, detail: str) -> Response:
    """A Chinese error page naming the status and the API's problem type."""
    body = (
        f'<p class="error">{escape(detail)}</p>'
        f'<p class="code">HTTP {status} · {escape(slug)}</p><p><a href="/pages/">返回首页</a></p>'
    )
    return page(_TITLES.get(status, "出错了"), body, status=status)


def _refusal(exc: Exception) -> Response:
    if isinstance(exc, SignInRequired):
        redirect = RedirectResponse(LOGIN, status_code=303)
        # An expired or forged session cookie is dropped, so the browser stops sending it.
        redirect.delete_cookie(SESSION_COOKIE, path="/pages", httponly=True, samesite="strict")
        return redirect
    if isinstance(exc, PageForbidden):
        return error_page(403, "forbidden", str(exc))
    if isinstance(exc, RequestValidationError):
        # Inputs are not echoed: they may hold personal data such as holder ids.
        return error_page(422, "validation-failed", "请求的参数格式不正确")
    if isinstance(exc, ApiProblem):
        return error_page(exc.status_code, exc.problem.slug, str(exc.detail))
    if isinstance(exc, StarletteHTTPException):
        return error_page(exc.status_code, f"http-{exc.status_code}", str(exc.detail))
    problem = problem_for(exc)
    if problem.status >= 500:
        log.error("page failed: %s", type(exc).__name__)
    return error_page(problem.status, problem.slug, str(exc))


class PageRoute(APIRoute):
    """A route whose refusals, raised by it or by its dependencies, are pages, not JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap FastAPI's handler, which also resolves the dependencies, to render refusals."""
        handle = super().get_route_handler()

        async def render_refusals(request: Request) -> Response:
            try:
                return await handle(request)
            except (
                SignInRequired,
                PageForbidden,
                RequestValidationError,
                StarletteHTTPException,
                *_DOMAIN,
            ) as exc:
                return _refusal(exc)

        return render_refusals
