"""The application service: a case from submission to rating, deadlines, and the commands it
refuses; running commands (command ids, versions, departments) is test_execution's."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ledger.actors import Actor, Channel, Role
from ledger.application import CaseLedger
from ledger.case import CaseStatus
from ledger.commands import Command
from ledger.errors import (
    CommitmentOpen,
    DuplicateSubmission,
    InvalidApplicant,
    InvalidCommand,
    SecondNoticeRefused,
    UnknownItem,
    WrongState,
)
from ledger.findings import RefusedAttempt
from tests.scenarios import (
    BUSINESS,
    COMPANY,
    DESK,
    Clock,
    doc,
    finish_by_courier,
    officer,
    permit_materials,
    play_permit_until_decision,
    supplement_all,
)
from tests.unit.ledger.conftest import PERMIT_ITEM, T0, event_count, online


def test_a_joint_review_permit_runs_from_submission_to_rating(ledger: CaseLedger) -> None:
    clock = Clock(T0)
    story = play_permit_until_decision(ledger, clock, "permit-1")
    with pytest.raises(CommitmentOpen, match=r"\['zjls', 'aqxk', 'zljd'\]"):
        ledger.issue_license(story.case_id, Command(at=clock.tick(), actor=officer("zjj")))
    supplement_all(ledger, clock, story.case_id)
    issued = finish_by_courier(ledger, clock, story.case_id)
    case = ledger.case(story.case_id)
    assert case.status is CaseStatus.CLOSED
    assert case.visits == ()  # online submission and courier delivery: zero visits
    assert case.license_ref == issued.license_id
    assert issued.qr_text.startswith("EL1:")
    assert case.rating == 5


def test_receipt_deadline_counts_working_days_from_the_day_after(ledger: CaseLedger) -> None:
    clock = Clock(T0)  # Monday 2 March 2026
    case_id = ledger.submit(
        online(clock),
        submission_id="biz-1",
        item_code=BUSINESS,
        applicant_id=COMPANY,
        materials={c: doc(c) for c in ("sqs", "zc", "rzwj", "zszm", "wtsh")},
    )
    due = ledger.receive(case_id, Command(at=clock.tick(), actor=DESK, channel=Channel.WINDOW))
    assert due == date(2026, 3, 5)  # Tue, Wed, Thu: three working days
    assert ledger.case(case_id).receipt_number == f"SL20260302{case_id.hex[:8].upper()}"


def test_resuming_after_a_special_step_moves_the_deadline_by_the_paused_working_days(
    ledger: CaseLedger,
) -> None:
    clock = Clock(T0)
    story = play_permit_until_decision(ledger, clock, "permit-2")
    # The site inspection was suspended and resumed two days later: the working days the
    # clock stood still are added to the deadline computed at acceptance.
    # Suspended Monday 2 March, resumed Wednesday 4 March: Monday and Tuesday did not count.
    unpaused = ledger.calendar.add_working_days(date(2026, 3, 2), 50).due
    assert unpaused is not None
    assert story.due == ledger.calendar.add_working_days(unpaused, 2).due
    assert ledger.case(story.case_id).pauses == ((date(2026, 3, 2), date(2026, 3, 4)),)


def test_an_invalid_applicant_id_is_refused_and_nothing_is_stored(ledger: CaseLedger) -> None:
    before = event_count(ledger)
    broken = COMPANY[:-1] + ("0" if COMPANY[-1] != "0" else "1")
    with pytest.raises(InvalidApplicant, match="check character"):
        ledger.submit(
            online(Clock(T0)),
            submission_id="x",
            item_code=BUSINESS,
            applicant_id=broken,
            materials={},
        )
    assert event_count(ledger) == before


def test_an_unknown_item_code_is_refused_and_nothing_is_stored(ledger: CaseLedger) -> None:
    before = event_count(ledger)
    with pytest.raises(UnknownItem, match="no service item with implementation code 'NOPE'"):
        ledger.submit(
            online(Clock(T0)),
            submission_id="x",
            item_code="NOPE",
            applicant_id=COMPANY,
            materials={},
        )
    assert event_count(ledger) == before


def test_the_same_submission_twice_without_a_command_id_is_a_duplicate(ledger: CaseLedger) -> None:
    clock = Clock(T0)
    ledger.submit(
        online(clock),
        submission_id="dup",
        item_code=PERMIT_ITEM,
        applicant_id=COMPANY,
        materials=permit_materials(),
    )
    before = event_count(ledger)
    with pytest.raises(DuplicateSubmission, match="submission 'dup' was already made"):
        ledger.submit(
            online(clock),
            submission_id="dup",
            item_code=PERMIT_ITEM,
            applicant_id=COMPANY,
            materials=permit_materials(),
        )
    assert event_count(ledger) == before


def test_a_second_correction_notice_is_refused_and_recorded_for_auditors(
    ledger: CaseLedger,
) -> None:
    clock = Clock(T0)
    case_id = ledger.submit(
        online(clock),
        submission_id="notice",
        item_code=BUSINESS,
        applicant_id=COMPANY,
        materials={"sqs": doc("form")},
    )
    desk = Command(at=clock.tick(), actor=DESK, channel=Channel.WINDOW)
    ledger.notify_correction(case_id, desk, items={"zc": "缺少公司章程"}, text="请补正以下材料")
    version = ledger.case(case_id).version
    notices_before = event_count(ledger)
    with pytest.raises(SecondNoticeRefused, match="one-time"):
        ledger.notify_correction(
            case_id,
            Command(at=clock.tick(), actor=DESK, channel=Channel.WINDOW),
            items={"rzwj": "缺少任职文件"},
            text="再次补正",
        )
    assert ledger.case(case_id).version == version
    assert event_count(ledger) == notices_before + 1
    last = next(iter(ledger.notification_log.select(start=notices_before + 1, limit=1)))
    assert last.topic == "finding.AttemptRefused"
    assert isinstance(ledger.repository.get(last.originator_id), RefusedAttempt)


def test_resuming_a_case_whose_clock_runs_is_a_wrong_state(ledger: CaseLedger) -> None:
    clock = Clock(T0)
    case_id = ledger.submit(
        online(clock),
        submission_id="resume",
        item_code=PERMIT_ITEM,
        applicant_id=COMPANY,
        materials=permit_materials(),
    )
    ledger.accept_with_tolerance(
        case_id,
        Command(at=clock.tick(), actor=DESK, channel=Channel.WINDOW),
        commitment="承诺",
        commitment_due=T0.date() + timedelta(days=5),
    )
    version = ledger.case(case_id).version
    with pytest.raises(WrongState, match="expected one of"):
        ledger.resume(case_id, Command(at=clock.tick(), actor=officer("zjj")))
    assert ledger.case(case_id).version == version


def test_a_delivery_report_for_another_parcel_is_refused(ledger: CaseLedger) -> None:
    clock = Clock(T0)
    story = play_permit_until_decision(ledger, clock, "parcel")
    supplement_all(ledger, clock, story.case_id)
    ledger.issue_license(story.case_id, Command(at=clock.tick(), actor=officer("zjj")))
    ledger.dispatch(
        story.case_id,
        Command(at=clock.tick(), actor=DESK, channel=Channel.WINDOW),
        courier="ems",
        tracking_number="EA1CN",
    )
    courier = Actor("ems", Role.COURIER)
    with pytest.raises(InvalidCommand, match="dispatched 'EA1CN', got 'EA2CN'"):
        ledger.deliver(
            story.case_id,
            Command(at=clock.tick(), actor=courier, channel=Channel.COURIER),
            signed_by="张三",
            report={"tracking_number": "EA2CN"},
        )
    assert ledger.case(story.case_id).status is CaseStatus.DISPATCHED
