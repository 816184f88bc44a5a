"""The application service ``CaseLedger``: one method per command, each run through
``ledger.execution`` (load, check the acting department, call the aggregate, save atomically).
Dates the rules need (deadlines) come from the working-day calendar here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import RecordConflictError

from keys.keyring import KeyRing
from keys.registry import KeyIndex, KeyRecord, kid_for
from keys.store import KeyStore
from ledger.authority import check_department
from ledger.calendar import WorkingCalendar
from ledger.case import AdminLevel, Case, HolderKind, SupplementVia
from ledger.catalog import ItemTerms, ServiceItem, SpecialStep
from ledger.commands import Command, CommandRecord
from ledger.documents import MaterialRef
from ledger.errors import (
    DuplicateSubmission,
    InvalidApplicant,
    LedgerError,
    SecondNoticeRefused,
    UnknownItem,
)
from ledger.execution import CommandApplication, Result
from ledger.findings import RefusedAttempt
from ledger.key_admin import ROTATION_OVERLAP, KeyAdministration
from ledger.keydirectory import LedgerKeys
from ledger.persistence import install_append_only_guard
from ledger.region_service import TrustedRegions
from ledger.regions import RegionDirectory
from ledger.rules import local_date
from ledger.sharing_service import LicenseSharing
from ledger.vault_service import IssuedLicense, LicenseVault
from licenses.domain import License
from licenses.errors import InvalidHolderId
from licenses.holder_ids import parse_holder_id
from licenses.types import load_license_types
from licenses.usage import LicenseUse, load_sharing_policies
from licenses.vault import HolderLicenses, StatusSlot


class CaseLedger(CommandApplication):
    """Cases, the catalog and the key registry in one signed, chained log."""

    name = "caseledger"
    aggregates = (
        KeyRecord,
        KeyIndex,
        ServiceItem,
        Case,
        CommandRecord,
        RefusedAttempt,
        License,
        StatusSlot,
        HolderLicenses,
        LicenseUse,
        RegionDirectory,
    )

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        key_store: KeyStore,
        root_public_key_der: bytes,
        calendar: WorkingCalendar,
    ) -> None:
        directory = LedgerKeys(key_store)
        super().__init__(
            env,
            directory=directory,
            root_public_key_der=root_public_key_der,
            root_kid=kid_for(root_public_key_der),
        )
        self.keyring = KeyRing(self, root_public_key_der)
        directory.attach(self.keyring)
        self.key_directory = directory
        self.calendar = calendar
        types = load_license_types()
        self.vault = LicenseVault(self, types)
        self.regions = TrustedRegions(self)
        self.sharing = LicenseSharing(self, types, load_sharing_policies())
        self.key_admin = KeyAdministration(self, key_store, overlap=ROTATION_OVERLAP)
        install_append_only_guard(self.recorder)

    # -- catalog ---------------------------------------------------------------------------------

    def publish_item(self, terms: ItemTerms, cmd: Command) -> UUID:
        """Publish a service item's first version."""
        item = ServiceItem.publish(terms, at=cmd.at, actor=cmd.actor, channel=cmd.channel)
        try:
            self.save(item)
        except RecordConflictError:
            code = terms.implementation_code
            raise DuplicateSubmission(f"item {code} is already published") from None
        return item.id

    def amend_item(self, terms: ItemTerms, cmd: Command) -> int:
        """Publish a new version of an item's terms; returns the version number."""
        item = self.item(terms.implementation_code)
        item.amend(terms, at=cmd.at, actor=cmd.actor, channel=cmd.channel)
        self.save(item)
        return item.current.version

    def item(self, item_code: str) -> ServiceItem:
        """Return a published item or raise ``UnknownItem``."""
        try:
            item: ServiceItem = self.repository.get(ServiceItem.create_id(item_code))
        except AggregateNotFoundError:
            raise UnknownItem(f"no service item with implementation code {item_code!r}") from None
        return item

    # -- cases: intake ---------------------------------------------------------------------------

    def submit(
        self,
        cmd: Command,
        *,
        submission_id: str,
        item_code: str,
        applicant_id: str,
        materials: Mapping[str, MaterialRef],
    ) -> UUID:
        """Submit a case for an item (online or at a window); returns the case id."""

        def run() -> tuple[list[Any], Result]:
            try:
                holder = parse_holder_id(applicant_id)
            except InvalidHolderId as exc:
                raise InvalidApplicant(str(exc)) from None
            terms = self.item(item_code).terms_at(cmd.at)
            check_department("submit", cmd.actor, terms.required_departments)
            case = Case.submit(
                submission_id=submission_id,
                item_code=item_code,
                terms=terms,
                applicant=holder.value,
                applicant_kind=HolderKind(holder.kind),
                materials=materials,
                at=cmd.at,
                actor=cmd.actor,
                channel=cmd.channel,
            )
            return [case], {"case_id": str(case.id), "version": case.version}

        args = {
            "submission_id": submission_id,
            "item_code": item_code,
            "applicant_id": applicant_id,
            "materials": dict(materials),
        }
        duplicate = DuplicateSubmission(f"submission {submission_id!r} was already made")
        return UUID(self.execute("submit", args, run, cmd, lambda: duplicate)["case_id"])

    def receive(self, case_id: UUID, cmd: Command) -> date:
        """Receive (受理) a complete case; returns the promised deadline."""
        return self._due(
            self._on_case(
                case_id,
                cmd,
                "receive",
                {},
                lambda case: {
                    "receipt_number": self._receipt_number(case, cmd),
                    "due": self._deadline(case, cmd),
                },
            )
        )

    def refuse(
        self, case_id: UUID, cmd: Command, *, reasons: Sequence[str], legal_basis: str
    ) -> int:
        """Refuse to accept (不予受理) with reasons and legal basis."""
        return self._act(case_id, cmd, "refuse", reasons=list(reasons), legal_basis=legal_basis)

    def notify_correction(
        self, case_id: UUID, cmd: Command, *, items: Mapping[str, str], text: str
    ) -> int:
        """Issue the one-time written correction notice; a second one is refused and recorded."""
        try:
            return self._act(case_id, cmd, "notify_correction", items=dict(items), text=text)
        except SecondNoticeRefused as refused:
            # The case is unchanged; auditors still see that a second notice was attempted.
            self.save(
                RefusedAttempt(
                    case_id=case_id,
                    rule="one-time-notice",
                    detail=str(refused),
                    at=cmd.at,
                    actor=cmd.actor,
                    channel=cmd.channel,
                )
            )
            raise

    def correct(self, case_id: UUID, cmd: Command, *, materials: Mapping[str, MaterialRef]) -> int:
        """Supply the corrected materials; if the clock was paused, the deadline moves on."""
        return self._version(
            self._on_case(
                case_id,
                cmd,
                "correct",
                {"materials": materials},
                lambda case: {"due": self._resumed_due(case, cmd)},
            )
        )

    def accept_with_tolerance(
        self, case_id: UUID, cmd: Command, *, commitment: str, commitment_due: date
    ) -> date:
        """Accept with missing secondary materials on the applicant's commitment (容缺受理)."""
        args = {"commitment": commitment, "commitment_due": commitment_due}
        return self._due(
            self._on_case(
                case_id,
                cmd,
                "accept_with_tolerance",
                args,
                lambda case: {
                    "receipt_number": self._receipt_number(case, cmd),
                    "due": self._deadline(case, cmd),
                },
            )
        )

    def supplement(
        self,
        case_id: UUID,
        cmd: Command,
        *,
        materials: Mapping[str, MaterialRef],
        via: SupplementVia,
    ) -> int:
        """Supply committed materials online, by e-mail, IM or fax."""
        return self._act(case_id, cmd, "supplement", materials=materials, via=via)

    # -- cases: review and decision --------------------------------------------------------------

    def give_opinion(
        self, case_id: UUID, cmd: Command, *, approve: bool, reasons: Sequence[str] = ()
    ) -> int:
        """Record the acting officer's department's review opinion (parallel review)."""
        return self._act(
            case_id,
            cmd,
            "give_opinion",
            department=cmd.actor.department or "",
            approve=approve,
            reasons=list(reasons),
        )

    def transfer(
        self, case_id: UUID, cmd: Command, *, to_level: AdminLevel, to_unit: str, opinion: str
    ) -> int:
        """Pass the case to another level with this level's opinion; nothing is resubmitted."""
        return self._act(
            case_id, cmd, "transfer", to_level=to_level, to_unit=to_unit, opinion=opinion
        )

    def suspend(self, case_id: UUID, cmd: Command, *, step: SpecialStep, reason: str) -> int:
        """Stop the clock for a special step (site inspection, expert review, hearing…)."""
        return self._act(case_id, cmd, "suspend", step=step, reason=reason)

    def resume(self, case_id: UUID, cmd: Command) -> date:
        """Restart the clock; the deadline moves by the working days the step took."""
        return self._due(
            self._on_case(
                case_id,
                cmd,
                "resume",
                {},
                # A case that is not suspended gets its own due date: the Case refuses the resume.
                lambda case: {
                    "due": self._resumed_due(case, cmd) or case.due or local_date(cmd.at)
                },
            )
        )

    def extend(self, case_id: UUID, cmd: Command, *, due: date, reason: str, approver: str) -> int:
        """Extend the deadline once, with the approver's name and a reason."""
        return self._act(case_id, cmd, "extend", due=due, reason=reason, approver=approver)

    def decide(
        self,
        case_id: UUID,
        cmd: Command,
        *,
        grant: bool,
        legal_basis: str,
        reasons: Sequence[str] = (),
    ) -> int:
        """Grant or deny (a grant needs every required department's approval)."""
        return self._act(
            case_id, cmd, "decide", grant=grant, legal_basis=legal_basis, reasons=list(reasons)
        )

    def issue_license(self, case_id: UUID, cmd: Command) -> IssuedLicense:
        """Issue the item's e-license (blocked while any commitment is open)."""
        return self.vault.issue(case_id, cmd)

    # -- cases: results and closing -------------------------------------------------------------

    def dispatch(self, case_id: UUID, cmd: Command, *, courier: str, tracking_number: str) -> int:
        """Hand the result to a courier (快递送达)."""
        return self._act(case_id, cmd, "dispatch", courier=courier, tracking_number=tracking_number)

    def deliver(
        self, case_id: UUID, cmd: Command, *, signed_by: str, report: dict[str, Any]
    ) -> int:
        """Record the courier's signed delivery report (not a visit)."""
        return self._act(case_id, cmd, "deliver", signed_by=signed_by, report=report)

    def pick_up(self, case_id: UUID, cmd: Command) -> int:
        """Record a pickup at the window (a visit)."""
        return self._act(case_id, cmd, "pick_up")

    def record_visit(self, case_id: UUID, cmd: Command, *, reason: str) -> int:
        """Record an in-person visit with its reason."""
        return self._act(case_id, cmd, "record_visit", reason=reason)

    def close_case(self, case_id: UUID, cmd: Command) -> int:
        """Close the case (办结)."""
        return self._act(case_id, cmd, "close")

    def withdraw(self, case_id: UUID, cmd: Command, *, reason: str) -> int:
        """Withdraw the application before a decision."""
        return self._act(case_id, cmd, "withdraw", reason=reason)

    def rate(self, case_id: UUID, cmd: Command, *, stars: int, comment: str = "") -> int:
        """Rate the service after closing (好差评)."""
        return self._act(case_id, cmd, "rate", stars=stars, comment=comment)

    # -- receipt numbers and deadlines ------------------------------------------------------------

    def _receipt_number(self, case: Case, cmd: Command) -> str:
        return f"SL{local_date(cmd.at):%Y%m%d}{case.id.hex[:8].upper()}"

    def _deadline(self, case: Case, cmd: Command) -> date:
        due = self.calendar.add_working_days(local_date(cmd.at), case.terms.promised_days).due
        if due is None:  # only an open pause yields no date, and a receipt passes none
            raise LedgerError("a deadline computed at receipt cannot be paused")
        return due

    def _resumed_due(self, case: Case, cmd: Command) -> date | None:
        """Move the deadline by the working days of the pause that ends now (None if none)."""
        if case.due is None or not case.pauses or case.pauses[-1][1] is not None:
            return None
        start, today = case.pauses[-1][0], local_date(cmd.at)
        # Working days in [start, today): the days the clock stood still.
        paused = self.calendar.working_days_between(
            start - timedelta(days=1), today - timedelta(days=1)
        )
        return self.calendar.add_working_days(case.due, paused).due
