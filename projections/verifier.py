"""What an audit worker needs and does: the trust it starts from (key entries the root certified),
where the events live, and the verification of one chunk of 2**k leaves."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import ApplicationRecorder

from keys import cose
from keys.errors import KeyManagementError, UnknownKey
from keys.keyring import verify_certificate
from keys.registry import KeyEntry, kid_for
from keys.signer import Signer
from keys.trustlist import load_trust_list
from ledger.errors import IntegrityError
from ledger.merkle import MemoryTree, leaf_hash, root_plan
from ledger.signing import (
    SigningIdentity,
    SigningIdentityError,
    SigningMapper,
    TopicRegistry,
    event_hash,
)
from ledger.transcodings import CBORTranscoder, EncodingError, loads
from projections.database import Database, open_database, open_recorder
from projections.errors import AuditFailure
from projections.runtime import iterate_log
from projections.tree_nodes import stored_leaves, stored_subtrees


@dataclass(frozen=True)
class StoreLocation:
    """Where a worker process finds the events: the application's settings and name."""

    env: dict[str, str]
    app_name: str

    @classmethod
    def of(cls, app: Application[Any]) -> StoreLocation:
        """Return the location of an application's events."""
        return cls(dict(app.env), app.name)


class EntryDirectory:
    """A read-only ``KeyDirectory`` over certified key entries: verifies, never signs."""

    def __init__(self, entries: Sequence[KeyEntry]) -> None:
        self._entries = {entry.kid: entry for entry in entries}

    def signer_for(self, identity: SigningIdentity, at: datetime) -> tuple[Signer, bytes]:
        """Refuse: a verifier holds no private keys."""
        raise SigningIdentityError(f"a verifier holds no signing key for {identity.role}")

    def entry(self, kid: bytes) -> KeyEntry:
        """Return the entry of ``kid`` or raise ``UnknownKey``."""
        try:
            return self._entries[kid]
        except KeyError:
            raise UnknownKey(f"key id {kid.hex()} is not registered") from None

    def check_signer(self, identity: SigningIdentity, at: datetime) -> KeyEntry:
        """Refuse: a verifier holds no private keys."""
        raise SigningIdentityError(f"a verifier holds no signing key for {identity.role}")


@dataclass(frozen=True)
class AuditKeys:
    """The trust an audit starts from: the root public key and the key entries it certified."""

    entries: tuple[KeyEntry, ...]
    root_public_key_der: bytes

    @classmethod
    def from_entries(cls, entries: Sequence[KeyEntry], root_public_key_der: bytes) -> AuditKeys:
        """Accept entries only if the root certified each one."""
        for entry in entries:
            verify_certificate(entry, root_public_key_der)
        return cls(tuple(entries), root_public_key_der)

    @classmethod
    def from_trust_list(cls, data: bytes, root_public_key_der: bytes) -> AuditKeys:
        """Accept the entries of a trust list the root signed."""
        trust_list = load_trust_list(data, root_public_key_der)
        return cls(tuple(trust_list.entries.values()), root_public_key_der)

    def mapper(self) -> SigningMapper:
        """Return a verifying mapper that runs exactly the event store's read checks."""
        directory = EntryDirectory(self.entries)
        return SigningMapper(
            CBORTranscoder(),
            TopicRegistry(),
            lambda: directory,
            self.root_public_key_der,
            kid_for(self.root_public_key_der),
        )


@dataclass(frozen=True)
class Bad:
    """One failed check at one event (picklable, raised by the parent)."""

    check: str
    detail: str
    notification_id: int
    stream: UUID
    seq: int
    leaf_index: int


@dataclass(frozen=True)
class ChunkTask:
    """One chunk: the events with ``after < notification id <= upto``, from ``start_leaf`` on."""

    start_leaf: int
    after: int
    upto: int
    level: int  # the chunk is 2**level leaves (the last may hold fewer)
    checkpoint_size: int
    compare_below: int  # leaves below this are compared with the checkpointed stored tree


@dataclass(frozen=True)
class ChunkResult:
    """What the parent needs from a chunk to join it to the others."""

    count: int
    failure: Bad | None
    firsts: list[tuple[int, UUID, int, bytes | None, int]]  # nid, stream, seq, claimed prev, leaf
    heads: dict[UUID, tuple[int, bytes]]  # stream -> (seq, hash) of its last event in the chunk
    root: bytes | None  # the chunk's subtree hash when it is complete
    partial: dict[tuple[int, int], bytes]  # the checkpoint's subtrees that lie inside the chunk
    fault: tuple[int, int, bytes, bytes] | None  # a stored interior node the events disprove


