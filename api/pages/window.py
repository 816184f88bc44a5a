"""The window page of one case (窗口办理): where it stands and the window officer's forms its status
allows, each taken through the JSON case route of the same name with the session's CSRF token and
at the version shown (a stale form is refused and changes nothing). Officers of the case's
departments or the service centre; the ledger decides which of them may act. The correction and
supplement forms post their material files, which are stored as the officer's uploads first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Annotated, Any, TypeVar
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Query, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import DocumentsDep, LedgerDep, Now, visible_case
from api.pages.errors import PageRoute
from api.pages.labels import CASE_STATUS
from api.pages.layout import day, facts, label, page, when
from api.pages.material_forms import MaterialTable, Rows, Table, materials, noticed, store_files
from api.pages.session import Session, signed_in
from api.pages.window_forms import (
    WindowForm,
    correction_body,
    dispatch_body,
    form_html,
    invalid_fields,
    notice_body,
    offered,
    refusal_body,
    supplement_body,
    tolerance_body,
)
from api.routes import cases
from ledger.actors import Channel, Role
from ledger.application import CaseLedger
from ledger.commands import Command
from projections.document_store import DocumentStore
from projections.errors import DocumentRejected

FORM = "desk-window"
PATH = "/pages/desk/window"
LOOKUP = (
    f'<form method="get" action="{PATH}"><label for="case_id">按办件编号窗口办理'
    "（受理、一次性告知、容缺受理、补正补齐、送达、不予受理）</label>"
    '<input type="text" id="case_id" name="case_id" maxlength="36" required> '
    "<button>打开</button></form>"
)
# Mounted by the desk's router, under its /pages/desk prefix.
router = APIRouter(
    prefix="/window", tags=["pages"], default_response_class=HTMLResponse, route_class=PageRoute
)
Officer = Annotated[Session, Depends(signed_in(Role.OFFICER))]
Text = Annotated[str, Form(max_length=4000)]
DONE: dict[int | str, dict[str, Any]] = {303: {"description": "done; to the case's window"}}
B = TypeVar("B")


def window_page(
    session: Session,
    ledger: CaseLedger,
    case_id: UUID,
    *,
    error: str = "",
    status: int = 200,
    slug: str = "validation-failed",
) -> HTMLResponse:
    """The case's window page; ``error`` (with ``status`` and the API's problem ``slug``) says
    what a refused form lacked."""
    case = visible_case(ledger, case_id, session.principal)
    shown = cases.case_public(case)
    forms = offered(case)
    listed = noticed(ledger, case_id) if WindowForm.CORRECT in forms else []
    summary = facts(
        [
            ("办件编号", escape(str(case.id))),
            ("事项", escape(shown.item_name)),
            ("申请人", escape(shown.applicant_masked)),
            ("办理状态", label(CASE_STATUS, shown.status)),
            ("受理编号", escape(shown.receipt_number or "—")),
            ("办结时限", day(shown.due)),
            ("一次性告知", "已告知 " + when(case.notice_at) if case.notice_count else "未告知"),
            ("承诺补齐时限", day(shown.commitment_due)),
            ("待补材料", escape("、".join(shown.open_commitments) or "无")),
            ("已收材料", escape("、".join(shown.materials) or "无")),
        ]
    )
    csrf = session.csrf(FORM)
    actions = "".join(form_html(f, case, csrf, listed) for f in forms)
    shown_error = (
        f'<p class="error">{escape(error)}</p><p class="code">HTTP {status} · {escape(slug)}</p>'
        if error
        else ""
    )
    body = (
        f"{shown_error}{summary}"
        f'<p><a href="/pages/cases/{case.id}">办理进度</a> · '
        '<a href="/pages/desk">返回办件台</a></p>'
        f"{actions or '<p>本件当前没有窗口待办事项。</p>'}"
    )
    return page(f"窗口办理：{shown.item_name}", body, nav=session.nav(), status=status)


@dataclass(frozen=True)
class Submission:
    """A window form as submitted (its CSRF token checked): who, on which case, at which version."""

    session: Session
    ledger: CaseLedger
    case_id: UUID
    cmd: Command

    def refused(self, error: str, slug: str = "validation-failed") -> Response:
        """The case's window page again (422), saying what the form lacked; nothing is recorded."""
        return window_page(
            self.session, self.ledger, self.case_id, error=error, status=422, slug=slug
        )

    def take(
        self, build: Callable[[], B], call: Callable[[B, Command, Response], object]
    ) -> Response:
        """Validate the body as the API does (a 422 form page if bad), then call the case route."""
        try:
            body = build()
        except ValueError as exc:  # pydantic's ValidationError, or rows that do not line up
            return self.refused(invalid_fields(exc))
        call(body, self.cmd, Response())  # the route sets the new ETag on it; the page redirects
        return RedirectResponse(f"{PATH}/{self.case_id}", status_code=303)

    def supply(
        self,
        table: Table,
        documents: DocumentStore,
        build: Callable[[dict[str, dict[str, Any]]], B],
        call: Callable[[B, Command, Response], object],
    ) -> Response:
        """Take a form with a material table: its files checked as the store takes them and its
        body validated (a 422 form page if bad, nothing stored), then the files stored as this
        officer's uploads, the only ones the case route lets the officer refer to."""
        try:
            rows, files = materials(*table)
        except DocumentRejected as exc:
            return self.refused(str(exc), "document-rejected")
        except ValueError as exc:  # rows that do not line up
            return self.refused(invalid_fields(exc))
        uploader = self.session.principal.sub

        def stored_then(body: B, cmd: Command, response: Response) -> object:
            store_files(documents, files, uploader=uploader, at=cmd.at)
            return call(body, cmd, response)

        return self.take(lambda: build(rows), stored_then)


