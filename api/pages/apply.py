"""Applying and answering online from the pages (在线申请、在线补正、在线补齐), so an applicant
need not come to the window: the item guide's form submits a case, and the case page's forms
answer its correction notice or supply its committed materials. Each form carries the session's
CSRF token; its files are checked as the document store takes them (a bad one refuses the whole
form, storing nothing), stored as the applicant's own uploads within the daily quota the upload
route applies, and taken through the JSON case route of the same name. Signed-in applicants
only, and only on their own cases.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Protocol, TypeVar
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import DocumentsDep, LedgerDep, Now, visible_case
from api.pages.case import ANSWER_FORM, case_view
from api.pages.catalog import APPLY_FORM, ItemCode, guide_page
from api.pages.errors import PageRoute
from api.pages.material_forms import MaterialTable, Table, materials, store_files
from api.pages.session import Session, signed_in
from api.pages.window_forms import correction_body, invalid_fields, supplement_body
from api.routes import cases
from api.schemas import CaseCreate, DocumentCreate, ELicenseCreate, material_refs
from ledger.actors import Channel, Role
from ledger.application import CaseLedger
from ledger.case import Case
from ledger.case_values import SupplementVia
from ledger.catalog import ItemTerms
from ledger.commands import Command
from ledger.documents import daily_upload_quota, material_data
from ledger.errors import ConcurrencyError
from projections.document_store import DocumentStore
from projections.errors import DocumentRejected

router = APIRouter(
    prefix="/pages", tags=["pages"], default_response_class=HTMLResponse, route_class=PageRoute
)
Applicant = Annotated[Session, Depends(signed_in(Role.APPLICANT))]
Csrf = Annotated[str, Form(max_length=128)]


def upload_quota(request: Request) -> int | None:
    """The bytes an applicant may upload a day, as ``POST /v1/documents`` counts them: the
    pages are no way around it."""
    return daily_upload_quota(Role.APPLICANT, request.app.state.applicant_upload_quota)


Quota = Annotated[int | None, Depends(upload_quota)]
NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")  # as catalog.py draws it: token_urlsafe(24)
EMPTY = "请至少为一项材料上传文件或填写电子证照编号"
TO_CASE: dict[int | str, dict[str, Any]] = {303: {"description": "done; to the case's page"}}


class WithMaterials(Protocol):
    """A request body with a material table, as the case routes take it."""

    @property
    def materials(self) -> Mapping[str, DocumentCreate | ELicenseCreate]:
        """The materials by code."""
        ...


B = TypeVar("B", bound=WithMaterials)


class Refused(Exception):
    """A form the page sends back (422) with what it lacked; nothing is stored or recorded."""

    def __init__(self, error: str, slug: str = "validation-failed") -> None:
        super().__init__(error)
        self.slug = slug


def _checked(
    terms: ItemTerms, table: Table, build: Callable[[dict[str, dict[str, Any]]], B]
) -> tuple[B, list[Any]]:
    """The form's body and the files to store, refused (``Refused``) if the store would refuse a
    file, the body is not what the API takes, no row is filled in, or the item would refuse a
    row (an unknown material, an e-license where it takes none): all before anything is stored."""
    try:
        rows, files = materials(*table)
        body = build(rows)
    except DocumentRejected as exc:
        raise Refused(str(exc), "document-rejected") from None
    except ValueError as exc:  # pydantic's ValidationError, or rows that do not line up
        raise Refused(invalid_fields(exc)) from None
    if not rows:
        raise Refused(EMPTY)
    # The ledger's own check of the rows against the item; its refusal is the API's error page.
    material_data(terms, material_refs(body.materials))
    return body, files


@router.post("/apply/{item_code}", responses=TO_CASE)
def apply_online(
    session: Applicant,
    ledger: LedgerDep,
    documents: DocumentsDep,
    now: Now,
    item_code: ItemCode,
    table: MaterialTable,
    quota: Quota,
    nonce: Annotated[str, Form(max_length=64)] = "",
    csrf: Csrf = "",
) -> Response:
    """Apply online (在线申请) with the item's materials; to the new case's page. Applicants."""
    session.check_csrf(APPLY_FORM, csrf)
    terms = ledger.item(item_code).terms_at(now)  # an unknown item is a 404 page, storing nothing
    try:
        if not NONCE.fullmatch(nonce):
            raise Refused("表单已失效，请刷新页面后重新提交")
        body, files = _checked(
            terms,
            table,
            lambda rows: CaseCreate.model_validate({"item_code": item_code, "materials": rows}),
        )
    except Refused as exc:
        return guide_page(
            session, ledger, now, item_code, error=str(exc), status=422, slug=exc.slug
        )
    # The form's one-time number is the submission's idempotency key: a form posted twice (a
    # double click, a resent request) makes one case, and the second post lands on it too.
    cmd = Command(
        at=now,
        actor=session.principal.actor(),
        channel=Channel.ONLINE,
        command_id=f"pages-apply:{nonce}",
    )
    store_files(documents, files, uploader=session.principal.sub, at=now, quota=quota)
    done = cases.submit(body, session.principal, cmd, ledger, documents, Response())
    return RedirectResponse(f"/pages/cases/{done.case_id}", status_code=303)


@dataclass(frozen=True)
class Answer:
    """An applicant's form on their own case as submitted (its CSRF token checked), at the
    version the page showed."""

    session: Session
    ledger: CaseLedger
    case: Case
    cmd: Command
    quota: int | None

    def take(
        self,
        table: Table,
        documents: DocumentStore,
        build: Callable[[dict[str, dict[str, Any]]], B],
        call: Callable[[B, Command, Response], object],
    ) -> Response:
        """Check the form, store its files as the applicant's uploads, call the case route, and
        go back to the case's page (the page again, 422, if the form is refused)."""
        try:
            body, files = _checked(self.case.terms, table, build)
        except Refused as exc:
            return case_view(
                self.session, self.ledger, self.case.id, error=str(exc), status=422, slug=exc.slug
            )
        uploader = self.session.principal.sub
        store_files(documents, files, uploader=uploader, at=self.cmd.at, quota=self.quota)
        call(body, self.cmd, Response())
        return RedirectResponse(f"/pages/cases/{self.case.id}", status_code=303)


