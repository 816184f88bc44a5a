"""Cases as read: an applicant's own cases or an officer's department queue, one case, and its
timeline of signed events. An applicant sees only their own cases (others are 404).
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response

from api.deps import Caller, LedgerDep, Now, ReadsDep, allow, visible_case
from api.errors import problem_responses
from api.routes.cases import case_public
from api.schemas import CasePublic, CaseSummaryPublic, TimelineEntryPublic, jsonable
from ledger.actors import Role
from ledger.rules import local_date
from ledger.timeline import timeline
from projections.case_board import CaseBoard

APPLICANT, OFFICER, AUDITOR = Role.APPLICANT, Role.OFFICER, Role.AUDITOR
router = APIRouter(prefix="/v1/cases", tags=["cases"], responses=problem_responses(401, 403, 404))


@router.get("", dependencies=[allow(APPLICANT, OFFICER)])
def list_cases(
    caller: Caller,
    reads: ReadsDep,
    now: Now,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[CaseSummaryPublic]:
    """An applicant's own cases (newest first), or an officer's department queue (soonest due)."""
    board = reads.model(CaseBoard)
    if caller.role is APPLICANT:
        mine = board.applicant_cases(reads.database, caller.sub)
        return [_summary(f, None) for f in mine[offset : offset + limit]]
    queue = board.queue(reads.database, caller.department or "", today=local_date(now))
    return [_summary(e.case, e.action.value) for e in queue[offset : offset + limit]]


def _summary(facts: Any, action: str | None) -> CaseSummaryPublic:
    return CaseSummaryPublic(
        case_id=facts.case_id,
        item_code=facts.item_code,
        item_name=facts.item_name,
        status=facts.status.value,
        due=facts.due,
        version=facts.version,
        action=action,
    )


@router.get("/{case_id}", dependencies=[allow(APPLICANT, OFFICER, AUDITOR)])
def get_case(case_id: UUID, caller: Caller, ledger: LedgerDep, r: Response) -> CasePublic:
    """A case. Its applicant, officers of its departments or the service centre, auditors."""
    case = visible_case(ledger, case_id, caller)
    r.headers["ETag"] = f'"{case.version}"'
    return case_public(case)


@router.get("/{case_id}/timeline", dependencies=[allow(APPLICANT, OFFICER, AUDITOR)])
def get_timeline(case_id: UUID, caller: Caller, ledger: LedgerDep) -> list[TimelineEntryPublic]:
    """Every signed event of the case with its signer and verification. As for the case."""
    visible_case(ledger, case_id, caller)
    return [TimelineEntryPublic(**jsonable_entry(vars(e))) for e in timeline(ledger, case_id)]


def jsonable_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """A timeline entry with its actor and data made JSON-safe."""
    return {**entry, "actor": jsonable(entry["actor"]), "data": jsonable(entry["data"])}
