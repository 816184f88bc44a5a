"""A witness (an auditor's CLI, DESIGN §4): remembers the last checkpoint it saw of one log,
accepts a new one only with a consistency proof from the old size, then cosigns it
(C2SP tlog-cosignature). State is a small JSON file.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from keys.signer import Signer
from ledger.checkpoint import Checkpoint, cosign, open_checkpoint
from ledger.errors import LedgerError, ProofInvalid
from ledger.merkle import verify_consistency
from ledger.signed_note import SIG_COSIGNATURE_V1, NoteVerifierKey
from projections.errors import CheckpointRefused, ConsistencyRefused, ForkDetected

STATE_FORMAT = "caseledger-witness/1"


class Witness:
    """Cosigns a log's checkpoints that extend the last one it saw; reports forks."""

    def __init__(
        self,
        state_path: Path,
        *,
        log_key: NoteVerifierKey,
        name: str,
        signer: Signer,
        origin: str | None = None,
    ) -> None:
        self.state_path = Path(state_path)
        self.log_key = log_key
        self.name = name
        self.origin = origin or log_key.name
        self._signer = signer
        self.cosigner_key = NoteVerifierKey.from_signer(name, signer, sig_type=SIG_COSIGNATURE_V1)

    @property
    def last_seen(self) -> Checkpoint | None:
        """Return the last checkpoint this witness accepted, or None."""
        if not self.state_path.exists():
            return None
        try:
            state = json.loads(self.state_path.read_text("utf-8"))
            if state.get("format") != STATE_FORMAT:
                raise ValueError(f"expected format {STATE_FORMAT!r}, got {state.get('format')!r}")
            if state.get("log_key") != self.log_key.format():
                raise CheckpointRefused(
                    f"witness state {self.state_path} belongs to log key {state.get('log_key')}, "
                    f"expected {self.log_key.format()}"
                )
            return Checkpoint.parse(base64.b64decode(state["checkpoint"], validate=True))
        except (ValueError, KeyError, TypeError, binascii.Error, LedgerError) as exc:
            raise CheckpointRefused(
                f"witness state {self.state_path} is unreadable: {exc}"
            ) from None

    def cosign(self, note: bytes, proof: Sequence[bytes], now: datetime) -> bytes:
        """Verify a signed checkpoint and a consistency proof from the last one seen; cosign it.

        Returns the cosignature line to append to the note.
        """
        # 1. The log's own signature over the exact note text.
        try:
            checkpoint, _ = open_checkpoint(note, [self.log_key])
        except LedgerError as exc:
            raise CheckpointRefused(f"checkpoint signature: {exc}") from None
        # 2. The log this witness follows.
        if checkpoint.origin != self.origin:
            raise CheckpointRefused(
                f"expected a checkpoint of {self.origin!r}, got one of {checkpoint.origin!r}"
            )
        old = self.last_seen
        if old is not None:
            self._check_extends(old, checkpoint, proof)
        # 3. Cosign the exact body, then remember it (atomically: a crash keeps the old state).
        line = cosign(checkpoint.body(), self.name, self._signer, int(now.timestamp()))
        self._remember(checkpoint)
        return line

    def _check_extends(self, old: Checkpoint, new: Checkpoint, proof: Sequence[bytes]) -> None:
        # 2a. A log only grows.
        if new.size < old.size:
            raise CheckpointRefused(
                f"tree size went backwards: last seen {old.size}, offered {new.size}"
            )
        # 2b. One size, one root: anything else is a split view.
        if new.size == old.size:
            if new.root_hash != old.root_hash:
                raise ForkDetected(self.origin, new.size, old.root_hash, new.root_hash)
            if proof:
                raise ConsistencyRefused(
                    f"expected an empty proof for equal sizes {new.size}, got {len(proof)} hashes"
                )
            return
        # 2c. Growth must come with a consistency proof (RFC 9162 §2.1.4.2); none from size 0.
        if old.size == 0:
            return
        try:
            verify_consistency(old.size, new.size, old.root_hash, new.root_hash, proof)
        except ProofInvalid as exc:
            raise ConsistencyRefused(
                f"checkpoint of size {new.size} is not shown to extend the one of size "
                f"{old.size} already seen: {exc}"
            ) from None

    def _remember(self, checkpoint: Checkpoint) -> None:
        state = {
            "format": STATE_FORMAT,
            "log_key": self.log_key.format(),
            "checkpoint": base64.b64encode(checkpoint.body()).decode("ascii"),
        }
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.state_path.with_name(self.state_path.name + ".tmp")
        with temporary.open("w", encoding="utf-8") as handle:
            handle.write(json.dumps(state, indent=2) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.state_path)
