"""The case fold shared by the board, supervision and statistics, over real signed events."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import pytest

from ledger.calendar import Pause, WorkingCalendar
from ledger.case import CaseStatus
from projections.case_facts import (
    CaseFacts,
    CaseFold,
    CaseNotSubmitted,
    Fields,
    applicant_digest,
)
from projections.case_table import facts_from_row, facts_row, read_time, stored_time
from projections.runtime import decode_envelope
from tests.scenarios import BUSINESS, COMPANY
from tests.unit.projections.ledger_views import SOLE_TRADER, Desk, Views, local_day, open_views


@pytest.fixture
def views() -> Views:
    return open_views()


def case_envelopes(views: Views) -> list[dict[str, Any]]:
    notifications = views.ledger.recorder.select_notifications(start=1, limit=10_000)
    return [decode_envelope(n.state) for n in notifications if n.topic.startswith("case.")]


def fold_all(views: Views, key: bytes = b"k") -> dict[UUID, CaseFacts]:
    fold = CaseFold(views.ledger.calendar, key)
    fields: dict[UUID, Fields] = {}
    for envelope in case_envelopes(views):
        fields[envelope["stream"]] = fold(fields.get(envelope["stream"]), envelope)
    return {case_id: CaseFacts(**values) for case_id, values in fields.items()}


def test_window_submission_visit_and_pickup_count_as_visits_but_courier_delivery_does_not(
    views: Views,
) -> None:
    desk = Desk(views.ledger)
    at_window = desk.submit(BUSINESS, local_day(2), window=True)
    desk.receive(at_window, local_day(2, 10))
    desk.visit(at_window, local_day(2, 11))
    desk.grant(at_window, local_day(3))
    desk.finish(at_window, local_day(4), pickup=True)
    online = desk.submit(BUSINESS, local_day(2))
    desk.receive(online, local_day(2, 10))
    desk.grant(online, local_day(3))
    desk.finish(online, local_day(4))
    facts = fold_all(views)
    window_case, online_case = facts[at_window], facts[online]
    assert window_case.visits == 3 and online_case.visits == 0
    assert window_case.visits == len(views.ledger.case(at_window).visits)
    # The visit target is 1: the second visit (the recorded one, seq 3) is the first above it.
    assert window_case.over_target_seq == 3


def test_a_correction_notice_after_receipt_pauses_the_clock_until_the_correction(
    views: Views,
) -> None:
    desk = Desk(views.ledger)
    case_id = desk.submit(SOLE_TRADER, local_day(2))
    desk.receive(case_id, local_day(2, 10))
    desk.notify(case_id, local_day(2, 11))
    paused = fold_all(views)[case_id]
    assert paused.status is CaseStatus.PAUSED_FOR_CORRECTION
    assert paused.paused_since == date(2026, 3, 2)
    desk.correct(case_id, local_day(4))
    desk.grant(case_id, local_day(5))
    facts = fold_all(views)[case_id]
    case = views.ledger.case(case_id)
    assert facts.pauses == (Pause(date(2026, 3, 2), date(2026, 3, 4)),)
    assert facts.due == case.due == date(2026, 3, 5)
    # Receipt Monday 2nd, decision Thursday 5th, clock stopped on the 3rd: the 4th and 5th count.
    assert (facts.working_days, facts.on_time) == (2, True)


def test_a_notice_before_receipt_only_waits_for_papers(views: Views) -> None:
    desk = Desk(views.ledger)
    case_id = desk.submit(SOLE_TRADER, local_day(2))
    desk.notify(case_id, local_day(2, 10))
    assert fold_all(views)[case_id].status is CaseStatus.AWAITING_CORRECTION
    desk.correct(case_id, local_day(2, 11))
    facts = fold_all(views)[case_id]
    assert (facts.status, facts.pauses, facts.due) == (CaseStatus.SUBMITTED, (), None)


def test_a_case_event_before_its_submission_is_refused(views: Views) -> None:
    desk = Desk(views.ledger)
    case_id = desk.submit(BUSINESS, local_day(2))
    desk.receive(case_id, local_day(2, 10))
    received = case_envelopes(views)[-1]
    fold = CaseFold(views.ledger.calendar, b"k")
    with pytest.raises(
        CaseNotSubmitted, match=r"expected case.Submitted first .* got case.Received"
    ):
        fold(None, received)


def test_facts_survive_a_round_trip_through_a_row(views: Views) -> None:
    desk = Desk(views.ledger)
    case_id = desk.submit(SOLE_TRADER, local_day(2))
    desk.receive(case_id, local_day(2, 10))
    desk.notify(case_id, local_day(2, 11))
    facts = fold_all(views)[case_id]
    assert facts_from_row(facts_row(facts)) == facts


def test_the_applicant_digest_is_keyed_and_ignores_case_and_spaces() -> None:
    assert applicant_digest(COMPANY, b"a") == applicant_digest(f" {COMPANY.lower()} ", b"a")
    assert applicant_digest(COMPANY, b"a") != applicant_digest(COMPANY, b"b")


def test_stored_times_are_fixed_width_utc_text() -> None:
    at = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    assert stored_time(at) == "2026-03-02T01:00:00.000000Z"
    assert read_time(stored_time(at)) == at


def test_working_days_are_left_unknown_when_the_calendar_lacks_the_year(views: Views) -> None:
    desk = Desk(views.ledger)
    case_id = desk.submit(BUSINESS, local_day(2))
    desk.receive(case_id, local_day(2, 10))
    desk.grant(case_id, local_day(4))
    full = views.ledger.calendar
    only_2025 = WorkingCalendar(notices=tuple(n for n in full.notices if n.year == 2025))
    fold = CaseFold(only_2025, b"k")
    fields: Fields | None = None
    for envelope in case_envelopes(views):
        fields = fold(fields, envelope)
    assert fields is not None
    assert (fields["status"], fields["on_time"], fields["working_days"]) == (
        CaseStatus.DECIDED,
        True,
        None,
    )
