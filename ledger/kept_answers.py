"""What the log keeps of a keyed verification's or shared view's first answer, so that a repeat
of its command id gets that answer again: everything but the holder's data, which is kept only
as a digest. A repeat carries the same request (its arguments are fingerprinted), so the holder's
data is read again from the same credential and checked against the digest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ledger.errors import LedgerError
from ledger.transcodings import dumps
from licenses.credential import decode_credential
from licenses.issuance import present
from licenses.model import LicenseClaims
from licenses.qr import decode_qr_text, encode_qr_text
from licenses.verify import VerificationResult, VerificationStatus

Kept = dict[str, Any]


@dataclass(frozen=True)
class SharedLicense:
    """What a department's view shows of one license: only the fields its policy allows."""

    license_id: str
    license_type: str
    issuer: str
    state: str
    fields: dict[str, str | int | bool]
    presentation: str  # EL1: QR text disclosing only those fields, verifiable offline


class AnswerNotRestored(LedgerError):
    """A repeat whose request no longer yields the holder's data the first answer showed."""


def _digest(value: object) -> bytes:
    return hashlib.sha256(dumps(value)).digest()


def _claims_digest(claims: LicenseClaims) -> bytes:
    return _digest(
        {
            "iss": claims.iss,
            "sub": claims.sub,
            "license_id": claims.license_id,
            "license_type": claims.license_type,
            "version": claims.version,
            "fields": dict(claims.fields),
        }
    )


def kept_verification(result: VerificationResult) -> Kept:
    """A verification's answer without the holder's data (its claims only as a digest)."""
    return {
        "status": result.status.value,
        "step": result.step,
        "step_name": result.step_name,
        "reason": result.reason,
        "undisclosed": sorted(result.undisclosed),
        "status_checked": result.status_checked,
        "region": result.region,
        "claims": None if result.claims is None else _claims_digest(result.claims),
    }


def restored_verification(kept: Mapping[str, Any], credential: str | bytes) -> VerificationResult:
    """The first answer again, its claims read anew from the same credential (QR text or bytes)."""
    claims = None
    if kept["claims"] is not None:
        data = decode_qr_text(credential) if isinstance(credential, str) else credential
        claims = decode_credential(data).claims
        if _claims_digest(claims) != kept["claims"]:
            raise AnswerNotRestored(
                "the first answer's license data cannot be read again from this request: "
                "expected the credential verified then, got another"
            )
    return VerificationResult(
        VerificationStatus(kept["status"]),
        kept["step"],
        kept["step_name"],
        kept["reason"],
        claims,
        frozenset(kept["undisclosed"]),
        status_checked=bool(kept["status_checked"]),
        region=kept["region"],
    )


def kept_views(shared: list[SharedLicense]) -> Kept:
    """A shared view's answer without the holder's data (field values only as a digest)."""
    return {
        "views": [
            {
                "license_id": s.license_id,
                "license_type": s.license_type,
                "issuer": s.issuer,
                "state": s.state,
                "fields": sorted(s.fields),
                "digest": _digest({"fields": s.fields, "presentation": s.presentation}),
            }
            for s in shared
        ]
    }


def restored_views(
    kept: Mapping[str, Any], credential_of: Callable[[str], bytes | None]
) -> list[SharedLicense]:
    """The first view again: each license's presentation made anew from its credential, with
    the fields the first answer disclosed, and checked against the first answer's digest."""
    shared = []
    for view in kept["views"]:
        credential = credential_of(view["license_id"])
        if credential is None:
            raise AnswerNotRestored(f"license {view['license_id']} is no longer in this vault")
        presentation = present(credential, set(view["fields"]))
        fields = dict(decode_credential(presentation).claims.fields)
        text = encode_qr_text(presentation)
        if _digest({"fields": fields, "presentation": text}) != view["digest"]:
            raise AnswerNotRestored(
                f"license {view['license_id']} no longer shows what the first answer showed"
            )
        shared.append(
            SharedLicense(
                license_id=view["license_id"],
                license_type=view["license_type"],
                issuer=view["issuer"],
                state=view["state"],
                fields=fields,
                presentation=text,
            )
        )
    return shared