async def submission(
    session: Officer,
    now: Now,
    ledger: LedgerDep,
    case_id: UUID,
    version: Annotated[int, Form(ge=1, le=2**31)],
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Submission:
    """The submission of a window form, refused (403 page) without this session's CSRF token."""
    session.check_csrf(FORM, csrf)
    actor = session.principal.actor()
    cmd = Command(at=now, actor=actor, channel=Channel.WINDOW, expected_version=version)
    return Submission(session, ledger, case_id, cmd)


Submitted = Annotated[Submission, Depends(submission)]


@router.get("", responses={303: {"description": "to the case's window page"}})
def find_case(session: Officer, case_id: Annotated[UUID, Query()]) -> Response:
    """Open the window page of the case whose number was typed. Officers."""
    return RedirectResponse(f"{PATH}/{case_id}", status_code=303)


@router.get("/{case_id}")
def case_window(session: Officer, ledger: LedgerDep, case_id: UUID) -> HTMLResponse:
    """A case with the window forms its status allows. Officers of its departments."""
    return window_page(session, ledger, case_id)


@router.post(f"/{{case_id}}/{WindowForm.RECEIVE.value}", responses=DONE)
def receive(sub: Submitted) -> Response:
    """Receive (受理) a submitted case; its clock starts. Front desk or lead department."""
    return sub.take(lambda: None, lambda _, c, r: cases.receive(sub.case_id, c, sub.ledger, r))


@router.post(f"/{{case_id}}/{WindowForm.NOTIFY.value}", responses=DONE)
def notify_correction(
    sub: Submitted,
    material: Rows = None,
    pick: Rows = None,
    reason: Rows = None,
    text: Text = "",
) -> Response:
    """Give the one-time notice; the ledger refuses a second. Front desk or lead department."""
    return sub.take(
        lambda: notice_body(material or [], pick or [], reason or [], text),
        lambda body, c, r: cases.notify_correction(sub.case_id, body, c, sub.ledger, r),
    )


@router.post(f"/{{case_id}}/{WindowForm.TOLERATE.value}", responses=DONE)
def accept_with_tolerance(
    sub: Submitted, commitment: Text = "", commitment_due: Text = ""
) -> Response:
    """Accept on the applicant's commitment (容缺受理). Front desk or lead department."""
    return sub.take(
        lambda: tolerance_body(commitment, commitment_due),
        lambda body, c, r: cases.accept_with_tolerance(sub.case_id, body, c, sub.ledger, r),
    )


@router.post(f"/{{case_id}}/{WindowForm.CORRECT.value}", responses=DONE)
def correct(sub: Submitted, table: MaterialTable, documents: DocumentsDep) -> Response:
    """Supply the noticed materials for the applicant (a visit). Front desk or lead department."""
    caller = sub.session.principal
    return sub.supply(
        table,
        documents,
        correction_body,
        lambda body, c, r: cases.correct(sub.case_id, body, caller, c, sub.ledger, documents, r),
    )


@router.post(f"/{{case_id}}/{WindowForm.SUPPLEMENT.value}", responses=DONE)
def supplement(
    sub: Submitted, table: MaterialTable, documents: DocumentsDep, via: Text = ""
) -> Response:
    """Supply committed materials for the applicant (补齐). Front desk or lead department."""
    caller = sub.session.principal
    return sub.supply(
        table,
        documents,
        lambda rows: supplement_body(rows, via),
        lambda body, c, r: cases.supplement(sub.case_id, body, caller, c, sub.ledger, documents, r),
    )


@router.post(f"/{{case_id}}/{WindowForm.DISPATCH.value}", responses=DONE)
def dispatch(sub: Submitted, courier: Text = "", tracking_number: Text = "") -> Response:
    """Hand the result to a courier (快递送达). Front desk or lead department."""
    return sub.take(
        lambda: dispatch_body(courier, tracking_number),
        lambda body, c, r: cases.dispatch(sub.case_id, body, c, sub.ledger, r),
    )


@router.post(f"/{{case_id}}/{WindowForm.PICK_UP.value}", responses=DONE)
def pick_up(sub: Submitted) -> Response:
    """Hand the result over at the window (a visit). Front desk or lead department."""
    return sub.take(lambda: None, lambda _, c, r: cases.pick_up(sub.case_id, c, sub.ledger, r))


@router.post(f"/{{case_id}}/{WindowForm.REFUSE.value}", responses=DONE)
def refuse(sub: Submitted, reasons: Text = "", legal_basis: Text = "") -> Response:
    """Refuse to accept (不予受理) with reasons and legal basis. Front desk or lead department."""
    return sub.take(
        lambda: refusal_body(reasons, legal_basis),
        lambda body, c, r: cases.refuse(sub.case_id, body, c, sub.ledger, r),
    )
