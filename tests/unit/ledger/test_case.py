"""The Case aggregate: every run-at-most-once rule, each with its positive and negative case."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.actors import Actor, Channel, Role
from ledger.case import AdminLevel, Case, CaseStatus, HolderKind, SupplementVia, Visit
from ledger.catalog import ItemTerms, SpecialStep
from ledger.catalog_data import load_sample_catalog
from ledger.documents import DocumentRef, ELicenseRef, MaterialRef
from ledger.errors import (
    ActionNotPermitted,
    AlreadyExtended,
    AlreadyRated,
    ApprovalsMissing,
    CommitmentDueAfterDeadline,
    CommitmentOpen,
    DateInPast,
    DepartmentNotRequired,
    ELicenseMaterialDemanded,
    ELicenseNotAccepted,
    InvalidCommand,
    InvalidDueDate,
    InvalidTimestamp,
    LedgerError,
    MainMaterialMissing,
    MaterialNotCommitted,
    MaterialNotRequested,
    MaterialNotTolerable,
    MaterialsIncomplete,
    NothingToTolerate,
    OpinionAlreadyGiven,
    SecondNoticeRefused,
    StepNotDeclared,
    UnknownMaterial,
    WrongDepartment,
    WrongState,
)
from ledger.rules import courier_company
from ledger.transcodings import CBORTranscoder

# 2018-05-02 09:00 China time, a Wednesday; every command time is fixed, no clock is read.
T0 = datetime(2018, 5, 2, 1, 0, tzinfo=UTC)
TODAY = date(2018, 5, 2)
DUE = date(2018, 7, 13)

CATALOG = {terms.name: terms for terms in load_sample_catalog()}
PERMIT = CATALOG["建筑工程施工许可（工业建设项目并联审批）"]
FOOD = CATALOG["食品经营许可"]
REPLACEMENT = CATALOG["个体工商户营业执照遗失补领"]
INDIVIDUAL = CATALOG["个体工商户设立登记"]

APPLICANT = Actor("user.91512000MA62A0XC0Y", Role.APPLICANT)
COURIER = Actor("ems.ziyang", Role.COURIER)
ONLINE: dict[str, Any] = {"actor": APPLICANT, "channel": Channel.ONLINE}


def officer(department: str = "zjj", **kwargs: Any) -> Actor:
    return Actor(f"officer.{department}", Role.OFFICER, department, **kwargs)


def desk(department: str = "zjj") -> dict[str, Any]:
    """Keyword arguments of an officer acting at the window."""
    return {"actor": officer(department), "channel": Channel.WINDOW}


def at(days: int = 0, minutes: int = 0) -> datetime:
    return T0 + timedelta(days=days, minutes=minutes)


def doc(code: str) -> DocumentRef:
    return DocumentRef(hashlib.sha256(code.encode()).hexdigest(), 1024, "application/pdf")


def materials(terms: ItemTerms, *, without: tuple[str, ...] = ()) -> dict[str, MaterialRef]:
    return {m.code: doc(m.code) for m in terms.materials if m.code not in without}


def submit(
    terms: ItemTerms = PERMIT,
    supplied: Mapping[str, MaterialRef] | None = None,
    *,
    channel: Channel = Channel.ONLINE,
    actor: Actor = APPLICANT,
    submission_id: str = "web-2018-0001",
) -> Case:
    return Case.submit(
        submission_id=submission_id,
        item_code=terms.implementation_code,
        terms=terms.as_dict(),
        applicant="91512000MA62A0XC0Y",
        applicant_kind=HolderKind.ENTERPRISE,
        materials=materials(terms) if supplied is None else supplied,
        at=T0,
        actor=actor,
        channel=channel,
    )


def received(terms: ItemTerms = PERMIT) -> Case:
    case = submit(terms)
    case.receive(receipt_number="ZY-2018-0001", due=DUE, at=at(), **desk())
    return case


def tolerated(terms: ItemTerms = PERMIT) -> Case:
    """A permit case accepted with two tolerable materials committed."""
    case = submit(terms, materials(terms, without=("zjls", "zljd")))
    case.accept_with_tolerance(
        receipt_number="ZY-2018-0002",
        due=DUE,
        commitment="申请人承诺5月20日前补交",
        commitment_due=date(2018, 5, 20),
        at=at(),
        **desk(),
    )
    return case


def approve_all(case: Case, when: datetime) -> None:
    for department in case.terms.required_departments:
        case.give_opinion(department=department, approve=True, at=when, **desk(department))


def status(case: Case) -> CaseStatus:
    """Read the status afresh (a plain attribute read would stay narrowed for the type checker)."""
    return case.status


def pauses(case: Case) -> tuple[tuple[date, date | None], ...]:
    """Read the pauses afresh, as ``status`` does."""
    return case.pauses


def names(case: Case) -> list[str]:
    return [type(e).__name__ for e in case.collect_events()]


@contextmanager
def refused(case: Case, error: type[LedgerError], match: str) -> Iterator[None]:
    """Expect ``error`` (with ``match``) and that the case recorded nothing."""
    case.collect_events()
    version = case.version
    with pytest.raises(error, match=match):
        yield
    assert case.collect_events() == []
    assert case.version == version


# --- submission ---------------------------------------------------------------------------------


def test_submission_records_the_terms_snapshot_and_materials() -> None:
    case = submit()
    assert names(case) == ["Submitted"]
    assert case.status is CaseStatus.SUBMITTED
    assert case.terms == PERMIT and case.item_code == PERMIT.implementation_code
    assert case.applicant == ("91512000MA62A0XC0Y", HolderKind.ENTERPRISE)
    assert case.materials["sqb"] == doc("sqb")
    assert case.modified_on == T0


def test_submission_accepts_the_terms_as_a_value_or_as_plain_data() -> None:
    as_value = Case.submit(
        submission_id="web-2018-0001",
        item_code=PERMIT.implementation_code,
        terms=PERMIT,
        applicant="91512000MA62A0XC0Y",
        applicant_kind=HolderKind.ENTERPRISE,
        materials=materials(PERMIT),
        at=T0,
        **ONLINE,
    )
    assert as_value == submit()


def test_same_submission_id_maps_to_the_same_case() -> None:
    assert submit().id == submit().id == Case.create_id("web-2018-0001")
    assert submit(submission_id="web-2018-0002").id != submit().id


def test_window_submission_counts_a_visit_and_online_submission_does_not() -> None:
    assert submit(channel=Channel.WINDOW).visits == (Visit(T0, "submission"),)
    assert submit(channel=Channel.ONLINE).visits == ()


def test_submission_with_an_unknown_material_is_refused() -> None:
    with pytest.raises(UnknownMaterial, match="has no material 'photo', expected one of"):
        submit(supplied={"photo": doc("photo")})


def test_e_license_for_a_material_without_an_e_license_type_is_refused() -> None:
    with pytest.raises(ELicenseNotAccepted, match="'sqb' accepts no e-license"):
        submit(supplied={"sqb": ELicenseRef("GH-2018-0001")})


def test_e_license_reference_counts_as_a_supplied_material() -> None:
    supplied = materials(FOOD) | {"yyzz": ELicenseRef("91512000MA62A0XC0Y-yyzz")}
    case = submit(FOOD, supplied)
    case.receive(receipt_number="R-1", due=DUE, at=at(), **desk("scjgj"))
    assert case.status is CaseStatus.RECEIVED
    assert case.materials["yyzz"] == ELicenseRef("91512000MA62A0XC0Y-yyzz")


def test_submission_with_terms_of_another_item_is_refused() -> None:
    with pytest.raises(InvalidCommand, match="terms must be those of item X, got 1151"):
        Case.submit(
            submission_id="s",
            item_code="X",
            terms=PERMIT.as_dict(),
            applicant="a",
            applicant_kind=HolderKind.CITIZEN,
            materials={},
            at=T0,
            **ONLINE,
        )


def test_submission_with_terms_not_yet_in_force_is_refused() -> None:
    early = datetime(2018, 1, 1, tzinfo=UTC)
    with pytest.raises(InvalidCommand, match="in force from 2018-02-28 16:00:00"):
        Case.submit(
            submission_id="s",
            item_code=PERMIT.implementation_code,
            terms=PERMIT.as_dict(),
            applicant="a",
            applicant_kind=HolderKind.CITIZEN,
            materials={},
            at=early,
            **ONLINE,
        )


def test_submission_by_courier_channel_is_refused() -> None:
    with pytest.raises(InvalidCommand, match="submitted online or at a window, got 'courier'"):
        submit(channel=Channel.COURIER)


def test_submission_with_an_unknown_applicant_kind_is_refused() -> None:
    with pytest.raises(InvalidCommand, match="applicant kind must be one of"):
        Case.submit(
            submission_id="s",
            item_code=PERMIT.implementation_code,
            terms=PERMIT.as_dict(),
            applicant="a",
            applicant_kind="robot",  # type: ignore[arg-type]
            materials={},
            at=T0,
            **ONLINE,
        )


def test_submission_at_a_naive_time_is_refused() -> None:
    with pytest.raises(InvalidTimestamp, match="aware UTC datetime"):
        Case.submit(
            submission_id="s",
            item_code=PERMIT.implementation_code,
            terms=PERMIT.as_dict(),
            applicant="a",
            applicant_kind=HolderKind.CITIZEN,
            materials={},
            at=datetime(2018, 5, 2),
            **ONLINE,
        )


def test_submission_by_a_courier_is_not_permitted() -> None:
    with pytest.raises(ActionNotPermitted, match="role 'courier' may not submit a case"):
        submit(actor=COURIER)


# --- receipt (受理) and refusal (不予受理) ------------------------------------------------------


def test_receipt_with_every_material_starts_the_clock() -> None:
    case = received()
    assert names(case) == ["Submitted", "Received"]
    assert (case.status, case.receipt_number, case.due) == (
        CaseStatus.RECEIVED,
        "ZY-2018-0001",
        DUE,
    )
    assert case.pauses == ()


def test_receipt_with_a_missing_main_material_is_refused() -> None:
    case = submit(supplied=materials(PERMIT, without=("sght",)))
    with refused(case, MaterialsIncomplete, r"missing main \['sght'\] and secondary \[\]"):
        case.receive(receipt_number="R", due=DUE, at=at(), **desk())


def test_receipt_with_a_missing_secondary_material_is_refused() -> None:
    case = submit(supplied=materials(PERMIT, without=("zjls",)))
    with refused(case, MaterialsIncomplete, r"missing main \[\] and secondary \['zjls'\]"):
        case.receive(receipt_number="R", due=DUE, at=at(), **desk())


def test_receipt_due_in_the_past_is_refused() -> None:
    case = submit()
    with refused(case, DateInPast, "due date must be on or after 2018-05-02, got 2018-05-01"):
        case.receive(receipt_number="R", due=date(2018, 5, 1), at=at(), **desk())


def test_commitment_item_due_on_the_receipt_day_is_refused() -> None:
    case = submit()
    with refused(case, InvalidDueDate, r"commitment item \(50 promised days\) is due after"):
        case.receive(receipt_number="R", due=TODAY, at=at(), **desk())


def test_receipt_without_a_receipt_number_is_refused() -> None:
    case = submit()
    with refused(case, InvalidCommand, "receipt number must be non-empty text"):
        case.receive(receipt_number="", due=DUE, at=at(), **desk())


def test_receipt_by_an_applicant_is_not_permitted() -> None:
    case = submit()
    with refused(case, ActionNotPermitted, "role 'applicant' may not receive a case"):
        case.receive(receipt_number="R", due=DUE, at=at(), **ONLINE)


def test_receiving_twice_is_refused() -> None:
    case = received()
    with refused(case, WrongState, r"case is 'received', expected one of \['submitted'\]"):
        case.receive(receipt_number="R", due=DUE, at=at(), **desk())


def test_command_time_before_the_last_event_is_refused() -> None:
    case = submit()
    with refused(case, InvalidTimestamp, "must not precede the last event"):
        case.receive(receipt_number="R", due=DUE, at=at(minutes=-1), **desk())


def test_refusal_records_reasons_and_legal_basis() -> None:
    case = submit()
    case.refuse(
        reasons=["不属于本机关职权范围"], legal_basis="《行政许可法》第三十二条", at=at(), **desk()
    )
    assert names(case) == ["Submitted", "Refused"]
    assert case.status is CaseStatus.REFUSED


def test_refusal_without_reasons_is_refused() -> None:
    case = submit()
    with refused(case, InvalidCommand, "refusal reasons must list at least one reason"):
        case.refuse(reasons=[], legal_basis="《行政许可法》第三十二条", at=at(), **desk())


def test_refusal_without_legal_basis_is_refused() -> None:
    case = submit()
    with refused(case, InvalidCommand, "legal basis must be non-empty text"):
        case.refuse(reasons=["不属于本机关职权范围"], legal_basis=" ", at=at(), **desk())


def test_refusal_after_receipt_is_refused() -> None:
    case = received()
    with refused(case, WrongState, "case is 'received', expected one of"):
        case.refuse(reasons=["x"], legal_basis="y", at=at(), **desk())


# --- the one-time correction notice (一次性告知) -----------------------------------------------


def test_correction_notice_before_receipt_awaits_correction_without_pausing() -> None:
    case = submit()
    case.notify_correction(
        items={"sght": "合同未盖章"}, text="请补正：施工合同未盖章", at=at(), **desk()
    )
    assert names(case)[-1] == "CorrectionNotified"
    assert case.status is CaseStatus.AWAITING_CORRECTION
    assert (case.notice_count, case.notice_at, case.pauses) == (1, at(), ())


def test_second_correction_notice_is_refused() -> None:
    case = submit()
    case.notify_correction(items={"sght": "合同未盖章"}, text="请补正", at=at(), **desk())
    with refused(case, SecondNoticeRefused, "already had its one-time correction notice"):
        case.notify_correction(items={"stsc": "模糊"}, text="再次补正", at=at(1), **desk())
    with pytest.raises(SecondNoticeRefused) as info:
        case.notify_correction(items={"stsc": "模糊"}, text="再次补正", at=at(1), **desk())
    assert (info.value.case_id, info.value.first_notice_at) == (case.id, at())


def test_second_correction_notice_is_refused_even_after_the_correction() -> None:
    case = submit()
    case.notify_correction(items={"sght": "合同未盖章"}, text="请补正", at=at(), **desk())
    case.correct(materials={"sght": doc("sght2")}, at=at(1), **ONLINE)
    with refused(case, SecondNoticeRefused, "expected no further notice"):
        case.notify_correction(items={"stsc": "模糊"}, text="请补正", at=at(2), **desk())


def test_correction_notice_may_not_demand_a_material_satisfied_by_an_e_license() -> None:
    case = submit(supplied=materials(PERMIT) | {"ghxkz": ELicenseRef("GH-2018-0001")})
    with refused(case, ELicenseMaterialDemanded, "'ghxkz' is satisfied by e-license"):
        case.notify_correction(items={"ghxkz": "请提供复印件"}, text="请补正", at=at(), **desk())


def test_correction_notice_may_demand_a_missing_e_license_capable_material() -> None:
    case = submit(supplied=materials(PERMIT, without=("ghxkz",)))
    case.notify_correction(items={"ghxkz": "缺少规划许可证"}, text="请补正", at=at(), **desk())
    case.correct(materials={"ghxkz": ELicenseRef("GH-2018-0001")}, at=at(1), **ONLINE)
    assert case.status is CaseStatus.SUBMITTED


def test_correction_notice_for_an_unknown_material_is_refused() -> None:
    case = submit()
    with refused(case, UnknownMaterial, "has no material 'photo'"):
        case.notify_correction(items={"photo": "缺照片"}, text="请补正", at=at(), **desk())


def test_correction_notice_without_a_reason_is_refused() -> None:
    case = submit()
    with refused(case, InvalidCommand, "reason for 'sght' must be non-empty text"):
        case.notify_correction(items={"sght": ""}, text="请补正", at=at(), **desk())


def test_correction_notice_listing_nothing_is_refused() -> None:
    case = submit()
    with refused(case, InvalidCommand, "must list at least one material"):
        case.notify_correction(items={}, text="请补正", at=at(), **desk())


def test_correction_notice_after_receipt_pauses_the_clock_until_corrected() -> None:
    case = received()
    case.notify_correction(items={"stsc": "审查合格书已过期"}, text="请补正", at=at(3), **desk())
    assert case.status is CaseStatus.PAUSED_FOR_CORRECTION
    assert case.pauses == ((date(2018, 5, 5), None),)
    case.correct(materials={"stsc": doc("stsc2")}, due=date(2018, 7, 18), at=at(8), **ONLINE)
    assert status(case) is CaseStatus.RECEIVED
    assert pauses(case) == ((date(2018, 5, 5), date(2018, 5, 10)),)
    assert case.due == date(2018, 7, 18)
    assert case.materials["stsc"] == doc("stsc2")


def test_correction_of_a_material_not_in_the_notice_is_refused() -> None:
    case = submit()
    case.notify_correction(items={"sght": "合同未盖章"}, text="请补正", at=at(), **desk())
    with refused(case, MaterialNotRequested, r"materials of the notice \['sght'\], got \['sqb'\]"):
        case.correct(materials={"sqb": doc("sqb2")}, at=at(1), **ONLINE)


def test_correction_after_receipt_due_earlier_than_the_current_deadline_is_refused() -> None:
    case = received()
    case.notify_correction(items={"stsc": "过期"}, text="请补正", at=at(1), **desk())
    with refused(case, InvalidDueDate, "on or after the current 2018-07-13, got 2018-07-12"):
        case.correct(materials={"stsc": doc("x")}, due=date(2018, 7, 12), at=at(2), **ONLINE)


def test_correction_after_receipt_without_a_due_date_is_refused() -> None:
    case = received()
    case.notify_correction(items={"stsc": "过期"}, text="请补正", at=at(1), **desk())
    with refused(case, InvalidCommand, "due date must be a date, got None"):
        case.correct(materials={"stsc": doc("x")}, at=at(2), **ONLINE)


def test_correction_before_receipt_takes_no_due_date() -> None:
    case = submit()
    case.notify_correction(items={"sght": "合同未盖章"}, text="请补正", at=at(), **desk())
    with refused(case, InvalidCommand, "a case not yet received has no due date"):
        case.correct(materials={"sght": doc("x")}, due=DUE, at=at(1), **ONLINE)


def test_correction_at_the_window_counts_a_visit() -> None:
    case = submit()
    case.notify_correction(items={"sght": "合同未盖章"}, text="请补正", at=at(), **desk())
    case.correct(materials={"sght": doc("x")}, at=at(1), **desk())
    assert case.visits == (Visit(at(1), "correction"),)


def test_correction_without_a_notice_is_refused() -> None:
    case = submit()
    with refused(case, WrongState, "case is 'submitted', expected one of"):
        case.correct(materials={"sght": doc("x")}, at=at(1), **ONLINE)


# --- tolerance acceptance (容缺受理), commitments and supplements --------------------------------


def test_tolerance_acceptance_commits_the_missing_tolerable_materials() -> None:
    case = tolerated()
    assert names(case) == ["Submitted", "AcceptedWithTolerance"]
    assert case.status is CaseStatus.RECEIVED
    assert case.open_commitments == ("zjls", "zljd")
    assert case.commitment_due == date(2018, 5, 20)


def test_tolerance_is_refused_for_a_missing_main_material() -> None:
    case = submit(supplied=materials(PERMIT, without=("sght", "zjls")))
    with refused(case, MainMaterialMissing, r"every main material, .* got missing \['sght'\]"):
        case.accept_with_tolerance(
            receipt_number="R",
            due=DUE,
            commitment="承诺",
            commitment_due=date(2018, 5, 20),
            at=at(),
            **desk(),
        )


def test_tolerance_is_refused_for_a_missing_non_tolerable_secondary_material() -> None:
    case = submit(supplied=materials(PERMIT, without=("rfsj", "zjls")))
    with refused(case, MaterialNotTolerable, r"got non-tolerable \['rfsj'\]"):
        case.accept_with_tolerance(
            receipt_number="R",
            due=DUE,
            commitment="承诺",
            commitment_due=date(2018, 5, 20),
            at=at(),
            **desk(),
        )


def test_tolerance_is_refused_when_nothing_is_missing() -> None:
    case = submit()
    with refused(case, NothingToTolerate, "every material is present"):
        case.accept_with_tolerance(
            receipt_number="R",
            due=DUE,
            commitment="承诺",
            commitment_due=date(2018, 5, 20),
            at=at(),
            **desk(),
        )


def test_commitment_due_after_the_deadline_is_refused() -> None:
    case = submit(supplied=materials(PERMIT, without=("zjls",)))
    with refused(case, CommitmentDueAfterDeadline, "on or before the case deadline 2018-07-13"):
        case.accept_with_tolerance(
            receipt_number="R",
            due=DUE,
            commitment="承诺",
            commitment_due=date(2018, 7, 14),
            at=at(),
            **desk(),
        )


def test_commitment_due_on_the_deadline_is_accepted() -> None:
    case = submit(supplied=materials(PERMIT, without=("zjls",)))
    case.accept_with_tolerance(
        receipt_number="R", due=DUE, commitment="承诺", commitment_due=DUE, at=at(), **desk()
    )
    assert case.commitment_due == DUE


def test_commitment_due_in_the_past_is_refused() -> None:
    case = submit(supplied=materials(PERMIT, without=("zjls",)))
    with refused(case, DateInPast, "commitment due date must be on or after 2018-05-02"):
        case.accept_with_tolerance(
            receipt_number="R",
            due=DUE,
            commitment="承诺",
            commitment_due=date(2018, 5, 1),
            at=at(),
            **desk(),
        )


def test_tolerance_without_a_commitment_text_is_refused() -> None:
    case = submit(supplied=materials(PERMIT, without=("zjls",)))
    with refused(case, InvalidCommand, "commitment must be non-empty text"):
        case.accept_with_tolerance(
            receipt_number="R",
            due=DUE,
            commitment="",
            commitment_due=date(2018, 5, 20),
            at=at(),
            **desk(),
        )


def test_supplements_close_the_commitment_once_every_material_is_in() -> None:
    case = tolerated()
    case.supplement(materials={"zjls": doc("zjls")}, via=SupplementVia.EMAIL, at=at(1), **ONLINE)
    assert case.open_commitments == ("zljd",)
    case.supplement(materials={"zljd": doc("zljd")}, via=SupplementVia.FAX, at=at(2), **ONLINE)
    assert not case.open_commitments
    assert names(case)[-2:] == ["Supplemented", "Supplemented"]
    assert case.visits == ()


def test_supplement_of_a_material_not_committed_is_refused() -> None:
    case = tolerated()
    with refused(case, MaterialNotCommitted, r"open commitments \['zjls', 'zljd'\], got \['sqb'\]"):
        case.supplement(materials={"sqb": doc("x")}, via=SupplementVia.ONLINE, at=at(1), **ONLINE)


def test_supplement_of_an_unknown_material_is_refused() -> None:
    case = tolerated()
    with refused(case, UnknownMaterial, "has no material 'photo'"):
        case.supplement(materials={"photo": doc("x")}, via=SupplementVia.IM, at=at(1), **ONLINE)


def test_supplement_by_an_unknown_route_is_refused() -> None:
    case = tolerated()
    with refused(case, InvalidCommand, "supplement route must be one of"):
        case.supplement(materials={"zjls": doc("x")}, via="pigeon", at=at(1), **ONLINE)  # type: ignore[arg-type]


def test_commitment_is_overdue_after_its_due_date_while_open() -> None:
    case = tolerated()
    assert not case.commitment_overdue(date(2018, 5, 20))
    assert case.commitment_overdue(date(2018, 5, 21))
    case.supplement(
        materials={"zjls": doc("a"), "zljd": doc("b")},
        via=SupplementVia.ONLINE,
        at=at(1),
        **ONLINE,
    )
    assert not case.commitment_overdue(date(2018, 5, 21))


# --- parallel review (并联审批), transfers, suspension, extension, decision ----------------------


def test_joint_review_opinions_arrive_in_any_order() -> None:
    case = received()
    for department in reversed(PERMIT.required_departments):
        case.give_opinion(department=department, approve=True, at=at(1), **desk(department))
    assert set(case.opinions) == {"zjj", "zrzyghj", "xfjy", "rfb"}
    assert names(case)[-4:] == ["OpinionGiven"] * 4


@given(
    st.permutations(PERMIT.required_departments),
    st.lists(st.booleans(), min_size=4, max_size=4),
)
def test_grant_succeeds_in_any_review_order_exactly_when_every_department_approves(
    order: list[str], approvals: list[bool]
) -> None:
    case = received()
    for department, approve in zip(order, approvals, strict=True):
        reasons = [] if approve else ["不符合条件"]
        case.give_opinion(
            department=department, approve=approve, reasons=reasons, at=at(1), **desk(department)
        )
    if all(approvals):
        case.decide(grant=True, legal_basis="《建筑法》第八条", at=at(2), **desk())
        assert case.decision is not None and case.decision.grant
    else:
        with refused(case, ApprovalsMissing, "missing"):
            case.decide(grant=True, legal_basis="《建筑法》第八条", at=at(2), **desk())


def test_opinion_from_a_department_outside_the_required_set_is_refused() -> None:
    case = received()
    with refused(case, DepartmentNotRequired, "required departments .* got 'scjgj'"):
        case.give_opinion(department="scjgj", approve=True, at=at(1), **desk("scjgj"))


def test_second_opinion_from_the_same_department_is_refused() -> None:
    case = received()
    case.give_opinion(department="xfjy", approve=True, at=at(1), **desk("xfjy"))
    with refused(case, OpinionAlreadyGiven, "'xfjy' already gave its opinion"):
        case.give_opinion(department="xfjy", approve=False, reasons=["x"], at=at(1), **desk("xfjy"))


def test_opinion_by_an_officer_of_another_department_is_refused() -> None:
    case = received()
    with refused(case, WrongDepartment, "of 'rfb' is given by its own officer, got .* 'xfjy'"):
        case.give_opinion(department="rfb", approve=True, at=at(1), **desk("xfjy"))


def test_rejecting_opinion_needs_reasons() -> None:
    case = received()
    with refused(case, InvalidCommand, "rejection reasons must list at least one reason"):
        case.give_opinion(department="rfb", approve=False, at=at(1), **desk("rfb"))


def test_opinions_before_receipt_are_refused() -> None:
    case = submit()
    with refused(case, WrongState, r"case is 'submitted', expected one of \['received'\]"):
        case.give_opinion(department="rfb", approve=True, at=at(1), **desk("rfb"))


def test_grant_without_every_review_is_refused() -> None:
    case = received()
    case.give_opinion(department="zjj", approve=True, at=at(1), **desk("zjj"))
    with refused(case, ApprovalsMissing, r"missing \['zrzyghj', 'xfjy', 'rfb'\]"):
        case.decide(grant=True, legal_basis="《建筑法》第八条", at=at(2), **desk())


def test_grant_over_a_rejecting_opinion_is_refused() -> None:
    case = received()
    for department in PERMIT.required_departments:
        approve = department != "xfjy"
        reasons = [] if approve else ["消防设计不合格"]
        case.give_opinion(
            department=department, approve=approve, reasons=reasons, at=at(1), **desk(department)
        )
    with refused(case, ApprovalsMissing, r"missing \['xfjy'\]"):
        case.decide(grant=True, legal_basis="《建筑法》第八条", at=at(2), **desk())


def test_denial_needs_reasons_but_not_every_review() -> None:
    case = received()
    with refused(case, InvalidCommand, "denial reasons must list at least one reason"):
        case.decide(grant=False, legal_basis="《建筑法》第八条", at=at(2), **desk())
    case.decide(
        grant=False, reasons=["消防设计不合格"], legal_basis="《建筑法》第八条", at=at(2), **desk()
    )
    assert case.decision is not None and not case.decision.grant


def test_decision_while_suspended_is_refused() -> None:
    case = received()
    approve_all(case, at(1))
    case.suspend(step=SpecialStep.SITE_INSPECTION, reason="现场勘验", at=at(2), **desk())
    with refused(case, WrongState, r"case is 'suspended', expected one of \['received'\]"):
        case.decide(grant=True, legal_basis="《建筑法》第八条", at=at(3), **desk())


def test_decision_with_an_open_correction_is_refused() -> None:
    case = received()
    approve_all(case, at(1))
    case.notify_correction(items={"stsc": "过期"}, text="请补正", at=at(2), **desk())
    with refused(case, WrongState, "case is 'paused_for_correction'"):
        case.decide(grant=True, legal_basis="《建筑法》第八条", at=at(3), **desk())


def test_transfer_to_a_higher_level_keeps_the_materials_and_asks_nothing_of_the_applicant() -> None:
    case = received()
    held = case.materials
    case.transfer(
        to_level=AdminLevel.CITY,
        to_unit="资阳市住房和城乡建设局",
        opinion="县级初审同意，报市级审批",
        at=at(1),
        **desk(),
    )
    assert names(case)[-1] == "Transferred"
    [moved] = case.transfers
    assert (moved.from_department, moved.to_level, moved.opinion) == (
        "zjj",
        AdminLevel.CITY,
        "县级初审同意，报市级审批",
    )
    assert case.materials == held and case.status is CaseStatus.RECEIVED
    approve_all(case, at(2))
    case.decide(grant=True, legal_basis="《建筑法》第八条", at=at(3), **desk())
    assert case.visits == ()


def test_transfer_without_the_lower_levels_opinion_is_refused() -> None:
    case = received()
    with refused(case, InvalidCommand, "transfer opinion must be non-empty text"):
        case.transfer(to_level=AdminLevel.CITY, to_unit="市住建局", opinion="", at=at(1), **desk())


def test_transfer_to_the_unit_already_handling_the_case_is_refused() -> None:
    case = received()
    case.transfer(to_level=AdminLevel.CITY, to_unit="市住建局", opinion="同意", at=at(1), **desk())
    with refused(case, InvalidCommand, "already at '市住建局'"):
        case.transfer(
            to_level=AdminLevel.CITY, to_unit="市住建局", opinion="同意", at=at(1), **desk()
        )


def test_suspension_for_a_declared_special_step_pauses_the_clock() -> None:
    case = received()
    case.suspend(step=SpecialStep.EXPERT_REVIEW, reason="组织专家评审", at=at(5), **desk())
    assert (case.status, case.suspended_for) == (CaseStatus.SUSPENDED, SpecialStep.EXPERT_REVIEW)
    case.resume(due=date(2018, 7, 20), at=at(10), **desk())
    assert case.pauses == ((date(2018, 5, 7), date(2018, 5, 12)),)
    assert (case.status, case.due, case.suspended_for) == (
        CaseStatus.RECEIVED,
        date(2018, 7, 20),
        None,
    )
    assert names(case)[-2:] == ["Suspended", "Resumed"]


def test_pauses_are_china_local_dates() -> None:
    case = received()
    # 2018-05-02 17:30 UTC is already 2018-05-03 in China.
    late = datetime(2018, 5, 2, 17, 30, tzinfo=UTC)
    case.suspend(step=SpecialStep.SITE_INSPECTION, reason="现场勘验", at=late, **desk())
    assert case.pauses == ((date(2018, 5, 3), None),)


def test_suspension_while_suspended_is_refused() -> None:
    case = received()
    case.suspend(step=SpecialStep.SITE_INSPECTION, reason="现场勘验", at=at(1), **desk())
    with refused(case, WrongState, r"case is 'suspended', expected one of \['received'\]"):
        case.suspend(step=SpecialStep.EXPERT_REVIEW, reason="专家评审", at=at(2), **desk())


def test_suspension_for_an_undeclared_special_step_is_refused() -> None:
    case = received()
    with refused(case, StepNotDeclared, "declares special steps .* got 'hearing'"):
        case.suspend(step=SpecialStep.HEARING, reason="听证", at=at(1), **desk())


def test_resume_with_an_earlier_due_date_is_refused() -> None:
    case = received()
    case.suspend(step=SpecialStep.SITE_INSPECTION, reason="现场勘验", at=at(1), **desk())
    with refused(case, InvalidDueDate, "on or after the current 2018-07-13, got 2018-07-10"):
        case.resume(due=date(2018, 7, 10), at=at(2), **desk())


def test_resume_with_a_due_date_in_the_past_is_refused() -> None:
    case = received()
    case.suspend(step=SpecialStep.SITE_INSPECTION, reason="现场勘验", at=at(1), **desk())
    with refused(case, DateInPast, "due date must be on or after 2018-07-15"):
        case.resume(due=date(2018, 7, 14), at=at(74), **desk())


def test_resume_when_not_suspended_is_refused() -> None:
    case = received()
    with refused(case, WrongState, r"case is 'received', expected one of \['suspended'\]"):
        case.resume(due=DUE, at=at(1), **desk())


def test_extension_moves_the_deadline_later_once() -> None:
    case = received()
    case.extend(due=date(2018, 7, 27), reason="情况复杂", approver="局长 王某", at=at(1), **desk())
    assert case.due == date(2018, 7, 27)
    with refused(case, AlreadyExtended, "expected no extension yet"):
        case.extend(due=date(2018, 8, 3), reason="再延", approver="局长 王某", at=at(2), **desk())


def test_extension_to_the_same_or_an_earlier_date_is_refused() -> None:
    case = received()
    with refused(case, InvalidDueDate, "after the current 2018-07-13, got 2018-07-13"):
        case.extend(due=DUE, reason="情况复杂", approver="局长", at=at(1), **desk())


def test_extension_to_a_date_in_the_past_is_refused() -> None:
    case = received()
    with refused(case, DateInPast, "on or after 2018-08-01, got 2018-07-20"):
        case.extend(due=date(2018, 7, 20), reason="情况复杂", approver="局长", at=at(91), **desk())


def test_extension_without_an_approver_is_refused() -> None:
    case = received()
    with refused(case, InvalidCommand, "approver must be non-empty text"):
        case.extend(due=date(2018, 7, 27), reason="情况复杂", approver="", at=at(1), **desk())


# --- issuance, results, visits -------------------------------------------------------------------


def test_issuance_is_blocked_while_a_commitment_is_open() -> None:
    case = tolerated()
    approve_all(case, at(1))
    case.decide(grant=True, legal_basis="《建筑法》第八条", at=at(2), **desk())
    with refused(
        case, CommitmentOpen, r"while commitments are open: expected none, got \['zjls', 'zljd'\]"
    ):
        case.issue_license(license_ref="SGXK-2018-0001", at=at(3), **desk())
    with pytest.raises(CommitmentOpen) as info:
        case.issue_license(license_ref="SGXK-2018-0001", at=at(3), **desk())
    assert info.value.materials == ["zjls", "zljd"]


def test_issuance_after_a_denial_is_refused() -> None:
    case = received()
    case.decide(
        grant=False, reasons=["不符合条件"], legal_basis="《建筑法》第八条", at=at(1), **desk()
    )
    with refused(
        case, WrongState, r"case is 'decided: denied', expected one of \['decided: granted'\]"
    ):
        case.issue_license(license_ref="X", at=at(2), **desk())


def test_issuance_before_a_decision_is_refused() -> None:
    case = received()
    with refused(case, WrongState, r"case is 'received', expected one of \['decided'\]"):
        case.issue_license(license_ref="X", at=at(2), **desk())


def issued(terms: ItemTerms = PERMIT) -> Case:
    case = received(terms)
    approve_all(case, at(1))
    case.decide(grant=True, legal_basis="依法准予", at=at(2), **desk(terms.lead_department))
    case.issue_license(license_ref="LIC-0001", at=at(3), **desk(terms.lead_department))
    return case


def test_courier_delivery_is_not_a_visit() -> None:
    case = issued()
    case.dispatch(courier="EMS", tracking_number="1180012345678", at=at(3), **desk())
    case.deliver(
        signed_by="张三", report={"cose": "0a1b"}, at=at(5), actor=COURIER, channel=Channel.COURIER
    )
    assert names(case)[-2:] == ["Dispatched", "Delivered"]
    assert case.status is CaseStatus.DELIVERED and case.visits == ()


def test_window_pickup_counts_a_visit() -> None:
    case = issued()
    case.pick_up(at=at(4), **desk())
    assert names(case)[-1] == "PickedUpAtWindow"
    assert case.visits == (Visit(at(4), "pickup"),)


def test_pickup_outside_the_window_is_refused() -> None:
    case = issued()
    with refused(case, InvalidCommand, "pickup happens at the window, got channel 'online'"):
        case.pick_up(at=at(4), **ONLINE)


def test_delivery_reported_by_an_officer_is_not_permitted() -> None:
    case = issued()
    case.dispatch(courier="EMS", tracking_number="1180012345678", at=at(3), **desk())
    with refused(case, ActionNotPermitted, "role 'officer' may not report a delivery"):
        case.deliver(signed_by="张三", report={}, at=at(5), **desk())


def test_a_delivery_reported_by_another_courier_company_is_not_permitted() -> None:
    case = issued()
    case.dispatch(courier="EMS", tracking_number="1180012345678", at=at(3), **desk())
    sf = Actor("sf.wangwu", Role.COURIER)
    with refused(case, ActionNotPermitted, "dispatched by courier 'EMS'; 'sf.wangwu' is not"):
        case.deliver(signed_by="张三", report={}, at=at(5), actor=sf, channel=Channel.COURIER)


@pytest.mark.parametrize(
    ("name", "company"),
    [("EMS", "ems"), ("ems", "ems"), ("ems.ziyang", "ems"), ("sf-express.li.4", "sf-express")],
)
def test_a_courier_account_stands_for_its_company(name: str, company: str) -> None:
    assert courier_company(name) == company


def test_dispatch_before_issuance_is_refused() -> None:
    case = received()
    approve_all(case, at(1))
    case.decide(grant=True, legal_basis="依法准予", at=at(2), **desk())
    with refused(case, WrongState, r"case is 'decided', expected one of \['issued'\]"):
        case.dispatch(courier="EMS", tracking_number="1", at=at(3), **desk())


def test_denial_letter_may_be_dispatched_and_the_case_closed() -> None:
    case = received()
    case.decide(grant=False, reasons=["不符合条件"], legal_basis="依法不予许可", at=at(1), **desk())
    case.dispatch(courier="EMS", tracking_number="1180012345679", at=at(1), **desk())
    case.deliver(signed_by="张三", report={}, at=at(2), actor=COURIER, channel=Channel.COURIER)
    case.close(at=at(2), **desk())
    assert case.status is CaseStatus.CLOSED


def test_visits_above_the_target_are_extra_visits() -> None:
    case = submit(channel=Channel.WINDOW)
    assert case.extra_visits == 0
    case.record_visit(reason="咨询审批进度", at=at(1), **desk())
    assert case.extra_visits == 1 and len(case.visits) == 2
    assert names(case)[-1] == "VisitRecorded"


def test_zero_visit_item_counts_any_visit_as_extra() -> None:
    case = submit(INDIVIDUAL, channel=Channel.WINDOW)
    assert case.visit_target == 0 and case.extra_visits == 1


def test_visit_without_a_reason_is_refused() -> None:
    case = submit()
    with refused(case, InvalidCommand, "visit reason must be non-empty text"):
        case.record_visit(reason="", at=at(1), **desk())


# --- closing, withdrawal, rating, proxies ---------------------------------------------------------


def test_closing_before_the_result_is_out_is_refused() -> None:
    case = received()
    with refused(
        case, WrongState, r"case is 'received', expected one of \['issued', 'delivered'\]"
    ):
        case.close(at=at(1), **desk())


def test_closing_twice_is_refused() -> None:
    case = received()
    case.decide(grant=False, reasons=["不符合条件"], legal_basis="依法不予许可", at=at(1), **desk())
    case.close(at=at(1), **desk())
    with refused(
        case, WrongState, r"case is 'closed', expected one of \['issued', 'delivered', 'decided'\]"
    ):
        case.close(at=at(2), **desk())


def test_withdrawal_before_a_decision_ends_the_open_pause() -> None:
    case = received()
    case.suspend(step=SpecialStep.SITE_INSPECTION, reason="现场勘验", at=at(1), **desk())
    case.withdraw(reason="项目调整", at=at(3), **ONLINE)
    assert case.status is CaseStatus.WITHDRAWN
    assert case.pauses == ((date(2018, 5, 3), date(2018, 5, 5)),)


def test_withdrawal_after_a_decision_is_refused() -> None:
    case = issued()
    with refused(case, WrongState, "case is 'issued', expected one of"):
        case.withdraw(reason="不要了", at=at(4), **ONLINE)


def test_withdrawal_by_an_officer_who_is_not_a_proxy_is_not_permitted() -> None:
    case = submit()
    with refused(case, ActionNotPermitted, "role 'officer' may not withdraw a case"):
        case.withdraw(reason="不要了", at=at(1), **desk())


def test_rating_is_given_once_and_only_after_closing() -> None:
    case = issued()
    with refused(case, WrongState, r"case is 'issued', expected one of \['closed'\]"):
        case.rate(stars=5, at=at(4), **ONLINE)
    case.close(at=at(4), **desk())
    case.rate(stars=5, comment="一次办好", at=at(5), **ONLINE)
    assert case.rating == 5
    with refused(case, AlreadyRated, "rated 5 stars, expected no rating yet"):
        case.rate(stars=1, at=at(6), **ONLINE)


@pytest.mark.parametrize("stars", [0, 6, True])
def test_rating_outside_one_to_five_stars_is_refused(stars: int) -> None:
    case = issued()
    case.close(at=at(4), **desk())
    with refused(case, InvalidCommand, "stars must be an int from 1 to 5"):
        case.rate(stars=stars, at=at(5), **ONLINE)


def test_rating_by_an_officer_is_not_permitted() -> None:
    case = issued()
    case.close(at=at(4), **desk())
    with refused(case, ActionNotPermitted, "role 'officer' may not rate a case"):
        case.rate(stars=5, at=at(5), **desk())


def test_proxy_actor_is_kept_on_the_events() -> None:
    proxy = officer("zwzx", on_behalf_of="91512000MA62A0XC0Y")
    case = submit(actor=proxy, channel=Channel.WINDOW)
    case.withdraw(reason="代办人代为撤回", at=at(1), actor=proxy, channel=Channel.WINDOW)
    events = case.collect_events()
    assert [e.actor for e in events] == [proxy, proxy]  # type: ignore[attr-defined]
    assert events[1].actor.on_behalf_of == "91512000MA62A0XC0Y"  # type: ignore[attr-defined]


# --- immediate items (即办件) --------------------------------------------------------------------


def test_immediate_item_is_received_decided_and_picked_up_on_the_spot() -> None:
    case = submit(REPLACEMENT, channel=Channel.WINDOW)
    case.receive(receipt_number="JB-0001", due=TODAY, at=at(minutes=5), **desk("scjgj"))
    case.give_opinion(department="scjgj", approve=True, at=at(minutes=10), **desk("scjgj"))
    case.decide(grant=True, legal_basis="依法补领", at=at(minutes=10), **desk("scjgj"))
    case.issue_license(license_ref="YYZZ-0001", at=at(minutes=15), **desk("scjgj"))
    case.pick_up(at=at(minutes=20), **desk("scjgj"))
    case.close(at=at(minutes=20), **desk("scjgj"))
    assert case.due == TODAY and case.status is CaseStatus.CLOSED
    assert [v.reason for v in case.visits] == ["submission", "pickup"]
    assert case.extra_visits == 1  # target 1: the pickup was a second trip to the window


def test_immediate_item_due_on_a_later_day_is_refused() -> None:
    case = submit(REPLACEMENT, channel=Channel.WINDOW)
    with refused(case, InvalidDueDate, "immediate item is due on the receipt day 2018-05-02"):
        case.receive(receipt_number="JB-0001", due=date(2018, 5, 3), at=at(), **desk("scjgj"))


# --- the whole run and its replay ----------------------------------------------------------------


def run_permit_with_tolerance() -> Case:
    """The headline joint-review permit, from tolerance acceptance to rating."""
    case = tolerated()
    case.give_opinion(department="xfjy", approve=True, at=at(3), **desk("xfjy"))
    case.suspend(step=SpecialStep.SITE_INSPECTION, reason="现场勘验", at=at(4), **desk())
    case.resume(due=date(2018, 7, 17), at=at(6), **desk())
    case.supplement(materials={"zjls": doc("zjls")}, via=SupplementVia.EMAIL, at=at(7), **ONLINE)
    case.give_opinion(department="rfb", approve=True, at=at(8), **desk("rfb"))
    case.give_opinion(department="zrzyghj", approve=True, at=at(9), **desk("zrzyghj"))
    case.give_opinion(department="zjj", approve=True, reasons=["符合条件"], at=at(9), **desk())
    case.decide(
        grant=True, reasons=["四部门审查同意"], legal_basis="《建筑法》第八条", at=at(10), **desk()
    )
    case.supplement(materials={"zljd": doc("zljd")}, via=SupplementVia.IM, at=at(11), **ONLINE)
    case.issue_license(license_ref="SGXK-512000-2018-0001", at=at(12), **desk())
    case.dispatch(courier="EMS", tracking_number="1180012345678", at=at(12), **desk())
    case.deliver(
        signed_by="李四",
        report={"cose": "d28443a10127a0", "signed_at": "2018-05-15"},
        at=at(13),
        actor=COURIER,
        channel=Channel.COURIER,
    )
    case.close(at=at(13), **desk())
    case.rate(stars=5, comment="不用跑腿", at=at(14), **ONLINE)
    return case


def test_joint_construction_permit_runs_from_tolerance_to_rating() -> None:
    case = run_permit_with_tolerance()
    assert names(case) == [
        "Submitted",
        "AcceptedWithTolerance",
        "OpinionGiven",
        "Suspended",
        "Resumed",
        "Supplemented",
        "OpinionGiven",
        "OpinionGiven",
        "OpinionGiven",
        "Decided",
        "Supplemented",
        "LicenseIssued",
        "Dispatched",
        "Delivered",
        "Closed",
        "Rated",
    ]
    assert case.status is CaseStatus.CLOSED and case.rating == 5
    assert case.license_ref == "SGXK-512000-2018-0001"
    assert case.open_commitments == () and case.visits == () and case.extra_visits == 0
    assert case.pauses == ((date(2018, 5, 6), date(2018, 5, 8)),)
    assert case.due == date(2018, 7, 17)
    assert case.decision is not None and case.decision.grant
    assert case.version == 16


def stored_and_read_back(event: Any) -> Any:
    """Write an event's data as the signed store does (CBOR, actor as a map) and read it back."""
    state = dict(vars(event))
    state.pop("timestamp")
    state["actor"] = state["actor"].as_dict()
    state["channel"] = str(state["channel"])
    transcoder = CBORTranscoder()
    data = transcoder.decode(transcoder.encode(state))
    data["actor"] = Actor.from_dict(data["actor"])
    data["channel"] = Channel(data["channel"])
    data["timestamp"] = data["at"]
    copy = object.__new__(type(event))
    object.__setattr__(copy, "__dict__", data)
    return copy


