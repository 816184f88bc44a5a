"""Other regions' trust (跨区域互认): administrators pin a region's root key and install the trust
lists and status lists it publishes, each verified before it is kept; staff read what is installed.
A repeated request changes nothing and answers as the first did.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response, status
from fastapi.concurrency import run_in_threadpool

from api.deps import AdminCommand, LedgerDep, allow, capped_body
from api.errors import problem_responses
from api.region_schemas import (
    RegionCreate,
    RegionPublic,
    RegionWithdraw,
    StatusListPublic,
    TrustListPublic,
)
from ledger.actors import Role
from ledger.application import CaseLedger
from ledger.commands import Command
from ledger.errors import RegionDocumentInvalid
from ledger.regions import MAX_DOCUMENT_BYTES, Region

router = APIRouter(
    prefix="/v1/regions",
    tags=["regions"],
    responses=problem_responses(401, 403, 404, 409, 413, 422),
)
DOCUMENT = "a region document"
Name = Annotated[str, Path(min_length=2, max_length=32, examples=["hunan"])]
_COSE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "COSE_Sign1 bytes (application/cose; cose-type=cose-sign1)",
        "content": {"application/cose": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def region_public(ledger: CaseLedger, region: Region) -> RegionPublic:
    """A region as the API shows it."""
    trust = ledger.regions.trust_list(region)
    return RegionPublic(
        name=region.name,
        title=region.title,
        root_kid=region.root_kid.hex(),
        registered_at=region.registered_at,
        active=region.active,
        withdrawn_at=region.withdrawn_at,
        withdrawal_reason=region.withdrawal_reason,
        trust_list=None
        if trust is None
        else TrustListPublic(
            sequence=trust.sequence, issued_at=trust.issued_at, keys=len(trust.entries)
        ),
        status_lists=[
            StatusListPublic(
                list_id=copy.list_id, issued_at=copy.issued_at, installed_at=copy.installed_at
            )
            for copy in sorted(region.status_lists.values(), key=lambda c: c.list_id)
        ],
    )


def _installed(
    ledger: CaseLedger, install: Callable[..., bool], cmd: Command, name: str, data: bytes
) -> RegionPublic:
    # The ledger's work off the event loop: the install, then the region as it now stands.
    install(cmd, name=name, data=data)
    return region_public(ledger, ledger.regions.region(name))


@router.get("", dependencies=[allow(Role.ADMIN, Role.AUDITOR, Role.OFFICER, Role.VERIFIER)])
def list_regions(ledger: LedgerDep) -> list[RegionPublic]:
    """Every region registered here, withdrawn ones too. Staff and verifiers."""
    return [region_public(ledger, region) for region in ledger.regions.regions()]


@router.put("/{name}", responses={201: {"model": RegionPublic}})
def register_region(
    name: Name, body: RegionCreate, cmd: AdminCommand, ledger: LedgerDep, response: Response
) -> RegionPublic:
    """Pin a region's root public key: 201 when new, 200 when the same again. Administrators."""
    try:
        der = base64.b64decode(body.root_public_key, validate=True)
    except (binascii.Error, ValueError):
        raise RegionDocumentInvalid("root public key: expected base64 of DER SPKI") from None
    created = ledger.regions.register(cmd, name=name, title=body.title, root_public_key=der)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return region_public(ledger, ledger.regions.region(name))


@router.put("/{name}/trust-list", openapi_extra=_COSE_BODY)
async def install_trust_list(
    name: Name, request: Request, cmd: AdminCommand, ledger: LedgerDep
) -> RegionPublic:
    """Install the region's signed trust list (COSE_Sign1 by its root, a higher sequence than
    the one installed). Administrators."""
    data = await capped_body(request, MAX_DOCUMENT_BYTES, "region-document-too-large", DOCUMENT)
    return await run_in_threadpool(
        _installed, ledger, ledger.regions.install_trust_list, cmd, name, data
    )


@router.post("/{name}/status-lists", openapi_extra=_COSE_BODY)
async def install_status_list(
    name: Name, request: Request, cmd: AdminCommand, ledger: LedgerDep
) -> RegionPublic:
    """Install one of the region's signed status lists (by a key on its trust list, newer than
    the copy here). Administrators."""
    data = await capped_body(request, MAX_DOCUMENT_BYTES, "region-document-too-large", DOCUMENT)
    return await run_in_threadpool(
        _installed, ledger, ledger.regions.install_status_list, cmd, name, data
    )


@router.post("/{name}/withdraw")
def withdraw_region(
    name: Name, body: RegionWithdraw, cmd: AdminCommand, ledger: LedgerDep
) -> RegionPublic:
    """Stop verifying the region's credentials here; its history stays. Administrators."""
    ledger.regions.withdraw(cmd, name=name, reason=body.reason)
    return region_public(ledger, ledger.regions.region(name))
