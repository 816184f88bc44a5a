"""The Case aggregate: one application for a service item, from submission to rating.

Models DOMAIN case rules 1-10 with the phase mixins (acceptance, review, results): each command
checks everything first, then triggers one nested past-tense event; replay runs only its ``apply``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from ledger.actors import Actor, Channel
from ledger.case_acceptance import CaseAcceptance
from ledger.case_results import CaseResults
from ledger.case_review import CaseReview
from ledger.case_values import (
    AdminLevel,
    CaseStatus,
    Decision,
    HolderKind,
    Opinion,
    SupplementVia,
    Transfer,
    Visit,
)
from ledger.catalog_terms import ItemTerms
from ledger.documents import MaterialRef, material_data
from ledger.rules import INTAKE, LedgerAggregate, check_command, check_submission, parse_enum

__all__ = [
    "AdminLevel",
    "Case",
    "CaseStatus",
    "Decision",
    "HolderKind",
    "Opinion",
    "SupplementVia",
    "Transfer",
    "Visit",
]

_NAMESPACE = uuid5(NAMESPACE_URL, "urn:caseledger:case")


class Case(CaseAcceptance, CaseReview, CaseResults, LedgerAggregate):
    """One application for a service item (办件), judged by the terms in force at submission."""

    TOPIC_PREFIX: ClassVar[str] = "case"

    # Each phase's events are bound here so that they are redefined as ``Case.<Name>``: the
    # stable topic "case.<Name>" and the stored class path both come from that name.
    Received = CaseAcceptance.Received
    Refused = CaseAcceptance.Refused
    CorrectionNotified = CaseAcceptance.CorrectionNotified
    Corrected = CaseAcceptance.Corrected
    AcceptedWithTolerance = CaseAcceptance.AcceptedWithTolerance
    Supplemented = CaseAcceptance.Supplemented
    OpinionGiven = CaseReview.OpinionGiven
    Transferred = CaseReview.Transferred
    Suspended = CaseReview.Suspended
    Resumed = CaseReview.Resumed
    Extended = CaseReview.Extended
    Decided = CaseReview.Decided
    LicenseIssued = CaseResults.LicenseIssued
    Dispatched = CaseResults.Dispatched
    Delivered = CaseResults.Delivered
    PickedUpAtWindow = CaseResults.PickedUpAtWindow
    VisitRecorded = CaseResults.VisitRecorded
    Closed = CaseResults.Closed
    Withdrawn = CaseResults.Withdrawn
    Rated = CaseResults.Rated

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
        self._materials = dict(materials)
        self._status = CaseStatus.SUBMITTED
        self._receipt_number = None
        self._due = None
        self._pauses = []
        self._notice = None
        self._commitment = None
        self._opinions = {}
        self._transfers = []
        self._suspended_for = None
        self._extended = False
        self._decision = None
        self._license_ref = None
        self._visits = []
        self._rating = None
        self._shipment: tuple[str, str] | None = None
        self._count_visit(channel, at, "submission")
