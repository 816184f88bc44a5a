"""The officer's desk (办件台): the cases where the officer's department must act next, soonest
due first, with the working-day clock of each — the queue ``GET /v1/cases`` gives officers.
Officers.
"""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from api.deps import Now, ReadsDep
from api.pages.errors import PageRoute
from api.pages.labels import ACTION, CASE_STATUS
from api.pages.layout import day, label, page, table
from api.pages.session import Session, signed_in
from ledger.actors import Role
from ledger.rules import local_date
from projections.case_board import CaseBoard, WorkingDayClock

router = APIRouter(
    prefix="/pages/desk", tags=["pages"], default_response_class=HTMLResponse, route_class=PageRoute
)
Officer = Annotated[Session, Depends(signed_in(Role.OFFICER))]


def _clock(clock: WorkingDayClock | None) -> str:
    if clock is None:
        return "—"
    if clock.paused:
        return "计时暂停"
    if clock.overdue:
        return f'<span class="bad">已超期 {clock.overdue_by} 个工作日</span>'
    return f"剩余 {clock.working_days_left} 个工作日"


@router.get("")
def desk_page(session: Officer, reads: ReadsDep, now: Now) -> HTMLResponse:
    """The department's work queue with deadlines. Officers."""
    board = reads.model(CaseBoard)
    department = session.principal.department or ""
    queue = board.queue(reads.database, department, today=local_date(now))
    rows = (
        (
            f'<a href="/pages/cases/{e.case.case_id}">{escape(e.case.item_name)}</a>',
            escape(e.case.receipt_number or "—"),
            escape(e.case.applicant_masked),
            label(CASE_STATUS, e.case.status.value),
            label(ACTION, e.action.value) + ("（牵头）" if e.lead else ""),
            day(e.case.due),
            _clock(e.clock),
        )
        for e in queue
    )
    head = ("事项", "受理编号", "申请人", "办理状态", "待办", "办结时限", "计时")
    body = table(head, rows, empty="本部门暂无待办件。")
    return page(f"办件台：{department}", body, nav=session.nav())
