"""The key administration page (密钥管理): every registered key with what it signs for and its
state; an administrator replaces a key this service holds (from now, or from a time published
ahead), or revokes one from a time (a compromise's, or now). Each change goes through the key
administration service, as ``/v1/keys`` does. Administrators act; auditors read.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path
from fastapi.responses import HTMLResponse

from api.deps import LedgerDep, Now
from api.errors import ApiProblem
from api.key_schemas import KID
from api.pages.errors import PageRoute
from api.pages.labels import KEY_ROLE, KEY_STATE
from api.pages.layout import CHINA, label, page, table, when
from api.pages.session import Session, signed_in
from ledger.actors import Channel, Role
from ledger.application import CaseLedger
from ledger.commands import Command
from ledger.key_admin import REPLACEABLE

PAGE = "/pages/keys"
router = APIRouter(
    prefix="/pages", tags=["pages"], default_response_class=HTMLResponse, route_class=PageRoute
)
Reader = Annotated[Session, Depends(signed_in(Role.ADMIN, Role.AUDITOR))]
Administrator = Annotated[Session, Depends(signed_in(Role.ADMIN))]
Kid = Annotated[str, Path(pattern=KID)]
LOCAL_TIME = "%Y-%m-%dT%H:%M"  # what a datetime-local input sends, read as China time


def _actions(session: Session, key: dict[str, Any]) -> str:
    # Only administrators see forms; only live keys have any.
    if session.principal.role is not Role.ADMIN or key["state"] in ("revoked", "rotated"):
        return ""
    kid = escape(key["kid"])
    rotate = ""
    if key["role"] in REPLACEABLE and key["state"] == "active" and key["successor"] is None:
        rotate = (
            f'<form method="post" action="{PAGE}/{kid}/rotate">'
            f'<input type="hidden" name="csrf" value="{escape(session.csrf("rotate"))}">'
            '<input type="datetime-local" name="starts_at" '
            'title="新密钥自何时起启用（北京时间，留空为立即；提前发布便于离线核验方更新信任列表）">'
            "<button>更换</button></form>"
        )
    if key["role"] == "root":
        return rotate
    return rotate + (
        f'<form method="post" action="{PAGE}/{kid}/revoke">'
        f'<input type="hidden" name="csrf" value="{escape(session.csrf("revoke"))}">'
        '<input type="text" name="reason" maxlength="2000" required placeholder="吊销原因">'
        '<input type="datetime-local" name="revoked_at" title="自何时起（北京时间，留空为现在）">'
        "<button>吊销</button></form>"
    )


def _page(session: Session, ledger: CaseLedger, now: datetime, notice: str = "") -> HTMLResponse:
    keys = ledger.key_admin.keys(now)
    rows = (
        (
            f'<span class="code">{escape(k["kid"])}</span>',
            label(KEY_ROLE, k["role"]),
            escape(k["owner"]),
            label(KEY_STATE, k["state"]),
            when(_time(k["valid_from"])),
            when(_time(k["rotated_at"])),
            _revoked(k),
            _actions(session, k),
        )
        for k in keys
    )
    shown = f'<p class="tag">{escape(notice)}</p>' if notice else ""
    body = shown + table(("密钥标识", "用途", "所属", "状态", "生效", "停用", "吊销", "操作"), rows)
    note = (
        "<p>更换后新密钥立即启用，或自所填时间起启用（至多提前 90 天发布，离线核验方先取得"
        "含新密钥的信任列表）；旧密钥在新密钥启用 30 秒过渡期后停用。吊销自所填时间起生效，"
        "此后该密钥所签一律不予认可。各进程在 1 秒内获知变更。</p>"
    )
    return page("密钥管理", body + note, nav=session.nav())


def _revoked(key: dict[str, Any]) -> str:
    if key["revoked_at"] is None:
        return "—"
    return f"{when(_time(key['revoked_at']))}（{escape(str(key['revocation_reason']))}）"


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _local_time(text: str, what: str) -> datetime | None:
    # A datetime-local field, read as China time; empty for "now".
    if not text.strip():
        return None
    try:
        return datetime.strptime(text.strip(), LOCAL_TIME).replace(tzinfo=CHINA)
    except ValueError:
        raise _invalid(f"{what}格式应为 年-月-日T时:分（北京时间）") from None


def _invalid(detail: str) -> ApiProblem:
    return ApiProblem(422, "validation-failed", "Invalid form", detail)


def _admin(session: Session, now: datetime) -> Command:
    return Command(at=now, actor=session.principal.actor(), channel=Channel.SYSTEM)


@router.get("/keys")
def keys_page(session: Reader, ledger: LedgerDep, now: Now) -> HTMLResponse:
    """Every registered key with its state; forms for administrators. Administrators, auditors."""
    return _page(session, ledger, now)


@router.post("/keys/{kid}/rotate")
def rotate_key(
    kid: Kid,
    session: Administrator,
    ledger: LedgerDep,
    now: Now,
    starts_at: Annotated[str, Form(max_length=32)] = "",
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> HTMLResponse:
    """Replace a key this service holds, from now or from a time (China time). Administrators."""
    session.check_csrf("rotate", csrf)
    starts = _local_time(starts_at, "启用时间")
    done = ledger.key_admin.rotate(_admin(session, now), bytes.fromhex(kid), starts_at=starts)
    if starts is None:
        notice = f"已更换：新密钥 {done.key['kid']} 已启用"
    else:
        begins = datetime.fromisoformat(done.key["valid_from"]).astimezone(CHINA)
        notice = f"已更换：新密钥 {done.key['kid']} 已发布，自 {begins:%Y-%m-%d %H:%M:%S} 起启用"
    return _page(session, ledger, now, notice)


@router.post("/keys/{kid}/revoke")
def revoke_key(
    kid: Kid,
    session: Administrator,
    ledger: LedgerDep,
    now: Now,
    reason: Annotated[str, Form(max_length=2000)] = "",
    revoked_at: Annotated[str, Form(max_length=32)] = "",
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> HTMLResponse:
    """Revoke a key from a time (China time), or from now. Administrators."""
    session.check_csrf("revoke", csrf)
    since = _local_time(revoked_at, "吊销时间")
    if not reason.strip():
        raise _invalid("请填写吊销原因")
    done = ledger.key_admin.revoke(
        _admin(session, now), bytes.fromhex(kid), reason=reason.strip(), revoked_at=since
    )
    return _page(session, ledger, now, f"已吊销：密钥 {done['kid']}")
