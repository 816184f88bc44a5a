"""Verification steps 4-8 in one pass for well-formed credentials: the checks the steps make
one by one, with fewer objects and calls; anything else gets None, and the steps explain it.
"""

# The contract: read_well_formed returns a reading only where parse_message(...).disclose() gives
# the same claims and undisclosed fields, and verify_well_formed an answer only where steps 4-8
# pass; neither explains a failure. Unusual input the steps accept (an empty protected map, a
# disclosure in indefinite-length encoding, ...) may get None too, and the steps then judge it.

from __future__ import annotations

from collections.abc import Callable, Set
from datetime import UTC, datetime
from hashlib import sha256
from typing import NamedTuple

from cbor2 import dumps, loads

from keys import cose
from keys.algorithms import PublicKey
from keys.cose import ALG, KID, Sign1Message
from keys.errors import SignatureInvalid as KeysSignatureInvalid
from keys.registry import KeyEntry
from keys.trustlist import TrustList
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
    DIGEST_LENGTH,
    DISCLOSURES,
    REQUIRED_CLAIMS,
    SALT_LENGTH,
)
from licenses.model import (
    MAX_FIELDS,
    MAX_TEXT_LENGTH,
    FieldValue,
    LicenseClaims,
)

_WITHOUT_EXP = REQUIRED_CLAIMS
_WITH_EXP = REQUIRED_CLAIMS | {CWT_EXP}
_KEY_TYPES = frozenset({int, str})
_ARRAYS = (list, tuple)  # cbor2 decodes an array inside a tag as a tuple
_MAX_NUMERIC_DATE = 253402300799  # 9999-12-31T23:59:59Z, as licenses.credential bounds it
_MAX_VALUE_LENGTH = MAX_TEXT_LENGTH * 4
_NONE_HIDDEN: frozenset[str] = frozenset()


class ForgedSignature(Exception):
    """Steps 4-7 passed in the one pass and the signature did not verify (step 8's failure)."""


class WellFormed(NamedTuple):
    """A credential's key id, algorithm, disclosed claims and undisclosed field names."""

    kid: bytes
    alg: int
    claims: LicenseClaims
    undisclosed: frozenset[str]


def _digests_checked(digests: dict[object, object]) -> bool:
    # credential._digests: at most 64 text names, each with a 32-byte bstr.
    if len(digests) > MAX_FIELDS:
        return False
    for name, digest in digests.items():
        if type(name) is not str or type(digest) is not bytes or len(digest) != DIGEST_LENGTH:
            return False
    return True


def read_well_formed(message: Sign1Message) -> WellFormed | None:
    """Read a decoded credential whose every check passes in one pass; None for anything else."""
    try:
        return _read(message)
    except Exception:  # whatever this pass trips on, the step-by-step reading explains
        return None


