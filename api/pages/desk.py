"""The officer's desk (办件台): the cases where the officer's department must act next, soonest
due first, with the working-day clock of each — the queue ``GET /v1/cases`` gives officers — and
a form per case for that next action, made through the same case routes; each case's window page
(``window``) holds the window officer's own actions. Officers.
"""

from __future__ import annotations

from html import escape
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from api.deps import LedgerDep, Now, ReadsDep
from api.pages import window
from api.pages.errors import PageRoute, error_page
from api.pages.labels import ACTION, CASE_STATUS
from api.pages.layout import day, label, page, table
from api.pages.session import Session, signed_in
from api.routes import cases
from api.schemas import DecisionCreate, OpinionCreate
from ledger.actors import Channel, Role
from ledger.application import CaseLedger
from ledger.commands import Command
from ledger.rules import local_date
from projections.case_board import Action, CaseBoard, QueueEntry, WorkingDayClock

FORM = "desk"
router = APIRouter(
    prefix="/pages/desk", tags=["pages"], default_response_class=HTMLResponse, route_class=PageRoute
)
Officer = Annotated[Session, Depends(signed_in(Role.OFFICER))]
# The yes/no buttons and the text box of the actions that take them: (yes, no, text, required).
_CHOICES = {
    Action.OPINION: ("同意", "不同意", "意见理由", False),
    Action.DECIDE: ("准予许可", "不予许可", "决定依据（必填）", True),
}
_PLAIN = {Action.RESUME: cases.resume, Action.ISSUE: cases.issue_license, Action.CLOSE: cases.close}


def _body(action: Action, yes: bool, text: str) -> OpinionCreate | DecisionCreate | None:
    """The request body of ``action``'s case route, if it takes one (validated as the API does)."""
    if action is Action.OPINION:
        return OpinionCreate(approve=yes, reasons=[text] if text else [])
    if action is Action.DECIDE:
        return DecisionCreate(grant=yes, legal_basis=text)
    return None


def _take(
    action: Action,
    body: OpinionCreate | DecisionCreate | None,
    ledger: CaseLedger,
    case_id: UUID,
    cmd: Command,
) -> None:
    """Take ``action`` through its JSON route's function, so the checks it makes are made here."""
    headers = Response()  # the routes set the new ETag on it; the page redirects instead
    if isinstance(body, OpinionCreate):
        cases.give_opinion(case_id, body, cmd, ledger, headers)
    elif isinstance(body, DecisionCreate):
        cases.decide(case_id, body, cmd, ledger, headers)
    else:
        _PLAIN[action](case_id, cmd, ledger, headers)


def _clock(clock: WorkingDayClock | None) -> str:
    if clock is None:
        return "—"
    if clock.paused:
        return "计时暂停"
    if clock.overdue:
        return f'<span class="bad">已超期 {clock.overdue_by} 个工作日</span>'
    return f"剩余 {clock.working_days_left} 个工作日"


def _action_form(entry: QueueEntry, csrf: str) -> str:
    case = entry.case
    if entry.action not in _CHOICES and entry.action not in _PLAIN:
        # The window's actions take more than a button: its page for the case holds their forms.
        return f'<a href="{window.PATH}/{case.case_id}">{label(ACTION, entry.action.value)}</a> '
    target = f"/pages/desk/cases/{case.case_id}/{entry.action.value}"
    hidden = (
        f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
        f'<input type="hidden" name="version" value="{case.version}">'
    )
    choice = _CHOICES.get(entry.action)
    if choice is None:
        inputs = f"<button>{label(ACTION, entry.action.value)}</button>"
    else:
        yes, no, hint, required = choice
        inputs = (
            f'<input type="text" name="text" maxlength="2000" placeholder="{hint}"'
            f"{' required' if required else ''}>"
            f'<button name="yes" value="true">{yes}</button>'
            f'<button name="yes" value="false">{no}</button>'
        )
    return f'<form method="post" action="{target}">{hidden}{inputs}</form>'


@router.get("")
def desk_page(session: Officer, reads: ReadsDep, now: Now) -> HTMLResponse:
    """The department's work queue with deadlines and each case's next action. Officers."""
    board = reads.model(CaseBoard)
    department = session.principal.department or ""
    queue = board.queue(reads.database, department, today=local_date(now))
    csrf = session.csrf(FORM)
    rows = (
        (
            f'<a href="/pages/cases/{e.case.case_id}">{escape(e.case.item_name)}</a>',
            escape(e.case.receipt_number or "—"),
            escape(e.case.applicant_masked),
            label(CASE_STATUS, e.case.status.value),
            label(ACTION, e.action.value) + ("（牵头）" if e.lead else ""),
            day(e.case.due),
            _clock(e.clock),
            _action_form(e, csrf) + f'<a href="{window.PATH}/{e.case.case_id}">窗口办理</a>',
        )
        for e in queue
    )
    head = ("事项", "受理编号", "申请人", "办理状态", "待办", "办结时限", "计时", "办理")
    body = table(head, rows, empty="本部门暂无待办件。")
    return page(f"办件台：{department}", window.LOOKUP + body, nav=session.nav())


@router.post("/cases/{case_id}/{action}", responses={303: {"description": "done; to the desk"}})
def desk_act(
    session: Officer,
    ledger: LedgerDep,
    now: Now,
    case_id: UUID,
    action: Action,
    version: Annotated[int, Form(ge=1, le=2**31)],
    yes: Annotated[bool, Form()] = True,
    text: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Take a case's next action at the version shown (a stale one is refused). Officers."""
    session.check_csrf(FORM, csrf)
    if action not in _CHOICES and action not in _PLAIN:
        return error_page(404, "unknown-action", "办件台不办理此项，请在案件的窗口办理页操作")
    cmd = Command(
        at=now, actor=session.principal.actor(), channel=Channel.SYSTEM, expected_version=version
    )
    try:
        body = _body(action, yes, text.strip())
    except ValidationError:
        return error_page(422, "validation-failed", "请填写必填内容（如决定依据）后重新提交")
    _take(action, body, ledger, case_id, cmd)
    return RedirectResponse("/pages/desk", status_code=303)


router.include_router(window.router)
