"""C2SP tlog-checkpoint (a log's tree head as note text) and tlog-cosignature (witnesses'
cosignatures over it), as c2sp.org/tlog-checkpoint@v1.0.0 and c2sp.org/tlog-cosignature@v1.0.0.
Notes, keys and signature lines are ``ledger.signed_note``'s; signatures cover the exact text.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass

from keys.signer import Signer
from ledger.errors import CheckpointInvalid, NoteKeyInvalid, NoteUnverified
from ledger.merkle import HASH_SIZE
from ledger.signed_note import (
    SIG_COSIGNATURE_V1,
    Cosignature,
    NoteSignature,
    NoteVerifierKey,
    check_no_control,
    cosignature_message,
    verify_note,
    verify_signature,
)

MAX_TREE_SIZE = 2**64 - 1

_DECIMAL = re.compile("0|[1-9][0-9]*", re.ASCII)


# --- tlog-checkpoint -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head as C2SP checkpoint text: origin, tree size, root hash, extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "extensions", tuple(self.extensions))
        _check_line("origin", self.origin)
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise CheckpointInvalid(f"tree size: expected 0..{MAX_TREE_SIZE}, got {self.size}")
        if len(self.root_hash) != HASH_SIZE:
            raise CheckpointInvalid(
                f"root hash: expected {HASH_SIZE} bytes, got {len(self.root_hash)}"
            )
        for number, line in enumerate(self.extensions, start=4):
            _check_line(f"extension line {number}", line)

    def body(self) -> bytes:
        """Return the note text: each line, extensions included, ending in a newline."""
        lines = [self.origin, str(self.size), _b64(self.root_hash), *self.extensions]
        return "".join(line + "\n" for line in lines).encode()

    @classmethod
    def parse(cls, body: bytes) -> Checkpoint:
        """Parse checkpoint note text, refusing anything ``body()`` would not reproduce exactly."""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CheckpointInvalid(f"checkpoint is not valid UTF-8: {exc}") from None
        # 1. Every line, the last included, ends in a newline.
        if not text.endswith("\n"):
            raise CheckpointInvalid("checkpoint: expected a final newline, got none")
        lines = text[:-1].split("\n")
        # 2. Origin, size and root hash lines are mandatory.
        if len(lines) < 3:
            raise CheckpointInvalid(f"checkpoint: expected at least 3 lines, got {len(lines)}")
        origin, size_line, root_line, *extensions = lines
        # 3. Tree size: ASCII decimal without leading zeroes (a uint64 has at most 20 digits).
        if len(size_line) > 20:
            raise CheckpointInvalid(f"tree size: expected at most 20 digits, got {len(size_line)}")
        if not _DECIMAL.fullmatch(size_line):
            raise CheckpointInvalid(
                f"tree size: expected a decimal without leading zeroes, got {size_line!r}"
            )
        # 4. Root hash: canonical standard base64 of one hash.
        try:
            root_hash = base64.b64decode(root_line, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CheckpointInvalid(
                f"root hash: expected base64, got {root_line!r}: {exc}"
            ) from None
        if _b64(root_hash) != root_line:
            raise CheckpointInvalid(f"root hash: base64 {root_line!r} is not in canonical form")
        # 5. Field rules (non-empty lines, no control characters, ranges) live in __post_init__.
        return cls(origin, int(size_line), root_hash, tuple(extensions))


def open_checkpoint(
    note: bytes, verifiers: Sequence[NoteVerifierKey]
) -> tuple[Checkpoint, tuple[str, ...]]:
    """Verify a signed checkpoint note and parse its text; return it with the verified names."""
    text, names = verify_note(note, verifiers)
    return Checkpoint.parse(text), names


# --- tlog-cosignature ----------------------------------------------------------------------------


def cosign(checkpoint_body: bytes, name: str, signer: Signer, timestamp: int) -> bytes:
    """Return a cosignature line over a checkpoint; append it to the signed checkpoint note."""
    Checkpoint.parse(checkpoint_body)  # a cosigner signs only well-formed checkpoints
    key = NoteVerifierKey.from_signer(name, signer, SIG_COSIGNATURE_V1)
    signature = signer.sign(cosignature_message(checkpoint_body, timestamp))
    payload = Cosignature(timestamp, signature).payload()
    return NoteSignature(name, key.key_hash, payload).line()


def verify_cosignature(checkpoint_body: bytes, line: bytes, key: NoteVerifierKey) -> int:
    """Check one cosignature line (final newline optional) by ``key``; return its timestamp."""
    if key.sig_type != SIG_COSIGNATURE_V1:
        raise NoteKeyInvalid(
            f"cosigner key {key.label}: expected signature type 0x04, got 0x{key.sig_type:02x}"
        )
    signature = NoteSignature.parse_line(line.removesuffix(b"\n"))
    if (signature.name, signature.key_hash) != (key.name, key.key_hash):
        raise NoteUnverified(
            f"cosignature: expected one by {key.label}, got one by {signature.label}"
        )
    return verify_signature(key, signature, checkpoint_body)


# --- internals -----------------------------------------------------------------------------------


def _check_line(what: str, line: str) -> None:
    """Checkpoint lines are non-empty and hold no newline or other control character."""
    if not line:
        raise CheckpointInvalid(f"{what}: expected a non-empty line, got ''")
    if "\n" in line:
        raise CheckpointInvalid(f"{what}: expected one line, got {line!r}")
    check_no_control(line, what, CheckpointInvalid)


def _b64(data: bytes) -> str:
    """Standard base64 with padding (RFC 4648 §4)."""
    return base64.b64encode(data).decode("ascii")
