"""A case's page (办件详情): where it stands, its deadlines and visits, its materials (each
document opens), its progress step by step with each step's verification, and its documents as
PDF. Its applicant, officers of its departments, auditors — as ``GET /v1/cases/{id}`` decides
(anyone else gets the same 404 as for a case that does not exist). Its applicant also finds there
the forms to answer a correction notice (在线补正) or supply committed materials (在线补齐),
which ``apply`` takes.
"""

from __future__ import annotations

from html import escape
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Response
from fastapi.responses import HTMLResponse

from api.deps import DocumentsDep, LedgerDep, Now, visible_case
from api.pages.errors import PageRoute
from api.pages.labels import CASE_STATUS, CHANNEL, EVENT, ROLE
from api.pages.layout import day, facts, label, page, table, when
from api.pages.material_forms import material_table, noticed
from api.pages.session import Session, signed_in
from api.routes.case_reads import get_timeline
from api.routes.cases import case_public
from api.routes.documents import (
    get_correction_notice,
    get_decision,
    get_receipt,
    get_refusal_notice,
)
from api.routes.materials import Sha256, get_case_document
from ledger.actors import Role
from ledger.application import CaseLedger
from ledger.case import Case
from ledger.case_values import CaseStatus
from ledger.documents import DocumentRef

router = APIRouter(
    prefix="/pages/cases",
    tags=["pages"],
    default_response_class=HTMLResponse,
    route_class=PageRoute,
)
Reader = Annotated[Session, Depends(signed_in(Role.APPLICANT, Role.OFFICER, Role.AUDITOR))]
Document = Literal["receipt", "correction-notice", "refusal-notice", "decision"]
_DOCUMENTS = {
    "receipt": get_receipt,
    "correction-notice": get_correction_notice,
    "refusal-notice": get_refusal_notice,
    "decision": get_decision,
}
ANSWER_FORM = "case-answer"  # the CSRF name of the applicant's correction and supplement forms
# The statuses in which the ledger takes a correction (ledger/case_acceptance.py).
CORRECTING = frozenset({CaseStatus.AWAITING_CORRECTION, CaseStatus.PAUSED_FOR_CORRECTION})


def _documents(case: Case) -> str:
    # Links only to the documents the case has; the others would be a 404 page.
    shown = [
        ("receipt", "受理回执", case.receipt_number is not None),
        ("correction-notice", "一次性告知书", case.notice_count > 0),
        ("refusal-notice", "不予受理通知书", case.status is CaseStatus.REFUSED),
        ("decision", "决定书", case.decision is not None),
    ]
    links = "".join(
        f'<li><a href="/pages/cases/{case.id}/documents/{name}.pdf">{text}（PDF）</a></li>'
        for name, text, issued in shown
        if issued
    )
    return f"<h2>文书</h2><ul>{links}</ul>" if links else ""


def _materials(case: Case) -> str:
    """The materials the case holds: each document opens, each e-license is named by number."""
    rows = []
    for code, ref in sorted(case.materials.items()):
        name = escape(case.terms.material(code).name)
        if isinstance(ref, DocumentRef):
            link = f"/pages/cases/{case.id}/materials/{ref.sha256}"
            held = f'<a href="{link}">查看</a>（{escape(ref.media_type)}，{ref.size} 字节）'
            proof = f'<span class="code">SHA-256 {ref.sha256}</span>'
        else:
            held, proof = "电子证照（免交纸质材料）", escape(ref.license_id)
        rows.append((name, held, proof))
    return "<h2>申请材料</h2>" + table(("材料", "已收", "标识"), rows, empty="尚未提交材料")


def actor_name(actor: dict[str, Any]) -> str:
    """Who acted, escaped; an applicant by role only, so holder ids stay off the page."""
    role = str(actor.get("role", ""))
    if role == Role.APPLICANT.value:
        return ROLE[role]
    department = actor.get("department")
    name = f"{actor.get('principal', '')}" + (f"（{department}）" if department else "")
    return escape(name or ROLE.get(role, role))


