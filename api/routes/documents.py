"""Documents as PDF: a case's receipt, one-time correction notice, refusal notice and decision,
and a license's printout. Who may read them is who may read the case or the license; each cites
its events.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response

from api.deps import Caller, LedgerDep, Now, allow, visible_case
from api.documents.case_documents import (
    correction_notice_pdf,
    decision_pdf,
    receipt_pdf,
    refusal_notice_pdf,
)
from api.documents.license_printout import printout_pdf
from api.errors import problem_responses
from api.routes.licenses import LicenseId, visible_license
from ledger.actors import Role

READERS = (Role.APPLICANT, Role.OFFICER, Role.AUDITOR)
router = APIRouter(
    tags=["documents"],
    dependencies=[allow(*READERS)],
    responses=problem_responses(401, 403, 404, 422),
)


def _pdf(description: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {"application/pdf": {}}, "description": description}}


def _inline(pdf: bytes, name: str) -> Response:
    # Documents may hold personal data: shown inline, never kept by shared caches.
    headers = {
        "Content-Disposition": f'inline; filename="{name}"',
        "Cache-Control": "private, no-store",
    }
    return Response(pdf, media_type="application/pdf", headers=headers)


@router.get(
    "/v1/cases/{case_id}/documents/receipt.pdf",
    response_class=Response,
    responses=_pdf("受理回执 (receipt) as PDF"),
)
def get_receipt(case_id: UUID, caller: Caller, ledger: LedgerDep, now: Now) -> Response:
    """The receipt (受理回执); 404 before receipt. As for the case."""
    case = visible_case(ledger, case_id, caller)
    return _inline(receipt_pdf(ledger, case, now), f"receipt-{case_id}.pdf")


@router.get(
    "/v1/cases/{case_id}/documents/correction-notice.pdf",
    response_class=Response,
    responses=_pdf("一次性告知书 (one-time correction notice) as PDF"),
)
def get_correction_notice(case_id: UUID, caller: Caller, ledger: LedgerDep, now: Now) -> Response:
    """The one-time correction notice (一次性告知书); 404 if none was given. As for the case."""
    case = visible_case(ledger, case_id, caller)
    return _inline(correction_notice_pdf(ledger, case, now), f"correction-notice-{case_id}.pdf")


@router.get(
    "/v1/cases/{case_id}/documents/refusal-notice.pdf",
    response_class=Response,
    responses=_pdf("不予受理通知书 (refusal notice) as PDF"),
)
def get_refusal_notice(case_id: UUID, caller: Caller, ledger: LedgerDep, now: Now) -> Response:
    """The refusal notice (不予受理通知书); 404 unless the case was refused. As for the case."""
    case = visible_case(ledger, case_id, caller)
    return _inline(refusal_notice_pdf(ledger, case, now), f"refusal-notice-{case_id}.pdf")


@router.get(
    "/v1/cases/{case_id}/documents/decision.pdf",
    response_class=Response,
    responses=_pdf("决定书 (decision) as PDF"),
)
def get_decision(case_id: UUID, caller: Caller, ledger: LedgerDep, now: Now) -> Response:
    """The decision (准予/不予决定书); 404 before the decision. As for the case."""
    case = visible_case(ledger, case_id, caller)
    return _inline(decision_pdf(ledger, case, now), f"decision-{case_id}.pdf")


@router.get(
    "/v1/licenses/{license_id}/printout.pdf",
    response_class=Response,
    responses=_pdf("电子证照打印件 (license printout with its QR code) as PDF"),
)
def get_printout(
    caller: Caller, ledger: LedgerDep, now: Now, license_id: str = LicenseId
) -> Response:
    """The license printout with its QR code, to verify by scanning. As for the license."""
    license_ = visible_license(ledger, license_id, caller)
    return _inline(printout_pdf(ledger, license_, now), "license-printout.pdf")
