"""A case's facts as its signed events leave them: the fold shared by the case board, supervision
and statistics (each keeps its own copy, so it can be tracked and rebuilt alone).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import MISSING, dataclass
from dataclasses import fields as dataclass_fields
from datetime import date, datetime
from typing import Any
from uuid import UUID

from ledger.calendar import Pause, WorkingCalendar
from ledger.case import CaseStatus
from ledger.errors import CalendarYearUnknown
from ledger.rules import local_date
from licenses.errors import mask_id
from projections.errors import ProjectionError

# Deployments pass a secret key; this default only keeps the digest apart from other uses.
DEFAULT_APPLICANT_KEY = b"caseledger:applicant-digest:v1"


class ReadModelError(ProjectionError):
    """Base of the domain read models' errors."""


class CaseNotSubmitted(ReadModelError):
    """A case event arrived for a stream whose submission the model never saw."""


class ClockUnavailable(ReadModelError):
    """The calendar cannot count working days up to a date (its year has no holiday notice)."""


@dataclass(frozen=True, kw_only=True)
class CaseFacts:
    """One case as its events leave it (the holder id only as a keyed digest and masked)."""

    case_id: UUID
    submission_id: str
    item_code: str
    item_name: str
    item_version: int
    applicant_digest: str
    applicant_masked: str
    applicant_kind: str
    lead_department: str
    required_departments: tuple[str, ...]
    visit_target: int
    promised_days: int
    status: CaseStatus
    submitted_at: datetime
    last_event_at: datetime
    version: int
    received_at: datetime | None = None
    receipt_number: str | None = None
    due: date | None = None
    due_seq: int | None = None
    due_at: datetime | None = None
    pauses: tuple[Pause, ...] = ()
    commitment_due: date | None = None
    open_commitments: tuple[str, ...] = ()
    commitment_seq: int | None = None
    commitment_at: datetime | None = None
    transferred_to: str | None = None
    visits: int = 0
    over_target_seq: int | None = None
    over_target_at: datetime | None = None
    decided_at: datetime | None = None
    decided_seq: int | None = None
    granted: bool | None = None
    on_time: bool | None = None
    working_days: int | None = None
    closed_at: datetime | None = None
    stars: int | None = None

    @property
    def paused_since(self) -> date | None:
        """The first day of the open pause, if the clock is stopped now."""
        if self.pauses and self.pauses[-1].end is None:
            return self.pauses[-1].start
        return None


def applicant_digest(holder_id: str, key: bytes = DEFAULT_APPLICANT_KEY) -> str:
    """The keyed digest (HMAC-SHA256, hex) under which a holder's cases are found."""
    return hmac.new(key, holder_id.strip().upper().encode(), hashlib.sha256).hexdigest()


# --- the fold -----------------------------------------------------------------------------------

Envelope = dict[str, Any]
Fields = dict[str, Any]
"""A case's facts while folding: ``CaseFacts`` field names to values (cheaper to update)."""
_Step = Callable[[Fields, Envelope], Fields]

SUBMITTED = "case.Submitted"
# Applicant-side commands that reach the ledger through the window mean the applicant came in.
_WINDOW_VISITS = frozenset({SUBMITTED, "case.Corrected", "case.PickedUpAtWindow", "case.Withdrawn"})
_DEFAULTS: Fields = {
    f.name: f.default for f in dataclass_fields(CaseFacts) if f.default is not MISSING
}


def _status(status: CaseStatus) -> _Step:
    return lambda facts, envelope: {"status": status}


def _new_due(envelope: Envelope, due: date | None) -> Fields:
    return {"due": due, "due_seq": envelope["seq"], "due_at": envelope["at"]}


def _start_pause(facts: Fields, envelope: Envelope) -> tuple[Pause, ...]:
    return (*facts["pauses"], Pause(local_date(envelope["at"])))


def _end_pause(facts: Fields, envelope: Envelope) -> tuple[Pause, ...]:
    pauses: tuple[Pause, ...] = facts["pauses"]
    if not pauses or pauses[-1].end is not None:
        return pauses
    return (*pauses[:-1], Pause(pauses[-1].start, local_date(envelope["at"])))


def _received(facts: Fields, envelope: Envelope) -> Fields:
    data = envelope["data"]
    return {
        "status": CaseStatus.RECEIVED,
        "received_at": envelope["at"],
        "receipt_number": data["receipt_number"],
        **_new_due(envelope, data["due"]),
    }


def _tolerated(facts: Fields, envelope: Envelope) -> Fields:
    data = envelope["data"]
    return {
        **_received(facts, envelope),
        "commitment_due": data["commitment_due"],
        "open_commitments": tuple(data["committed"]),
        "commitment_seq": envelope["seq"],
        "commitment_at": envelope["at"],
    }


def _notified(facts: Fields, envelope: Envelope) -> Fields:
    # After receipt the notice stops the clock; before it, the case just waits for papers.
    if facts["status"] is CaseStatus.RECEIVED:
        return {"status": CaseStatus.PAUSED_FOR_CORRECTION, "pauses": _start_pause(facts, envelope)}
    return {"status": CaseStatus.AWAITING_CORRECTION}


def _corrected(facts: Fields, envelope: Envelope) -> Fields:
    if facts["status"] is not CaseStatus.PAUSED_FOR_CORRECTION:
        return {"status": CaseStatus.SUBMITTED}
    return {
        "status": CaseStatus.RECEIVED,
        "pauses": _end_pause(facts, envelope),
        **_new_due(envelope, envelope["data"]["due"]),
    }


