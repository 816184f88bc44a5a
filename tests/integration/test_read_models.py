"""The domain read models on real SQLite and PostgreSQL: the permit story on the board and in the
queues, supervision findings, hand-counted statistics, rebuilds equal to the live models, and a
failed batch that rolls back without double counting."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import pytest
from eventsourcing.persistence import Notification

from ledger.case import CaseStatus
from ledger.errors import SecondNoticeRefused
from projections.audit_index import TABLE as AUDIT_TABLE
from projections.case_board import Action, CaseBoard
from projections.case_facts import applicant_digest
from projections.case_table import CaseFactsModel
from projections.catalog_view import ITEMS, VERSIONS
from projections.database import Database, ViewCursor
from projections.runtime import ProjectionRunner, ReadModel
from projections.statistics import Figures
from projections.supervision import FindingKind
from tests.scenarios import (
    BUSINESS,
    COMPANY,
    PERMIT,
    Clock,
    finish_by_courier,
    officer,
    play_permit_until_decision,
    supplement_all,
)
from tests.unit.ledger.conftest import T0
from tests.unit.projections.ledger_views import (
    SOLE_TRADER,
    Desk,
    Views,
    local_day,
    open_views,
    play_statistics_cases,
)

JOINT = ("zrzyghj", "xfjy", "rfb")
CASE_SIDE = ("catalog_view", "case_board", "supervision", "statistics", "audit_index")


@pytest.fixture
def views(storage_env: dict[str, str]) -> Iterator[Views]:
    views = open_views(storage_env, page_size=7)
    yield views
    views.ledger.close()


def tables(model: ReadModel) -> list[str]:
    if isinstance(model, CaseFactsModel):
        return [model.table, *model.extra_tables()]
    return {"catalog_view": [ITEMS, VERSIONS], "audit_index": [AUDIT_TABLE]}[model.name]


def checksum(database: Database, models: Sequence[ReadModel]) -> str:
    """A digest of every row of every model's tables, independent of row order."""
    digest = hashlib.sha256()
    with database.transaction(write=False) as cursor:
        for model in models:
            for table in tables(model):
                cursor.execute(f"SELECT * FROM {table}")
                for row in sorted(repr(r) for r in cursor.fetchall()):
                    digest.update(f"{table}:{row}\n".encode())
    return digest.hexdigest()


def events_after(database: Database, position: int) -> int:
    with database.transaction(write=False) as cursor:
        return database.count_after(cursor, position)


def events_before(views: Views, topic: str) -> int:
    log = views.ledger.recorder.select_notifications(start=1, limit=10_000)
    return next(i for i, n in enumerate(log) if n.topic == topic)


def test_the_permit_story_queues_each_joint_department_until_its_opinion(views: Views) -> None:
    clock = Clock(T0)
    story = play_permit_until_decision(views.ledger, clock, "permit-1")
    views.runner.run_once(max_events=events_before(views, "case.OpinionGiven"))
    today = date(2026, 3, 2)
    for department in ("zjj", *JOINT):
        [entry] = views.board.queue(views.database, department, today=today)
        assert (entry.case.case_id, entry.action) == (story.case_id, Action.OPINION)
        assert entry.clock is not None and entry.clock.working_days_left > 40
    views.run()
    for department in JOINT:
        assert views.board.queue(views.database, department, today=today) == []
    [lead] = views.board.queue(views.database, "zjj", today=today)
    assert lead.action is Action.ISSUE
    row = views.board.case(views.database, story.case_id)
    assert row is not None
    assert (row.item_code, row.lead_department, row.required_departments) == (
        PERMIT,
        "zjj",
        ("zjj", *JOINT),
    )
    assert (row.status, row.due, row.visits, row.visit_target) == (
        CaseStatus.DECIDED,
        story.due,
        0,
        1,
    )
    assert row.applicant_digest == applicant_digest(COMPANY) and COMPANY not in repr(row)
    assert row.open_commitments == ("zjls", "aqxk", "zljd")
    assert row.version == views.ledger.case(story.case_id).version
    supplement_all(views.ledger, clock, story.case_id)
    finish_by_courier(views.ledger, clock, story.case_id)
    views.run()
    assert views.board.queue(views.database, "zjj", today=today) == []


def test_a_refused_second_notice_and_extra_visits_become_findings(views: Views) -> None:
    desk = Desk(views.ledger)
    noticed = desk.submit(BUSINESS, local_day(2))
    desk.notify(noticed, local_day(2, 10))
    with pytest.raises(SecondNoticeRefused, match="one-time"):
        desk.notify(noticed, local_day(2, 11), actor=officer("scjgj"))
    visited = desk.submit(SOLE_TRADER, local_day(2), window=True)
    desk.visit(visited, local_day(3))
    views.run()
    findings = views.supervision.findings(views.database, today=date(2026, 3, 3))
    assert [(f.kind, f.case_id, f.department) for f in findings] == [
        (FindingKind.EXTRA_VISITS, visited, "scjgj"),
        (FindingKind.SECOND_NOTICE, noticed, "scjgj"),
    ]
    assert findings[1].evidence.at == local_day(2, 11)


