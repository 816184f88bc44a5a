"""The global transparency log (DESIGN §4): an RFC 9162 Merkle tree over every event in
notification order (leaf data = the exact stored COSE bytes), kept as a read model of stored
complete-subtree hashes, with O(log n) proofs and signed C2SP checkpoints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from eventsourcing.persistence import Notification

from keys.signer import Signer
from ledger.checkpoint import Checkpoint, open_checkpoint
from ledger.errors import LedgerError, MerkleTreeError, ProofInvalid
from ledger.merkle import (
    EMPTY_ROOT,
    NodeAddress,
    appended_nodes,
    consistency_plan,
    consistency_proof,
    inclusion_plan,
    inclusion_proof,
    leaf_hash,
    root,
    root_plan,
    verify_consistency,
)
from ledger.signed_note import NoteVerifierKey, parse_note, sign_note
from projections.database import Database, ViewCursor
from projections.errors import ConsistencyRefused, ProjectionError, ProofUnavailable
from projections.runtime import ReadModel
from projections.tree_nodes import NodeCache, fetch_nodes, tree_size

DEFAULT_ORIGIN = "caseledger.example/log"
_CHECKPOINT_LOCK = 2026112203  # serialises checkpoint issuers across processes


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint the log signed: its number, parsed body, the signed note and issue time."""

    number: int
    checkpoint: Checkpoint
    note: bytes
    issued_at: datetime


@dataclass(frozen=True)
class LeafRecord:
    """Where an event sits in the log: leaf index, notification id, stream and seq."""

    leaf_index: int
    notification_id: int
    stream: UUID
    seq: int


