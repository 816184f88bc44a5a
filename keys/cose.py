"""COSE_Sign1: the message structure of RFC 9052 §4.2 and its Sig_structure of §4.4.

Decoding is strict, signing puts ``{1: alg, 4: kid}`` in a canonically encoded protected header,
and verification always runs over the exact protected bytes received, never a re-encoding.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

import cbor2

from keys.algorithms import PublicKey, get_algorithm
from keys.cbor import cbor_type_name, dumps_canonical, loads_strict
from keys.errors import MalformedMessage
from keys.signer import Signer

ALG = 1  # RFC 9052 §3.1
CRIT = 2  # RFC 9052 §3.1
KID = 4  # RFC 9052 §3.1
COSE_SIGN1_TAG = 18  # RFC 9052 §2
SIGN1_CONTEXT = "Signature1"  # RFC 9052 §4.4
SIGN1_ARRAY_LENGTH = 4

Label: TypeAlias = int | str
Headers: TypeAlias = dict[Label, Any]

# Labels whose meaning we act on; a crit list naming anything else is refused (fail closed).
_UNDERSTOOD_LABELS = frozenset({ALG, KID})
# Decoded protected headers that passed their checks, by their exact bytes (see
# _decode_protected), cleared when full.
_PROTECTED_SEEN: dict[bytes, Headers] = {}
_PROTECTED_SEEN_SIZE = 64
_SCALARS = frozenset({int, str, bytes, bool, float, type(None)})
# What cbor2 decodes a map to: a dict, or inside a tag its read-only frozendict.
_DECODED_MAPS = (dict, cbor2.frozendict)
# RFC 9052 §4.4: the Sig_structure for COSE_Sign1 always opens with an array of 4 (0x84) and the
# context text "Signature1" (0x6a + 10 bytes); the three bstr that follow are encoded per call.
_BSTR = 0x40  # RFC 8949 §3.1: major type 2 (byte string), additional information 0
_TSTR = 0x60  # RFC 8949 §3.1: major type 3 (text string)
_ARRAY_OF_4 = 0x84  # RFC 8949 §3.1: major type 4 (array), 4 items
_SIG1_STRUCTURE_HEAD = bytes((_ARRAY_OF_4, _TSTR | len(SIGN1_CONTEXT))) + SIGN1_CONTEXT.encode()
_BSTR_HEAD_2 = bytes((_BSTR | 25,))  # a 2-byte length follows
# The heads of bstr up to 255 bytes (every protected header, most payloads), made once.
_SHORT_BSTR_HEADS = tuple(
    bytes((_BSTR | length,)) if length < 24 else bytes((_BSTR | 24, length))
    for length in range(256)
)


# A tagged COSE_Sign1 with an empty unprotected map opens with tag 18 (0xd2) and an array of 4;
# the map sits between the protected header and the payload as the single byte 0xa0.
_TAGGED_SIGN1_HEAD = bytes((0xC0 | COSE_SIGN1_TAG, _ARRAY_OF_4))
_EMPTY_MAP = b"\xa0"


def _bstr(data: bytes) -> bytes:
    # The canonical encoding of one byte string (RFC 8949 §4.2.1: shortest length argument).
    return _bstr_head(len(data)) + data


@functools.lru_cache(maxsize=256)
def _protected_header(alg: int, kid: bytes) -> bytes:
    # The same few signing keys sign everything: their protected headers are encoded once.
    return dumps_canonical({ALG: alg, KID: kid})


def _is_int(value: object) -> bool:
    # bool is an int in Python; a CBOR true is never a label or an algorithm.
    return isinstance(value, int) and not isinstance(value, bool)


def _check_crit(value: object, bucket: str) -> None:
    if bucket != "protected":
        raise MalformedMessage(
            "crit (label 2) must be in the protected header, found it unprotected"
        )
    if not isinstance(value, list | tuple) or not value:
        raise MalformedMessage(
            f"crit (label 2) must be a non-empty array of labels, got {cbor_type_name(value)}"
        )
    unknown = [
        label
        for label in value
        if not (_is_int(label) or isinstance(label, str)) or label not in _UNDERSTOOD_LABELS
    ]
    if unknown:
        raise MalformedMessage(
            f"critical header parameters {unknown!r} are not understood; "
            f"understood: {sorted(_UNDERSTOOD_LABELS)}"
        )


def _check_headers(headers: Mapping[Any, Any], bucket: str) -> None:
    for label, value in headers.items():
        if type(label) is not int and not (_is_int(label) or isinstance(label, str)):
            raise MalformedMessage(
                f"{bucket} header label must be an int or tstr, got {cbor_type_name(label)}"
            )
        if label == ALG and not (_is_int(value) or isinstance(value, str)):
            raise MalformedMessage(
                f"{bucket} header alg (label 1) must be an int or tstr, got {cbor_type_name(value)}"
            )
        if label == KID and not isinstance(value, bytes):
            raise MalformedMessage(
                f"{bucket} header kid (label 4) must be a bstr, got {cbor_type_name(value)}"
            )
        if label == CRIT:
            _check_crit(value, bucket)


def _check_bstr(value: object, what: str) -> bytes:
    if not isinstance(value, bytes):
        raise MalformedMessage(f"{what} must be a bstr, got {cbor_type_name(value)}")
    return value


@dataclass(frozen=True)
class Sign1Message:
    """A decoded COSE_Sign1 that keeps the exact protected header bytes it arrived with."""

    protected_bytes: bytes
    protected: Headers
    unprotected: Headers
    payload: bytes
    signature: bytes
    tagged: bool

    def __post_init__(self) -> None:
        _check_bstr(self.protected_bytes, "protected header")
        _check_bstr(self.payload, "payload")
        _check_bstr(self.signature, "signature")
        _check_headers(self.protected, "protected")
        _check_headers(self.unprotected, "unprotected")

    @property
    def alg(self) -> int | str:
        """The algorithm id from the protected header (the only place it is authenticated)."""
        value = self.protected.get(ALG)
        if isinstance(value, (int, str)) and not isinstance(value, bool):
            return value
        where = "only in the unprotected header" if ALG in self.unprotected else "in neither header"
        raise MalformedMessage(
            f"expected alg (label 1) in the protected header, found it {where} "
            "(RFC 9052 §3.1: alg must be authenticated)"
        )

    @property
    def kid(self) -> bytes | None:
        """The key id: the protected one wins, the unprotected one is the fallback."""
        # RFC 9052 §3 forbids a label in both buckets, but issuers in the field send kid twice
        # (EU DCC); the protected value is authenticated, so it is the one that counts.
        for headers in (self.protected, self.unprotected):
            value = headers.get(KID)
            if isinstance(value, bytes):
                return value
        return None


def _sign1_message(
    protected_bytes: bytes,
    protected: Headers,
    unprotected: Headers,
    payload: bytes,
    signature: bytes,
    tagged: bool,
) -> Sign1Message:
    # For decode_sign1 only, which has checked every part already: the same object that
    # Sign1Message(...) builds, without running the checks of __post_init__ a second time.
    message = object.__new__(Sign1Message)
    message.__dict__.update(
        protected_bytes=protected_bytes,
        protected=protected,
        unprotected=unprotected,
        payload=payload,
        signature=signature,
        tagged=tagged,
    )
    return message


def _decode_protected(protected_bytes: bytes) -> tuple[Headers, bool]:
    # The decoded headers, and whether they passed _check_headers already (kept ones have).
    # RFC 9052 §3: an empty protected header is the zero-length bstr, meaning no parameters.
    if not protected_bytes:
        return {}, False
    # A signer sends the same protected bytes with every message, so their decoding is kept.
    known = _PROTECTED_SEEN.get(protected_bytes)
    if known is not None:
        return dict(known), True
    try:
        decoded = loads_strict(protected_bytes)
    except MalformedMessage as exc:
        raise MalformedMessage(f"protected header: {exc}") from None
    if not isinstance(decoded, Mapping):
        raise MalformedMessage(f"protected header must encode a map, got {cbor_type_name(decoded)}")
    headers = dict(decoded)
    # Kept only when a copy of the map is a full copy (every label and value is immutable) and
    # the headers pass their checks; a failing map is reported by decode_sign1 in its turn.
    if _SCALARS.issuperset(map(type, headers)) and _SCALARS.issuperset(map(type, headers.values())):
        try:
            _check_headers(headers, "protected")
        except MalformedMessage:
            return headers, False
        if len(_PROTECTED_SEEN) >= _PROTECTED_SEEN_SIZE:
            _PROTECTED_SEEN.clear()
        _PROTECTED_SEEN[protected_bytes] = dict(headers)
    return headers, False


def decode_sign1(message: bytes) -> Sign1Message:
    """Decode a tagged (18) or untagged COSE_Sign1 strictly, keeping the exact protected bytes."""
    # 1. Exactly one CBOR item, nothing after it.
    item = loads_strict(message)
    # 2. Tag 18 or no tag at all.
    tagged = isinstance(item, cbor2.CBORTag)
    if tagged:
        if item.tag != COSE_SIGN1_TAG:
            raise MalformedMessage(
                f"expected COSE_Sign1 tag {COSE_SIGN1_TAG} or no tag, got tag {item.tag}"
            )
        item = item.value
    # 3. [protected, unprotected, payload, signature]
    if not isinstance(item, (tuple, list)) or len(item) != SIGN1_ARRAY_LENGTH:
        raise MalformedMessage(
            f"expected a COSE_Sign1 array of {SIGN1_ARRAY_LENGTH}, got {cbor_type_name(item)}"
        )
    raw_protected, raw_unprotected, raw_payload, raw_signature = item
    # 4. Protected header: a bstr that holds a map.
    protected_bytes = _check_bstr(raw_protected, "protected header")
    protected, protected_checked = _decode_protected(protected_bytes)
    # 5. Unprotected header: a map (cbor2 decodes maps inside a tag as its frozendict).
    if type(raw_unprotected) not in _DECODED_MAPS and not isinstance(raw_unprotected, Mapping):
        raise MalformedMessage(
            f"unprotected header must be a map, got {cbor_type_name(raw_unprotected)}"
        )
    # 6. Payload: an attached bstr.
    if raw_payload is None:
        raise MalformedMessage(
            "payload is nil (detached content), which is not supported: "
            "expected the payload as a bstr inside the message"
        )
    payload = _check_bstr(raw_payload, "payload")
    # 7. Signature: a bstr (its length is the algorithm's to check).
    signature = _check_bstr(raw_signature, "signature")
    # 8. Header label and value types, as Sign1Message itself checks them.
    # A frozendict copies twice as fast through its items as through its keys.
    unprotected = (
        raw_unprotected if type(raw_unprotected) is dict else dict(raw_unprotected.items())
    )
    if not protected_checked:
        _check_headers(protected, "protected")
    _check_headers(unprotected, "unprotected")
    return _sign1_message(protected_bytes, protected, unprotected, payload, signature, tagged)


def sig_structure(protected_bytes: bytes, payload: bytes, external_aad: bytes = b"") -> bytes:
    """Return the Sig_structure ``["Signature1", protected, external_aad, payload]`` bytes."""
    # Exact bytes need no second look; anything else is checked as a bstr.
    if type(protected_bytes) is not bytes or type(payload) is not bytes:
        _check_bstr(protected_bytes, "protected header")
        _check_bstr(payload, "payload")
    _check_bstr(external_aad, "external_aad")
    # The bytes dumps_canonical gives for the array (tests compare the two): a fixed head, then
    # each bstr with the shortest length argument (RFC 8949 §4.2.1).
    return b"".join(
        (
            _SIG1_STRUCTURE_HEAD,
            _bstr_head(len(protected_bytes)),
            protected_bytes,
            _bstr_head(len(external_aad)),
            external_aad,
            _bstr_head(len(payload)),
            payload,
        )
    )


def _bstr_head(length: int) -> bytes:
    # RFC 8949 §3: arguments below 24 sit in the initial byte, longer ones in 1, 2, 4 or 8 bytes.
    if length <= 0xFF:
        return _SHORT_BSTR_HEADS[length]
    if length <= 0xFFFF:
        return _BSTR_HEAD_2 + length.to_bytes(2, "big")
    if length <= 0xFFFFFFFF:
        return bytes((_BSTR | 26,)) + length.to_bytes(4, "big")
    return bytes((_BSTR | 27,)) + length.to_bytes(8, "big")


def encode_sign1(
    protected_bytes: bytes,
    unprotected: Mapping[Label, Any],
    payload: bytes,
    signature: bytes,
    *,
    tagged: bool = True,
) -> bytes:
    """Assemble COSE_Sign1 bytes from exact parts; the unprotected map keeps its given order."""
    return _encode_sign1(
        protected_bytes, unprotected, payload, signature, tagged=tagged, canonical=False
    )


def _encode_sign1(
    protected_bytes: bytes,
    unprotected: Mapping[Label, Any],
    payload: bytes,
    signature: bytes,
    *,
    tagged: bool,
    canonical: bool,
) -> bytes:
    _check_bstr(protected_bytes, "protected header")
    _check_bstr(payload, "payload")
    _check_bstr(signature, "signature")
    _check_headers(unprotected, "unprotected")
    parts = [protected_bytes, dict(unprotected), payload, signature]
    message = cbor2.CBORTag(COSE_SIGN1_TAG, parts) if tagged else parts
    if canonical:
        return dumps_canonical(message)
    try:
        return cbor2.dumps(message)
    except (cbor2.CBORError, ValueError, TypeError) as exc:
        raise MalformedMessage(f"cannot encode the unprotected header as CBOR: {exc}") from None


def sign1(
    payload: bytes,
    signer: Signer,
    *,
    kid: bytes,
    external_aad: bytes = b"",
    unprotected: Mapping[Label, Any] | None = None,
    tagged: bool = True,
) -> bytes:
    """Sign ``payload`` into a COSE_Sign1 with protected header ``{1: signer.alg, 4: kid}``."""
    # 1. The signer's algorithm must be one we can also verify.
    algorithm = get_algorithm(signer.alg)
    _check_bstr(kid, "kid")
    extra: Headers = dict(unprotected or {})
    repeated = sorted(label for label in (ALG, KID) if label in extra)
    if repeated:
        raise MalformedMessage(
            f"unprotected header must not carry labels {repeated}: "
            "alg and kid go in the protected header"
        )
    # 2. Protected header, canonically encoded once; these exact bytes are signed and sent.
    protected_bytes = _protected_header(algorithm.cose_id, bytes(kid))
    # 3. Sign the Sig_structure over those bytes.
    signature = signer.sign(sig_structure(protected_bytes, payload, external_aad))
    # 4. Our own messages are canonical throughout, the unprotected map included: without one,
    # the canonical bytes are laid out directly (tests compare them with the encoder's).
    if not extra and tagged and type(payload) is bytes:
        return b"".join(
            (
                _TAGGED_SIGN1_HEAD,
                _bstr(protected_bytes),
                _EMPTY_MAP,
                _bstr(payload),
                _bstr(signature),
            )
        )
    return _encode_sign1(protected_bytes, extra, payload, signature, tagged=tagged, canonical=True)


def verify_decoded(
    message: Sign1Message, public_key: PublicKey, *, external_aad: bytes = b""
) -> None:
    """Verify a decoded COSE_Sign1 over its exact protected bytes; raise if it does not verify."""
    # 1. The algorithm comes from the protected header and must be registered.
    algorithm = get_algorithm(message.alg)
    # 2. Sig_structure over the exact bytes received.
    to_be_signed = sig_structure(message.protected_bytes, message.payload, external_aad)
    # 3. The algorithm checks key type, signature length and the signature itself.
    algorithm.verify(public_key, to_be_signed, message.signature)


def verify_sign1(message: bytes, public_key: PublicKey, *, external_aad: bytes = b"") -> bytes:
    """Decode and verify a COSE_Sign1; return its payload or raise."""
    decoded = decode_sign1(message)
    verify_decoded(decoded, public_key, external_aad=external_aad)
    return decoded.payload
