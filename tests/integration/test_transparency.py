"""The transparency log on real SQLite and PostgreSQL: RFC 9162 vectors from stored nodes,
proofs across 10,000 signed events, signed checkpoints, refusal after a changed rebuild, and a
witness that cosigns the live log and reports a fork."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from keys.signer import Ed25519Signer
from ledger.checkpoint import open_checkpoint, verify_cosignature
from ledger.merkle import MemoryTree, leaf_hash, root, verify_consistency, verify_inclusion
from projections.database import open_database, open_recorder
from projections.errors import (
    CheckpointRefused,
    ConsistencyRefused,
    ForkDetected,
    ProjectionError,
    ProofUnavailable,
)
from projections.runtime import ProjectionRunner
from projections.transparency import TransparencyLog
from projections.witness import Witness
from tests.conftest import vectors_dir
from tests.integration.worlds import T0, World

VECTORS: dict[str, Any] = json.loads((vectors_dir() / "rfc9162-merkle.json").read_text())
LEAVES = [bytes.fromhex(leaf) for leaf in VECTORS["leaves"]]
LOG_KEY = Ed25519Signer.from_seed(bytes(range(32)))


def h(values: list[str]) -> tuple[bytes, ...]:
    return tuple(bytes.fromhex(v) for v in values)


@pytest.fixture
def world(storage_env: dict[str, str]) -> Iterator[World]:
    w = World(storage_env)
    yield w
    w.app.close()


def open_log(world: World, **kwargs: Any) -> tuple[TransparencyLog, ProjectionRunner]:
    log = TransparencyLog(open_database(world.app.recorder), signer=LOG_KEY, **kwargs)
    return log, ProjectionRunner(world.app.recorder, [log])


def states(world: World) -> list[bytes]:
    return [n.state for n in world.app.recorder.select_notifications(start=1, limit=100_000)]


def test_stored_nodes_reproduce_the_published_rfc9162_vectors(
    storage_env: dict[str, str],
) -> None:
    recorder = open_recorder(storage_env, "vectors")
    log = TransparencyLog(open_database(recorder))
    runner = ProjectionRunner(recorder, [log], page_size=3)
    assert log.root() == bytes.fromhex(VECTORS["empty_root"])
    for number, data in enumerate(LEAVES):
        recorder.insert_events([StoredEvent(uuid4(), 1, "raw", data)])
        runner.run_once()
        assert log.root() == bytes.fromhex(VECTORS["roots"][str(number + 1)])
    for size in range(1, 9):
        assert log.root(size) == bytes.fromhex(VECTORS["roots"][str(size)])
    for level, hashes in enumerate(VECTORS["node_hashes_by_level"]):
        assert log.root(1 << level) == bytes.fromhex(hashes[0])
    for case in VECTORS["inclusion"]:
        if case["want_valid"]:
            assert log.inclusion_proof(case["index"], case["size"]) == h(case["proof"])
    for case in VECTORS["consistency"]:
        if case["want_valid"] and case["size1"] > 0:
            assert log.consistency_proof(case["size1"], case["size2"]) == h(case["proof"])
    recorder.datastore.close()  # type: ignore[attr-defined]


def test_proofs_across_ten_thousand_events_verify_against_the_roots(world: World) -> None:
    for _ in range(10):
        world.note(lines=999)
    log, runner = open_log(world)
    assert runner.run_once() == 10_005
    leaves = states(world)
    tree = MemoryTree(leaves)
    n = len(leaves)
    assert log.size() == n
    assert log.root() == root(tree, n)
    for old in (1, 2, 3, 1000, 1024, 4097, 8191, 9999, n):
        assert log.root(old) == root(tree, old)
        proof = log.consistency_proof(old, n)
        verify_consistency(old, n, log.root(old), log.root(), proof)
    for index in (0, 1, 4095, 4096, n - 1):
        verify_inclusion(
            leaf_hash(leaves[index]), index, n, log.inclusion_proof(index, n), log.root()
        )
    batch = log.inclusion_proofs([5, 6000, 8004], 8005)
    assert batch[:2] == [log.inclusion_proof(5, 8005), log.inclusion_proof(6000, 8005)]


def test_an_event_is_found_by_notification_id_and_proved_in_the_tree(world: World) -> None:
    stream = world.note(lines=3)
    log, runner = open_log(world)
    runner.run_once()
    record = log.leaf(8)
    assert (record.leaf_index, record.stream, record.seq) == (7, stream, 3)
    assert [r.seq for r in log.stream_leaves(stream)] == [1, 2, 3, 4]
    size = log.size()
    proof = log.inclusion_proof(record.leaf_index, size)
    verify_inclusion(leaf_hash(states(world)[7]), 7, size, proof, log.root())
    with pytest.raises(ProofUnavailable, match="expected notification #99 in the log"):
        log.leaf(99)
    with pytest.raises(ProofUnavailable, match="expected a signed checkpoint to prove against"):
        log.prove_event(8)
    signed = log.checkpoint(T0).checkpoint
    assert log.prove_event(8) == (record, proof)
    verify_inclusion(leaf_hash(states(world)[7]), 7, signed.size, proof, signed.root_hash)
    world.note(lines=1)
    runner.run_once()
    with pytest.raises(ProofUnavailable, match="event #10 is leaf 9, beyond a tree of 9"):
        log.prove_event(10)
    with pytest.raises(ProofUnavailable, match=r"tree size must be in \[0, 11\], got 12"):
        log.inclusion_proof(0, 12)


def test_checkpoints_are_signed_notes_issued_every_n_events_or_t_seconds(world: World) -> None:
    log, runner = open_log(world, every_events=10, every_seconds=60)
    assert log.maybe_checkpoint(T0) is None  # nothing to sign yet
    runner.run_once()
    first = log.maybe_checkpoint(T0)
    assert first is not None
    assert (first.number, first.checkpoint.size) == (1, 5)
    checkpoint, names = open_checkpoint(first.note, [log.verifier_key()])
    assert (checkpoint.origin, checkpoint.root_hash, names) == (
        "caseledger.example/log",
        log.root(5),
        ("caseledger.example/log",),
    )
    world.note(lines=2)
    runner.run_once()
    assert log.maybe_checkpoint(T0 + timedelta(seconds=59)) is None
    by_time = log.maybe_checkpoint(T0 + timedelta(seconds=60))
    assert by_time is not None and by_time.checkpoint.size == 8
    world.note(lines=9)
    runner.run_once()
    by_count = log.maybe_checkpoint(T0 + timedelta(seconds=61))
    assert by_count is not None and (by_count.number, by_count.checkpoint.size) == (3, 18)
    assert log.checkpoint(T0 + timedelta(hours=1)) == by_count  # nothing new: no new note
    assert log.latest_checkpoint() == by_count
    assert [c.checkpoint.size for c in log.checkpoints()] == [5, 8, 18]


def test_the_log_refuses_to_sign_after_a_rebuild_with_different_content(world: World) -> None:
    stream = world.note(lines=3)
    log, runner = open_log(world)
    runner.run_once()
    signed = log.checkpoint(T0)
    world.set_state(stream, 2, world.rows(stream)[1][2] + b"\x00")
    runner.rebuild(log.name)
    with pytest.raises(ConsistencyRefused, match="the log's content changed"):
        log.maybe_checkpoint(T0 + timedelta(hours=1))
    world.note(lines=1)
    runner.run_once()
    signed_root = signed.checkpoint.root_hash.hex()
    with pytest.raises(ConsistencyRefused, match=f"checkpoint #1 signed root {signed_root}"):
        log.checkpoint(T0 + timedelta(hours=2))
    assert log.latest_checkpoint() == signed


def test_the_log_refuses_to_sign_a_tree_smaller_than_its_last_checkpoint(world: World) -> None:
    world.note(lines=3)
    log, runner = open_log(world)
    runner.run_once()
    log.checkpoint(T0)
    with log.database.transaction() as cursor:
        cursor.execute("DELETE FROM tlog_nodes WHERE level = 0 AND idx = 8")
    with pytest.raises(ConsistencyRefused, match="covers 9 leaves, the tree now holds 8"):
        log.maybe_checkpoint(T0)


def test_a_log_without_a_signer_serves_proofs_but_signs_nothing(world: World) -> None:
    log = TransparencyLog(open_database(world.app.recorder))
    ProjectionRunner(world.app.recorder, [log]).run_once()
    assert log.size() == 5
    with pytest.raises(ProjectionError, match="opened without a signer; it cannot checkpoint"):
        log.checkpoint(T0)


def test_a_witness_cosigns_the_live_log_and_reports_a_fork(world: World, tmp_path: Path) -> None:
    stream = world.note(lines=3)
    log, runner = open_log(world)
    runner.run_once()
    cosigner = Ed25519Signer.generate()
    witness = Witness(
        tmp_path / "witness.json", log_key=log.verifier_key(), name="auditor", signer=cosigner
    )
    first = log.checkpoint(T0)
    line = witness.cosign(first.note, (), T0)
    assert verify_cosignature(first.checkpoint.body(), line, witness.cosigner_key) == int(
        T0.timestamp()
    )
    world.note(lines=5)
    runner.run_once()
    second = log.checkpoint(T0 + timedelta(minutes=1))
    proof = log.consistency_proof(first.checkpoint.size, second.checkpoint.size)
    witness.cosign(second.note, proof, T0 + timedelta(minutes=1))
    assert witness.last_seen == second.checkpoint
    # A second log under the same key, built after an event was altered: one size, two roots.
    world.set_state(stream, 2, world.rows(stream)[1][2] + b"\x00")
    forked = TransparencyLog(open_database(world.app.recorder), signer=LOG_KEY, prefix="forked")
    ProjectionRunner(world.app.recorder, [forked]).run_once()
    fork = forked.checkpoint(T0 + timedelta(minutes=2))
    assert fork.checkpoint.size == second.checkpoint.size
    with pytest.raises(ForkDetected, match=f"at size {fork.checkpoint.size}: expected root"):
        witness.cosign(fork.note, (), T0 + timedelta(minutes=2))
    assert witness.last_seen == second.checkpoint
    with pytest.raises(CheckpointRefused, match="size went backwards: last seen 15, offered 9"):
        witness.cosign(first.note, (), T0 + timedelta(minutes=3))
