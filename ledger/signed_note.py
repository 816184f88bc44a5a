"""C2SP signed notes: verifier keys, signature lines, signing, and verifying Ed25519 and
cosignature/v1 signatures. Specs: c2sp.org/signed-note@v1.0.0 (vkeys as in golang.org/x/mod
sumdb/note) and c2sp.org/tlog-cosignature@v1.0.0. Signatures cover the exact note text received.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_der_public_key,
)

from keys.signer import Signer
from ledger.errors import (
    NoteInvalid,
    NoteKeyInvalid,
    NoteMalformed,
    NoteSignatureInvalid,
    NoteUnverified,
)

SIG_ED25519 = 0x01  # signed-note signature type: Ed25519 over the note text
SIG_COSIGNATURE_V1 = 0x04  # signed-note signature type: timestamped Ed25519 cosignature
SIGNATURE_PREFIX = "\u2014 ".encode()  # em dash, space
MAX_SIGNATURES = 100  # the spec asks for at least 16; a cap bounds the work per note
MAX_TIMESTAMP = 2**63 - 1
KEY_HASH_SIZE = 4
PUBLIC_KEY_SIZE = 32
SIGNATURE_SIZE = 64
COSIGNATURE_HEADER = b"cosignature/v1\n"

_SIGNATURE_TYPES = {SIG_ED25519: "Ed25519", SIG_COSIGNATURE_V1: "cosignature/v1"}
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f]")  # every ASCII control character but newline
_KEY_HASH_HEX = re.compile("[0-9a-fA-F]{8}", re.ASCII)


# --- verifier keys -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteVerifierKey:
    """A named Ed25519 public key for note signatures (0x01) or cosignatures (0x04)."""

    name: str
    public_key: bytes
    sig_type: int = SIG_ED25519

    def __post_init__(self) -> None:
        _check_key_name(self.name, NoteKeyInvalid)
        if self.sig_type not in _SIGNATURE_TYPES:
            raise NoteKeyInvalid(
                f"signature type: expected 0x01 (Ed25519) or 0x04 (cosignature/v1), "
                f"got 0x{self.sig_type:02x}"
            )
        if len(self.public_key) != PUBLIC_KEY_SIZE:
            raise NoteKeyInvalid(
                f"Ed25519 public key: expected {PUBLIC_KEY_SIZE} bytes, got {len(self.public_key)}"
            )

    @property
    def key_hash(self) -> bytes:
        """Return SHA-256(name || 0x0A || type || public key)[:4], the key ID in signature lines."""
        material = self.name.encode() + b"\n" + bytes([self.sig_type]) + self.public_key
        return hashlib.sha256(material).digest()[:KEY_HASH_SIZE]

    @property
    def label(self) -> str:
        """Return ``name+keyhash`` (hex), how errors and logs name this key."""
        return f"{self.name}+{self.key_hash.hex()}"

    def format(self) -> str:
        """Return the vkey text ``name+keyhash+base64(type || public key)``."""
        return f"{self.label}+{_b64(bytes([self.sig_type]) + self.public_key)}"

    def __str__(self) -> str:
        return self.format()

    @classmethod
    def parse(cls, vkey: str) -> NoteVerifierKey:
        """Parse vkey text, checking that its key hash matches its name and key."""
        # 1. Split at the first two plus signs (names and hex hold none; base64 may).
        name, _, rest = vkey.partition("+")
        hash_hex, _, key_b64 = rest.partition("+")
        # 2. Key hash: eight hex digits.
        if not _KEY_HASH_HEX.fullmatch(hash_hex):
            raise NoteKeyInvalid(f"vkey key hash: expected 8 hex digits, got {hash_hex!r}")
        # 3. Key material: base64 of a type byte and the public key.
        material = _b64decode(key_b64, "vkey key material", NoteKeyInvalid)
        if not material:
            raise NoteKeyInvalid("vkey key material: expected a type byte and a key, got nothing")
        key = cls(name, material[1:], material[0])
        # 4. The stated hash must be the computed one.
        if key.key_hash != bytes.fromhex(hash_hex):
            raise NoteKeyInvalid(
                f"vkey key hash: expected {key.key_hash.hex()} for {name!r}, got {hash_hex.lower()}"
            )
        return key

    @classmethod
    def from_signer(cls, name: str, signer: Signer, sig_type: int = SIG_ED25519) -> NoteVerifierKey:
        """Return the verifier key that checks what ``signer`` signs under ``name``."""
        return cls(name, _ed25519_public_key(signer), sig_type)


# --- signed notes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, 4-byte key hash and the signature-type-specific payload."""

    name: str
    key_hash: bytes
    payload: bytes

    @property
    def label(self) -> str:
        """Return ``name+keyhash`` (hex), how errors and logs name the signing key."""
        return f"{self.name}+{self.key_hash.hex()}"

    def line(self) -> bytes:
        """Return the signature line, ``— <name> <base64(key hash || payload)>`` and a newline."""
        return SIGNATURE_PREFIX + f"{self.name} {_b64(self.key_hash + self.payload)}\n".encode()

    @classmethod
    def parse_line(cls, line: bytes) -> NoteSignature:
        """Parse one signature line given without its final newline."""
        # 1. Em dash and space.
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteMalformed(
                f"signature line: expected to start with '\u2014 ', got {line[:16]!r}"
            )
        try:
            rest = line[len(SIGNATURE_PREFIX) :].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteMalformed(f"signature line is not valid UTF-8: {exc}") from None
        # 2. Key name, one space, base64 (names hold no spaces, so the first space splits).
        name, space, encoded = rest.partition(" ")
        if not space or not encoded:
            raise NoteMalformed(
                f"signature line: expected '<name> <base64 signature>', got {rest[:40]!r}"
            )
        _check_key_name(name, NoteMalformed)
        # 3. Key hash and at least one byte of signature.
        raw = _b64decode(encoded, f"signature by {name!r}", NoteMalformed)
        if len(raw) <= KEY_HASH_SIZE:
            raise NoteMalformed(
                f"signature by {name!r}: expected more than {KEY_HASH_SIZE} bytes, got {len(raw)}"
            )
        return cls(name, raw[:KEY_HASH_SIZE], raw[KEY_HASH_SIZE:])


