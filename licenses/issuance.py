"""Issuing a license credential (each field a salted disclosure, the digests signed) and presenting
it with only some fields disclosed; the layout and the decoding are ``licenses.credential``'s.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Set
from typing import Any

from keys import cose
from keys.cbor import dumps_canonical
from keys.errors import KeyManagementError
from keys.registry import kid_for
from keys.signer import Signer
from licenses.credential import (
    CLAIM_DIGESTS,
    CLAIM_LICENSE_ID,
    CLAIM_LICENSE_TYPE,
    CLAIM_STATUS,
    CLAIM_VERSION,
    CWT_EXP,
    CWT_IAT,
    CWT_ISS,
    CWT_NBF,
    CWT_SUB,
    DISCLOSURES,
    SALT_LENGTH,
    parse_credential,
)
from licenses.errors import InvalidCredential
from licenses.model import LicenseClaims


def _claims_map(claims: LicenseClaims, digests: Mapping[str, bytes]) -> dict[int | str, Any]:
    payload: dict[int | str, Any] = {
        CWT_ISS: claims.iss,
        CWT_SUB: claims.sub,
        CWT_NBF: int(claims.nbf.timestamp()),
        CWT_IAT: int(claims.iat.timestamp()),
        CLAIM_LICENSE_ID: claims.license_id,
        CLAIM_LICENSE_TYPE: claims.license_type,
        CLAIM_VERSION: claims.version,
        CLAIM_STATUS: [claims.status.list_id, claims.status.index],
        CLAIM_DIGESTS: dict(digests),
    }
    if claims.exp is not None:
        payload[CWT_EXP] = int(claims.exp.timestamp())
    return payload


def _salts_for(claims: LicenseClaims, salts: Mapping[str, bytes] | None) -> dict[str, bytes]:
    if salts is None:
        return {name: os.urandom(SALT_LENGTH) for name in claims.fields}
    if set(salts) != set(claims.fields):
        raise InvalidCredential(
            f"salts: expected one per field {sorted(claims.fields)}, got {sorted(salts)}"
        )
    for name, salt in salts.items():
        if not isinstance(salt, bytes) or len(salt) != SALT_LENGTH:
            raise InvalidCredential(
                f"salt of field {name!r}: expected {SALT_LENGTH} bytes, got {salt!r:.40}"
            )
    return dict(salts)


def issue_credential(
    claims: LicenseClaims,
    signer: Signer,
    *,
    kid: bytes,
    salts: Mapping[str, bytes] | None = None,
) -> bytes:
    """Sign ``claims`` into a credential disclosing every field; ``salts`` only for fixtures."""
    if not isinstance(claims, LicenseClaims):
        raise InvalidCredential(f"claims: expected LicenseClaims, got {type(claims).__name__}")
    expected_kid = kid_for(signer.public_key_der())
    if kid != expected_kid:
        # A trust list only lists a key under this id, so any other kid could never verify.
        raise InvalidCredential(
            f"kid: expected the signer's key id {expected_kid.hex()}, got {kid.hex()}"
        )
    chosen = _salts_for(claims, salts)
    # 1. One disclosure per field, in name order, each canonical CBOR [salt, name, value].
    disclosures = {
        name: dumps_canonical([chosen[name], name, claims.fields[name]])
        for name in sorted(claims.fields)
    }
    # 2. The signed payload carries only their digests.
    payload = dumps_canonical(
        _claims_map(
            claims, {name: hashlib.sha256(raw).digest() for name, raw in disclosures.items()}
        )
    )
    # 3. COSE_Sign1 with the disclosures in the unprotected header.
    try:
        return cose.sign1(
            payload, signer, kid=kid, unprotected={DISCLOSURES: list(disclosures.values())}
        )
    except KeyManagementError as error:
        raise InvalidCredential(f"cannot sign the credential: {error}") from None


def present(credential: bytes, fields: Set[str]) -> bytes:
    """Return the same credential disclosing only ``fields`` (which it must disclose now)."""
    parsed = parse_credential(credential)
    decoded = parsed.disclose()
    unknown = set(fields) - set(parsed.digests)
    if unknown:
        raise InvalidCredential(
            f"cannot present fields {sorted(unknown)}: expected fields of this credential "
            f"{sorted(parsed.digests)}"
        )
    hidden = set(fields) & decoded.undisclosed
    if hidden:
        raise InvalidCredential(
            f"cannot present fields {sorted(hidden)}: this presentation does not disclose them; "
            "expected a presentation made from the full credential"
        )
    kept = [d.raw for d in parsed.disclosures if d.name in fields]
    message = parsed.message
    try:
        return cose.encode_sign1(
            message.protected_bytes,
            {DISCLOSURES: kept},
            message.payload,
            message.signature,
            tagged=message.tagged,
        )
    except KeyManagementError as error:
        raise InvalidCredential(f"cannot encode the presentation: {error}") from None