class ChunkVerifier:
    """One worker's tools: a recorder and database of its own, and the rebuilt mapper."""

    def __init__(self, recorder: ApplicationRecorder, keys: AuditKeys, prefix: str | None) -> None:
        self.recorder = recorder
        self.mapper = keys.mapper()
        self.prefix = prefix
        self.database: Database | None = None if prefix is None else open_database(recorder)

    def verify(self, task: ChunkTask) -> ChunkResult:
        """Verify one chunk's events, leaves and stored subtrees."""
        leaves, subtrees = self._stored(task)
        tree = MemoryTree()
        heads: dict[UUID, tuple[int, bytes]] = {}
        firsts: list[tuple[int, UUID, int, bytes | None, int]] = []
        failure: Bad | None = None
        leaf = task.start_leaf
        for notification in iterate_log(self.recorder, after=task.after, upto=task.upto):
            stream, seq = _uuid(notification.originator_id), notification.originator_version
            head = heads.get(stream)
            # A stream's first event in the chunk: all checks but the link, which needs the
            # stream's last event in earlier chunks; the parent joins it with the claimed prev.
            claimed = _claimed_prev(notification.state) if head is None else None
            expected = head[1] if head is not None else (claimed or b"")
            try:
                self.mapper.verify(notification, expected)
            except IntegrityError as exc:
                failure = Bad(exc.check, exc.detail, notification.id, stream, seq, leaf)
                break
            if head is None:
                firsts.append((notification.id, stream, seq, claimed, leaf))
            hashed = leaf_hash(notification.state)
            if leaf < task.compare_below and leaves.get(leaf, (b"",))[0] != hashed:
                detail = _leaf_detail(leaf, leaves.get(leaf), hashed)
                failure = Bad("merkle", detail, notification.id, stream, seq, leaf)
                break
            tree.append_leaf_hash(hashed)
            heads[stream] = (seq, event_hash(notification.state))
            leaf += 1
        count = leaf - task.start_leaf
        if failure is not None:
            return ChunkResult(count, failure, firsts, heads, None, {}, None)
        return ChunkResult(
            count,
            None,
            firsts,
            heads,
            tree.node(task.level, 0) if count == 1 << task.level else None,
            _partial(task, tree, leaf),
            _fault(task, tree, subtrees),
        )

    def _stored(
        self, task: ChunkTask
    ) -> tuple[dict[int, tuple[bytes, int]], dict[tuple[int, int], bytes]]:
        if self.database is None or not self.prefix or task.compare_below <= task.start_leaf:
            return {}, {}
        end = min(task.start_leaf + (1 << task.level), task.compare_below)
        with self.database.transaction(write=False) as cursor:
            leaves = stored_leaves(cursor, self.prefix, task.start_leaf, end)
            subtrees = stored_subtrees(cursor, self.prefix, task.start_leaf, end, task.level)
        return leaves, subtrees


def _partial(task: ChunkTask, tree: MemoryTree, end: int) -> dict[tuple[int, int], bytes]:
    """Return the checkpoint's subtrees below the chunk level that lie in this chunk."""
    if not task.start_leaf < task.checkpoint_size <= end:
        return {}
    return {
        (a.level, a.index): tree.node(a.level, a.index - (task.start_leaf >> a.level))
        for a in root_plan(task.checkpoint_size)
        if a.level < task.level and a.index << a.level >= task.start_leaf
    }


def _fault(
    task: ChunkTask, tree: MemoryTree, subtrees: dict[tuple[int, int], bytes]
) -> tuple[int, int, bytes, bytes] | None:
    """Return the first stored interior node that differs from the one the events give."""
    for (level, index), stored in sorted(subtrees.items()):
        if (index + 1) << level > task.start_leaf + tree.size:
            continue  # the events end before this subtree does; the parent reports that
        computed = tree.node(level, index - (task.start_leaf >> level))
        if computed != stored:
            return level, index, stored, computed
    return None


_worker: ChunkVerifier | None = None
_worker_error: str | None = None


def init_worker(location: StoreLocation, keys: AuditKeys, prefix: str | None) -> None:
    """Pool initializer: open the worker's own recorder and rebuild the verifier."""
    global _worker, _worker_error
    try:
        recorder = open_recorder(location.env, location.app_name, create_tables=False)
        _worker = ChunkVerifier(recorder, keys, prefix)
    except Exception as exc:
        # A failing initializer makes the pool respawn the worker for ever: report it instead.
        _worker_error = f"{type(exc).__name__}: {exc}"


def run_chunk(task: ChunkTask) -> ChunkResult:
    """Pool task: verify one chunk with this worker's verifier."""
    if _worker is None:
        raise AuditFailure("setup", f"audit worker could not start: {_worker_error}")
    return _worker.verify(task)


def _uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)


def _claimed_prev(state: bytes) -> bytes | None:
    try:
        envelope = loads(cose.decode_sign1(state).payload)
    except (KeyManagementError, EncodingError):
        return None  # the mapper names the structural failure itself
    prev = envelope.get("prev") if isinstance(envelope, dict) else None
    return prev if isinstance(prev, bytes) else None


def _leaf_detail(leaf: int, known: tuple[bytes, int] | None, actual: bytes) -> str:
    if known is None:
        return (
            f"leaf {leaf} is missing from the checkpointed tree; the event hashes to {actual.hex()}"
        )
    return (
        f"leaf {leaf}: the checkpointed tree holds {known[0].hex()} (notification #{known[1]}), "
        f"the stored event hashes to {actual.hex()} though its signature verifies "
        "(re-signed by a key holder, or the stored leaf was altered)"
    )
