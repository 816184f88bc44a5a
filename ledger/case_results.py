"""Results of a decided Case: license issue, courier and window hand-over, visits, closing,
withdrawal and rating, each with its event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ledger.actors import Actor, Channel, Role
from ledger.case_state import CaseState
from ledger.case_values import FINISHED, UNDER_WAY, CaseStatus, Visit
from ledger.errors import (
    ActionNotPermitted,
    AlreadyRated,
    CommitmentOpen,
    InvalidCommand,
    WrongState,
)
from ledger.rules import INTAKE, LedgerAggregate, courier_company, local_date, require_text

_APPLICANT = frozenset({Role.APPLICANT})
_COURIER = frozenset({Role.COURIER})
_DISPATCHERS = frozenset({Role.OFFICER, Role.COURIER})
_ISSUERS = frozenset({Role.OFFICER, Role.SYSTEM})


class CaseResults(CaseState):
    """Commands and events from the decision to closing and rating."""

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

        def apply(self, case: CaseState) -> None:
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

        def apply(self, case: CaseState) -> None:
            case._status = CaseStatus.DISPATCHED
            case._shipment = (self.courier, self.tracking_number)

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
        courier = self._shipment[0] if self._shipment else None
        if courier is not None and courier_company(actor.principal) != courier_company(courier):
            # Only the company that took the result may say it was delivered.
            raise ActionNotPermitted(
                f"the result was dispatched by courier {courier!r}; "
                f"{actor.principal!r} is not one of its couriers"
            )
        dispatched = self._shipment[1] if self._shipment else None
        if "tracking_number" in report and report["tracking_number"] != dispatched:
            raise InvalidCommand(
                f"report's tracking number must be the dispatched {dispatched!r}, "
                f"got {report['tracking_number']!r}"
            )
        self._emit(self.Delivered, at, actor, channel, signed_by=signed_by, report=report)

    class Delivered(LedgerAggregate.Event):
        """The courier delivered the result and it was signed for (not a visit)."""

        signed_by: str
        report: dict[str, Any]

        def apply(self, case: CaseState) -> None:
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

        def apply(self, case: CaseState) -> None:
            case._status = CaseStatus.DELIVERED
            case._count_visit(self.channel, self.at, "pickup")

    def record_visit(self, *, reason: str, at: datetime, actor: Actor, channel: Channel) -> None:
        """Record an in-person presence of the applicant, with its reason."""
        unfinished = [s for s in CaseStatus if s not in FINISHED]
        self._guard("record a visit", at, actor, channel, INTAKE, *unfinished, proxy=True)
        require_text("visit reason", reason)
        self._emit(self.VisitRecorded, at, actor, channel, reason=reason)

    class VisitRecorded(LedgerAggregate.Event):
        """The applicant came in person."""

        reason: str

        def apply(self, case: CaseState) -> None:
            case._visits.append(Visit(self.at, self.reason))

    def close(self, *, at: datetime, actor: Actor, channel: Channel) -> None:
        """Close the case (办结) once its result is out."""
        self._check("close a case", at=at, actor=actor, channel=channel, roles=_ISSUERS)
        self._require_status(*self._result_out(CaseStatus.ISSUED, CaseStatus.DELIVERED))
        self._emit(self.Closed, at, actor, channel)

    class Closed(LedgerAggregate.Event):
        """The case was closed (办结)."""

        def apply(self, case: CaseState) -> None:
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
            *UNDER_WAY,
            proxy=True,
        )
        require_text("withdrawal reason", reason)
        self._emit(self.Withdrawn, at, actor, channel, reason=reason)

    class Withdrawn(LedgerAggregate.Event):
        """The applicant withdrew the application."""

        reason: str

        def apply(self, case: CaseState) -> None:
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

        def apply(self, case: CaseState) -> None:
            case._rating = self.stars
