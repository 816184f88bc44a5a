"""The page shell every page shares: the HTML document, styles, navigation by role, tables, and
the headers that keep pages out of caches and frames."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from html import escape

from fastapi.responses import HTMLResponse

from api.pages.labels import ROLE
from ledger.actors import Role

CHINA = timezone(timedelta(hours=8))
STYLE = (
    "body{font-family:'Noto Sans SC','PingFang SC','Microsoft YaHei',sans-serif;margin:2rem;"
    "max-width:64rem;color:#222}table{border-collapse:collapse;width:100%;margin:.5rem 0}"
    "th,td{border:1px solid #ccc;padding:.4rem;text-align:left;vertical-align:top}"
    "th{background:#f3f3f3}.tag{display:inline-block;padding:0 .4rem;border-radius:.2rem;"
    "background:#e6f4ea}nav{margin-bottom:1rem;padding-bottom:.5rem;border-bottom:1px solid #ddd}"
    "nav a{margin-right:1rem}nav form{display:inline;float:right}.ok{color:#137333}"
    ".bad{color:#b3261e}.error{background:#fce8e6;padding:.5rem;border-radius:.2rem}"
    "label{display:block;margin:.5rem 0 .2rem}textarea,input[type=text]{width:100%}"
    ".bar{background:#1a73e8;height:.8rem}.code{color:#666;font-size:.85rem}"
)
# Styles are inline, so 'unsafe-inline' is allowed for them; nothing else runs or loads.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_LINKS: dict[Role, tuple[tuple[str, str], ...]] = {
    Role.APPLICANT: (
        ("/pages/my", "我的办件"),
        ("/pages/my/licenses", "我的证照"),
        ("/pages/my/uses", "用证记录"),
    ),
    Role.VERIFIER: (("/pages/verify", "用证核验"),),
    Role.OFFICER: (
        ("/pages/desk", "办件台"),
        ("/pages/verify", "用证核验"),
        ("/pages/supervision", "效能监督"),
    ),
    Role.AUDITOR: (
        ("/pages/audit", "审计追溯"),
        ("/pages/supervision", "效能监督"),
        ("/pages/keys", "密钥管理"),
    ),
    Role.ADMIN: (("/pages/keys", "密钥管理"), ("/pages/supervision", "效能监督")),
}


@dataclass(frozen=True)
class Nav:
    """Who is signed in, for the navigation bar, with the token of the sign-out form."""

    who: str
    role: Role
    department: str | None
    logout_csrf: str


def home_of(role: Role) -> str:
    """The first page a role lands on after signing in."""
    links = _LINKS.get(role)
    return links[0][0] if links else "/pages/"


def _nav(nav: Nav | None) -> str:
    if nav is None:
        return '<nav><a href="/pages/">事项目录</a><a href="/pages/login">登录</a></nav>'
    links = "".join(f'<a href="{href}">{text}</a>' for href, text in _LINKS.get(nav.role, ()))
    who = escape(nav.who) + (f"（{escape(nav.department)}）" if nav.department else "")
    logout = (
        '<form method="post" action="/pages/logout">'
        f'<input type="hidden" name="csrf" value="{escape(nav.logout_csrf)}">'
        f"{ROLE[nav.role.value]} {who} <button>退出</button></form>"
    )
    return f'<nav>{logout}<a href="/pages/">事项目录</a>{links}</nav>'


def page(title: str, body: str, *, nav: Nav | None = None, status: int = 200) -> HTMLResponse:
    """A whole page: ``body`` is HTML whose every value was escaped by its maker."""
    html = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body>{_nav(nav)}<h1>{escape(title)}</h1>{body}</body></html>"
    )
    headers = dict(SECURITY_HEADERS)
    if nav is not None:
        headers["Cache-Control"] = "no-store"  # a signed-in page holds personal data
    return HTMLResponse(html, status, headers=headers)


def table(head: Iterable[str], rows: Iterable[Iterable[str]], *, empty: str = "暂无") -> str:
    """A table of already-escaped cells under escaped headings; ``empty`` if there are no rows."""
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    if not body:
        return f"<p>{escape(empty)}</p>"
    heads = "".join(f"<th>{escape(h)}</th>" for h in head)
    return f"<table><tr>{heads}</tr>{body}</table>"


def facts(pairs: Iterable[tuple[str, str]]) -> str:
    """A two-column table of escaped labels and already-escaped values."""
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in pairs)
    return f"<table>{rows}</table>"


def label(labels: Mapping[str, str], value: str | None) -> str:
    """The Chinese label of a code, or the code itself, escaped; "—" for none."""
    if value is None:
        return "—"
    return escape(labels.get(value, value))


def when(at: datetime | None) -> str:
    """A time in China Standard Time, to the minute."""
    return "—" if at is None else at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def day(value: date | None) -> str:
    """A date, or "—"."""
    return "—" if value is None else value.isoformat()
