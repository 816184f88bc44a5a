"""Signed status lists (COSE_Sign1, RFC 9052 §4.2): 2 bits per license slot, zlib-compressed, so
an offline verifier learns revocations and suspensions without a database.
"""

# Slot values: 0 valid, 1 revoked, 2 suspended, 3 reserved (refused). The bit layout follows the
# IETF Token Status List (draft-ietf-oauth-status-list §4.1): slot i sits in byte i // 4 at bit
# offset 2 * (i % 4), least significant bits first. The signed payload is the canonical CBOR map
# {"format", "list_id", "issued_at", "size", "bits"} with "bits" the zlib-compressed bytes. At
# least 131,072 slots per list, allocated at random, so a slot index says nothing about when or in
# which order a license was issued (herd privacy).

from __future__ import annotations

import random
import zlib
from collections.abc import Set
from datetime import UTC, datetime
from typing import Any, Final

from keys import cose
from keys.algorithms import PublicKey, load_public_key
from keys.cbor import dumps_canonical, loads_strict
from keys.errors import KeyManagementError
from keys.registry import kid_for
from keys.signer import Signer
from keys.trustlist import TrustList
from licenses.errors import StatusListError
from licenses.model import SlotStatus, check_text

FORMAT: Final = "caseledger-status-list/1"
MIN_SLOTS: Final = 131_072
MAX_SLOTS: Final = 1 << 24  # 4 MiB of bits; a list this full should be split
BITS_PER_SLOT: Final = 2
SLOTS_PER_BYTE: Final = 8 // BITS_PER_SLOT
_MASK: Final = 0b11
_RESERVED: Final = 3
# For each byte value: 1 if any of its four slots holds the reserved value 3, else 0.
_RESERVED_TABLE: Final = bytes(
    int(any((byte >> shift) & _MASK == _RESERVED for shift in range(0, 8, 2)))
    for byte in range(256)
)
_KEYS: Final = frozenset({"format", "list_id", "issued_at", "size", "bits"})


def _check_size(size: object) -> int:
    if type(size) is not int or not MIN_SLOTS <= size <= MAX_SLOTS or size % SLOTS_PER_BYTE:
        raise StatusListError(
            f"status list size: expected a multiple of {SLOTS_PER_BYTE} "
            f"from {MIN_SLOTS} to {MAX_SLOTS}, got {size!r}"
        )
    return size