def test_replaying_stored_events_rebuilds_an_equal_case() -> None:
    case = run_permit_with_tolerance()
    events = case.collect_events()
    replayed: Case | None = None
    for domain_event in events:
        replayed = stored_and_read_back(domain_event).mutate(replayed)
    assert replayed == case
    assert replayed is not None and replayed.pauses == case.pauses and replayed.terms == PERMIT


def test_replaying_every_other_event_kind_rebuilds_an_equal_case() -> None:
    case = received()
    case.notify_correction(items={"stsc": "过期"}, text="请补正", at=at(1), **desk())
    case.correct(materials={"stsc": doc("x")}, due=date(2018, 7, 16), at=at(2), **desk())
    case.transfer(to_level=AdminLevel.CITY, to_unit="市住建局", opinion="同意", at=at(3), **desk())
    case.extend(due=date(2018, 7, 27), reason="情况复杂", approver="局长", at=at(3), **desk())
    case.record_visit(reason="咨询", at=at(4), **desk())
    case.decide(grant=False, reasons=["不符合条件"], legal_basis="依法", at=at(5), **desk())
    case.pick_up(at=at(6), **desk())
    refused_case = submit(submission_id="web-2018-0009")
    refused_case.refuse(reasons=["不属于本机关"], legal_basis="依法", at=at(), **desk())
    withdrawn = submit(submission_id="web-2018-0010")
    withdrawn.withdraw(reason="撤回", at=at(), **desk() | {"actor": APPLICANT})
    for original in (case, refused_case, withdrawn):
        replayed: Case | None = None
        for domain_event in original.collect_events():
            replayed = stored_and_read_back(domain_event).mutate(replayed)
        assert replayed == original


def test_every_event_carries_at_actor_and_channel() -> None:
    case = run_permit_with_tolerance()
    for domain_event in case.collect_events():
        fields = vars(domain_event)
        assert fields["at"] == fields["timestamp"]
        assert isinstance(fields["actor"], Actor) and isinstance(fields["channel"], Channel)
