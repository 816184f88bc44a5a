"""Cases: submission, one POST per command (Idempotency-Key, If-Match), and the case as shown.

Officers' departments are checked by the ledger (``ActionNotPermitted`` → 403); an applicant
reaches only their own cases (anything else is 404, as for a case that does not exist).
"""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID

from fastapi import APIRouter, Response, status

from api.deps import (
    Caller,
    DeskCommand,
    DocumentsDep,
    LedgerDep,
    WindowCommand,
    allow,
    own_case,
)
from api.errors import forbidden, problem_responses
from api.idempotency import outcome, submission_id
from api.schemas import (
    CaseCreate,
    CasePublic,
    CommandPublic,
    CorrectionCreate,
    CorrectionNoticeCreate,
    DecisionCreate,
    DispatchCreate,
    ExtendCreate,
    OpinionCreate,
    RatingCreate,
    RefusalCreate,
    SupplementCreate,
    SuspendCreate,
    ToleranceCreate,
    TransferCreate,
    VisitCreate,
    WithdrawCreate,
    jsonable,
    material_refs,
)
from ledger.actors import Role
from ledger.application import CaseLedger
from ledger.case import Case
from ledger.commands import Command
from ledger.errors import ConcurrencyError
from licenses.errors import mask_id

APPLICANT, OFFICER = Role.APPLICANT, Role.OFFICER
router = APIRouter(prefix="/v1/cases", tags=["cases"], responses=problem_responses(401, 403, 404))
COMMAND = problem_responses(409, 422)


def _done(
    ledger: CaseLedger, cmd: Command, case_id: UUID, returned: object, r: Response
) -> CommandPublic:
    result = outcome(ledger, cmd, case_id, returned)
    r.headers["ETag"] = f'"{result.version}"'
    return CommandPublic(**vars(result))


def _for_applicant(ledger: CaseLedger, case_id: UUID, caller: Caller, cmd: Command) -> Command:
    """The command as the applicant gives it, or as staff give it on the applicant's behalf."""
    if own_case(ledger, case_id, caller) is not None:
        return cmd
    holder, _ = ledger.case(case_id).applicant
    return replace(cmd, actor=caller.actor(on_behalf_of=holder))


# --- submission --------------------------------------------------------------------------------


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[allow(APPLICANT, OFFICER)],
    responses=COMMAND,
)
def submit(
    body: CaseCreate,
    caller: Caller,
    cmd: WindowCommand,
    ledger: LedgerDep,
    documents: DocumentsDep,
    r: Response,
) -> CommandPublic:
    """Submit a case with its materials (documents uploaded first). Applicants (online, for
    themselves) or window officers (naming them)."""
    applicant = caller.sub if caller.role is APPLICANT else body.applicant_id
    if applicant is None or (
        caller.role is APPLICANT and body.applicant_id not in (None, caller.sub)
    ):
        raise forbidden("an applicant submits for themself; staff must name the applicant")
    refs = material_refs(body.materials)
    documents.require(refs.values(), uploader=caller.sub)
    case_id = ledger.submit(
        cmd,
        submission_id=submission_id(caller, cmd.command_id),
        item_code=body.item_code,
        applicant_id=applicant,
        materials=refs,
    )
    r.headers["Location"] = f"/v1/cases/{case_id}"
    return _done(ledger, cmd, case_id, None, r)


# --- intake: front desk ------------------------------------------------------------------------


@router.post("/{case_id}/receive", dependencies=[allow(OFFICER)], responses=COMMAND)
def receive(case_id: UUID, cmd: WindowCommand, ledger: LedgerDep, r: Response) -> CommandPublic:
    """Receive (受理) a complete case; the clock starts. Officers of the front desk or lead."""
    return _done(ledger, cmd, case_id, ledger.receive(case_id, cmd), r)


@router.post("/{case_id}/accept-with-tolerance", dependencies=[allow(OFFICER)], responses=COMMAND)
def accept_with_tolerance(
    case_id: UUID, body: ToleranceCreate, cmd: WindowCommand, ledger: LedgerDep, r: Response
) -> CommandPublic:
    """Accept with missing secondary materials on a commitment (容缺受理). Front desk or lead."""
    due = ledger.accept_with_tolerance(
        case_id, cmd, commitment=body.commitment, commitment_due=body.commitment_due
    )
    return _done(ledger, cmd, case_id, due, r)


@router.post("/{case_id}/notify-correction", dependencies=[allow(OFFICER)], responses=COMMAND)
def notify_correction(
    case_id: UUID, body: CorrectionNoticeCreate, cmd: WindowCommand, ledger: LedgerDep, r: Response
) -> CommandPublic:
    """Give the one-time correction notice; a second is refused (409). Front desk or lead."""
    version = ledger.notify_correction(case_id, cmd, items=body.items, text=body.text)
    return _done(ledger, cmd, case_id, version, r)


