"""The case board: one row per case from real signed events, department queues, the clock."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.actors import Channel
from ledger.calendar import Pause
from ledger.case import CaseStatus
from ledger.catalog import SpecialStep
from ledger.commands import Command
from projections.case_board import Action, working_day_clock
from projections.case_facts import ClockUnavailable, applicant_digest
from tests.scenarios import (
    APPLICANT,
    BUSINESS,
    COMPANY,
    DESK,
    PERMIT,
    Clock,
    finish_by_courier,
    officer,
    permit_materials,
    play_permit_until_decision,
    supplement_all,
)
from tests.unit.ledger.conftest import T0
from tests.unit.projections.ledger_views import Desk, Views, local_day, open_views

JOINT = ("zrzyghj", "xfjy", "rfb")


@pytest.fixture
def views() -> Views:
    return open_views()


def test_the_permit_story_leaves_one_board_row_with_the_cases_facts(views: Views) -> None:
    story = play_permit_until_decision(views.ledger, Clock(T0), "permit-1")
    views.run()
    row = views.board.case(views.database, story.case_id)
    assert row is not None
    case = views.ledger.case(story.case_id)
    assert (row.item_code, row.lead_department) == (PERMIT, "zjj")
    assert row.item_name == case.terms.name
    assert row.required_departments == ("zjj", *JOINT)
    assert row.status is CaseStatus.DECIDED
    assert (row.due, row.receipt_number) == (story.due, case.receipt_number)
    assert row.pauses == tuple(Pause(start, end) for start, end in case.pauses)
    assert row.open_commitments == case.open_commitments == ("zjls", "aqxk", "zljd")
    assert row.commitment_due == case.commitment_due
    assert (row.visits, row.visit_target) == (0, 1)
    assert (row.version, row.last_event_at) == (case.version, case.modified_on)
    assert views.board.opinions(views.database, story.case_id) == dict.fromkeys(
        ("zjj", *JOINT), True
    )


def test_the_board_keeps_the_holder_id_only_as_a_keyed_digest_and_masked(views: Views) -> None:
    story = play_permit_until_decision(views.ledger, Clock(T0), "permit-1")
    views.run()
    row = views.board.case(views.database, story.case_id)
    assert row is not None
    assert row.applicant_digest == applicant_digest(COMPANY) != COMPANY
    assert row.applicant_masked == COMPANY[:6] + "*" * 11 + COMPANY[-1]
    with views.database.transaction(write=False) as cursor:
        cursor.execute("SELECT * FROM case_board")
        stored = repr(cursor.fetchall())
    assert COMPANY not in stored
    assert [c.case_id for c in views.board.applicant_cases(views.database, COMPANY)] == [
        story.case_id
    ]
    assert views.board.applicant_cases(views.database, "91512000MA62A0XC00") == []


def test_each_required_department_queues_the_case_until_it_gives_its_opinion(
    views: Views,
) -> None:
    clock = Clock(T0)
    case_id = views.ledger.submit(
        Command(at=clock.tick(), actor=APPLICANT, channel=Channel.ONLINE),
        submission_id="permit-q",
        item_code=PERMIT,
        applicant_id=COMPANY,
        materials=permit_materials(),
    )
    views.ledger.accept_with_tolerance(
        case_id,
        Command(at=clock.tick(), actor=DESK, channel=Channel.WINDOW),
        commitment="十日内补齐",
        commitment_due=date(2026, 3, 12),
    )
    views.run()
    today = date(2026, 3, 3)
    for department in ("zjj", *JOINT):
        [entry] = views.board.queue(views.database, department, today=today)
        assert (entry.case.case_id, entry.action) == (case_id, Action.OPINION)
        assert entry.lead is (department == "zjj")
    assert views.board.queue(views.database, "zwfwzx", today=today) == []
    for department in JOINT:
        views.ledger.give_opinion(
            case_id, Command(at=clock.tick(), actor=officer(department)), approve=True
        )
        views.run()
        assert views.board.queue(views.database, department, today=today) == []
    [lead] = views.board.queue(views.database, "zjj", today=today)
    assert lead.action is Action.OPINION
    views.ledger.give_opinion(case_id, Command(at=clock.tick(), actor=officer("zjj")), approve=True)
    views.run()
    [lead] = views.board.queue(views.database, "zjj", today=today)
    assert lead.action is Action.DECIDE


def test_the_lead_queue_follows_suspension_decision_and_closing(views: Views) -> None:
    clock = Clock(T0)
    story = play_permit_until_decision(views.ledger, clock, "permit-1")
    views.run()
    [entry] = views.board.queue(views.database, "zjj", today=date(2026, 3, 20))
    assert (entry.action, entry.clock) == (Action.ISSUE, None)
    supplement_all(views.ledger, clock, story.case_id)
    finish_by_courier(views.ledger, clock, story.case_id)
    views.run()
    assert views.board.queue(views.database, "zjj", today=date(2026, 3, 20)) == []
    row = views.board.case(views.database, story.case_id)
    assert row is not None
    assert (row.status, row.open_commitments, row.stars) == (CaseStatus.CLOSED, (), 5)


def test_a_suspended_case_asks_the_lead_to_resume_and_its_clock_stands_still(
    views: Views,
) -> None:
    case_id = views.ledger.submit(
        Command(at=local_day(2), actor=APPLICANT, channel=Channel.ONLINE),
        submission_id="permit-s",
        item_code=PERMIT,
        applicant_id=COMPANY,
        materials=permit_materials(),
    )
    due = views.ledger.accept_with_tolerance(
        case_id,
        Command(at=local_day(2, 10), actor=DESK, channel=Channel.WINDOW),
        commitment="十日内补齐",
        commitment_due=date(2026, 3, 12),
    )
    views.ledger.suspend(
        case_id,
        Command(at=local_day(4), actor=officer("zjj")),
        step=SpecialStep.EXPERT_REVIEW,
        reason="专家评审",
    )
    views.run()
    [entry] = views.board.queue(views.database, "zjj", today=date(2026, 6, 30))
    assert entry.action is Action.RESUME
    assert entry.clock is not None
    assert (entry.clock.paused, entry.clock.as_of, entry.clock.due) == (True, date(2026, 3, 4), due)
    assert entry.clock.working_days_left == views.ledger.calendar.working_days_between(
        date(2026, 3, 4), due
    )
    assert not entry.clock.overdue


def test_the_clock_counts_working_days_left_and_overdue_from_today(views: Views) -> None:
    desk = Desk(views.ledger)
    case_id = desk.submit(BUSINESS, local_day(2))
    due = desk.receive(case_id, local_day(2, 10))
    views.run()
    assert due == date(2026, 3, 5)  # Thursday
    row = views.board.case(views.database, case_id)
    assert row is not None
    calendar = views.ledger.calendar
    monday = working_day_clock(calendar, row, date(2026, 3, 2))
    assert monday is not None
    assert (monday.working_days_left, monday.overdue_by, monday.overdue) == (3, 0, False)
    on_due = working_day_clock(calendar, row, due)
    assert on_due is not None and (on_due.working_days_left, on_due.overdue) == (0, False)
    saturday = working_day_clock(calendar, row, date(2026, 3, 7))
    assert saturday is not None
    assert (saturday.overdue_by, saturday.overdue) == (1, True)  # Friday only
    tuesday = working_day_clock(calendar, row, date(2026, 3, 10))
    assert tuesday is not None and tuesday.overdue_by == 3


def test_a_clock_in_a_year_without_holiday_data_is_refused(views: Views) -> None:
    desk = Desk(views.ledger)
    case_id = desk.submit(BUSINESS, local_day(2))
    desk.receive(case_id, local_day(2, 10))
    views.run()
    row = views.board.case(views.database, case_id)
    assert row is not None
    with pytest.raises(ClockUnavailable, match="no holiday notice loaded for 2027"):
        working_day_clock(views.ledger.calendar, row, date(2031, 1, 6))


def test_a_decided_or_withdrawn_case_has_no_running_clock(views: Views) -> None:
    desk = Desk(views.ledger)
    decided = desk.submit(BUSINESS, local_day(2))
    desk.receive(decided, local_day(2, 10))
    desk.grant(decided, local_day(3))
    withdrawn = desk.submit(BUSINESS, local_day(2))
    desk.receive(withdrawn, local_day(2, 10))
    views.ledger.withdraw(
        withdrawn,
        Command(at=local_day(3), actor=APPLICANT, channel=Channel.ONLINE),
        reason="不再需要",
    )
    views.run()
    for case_id in (decided, withdrawn):
        row = views.board.case(views.database, case_id)
        assert row is not None
        assert working_day_clock(views.ledger.calendar, row, date(2026, 3, 20)) is None
    assert views.board.queue(views.database, "scjgj", today=date(2026, 3, 20))[0].action is (
        Action.ISSUE
    )


def test_a_queue_lists_the_soonest_due_case_first(views: Views) -> None:
    desk = Desk(views.ledger)
    later = desk.submit(BUSINESS, local_day(3))
    desk.receive(later, local_day(3, 10))
    sooner = desk.submit(BUSINESS, local_day(2))
    desk.receive(sooner, local_day(2, 10))
    views.run()
    queue = views.board.queue(views.database, "scjgj", today=date(2026, 3, 2))
    assert [e.case.case_id for e in queue] == [sooner, later]
    assert [e.clock.working_days_left for e in queue if e.clock] == [3, 4]


def test_the_service_centre_queues_submitted_cases_to_receive_and_issued_ones_to_send(
    views: Views,
) -> None:
    clock = Clock(T0)
    story = play_permit_until_decision(views.ledger, clock, "permit-1")
    supplement_all(views.ledger, clock, story.case_id)
    views.ledger.issue_license(story.case_id, Command(at=clock.tick(), actor=officer("zjj")))
    waiting = views.ledger.submit(
        Command(at=clock.tick(), actor=APPLICANT, channel=Channel.ONLINE),
        submission_id="permit-w",
        item_code=PERMIT,
        applicant_id=COMPANY,
        materials=permit_materials(),
    )
    views.run()
    today = date(2026, 3, 20)
    window = views.board.queue(views.database, "zwfwzx", today=today)
    assert [(e.case.case_id, e.action, e.clock) for e in window] == [
        (waiting, Action.RECEIVE, None),
        (story.case_id, Action.DISPATCH, None),
    ]
    for department in ("zjj", *JOINT):  # the window's work is on no department's desk
        assert waiting not in {
            e.case.case_id for e in views.board.queue(views.database, department, today=today)
        }
    views.ledger.accept_with_tolerance(
        waiting,
        Command(at=clock.tick(), actor=DESK, channel=Channel.WINDOW),
        commitment="十日内补齐",
        commitment_due=date(2026, 4, 30),
    )
    views.ledger.dispatch(
        story.case_id,
        Command(at=clock.tick(), actor=DESK, channel=Channel.WINDOW),
        courier="ems",
        tracking_number="EA123456789CN",
    )
    views.run()
    assert views.board.queue(views.database, "zwfwzx", today=today) == []
