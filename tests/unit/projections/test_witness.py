"""The witness on its own: checkpoints from an in-memory tree, state in a JSON file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from keys.signer import Ed25519Signer
from ledger.checkpoint import Checkpoint, verify_cosignature
from ledger.merkle import MemoryTree, consistency_proof, root
from ledger.signed_note import NoteVerifierKey, sign_note
from projections.errors import CheckpointRefused, ConsistencyRefused, ForkDetected
from projections.witness import Witness

ORIGIN = "caseledger.example/log"
LOG = Ed25519Signer.from_seed(b"\x01" * 32)
COSIGNER = Ed25519Signer.from_seed(b"\x02" * 32)
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TREE = MemoryTree(f"event {i}".encode() for i in range(40))


def note(size: int, tree: MemoryTree = TREE, signer: Ed25519Signer = LOG) -> bytes:
    body = Checkpoint(ORIGIN, size, root(tree, size)).body()
    return sign_note(body, ORIGIN, signer)


def witness(path: Path) -> Witness:
    key = NoteVerifierKey.from_signer(ORIGIN, LOG)
    return Witness(path / "witness.json", log_key=key, name="auditor", signer=COSIGNER)


def test_the_first_checkpoint_is_cosigned_and_remembered(tmp_path: Path) -> None:
    w = witness(tmp_path)
    line = w.cosign(note(10), (), NOW)
    body = Checkpoint(ORIGIN, 10, root(TREE, 10)).body()
    assert verify_cosignature(body, line, w.cosigner_key) == int(NOW.timestamp())
    assert witness(tmp_path).last_seen == Checkpoint.parse(body)


def test_a_grown_checkpoint_needs_a_consistency_proof_from_the_last_one(tmp_path: Path) -> None:
    w = witness(tmp_path)
    w.cosign(note(10), (), NOW)
    w.cosign(note(33), consistency_proof(TREE, 10, 33), NOW)
    assert w.last_seen is not None and w.last_seen.size == 33
    with pytest.raises(ConsistencyRefused, match="not shown to extend the one of size 33"):
        w.cosign(note(40), consistency_proof(TREE, 20, 40), NOW)
    assert w.last_seen.size == 33


def test_the_same_checkpoint_again_is_cosigned_without_a_proof(tmp_path: Path) -> None:
    w = witness(tmp_path)
    w.cosign(note(10), (), NOW)
    w.cosign(note(10), (), NOW)
    with pytest.raises(ConsistencyRefused, match="expected an empty proof for equal sizes 10"):
        w.cosign(note(10), (b"\x00" * 32,), NOW)


def test_two_roots_for_one_size_are_reported_as_a_fork(tmp_path: Path) -> None:
    w = witness(tmp_path)
    w.cosign(note(10), (), NOW)
    other = MemoryTree(f"other {i}".encode() for i in range(10))
    with pytest.raises(ForkDetected, match=f"fork in '{ORIGIN}' at size 10: expected root") as err:
        w.cosign(note(10, other), (), NOW)
    assert (err.value.seen, err.value.offered) == (root(TREE, 10), root(other, 10))


def test_a_checkpoint_whose_size_went_backwards_is_refused(tmp_path: Path) -> None:
    w = witness(tmp_path)
    w.cosign(note(20), (), NOW)
    with pytest.raises(CheckpointRefused, match="size went backwards: last seen 20, offered 19"):
        w.cosign(note(19), (), NOW)


def test_a_checkpoint_not_signed_by_the_log_is_refused(tmp_path: Path) -> None:
    w = witness(tmp_path)
    with pytest.raises(CheckpointRefused, match="checkpoint signature: note: expected a signature"):
        w.cosign(note(10, signer=Ed25519Signer.from_seed(b"\x03" * 32)), (), NOW)
    assert w.last_seen is None


def test_a_checkpoint_of_another_origin_is_refused(tmp_path: Path) -> None:
    key = NoteVerifierKey.from_signer(ORIGIN, LOG)
    w = Witness(tmp_path / "w.json", log_key=key, name="auditor", signer=COSIGNER, origin="x/log")
    expected = f"expected a checkpoint of 'x/log', got one of '{ORIGIN}'"
    with pytest.raises(CheckpointRefused, match=expected):
        w.cosign(note(10), (), NOW)


def test_state_written_for_another_log_key_is_refused(tmp_path: Path) -> None:
    witness(tmp_path).cosign(note(10), (), NOW)
    other = NoteVerifierKey.from_signer(ORIGIN, Ed25519Signer.from_seed(b"\x04" * 32))
    w = Witness(tmp_path / "witness.json", log_key=other, name="auditor", signer=COSIGNER)
    with pytest.raises(CheckpointRefused, match="belongs to log key"):
        _ = w.last_seen


def test_an_unreadable_state_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "witness.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(CheckpointRefused, match="is unreadable: expected format"):
        _ = witness(tmp_path).last_seen