@router.post("/{case_id}/refuse", dependencies=[allow(OFFICER)], responses=COMMAND)
def refuse(
    case_id: UUID, body: RefusalCreate, cmd: WindowCommand, ledger: LedgerDep, r: Response
) -> CommandPublic:
    """Refuse to accept (不予受理) with reasons and legal basis. Front desk or lead."""
    version = ledger.refuse(case_id, cmd, reasons=body.reasons, legal_basis=body.legal_basis)
    return _done(ledger, cmd, case_id, version, r)


@router.post("/{case_id}/correct", dependencies=[allow(APPLICANT, OFFICER)], responses=COMMAND)
def correct(
    case_id: UUID,
    body: CorrectionCreate,
    caller: Caller,
    cmd: WindowCommand,
    ledger: LedgerDep,
    documents: DocumentsDep,
    r: Response,
) -> CommandPublic:
    """Supply corrected materials (documents uploaded first). The applicant (own case) or the
    front desk (a visit)."""
    own_case(ledger, case_id, caller)
    refs = material_refs(body.materials)
    documents.require(refs.values(), uploader=caller.sub)
    version = ledger.correct(case_id, cmd, materials=refs)
    return _done(ledger, cmd, case_id, version, r)


@router.post("/{case_id}/supplement", dependencies=[allow(APPLICANT, OFFICER)], responses=COMMAND)
def supplement(
    case_id: UUID,
    body: SupplementCreate,
    caller: Caller,
    cmd: WindowCommand,
    ledger: LedgerDep,
    documents: DocumentsDep,
    r: Response,
) -> CommandPublic:
    """Supply committed materials (online, e-mail, IM, fax; documents uploaded first). The
    applicant (own case) or the front desk."""
    own_case(ledger, case_id, caller)
    refs = material_refs(body.materials)
    documents.require(refs.values(), uploader=caller.sub)
    return _done(
        ledger, cmd, case_id, ledger.supplement(case_id, cmd, materials=refs, via=body.via), r
    )


# --- review and decision ------------------------------------------------------------------------


@router.post("/{case_id}/opinions", dependencies=[allow(OFFICER)], responses=COMMAND)
def give_opinion(
    case_id: UUID, body: OpinionCreate, cmd: DeskCommand, ledger: LedgerDep, r: Response
) -> CommandPublic:
    """Record the officer's department's review opinion (parallel review). Required departments."""
    version = ledger.give_opinion(case_id, cmd, approve=body.approve, reasons=body.reasons)
    return _done(ledger, cmd, case_id, version, r)


@router.post("/{case_id}/transfer", dependencies=[allow(OFFICER)], responses=COMMAND)
def transfer(
    case_id: UUID, body: TransferCreate, cmd: DeskCommand, ledger: LedgerDep, r: Response
) -> CommandPublic:
    """Pass the case to another level with this level's opinion. Lead department."""
    version = ledger.transfer(
        case_id, cmd, to_level=body.to_level, to_unit=body.to_unit, opinion=body.opinion
    )
    return _done(ledger, cmd, case_id, version, r)


@router.post("/{case_id}/suspend", dependencies=[allow(OFFICER)], responses=COMMAND)
def suspend(
    case_id: UUID, body: SuspendCreate, cmd: DeskCommand, ledger: LedgerDep, r: Response
) -> CommandPublic:
    """Stop the clock for a declared special step. Lead department."""
    version = ledger.suspend(case_id, cmd, step=body.step, reason=body.reason)
    return _done(ledger, cmd, case_id, version, r)


@router.post("/{case_id}/resume", dependencies=[allow(OFFICER)], responses=COMMAND)
def resume(case_id: UUID, cmd: DeskCommand, ledger: LedgerDep, r: Response) -> CommandPublic:
    """Restart the clock; the deadline moves by the paused working days. Lead department."""
    return _done(ledger, cmd, case_id, ledger.resume(case_id, cmd), r)


@router.post("/{case_id}/extend", dependencies=[allow(OFFICER)], responses=COMMAND)
def extend(
    case_id: UUID, body: ExtendCreate, cmd: DeskCommand, ledger: LedgerDep, r: Response
) -> CommandPublic:
    """Extend the deadline once, with the approver and a reason. Lead department."""
    version = ledger.extend(case_id, cmd, due=body.due, reason=body.reason, approver=body.approver)
    return _done(ledger, cmd, case_id, version, r)


@router.post("/{case_id}/decide", dependencies=[allow(OFFICER)], responses=COMMAND)
def decide(
    case_id: UUID, body: DecisionCreate, cmd: DeskCommand, ledger: LedgerDep, r: Response
) -> CommandPublic:
    """Grant (every required department approved) or deny. Lead department."""
    version = ledger.decide(
        case_id, cmd, grant=body.grant, legal_basis=body.legal_basis, reasons=body.reasons
    )
    return _done(ledger, cmd, case_id, version, r)