def parse_note(note: bytes) -> tuple[bytes, tuple[NoteSignature, ...]]:
    """Split a signed note into its exact text and its signature lines, verifying nothing."""
    # 1. Valid UTF-8 with no control characters but newline.
    try:
        decoded = note.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NoteMalformed(f"note is not valid UTF-8: {exc}") from None
    check_no_control(decoded, "note", NoteMalformed)
    # 2. The last blank line separates text (with its final newline) from signatures.
    split = note.rfind(b"\n\n")
    if split < 0:
        raise NoteMalformed("note: expected a blank line before the signatures, found none")
    text, block = note[: split + 1], note[split + 2 :]
    # 3. One or more signature lines, each ending in a newline.
    if not block:
        raise NoteMalformed("note: expected at least one signature line, got none")
    if not block.endswith(b"\n"):
        raise NoteMalformed("note: expected the last signature line to end in a newline")
    lines = block[:-1].split(b"\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteMalformed(f"note: expected at most {MAX_SIGNATURES} signatures, got {len(lines)}")
    return text, tuple(NoteSignature.parse_line(line) for line in lines)


def sign_note(text: bytes, name: str, signer: Signer) -> bytes:
    """Return ``text`` signed as a C2SP note by ``signer`` (Ed25519) under key name ``name``."""
    _check_note_text(text)
    key = NoteVerifierKey.from_signer(name, signer)
    signature = signer.sign(text)
    return text + b"\n" + NoteSignature(name, key.key_hash, signature).line()


def verify_note(note: bytes, verifiers: Sequence[NoteVerifierKey]) -> tuple[bytes, tuple[str, ...]]:
    """Return the text and the names whose signatures verified; any known bad signature fails."""
    known = _index_keys(verifiers)
    text, signatures = parse_note(note)
    verified: list[str] = []
    for signature in signatures:
        # Unknown (name, key hash) pairs are ignored, as the spec requires; known ones must verify.
        key = known.get((signature.name, signature.key_hash))
        if key is None:
            continue
        verify_signature(key, signature, text)
        if key.name not in verified:
            verified.append(key.name)
    if not verified:
        found = ", ".join(s.label for s in signatures)
        expected = ", ".join(k.label for k in known.values())
        raise NoteUnverified(
            f"note: expected a signature by one of [{expected}], found only [{found}]"
        )
    return text, tuple(verified)


def verify_signature(key: NoteVerifierKey, signature: NoteSignature, text: bytes) -> int:
    """Verify one known signature over ``text``; return its timestamp (0 for plain Ed25519)."""
    # A cosignature carries an 8-byte timestamp before the Ed25519 signature.
    expected = SIGNATURE_SIZE + (8 if key.sig_type == SIG_COSIGNATURE_V1 else 0)
    if len(signature.payload) != expected:
        raise NoteSignatureInvalid(
            f"signature by {key.label}: expected {expected} bytes, got {len(signature.payload)}"
        )
    if key.sig_type == SIG_COSIGNATURE_V1:
        cosignature = Cosignature.parse(signature.payload)
        timestamp, raw = cosignature.timestamp, cosignature.signature
        message = cosignature_message(text, timestamp)
    else:
        timestamp, raw, message = 0, signature.payload, text
    if not _ed25519_verifies(key.public_key, raw, message):
        raise NoteSignatureInvalid(
            f"signature by {key.label}: expected a valid {_SIGNATURE_TYPES[key.sig_type]} "
            f"signature over the exact note text, got one that does not verify"
        )
    return timestamp


def check_no_control(text: str, what: str, error: type[Exception]) -> None:
    """Refuse ASCII control characters other than newline."""
    match = _CONTROL.search(text)
    if match is not None:
        raise error(
            f"{what}: expected no control character but newline, "
            f"got U+{ord(match.group()):04X} at character {match.start()}"
        )


# --- cosignature/v1 signatures -------------------------------------------------------------------


@dataclass(frozen=True)
class Cosignature:
    """A cosignature/v1 payload: the POSIX time it was made and the 64-byte Ed25519 signature."""

    timestamp: int
    signature: bytes

    def __post_init__(self) -> None:
        _check_timestamp(self.timestamp)
        if len(self.signature) != SIGNATURE_SIZE:
            raise NoteMalformed(
                f"cosignature: expected a {SIGNATURE_SIZE}-byte signature, "
                f"got {len(self.signature)}"
            )

    def payload(self) -> bytes:
        """Return the timestamped_signature: 8-byte big-endian timestamp || signature."""
        return self.timestamp.to_bytes(8, "big") + self.signature

    @classmethod
    def parse(cls, payload: bytes) -> Cosignature:
        """Parse a timestamped_signature (the signature line's bytes after the key hash)."""
        expected = 8 + SIGNATURE_SIZE
        if len(payload) != expected:
            raise NoteMalformed(f"cosignature: expected {expected} bytes, got {len(payload)}")
        return cls(int.from_bytes(payload[:8], "big"), payload[8:])


def cosignature_message(checkpoint_body: bytes, timestamp: int) -> bytes:
    """Return the signed message: ``cosignature/v1``, ``time <timestamp>``, then the note text."""
    _check_timestamp(timestamp)
    return COSIGNATURE_HEADER + f"time {timestamp}\n".encode() + checkpoint_body


# --- internals -----------------------------------------------------------------------------------


def _index_keys(
    verifiers: Sequence[NoteVerifierKey],
) -> dict[tuple[str, bytes], NoteVerifierKey]:
    """Map (name, key hash) to key; refuse an empty set and two keys sharing both."""
    if not verifiers:
        raise NoteKeyInvalid("verifier keys: expected at least one, got none")
    known: dict[tuple[str, bytes], NoteVerifierKey] = {}
    for key in verifiers:
        other = known.setdefault((key.name, key.key_hash), key)
        if other != key:
            raise NoteKeyInvalid(f"verifier keys: two different keys share {key.label}")
    return known


def _ed25519_public_key(signer: Signer) -> bytes:
    """Return the signer's raw 32-byte Ed25519 public key; refuse any other algorithm."""
    try:
        public = load_der_public_key(signer.public_key_der())
    except ValueError as exc:
        raise NoteKeyInvalid(
            f"signer public key: expected DER SubjectPublicKeyInfo: {exc}"
        ) from None
    if not isinstance(public, Ed25519PublicKey):
        raise NoteKeyInvalid(
            f"signer: expected an Ed25519 key, got {type(public).__name__.lstrip('_')}"
        )
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _ed25519_verifies(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """Whether ``signature`` is the Ed25519 signature of ``public_key`` over ``message``."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def _check_note_text(text: bytes) -> None:
    """Refuse note text that could not round-trip through ``parse_note``."""
    if not text.endswith(b"\n"):
        raise NoteMalformed("note text: expected a final newline, got none")
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NoteMalformed(f"note text is not valid UTF-8: {exc}") from None
    check_no_control(decoded, "note text", NoteMalformed)


def _check_key_name(name: str, error: type[NoteInvalid]) -> None:
    """Key names are non-empty and hold no Unicode space, plus sign or control character."""
    if not name:
        raise error("key name: expected a non-empty name, got ''")
    bad = next((ch for ch in name if ch.isspace() or ch == "+" or ch < " "), None)
    if bad is not None:
        raise error(
            f"key name {name!r}: expected no space, '+' or control character, got U+{ord(bad):04X}"
        )


def _check_timestamp(timestamp: int) -> None:
    """Cosignature timestamps are POSIX seconds in [0, 2**63 - 1]."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise NoteMalformed(f"cosignature timestamp: expected 0..{MAX_TIMESTAMP}, got {timestamp}")


def _b64(data: bytes) -> str:
    """Standard base64 with padding (RFC 4648 §4)."""
    return base64.b64encode(data).decode("ascii")


def _b64decode(text: str, what: str, error: type[NoteInvalid]) -> bytes:
    """Strict standard base64: alphabet and padding checked."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise error(f"{what}: expected standard base64, got {text[:24]!r}: {exc}") from None
