"""``audit verify`` (DESIGN §4): every event's structure, key, signature and chain link, and the
Merkle root against the latest signed checkpoint, on several cores, naming the first bad event."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import ApplicationRecorder

from ledger.checkpoint import Checkpoint, open_checkpoint
from ledger.errors import LedgerError
from ledger.merkle import MemoryTree, root
from ledger.signed_note import NoteVerifierKey
from ledger.signing import genesis_hash
from projections.database import Database, open_database, open_recorder
from projections.errors import AuditFailure, ProofUnavailable
from projections.runtime import Progress
from projections.transparency import TransparencyLog
from projections.verifier import (
    AuditKeys,
    Bad,
    ChunkResult,
    ChunkTask,
    ChunkVerifier,
    StoreLocation,
    init_worker,
    run_chunk,
)

__all__ = ["AuditKeys", "AuditReport", "StoreLocation", "audit_verify"]

MIN_CHUNK_LEVEL = 10  # 1,024 events
MAX_CHUNK_LEVEL = 16  # 65,536 events


@dataclass(frozen=True)
class AuditReport:
    """A clean audit: how much was checked and which checkpoint the root matched."""

    events: int
    streams: int
    checkpoint: Checkpoint | None
    workers: int


def audit_verify(
    source: Application[Any] | StoreLocation,
    keys: AuditKeys,
    *,
    log: TransparencyLog | None = None,
    log_key: NoteVerifierKey | None = None,
    workers: int = 2,
    progress: Progress | None = None,
    chunk_level: int | None = None,
) -> AuditReport:
    """Verify every event and the Merkle root; raise ``AuditFailure`` naming the first bad one.

    ``chunk_level`` fixes the work unit at 2**chunk_level events (default: sized to the log).
    """
    if workers < 1 or (chunk_level is not None and not 0 <= chunk_level <= 30):
        raise AuditFailure(
            "setup",
            f"expected workers >= 1 and chunk level in [0, 30], got {workers} and {chunk_level}",
        )
    if isinstance(source, StoreLocation):
        recorder = open_recorder(source.env, source.app_name, create_tables=False)
        try:
            return _audit(source, recorder, keys, log, log_key, workers, progress, chunk_level)
        finally:
            recorder.datastore.close()  # type: ignore[attr-defined]
    location = StoreLocation.of(source)
    return _audit(location, source.recorder, keys, log, log_key, workers, progress, chunk_level)


def _audit(
    location: StoreLocation,
    recorder: ApplicationRecorder,
    keys: AuditKeys,
    log: TransparencyLog | None,
    log_key: NoteVerifierKey | None,
    workers: int,
    progress: Progress | None,
    chunk_level: int | None,
) -> AuditReport:
    database = open_database(recorder)
    # 1. The latest checkpoint: signed by the log's key, and is it matched by the stored tree?
    checkpoint, compare_below = _checkpoint(log, log_key)
    # 2. Cut the log as it is now into chunks of 2**k leaves.
    tasks, total = _plan(database, recorder, workers, checkpoint, compare_below, chunk_level)
    # 3. Verify the chunks in worker processes; join them here in log order. A worker links each
    #    event to its stream's previous one inside the chunk and reports each stream's first
    #    event there with the prev it claims, which is linked here to the stream's last event in
    #    earlier chunks: O(streams) per chunk, and no event is read twice.
    prefix = log.prefix if log is not None and compare_below else None
    heads: dict[UUID, tuple[int, bytes]] = {}
    upper = MemoryTree()  # one leaf per complete chunk: the chunk subtree hashes
    partial: dict[tuple[int, int], bytes] = {}
    fault: tuple[int, int, bytes, bytes] | None = None
    done = 0
    for chunk in _chunks(tasks, location, recorder, keys, prefix, workers):
        bad = _join(chunk, heads)
        if bad is not None:
            raise _failure(bad)
        if chunk.root is not None:
            upper.append_leaf_hash(chunk.root)
        partial.update(chunk.partial)
        fault = fault or chunk.fault
        done += chunk.count
        if progress is not None:
            progress(done, total)
    # 4. The root over the events themselves must be the one the checkpoint signed.
    if checkpoint is not None:
        _check_root(checkpoint, total, tasks, upper, partial, compare_below)
        fault = fault or _upper_fault(database, log, tasks, upper, compare_below)
    # 5. And the stored tree that serves proofs must agree with the events.
    if fault is not None:
        level, index, stored, computed = fault
        raise AuditFailure(
            "log-tree",
            f"stored subtree ({level}, {index}) is {stored.hex()}, the events give "
            f"{computed.hex()}: proofs served from it are wrong; rebuild the transparency log",
        )
    return AuditReport(total, len(heads), checkpoint, workers)


def _failure(bad: Bad) -> AuditFailure:
    return AuditFailure(
        bad.check,
        bad.detail,
        notification_id=bad.notification_id,
        stream=bad.stream,
        seq=bad.seq,
        leaf_index=bad.leaf_index,
    )


def _checkpoint(
    log: TransparencyLog | None, log_key: NoteVerifierKey | None
) -> tuple[Checkpoint | None, int]:
    """Return the verified latest checkpoint and how many leaves of the stored tree it covers."""
    latest = None if log is None else log.latest_checkpoint()
    if log is None or latest is None:
        return None, 0
    try:
        checkpoint, _ = open_checkpoint(latest.note, [log_key or log.verifier_key()])
    except LedgerError as exc:
        raise AuditFailure("checkpoint", f"latest checkpoint does not verify: {exc}") from None
    try:
        matches = log.root(checkpoint.size) == checkpoint.root_hash
    except ProofUnavailable:
        matches = False
    return checkpoint, checkpoint.size if matches else 0


def _plan(
    database: Database,
    recorder: ApplicationRecorder,
    workers: int,
    checkpoint: Checkpoint | None,
    compare_below: int,
    chunk_level: int | None,
) -> tuple[list[ChunkTask], int]:
    upto = int(recorder.max_notification_id() or 0)
    size = 0 if checkpoint is None else checkpoint.size
    with database.transaction(write=False) as cursor:
        total = database.count_after(cursor, 0, upto)
        # About eight chunks per worker balance the cores; bounds keep chunks efficient.
        wanted = max(1, total // (8 * workers))
        level = min(MAX_CHUNK_LEVEL, max(MIN_CHUNK_LEVEL, (wanted - 1).bit_length()))
        level = level if chunk_level is None else chunk_level
        tasks: list[ChunkTask] = []
        after, leaf = 0, 0
        while leaf < total:
            count = min(1 << level, total - leaf)
            last = database.id_after(cursor, after, count - 1)
            last = upto if last is None or last > upto else last
            tasks.append(ChunkTask(leaf, after, last, level, size, compare_below))
            after, leaf = last, leaf + count
    return tasks, total


def _chunks(
    tasks: list[ChunkTask],
    location: StoreLocation,
    recorder: ApplicationRecorder,
    keys: AuditKeys,
    prefix: str | None,
    workers: int,
) -> Iterator[ChunkResult]:
    if workers == 1 or len(tasks) <= 1:
        verifier = ChunkVerifier(recorder, keys, prefix)
        for task in tasks:
            yield verifier.verify(task)
        return
    # Spawn, not fork: a forked child would share the parent's database connections. An executor,
    # not a Pool: when the consumer stops at a bad chunk, the chunks not started are cancelled and
    # the running ones finished, where Pool.terminate() with tasks in flight could hang.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        min(workers, len(tasks)),
        mp_context=context,
        initializer=init_worker,
        initargs=(location, keys, prefix),
    ) as executor:
        futures = [executor.submit(run_chunk, task) for task in tasks]
        try:
            for future in futures:
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


def _join(chunk: ChunkResult, heads: dict[UUID, tuple[int, bytes]]) -> Bad | None:
    """Link each stream's first event in the chunk to its previous one; then take the chunk's."""
    for nid, stream, seq, claimed, leaf in chunk.firsts:
        head = heads.get(stream)
        expected = genesis_hash(stream) if head is None else head[1]
        if claimed != expected:
            got = claimed.hex() if claimed is not None else "?"
            detail = (
                f"prev {got} does not match the previous event {expected.hex()}"
                if head is not None or seq == 1
                else f"prev {got}, but no earlier event of this stream is in the log "
                f"(expected seq 1 with the genesis prev {expected.hex()})"
            )
            return Bad("chain", detail, nid, stream, seq, leaf)
    if chunk.failure is not None:
        return chunk.failure
    heads.update(chunk.heads)
    return None


def _check_root(
    checkpoint: Checkpoint,
    total: int,
    tasks: list[ChunkTask],
    upper: MemoryTree,
    partial: dict[tuple[int, int], bytes],
    compare_below: int,
) -> None:
    if checkpoint.size > total:
        raise AuditFailure(
            "merkle",
            f"checkpoint covers {checkpoint.size} events, the log now holds only {total}",
        )
    computed = root(_Assembled(checkpoint.size, tasks[0].level, upper, partial), checkpoint.size)
    if computed != checkpoint.root_hash:
        where = (
            "the stored tree matches the checkpoint, yet no leaf differs"
            if compare_below
            else "the stored tree does not match the checkpoint either (rebuilt?), so the "
            "changed leaf cannot be located"
        )
        raise AuditFailure(
            "merkle",
            f"root over the first {checkpoint.size} events is {computed.hex()}, the "
            f"checkpoint signed {checkpoint.root_hash.hex()}; {where}",
        )
    if not compare_below:
        raise AuditFailure(
            "log-tree",
            f"the events match checkpoint size {checkpoint.size}, but the stored tree serving "
            "proofs does not: rebuild the transparency log",
        )


def _upper_fault(
    database: Database,
    log: TransparencyLog | None,
    tasks: list[ChunkTask],
    upper: MemoryTree,
    compare_below: int,
) -> tuple[int, int, bytes, bytes] | None:
    """Compare the stored subtrees above the chunk level with the chunk hashes' tree."""
    if log is None or not tasks or not compare_below:
        return None
    level = tasks[0].level
    with database.transaction(write=False) as cursor:
        cursor.execute(
            f"SELECT level, idx, hash FROM {log.prefix}_nodes WHERE level >= ? ORDER BY level, idx",
            (level,),
        )
        rows = cursor.fetchall()
    for stored_level, index, stored in rows:
        if (int(index) + 1) << int(stored_level) <= compare_below:
            computed = upper.node(int(stored_level) - level, int(index))
            if computed != bytes(stored):
                return int(stored_level), int(index), bytes(stored), computed
    return None


class _Assembled:
    """A ``TreeNodes`` of chunk subtree hashes (levels >= k) and the partial chunk below."""

    def __init__(
        self, size: int, level: int, upper: MemoryTree, partial: dict[tuple[int, int], bytes]
    ) -> None:
        self.size = size
        self._level = level
        self._upper = upper
        self._partial = partial

    def node(self, level: int, index: int) -> bytes:
        if level >= self._level:
            return self._upper.node(level - self._level, index)
        return self._partial[(level, index)]
