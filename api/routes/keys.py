"""Keys for offline verifiers: the root-signed trust list (COSE over CBOR, and a JSON view), the
root public key, and each issuing department's signed status list. Anyone.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Response

from api.deps import LedgerDep, Now, ReadsDep, RuntimeDep
from api.errors import problem_responses
from keys.trustlist import TrustList, build_trust_list
from licenses.types import UnknownLicenseType
from projections.license_registry import LicenseRegistry

router = APIRouter(prefix="/v1/keys", tags=["keys"], responses=problem_responses(404))
COSE = "application/cose; cose-type=cose-sign1"
Issuer = Path(min_length=1, max_length=64, examples=["zjj"])


def _cose(description: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {COSE: {}}, "description": description}}


@router.get("/trust-list", response_class=Response, responses=_cose("the signed trust list"))
def trust_list(runtime: RuntimeDep, now: Now) -> Response:
    """Every registered key with its history, signed by the root key (COSE_Sign1 over CBOR)."""
    entries = runtime.ledger.keyring.entries()
    root = runtime.handle.keys.signer("root")
    signed = build_trust_list(entries, root=root, issued_at=now, sequence=len(entries))
    return Response(signed, media_type=COSE)


@router.get("/trust-list.json")
def trust_list_json(ledger: LedgerDep, now: Now) -> dict[str, Any]:
    """The trust list's content as JSON (informative; the signed CBOR form is authoritative)."""
    entries = ledger.keyring.entries()
    view = TrustList(issued_at=now, sequence=len(entries), entries={e.kid: e for e in entries})
    return view.to_json()


@router.get(
    "/root.der",
    response_class=Response,
    responses={200: {"content": {"application/pkix-spki": {}}, "description": "DER SPKI"}},
)
def root_key(runtime: RuntimeDep) -> Response:
    """The root public key (DER SubjectPublicKeyInfo); pin it out of band before trusting it."""
    der = runtime.handle.keys.signer("root").public_key_der()
    return Response(der, media_type="application/pkix-spki")


@router.get("/status-lists/{issuer}", response_class=Response, responses=_cose("status list"))
def status_list(ledger: LedgerDep, reads: ReadsDep, now: Now, issuer: str = Issuer) -> Response:
    """The issuing department's signed status list (revoked and suspended slots)."""
    issuers = {t.issuer for t in ledger.vault.types.by_code.values()}
    if issuer not in issuers:
        raise UnknownLicenseType(f"department {issuer!r} issues no license type")
    slots = reads.model(LicenseRegistry).status_list(reads.database, issuer)
    return Response(ledger.vault.sign_status_list(issuer, slots, now), media_type=COSE)
