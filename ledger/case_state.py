"""The state a Case's events build, its read model for projections, and the guards its commands
share.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from ledger.actors import Actor, Channel, Role
from ledger.case_values import CaseStatus, Decision, HolderKind, Opinion, Transfer, Visit
from ledger.catalog_terms import ItemTerms, SpecialStep
from ledger.documents import MaterialRef, material_ref_from_dict
from ledger.errors import WrongState
from ledger.rules import LedgerAggregate, local_date

if TYPE_CHECKING:
    # Type checkers see the aggregate base the phase mixins are combined with in ``Case``; at run
    # time they stay plain mixins, so eventsourcing defines events and topics on ``Case`` alone.
    _Aggregate = LedgerAggregate
else:
    _Aggregate = object


class CaseState(_Aggregate):
    """A case's state as its events leave it, with read properties and shared command guards."""

    _submission_id: str
    _item_code: str
    _terms: ItemTerms
    _applicant: str
    _applicant_kind: HolderKind
    _materials: dict[str, dict[str, Any]]
    _status: CaseStatus
    _receipt_number: str | None
    _due: date | None
    _pauses: list[tuple[date, date | None]]
    _notice: tuple[datetime, tuple[str, ...]] | None
    _commitment: tuple[str, date, tuple[str, ...]] | None
    _opinions: dict[str, Opinion]
    _transfers: list[Transfer]
    _suspended_for: SpecialStep | None
    _extended: bool
    _decision: Decision | None
    _license_ref: str | None
    _visits: list[Visit]
    _rating: int | None
    _shipment: tuple[str, str] | None

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
    def shipment(self) -> tuple[str, str] | None:
        """The courier and tracking number the result left with, once dispatched."""
        return self._shipment

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
