"""E-licenses: a holder's list (the holder id in the body), one license, its credential (COSE)
and QR image, and who used the caller's licenses. Holders, the issuing department, auditors.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Path, Query, Response

from api.deps import Caller, LedgerDep, Now, ReadsDep, allow
from api.errors import forbidden, problem_responses
from api.license_schemas import HolderQuery, LicensePublic, LicenseUsePublic, StatusChangeCreate
from api.schemas import jsonable
from ledger.actors import Role
from ledger.application import CaseLedger
from ledger.authority import SERVICE_CENTRE
from ledger.commands import Command
from ledger.sharing_service import holder_ref
from ledger.vault_service import UnknownLicense
from licenses.domain import License
from licenses.errors import mask_id
from licenses.qr import encode_qr_text, qr_png

APPLICANT, OFFICER, AUDITOR = Role.APPLICANT, Role.OFFICER, Role.AUDITOR
router = APIRouter(
    prefix="/v1/licenses", tags=["licenses"], responses=problem_responses(401, 403, 404)
)
LicenseId = Path(
    min_length=1,
    max_length=128,
    examples=["1.2.156.3005.2.11512000MB1546347P001.11512000MB1546347P.9F2C3A1B00000000.001.K"],
)


def license_public(license_: License, now: datetime) -> LicensePublic:
    """A license as the API shows it (the holder id masked)."""
    return LicensePublic(
        license_id=license_.license_id,
        license_type=license_.license_type,
        issuer=license_.issuer,
        state=license_.status_at(now).value,
        holder_masked=mask_id(license_.holder_id),
        case_id=license_.case_id,
        valid_from=license_.valid_from,
        valid_to=license_.valid_to,
        issued_at=license_.issued_at,
        fields=jsonable(license_.fields),
    )


def visible_license(ledger: CaseLedger, license_id: str, caller: Caller) -> License:
    """The license if the caller is its holder, an officer of its issuer or an auditor; else 404."""
    license_ = ledger.vault.license(license_id)
    if (
        caller.role is AUDITOR
        or (caller.role is APPLICANT and caller.sub == license_.holder_id)
        or (caller.role is OFFICER and caller.department == license_.issuer)
    ):
        return license_
    raise UnknownLicense(f"no license with id {license_id!r}")  # as if there were none


@router.post("/query", dependencies=[allow(APPLICANT, OFFICER)], responses=problem_responses(422))
def holder_licenses(
    body: HolderQuery, caller: Caller, ledger: LedgerDep, now: Now
) -> list[LicensePublic]:
    """A holder's licenses. The holder, or service-centre staff acting for the holder (代办)."""
    if caller.role is OFFICER and caller.department != SERVICE_CENTRE:
        raise forbidden("departments read a holder's licenses through their shared-data views")
    behalf = body.holder_id if caller.role is OFFICER else None
    found = ledger.vault.licenses_of(body.holder_id, caller.actor(on_behalf_of=behalf))
    return [license_public(license_, now) for license_ in found]


@router.get("/uses", dependencies=[allow(APPLICANT)])
def my_license_uses(
    caller: Caller,
    reads: ReadsDep,
    before: int | None = Query(default=None, ge=1),
    limit: int = Query(default=50, ge=1, le=200),
) -> list[LicenseUsePublic]:
    """Who used the caller's licenses, when and why, newest first (用证记录). The holder."""
    from projections.license_use import LicenseUseLog  # the use log may be absent from a build

    page = reads.model(LicenseUseLog).holder_view(
        reads.database, holder_ref(caller.sub), before=before, limit=limit
    )
    return [
        LicenseUsePublic(
            license_id=e.license_id,
            department=e.department,
            purpose=e.purpose,
            kind=e.kind,
            result=e.result,
            fields=list(e.fields),
            at=e.at,
        )
        for e in page.entries
    ]


@router.get("/{license_id}", dependencies=[allow(APPLICANT, OFFICER, AUDITOR)])
def get_license(
    caller: Caller, ledger: LedgerDep, now: Now, license_id: str = LicenseId
) -> LicensePublic:
    """One license. Its holder, officers of its issuing department, auditors."""
    return license_public(visible_license(ledger, license_id, caller), now)


@router.get(
    "/{license_id}/credential",
    dependencies=[allow(APPLICANT, OFFICER, AUDITOR)],
    response_class=Response,
    responses={200: {"content": {"application/cose": {}}, "description": "COSE_Sign1 bytes"}},
)
def get_credential(caller: Caller, ledger: LedgerDep, license_id: str = LicenseId) -> Response:
    """The signed credential (COSE_Sign1, CWT claims). As for the license."""
    credential = visible_license(ledger, license_id, caller).credential
    return Response(credential, media_type="application/cose; cose-type=cose-sign1")


@router.get(
    "/{license_id}/qr.png",
    dependencies=[allow(APPLICANT, OFFICER, AUDITOR)],
    response_class=Response,
    responses={200: {"content": {"image/png": {}}, "description": "the license QR code"}},
)
def get_qr(caller: Caller, ledger: LedgerDep, license_id: str = LicenseId) -> Response:
    """The license's QR code (EL1: + Base45 + zlib of the credential) as PNG. As for the license."""
    credential = visible_license(ledger, license_id, caller).credential
    return Response(qr_png(encode_qr_text(credential)), media_type="image/png")


# --- status changes by the issuing department ----------------------------------------------------


STATUS_CHANGE = problem_responses(409, 422)


def _change(
    action: str,
    license_id: str,
    body: StatusChangeCreate,
    caller: Caller,
    ledger: CaseLedger,
    now: datetime,
) -> LicensePublic:
    # The vault checks that the caller is an officer of the issuing department; it takes no
    # command ids, so these changes are not made idempotent by an Idempotency-Key.
    change = getattr(ledger.vault, action)
    change(license_id, Command(at=now, actor=caller.actor()), reason=body.reason)
    return license_public(ledger.vault.license(license_id), now)


@router.post("/{license_id}/suspend", dependencies=[allow(OFFICER)], responses=STATUS_CHANGE)
def suspend_license(
    body: StatusChangeCreate,
    caller: Caller,
    ledger: LedgerDep,
    now: Now,
    license_id: str = LicenseId,
) -> LicensePublic:
    """Suspend a license (it shows as suspended online and on the status list). Its issuer."""
    return _change("suspend", license_id, body, caller, ledger, now)


@router.post("/{license_id}/reinstate", dependencies=[allow(OFFICER)], responses=STATUS_CHANGE)
def reinstate_license(
    body: StatusChangeCreate,
    caller: Caller,
    ledger: LedgerDep,
    now: Now,
    license_id: str = LicenseId,
) -> LicensePublic:
    """End a license's suspension. Its issuer."""
    return _change("reinstate", license_id, body, caller, ledger, now)


@router.post("/{license_id}/revoke", dependencies=[allow(OFFICER)], responses=STATUS_CHANGE)
def revoke_license(
    body: StatusChangeCreate,
    caller: Caller,
    ledger: LedgerDep,
    now: Now,
    license_id: str = LicenseId,
) -> LicensePublic:
    """Revoke a license for good. Its issuer."""
    return _change("revoke", license_id, body, caller, ledger, now)
