"""The Case aggregate: one application for a service item, from submission to rating.

Models DOMAIN case rules 1-10. Each public command checks everything first (with ``ledger.rules``),
then triggers one nested past-tense event whose ``apply`` is all that replay runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from ledger.actors import Actor, Channel, Role
from ledger.catalog import ItemTerms, SpecialStep
from ledger.documents import MaterialRef, material_data, material_ref_from_dict, notice_items
from ledger.errors import (
    AlreadyExtended,
    AlreadyRated,
    ApprovalsMissing,
    CommitmentOpen,
    InvalidCommand,
    MaterialNotCommitted,
    MaterialNotRequested,
    SecondNoticeRefused,
    WrongState,
)
from ledger.rules import (
    INTAKE,
    STAFF,
    LedgerAggregate,
    check_command,
    check_later_due,
    check_opinion,
    check_receipt,
    check_receipt_due,
    check_step,
    check_submission,
    local_date,
    missing_approvals,
    parse_enum,
    require_text,
    require_texts,
    tolerated_materials,
)

_NAMESPACE = uuid5(NAMESPACE_URL, "urn:caseledger:case")
_APPLICANT = frozenset({Role.APPLICANT})
_COURIER = frozenset({Role.COURIER})
_DISPATCHERS = frozenset({Role.OFFICER, Role.COURIER})
_ISSUERS = frozenset({Role.OFFICER, Role.SYSTEM})


class CaseStatus(StrEnum):
    """Where a case stands."""

    SUBMITTED = "submitted"
    AWAITING_CORRECTION = "awaiting_correction"  # notice given before receipt
    PAUSED_FOR_CORRECTION = "paused_for_correction"  # notice given after receipt: clock stopped
    REFUSED = "refused"
    RECEIVED = "received"
    SUSPENDED = "suspended"
    DECIDED = "decided"
    ISSUED = "issued"
    DISPATCHED = "dispatched"
    DELIVERED = "delivered"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


_UNDER_WAY = (CaseStatus.RECEIVED, CaseStatus.PAUSED_FOR_CORRECTION, CaseStatus.SUSPENDED)
_FINISHED = (CaseStatus.REFUSED, CaseStatus.CLOSED, CaseStatus.WITHDRAWN)


class HolderKind(StrEnum):
    """Whether the applicant is a citizen (自然人) or an enterprise (法人)."""

    CITIZEN = "citizen"
    ENTERPRISE = "enterprise"


class SupplementVia(StrEnum):
    """How committed materials arrive after a tolerance acceptance (no visit needed)."""

    ONLINE = "online"
    EMAIL = "email"
    IM = "im"
    FAX = "fax"


class AdminLevel(StrEnum):
    """Administrative level a case is handled at."""

    TOWNSHIP = "township"
    COUNTY = "county"
    CITY = "city"
    PROVINCE = "province"


@dataclass(frozen=True)
class Opinion:
    """One department's review opinion."""

    department: str
    approve: bool
    reasons: tuple[str, ...]
    at: datetime


@dataclass(frozen=True)
class Decision:
    """The grant or denial, with reasons and legal basis."""

    grant: bool
    reasons: tuple[str, ...]
    legal_basis: str
    at: datetime


@dataclass(frozen=True)
class Transfer:
    """An internal hand-over to another level, with the sending department's opinion."""

    from_department: str | None
    to_level: AdminLevel
    to_unit: str
    opinion: str
    at: datetime


@dataclass(frozen=True)
class Visit:
    """One in-person presence of the applicant, with its reason."""

    at: datetime
    reason: str