class TransparencyLog(ReadModel):
    """The Merkle log over every event, its proofs, and its signed checkpoints."""

    def __init__(
        self,
        database: Database,
        *,
        origin: str = DEFAULT_ORIGIN,
        signer: Signer | None = None,
        key_name: str | None = None,
        every_events: int = 1_000,
        every_seconds: float = 60.0,
        prefix: str = "tlog",
    ) -> None:
        if not prefix.isidentifier():
            raise ProjectionError(f"table prefix must be an SQL identifier, got {prefix!r}")
        if every_events < 1 or every_seconds <= 0:
            raise ProjectionError(
                f"checkpoint interval must be >= 1 event and > 0 s, "
                f"got {every_events} events and {every_seconds} s"
            )
        self.name = f"transparency:{prefix}"
        self.database = database
        self.origin = origin
        self.prefix = prefix
        self.every_events = every_events
        self.every_seconds = every_seconds
        self._signer = signer
        self._key_name = key_name or origin
        self._verifier = (
            None if signer is None else NoteVerifierKey.from_signer(self._key_name, signer)
        )

    # -- read model ------------------------------------------------------------------------------

    def create_tables(self, cursor: ViewCursor) -> None:
        """Create the node, leaf and checkpoint tables."""
        for statement in cursor.database.ddl("transparency", prefix=self.prefix):
            cursor.execute(statement)

    def clear(self, cursor: ViewCursor) -> None:
        """Drop the tree; signed checkpoints stay, so a rebuild must reproduce what they sign."""
        cursor.execute(f"DELETE FROM {self.prefix}_leaves")
        cursor.execute(f"DELETE FROM {self.prefix}_nodes")

    def apply(self, cursor: ViewCursor, notification: Notification) -> None:
        """Append one event as the next leaf."""
        self.apply_batch(cursor, [notification])

    def apply_batch(self, cursor: ViewCursor, notifications: Sequence[Notification]) -> None:
        """Append a page of events; only the right border of the tree is read."""
        size = tree_size(cursor, self.prefix)
        tree = NodeCache(size, fetch_nodes(cursor, self.prefix, root_plan(size)))
        nodes: list[tuple[int, int, bytes]] = []
        leaves: list[tuple[int, int, str, int]] = []
        for notification in notifications:
            rows = appended_nodes(tree, leaf_hash(notification.state))
            leaves.append(
                (
                    tree.size,
                    notification.id,
                    str(notification.originator_id),
                    notification.originator_version,
                )
            )
            nodes.extend((a.level, a.index, value) for a, value in rows)
            tree.add(rows)
        cursor.insert_many(f"{self.prefix}_nodes", ("level", "idx", "hash"), nodes)
        cursor.insert_many(
            f"{self.prefix}_leaves", ("leaf_index", "notification_id", "stream", "seq"), leaves
        )

    # -- queries ---------------------------------------------------------------------------------

    def size(self) -> int:
        """Return how many events the tree holds."""
        with self.database.transaction(write=False) as cursor:
            return tree_size(cursor, self.prefix)

    def root(self, size: int | None = None) -> bytes:
        """Return MTH of the first ``size`` leaves (default: all)."""
        with self.database.transaction(write=False) as cursor:
            tree = self._nodes(cursor, size, root_plan)
            return root(tree, tree.size) if tree.size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int) -> tuple[bytes, ...]:
        """Return PATH(index, D[0:size]) from stored subtrees."""
        with self.database.transaction(write=False) as cursor:
            tree = self._nodes(cursor, size, lambda n: _flat(inclusion_plan(index, n)))
            return inclusion_proof(tree, index, size)

    def consistency_proof(self, old_size: int, new_size: int) -> tuple[bytes, ...]:
        """Return PROOF(old_size, D[0:new_size]) from stored subtrees."""
        with self.database.transaction(write=False) as cursor:
            tree = self._nodes(cursor, new_size, lambda n: _flat(consistency_plan(old_size, n)))
            return consistency_proof(tree, old_size, new_size)

    def inclusion_proofs(self, indexes: Sequence[int], size: int) -> list[tuple[bytes, ...]]:
        """Return the inclusion proofs of several leaves in one tree size, in one query."""
        with self.database.transaction(write=False) as cursor:
            tree = self._nodes(
                cursor, size, lambda n: [a for i in indexes for a in _flat(inclusion_plan(i, n))]
            )
            return [inclusion_proof(tree, index, size) for index in indexes]

    def prove_event(
        self, notification_id: int, size: int | None = None
    ) -> tuple[LeafRecord, tuple[bytes, ...]]:
        """Return where an event sits and its inclusion proof in the tree of ``size`` leaves.

        ``size`` defaults to the latest checkpoint's, so the proof checks against a signed root.
        """
        record = self.leaf(notification_id)
        if size is None:
            latest = self.latest_checkpoint()
            if latest is None:
                raise ProofUnavailable("expected a signed checkpoint to prove against, none yet")
            size = latest.checkpoint.size
        if record.leaf_index >= size:
            raise ProofUnavailable(
                f"event #{notification_id} is leaf {record.leaf_index}, beyond a tree of {size}: "
                "wait for the next checkpoint"
            )
        return record, self.inclusion_proof(record.leaf_index, size)

    def leaf_hashes(self, indexes: Sequence[int]) -> dict[int, bytes]:
        """Return the stored hash of each named leaf, in one query."""
        with self.database.transaction(write=False) as cursor:
            found = fetch_nodes(cursor, self.prefix, [NodeAddress(0, i) for i in indexes])
        return {index: value for (_, index), value in found.items()}

    def leaf(self, notification_id: int) -> LeafRecord:
        """Return where the event with ``notification_id`` sits in the log."""
        with self.database.transaction(write=False) as cursor:
            cursor.execute(
                f"SELECT leaf_index, notification_id, stream, seq FROM {self.prefix}_leaves "
                "WHERE notification_id = ?",
                (notification_id,),
            )
            row = cursor.fetchone()
        if row is None:
            raise ProofUnavailable(
                f"expected notification #{notification_id} in the log, it holds no such leaf yet"
            )
        return LeafRecord(int(row[0]), int(row[1]), UUID(str(row[2])), int(row[3]))

    def stream_leaves(self, stream: UUID) -> list[LeafRecord]:
        """Return the leaves of one stream in seq order."""
        with self.database.transaction(write=False) as cursor:
            cursor.execute(
                f"SELECT leaf_index, notification_id, stream, seq FROM {self.prefix}_leaves "
                "WHERE stream = ? ORDER BY seq",
                (str(stream),),
            )
            rows = cursor.fetchall()
        return [LeafRecord(int(i), int(n), UUID(str(s)), int(q)) for i, n, s, q in rows]

    def _nodes(
        self,
        cursor: ViewCursor,
        size: int | None,
        plan: Callable[[int], Iterable[NodeAddress]],
    ) -> NodeCache:
        held = tree_size(cursor, self.prefix)
        wanted = held if size is None else size
        if not 0 <= wanted <= held:
            raise ProofUnavailable(f"tree size must be in [0, {held}], got {wanted}")
        try:
            addresses = list(plan(wanted)) if wanted else []
        except MerkleTreeError as exc:
            raise ProofUnavailable(str(exc)) from None
        return NodeCache(wanted, fetch_nodes(cursor, self.prefix, addresses))

    # -- checkpoints -----------------------------------------------------------------------------

    def verifier_key(self) -> NoteVerifierKey:
        """Return the note verifier key of the log's checkpoints."""
        if self._verifier is None:
            raise ProjectionError("this log was opened without a signer; it has no verifier key")
        return self._verifier

    def latest_checkpoint(self) -> SignedCheckpoint | None:
        """Return the newest signed checkpoint, or None before the first."""
        with self.database.transaction(write=False) as cursor:
            return self._latest(cursor)

    def checkpoints(self) -> list[SignedCheckpoint]:
        """Return every signed checkpoint, oldest first."""
        with self.database.transaction(write=False) as cursor:
            cursor.execute(
                f"SELECT number, note, issued_at FROM {self.prefix}_checkpoints ORDER BY number"
            )
            return [self._parse(*row) for row in cursor.fetchall()]

    def maybe_checkpoint(self, now: datetime) -> SignedCheckpoint | None:
        """Sign a checkpoint if ``every_events`` events or ``every_seconds`` have passed."""
        return self._issue(now, force=False)

    def checkpoint(self, now: datetime) -> SignedCheckpoint:
        """Sign a checkpoint of the current tree now (or return the latest if nothing is new)."""
        issued = self._issue(now, force=True)
        if issued is None:
            raise ProofUnavailable("expected at least one leaf to checkpoint, the log is empty")
        return issued

    def _issue(self, now: datetime, *, force: bool) -> SignedCheckpoint | None:
        signer = self._signer
        if signer is None:
            raise ProjectionError("this log was opened without a signer; it cannot checkpoint")
        with self.database.transaction() as cursor:
            self.database.lock(cursor, _CHECKPOINT_LOCK)
            latest = self._latest(cursor)
            size = tree_size(cursor, self.prefix)
            if latest is None:
                if size == 0:
                    return None
                new_root = root(
                    NodeCache(size, fetch_nodes(cursor, self.prefix, root_plan(size))), size
                )
            else:
                # Checked on every call, due or not: a changed tree is reported at once.
                new_root = self._checked_root(cursor, latest, size)
                grown = size - latest.checkpoint.size
                if grown == 0:
                    return latest if force else None
                waited = (now - latest.issued_at).total_seconds()
                if not force and grown < self.every_events and waited < self.every_seconds:
                    return None
            body = Checkpoint(self.origin, size, new_root).body()
            note = sign_note(body, self._key_name, signer)
            number = 1 if latest is None else latest.number + 1
            cursor.execute(
                f"INSERT INTO {self.prefix}_checkpoints (number, size, root, note, issued_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (number, size, new_root, note, now.timestamp()),
            )
            return self._parse(number, note, now.timestamp())

    def _checked_root(self, cursor: ViewCursor, latest: SignedCheckpoint, size: int) -> bytes:
        """Return the root at ``size`` after proving it extends the latest checkpoint."""
        old = latest.checkpoint
        # 1. A log never shrinks.
        if size < old.size:
            raise ConsistencyRefused(
                f"checkpoint #{latest.number} covers {old.size} leaves, the tree now holds {size}: "
                "refusing to sign a smaller tree"
            )
        # 2. Fetch both roots and the consistency proof in one query.
        addresses = [
            *root_plan(size),
            *root_plan(old.size),
            *_flat(consistency_plan(old.size, size)),
        ]
        tree = NodeCache(size, fetch_nodes(cursor, self.prefix, addresses))
        new_root, old_root_now = root(tree, size), root(tree, old.size)
        # 3. The stored tree must still have the root the previous checkpoint signed.
        if old_root_now != old.root_hash:
            raise ConsistencyRefused(
                f"checkpoint #{latest.number} signed root {old.root_hash.hex()} for size "
                f"{old.size}, the stored tree now gives {old_root_now.hex()} for that size "
                "(the log's content changed, e.g. rebuilt from altered events): refusing to sign"
            )
        # 4. And a consistency proof must join the two (RFC 9162 §2.1.4.2).
        try:
            proof = consistency_proof(tree, old.size, size)
            verify_consistency(old.size, size, old.root_hash, new_root, proof)
        except (ProofInvalid, MerkleTreeError) as exc:
            raise ConsistencyRefused(
                f"no consistency proof joins checkpoint #{latest.number} (size {old.size}) "
                f"to size {size}: {exc}"
            ) from None
        return new_root

    def _latest(self, cursor: ViewCursor) -> SignedCheckpoint | None:
        cursor.execute(
            f"SELECT number, note, issued_at FROM {self.prefix}_checkpoints "
            "ORDER BY number DESC LIMIT 1"
        )
        row = cursor.fetchone()
        return None if row is None else self._parse(*row)

    def _parse(self, number: object, note: object, issued_at: object) -> SignedCheckpoint:
        raw = bytes(note)  # type: ignore[call-overload]
        try:
            if self._verifier is not None:
                checkpoint, _ = open_checkpoint(raw, [self._verifier])
            else:
                checkpoint = Checkpoint.parse(parse_note(raw)[0])
        except LedgerError as exc:
            raise ConsistencyRefused(
                f"stored checkpoint #{number} does not verify: {exc}"
            ) from None
        when = datetime.fromtimestamp(float(issued_at), UTC)  # type: ignore[arg-type]
        return SignedCheckpoint(int(number), checkpoint, raw, when)  # type: ignore[call-overload]


def _flat(plan: Iterable[Iterable[NodeAddress]]) -> list[NodeAddress]:
    return [address for group in plan for address in group]
