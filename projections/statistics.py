"""The figures the reform is judged by (DOMAIN rule 11): shares of closed cases with at most one and
with zero visits, the on-time rate, average working days from receipt to decision and satisfaction,
overall, per item and per lead department.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from projections.case_table import CaseFactsModel
from projections.database import Database, ViewCursor


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Figures:
    """Counts over a set of cases, with the shares and averages derived from them."""

    cases: int = 0
    closed: int = 0
    closed_at_most_one_visit: int = 0
    closed_zero_visits: int = 0
    decided: int = 0
    decided_on_time: int = 0
    timed: int = 0
    working_days_total: int = 0
    rated: int = 0
    stars_total: int = 0

    @property
    def share_at_most_one_visit(self) -> float | None:
        """Closed cases with at most one visit, as a share of closed cases."""
        return _ratio(self.closed_at_most_one_visit, self.closed)

    @property
    def share_zero_visits(self) -> float | None:
        """Closed cases with no visit at all, as a share of closed cases."""
        return _ratio(self.closed_zero_visits, self.closed)

    @property
    def on_time_rate(self) -> float | None:
        """Decided cases decided on or before their due day, as a share of decided cases."""
        return _ratio(self.decided_on_time, self.decided)

    @property
    def average_working_days(self) -> float | None:
        """Mean working days from receipt to decision, pauses left out."""
        return _ratio(self.working_days_total, self.timed)

    @property
    def average_stars(self) -> float | None:
        """Mean satisfaction rating (1-5 stars) of rated cases."""
        return _ratio(self.stars_total, self.rated)


@dataclass(frozen=True)
class GroupFigures:
    """The figures of one item or one department."""

    key: str
    name: str
    figures: Figures


@dataclass(frozen=True)
class Report:
    """All figures: overall, per item (by implementation code) and per lead department."""

    overall: Figures
    by_item: tuple[GroupFigures, ...]
    by_department: tuple[GroupFigures, ...]

    def item(self, code: str) -> Figures:
        """The figures of one item (all zero if it has no case)."""
        return next((g.figures for g in self.by_item if g.key == code), Figures())

    def department(self, code: str) -> Figures:
        """The figures of one lead department (all zero if it leads no case)."""
        return next((g.figures for g in self.by_department if g.key == code), Figures())


# Sums rather than averages: integer sums read the same on SQLite and PostgreSQL, and the
# division happens once, in Python.
_SUMS = (
    "COUNT(*)",
    "SUM(CASE WHEN closed_at IS NOT NULL THEN 1 ELSE 0 END)",
    "SUM(CASE WHEN closed_at IS NOT NULL AND visits <= 1 THEN 1 ELSE 0 END)",
    "SUM(CASE WHEN closed_at IS NOT NULL AND visits = 0 THEN 1 ELSE 0 END)",
    "SUM(CASE WHEN on_time IS NOT NULL THEN 1 ELSE 0 END)",
    "SUM(CASE WHEN on_time = 1 THEN 1 ELSE 0 END)",
    "SUM(CASE WHEN working_days IS NOT NULL THEN 1 ELSE 0 END)",
    "SUM(COALESCE(working_days, 0))",
    "SUM(CASE WHEN stars IS NOT NULL THEN 1 ELSE 0 END)",
    "SUM(COALESCE(stars, 0))",
)


def _figures(values: tuple[Any, ...]) -> Figures:
    return Figures(*(int(v or 0) for v in values))


class Statistics(CaseFactsModel):
    """Case facts kept for the reform's figures."""

    name = "statistics"
    table = "statistics_cases"

    def extra_tables(self) -> Mapping[str, tuple[str, ...]]:
        """No tables beyond the case facts."""
        return {}

    def report(self, database: Database) -> Report:
        """Return the figures over every case the model has seen."""
        with database.transaction(write=False) as cursor:
            overall = self._groups(cursor, None)
            items = self._groups(cursor, "item_code")
            departments = self._groups(cursor, "lead_department")
        return Report(
            overall=overall[0].figures if overall else Figures(),
            by_item=tuple(items),
            by_department=tuple(departments),
        )

    def _groups(self, cursor: ViewCursor, key: str | None) -> list[GroupFigures]:
        sums = ", ".join(_SUMS)
        if key is None:
            cursor.execute(f"SELECT '', '', {sums} FROM {self.table}")
        else:
            # An item's name may change between catalog versions; the newest by text order is
            # as good as any and the same on every database.
            name = "MAX(item_name)" if key == "item_code" else key
            cursor.execute(
                f"SELECT {key}, {name}, {sums} FROM {self.table} GROUP BY {key} ORDER BY {key}"
            )
        return [
            GroupFigures(str(row[0]), str(row[1]), _figures(row[2:])) for row in cursor.fetchall()
        ]
