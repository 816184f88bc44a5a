"""A department's shared-data view of a holder's licenses for a purpose: only the fields its
policy allows, each read recorded as a license use. A department's verifiers and officers.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import DeskCommand, LedgerDep, allow
from api.errors import problem_responses
from api.license_schemas import SharedLicensePublic, SharedViewCreate
from api.schemas import jsonable
from ledger.actors import Role
from ledger.kept_answers import SharedLicense

router = APIRouter(prefix="/v1/shared", tags=["shared"], responses=problem_responses(401, 403, 422))


@router.post("/views", dependencies=[allow(Role.VERIFIER, Role.OFFICER)])
def shared_view(
    body: SharedViewCreate, cmd: DeskCommand, ledger: LedgerDep
) -> list[SharedLicensePublic]:
    """The holder's licenses as the caller's department may read them for ``purpose``. With an
    Idempotency-Key, a repeat gets the first answer and records no second read."""
    asked = {"holder_id": body.holder_id, "purpose": body.purpose}
    if cmd.command_id is not None:
        return _views(ledger.sharing.shared_view_once(cmd, **asked))
    return _views(ledger.sharing.shared_view(cmd, **asked))


def _views(shared: list[SharedLicense]) -> list[SharedLicensePublic]:
    return [
        SharedLicensePublic(
            license_id=s.license_id,
            license_type=s.license_type,
            issuer=s.issuer,
            state=s.state,
            fields=jsonable(s.fields),
            presentation=s.presentation,
        )
        for s in shared
    ]