def _supplemented(facts: Fields, envelope: Envelope) -> Fields:
    supplied = envelope["data"]["materials"]
    return {"open_commitments": tuple(c for c in facts["open_commitments"] if c not in supplied)}


def _suspended(facts: Fields, envelope: Envelope) -> Fields:
    return {"status": CaseStatus.SUSPENDED, "pauses": _start_pause(facts, envelope)}


def _resumed(facts: Fields, envelope: Envelope) -> Fields:
    return {
        "status": CaseStatus.RECEIVED,
        "pauses": _end_pause(facts, envelope),
        **_new_due(envelope, envelope["data"]["due"]),
    }


def _withdrawn(facts: Fields, envelope: Envelope) -> Fields:
    return {"status": CaseStatus.WITHDRAWN, "pauses": _end_pause(facts, envelope)}


_STEPS: dict[str, _Step] = {
    "case.Received": _received,
    "case.Refused": _status(CaseStatus.REFUSED),
    "case.CorrectionNotified": _notified,
    "case.Corrected": _corrected,
    "case.AcceptedWithTolerance": _tolerated,
    "case.Supplemented": _supplemented,
    "case.OpinionGiven": lambda facts, envelope: {},
    "case.Transferred": lambda facts, envelope: {"transferred_to": envelope["data"]["to_unit"]},
    "case.Suspended": _suspended,
    "case.Resumed": _resumed,
    "case.Extended": lambda facts, envelope: _new_due(envelope, envelope["data"]["due"]),
    "case.LicenseIssued": _status(CaseStatus.ISSUED),
    "case.Dispatched": _status(CaseStatus.DISPATCHED),
    "case.Delivered": _status(CaseStatus.DELIVERED),
    "case.PickedUpAtWindow": _status(CaseStatus.DELIVERED),
    "case.VisitRecorded": lambda facts, envelope: {},
    "case.Closed": lambda facts, envelope: {
        "status": CaseStatus.CLOSED,
        "closed_at": envelope["at"],
    },
    "case.Withdrawn": _withdrawn,
    "case.Rated": lambda facts, envelope: {"stars": int(envelope["data"]["stars"])},
}
CASE_TOPICS = frozenset({SUBMITTED, "case.Decided", *_STEPS})


class CaseFold:
    """Folds case envelopes into facts; the calendar counts working days, the key hides holders."""

    def __init__(self, calendar: WorkingCalendar, applicant_key: bytes) -> None:
        self.calendar = calendar
        self.applicant_key = applicant_key

    def __call__(self, facts: Fields | None, envelope: Envelope) -> Fields:
        """Return the facts after one case event, updated in place (None before submission)."""
        topic = envelope["type"]
        if topic == SUBMITTED:
            facts = self._submitted(envelope)
        elif facts is None:
            raise CaseNotSubmitted(
                f"expected case.Submitted first for stream {envelope['stream']}, "
                f"got {topic} at seq {envelope['seq']}"
            )
        else:
            step = self._decided if topic == "case.Decided" else _STEPS[topic]
            facts.update(step(facts, envelope))
            facts["last_event_at"] = envelope["at"]
            facts["version"] = envelope["seq"]
        if topic == "case.VisitRecorded" or (
            topic in _WINDOW_VISITS and envelope["channel"] == "window"
        ):
            facts["visits"] += 1
            if facts["visits"] == facts["visit_target"] + 1:
                facts["over_target_seq"] = envelope["seq"]
                facts["over_target_at"] = envelope["at"]
        return facts

    def _submitted(self, envelope: Envelope) -> Fields:
        data, at = envelope["data"], envelope["at"]
        terms = data["terms"]
        holder = str(data["applicant"])
        return {
            **_DEFAULTS,
            "case_id": envelope["stream"],
            "submission_id": data["submission_id"],
            "item_code": data["item_code"],
            "item_name": terms["name"],
            "item_version": int(terms["version"]),
            "applicant_digest": applicant_digest(holder, self.applicant_key),
            "applicant_masked": mask_id(holder),
            "applicant_kind": data["applicant_kind"],
            "lead_department": terms["lead_department"],
            "required_departments": (terms["lead_department"], *terms.get("joint_departments", ())),
            "visit_target": int(terms["visit_target"]),
            "promised_days": int(terms["promised_days"]),
            "status": CaseStatus.SUBMITTED,
            "submitted_at": at,
            "last_event_at": at,
            "version": envelope["seq"],
        }

    def _decided(self, facts: Fields, envelope: Envelope) -> Fields:
        on = local_date(envelope["at"])
        due: date | None = facts["due"]
        return {
            "status": CaseStatus.DECIDED,
            "decided_at": envelope["at"],
            "decided_seq": envelope["seq"],
            "granted": bool(envelope["data"]["grant"]),
            "on_time": None if due is None else on <= due,
            "working_days": self._working_days(facts, on),
        }

    def _working_days(self, facts: Fields, decided_on: date) -> int | None:
        if facts["received_at"] is None:
            return None
        try:
            return self.calendar.working_days_between(
                local_date(facts["received_at"]), decided_on, facts["pauses"]
            )
        except CalendarYearUnknown:
            # Unknown until that year's notice is loaded; a rebuild then fills it in.
            return None
