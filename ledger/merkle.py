"""RFC 9162 §2.1 Merkle Tree Hash, inclusion and consistency proofs, and their verification.

Proofs are built from the stored hashes of complete subtrees, addressed by (level, index), so
producing one costs O(log n) node lookups and never rehashes the log (DESIGN.md §4).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ledger.errors import MerkleTreeError, ProofInvalid, RootMismatch

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"  # RFC 9162 §2.1.1: leaf and node hashes are domain-separated
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH({}) = HASH()


def leaf_hash(data: bytes) -> bytes:
    """Return MTH({d}) = SHA-256(0x00 || d), the hash of one leaf."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return SHA-256(0x01 || left || right), the hash of an interior node."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def root_from_leaves(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return MTH(D[0:n]) by the RFC 9162 §2.1.1 recursion over every leaf hash (O(n))."""

    def mth(start: int, end: int) -> bytes:
        if end - start == 1:
            return leaf_hashes[start]
        k = _split_point(end - start)
        return node_hash(mth(start, start + k), mth(start + k, end))

    return mth(0, len(leaf_hashes)) if leaf_hashes else EMPTY_ROOT


# --- stored subtrees -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NodeAddress:
    """A complete subtree: the 2**level leaves from index * 2**level on (level 0 = one leaf)."""

    level: int
    index: int


class TreeNodes(Protocol):
    """Read access to one append-only tree's complete-subtree hashes, keyed by (level, index).

    A store keeps one row per complete subtree: (0, i) is the hash of leaf i, and (level, index) is
    node_hash((level - 1, 2 * index), (level - 1, 2 * index + 1)). Rows never change once written;
    ``appended_nodes`` says which rows each new leaf adds.
    """

    @property
    def size(self) -> int:
        """Return the number of leaves appended so far."""
        ...

    def node(self, level: int, index: int) -> bytes:
        """Return the hash of complete subtree (level, index); raise MerkleTreeError if not held."""
        ...


def appended_nodes(nodes: TreeNodes, leaf: bytes) -> list[tuple[NodeAddress, bytes]]:
    """Return the rows (leaf first) that appending ``leaf`` as leaf ``nodes.size`` completes."""
    _check_hash_size("leaf hash", leaf, MerkleTreeError)
    address, current = NodeAddress(0, nodes.size), leaf
    rows = [(address, current)]
    # An odd index closes its parent: hash with the (older, complete) left sibling and climb.
    while address.index & 1:
        current = node_hash(nodes.node(address.level, address.index - 1), current)
        address = NodeAddress(address.level + 1, address.index >> 1)
        rows.append((address, current))
    return rows


class MemoryTree:
    """A ``TreeNodes`` held in memory: one list of complete-subtree hashes per level."""

    __slots__ = ("_levels",)

    def __init__(self, leaf_data: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        for data in leaf_data:
            self.append(data)

    @property
    def size(self) -> int:
        """Return the number of leaves appended so far."""
        return len(self._levels[0])

    def node(self, level: int, index: int) -> bytes:
        """Return the hash of complete subtree (level, index)."""
        if 0 <= level < len(self._levels) and 0 <= index < len(self._levels[level]):
            return self._levels[level][index]
        raise MerkleTreeError(
            f"no complete subtree at level {level}, index {index} in a tree of {self.size} leaves"
        )

    def append(self, leaf_data: bytes) -> int:
        """Append a leaf from its data; return its index."""
        return self.append_leaf_hash(leaf_hash(leaf_data))

    def append_leaf_hash(self, leaf: bytes) -> int:
        """Append a leaf by its hash; return its index (amortised O(1) hashes)."""
        index = self.size
        for address, value in appended_nodes(self, leaf):
            if address.level == len(self._levels):
                self._levels.append([])
            self._levels[address.level].append(value)
        return index


# --- proof plans: which stored subtrees make up each proof element -------------------------------

# Each element of a plan is the run of complete subtrees (left to right) whose fold is one hash of
# the proof. A store can fetch every address of a plan in one query before folding.
Plan = tuple[tuple[NodeAddress, ...], ...]


def root_plan(size: int) -> tuple[NodeAddress, ...]:
    """Return the complete subtrees (left to right) whose fold is MTH(D[0:size])."""
    if size < 0:
        raise MerkleTreeError(f"tree size must be >= 0, got {size}")
    return _subtrees(0, size)


def inclusion_plan(index: int, size: int) -> Plan:
    """Return the subtree runs of PATH(index, D[0:size]) (RFC 9162 §2.1.3.1), leaf to root."""
    if not 0 <= index < size:
        raise MerkleTreeError(f"leaf index must be in [0, {size}), got {index}")
    groups: list[tuple[NodeAddress, ...]] = []
    start, end = 0, size
    # Walk down from the root; the RFC recursion emits the sibling after the sub-path.
    while end - start > 1:
        k = _split_point(end - start)
        if index < start + k:
            groups.append(_subtrees(start + k, end))  # MTH(D[k:n])
            end = start + k
        else:
            groups.append(_subtrees(start, start + k))  # MTH(D[0:k])
            start += k
    return tuple(reversed(groups))


def consistency_plan(old_size: int, new_size: int) -> Plan:
    """Return the subtree runs of PROOF(old_size, D[0:new_size]) (RFC 9162 §2.1.4.1)."""
    if not 0 < old_size <= new_size:
        raise MerkleTreeError(
            f"consistency needs 0 < old size <= new size, got {old_size} -> {new_size}"
        )
    groups: list[tuple[NodeAddress, ...]] = []
    start, end, m, whole_old_tree = 0, new_size, old_size, True
    # SUBPROOF(m, D[start:end], b), unrolled; m counts from ``start``.
    while m != end - start:
        k = _split_point(end - start)
        if m <= k:
            groups.append(_subtrees(start + k, end))  # MTH(D[k:n])
            end = start + k
        else:
            groups.append(_subtrees(start, start + k))  # MTH(D[0:k])
            start, m, whole_old_tree = start + k, m - k, False
    if not whole_old_tree:
        groups.append(_subtrees(start, end))  # SUBPROOF(m, D[m], false) = {MTH(D[m])}
    return tuple(reversed(groups))


def root(nodes: TreeNodes, size: int) -> bytes:
    """Return MTH(D[0:size]) for any size up to ``nodes.size`` in at most log2(size) lookups."""
    _check_within(nodes, size)
    plan = root_plan(size)
    return _fold(nodes, plan) if plan else EMPTY_ROOT


def inclusion_proof(nodes: TreeNodes, index: int, size: int) -> tuple[bytes, ...]:
    """Return PATH(index, D[0:size]), leaf to root, in O(log size) lookups."""
    _check_within(nodes, size)
    return tuple(_fold(nodes, group) for group in inclusion_plan(index, size))


def consistency_proof(nodes: TreeNodes, old_size: int, new_size: int) -> tuple[bytes, ...]:
    """Return PROOF(old_size, D[0:new_size]) in O(log new_size) lookups; empty when sizes match."""
    _check_within(nodes, new_size)
    return tuple(_fold(nodes, group) for group in consistency_plan(old_size, new_size))


# --- verification --------------------------------------------------------------------------------


def root_from_inclusion_proof(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """Return the root ``proof`` yields for ``leaf`` at ``index`` (RFC 9162 §2.1.3.2, steps 1-4)."""
    # 1. The leaf must lie inside the tree.
    if not 0 <= index < size:
        raise ProofInvalid(f"inclusion proof: leaf index must be in [0, {size}), got {index}")
    _check_hash_size("inclusion proof: leaf hash", leaf, ProofInvalid)
    expected = _inclusion_length(index, size)
    if len(proof) != expected:
        raise ProofInvalid(
            f"inclusion proof: expected {expected} hashes for leaf {index} of {size}, "
            f"got {len(proof)}"
        )
    for position, value in enumerate(proof):
        _check_hash_size(f"inclusion proof: proof[{position}]", value, ProofInvalid)
    # 2.
    fn, sn = index, size - 1
    # 3.
    r = leaf
    # 4.
    for p in proof:
        # 4a.
        if sn == 0:
            raise ProofInvalid("inclusion proof: path continues past the root")
        # 4b.
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        # 4c.
        fn, sn = fn >> 1, sn >> 1
    # 5 (first half): the path must end at the root.
    if sn != 0:
        raise ProofInvalid("inclusion proof: path ends below the root")
    return r


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes
) -> None:
    """Check that ``leaf`` is leaf ``index`` of the tree of ``size`` leaves with ``root_hash``."""
    calculated = root_from_inclusion_proof(leaf, index, size, proof)
    # 5 (second half).
    if calculated != root_hash:
        raise RootMismatch("inclusion", "root", root_hash, calculated)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree (new_size, new_root) extends (old_size, old_root) (RFC 9162 §2.1.4.2)."""
    # The RFC algorithm covers 0 < first < second; the edges follow transparency-dev/merkle.
    if old_size <= 0:
        raise ProofInvalid(f"consistency proof: old size must be > 0, got {old_size}")
    if new_size < old_size:
        raise ProofInvalid(
            f"consistency proof: new size must be >= old size {old_size}, got {new_size}"
        )
    if old_size == new_size:
        if proof:
            raise ProofInvalid(
                f"consistency proof: expected 0 hashes for equal sizes {old_size}, got {len(proof)}"
            )
        if old_root != new_root:
            raise RootMismatch("consistency", "root at equal sizes", old_root, new_root)
        return
    _check_hash_size("consistency proof: old root", old_root, ProofInvalid)
    _check_hash_size("consistency proof: new root", new_root, ProofInvalid)
    expected = _consistency_length(old_size, new_size)
    if len(proof) != expected:
        raise ProofInvalid(
            f"consistency proof: expected {expected} hashes for sizes {old_size} -> {new_size}, "
            f"got {len(proof)}"
        )
    for position, value in enumerate(proof):
        _check_hash_size(f"consistency proof: proof[{position}]", value, ProofInvalid)
    # 1. (An empty path cannot pass the length check above: expected >= 1 when sizes differ.)
    path = list(proof)
    # 2.
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    # 3.
    fn, sn = old_size - 1, new_size - 1
    # 4.
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    # 5.
    fr = sr = path[0]
    # 6.
    for c in path[1:]:
        # 6a.
        if sn == 0:
            raise ProofInvalid("consistency proof: path continues past the new root")
        # 6b.
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        # 6c.
        fn, sn = fn >> 1, sn >> 1
    # 7.
    if sn != 0:
        raise ProofInvalid("consistency proof: path ends below the new root")
    if fr != old_root:
        raise RootMismatch("consistency", "old root", old_root, fr)
    if sr != new_root:
        raise RootMismatch("consistency", "new root", new_root, sr)


# --- internals -----------------------------------------------------------------------------------


def _split_point(n: int) -> int:
    """Return k, the largest power of two smaller than n (n > 1), as in RFC 9162 §2.1.1."""
    return 1 << ((n - 1).bit_length() - 1)


def _subtrees(start: int, end: int) -> tuple[NodeAddress, ...]:
    """Return the complete subtrees covering [start, end), largest first.

    Every range the RFC recursion produces starts at a multiple of its largest subtree, so the
    greedy split is aligned and folding it right to left gives MTH(D[start:end]).
    """
    out: list[NodeAddress] = []
    while start < end:
        level = (end - start).bit_length() - 1
        out.append(NodeAddress(level, start >> level))
        start += 1 << level
    return tuple(out)


def _fold(nodes: TreeNodes, group: Sequence[NodeAddress]) -> bytes:
    """Return the hash of a run of adjacent complete subtrees, combined right to left."""
    hashes = [nodes.node(address.level, address.index) for address in group]
    current = hashes[-1]
    for left in reversed(hashes[:-1]):
        current = node_hash(left, current)
    return current


def _inclusion_length(index: int, size: int) -> int:
    """Return len(PATH(index, D[0:size])): inner levels below the split plus right-border nodes."""
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def _consistency_length(old_size: int, new_size: int) -> int:
    """Return len(PROOF(old_size, D[0:new_size])) for 0 < old_size < new_size."""
    shift = (old_size & -old_size).bit_length() - 1  # trailing zero bits of old_size
    inner = (((old_size - 1) ^ (new_size - 1)).bit_length()) - shift
    border = ((old_size - 1) >> (inner + shift)).bit_count()
    # A power-of-two old tree is its own first proof element, so the proof omits it.
    seed = 0 if old_size == 1 << shift else 1
    return seed + inner + border


def _check_within(nodes: TreeNodes, size: int) -> None:
    """Refuse a size the store has not reached."""
    if not 0 <= size <= nodes.size:
        raise MerkleTreeError(f"tree size must be in [0, {nodes.size}], got {size}")


def _check_hash_size(what: str, value: bytes, error: type[Exception]) -> None:
    """Refuse a hash that is not exactly one SHA-256 output long."""
    if len(value) != HASH_SIZE:
        raise error(f"{what}: expected {HASH_SIZE} bytes, got {len(value)}")
