"""The auditor's case trace (审计追溯): every event of a case with who acted, which key signed it
and whether it verifies, and a proof tick for each event the latest signed checkpoint covers —
the case's offline bundle, as ``/v1/audit`` exports it, checked here as an auditor would. Auditors.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import HTMLResponse

from api.deps import Now, ReadsDep, ReadSide, Runtime, RuntimeDep
from api.pages.errors import PageRoute
from api.pages.labels import CHANNEL, EVENT, ROLE
from api.pages.layout import facts, label, page, table, when
from api.pages.session import Session, signed_in
from api.routes.audit import case_bundle, case_trace
from ledger.actors import Role
from licenses.errors import mask_id
from projections.bundle import BundleReport, verify_bundle
from projections.errors import BundleInvalid, ProofUnavailable

router = APIRouter(
    prefix="/pages/audit",
    tags=["pages"],
    default_response_class=HTMLResponse,
    route_class=PageRoute,
)
Auditor = Annotated[Session, Depends(signed_in(Role.AUDITOR))]
CaseQuery = Annotated[UUID | None, Query(description="the case to trace")]


def _form(case_id: UUID | None) -> str:
    shown = "" if case_id is None else escape(str(case_id))
    return (
        '<form method="get" action="/pages/audit"><label for="case_id">办件编号（UUID）</label>'
        f'<input type="text" id="case_id" name="case_id" maxlength="36" value="{shown}">'
        "<p><button>追溯</button></p></form>"
    )


def _actor(actor: dict[str, Any]) -> str:
    # A person and a department for staff; an applicant's principal is a holder id: masked.
    role = str(actor.get("role", ""))
    principal = str(actor.get("principal", ""))
    shown = mask_id(principal) if role == Role.APPLICANT.value else principal
    department = actor.get("department")
    behalf = actor.get("on_behalf_of")
    text = f"{ROLE.get(role, role)} {shown}" + (f"（{department}）" if department else "")
    return escape(text + (f"，代 {mask_id(str(behalf))} 办理" if behalf else ""))


def _proof(
    case_id: UUID, runtime: Runtime, reads: ReadSide, now: datetime
) -> tuple[BundleReport | None, str]:
    """The case's bundle checked offline: the report, or None with what stands in the way."""
    try:
        bundle = case_bundle(case_id, runtime, reads, now).body
        root = runtime.handle.keys.signer("root").public_key_der()
        return verify_bundle(bytes(bundle), root, reads.log.verifier_key()), ""
    except ProofUnavailable as exc:
        return None, f"尚无可用的检查点证明：{exc}"
    except BundleInvalid as exc:
        return None, f"证据包未通过验证：{exc}"


def _trace(case_id: UUID, runtime: Runtime, reads: ReadSide, now: datetime) -> str:
    entries = case_trace(case_id, runtime.ledger, reads)
    report, problem = _proof(case_id, runtime, reads, now)
    proven = 0 if report is None else report.events
    rows = (
        (
            str(e.seq),
            when(e.at),
            label(EVENT, e.type),
            _actor(e.actor),
            label(CHANNEL, e.channel),
            f"{escape(e.signer)}<br><code>{escape(e.kid[:16])}</code>",
            '<span class="ok">✓ 已验证</span>'
            if e.verified
            else f'<span class="bad">✗ {escape(e.problem or "")}</span>',
            "—" if e.leaf_index is None else str(e.leaf_index),
            '<span class="ok">✓ 已证明</span>' if e.seq <= proven else "—",
        )
        for e in entries
    )
    head = ("序号", "时间", "事件", "办理人", "渠道", "签名密钥", "验签", "日志位置", "纳入证明")
    if report is None:
        summary = f'<p class="error">{escape(problem)}</p>'
    else:
        cp = report.checkpoint
        summary = facts(
            [
                ("检查点", escape(f"{cp.origin}，树大小 {cp.size}")),
                ("根哈希", f"<code>{cp.root_hash.hex()}</code>"),
                ("证明", f'<span class="ok">✓ 前 {report.events} 个事件已纳入并验证</span>'),
                (
                    "申请材料",
                    f'<span class="ok">✓ {report.documents} 份材料与签名事件所载哈希一致</span>',
                ),
            ]
        )
    bundle = f'<p><a href="/pages/audit/cases/{case_id}/bundle">下载离线证据包（CBOR）</a></p>'
    return f"<h2>办件 {case_id}</h2>{summary}{bundle}" + table(head, rows)


@router.get("")
def audit_page(
    session: Auditor, runtime: RuntimeDep, reads: ReadsDep, now: Now, case_id: CaseQuery = None
) -> HTMLResponse:
    """Trace a case: each event's signer, key, verification and inclusion proof. Auditors."""
    body = _form(case_id)
    if case_id is not None:
        body += _trace(case_id, runtime, reads, now)
    return page("审计追溯", body, nav=session.nav())


@router.get(
    "/cases/{case_id}/bundle",
    response_class=Response,
    responses={200: {"content": {"application/cbor": {}}, "description": "case bundle"}},
    dependencies=[Depends(signed_in(Role.AUDITOR))],
)
def audit_bundle(case_id: UUID, runtime: RuntimeDep, reads: ReadsDep, now: Now) -> Response:
    """The case's offline bundle, as ``/v1/audit/cases/{id}/bundle`` serves it. Auditors."""
    return case_bundle(case_id, runtime, reads, now)
