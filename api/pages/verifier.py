"""The verifier's page (用证核验): scan (a scanner gun types into the focused box, then Enter),
paste a QR text, take or pick a picture of the QR code, or enter a license number; state a
purpose; see the verifier's result. Each check goes through the sharing service as
``POST /v1/verify`` does, so it is recorded as a use of the holder's license. A department's
verifiers and officers.
"""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from api.deps import LedgerDep, Now
from api.license_schemas import VerificationPublic, VerifyCreate
from api.pages.errors import PageRoute
from api.pages.labels import STEP, VERIFICATION_STATUS
from api.pages.layout import facts, page, table
from api.pages.session import Session, signed_in
from api.routes.verify import verification_public
from ledger.actors import Channel, Role
from ledger.commands import Command
from licenses.errors import QRImageUnreadable
from licenses.qr_scan import MAX_IMAGE_BYTES, read_qr_image

FORM = "verify"
router = APIRouter(
    prefix="/pages", tags=["pages"], default_response_class=HTMLResponse, route_class=PageRoute
)
Verifier = Annotated[Session, Depends(signed_in(Role.VERIFIER, Role.OFFICER))]
FormText = Annotated[str, Form(max_length=8000)]
ASKED_ONE = "请填写核验用途，并在“二维码内容”“二维码图片”“证照编号”中三选一。"


def _form(session: Session, purpose: str = "", error: str | None = None) -> str:
    shown = f'<p class="error">{escape(error)}</p>' if error else ""
    # The purpose comes first and stays filled in, and the QR box is a one-line input that has
    # the focus: a scanner gun types the code and presses Enter, which submits the form.
    return (
        f'{shown}<form method="post" action="/pages/verify" enctype="multipart/form-data">'
        f'<input type="hidden" name="csrf" value="{escape(session.csrf(FORM))}">'
        '<label for="purpose">核验用途（必填，将告知持证人）</label>'
        f'<input type="text" id="purpose" name="purpose" maxlength="200" required '
        f'value="{escape(purpose)}">'
        '<label for="qr_text">二维码内容（用扫码枪扫码，或粘贴 EL1: 开头的文本）</label>'
        '<input type="text" id="qr_text" name="qr_text" maxlength="8000" autofocus '
        'autocomplete="off" spellcheck="false">'
        '<label for="qr_image">或 二维码图片（拍照或截图，PNG、JPEG、WebP 等）</label>'
        '<input type="file" id="qr_image" name="qr_image" accept="image/*">'
        '<label for="license_id">或 证照编号</label>'
        '<input type="text" id="license_id" name="license_id" maxlength="128">'
        "<p><button>核验</button></p></form>"
    )


def _result(found: VerificationPublic, region_title: str | None = None) -> str:
    verdict = VERIFICATION_STATUS.get(found.status, found.status)
    failed = "—" if found.step is None else f"第 {found.step} 步：{STEP.get(found.step, '')}"
    tone = "ok" if found.valid else "bad"
    summary = facts(
        [
            ("核验结论", f'<strong class="{tone}">{escape(verdict)}</strong>'),
            ("未通过的步骤", escape(failed)),
            ("说明", escape(found.reason)),
            ("证照编号", escape(found.license_id or "—")),
            ("证照类型", escape(found.license_type or "—")),
            ("签发部门", escape(found.issuer or "—")),
            ("签发地区", escape(region_title or found.issuer_region or "本地区")),
            ("持证主体", escape(found.holder_masked or "—")),
            ("在线状态", "已核对" if found.status_checked else "未核对"),
        ]
    )
    shown = table(
        ("字段", "内容"),
        ((escape(name), escape(str(value))) for name, value in sorted(found.fields.items())),
        empty="未披露任何字段",
    )
    hidden = "、".join(escape(name) for name in found.undisclosed) or "无"
    return (
        f"{summary}<h2>披露的字段</h2>{shown}<p>未披露的字段：{hidden}</p>"
        "<p>本次核验已作为一次用证记录留痕，持证人可在“用证记录”中查看。</p>"
    )


@router.get("/verify")
def verify_page(session: Verifier) -> HTMLResponse:
    """The verification form. A department's verifiers and officers."""
    return page("用证核验", _form(session), nav=session.nav())


@router.post("/verify")
def verify_submit(
    session: Verifier,
    ledger: LedgerDep,
    now: Now,
    qr_text: FormText = "",
    license_id: FormText = "",
    purpose: FormText = "",
    csrf: Annotated[str, Form(max_length=128)] = "",
    qr_image: Annotated[UploadFile | None, File()] = None,
) -> HTMLResponse:
    """Verify a license for a purpose and show the result; recorded as a use. As for the form."""
    session.check_csrf(FORM, csrf)
    text = qr_text.strip()
    # A browser posts an empty, nameless file where none was chosen.
    picture = qr_image.file.read(MAX_IMAGE_BYTES + 1) if qr_image and qr_image.filename else b""
    if picture and (text or license_id.strip()):
        return _refused(session, purpose, ASKED_ONE)
    if picture:
        try:
            text = read_qr_image(picture)
        except QRImageUnreadable as error:
            return _refused(session, purpose, f"未能从图片中读出二维码：{error}")
    try:
        asked = VerifyCreate(
            purpose=purpose.strip(), qr_text=text or None, license_id=license_id.strip() or None
        )
    except ValidationError:
        return _refused(session, purpose, ASKED_ONE)
    cmd = Command(at=now, actor=session.principal.actor(), channel=Channel.SYSTEM)
    result = ledger.sharing.verify(
        cmd, purpose=asked.purpose, qr_text=asked.qr_text, license_id=asked.license_id
    )
    title = None if result.region is None else ledger.regions.region(result.region).title
    shown = _result(verification_public(result), title)
    body = shown + "<h2>继续核验</h2>" + _form(session, purpose)
    return page("核验结果", body, nav=session.nav())


def _refused(session: Session, purpose: str, error: str) -> HTMLResponse:
    # Nothing was verified, so nothing is recorded: the form again, with what to fix.
    return page("用证核验", _form(session, purpose, error), nav=session.nav(), status=422)
