"""The license credential (RFC 9052 §4.2 COSE_Sign1 over RFC 8392 CWT claims) with salted
per-field digests, so a holder can disclose only some fields (the ISO 18013-5 MSO idea): its
layout, decoding and checks; issuing and presenting are ``licenses.issuance``'s.
"""

# Layout, by label:
#
#     protected     {1: alg, 4: kid}                       written by keys.cose.sign1
#     unprotected   {-65537: [bstr, ...]}                  the disclosures (private-use label)
#     payload       {1: iss, 2: sub, 4: exp (optional), 5: nbf, 6: iat,
#                    "lid": license id, "lty": license type, "ver": version,
#                    "sts": [status list id, slot index], "dig": {field name: digest}}
#
# A disclosure is the canonical CBOR of [salt (16 random bytes), field name, value], carried as a
# bstr so its digest is taken over the exact bytes received; "dig" maps each field name to the
# SHA-256 of its disclosure. The signature covers the digests, not the disclosures, so dropping
# disclosures from the unprotected header (a presentation) leaves the signature valid, while a
# changed, forged or extra disclosure no longer matches a signed digest. Field names are visible in
# "dig"; values stay hidden until disclosed. The payload mixes small int keys (1 byte) and 3-letter
# text keys (4 bytes), for which cbor2's length-first canonical order (RFC 8949 §4.2.3) and the
# bytewise order (§4.2.1) agree.

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import cbor2

from keys import cose
from keys.algorithms import PublicKey
from keys.cbor import cbor_type_name
from keys.cose import Sign1Message
from keys.errors import KeyManagementError
from keys.errors import SignatureInvalid as KeysSignatureInvalid
from licenses.errors import DisclosureInvalid, InvalidCredential, SignatureInvalid
from licenses.model import MAX_FIELDS, FieldValue, LicenseClaims, StatusReference, check_field

CWT_ISS = 1  # RFC 8392 §3.1.1
CWT_SUB = 2  # RFC 8392 §3.1.2
CWT_EXP = 4  # RFC 8392 §3.1.4
CWT_NBF = 5  # RFC 8392 §3.1.5
CWT_IAT = 6  # RFC 8392 §3.1.6
CLAIM_LICENSE_ID = "lid"
CLAIM_LICENSE_TYPE = "lty"
CLAIM_VERSION = "ver"
CLAIM_STATUS = "sts"
CLAIM_DIGESTS = "dig"
# COSE header labels below -65536 are reserved for private use (IANA COSE Header Parameters).
DISCLOSURES = -65537
SALT_LENGTH = 16
DIGEST_LENGTH = 32  # SHA-256

REQUIRED_CLAIMS = frozenset(
    {
        CWT_ISS,
        CWT_SUB,
        CWT_NBF,
        CWT_IAT,
        CLAIM_LICENSE_ID,
        CLAIM_LICENSE_TYPE,
        CLAIM_VERSION,
        CLAIM_STATUS,
        CLAIM_DIGESTS,
    }
)
_OPTIONAL = frozenset({CWT_EXP})
_KNOWN = REQUIRED_CLAIMS | _OPTIONAL
_KEY_TYPES = frozenset({int, str})  # what a claims map may be keyed by (bool is refused)
# Far enough for any license, near enough that datetime never overflows.
_MAX_NUMERIC_DATE = 253402300799  # 9999-12-31T23:59:59Z


def _digest(raw: bytes) -> bytes:
    return hashlib.sha256(raw).digest()


def _kind(value: object) -> str:
    return cbor_type_name(value)


class Disclosure(NamedTuple):
    """One disclosed field: its exact bytes and what they hold (a tuple, cheap to make)."""

    raw: bytes
    salt: bytes
    name: str
    value: FieldValue

    @property
    def digest(self) -> bytes:
        """SHA-256 over the exact disclosure bytes."""
        return _digest(self.raw)


@dataclass(frozen=True)
class DecodedCredential:
    """A credential's claims with only the fields it discloses, and the message they came in."""

    claims: LicenseClaims
    undisclosed: frozenset[str]
    message: Sign1Message

    @property
    def kid(self) -> bytes:
        """The key id from the protected header."""
        return _protected_kid(self.message)


