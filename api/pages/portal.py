"""The applicant's portal: my cases with their status and deadline (我的办件), my e-licenses with
their QR codes and printouts (我的证照), and who used my data, when and why (用证记录). The
signed-in applicant, for their own data only; the reads are those of ``/v1/cases`` and
``/v1/licenses``.
"""

from __future__ import annotations

from html import escape
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Response
from fastapi.responses import HTMLResponse

from api.deps import LedgerDep, Now, ReadsDep
from api.pages.errors import PageRoute
from api.pages.labels import CASE_STATUS, LICENSE_STATE, USE_KIND, USE_RESULT
from api.pages.layout import day, label, page, table, when
from api.pages.session import Session, signed_in
from api.routes.case_reads import list_cases
from api.routes.documents import get_printout
from api.routes.licenses import get_qr, license_public, my_license_uses
from ledger.actors import Role

router = APIRouter(
    prefix="/pages/my", tags=["pages"], default_response_class=HTMLResponse, route_class=PageRoute
)
Applicant = Annotated[Session, Depends(signed_in(Role.APPLICANT))]
LicenseId = Annotated[str, Path(min_length=1, max_length=128)]
SHOWN = 200  # the newest this many of each list; the JSON API pages through the rest


def _qr_and_printout(license_id: str) -> str:
    base = f"/pages/my/licenses/{quote(license_id, safe='')}"
    return (
        f'<a href="{base}/qr.png"><img src="{base}/qr.png" alt="用证二维码" width="120"></a><br>'
        f'<a href="{base}/printout.pdf">打印件（PDF）</a>'
    )


@router.get("")
def my_cases(session: Applicant, reads: ReadsDep, now: Now) -> HTMLResponse:
    """My cases, newest first, with status and deadline. The applicant."""
    found = list_cases(session.principal, reads, now, offset=0, limit=SHOWN)
    rows = (
        (
            f'<a href="/pages/cases/{c.case_id}">{escape(c.item_name)}</a>',
            label(CASE_STATUS, c.status),
            day(c.due),
        )
        for c in found
    )
    body = table(("事项", "办理状态", "办结时限"), rows, empty="您还没有办件。")
    return page("我的办件", body, nav=session.nav())


@router.get("/licenses")
def my_licenses(session: Applicant, ledger: LedgerDep, now: Now) -> HTMLResponse:
    """My e-licenses with their state, validity and QR code. The applicant."""
    actor = session.principal.actor()
    found = [license_public(x, now) for x in ledger.vault.licenses_of(session.principal.sub, actor)]
    rows = (
        (
            escape(x.license_type),
            escape(x.license_id),
            escape(x.issuer),
            label(LICENSE_STATE, x.state),
            f"{day(x.valid_from.date())} 至 {day(x.valid_to.date() if x.valid_to else None)}",
            _qr_and_printout(x.license_id),
        )
        for x in found
    )
    head = ("证照类型", "证照编号", "签发部门", "状态", "有效期", "用证二维码与打印件")
    body = table(head, rows, empty="您还没有电子证照。")
    return page("我的证照", body, nav=session.nav())


@router.get(
    "/licenses/{license_id}/qr.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}, "description": "the license QR code"}},
)
def my_license_qr(session: Applicant, ledger: LedgerDep, license_id: LicenseId) -> Response:
    """My license's QR code as PNG, as ``/v1/licenses/{id}/qr.png`` serves it. Its holder."""
    response = get_qr(session.principal, ledger, license_id)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get(
    "/licenses/{license_id}/printout.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "the license printout"}},
)
def my_license_printout(
    session: Applicant, ledger: LedgerDep, now: Now, license_id: LicenseId
) -> Response:
    """My license's printout with its QR code, as ``/v1/licenses/{id}/printout.pdf``. Its holder."""
    return get_printout(session.principal, ledger, now, license_id)


@router.get("/uses")
def my_uses(session: Applicant, reads: ReadsDep) -> HTMLResponse:
    """Who used my licenses, when and why, newest first (用证记录). The applicant."""
    found = my_license_uses(session.principal, reads, before=None, limit=SHOWN)
    rows = (
        (
            when(u.at),
            escape(u.department),
            escape(u.purpose),
            label(USE_KIND, u.kind),
            label(USE_RESULT, u.result),
            escape("、".join(u.fields) or "—"),
            escape(u.license_id),
        )
        for u in found
    )
    head = ("时间", "使用部门", "用途", "方式", "结果", "读取的字段", "证照编号")
    body = table(head, rows, empty="您的证照尚未被任何部门使用。")
    return page("用证记录", body, nav=session.nav())
