"""``caseledger demo``: a realistic food-business-license case, told step by step.

Online submission with an e-license in place of a paper copy, the one-time correction notice (a
second one refused and recorded), tolerance acceptance on a commitment, one window visit for an
original check, a site inspection that stops the clock, review, grant, issuance after the
supplement, and delivery by courier.
"""

from __future__ import annotations

import hashlib
import io
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import UUID

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from api.documents.layout import FONT
from ledger.actors import Actor, Channel, Role
from ledger.application import CaseLedger
from ledger.case import SupplementVia
from ledger.catalog import SpecialStep
from ledger.commands import Command
from ledger.documents import DocumentRef, ELicenseRef
from ledger.errors import CommitmentOpen, SecondNoticeRefused
from ledger.vault_service import IssuedLicense
from licenses.holder_ids import make_uscc
from licenses.identifiers import LicenseId
from projections.document_store import DocumentStore

FOOD_LICENSE = "11512000MB1578349K000112004000"
MARKET_REGULATION_USCC = "11512000MB1578349K"
PDF = "application/pdf"


def material_pdf(title: str, applicant: str) -> bytes:
    """A one-page PDF standing in for the scan of an applicant's material."""
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4, invariant=True)
    page.setFont(FONT, 18)
    page.drawString(72, 760, title)
    page.setFont(FONT, 11)
    page.drawString(72, 730, f"申请人 {applicant}（演示材料）")
    page.showPage()
    page.save()
    return out.getvalue()


def _materials(
    documents: DocumentStore | None, applicant: str, at: datetime
) -> Callable[[str], DocumentRef]:
    """Make the reference of a titled material, its bytes uploaded as the applicant if a store
    is given (the officer then opens the very document the case refers to)."""

    def doc(title: str) -> DocumentRef:
        content = material_pdf(title, applicant)
        if documents is None:
            return DocumentRef(hashlib.sha256(content).hexdigest(), len(content), PDF)
        return documents.put(content, PDF, uploader=applicant, at=at).ref

    return doc


def play_demo(
    ledger: CaseLedger,
    *,
    start: datetime,
    out: Callable[[str], None],
    documents: DocumentStore | None = None,
) -> tuple[UUID, IssuedLicense]:
    """Play the demo case from ``start`` and narrate it, its documents uploaded to
    ``documents``; returns the case id and license."""
    clock = [start]

    def at(seconds: int = 1) -> datetime:
        # The story runs on a compressed clock just after ``start``, so the license it issues is
        # already valid when the printed verify command runs.
        clock[0] += timedelta(seconds=seconds)
        return clock[0]

    company = make_uscc("9", "1", "512000", "MA6" + secrets.token_hex(3).upper()[:5])
    applicant = Actor(company, Role.APPLICANT)
    desk = Actor("officer-chen", Role.OFFICER, department="zwfwzx")
    reviewer = Actor("officer-wu", Role.OFFICER, department="scjgj")
    courier = Actor("ems", Role.COURIER)
    business_licence = LicenseId(
        MARKET_REGULATION_USCC + "001", MARKET_REGULATION_USCC, secrets.token_hex(5).upper(), 1
    )

    _doc = _materials(documents, company, start)
    out(f"食品经营许可 — applicant {company}")
    case_id = ledger.submit(
        Command(at=at(), actor=applicant, channel=Channel.ONLINE),
        submission_id=f"demo-{secrets.token_hex(8)}",
        item_code=FOOD_LICENSE,
        applicant_id=company,
        materials={
            "sqs": _doc("申请书"),
            "yyzz": ELicenseRef(str(business_licence)),
            "fddbr": _doc("法定代表人身份证明"),
            "wtsh": _doc("委托书"),
        },
    )
    out("  submitted online; 营业执照 given as an e-license number, not a paper copy")
    window = Command(at=at(), actor=desk, channel=Channel.WINDOW)
    ledger.notify_correction(
        case_id,
        window,
        items={"sbbj": "缺少经营设备布局图"},
        text="请一次性补正：经营设备布局和工艺流程图",
    )
    out("  one-time correction notice issued in writing")
    try:
        ledger.notify_correction(
            case_id,
            Command(at=at(), actor=desk, channel=Channel.WINDOW),
            items={"glzd": "缺少管理制度"},
            text="再次补正",
        )
    except SecondNoticeRefused as refused:
        out(f"  second notice refused and recorded for supervisors: {refused}")
    ledger.correct(
        case_id,
        Command(at=at(5), actor=applicant, channel=Channel.ONLINE),
        materials={"sbbj": _doc("设备布局图")},
    )
    out("  correction supplied online")
    due = ledger.accept_with_tolerance(
        case_id,
        Command(at=at(), actor=desk, channel=Channel.WINDOW),
        commitment="申请人承诺5日内补交食品安全管理制度和从业人员健康证明",
        commitment_due=(clock[0] + timedelta(days=5)).date(),
    )
    out(f"  accepted with tolerance on a commitment; promised deadline {due}")
    ledger.record_visit(
        case_id,
        Command(at=at(), actor=desk, channel=Channel.WINDOW),
        reason="核验法定代表人身份证原件",
    )
    out("  one window visit recorded: original ID check (the item's target is 1)")
    ledger.suspend(
        case_id,
        Command(at=at(), actor=reviewer),
        step=SpecialStep.SITE_INSPECTION,
        reason="经营场所现场核查",
    )
    due = ledger.resume(case_id, Command(at=at(5), actor=reviewer))
    out(f"  site inspection paused the clock; deadline now {due}")
    ledger.give_opinion(case_id, Command(at=at(), actor=reviewer), approve=True)
    ledger.decide(
        case_id,
        Command(at=at(), actor=reviewer),
        grant=True,
        legal_basis="《食品经营许可管理办法》第十五条",
    )
    out("  reviewed and granted")
    try:
        ledger.issue_license(case_id, Command(at=at(), actor=reviewer))
    except CommitmentOpen as blocked:
        out(f"  issuance blocked: {blocked}")
    ledger.supplement(
        case_id,
        Command(at=at(), actor=applicant, channel=Channel.ONLINE),
        materials={"glzd": _doc("管理制度"), "jkzm": _doc("健康证明")},
        via=SupplementVia.EMAIL,
    )
    out("  committed materials supplemented by e-mail")
    issued = ledger.issue_license(case_id, Command(at=at(), actor=reviewer))
    out(f"  license issued: {issued.license_id}")
    ledger.dispatch(
        case_id,
        Command(at=at(), actor=desk, channel=Channel.WINDOW),
        courier="ems",
        tracking_number="EA" + secrets.token_hex(4).upper() + "CN",
    )
    ledger.deliver(
        case_id,
        Command(at=at(5), actor=courier, channel=Channel.COURIER),
        signed_by="申请人",
        report={"status": "signed"},
    )
    out("  delivered by EMS (no visit)")
    ledger.close_case(case_id, Command(at=at(), actor=desk))
    ledger.rate(case_id, Command(at=at(), actor=applicant, channel=Channel.ONLINE), stars=5)
    case = ledger.case(case_id)
    out(f"  closed and rated; visits {len(case.visits)} (target {case.visit_target})")
    return case_id, issued