@router.post("/{case_id}/issue-license", dependencies=[allow(OFFICER)], responses=COMMAND)
def issue_license(case_id: UUID, cmd: DeskCommand, ledger: LedgerDep, r: Response) -> CommandPublic:
    """Issue the item's e-license (refused while commitments are open). Lead department."""
    _check_version(ledger, case_id, cmd)
    return _done(ledger, cmd, case_id, ledger.issue_license(case_id, cmd), r)


def _check_version(ledger: CaseLedger, case_id: UUID, cmd: Command) -> None:
    # The vault does not compare If-Match itself (other commands do, inside the ledger).
    current = ledger.case(case_id).version
    if cmd.expected_version is not None and current != cmd.expected_version:
        raise ConcurrencyError(case_id, cmd.expected_version, current)


# --- results and closing ------------------------------------------------------------------------


@router.post("/{case_id}/dispatch", dependencies=[allow(OFFICER)], responses=COMMAND)
def dispatch(
    case_id: UUID, body: DispatchCreate, cmd: WindowCommand, ledger: LedgerDep, r: Response
) -> CommandPublic:
    """Hand the result to a courier (快递送达). Front desk or lead."""
    version = ledger.dispatch(
        case_id, cmd, courier=body.courier, tracking_number=body.tracking_number
    )
    return _done(ledger, cmd, case_id, version, r)


@router.post("/{case_id}/pick-up", dependencies=[allow(OFFICER)], responses=COMMAND)
def pick_up(case_id: UUID, cmd: WindowCommand, ledger: LedgerDep, r: Response) -> CommandPublic:
    """Record a pickup at the window (a visit). Front desk or lead."""
    return _done(ledger, cmd, case_id, ledger.pick_up(case_id, cmd), r)


@router.post("/{case_id}/visits", dependencies=[allow(OFFICER)], responses=COMMAND)
def record_visit(
    case_id: UUID, body: VisitCreate, cmd: WindowCommand, ledger: LedgerDep, r: Response
) -> CommandPublic:
    """Record an in-person visit with its reason. Front desk or lead."""
    version = ledger.record_visit(case_id, cmd, reason=body.reason)
    return _done(ledger, cmd, case_id, version, r)


@router.post("/{case_id}/close", dependencies=[allow(OFFICER)], responses=COMMAND)
def close(case_id: UUID, cmd: DeskCommand, ledger: LedgerDep, r: Response) -> CommandPublic:
    """Close the case (办结) once its result is out. Front desk or lead."""
    return _done(ledger, cmd, case_id, ledger.close_case(case_id, cmd), r)


@router.post("/{case_id}/withdraw", dependencies=[allow(APPLICANT, OFFICER)], responses=COMMAND)
def withdraw(
    case_id: UUID,
    body: WithdrawCreate,
    caller: Caller,
    cmd: WindowCommand,
    ledger: LedgerDep,
    r: Response,
) -> CommandPublic:
    """Withdraw before a decision. The applicant (own case) or staff on their behalf (代办)."""
    cmd = _for_applicant(ledger, case_id, caller, cmd)
    return _done(ledger, cmd, case_id, ledger.withdraw(case_id, cmd, reason=body.reason), r)


@router.post("/{case_id}/rate", dependencies=[allow(APPLICANT)], responses=COMMAND)
def rate(
    case_id: UUID,
    body: RatingCreate,
    caller: Caller,
    cmd: DeskCommand,
    ledger: LedgerDep,
    r: Response,
) -> CommandPublic:
    """Rate the service after closing (好差评). The applicant, own case."""
    own_case(ledger, case_id, caller)
    version = ledger.rate(case_id, cmd, stars=body.stars, comment=body.comment)
    return _done(ledger, cmd, case_id, version, r)


# --- the case as shown -------------------------------------------------------------------------


def case_public(case: Case) -> CasePublic:
    """A case as the API shows it."""
    holder, kind = case.applicant
    decision = case.decision
    return CasePublic(
        case_id=case.id,
        version=case.version,
        item_code=case.item_code,
        item_name=case.terms.name,
        status=case.status.value,
        applicant_kind=kind.value,
        applicant_masked=mask_id(holder),
        receipt_number=case.receipt_number,
        due=case.due,
        commitment_due=case.commitment_due,
        open_commitments=list(case.open_commitments),
        materials={code: ref.as_dict() for code, ref in case.materials.items()},
        opinions={d: o.approve for d, o in case.opinions.items()},
        decision=None if decision is None else jsonable(vars(decision)),
        license_id=case.license_ref,
        visits=len(case.visits),
        visit_target=case.visit_target,
        rating=case.rating,
    )