def _answer_form(case: Case, csrf: str, action: str, title: str, rows: str) -> str:
    return (
        f"<h2>{title}</h2>"
        f'<form method="post" action="/pages/cases/{case.id}/{action}" '
        f'enctype="multipart/form-data"><input type="hidden" name="csrf" value="{escape(csrf)}">'
        f'<input type="hidden" name="version" value="{case.version}">'
        f"{rows}<p><button>{title}</button></p></form>"
    )


def _answers(session: Session, ledger: CaseLedger, case: Case) -> str:
    """The applicant's forms the case awaits: the noticed materials, the committed ones."""
    if session.principal.role is not Role.APPLICANT:
        return ""
    csrf = session.csrf(ANSWER_FORM)
    forms = []
    if case.status in CORRECTING:
        rows = material_table(case.terms, noticed(ledger, case.id), licensable=True)
        hint = "<p>按一次性告知书逐项上传补正材料，无需到窗口。</p>"
        forms.append(_answer_form(case, csrf, "correct", "在线补正", hint + rows))
    if case.open_commitments:
        rows = material_table(case.terms, case.open_commitments, licensable=True)
        hint = "<p>上传容缺受理时承诺补齐的材料（网上补齐）。</p>"
        forms.append(_answer_form(case, csrf, "supplement", "在线补齐", hint + rows))
    return "".join(forms)


def case_view(
    session: Session,
    ledger: CaseLedger,
    case_id: UUID,
    *,
    error: str = "",
    status: int = 200,
    slug: str = "validation-failed",
) -> HTMLResponse:
    """The case's page; ``error`` (with ``status`` and the API's problem ``slug``) says why the
    applicant's form was refused."""
    found = visible_case(ledger, case_id, session.principal)
    case = case_public(found)
    steps = get_timeline(case_id, session.principal, ledger)
    summary = facts(
        [
            ("事项", escape(case.item_name)),
            ("受理编号", escape(case.receipt_number or "—")),
            ("办理状态", label(CASE_STATUS, case.status)),
            ("办结时限", day(case.due)),
            ("承诺补齐时限", day(case.commitment_due)),
            ("待补材料", escape("、".join(case.open_commitments) or "无")),
            ("到场次数", f"{case.visits} 次（目标不超过 {case.visit_target} 次）"),
            ("电子证照", escape(case.license_id or "—")),
            ("服务评价", "—" if case.rating is None else f"{case.rating} 星"),
        ]
    )
    rows = (
        (
            when(s.at),
            label(EVENT, s.type),
            actor_name(s.actor),
            label(CHANNEL, s.channel),
            '<span class="ok">✓ 签名有效</span>'
            if s.verified
            else f'<span class="bad">✗ {escape(s.problem or "")}</span>',
        )
        for s in steps
    )
    progress = table(("时间", "环节", "办理人", "渠道", "验签"), rows)
    shown = (
        f'<p class="error">{escape(error)}</p><p class="code">HTTP {status} · {escape(slug)}</p>'
        if error
        else ""
    )
    body = (
        f"{shown}{summary}{_answers(session, ledger, found)}{_materials(found)}"
        f"{_documents(found)}<h2>办理进度</h2>{progress}"
    )
    return page(f"办件详情：{case.item_name}", body, nav=session.nav(), status=status)


@router.get("/{case_id}")
def case_page(session: Reader, ledger: LedgerDep, case_id: UUID) -> HTMLResponse:
    """A case with its deadlines and progress. Its applicant, its officers, auditors."""
    return case_view(session, ledger, case_id)


@router.get(
    "/{case_id}/documents/{name}.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "the document"}},
)
def case_document(
    session: Reader, ledger: LedgerDep, now: Now, case_id: UUID, name: Document
) -> Response:
    """A case's receipt, correction notice, refusal notice or decision as
    ``/v1/cases/{id}/documents`` serves it."""
    return _DOCUMENTS[name](case_id, session.principal, ledger, now)


@router.get(
    "/{case_id}/materials/{sha256}",
    response_class=Response,
    responses={200: {"content": {"*/*": {}}, "description": "the material's bytes"}},
)
def case_material(
    session: Reader,
    ledger: LedgerDep,
    documents: DocumentsDep,
    case_id: UUID,
    sha256: str = Sha256,
) -> Response:
    """A document the case refers to, as ``/v1/cases/{id}/materials/{sha256}`` serves it."""
    return get_case_document(case_id, session.principal, ledger, documents, sha256)