@dataclass(frozen=True)
class ParsedCredential:
    """A structurally valid credential whose disclosures are not yet checked against digests."""

    message: Sign1Message
    claims: LicenseClaims
    digests: Mapping[str, bytes]
    disclosures: tuple[Disclosure, ...]

    def verify_signature(self, public_key: PublicKey) -> None:
        """Raise ``SignatureInvalid`` unless the signature verifies over the exact bytes."""
        try:
            cose.verify_decoded(self.message, public_key)
        except KeysSignatureInvalid as error:
            raise SignatureInvalid(str(error)) from None
        except KeyManagementError as error:
            raise InvalidCredential(str(error)) from None

    def disclose(self) -> DecodedCredential:
        """Check every disclosure against its signed digest; return the claims they disclose."""
        digests = self.digests
        sha256 = hashlib.sha256
        fields: dict[str, FieldValue] = {}
        for disclosure in self.disclosures:
            signed = digests.get(disclosure.name)
            if signed is None:
                raise DisclosureInvalid(
                    f"disclosure of field {disclosure.name!r}: expected one of the signed "
                    f"fields {sorted(digests)}, got a field the issuer did not sign"
                )
            if sha256(disclosure.raw).digest() != signed:
                raise DisclosureInvalid(
                    f"disclosure of field {disclosure.name!r}: expected digest "
                    f"{signed.hex()[:16]}…, got {disclosure.digest.hex()[:16]}…"
                )
            fields[disclosure.name] = disclosure.value
        return DecodedCredential(
            # Each disclosure was type-checked when parsed, so the fields need no second check.
            claims=self.claims.with_fields(fields, checked=True),
            undisclosed=frozenset(digests.keys() - fields.keys()),
            message=self.message,
        )


# --- decoding --------------------------------------------------------------------------------


def decode_message(data: bytes) -> Sign1Message:
    """Decode COSE_Sign1 bytes strictly, as ``InvalidCredential`` on failure."""
    try:
        return cose.decode_sign1(data)
    except KeyManagementError as error:
        raise InvalidCredential(f"COSE_Sign1: {error}") from None


def _protected_kid(message: Sign1Message) -> bytes:
    kid = message.protected.get(cose.KID)
    if not isinstance(kid, bytes) or not kid:
        raise InvalidCredential(
            f"protected header kid (label 4): expected a non-empty bstr, got {_kind(kid)}"
        )
    return kid


def _time(payload: Mapping[Any, Any], key: int, what: str) -> datetime:
    value = payload[key]
    if type(value) is not int or not 0 <= value <= _MAX_NUMERIC_DATE:
        raise InvalidCredential(
            f"claim {what} ({key}): expected integer seconds 0-{_MAX_NUMERIC_DATE}, "
            f"got {_kind(value)} {value!r:.40}"
        )
    return datetime.fromtimestamp(value, UTC)


def _check_keys(payload: Mapping[Any, Any]) -> None:
    keys = payload.keys()
    # One pass in C for a well-formed map; any other map takes the checks below, in their order.
    if _KEY_TYPES.issuperset(map(type, keys)) and REQUIRED_CLAIMS <= keys <= _KNOWN:
        return
    for key in keys:
        if type(key) not in _KEY_TYPES:
            raise InvalidCredential(f"claims map: expected int or text keys, got {_kind(key)}")
    missing = REQUIRED_CLAIMS - keys
    if missing:
        raise InvalidCredential(f"claims map: expected claims {sorted(map(str, missing))} too")
    unknown = keys - _KNOWN
    if unknown:
        raise InvalidCredential(
            f"claims map: expected only known claims, got unknown {sorted(map(str, unknown))}"
        )


def _digests(value: object) -> dict[str, bytes]:
    if not isinstance(value, (dict, Mapping)) or len(value) > MAX_FIELDS:
        raise InvalidCredential(
            f"claim {CLAIM_DIGESTS!r}: expected a map of at most {MAX_FIELDS} digests, "
            f"got {_kind(value)}"
        )
    digests: dict[str, bytes] = {}
    for name, digest in value.items():
        if not isinstance(name, str) or not isinstance(digest, bytes):
            raise InvalidCredential(
                f"claim {CLAIM_DIGESTS!r}: expected text names and bstr digests, "
                f"got {_kind(name)} and {_kind(digest)}"
            )
        if len(digest) != DIGEST_LENGTH:
            raise InvalidCredential(
                f"digest of field {name!r}: expected {DIGEST_LENGTH} bytes, got {len(digest)}"
            )
        digests[name] = digest
    return digests