class Case(LedgerAggregate):
    """One application for a service item (办件), judged by the terms in force at submission."""

    TOPIC_PREFIX: ClassVar[str] = "case"

    @classmethod
    def create_id(cls, submission_id: str) -> UUID:
        """The case id of a client-supplied submission id, so a resubmission maps to one case."""
        return uuid5(_NAMESPACE, submission_id)

    @classmethod
    def submit(
        cls,
        *,
        submission_id: str,
        item_code: str,
        terms: Mapping[str, Any] | ItemTerms,
        applicant: str,
        applicant_kind: HolderKind,
        materials: Mapping[str, MaterialRef],
        at: datetime,
        actor: Actor,
        channel: Channel,
    ) -> Case:
        """Submit online or at a window (a window submission is a visit)."""
        check_command(
            "submit a case", at=at, actor=actor, channel=channel, roles=INTAKE, proxy=True
        )
        snapshot = terms if isinstance(terms, ItemTerms) else ItemTerms.from_dict(terms)
        check_submission(
            snapshot,
            submission_id=submission_id,
            item_code=item_code,
            applicant=applicant,
            at=at,
            channel=channel,
        )
        kind = parse_enum(HolderKind, applicant_kind, "applicant kind")
        return cls(
            submission_id=submission_id,
            item_code=item_code,
            terms=snapshot.as_dict(),
            applicant=applicant,
            applicant_kind=kind.value,
            materials=material_data(snapshot, materials),
            at=at,
            actor=actor,
            channel=channel,
        )

    @event("Submitted")
    def __init__(
        self,
        *,
        submission_id: str,
        item_code: str,
        terms: dict[str, Any],
        applicant: str,
        applicant_kind: str,
        materials: dict[str, dict[str, Any]],
        at: datetime,
        actor: Actor,
        channel: Channel,
    ) -> None:
        self._submission_id = submission_id
        self._item_code = item_code
        self._terms = ItemTerms.from_dict(terms)
        self._applicant = applicant
        self._applicant_kind = HolderKind(applicant_kind)
        self._materials: dict[str, dict[str, Any]] = dict(materials)
        self._status = CaseStatus.SUBMITTED
        self._receipt_number: str | None = None
        self._due: date | None = None
        self._pauses: list[tuple[date, date | None]] = []
        self._notice: tuple[datetime, tuple[str, ...]] | None = None
        self._commitment: tuple[str, date, tuple[str, ...]] | None = None
        self._opinions: dict[str, Opinion] = {}
        self._transfers: list[Transfer] = []
        self._suspended_for: SpecialStep | None = None
        self._extended = False
        self._decision: Decision | None = None
        self._license_ref: str | None = None
        self._visits: list[Visit] = []
        self._rating: int | None = None
        self._count_visit(channel, at, "submission")

    # --- acceptance: receive, refuse, notify, correct, tolerate, supplement ---------------------

    def receive(
        self, *, receipt_number: str, due: date, at: datetime, actor: Actor, channel: Channel
    ) -> None:
        """Receive (受理) with every material present; the clock starts, due on ``due``."""
        self._guard("receive a case", at, actor, channel, STAFF, CaseStatus.SUBMITTED)
        check_receipt(self._terms, self._materials, receipt_number=receipt_number, due=due, at=at)
        self._emit(self.Received, at, actor, channel, receipt_number=receipt_number, due=due)

    class Received(LedgerAggregate.Event):
        """The case was received (受理); the clock started."""

        receipt_number: str
        due: date

        def apply(self, case: Case) -> None:
            case._start_clock(self.receipt_number, self.due)

    def refuse(
        self,
        *,
        reasons: Sequence[str],
        legal_basis: str,
        at: datetime,
        actor: Actor,
        channel: Channel,
    ) -> None:
        """Refuse to receive (不予受理), with reasons and the legal basis."""
        self._guard(
            "refuse a case",
            at,
            actor,
            channel,
            STAFF,
            CaseStatus.SUBMITTED,
            CaseStatus.AWAITING_CORRECTION,
        )
        texts = require_texts("refusal reasons", reasons)
        require_text("legal basis", legal_basis)
        self._emit(self.Refused, at, actor, channel, reasons=texts, legal_basis=legal_basis)

    class Refused(LedgerAggregate.Event):
        """The case was not received (不予受理)."""

        reasons: list[str]
        legal_basis: str

        def apply(self, case: Case) -> None:
            case._status = CaseStatus.REFUSED

    def notify_correction(
        self, *, items: Mapping[str, str], text: str, at: datetime, actor: Actor, channel: Channel
    ) -> None:
        """Give the one-time written notice (一次性告知): each material to correct and why."""
        self._check("notify a correction", at=at, actor=actor, channel=channel, roles=STAFF)
        if self._notice is not None:
            raise SecondNoticeRefused(self.id, self._notice[0])
        self._require_status(CaseStatus.SUBMITTED, CaseStatus.RECEIVED)
        require_text("notice text", text)
        listed = notice_items(self._terms, self._materials, items)
        self._emit(self.CorrectionNotified, at, actor, channel, items=listed, text=text)

    class CorrectionNotified(LedgerAggregate.Event):
        """The one-time correction notice was given in writing; after receipt the clock stops."""

        items: list[dict[str, str]]
        text: str

        def apply(self, case: Case) -> None:
            case._notice = (self.at, tuple(i["material"] for i in self.items))
            if case._status is CaseStatus.RECEIVED:
                case._pauses.append((local_date(self.at), None))
                case._status = CaseStatus.PAUSED_FOR_CORRECTION
            else:
                case._status = CaseStatus.AWAITING_CORRECTION

    def correct(
        self,
        *,
        materials: Mapping[str, MaterialRef],
        at: datetime,
        actor: Actor,
        channel: Channel,
        due: date | None = None,
    ) -> None:
        """Re-supply noticed materials; after receipt the clock restarts, due on ``due``."""
        self._guard(
            "correct materials",
            at,
            actor,
            channel,
            INTAKE,
            CaseStatus.AWAITING_CORRECTION,
            CaseStatus.PAUSED_FOR_CORRECTION,
            proxy=True,
        )
        data = material_data(self._terms, materials)
        noticed = self._notice[1] if self._notice else ()
        if not data or any(code not in noticed for code in data):
            raise MaterialNotRequested(
                f"a correction re-supplies materials of the notice {list(noticed)}, "
                f"got {list(data)}"
            )
        if self._status is CaseStatus.PAUSED_FOR_CORRECTION:
            check_later_due(due, self._due, at, strictly=False)
        elif due is not None:
            raise InvalidCommand(f"a case not yet received has no due date, got due {due}")
        self._emit(self.Corrected, at, actor, channel, materials=data, due=due)

    class Corrected(LedgerAggregate.Event):
        """The noticed materials were re-supplied."""

        materials: dict[str, dict[str, Any]]
        due: date | None

        def apply(self, case: Case) -> None:
            case._materials.update(self.materials)
            if case._status is CaseStatus.PAUSED_FOR_CORRECTION:
                case._end_pause(self.at, self.due)
            else:
                case._status = CaseStatus.SUBMITTED
            case._count_visit(self.channel, self.at, "correction")

    def accept_with_tolerance(
        self,
        *,
        receipt_number: str,
        due: date,
        commitment: str,
        commitment_due: date,
        at: datetime,
        actor: Actor,
        channel: Channel,
    ) -> None:
        """Receive with tolerance (容缺受理) on the applicant's commitment to supply the rest."""
        self._guard("accept with tolerance", at, actor, channel, STAFF, CaseStatus.SUBMITTED)
        require_text("receipt number", receipt_number)
        require_text("commitment", commitment)
        check_receipt_due(self._terms, due, at)
        committed = tolerated_materials(
            self._terms, self._materials, commitment_due=commitment_due, due=due, at=at
        )
        self._emit(
            self.AcceptedWithTolerance,
            at,
            actor,
            channel,
            receipt_number=receipt_number,
            due=due,
            commitment=commitment,
            commitment_due=commitment_due,
            committed=committed,
        )

    class AcceptedWithTolerance(LedgerAggregate.Event):
        """The case was received with tolerance; the missing materials are committed."""

        receipt_number: str
        due: date
        commitment: str
        commitment_due: date
        committed: list[str]

        def apply(self, case: Case) -> None:
            case._start_clock(self.receipt_number, self.due)
            case._commitment = (self.commitment, self.commitment_due, tuple(self.committed))

    def supplement(
        self,
        *,
        materials: Mapping[str, MaterialRef],
        via: SupplementVia,
        at: datetime,
        actor: Actor,
        channel: Channel,
    ) -> None:
        """Supply committed materials (补齐) online, by e-mail, IM or fax."""
        self._guard(
            "supplement materials",
            at,
            actor,
            channel,
            INTAKE,
            *_UNDER_WAY,
            CaseStatus.DECIDED,
            proxy=True,
        )
        route = parse_enum(SupplementVia, via, "supplement route")
        data = material_data(self._terms, materials)
        open_now = self.open_commitments
        if not data or any(code not in open_now for code in data):
            raise MaterialNotCommitted(
                f"a supplement supplies open commitments {list(open_now)}, got {list(data)}"
            )
        self._emit(self.Supplemented, at, actor, channel, materials=data, via=route.value)

    class Supplemented(LedgerAggregate.Event):
        """Committed materials arrived."""

        materials: dict[str, dict[str, Any]]
        via: str

        def apply(self, case: Case) -> None:
            case._materials.update(self.materials)

    # --- review: opinions, transfers, suspension, extension, decision ---------------------------

    def give_opinion(
        self,
        *,
        department: str,
        approve: bool,
        at: datetime,
        actor: Actor,
        channel: Channel,
        reasons: Sequence[str] = (),
    ) -> None:
        """Record a required department's opinion (并联审批: any order, one per department)."""
        self._guard("give a review opinion", at, actor, channel, STAFF, CaseStatus.RECEIVED)
        check_opinion(
            self._terms, self._opinions, department=department, approve=approve, actor=actor
        )
        texts = require_texts("rejection reasons", reasons, allow_empty=approve)
        self._emit(
            self.OpinionGiven,
            at,
            actor,
            channel,
            department=department,
            approve=approve,
            reasons=texts,
        )

    class OpinionGiven(LedgerAggregate.Event):
        """A required department approved or rejected."""

        department: str
        approve: bool
        reasons: list[str]

        def apply(self, case: Case) -> None:
            opinion = Opinion(self.department, self.approve, tuple(self.reasons), self.at)
            case._opinions[self.department] = opinion

    def transfer(
        self,
        *,
        to_level: AdminLevel,
        to_unit: str,
        opinion: str,
        at: datetime,
        actor: Actor,
        channel: Channel,
    ) -> None:
        """Hand the case to another level with this level's opinion; the materials go with it."""
        self._guard("transfer a case", at, actor, channel, STAFF, CaseStatus.RECEIVED)
        level = parse_enum(AdminLevel, to_level, "target level")
        require_text("target unit", to_unit)
        require_text("transfer opinion", opinion)
        if self._transfers and self._transfers[-1].to_unit == to_unit:
            raise InvalidCommand(f"case is already at {to_unit!r}, expected another unit")
        self._emit(
            self.Transferred,
            at,
            actor,
            channel,
            to_level=level.value,
            to_unit=to_unit,
            opinion=opinion,
        )

    class Transferred(LedgerAggregate.Event):
        """The case moved to another level; nothing was asked of the applicant."""

        to_level: str
        to_unit: str
        opinion: str

        def apply(self, case: Case) -> None:
            level = AdminLevel(self.to_level)
            sender = self.actor.department
            case._transfers.append(Transfer(sender, level, self.to_unit, self.opinion, self.at))

    def suspend(
        self, *, step: SpecialStep, reason: str, at: datetime, actor: Actor, channel: Channel
    ) -> None:
        """Stop the clock for one of the item's special steps (site inspection, hearing …)."""
        self._guard("suspend a case", at, actor, channel, STAFF, CaseStatus.RECEIVED)
        special = parse_enum(SpecialStep, step, "special step")
        check_step(self._terms, special)
        require_text("suspension reason", reason)
        self._emit(self.Suspended, at, actor, channel, step=special.value, reason=reason)

    class Suspended(LedgerAggregate.Event):
        """The clock stopped for a special step."""

        step: str
        reason: str

        def apply(self, case: Case) -> None:
            case._suspended_for = SpecialStep(self.step)
            case._pauses.append((local_date(self.at), None))
            case._status = CaseStatus.SUSPENDED

    def resume(self, *, due: date, at: datetime, actor: Actor, channel: Channel) -> None:
        """Restart the clock after a special step, due on the recomputed ``due``."""
        self._guard("resume a case", at, actor, channel, STAFF, CaseStatus.SUSPENDED)
        check_later_due(due, self._due, at, strictly=False)
        self._emit(self.Resumed, at, actor, channel, due=due)

    class Resumed(LedgerAggregate.Event):
        """The clock restarted after a special step."""

        due: date

        def apply(self, case: Case) -> None:
            case._suspended_for = None
            case._end_pause(self.at, self.due)

    def extend(
        self,
        *,
        due: date,
        reason: str,
        approver: str,
        at: datetime,
        actor: Actor,
        channel: Channel,
    ) -> None:
        """Extend the time limit once, to a later ``due``, with a reason and its approver."""
        self._guard("extend a case", at, actor, channel, STAFF, CaseStatus.RECEIVED)
        if self._extended:
            raise AlreadyExtended(f"case was extended to {self._due}, expected no extension yet")
        require_text("extension reason", reason)
        require_text("approver", approver)
        check_later_due(due, self._due, at, strictly=True)
        self._emit(self.Extended, at, actor, channel, due=due, reason=reason, approver=approver)

    class Extended(LedgerAggregate.Event):
        """The time limit was extended (once)."""

        due: date
        reason: str
        approver: str

        def apply(self, case: Case) -> None:
            case._due = self.due
            case._extended = True

    def decide(
        self,
        *,
        grant: bool,
        legal_basis: str,
        at: datetime,
        actor: Actor,
        channel: Channel,
        reasons: Sequence[str] = (),
    ) -> None:
        """Grant (every required department approved) or deny (with reasons)."""
        self._guard("decide a case", at, actor, channel, STAFF, CaseStatus.RECEIVED)
        if not isinstance(grant, bool):
            raise InvalidCommand(f"grant must be a bool, got {grant!r}")
        texts = require_texts("denial reasons", reasons, allow_empty=grant)
        require_text("legal basis", legal_basis)
        approvals = {d: o.approve for d, o in self._opinions.items()}
        missing = missing_approvals(self._terms, approvals)
        if grant and missing:
            raise ApprovalsMissing(missing)
        self._emit(
            self.Decided, at, actor, channel, grant=grant, reasons=texts, legal_basis=legal_basis
        )

    class Decided(LedgerAggregate.Event):
        """The case was granted or denied."""

        grant: bool
        reasons: list[str]
        legal_basis: str

        def apply(self, case: Case) -> None:
            case._decision = Decision(self.grant, tuple(self.reasons), self.legal_basis, self.at)
            case._status = CaseStatus.DECIDED

    # --- results: license, courier, pickup, visits, closing, withdrawal, rating -----------------

    def issue_license(
        self, *, license_ref: str, at: datetime, actor: Actor, channel: Channel
    ) -> None:
        """Issue the license after a grant, once every committed material has arrived."""
        self._guard("issue a license", at, actor, channel, _ISSUERS, CaseStatus.DECIDED)
        if self._denied():
            raise WrongState("decided: denied", ("decided: granted",))
        if self.open_commitments:
            raise CommitmentOpen(list(self.open_commitments))
        require_text("license reference", license_ref)
        self._emit(self.LicenseIssued, at, actor, channel, license_ref=license_ref)

    class LicenseIssued(LedgerAggregate.Event):
        """The license was issued."""

        license_ref: str

        def apply(self, case: Case) -> None:
            case._license_ref = self.license_ref
            case._status = CaseStatus.ISSUED

    def dispatch(
        self, *, courier: str, tracking_number: str, at: datetime, actor: Actor, channel: Channel
    ) -> None:
        """Send the result by courier (快递送达); not a visit."""
        self._check("dispatch a result", at=at, actor=actor, channel=channel, roles=_DISPATCHERS)
        self._require_status(*self._result_out(CaseStatus.ISSUED))
        require_text("courier", courier)
        require_text("tracking number", tracking_number)
        self._emit(
            self.Dispatched, at, actor, channel, courier=courier, tracking_number=tracking_number
        )

    class Dispatched(LedgerAggregate.Event):
        """The result left with a courier."""

        courier: str
        tracking_number: str

        def apply(self, case: Case) -> None:
            case._status = CaseStatus.DISPATCHED

    def deliver(
        self,
        *,
        signed_by: str,
        report: dict[str, Any],
        at: datetime,
        actor: Actor,
        channel: Channel,
    ) -> None:
        """Record the signed-for delivery; ``report`` is the courier's report, kept as given."""
        self._guard("report a delivery", at, actor, channel, _COURIER, CaseStatus.DISPATCHED)
        require_text("signed by", signed_by)
        if not isinstance(report, dict) or not all(isinstance(k, str) for k in report):
            raise InvalidCommand(f"report must be a map with text keys, got {report!r}")
        self._emit(self.Delivered, at, actor, channel, signed_by=signed_by, report=report)

    class Delivered(LedgerAggregate.Event):
        """The courier delivered the result and it was signed for (not a visit)."""

        signed_by: str
        report: dict[str, Any]

        def apply(self, case: Case) -> None:
            case._status = CaseStatus.DELIVERED

    def pick_up(self, *, at: datetime, actor: Actor, channel: Channel) -> None:
        """Hand the result over at the window (a visit)."""
        self._check(
            "pick up a result", at=at, actor=actor, channel=channel, roles=INTAKE, proxy=True
        )
        self._require_status(*self._result_out(CaseStatus.ISSUED))
        if channel is not Channel.WINDOW:
            raise InvalidCommand(f"a pickup happens at the window, got channel '{channel}'")
        self._emit(self.PickedUpAtWindow, at, actor, channel)

    class PickedUpAtWindow(LedgerAggregate.Event):
        """The result was picked up at the window."""

        def apply(self, case: Case) -> None:
            case._status = CaseStatus.DELIVERED
            case._count_visit(self.channel, self.at, "pickup")

    def record_visit(self, *, reason: str, at: datetime, actor: Actor, channel: Channel) -> None:
        """Record an in-person presence of the applicant, with its reason."""
        unfinished = [s for s in CaseStatus if s not in _FINISHED]
        self._guard("record a visit", at, actor, channel, INTAKE, *unfinished, proxy=True)
        require_text("visit reason", reason)
        self._emit(self.VisitRecorded, at, actor, channel, reason=reason)

    class VisitRecorded(LedgerAggregate.Event):
        """The applicant came in person."""

        reason: str

        def apply(self, case: Case) -> None:
            case._visits.append(Visit(self.at, self.reason))

    def close(self, *, at: datetime, actor: Actor, channel: Channel) -> None:
        """Close the case (办结) once its result is out."""
        self._check("close a case", at=at, actor=actor, channel=channel, roles=_ISSUERS)
        self._require_status(*self._result_out(CaseStatus.ISSUED, CaseStatus.DELIVERED))
        self._emit(self.Closed, at, actor, channel)

    class Closed(LedgerAggregate.Event):
        """The case was closed (办结)."""

        def apply(self, case: Case) -> None:
            case._status = CaseStatus.CLOSED

    def withdraw(self, *, reason: str, at: datetime, actor: Actor, channel: Channel) -> None:
        """Withdraw the application (the applicant or a proxy, before a decision)."""
        self._guard(
            "withdraw a case",
            at,
            actor,
            channel,
            _APPLICANT,
            CaseStatus.SUBMITTED,
            CaseStatus.AWAITING_CORRECTION,
            *_UNDER_WAY,
            proxy=True,
        )
        require_text("withdrawal reason", reason)
        self._emit(self.Withdrawn, at, actor, channel, reason=reason)

    class Withdrawn(LedgerAggregate.Event):
        """The applicant withdrew the application."""

        reason: str

        def apply(self, case: Case) -> None:
            if case._pauses and case._pauses[-1][1] is None:
                case._pauses[-1] = (case._pauses[-1][0], local_date(self.at))
            case._status = CaseStatus.WITHDRAWN
            case._count_visit(self.channel, self.at, "withdrawal")

    def rate(
        self, *, stars: int, at: datetime, actor: Actor, channel: Channel, comment: str = ""
    ) -> None:
        """Rate the service (好差评) once, 1-5 stars, after closing."""
        self._guard("rate a case", at, actor, channel, _APPLICANT, CaseStatus.CLOSED, proxy=True)
        if self._rating is not None:
            raise AlreadyRated(f"case was rated {self._rating} stars, expected no rating yet")
        if type(stars) is not int or not 1 <= stars <= 5:
            raise InvalidCommand(f"stars must be an int from 1 to 5, got {stars!r}")
        if not isinstance(comment, str):
            raise InvalidCommand(f"comment must be text, got {comment!r}")
        self._emit(self.Rated, at, actor, channel, stars=stars, comment=comment)

    class Rated(LedgerAggregate.Event):
        """The applicant rated the service."""

        stars: int
        comment: str

        def apply(self, case: Case) -> None:
            case._rating = self.stars

    # --- read model for projections ------------------------------------------------------------

    @property
    def status(self) -> CaseStatus:
        """Where the case stands."""
        return self._status

    @property
    def item_code(self) -> str:
        """The implementation code of the item applied for."""
        return self._item_code

    @property
    def terms(self) -> ItemTerms:
        """The item terms the case is judged by."""
        return self._terms

    @property
    def applicant(self) -> tuple[str, HolderKind]:
        """The applicant's holder id and kind."""
        return self._applicant, self._applicant_kind

    @property
    def materials(self) -> dict[str, MaterialRef]:
        """Materials held by code (documents or e-licenses)."""
        return {code: material_ref_from_dict(d) for code, d in self._materials.items()}

    @property
    def receipt_number(self) -> str | None:
        """The receipt number, once received."""
        return self._receipt_number

    @property
    def due(self) -> date | None:
        """The current deadline (None before receipt)."""
        return self._due

    @property
    def pauses(self) -> tuple[tuple[date, date | None], ...]:
        """Clock stops as [start, end) local dates; an open one ends in None."""
        return tuple(self._pauses)

    @property
    def notice_count(self) -> int:
        """How many correction notices were given (0 or 1)."""
        return 0 if self._notice is None else 1

    @property
    def notice_at(self) -> datetime | None:
        """When the one-time notice was given."""
        return None if self._notice is None else self._notice[0]

    @property
    def commitment_due(self) -> date | None:
        """The date committed materials are due, after a tolerance acceptance."""
        return None if self._commitment is None else self._commitment[1]

    @property
    def open_commitments(self) -> tuple[str, ...]:
        """Committed materials not yet supplied."""
        committed = () if self._commitment is None else self._commitment[2]
        return tuple(code for code in committed if code not in self._materials)

    def commitment_overdue(self, on: date) -> bool:
        """Whether a commitment is still open after its due date (visible to supervisors)."""
        due = self.commitment_due
        return bool(self.open_commitments) and due is not None and on > due

    @property
    def opinions(self) -> dict[str, Opinion]:
        """Review opinions by department."""
        return dict(self._opinions)

    @property
    def transfers(self) -> tuple[Transfer, ...]:
        """Internal hand-overs between levels, oldest first."""
        return tuple(self._transfers)

    @property
    def suspended_for(self) -> SpecialStep | None:
        """The special step the clock is stopped for, if suspended."""
        return self._suspended_for

    @property
    def decision(self) -> Decision | None:
        """The grant or denial, once decided."""
        return self._decision

    @property
    def license_ref(self) -> str | None:
        """The issued license, once issued."""
        return self._license_ref

    @property
    def visits(self) -> tuple[Visit, ...]:
        """In-person presences, oldest first."""
        return tuple(self._visits)

    @property
    def visit_target(self) -> int:
        """The item's visit target: 0 (不见面) or 1."""
        return self._terms.visit_target

    @property
    def extra_visits(self) -> int:
        """Visits above the item's target (a finding for supervisors)."""
        return max(0, len(self._visits) - self.visit_target)

    @property
    def rating(self) -> int | None:
        """The applicant's stars, once rated."""
        return self._rating

    # --- helpers ---------------------------------------------------------------------------------

    def _emit(
        self,
        event_class: type[LedgerAggregate.Event],
        at: datetime,
        actor: Actor,
        channel: Channel,
        **fields: Any,
    ) -> None:
        self.trigger_event(event_class, at=at, actor=actor, channel=channel, **fields)

    def _guard(
        self,
        command: str,
        at: datetime,
        actor: Actor,
        channel: Channel,
        roles: frozenset[Role],
        *allowed: CaseStatus,
        proxy: bool = False,
    ) -> None:
        self._check(command, at=at, actor=actor, channel=channel, roles=roles, proxy=proxy)
        self._require_status(*allowed)

    def _require_status(self, *allowed: CaseStatus) -> None:
        if self._status not in allowed:
            raise WrongState(self._status.value, tuple(s.value for s in allowed))

    def _denied(self) -> bool:
        return self._decision is not None and not self._decision.grant

    def _result_out(self, *statuses: CaseStatus) -> tuple[CaseStatus, ...]:
        # A grant's result is the issued license; a denial's is the written decision itself.
        return (*statuses, CaseStatus.DECIDED) if self._denied() else statuses

    def _start_clock(self, receipt_number: str, due: date) -> None:
        self._receipt_number = receipt_number
        self._due = due
        self._status = CaseStatus.RECEIVED

    def _end_pause(self, at: datetime, due: date | None) -> None:
        self._pauses[-1] = (self._pauses[-1][0], local_date(at))
        self._due = due
        self._status = CaseStatus.RECEIVED

    def _count_visit(self, channel: Channel | str, at: datetime, reason: str) -> None:
        # An applicant-side command that arrives through the window means the applicant came in.
        if channel == Channel.WINDOW:
            self._visits.append(Visit(at, reason))