def test_an_overdue_case_and_an_overdue_commitment_are_found_as_of_a_later_day(
    views: Views,
) -> None:
    desk = Desk(views.ledger)
    slow = desk.submit(BUSINESS, local_day(2))
    desk.receive(slow, local_day(2, 10))  # due Thursday 5th
    story = play_permit_until_decision(views.ledger, Clock(T0), "permit-1")  # committed by 12th
    views.run()
    assert views.supervision.findings(views.database, today=date(2026, 3, 5)) == []
    found = views.supervision.findings(views.database, today=date(2026, 3, 13))
    assert [(f.kind, f.case_id, f.working_days_late) for f in found] == [
        (FindingKind.OVERDUE_COMMITMENT, story.case_id, 1),
        (FindingKind.OVERDUE, slow, 6),
    ]


def test_statistics_match_the_hand_count(views: Views) -> None:
    play_statistics_cases(Desk(views.ledger))
    views.run()
    report = views.statistics.report(views.database)
    assert report.overall == Figures(4, 3, 2, 1, 3, 2, 3, 9, 3, 12)
    assert report.item(BUSINESS) == Figures(3, 2, 1, 1, 2, 1, 2, 7, 2, 8)
    assert report.item(SOLE_TRADER) == Figures(1, 1, 1, 0, 1, 1, 1, 2, 1, 4)
    assert report.overall.average_working_days == 3.0


def test_a_rebuild_of_every_model_equals_the_live_models(views: Views) -> None:
    desk = Desk(views.ledger)
    clock = Clock(T0)
    story = play_permit_until_decision(views.ledger, clock, "permit-1")
    views.runner.run_once(max_events=30)
    cases = play_statistics_cases(desk)
    views.run()
    supplement_all(views.ledger, clock, story.case_id)
    finish_by_courier(views.ledger, clock, story.case_id)
    desk.visit(cases["d"], local_day(12))
    views.run()
    models = [m for m in views.models.values() if m.name in CASE_SIDE]
    live = checksum(views.database, models)
    total = events_after(views.database, 0)
    for model in models:
        assert views.runner.rebuild(model.name) == total
    assert checksum(views.database, models) == live


class CrashingBoard(CaseBoard):
    """The board, failing once it has written the rows of notification ``fail_at``."""

    def __init__(self, views: Views, fail_at: int | None) -> None:
        super().__init__(views.ledger.calendar)
        self.fail_at = fail_at

    def apply_batch(self, cursor: ViewCursor, notifications: Sequence[Notification]) -> None:
        super().apply_batch(cursor, notifications)
        if any(n.id == self.fail_at for n in notifications):
            raise RuntimeError(f"crash after applying #{self.fail_at}")


def board_rows(database: Database) -> list[tuple[Any, ...]]:
    with database.transaction(write=False) as cursor:
        cursor.execute("SELECT case_id, status, visits, version FROM case_board ORDER BY case_id")
        return cursor.fetchall()


def test_a_batch_that_fails_midway_rolls_back_and_the_retry_counts_each_event_once(
    views: Views,
) -> None:
    desk = Desk(views.ledger)
    case_id = desk.submit(BUSINESS, local_day(2), window=True)
    desk.visit(case_id, local_day(2, 10))
    desk.visit(case_id, local_day(2, 11))
    desk.receive(case_id, local_day(2, 12))
    last = views.ledger.recorder.max_notification_id()
    assert last is not None
    crashing = ProjectionRunner(
        views.ledger.recorder, [CrashingBoard(views, fail_at=last - 1)], page_size=3
    )
    with pytest.raises(RuntimeError, match=f"crash after applying #{last - 1}"):
        crashing.run_once()
    # The page holding the failure rolled back: tracking stayed at the page before it.
    committed = crashing.position("case_board")
    assert committed < last - 1 and (last - 1 - committed) <= 3
    log = views.ledger.recorder.select_notifications(start=1, limit=10_000)
    applied = sum(1 for n in log if n.id <= committed and n.topic.startswith("case."))
    assert board_rows(crashing.database) == (
        [(str(case_id), "submitted", applied, applied)] if applied else []
    )
    healed = ProjectionRunner(views.ledger.recorder, [CrashingBoard(views, None)], page_size=3)
    assert healed.run_once() == events_after(healed.database, committed)
    assert board_rows(healed.database) == [(str(case_id), "received", 3, 4)]
    live = checksum(healed.database, list(healed.models.values()))
    healed.rebuild("case_board")
    assert checksum(healed.database, list(healed.models.values())) == live
