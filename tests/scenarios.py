"""Realistic cases played through the application service, shared by unit, integration and
end-to-end tests (the same story against every kind of storage)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from uuid import UUID

from ledger.actors import Actor, Channel, Role
from ledger.application import CaseLedger
from ledger.case import SupplementVia
from ledger.catalog import SpecialStep
from ledger.commands import Command
from ledger.documents import DocumentRef, ELicenseRef
from ledger.vault_service import IssuedLicense
from licenses.holder_ids import make_uscc

PERMIT = "11512000MB1546347P000101003000"  # construction permit, joint review, 50 days
BUSINESS = "11512000MB1578349K000112001000"  # enterprise establishment, 3 days
COMPANY = make_uscc("9", "1", "512000", "MA62A0XC")
APPLICANT = Actor(COMPANY, Role.APPLICANT)  # unified identity: the verified holder id
COURIER = Actor("ems", Role.COURIER)


def officer(department: str, name: str | None = None, **kwargs: str) -> Actor:
    """An officer of ``department``."""
    return Actor(name or f"officer-{department}", Role.OFFICER, department=department, **kwargs)


DESK = officer("zwfwzx", "officer-chen")


DOCUMENT_BYTES: dict[str, bytes] = {}  # the bytes of every ``doc`` by its address, to upload


def document_bytes(label: str, size: int = 2048) -> bytes:
    """A PDF's bytes of ``size``, different for every ``label``."""
    head = b"%PDF-1.7\n% " + label.encode() + b"\n"
    return (head + b"%" * size)[:size]


def doc(label: str, size: int = 2048) -> DocumentRef:
    """A PDF document reference addressing ``document_bytes(label, size)`` (kept to upload)."""
    content = document_bytes(label, size)
    sha256 = hashlib.sha256(content).hexdigest()
    DOCUMENT_BYTES[sha256] = content
    return DocumentRef(sha256, len(content), "application/pdf")


@dataclass
class Clock:
    """A fake clock: every call to ``tick`` moves on by ``step``."""

    now: datetime
    step: timedelta = timedelta(minutes=10)

    def tick(self, step: timedelta | None = None) -> datetime:
        self.now += step or self.step
        return self.now


@dataclass
class PermitStory:
    """What happened in a played construction-permit case."""

    case_id: UUID
    due: date
    events: list[str] = field(default_factory=list)


def permit_materials() -> dict[str, DocumentRef | ELicenseRef]:
    """Main materials complete, three tolerable secondary ones missing."""
    return {
        "sqb": doc("application form"),
        "ghxkz": ELicenseRef("1.2.156.3005.2.11100000000013338W011.11512000MB1546347P.0001.001.7"),
        "sght": doc("construction contract"),
        "stsc": doc("drawing review"),
        "xfsj": doc("fire design"),
        "rfsj": doc("civil air defence design"),
    }


def play_permit_until_decision(ledger: CaseLedger, clock: Clock, submission: str) -> PermitStory:
    """Submit online, accept with tolerance, review jointly with a site inspection, grant."""
    online = Command(at=clock.tick(), actor=APPLICANT, channel=Channel.ONLINE)
    case_id = ledger.submit(
        online,
        submission_id=submission,
        item_code=PERMIT,
        applicant_id=COMPANY,
        materials=permit_materials(),
    )
    due = ledger.accept_with_tolerance(
        case_id,
        Command(at=clock.tick(), actor=DESK, channel=Channel.WINDOW),
        commitment="申请人承诺在10日内补齐安全生产许可证等材料",
        commitment_due=clock.now.date() + timedelta(days=10),
    )
    for department in ("zjj", "zrzyghj", "xfjy", "rfb"):
        ledger.give_opinion(
            case_id, Command(at=clock.tick(), actor=officer(department)), approve=True
        )
    lead = officer("zjj")
    ledger.suspend(
        case_id,
        Command(at=clock.tick(), actor=lead),
        step=SpecialStep.SITE_INSPECTION,
        reason="现场踏勘",
    )
    due = ledger.resume(case_id, Command(at=clock.tick(timedelta(days=2)), actor=lead))
    ledger.decide(
        case_id,
        Command(at=clock.tick(), actor=lead),
        grant=True,
        legal_basis="《建筑工程施工许可管理办法》第四条",
    )
    return PermitStory(case_id, due)


def supplement_all(ledger: CaseLedger, clock: Clock, case_id: UUID) -> int:
    """Supply the three committed materials by e-mail."""
    return ledger.supplement(
        case_id,
        Command(at=clock.tick(), actor=APPLICANT, channel=Channel.ONLINE),
        materials={
            "zjls": doc("supervision contract"),
            "aqxk": doc("safety licence"),
            "zljd": doc("quality supervision"),
        },
        via=SupplementVia.EMAIL,
    )


def finish_by_courier(ledger: CaseLedger, clock: Clock, case_id: UUID) -> IssuedLicense:
    """Issue, dispatch by EMS, deliver, close and rate; returns the issued license."""
    lead = officer("zjj")
    issued = ledger.issue_license(case_id, Command(at=clock.tick(), actor=lead))
    ledger.dispatch(
        case_id,
        Command(at=clock.tick(), actor=DESK, channel=Channel.WINDOW),
        courier="ems",
        tracking_number="EA123456789CN",
    )
    ledger.deliver(
        case_id,
        Command(at=clock.tick(timedelta(days=1)), actor=COURIER, channel=Channel.COURIER),
        signed_by="张三",
        report={"tracking_number": "EA123456789CN", "signed": True},
    )
    ledger.close_case(case_id, Command(at=clock.tick(), actor=lead))
    ledger.rate(
        case_id,
        Command(at=clock.tick(), actor=APPLICANT, channel=Channel.ONLINE),
        stars=5,
        comment="不用跑腿",
    )
    return issued
