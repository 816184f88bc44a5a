"""The domain read models the service runs by default, built from the working-day calendar."""

from __future__ import annotations

from ledger.calendar import WorkingCalendar
from projections.audit_index import AuditIndex
from projections.case_board import CaseBoard
from projections.case_facts import DEFAULT_APPLICANT_KEY
from projections.catalog_view import CatalogView
from projections.runtime import ReadModel
from projections.statistics import Statistics
from projections.supervision import Supervision


def default_read_models(
    calendar: WorkingCalendar, *, applicant_key: bytes = DEFAULT_APPLICANT_KEY
) -> list[ReadModel]:
    """Return the catalog view, case board, supervision, statistics and audit index."""
    return [
        CatalogView(),
        CaseBoard(calendar, applicant_key=applicant_key),
        Supervision(calendar, applicant_key=applicant_key),
        Statistics(calendar, applicant_key=applicant_key),
        AuditIndex(),
    ]
