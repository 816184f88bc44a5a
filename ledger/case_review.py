"""Review of a received Case: department opinions, transfers between levels, suspension for
special steps, the one extension and the decision, each with its event.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from ledger.actors import Actor, Channel
from ledger.case_state import CaseState
from ledger.case_values import AdminLevel, CaseStatus, Decision, Opinion, Transfer
from ledger.catalog_terms import SpecialStep
from ledger.errors import AlreadyExtended, ApprovalsMissing, InvalidCommand
from ledger.rules import (
    STAFF,
    LedgerAggregate,
    check_later_due,
    check_opinion,
    check_step,
    local_date,
    missing_approvals,
    parse_enum,
    require_text,
    require_texts,
)


class CaseReview(CaseState):
    """Commands and events from receipt to the grant or denial."""

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

        def apply(self, case: CaseState) -> None:
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

        def apply(self, case: CaseState) -> None:
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

        def apply(self, case: CaseState) -> None:
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

        def apply(self, case: CaseState) -> None:
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

        def apply(self, case: CaseState) -> None:
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

        def apply(self, case: CaseState) -> None:
            case._decision = Decision(self.grant, tuple(self.reasons), self.legal_basis, self.at)
            case._status = CaseStatus.DECIDED
