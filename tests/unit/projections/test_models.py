"""The default set of domain read models."""

from __future__ import annotations

from datetime import date

from projections.audit_index import AuditIndex
from projections.case_board import CaseBoard
from projections.case_facts import applicant_digest
from projections.catalog_view import CatalogView
from projections.models import default_read_models
from projections.runtime import ProjectionRunner
from projections.statistics import Statistics
from projections.supervision import Supervision
from tests.scenarios import BUSINESS, COMPANY
from tests.unit.projections.ledger_views import Desk, local_day, memory_database, open_views


def test_the_default_models_begin_with_the_catalog_board_supervision_statistics_and_audit() -> None:
    views = open_views()
    models = default_read_models(views.ledger.calendar)
    case_side = [CatalogView, CaseBoard, Supervision, Statistics, AuditIndex]
    assert [type(m) for m in models][: len(case_side)] == case_side
    assert len({m.name for m in models}) == len(models)


def test_the_applicant_key_reaches_every_model_that_keeps_case_facts() -> None:
    views = open_views()
    key = b"deployment secret"
    models = default_read_models(views.ledger.calendar, applicant_key=key)
    assert {
        m.applicant_key for m in models if isinstance(m, (CaseBoard, Supervision, Statistics))
    } == {key}
    case_id = Desk(views.ledger).submit(BUSINESS, local_day(2))
    database = memory_database()
    ProjectionRunner(views.ledger.recorder, models, database=database).run_once()
    board = models[1]
    assert isinstance(board, CaseBoard)
    row = board.case(database, case_id)
    assert row is not None and row.applicant_digest == applicant_digest(COMPANY, key)
    assert [c.case_id for c in board.applicant_cases(database, COMPANY)] == [case_id]


def test_a_log_without_cases_leaves_the_case_models_empty() -> None:
    views = open_views()
    views.run()
    assert views.board.queue(views.database, "scjgj", today=date(2026, 3, 2)) == []
    assert views.supervision.findings(views.database, today=date(2026, 3, 2)) == []
    assert views.statistics.report(views.database).overall.cases == 0
    assert len(views.catalog.items(views.database)) == 6
