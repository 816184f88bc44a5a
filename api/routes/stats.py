"""The reform's figures (≤1 and 0 visits, on-time rate, working days, ratings) and supervision
findings (overdue, second notices, extra visits, overdue commitments), from the read models.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import Caller, Now, ReadsDep, allow
from api.errors import problem_responses
from api.schemas import jsonable
from ledger.actors import Role
from ledger.rules import local_date
from projections.statistics import Figures, Statistics
from projections.supervision import FindingKind, Supervision

router = APIRouter(tags=["statistics"], responses=problem_responses(401, 403))
STAFF = (Role.OFFICER, Role.AUDITOR, Role.ADMIN)


def figures(f: Figures) -> dict[str, Any]:
    """Counts with the shares and averages derived from them."""
    derived = (
        "share_at_most_one_visit",
        "share_zero_visits",
        "on_time_rate",
        "average_working_days",
        "average_stars",
    )
    return {**vars(f), **{name: getattr(f, name) for name in derived}}


@router.get("/v1/stats", dependencies=[allow(*STAFF)])
def statistics(reads: ReadsDep) -> dict[str, Any]:
    """Overall, per item and per lead department. Officers, auditors and administrators."""
    report = reads.model(Statistics).report(reads.database)
    groups = {"by_item": report.by_item, "by_department": report.by_department}
    return {
        "overall": figures(report.overall),
        **{
            name: [{"key": g.key, "name": g.name, **figures(g.figures)} for g in group]
            for name, group in groups.items()
        },
    }


@router.get("/v1/supervision/findings", dependencies=[allow(*STAFF)])
def findings(
    caller: Caller,
    reads: ReadsDep,
    now: Now,
    kind: Annotated[list[FindingKind] | None, Query()] = None,
    department: Annotated[str | None, Query(max_length=64)] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """Findings as of today; officers see their own department's, auditors and admins all."""
    if caller.role is Role.OFFICER:
        department = caller.department
    found = reads.model(Supervision).findings(
        reads.database,
        today=local_date(now),
        department=department,
        kinds=tuple(kind) if kind else tuple(FindingKind),
    )
    page = found[offset : offset + limit]
    result: list[dict[str, Any]] = jsonable(
        [vars(f) | {"evidence": vars(f.evidence)} for f in page]
    )
    return result
