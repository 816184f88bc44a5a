"""The transparency log's stored tree: one row per complete subtree (level, index, hash), read a
few rows at a time — the right border to append, the subtrees a proof plan names — never whole.
"""

from __future__ import annotations

from collections.abc import Iterable

from ledger.errors import MerkleTreeError
from ledger.merkle import NodeAddress
from projections.database import ViewCursor
from projections.errors import ProofUnavailable

MAX_PARAMETERS = 10_000  # per node query; SQLite allows 32,766 and PostgreSQL 65,535


class NodeCache:
    """A ``TreeNodes`` over a fetched set of complete-subtree hashes (and rows added on top)."""

    __slots__ = ("_hashes", "size")

    def __init__(self, size: int, hashes: dict[tuple[int, int], bytes]) -> None:
        self.size = size
        self._hashes = hashes

    def node(self, level: int, index: int) -> bytes:
        """Return the hash of complete subtree (level, index) if it was fetched or added."""
        try:
            return self._hashes[(level, index)]
        except KeyError:
            raise MerkleTreeError(
                f"subtree ({level}, {index}) was not fetched for a tree of {self.size} leaves"
            ) from None

    def add(self, rows: Iterable[tuple[NodeAddress, bytes]]) -> None:
        """Add the rows one appended leaf completes."""
        for address, value in rows:
            self._hashes[(address.level, address.index)] = value
        self.size += 1


def fetch_nodes(
    cursor: ViewCursor, prefix: str, addresses: Iterable[NodeAddress]
) -> dict[tuple[int, int], bytes]:
    """Fetch the named subtree hashes (one query per ``MAX_PARAMETERS`` of them)."""
    wanted = sorted({(a.level, a.index) for a in addresses})
    found: dict[tuple[int, int], bytes] = {}
    for start in range(0, len(wanted), MAX_PARAMETERS):
        by_level: dict[int, list[int]] = {}
        for level, index in wanted[start : start + MAX_PARAMETERS]:
            by_level.setdefault(level, []).append(index)
        # One IN list per level keeps the expression shallow for any number of addresses.
        condition = " OR ".join(
            f"(level = ? AND idx IN ({', '.join('?' * len(indexes))}))"
            for indexes in by_level.values()
        )
        params = [v for level, indexes in by_level.items() for v in (level, *indexes)]
        cursor.execute(f"SELECT level, idx, hash FROM {prefix}_nodes WHERE {condition}", params)
        found.update({(int(lv), int(i)): bytes(h) for lv, i, h in cursor.fetchall()})
    if len(found) != len(wanted):
        missing = sorted(set(wanted) - set(found))[:4]
        raise ProofUnavailable(
            f"expected {len(wanted)} stored subtrees, found {len(found)} (missing {missing})"
        )
    return found


def tree_size(cursor: ViewCursor, prefix: str) -> int:
    """Return how many leaves the stored tree holds."""
    cursor.execute(f"SELECT MAX(idx) FROM {prefix}_nodes WHERE level = 0")
    row = cursor.fetchone()
    return 0 if row is None or row[0] is None else int(row[0]) + 1


def stored_leaves(
    cursor: ViewCursor, prefix: str, start: int, end: int
) -> dict[int, tuple[bytes, int]]:
    """Return leaf index -> (leaf hash, notification id) for leaves in [start, end)."""
    cursor.execute(
        f"SELECT n.idx, n.hash, l.notification_id FROM {prefix}_nodes n "
        f"JOIN {prefix}_leaves l ON l.leaf_index = n.idx "
        "WHERE n.level = 0 AND n.idx >= ? AND n.idx < ?",
        (start, end),
    )
    return {int(i): (bytes(h), int(nid)) for i, h, nid in cursor.fetchall()}


def stored_subtrees(
    cursor: ViewCursor, prefix: str, start: int, end: int, top: int
) -> dict[tuple[int, int], bytes]:
    """Return the interior subtrees (levels 1..top) lying wholly inside leaves [start, end)."""
    ranges = [
        (level, -(-start >> level), end >> level)
        for level in range(1, top + 1)
        if -(-start >> level) < end >> level
    ]
    if not ranges:
        return {}
    condition = " OR ".join(["(level = ? AND idx >= ? AND idx < ?)"] * len(ranges))
    cursor.execute(
        f"SELECT level, idx, hash FROM {prefix}_nodes WHERE {condition}",
        [value for triple in ranges for value in triple],
    )
    return {(int(level), int(idx)): bytes(h) for level, idx, h in cursor.fetchall()}
