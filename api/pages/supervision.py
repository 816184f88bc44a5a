"""The supervision dashboard (效能监督): the reform's figures — at most one visit, zero visits,
on time, working days, ratings — overall and per department and item, drawn as bars, and the
supervision findings, from ``/v1/stats`` and ``/v1/supervision/findings``. Officers (their own
department's findings), auditors and administrators.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from api.deps import Now, ReadsDep
from api.pages.errors import PageRoute
from api.pages.labels import FINDING
from api.pages.layout import label, page, table
from api.pages.session import Session, signed_in
from api.routes.stats import STAFF, findings, statistics

router = APIRouter(
    prefix="/pages/supervision",
    tags=["pages"],
    default_response_class=HTMLResponse,
    route_class=PageRoute,
)
Staff = Annotated[Session, Depends(signed_in(*STAFF))]
SHOWN = 200
SHARES = (
    ("share_at_most_one_visit", "最多跑一次"),
    ("share_zero_visits", "零跑"),
    ("on_time_rate", "按时办结"),
)


def _share(value: float | None) -> str:
    if value is None:
        return "—"
    percent = round(value * 100, 1)
    return f'{percent}%<div class="bar" style="width:{percent}%"></div>'


def _number(value: float | None, unit: str) -> str:
    return "—" if value is None else f"{value:.1f} {unit}"


def _row(name: str, f: Mapping[str, Any]) -> tuple[str, ...]:
    return (
        escape(name),
        str(f["cases"]),
        str(f["closed"]),
        *(_share(f[key]) for key, _ in SHARES),
        _number(f["average_working_days"], "个工作日"),
        _number(f["average_stars"], "星"),
    )


@router.get("")
def supervision_page(session: Staff, reads: ReadsDep, now: Now) -> HTMLResponse:
    """Figures overall, per department and per item, and today's findings. Staff."""
    report = statistics(reads)
    head = ("范围", "办件", "办结", *(text for _, text in SHARES), "平均用时", "平均评价")
    overall = table(head, [_row("全部", report["overall"])])
    by_department = table(head, (_row(g["name"] or g["key"], g) for g in report["by_department"]))
    by_item = table(head, (_row(g["name"] or g["key"], g) for g in report["by_item"]))
    found = findings(session.principal, reads, now, kind=None, department=None, limit=SHOWN)
    rows = (
        (
            label(FINDING, f["kind"]),
            f'<a href="/pages/cases/{escape(f["case_id"])}">{escape(f["item_code"] or "—")}</a>',
            escape(f["department"]),
            escape(f["detail"]),
            "—" if f["working_days_late"] is None else str(f["working_days_late"]),
        )
        for f in found
    )
    shown = table(("类型", "办件", "部门", "说明", "超期工作日"), rows, empty="今日无监督发现。")
    body = (
        f"<h2>总体</h2>{overall}<h2>按部门</h2>{by_department}<h2>按事项</h2>{by_item}"
        f"<h2>监督发现</h2>{shown}"
    )
    return page("效能监督", body, nav=session.nav())
