"""Keys for offline verifiers: the root-signed trust list (COSE over CBOR, and a JSON view), the
root public key, and each issuing department's signed status list, for anyone; the registry with
each key's state, for administrators and auditors; replacing, revoking and enrolling keys, for
administrators (each once per Idempotency-Key).
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Response, status

from api.deps import AdminCommand, LedgerDep, Now, ReadsDep, RuntimeDep, allow
from api.errors import problem_responses
from api.key_schemas import (
    KID,
    KeyEnrol,
    KeyPublic,
    KeyReplacementPublic,
    KeyRevoke,
    KeyRotate,
)
from keys.errors import MalformedMessage
from keys.trustlist import TrustList, build_trust_list
from ledger.actors import Role
from ledger.key_views import Replacement
from licenses.types import UnknownLicenseType
from projections.license_registry import LicenseRegistry

router = APIRouter(prefix="/v1/keys", tags=["keys"], responses=problem_responses(404))
COSE = "application/cose; cose-type=cose-sign1"
Issuer = Path(min_length=1, max_length=64, examples=["zjj"])
Kid = Annotated[str, Path(pattern=KID, examples=["4d46562d689d1583b513f271a7b4fa58"])]
ADMINISTERS = problem_responses(401, 403, 404, 409, 422)


def _cose(description: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {COSE: {}}, "description": description}}


IfNoneMatch = Annotated[
    str | None,
    Header(
        max_length=256,
        description="the ETag of the trust list held: 304 while its sequence is current",
        examples=['W/"7"'],
    ),
]
UNCHANGED: dict[int | str, dict[str, Any]] = {
    304: {"description": "the trust list held is current (same sequence)"}
}


def _sequence_tag(sequence: int) -> str:
    # Weak: a list is signed afresh on each request (its issue time differs), but the same
    # sequence names the same keys and histories.
    return f'W/"{sequence}"'


def _unchanged(if_none_match: str | None, tag: str) -> Response | None:
    # Comparison is weak (RFC 9110 §13.1.2): W/ prefixes aside, any listed tag may match.
    if if_none_match is None:
        return None
    held = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    if tag.removeprefix("W/") in held or "*" in held:
        return Response(status_code=304, headers={"ETag": tag, "Cache-Control": "no-cache"})
    return None


@router.get(
    "/trust-list",
    response_class=Response,
    responses={**_cose("the signed trust list"), **UNCHANGED},
)
def trust_list(runtime: RuntimeDep, now: Now, if_none_match: IfNoneMatch = None) -> Response:
    """Every registered key with its history, signed by the root key (COSE_Sign1 over CBOR);
    ETag names its sequence, so a verifier polling with If-None-Match gets 304 until a key
    changes."""
    sequence, entries = runtime.ledger.keyring.published()
    tag = _sequence_tag(sequence)
    unchanged = _unchanged(if_none_match, tag)
    if unchanged is not None:
        return unchanged
    root = runtime.handle.keys.signer("root")
    signed = build_trust_list(entries, root=root, issued_at=now, sequence=sequence)
    return Response(signed, media_type=COSE, headers={"ETag": tag, "Cache-Control": "no-cache"})


@router.get("/trust-list.json", response_model=dict[str, Any], responses=UNCHANGED)
def trust_list_json(
    ledger: LedgerDep, now: Now, response: Response, if_none_match: IfNoneMatch = None
) -> Any:
    """The trust list's content as JSON (informative; the signed CBOR form is authoritative),
    with the signed form's ETag."""
    sequence, entries = ledger.keyring.published()
    tag = _sequence_tag(sequence)
    unchanged = _unchanged(if_none_match, tag)
    if unchanged is not None:
        return unchanged
    response.headers["ETag"] = tag
    response.headers["Cache-Control"] = "no-cache"
    view = TrustList(issued_at=now, sequence=sequence, entries={e.kid: e for e in entries})
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


@router.get(
    "", dependencies=[allow(Role.ADMIN, Role.AUDITOR)], responses=problem_responses(401, 403)
)
def registry(ledger: LedgerDep, now: Now) -> list[KeyPublic]:
    """Every registered key with its state now, oldest first. Administrators and auditors."""
    return [KeyPublic.model_validate(k) for k in ledger.key_admin.keys(now)]


@router.post("/{kid}/rotate", status_code=status.HTTP_201_CREATED, responses=ADMINISTERS)
def rotate_key(
    kid: Kid, cmd: AdminCommand, ledger: LedgerDep, body: KeyRotate | None = None
) -> KeyReplacementPublic:
    """Replace a key this service holds (a department's seal, the intake key, a courier key kept
    here): the new key signs from now, or from a start published ahead for offline verifiers;
    the old one until the overlap after that. Administrators."""
    starts_at = None if body is None else body.starts_at
    return _replacement(ledger.key_admin.rotate(cmd, bytes.fromhex(kid), starts_at=starts_at))


@router.post("/{kid}/revoke", responses=ADMINISTERS)
def revoke_key(kid: Kid, body: KeyRevoke, cmd: AdminCommand, ledger: LedgerDep) -> KeyPublic:
    """Revoke a key from a time (a compromise's, or now): what it signed from then on fails
    verification. The root key is not revoked here. Administrators."""
    answer = ledger.key_admin.revoke(
        cmd, bytes.fromhex(kid), reason=body.reason, revoked_at=body.revoked_at
    )
    return KeyPublic.model_validate(answer)


@router.post("/enrolments", status_code=status.HTTP_201_CREATED, responses=ADMINISTERS)
def enrol_key(body: KeyEnrol, cmd: AdminCommand, ledger: LedgerDep) -> KeyReplacementPublic:
    """Register a courier's own device key for its reports, replacing its earlier device key if
    named; a courier new here also gets a key held here to sign its events. Administrators."""
    try:
        der = base64.b64decode(body.public_key, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedMessage("public key: expected base64 of DER SubjectPublicKeyInfo") from None
    replaces = None if body.replaces is None else bytes.fromhex(body.replaces)
    enrolled = ledger.key_admin.enrol(
        cmd, courier=body.courier, public_key_der=der, replaces=replaces
    )
    return _replacement(enrolled)


def _replacement(done: Replacement) -> KeyReplacementPublic:
    replaced = None if done.replaces is None else KeyPublic.model_validate(done.replaces)
    return KeyReplacementPublic(key=KeyPublic.model_validate(done.key), replaces=replaced)
