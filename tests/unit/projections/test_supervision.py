"""Supervision findings from real signed events: overdue cases and commitments as of a day, refused
second notices, visits above the item's target."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.actors import Channel
from ledger.catalog import SpecialStep
from ledger.commands import Command
from ledger.errors import SecondNoticeRefused
from projections.case_facts import ClockUnavailable
from projections.supervision import Evidence, FindingKind
from tests.scenarios import (
    APPLICANT,
    BUSINESS,
    Clock,
    finish_by_courier,
    officer,
    play_permit_until_decision,
    supplement_all,
)
from tests.unit.ledger.conftest import T0
from tests.unit.projections.ledger_views import (
    REAL_ESTATE,
    SOLE_TRADER,
    Desk,
    Views,
    local_day,
    open_views,
)


@pytest.fixture
def views() -> Views:
    return open_views()


def kinds(views: Views, today: date) -> list[FindingKind]:
    return [f.kind for f in views.supervision.findings(views.database, today=today)]


def test_a_refused_second_notice_becomes_a_finding_naming_the_officer_and_the_attempt(
    views: Views,
) -> None:
    desk = Desk(views.ledger)
    case_id = desk.submit(BUSINESS, local_day(2))
    desk.notify(case_id, local_day(2, 10))
    second = officer("scjgj", "officer-li")
    with pytest.raises(SecondNoticeRefused, match="one-time"):
        desk.notify(case_id, local_day(2, 11), actor=second)
    views.run()
    [finding] = views.supervision.findings(views.database, today=date(2026, 3, 2))
    assert finding.kind is FindingKind.SECOND_NOTICE
    assert (finding.case_id, finding.department, finding.item_code) == (case_id, "scjgj", BUSINESS)
    assert finding.evidence.seq == 1 and finding.evidence.stream != case_id
    assert finding.evidence.at == local_day(2, 11)
    assert finding.detail.startswith("officer-li broke rule one-time-notice")


def test_visits_above_the_items_target_become_a_finding_with_the_first_extra_visit(
    views: Views,
) -> None:
    desk = Desk(views.ledger)
    zero_visit = desk.submit(SOLE_TRADER, local_day(2), window=True)  # target 0: already over
    desk.submit(BUSINESS, local_day(2), window=True)  # target 1: one visit is no finding
    desk.visit(zero_visit, local_day(3))
    views.run()
    [finding] = views.supervision.findings(views.database, today=date(2026, 3, 3))
    assert (finding.kind, finding.case_id, finding.department) == (
        FindingKind.EXTRA_VISITS,
        zero_visit,
        "scjgj",
    )
    assert finding.evidence == Evidence(zero_visit, 1, local_day(2))
    assert finding.detail == "2 visits, item target 0"


def test_a_case_not_decided_by_its_due_day_is_overdue_from_the_next_day_on(
    views: Views,
) -> None:
    desk = Desk(views.ledger)
    case_id = desk.submit(BUSINESS, local_day(2))
    due = desk.receive(case_id, local_day(2, 10))
    views.run()
    assert due == date(2026, 3, 5)
    assert kinds(views, due) == []
    [finding] = views.supervision.findings(views.database, today=date(2026, 3, 9))
    assert finding.kind is FindingKind.OVERDUE
    assert finding.evidence == Evidence(case_id, 2, local_day(2, 10))  # the receipt set the due
    assert finding.working_days_late == 2  # Friday 6th and Monday 9th
    assert finding.department == "scjgj"


def test_a_case_decided_after_its_due_day_stays_a_finding_with_the_decision_as_evidence(
    views: Views,
) -> None:
    desk = Desk(views.ledger)
    case_id = desk.submit(BUSINESS, local_day(2))
    desk.receive(case_id, local_day(2, 10))
    desk.grant(case_id, local_day(10))
    views.run()
    [finding] = views.supervision.findings(views.database, today=date(2026, 3, 20))
    assert finding.kind is FindingKind.OVERDUE
    assert finding.evidence.seq == 4 and finding.evidence.at.date() == date(2026, 3, 10)
    assert finding.working_days_late == 3  # 6th, 9th and 10th
    assert finding.detail == "decided on 2026-03-10, due 2026-03-05"


def test_a_case_decided_on_time_or_paused_before_its_due_day_is_not_overdue(
    views: Views,
) -> None:
    desk = Desk(views.ledger)
    on_time = desk.submit(BUSINESS, local_day(2))
    desk.receive(on_time, local_day(2, 10))
    desk.grant(on_time, local_day(5))
    paused = desk.submit(REAL_ESTATE, local_day(2))
    assert desk.receive(paused, local_day(2, 10)) == date(2026, 3, 9)
    inspector = officer("zrzyghj")
    views.ledger.suspend(
        paused,
        Command(at=local_day(3), actor=inspector),
        step=SpecialStep.SITE_INSPECTION,
        reason="踏勘",
    )
    views.run()
    assert kinds(views, date(2026, 3, 20)) == []
    views.ledger.resume(paused, Command(at=local_day(23), actor=inspector))
    views.run()
    assert kinds(views, date(2026, 3, 23)) == []


def test_a_case_suspended_after_its_due_day_is_overdue_as_of_the_suspension(
    views: Views,
) -> None:
    desk = Desk(views.ledger)
    case_id = desk.submit(REAL_ESTATE, local_day(2))
    desk.receive(case_id, local_day(2, 10))  # due Monday 9th
    views.ledger.suspend(
        case_id,
        Command(at=local_day(11), actor=officer("zrzyghj")),
        step=SpecialStep.SITE_INSPECTION,
        reason="踏勘",
    )
    views.run()
    for today in (date(2026, 3, 12), date(2026, 3, 31)):
        [finding] = views.supervision.findings(views.database, today=today)
        assert (finding.kind, finding.department) == (FindingKind.OVERDUE, "zrzyghj")
        assert finding.working_days_late == 2  # the 10th and 11th, then the clock stopped
        assert finding.detail == "suspended and not decided, due 2026-03-09"


def test_an_open_commitment_past_its_day_is_a_finding_until_the_materials_arrive(
    views: Views,
) -> None:
    clock = Clock(T0)
    story = play_permit_until_decision(views.ledger, clock, "permit-1")
    views.run()
    committed_by = date(2026, 3, 12)  # T0's date plus ten days
    assert kinds(views, committed_by) == []
    [finding] = views.supervision.findings(views.database, today=date(2026, 3, 16))
    assert finding.kind is FindingKind.OVERDUE_COMMITMENT
    assert (finding.case_id, finding.department) == (story.case_id, "zjj")
    assert finding.evidence.seq == 2  # the tolerance acceptance holds the commitment
    assert finding.working_days_late == 2  # Friday 13th and Monday 16th
    assert "['zjls', 'aqxk', 'zljd']" in finding.detail
    supplement_all(views.ledger, clock, story.case_id)
    finish_by_courier(views.ledger, clock, story.case_id)
    views.run()
    assert kinds(views, date(2026, 3, 16)) == []


def test_findings_filter_by_department_and_kind(views: Views) -> None:
    desk = Desk(views.ledger)
    late = desk.submit(BUSINESS, local_day(2), window=True)
    desk.receive(late, local_day(2, 10))
    desk.visit(late, local_day(3))
    play_permit_until_decision(views.ledger, Clock(T0), "permit-1")
    views.run()
    today = date(2026, 3, 16)
    assert sorted(kinds(views, today)) == sorted(
        [FindingKind.OVERDUE, FindingKind.EXTRA_VISITS, FindingKind.OVERDUE_COMMITMENT]
    )
    only_zjj = views.supervision.findings(views.database, today=today, department="zjj")
    assert [f.kind for f in only_zjj] == [FindingKind.OVERDUE_COMMITMENT]
    visits = views.supervision.findings(
        views.database, today=today, kinds={FindingKind.EXTRA_VISITS}
    )
    assert [f.case_id for f in visits] == [late]


def test_an_overdue_count_in_a_year_without_holiday_data_is_refused(views: Views) -> None:
    desk = Desk(views.ledger)
    case_id = desk.submit(BUSINESS, local_day(2))
    desk.receive(case_id, local_day(2, 10))
    views.run()
    with pytest.raises(ClockUnavailable, match=f"case {case_id}: no holiday notice loaded"):
        views.supervision.findings(views.database, today=date(2027, 2, 1))


def test_a_withdrawn_case_keeps_its_extra_visits_but_is_never_overdue(views: Views) -> None:
    desk = Desk(views.ledger)
    case_id = desk.submit(SOLE_TRADER, local_day(2), window=True)
    desk.receive(case_id, local_day(2, 10))
    views.ledger.withdraw(
        case_id,
        Command(at=local_day(9), actor=APPLICANT, channel=Channel.WINDOW),
        reason="不再经营",
    )
    views.run()
    [finding] = views.supervision.findings(views.database, today=date(2026, 3, 20))
    assert finding.kind is FindingKind.EXTRA_VISITS
    assert finding.detail == "2 visits, item target 0"  # the submission and the withdrawal
