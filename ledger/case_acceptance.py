"""Acceptance of a Case: receive, refuse, the one-time correction notice, correction,
acceptance with tolerance and supplements, each with its event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from ledger.actors import Actor, Channel
from ledger.case_state import CaseState
from ledger.case_values import UNDER_WAY, CaseStatus, SupplementVia
from ledger.documents import MaterialRef, material_data, notice_items
from ledger.errors import (
    InvalidCommand,
    MaterialNotCommitted,
    MaterialNotRequested,
    SecondNoticeRefused,
)
from ledger.rules import (
    INTAKE,
    STAFF,
    LedgerAggregate,
    check_later_due,
    check_receipt,
    check_receipt_due,
    local_date,
    parse_enum,
    require_text,
    require_texts,
    tolerated_materials,
)


class CaseAcceptance(CaseState):
    """Commands and events from submission to receipt, refusal or tolerance."""

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

        def apply(self, case: CaseState) -> None:
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

        def apply(self, case: CaseState) -> None:
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

        def apply(self, case: CaseState) -> None:
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

        def apply(self, case: CaseState) -> None:
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

        def apply(self, case: CaseState) -> None:
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
            *UNDER_WAY,
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

        def apply(self, case: CaseState) -> None:
            case._materials.update(self.materials)