def _status(value: object) -> StatusReference:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise InvalidCredential(
            f"claim {CLAIM_STATUS!r}: expected [list id, index], got {_kind(value)}"
        )
    return StatusReference(list_id=value[0], index=value[1])


def _loads(data: bytes, what: str) -> Any:
    try:
        return cbor2.loads(data)
    except (cbor2.CBORError, ValueError, TypeError, OverflowError, RecursionError) as error:
        raise InvalidCredential(f"{what}: malformed CBOR: {error}") from None


def _loads_exact(data: bytes, what: str) -> Any:
    # Strict without a second decoder: the item must re-encode to exactly the bytes received,
    # which refuses trailing bytes, duplicate keys, indefinite lengths and non-minimal heads.
    item = _loads(data, what)
    try:
        exact = cbor2.dumps(item) == data
    except (cbor2.CBORError, ValueError, TypeError):
        exact = False
    if not exact:
        raise InvalidCredential(f"{what}: expected exactly one CBOR item in preferred encoding")
    return item


def _claims(payload_bytes: bytes) -> tuple[LicenseClaims, dict[str, bytes]]:
    payload = _loads_exact(payload_bytes, "payload")
    if not isinstance(payload, (dict, Mapping)):
        raise InvalidCredential(f"payload: expected a claims map, got {_kind(payload)}")
    _check_keys(payload)
    claims = LicenseClaims(
        iss=payload[CWT_ISS],
        sub=payload[CWT_SUB],
        iat=_time(payload, CWT_IAT, "iat"),
        nbf=_time(payload, CWT_NBF, "nbf"),
        exp=_time(payload, CWT_EXP, "exp") if CWT_EXP in payload else None,
        license_id=payload[CLAIM_LICENSE_ID],
        license_type=payload[CLAIM_LICENSE_TYPE],
        version=payload[CLAIM_VERSION],
        status=_status(payload[CLAIM_STATUS]),
    )
    return claims, _digests(payload[CLAIM_DIGESTS])


def _disclosure(raw: object) -> Disclosure:
    if not isinstance(raw, bytes):
        raise InvalidCredential(f"disclosure: expected a bstr, got {_kind(raw)}")
    # No canonical re-encoding here: the digest check of step 8 covers these exact bytes.
    item = _loads(raw, "disclosure")
    if not isinstance(item, (list, tuple)) or len(item) != 3:
        raise InvalidCredential(f"disclosure: expected [salt, name, value], got {_kind(item)}")
    salt, name, value = item
    if not isinstance(salt, bytes) or len(salt) != SALT_LENGTH:
        raise InvalidCredential(f"disclosure salt: expected {SALT_LENGTH} bytes, got {_kind(salt)}")
    check_field(name, value)
    return Disclosure(raw, salt, name, value)


def _disclosures(message: Sign1Message) -> tuple[Disclosure, ...]:
    other = [label for label in message.unprotected if label != DISCLOSURES]
    if other:
        raise InvalidCredential(
            f"unprotected header: expected only label {DISCLOSURES} (disclosures), got {other}"
        )
    items = message.unprotected.get(DISCLOSURES, ())
    if not isinstance(items, (list, tuple)) or len(items) > MAX_FIELDS:
        raise InvalidCredential(
            f"disclosures (label {DISCLOSURES}): expected an array of at most {MAX_FIELDS} "
            f"bstr, got {_kind(items)}"
        )
    disclosures = tuple(map(_disclosure, items))
    names = [d.name for d in disclosures]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise InvalidCredential(f"disclosures: expected each field once, got {twice} twice")
    return disclosures


def parse_message(message: Sign1Message) -> ParsedCredential:
    """Read the claims, digests and disclosures of a decoded COSE_Sign1 strictly."""
    _protected_kid(message)
    try:
        message.alg  # noqa: B018 -- raises unless alg sits in the protected header
    except KeyManagementError as error:
        raise InvalidCredential(str(error)) from None
    claims, digests = _claims(message.payload)
    return ParsedCredential(
        message=message, claims=claims, digests=digests, disclosures=_disclosures(message)
    )


def parse_credential(data: bytes) -> ParsedCredential:
    """Decode credential bytes strictly without checking the signature or the disclosures."""
    return parse_message(decode_message(data))


def decode_credential(data: bytes) -> DecodedCredential:
    """Decode a credential and check its disclosures; the signature is the verifier's job."""
    return parse_credential(data).disclose()