async def answer(
    session: Applicant,
    now: Now,
    ledger: LedgerDep,
    case_id: UUID,
    quota: Quota,
    version: Annotated[int, Form(ge=1, le=2**31)],
    csrf: Csrf = "",
) -> Answer:
    """The applicant's form on their case: refused without this session's CSRF token (403 page),
    on another's case (404 page, as for none), or at a version the case has moved past (409)."""
    session.check_csrf(ANSWER_FORM, csrf)
    case = visible_case(ledger, case_id, session.principal)
    if case.version != version:
        # The ledger refuses a stale command too; refusing it here keeps its files out of the store.
        raise ConcurrencyError(case.id, version, case.version)
    cmd = Command(
        at=now, actor=session.principal.actor(), channel=Channel.ONLINE, expected_version=version
    )
    return Answer(session, ledger, case, cmd, quota)


Answered = Annotated[Answer, Depends(answer)]


@router.post("/cases/{case_id}/correct", responses=TO_CASE)
def correct_online(ans: Answered, table: MaterialTable, documents: DocumentsDep) -> Response:
    """Answer the correction notice online (在线补正) with the noticed materials. Its applicant."""
    caller = ans.session.principal
    return ans.take(
        table,
        documents,
        correction_body,
        lambda body, c, r: cases.correct(ans.case.id, body, caller, c, ans.ledger, documents, r),
    )


@router.post("/cases/{case_id}/supplement", responses=TO_CASE)
def supplement_online(ans: Answered, table: MaterialTable, documents: DocumentsDep) -> Response:
    """Supply committed materials online (在线补齐, via 网上). Its applicant."""
    caller = ans.session.principal
    return ans.take(
        table,
        documents,
        lambda rows: supplement_body(rows, SupplementVia.ONLINE.value),
        lambda body, c, r: cases.supplement(ans.case.id, body, caller, c, ans.ledger, documents, r),
    )