class StatusList:
    """A status list: ``size`` 2-bit slots; ``list_id``, ``issued_at`` and ``kid`` once loaded."""

    __slots__ = ("_bits", "issued_at", "kid", "list_id")

    def __init__(self, size: int = MIN_SLOTS) -> None:
        self._bits = bytearray(_check_size(size) // SLOTS_PER_BYTE)
        self.list_id: str | None = None
        self.issued_at: datetime | None = None
        self.kid: bytes | None = None

    @property
    def size(self) -> int:
        """The number of slots."""
        return len(self._bits) * SLOTS_PER_BYTE

    def _position(self, index: int) -> tuple[int, int]:
        if type(index) is not int or not 0 <= index < self.size:
            raise StatusListError(
                f"status index: expected an int from 0 to {self.size - 1}, got {index!r}"
            )
        return index // SLOTS_PER_BYTE, (index % SLOTS_PER_BYTE) * BITS_PER_SLOT

    def get(self, index: int) -> SlotStatus:
        """Return the status of slot ``index``."""
        byte, shift = self._position(index)
        value = (self._bits[byte] >> shift) & _MASK
        if value == _RESERVED:
            raise StatusListError(f"status index {index}: expected 0, 1 or 2, got reserved 3")
        return SlotStatus(value)

    def set(self, index: int, status: SlotStatus) -> None:
        """Set the status of slot ``index``."""
        if not isinstance(status, SlotStatus):
            raise StatusListError(f"status: expected a SlotStatus, got {status!r}")
        byte, shift = self._position(index)
        self._bits[byte] = (self._bits[byte] & ~(_MASK << shift)) | (int(status) << shift)

    def compressed(self) -> bytes:
        """Return the slot bytes, zlib-compressed."""
        return zlib.compress(bytes(self._bits), 9)

    def to_signed(self, signer: Signer, *, kid: bytes, issued_at: datetime, list_id: str) -> bytes:
        """Return the list signed by ``signer`` as a COSE_Sign1."""
        check_text("status list id", list_id)
        if kid != kid_for(signer.public_key_der()):
            raise StatusListError(
                f"kid: expected the signer's key id {kid_for(signer.public_key_der()).hex()}, "
                f"got {kid.hex()}"
            )
        if issued_at.tzinfo is None or issued_at.utcoffset() is None:
            raise StatusListError(f"issued_at: expected an aware datetime, got {issued_at!r}")
        document = {
            "format": FORMAT,
            "list_id": list_id,
            "issued_at": int(issued_at.timestamp()),
            "size": self.size,
            "bits": self.compressed(),
        }
        try:
            return cose.sign1(dumps_canonical(document), signer, kid=kid)
        except KeyManagementError as error:
            raise StatusListError(f"cannot sign the status list: {error}") from None

    @classmethod
    def _from_bits(cls, bits: bytes) -> StatusList:
        if bits.translate(_RESERVED_TABLE).count(1):
            raise StatusListError("status list: expected slot values 0, 1 or 2, got reserved 3")
        status_list = cls(len(bits) * SLOTS_PER_BYTE)
        status_list._bits[:] = bits
        return status_list


def _inflate(data: bytes, expected: int) -> bytes:
    inflater = zlib.decompressobj()
    try:
        bits = inflater.decompress(data, expected)
    except zlib.error as error:
        raise StatusListError(
            f"status list bits: expected zlib data, got an error: {error}"
        ) from None
    if len(bits) != expected or not inflater.eof or inflater.unused_data:
        raise StatusListError(
            f"status list bits: expected exactly {expected} bytes in one complete zlib stream"
        )
    return bits


def _document(payload: bytes) -> dict[str, Any]:
    try:
        document = loads_strict(payload)
    except KeyManagementError as error:
        raise StatusListError(f"status list payload: {error}") from None
    if not isinstance(document, dict) or set(document) != _KEYS:
        found = sorted(map(str, document)) if isinstance(document, dict) else type(document)
        raise StatusListError(f"status list payload: expected keys {sorted(_KEYS)}, got {found}")
    if document["format"] != FORMAT:
        raise StatusListError(
            f"status list format: expected {FORMAT!r}, got {document['format']!r}"
        )
    if not isinstance(document["list_id"], str) or not isinstance(document["bits"], bytes):
        raise StatusListError("status list: expected a text list_id and bstr bits")
    issued_at = document["issued_at"]
    if type(issued_at) is not int or not 0 <= issued_at <= 253402300799:
        raise StatusListError(f"status list issued_at: expected integer seconds, got {issued_at!r}")
    return document


def _signer_key(
    message: cose.Sign1Message, trust: TrustList | PublicKey | bytes
) -> tuple[PublicKey, Any]:
    if not isinstance(trust, TrustList):
        key = load_public_key(trust) if isinstance(trust, bytes) else trust
        return key, None
    kid = message.kid
    if kid is None:
        raise StatusListError("status list: expected a kid in the protected header, got none")
    try:
        entry = trust.entry(kid)
    except KeyManagementError:
        raise StatusListError(
            f"status list signed by key {kid.hex()}, not on the trust list"
        ) from None
    if message.alg != entry.alg:
        raise StatusListError(
            f"status list algorithm: expected {entry.alg} for key {kid.hex()}, got {message.alg!r}"
        )
    return load_public_key(entry.public_key), entry


def load_status_list(
    data: bytes, trust: TrustList | PublicKey | bytes, *, owner: str | None = None
) -> StatusList:
    """Verify a signed status list against a trust list (or a public key) and return it."""
    # With a trust list the signing key must be valid at issuance, and ``owner``'s when given.
    try:
        # 1. COSE structure, then the signing key: by kid from the trust list, or the one given.
        message = cose.decode_sign1(data)
        key, entry = _signer_key(message, trust)
        # 2. The signature over the exact bytes received.
        cose.verify_decoded(message, key)
    except KeyManagementError as error:
        raise StatusListError(f"status list signature: {error}") from None
    # 3. The document, its bits and the signing key's validity at issuance.
    document = _document(message.payload)
    size = _check_size(document["size"])
    issued_at = datetime.fromtimestamp(document["issued_at"], UTC)
    if entry is not None:
        problem = entry.problem(issued_at, owner=owner)
        if problem is not None:
            raise StatusListError(f"status list key may not sign this list: {problem}")
    status_list = StatusList._from_bits(_inflate(document["bits"], size // SLOTS_PER_BYTE))
    status_list.list_id = document["list_id"]
    status_list.issued_at = issued_at
    status_list.kid = message.kid
    return status_list


def allocate_index(rng: random.Random, used: Set[int], size: int = MIN_SLOTS) -> int:
    """Return a slot index drawn uniformly from those not in ``used`` (every index ever given)."""
    _check_size(size)
    taken = sum(1 for index in used if 0 <= index < size)
    if taken >= size:
        raise StatusListError(f"status list full: expected a free slot, got all {size} used")
    if taken * 2 < size:
        # Rejection sampling stays uniform over free slots and needs under 2 draws on average.
        while True:
            index = rng.randrange(size)
            if index not in used:
                return index
    free = [index for index in range(size) if index not in used]
    return free[rng.randrange(len(free))]