def _read(message: Sign1Message) -> WellFormed | None:
    # One function on purpose: this runs for every credential verified, and calls cost. Exact
    # types stand in for isinstance checks (cbor2 makes no subclasses; a miss only means None).
    # parse_message: a kid and an integer alg in the protected header ...
    protected = message.protected
    kid = protected.get(KID)
    alg = protected.get(ALG)
    if type(kid) is not bytes or not kid or type(alg) is not int:
        return None
    # ... no label but the disclosures' in the unprotected one (their label counts as 1) ...
    unprotected = message.unprotected
    items = unprotected.get(DISCLOSURES, ())
    if len(unprotected) > (DISCLOSURES in unprotected):
        return None
    if type(items) not in _ARRAYS or len(items) > MAX_FIELDS:
        return None
    # ... a payload that re-encodes to exactly its bytes (credential._loads_exact) ...
    payload_bytes = message.payload
    payload = loads(payload_bytes)
    if type(payload) is not dict or dumps(payload) != payload_bytes:
        return None
    # ... holding the known claims, keyed by int or text (never a bool, which equals 0 or 1) ...
    keys = payload.keys()
    if (keys != _WITH_EXP and keys != _WITHOUT_EXP) or not _KEY_TYPES.issuperset(map(type, keys)):
        return None
    # ... NumericDates in range (credential._time), exp after nbf (LicenseClaims) ...
    iat, nbf = payload[CWT_IAT], payload[CWT_NBF]
    has_exp = len(keys) == len(_WITH_EXP)
    # Without exp the last date stands in, so the one test covers both (an nbf that late is left
    # to the step-by-step reading).
    exp = payload[CWT_EXP] if has_exp else _MAX_NUMERIC_DATE
    if type(iat) is not int or type(nbf) is not int or type(exp) is not int:
        return None
    if not (0 <= iat <= _MAX_NUMERIC_DATE and 0 <= nbf < exp <= _MAX_NUMERIC_DATE):
        return None
    status = payload[CLAIM_STATUS]
    digests = payload[CLAIM_DIGESTS]
    if type(status) is not list or len(status) != 2 or type(digests) is not dict:
        return None
    # ... and disclosures [salt, name, value] as credential._disclosure and check_field check
    # them, each matching its signed digest (ParsedCredential.disclose).
    fields: dict[str, FieldValue] = {}
    for raw in items:
        if type(raw) is not bytes:
            return None
        item = loads(raw)
        if type(item) is not list:  # what cbor2.loads makes of an array outside a tag
            return None
        salt, name, value = item  # an array of another length raises, and the answer is None
        if type(salt) is not bytes or len(salt) != SALT_LENGTH or type(name) is not str:
            return None
        if len(name) > MAX_TEXT_LENGTH or not name.strip() or name in fields:
            return None
        kind = type(value)
        if kind is str:
            if len(value) > _MAX_VALUE_LENGTH:
                return None
        elif kind is not int and kind is not bool:
            return None
        if digests.get(name) != sha256(raw).digest():
            return None
        fields[name] = value
    # A digest equal to a SHA-256 one is a 32-byte bstr under a text name, so when every field
    # is disclosed, every digest has been checked; otherwise the rest are checked here.
    if len(fields) == len(digests):
        hidden = _NONE_HIDDEN
    elif _digests_checked(digests):
        hidden = frozenset(digests.keys() - fields.keys())
    else:
        return None
    iat_at = datetime.fromtimestamp(iat, UTC)
    # LicenseClaims checks the rest: texts, holder id, license id, type and version.
    claims = LicenseClaims.read(
        iss=payload[CWT_ISS],
        sub=payload[CWT_SUB],
        iat=iat_at,
        # Most credentials take effect when issued: then one datetime serves as both.
        nbf=iat_at if nbf == iat else datetime.fromtimestamp(nbf, UTC),
        exp=datetime.fromtimestamp(exp, UTC) if has_exp else None,
        license_id=payload[CLAIM_LICENSE_ID],
        license_type=payload[CLAIM_LICENSE_TYPE],
        version=payload[CLAIM_VERSION],
        status_list_id=status[0],
        status_index=status[1],
        fields=fields,
    )
    return WellFormed(kid, alg, claims, hidden)


def verify_well_formed(
    data: bytes,
    trust_list: TrustList,
    *,
    algorithms: Set[int] | None,
    public_key: Callable[[KeyEntry], PublicKey],
) -> tuple[LicenseClaims, frozenset[str], KeyEntry] | None:
    """Run verification steps 4-8 on credential bytes that pass them all; None for any other."""
    # The same functions as the steps take one by one: decode_sign1 (4, 5), the trust list's
    # entry (6), the algorithm's (7) and verify_decoded (8), with read_well_formed for the rest.
    try:
        message = cose.decode_sign1(data)
        read = read_well_formed(message)
        if read is None:
            return None
        entry = trust_list.entry(read.kid)
        if entry.alg != read.alg or (algorithms is not None and read.alg not in algorithms):
            return None
        key = public_key(entry)
    except Exception:  # the steps one by one report it, at the step it belongs to
        return None
    try:
        cose.verify_decoded(message, key)
    except KeysSignatureInvalid as error:
        # Steps 4-7 passed: step 8 would check the same signature only to fail the same way.
        raise ForgedSignature(str(error)) from None
    except Exception:
        return None
    return read.claims, read.undisclosed, entry
