"""RFC 9162 Merkle tree math: the published transparency-dev vectors, edge rules and properties."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import MerkleTreeError, ProofInvalid, RootMismatch
from ledger.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    NodeAddress,
    appended_nodes,
    consistency_plan,
    consistency_proof,
    inclusion_plan,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    root_from_inclusion_proof,
    root_from_leaves,
    root_plan,
    verify_consistency,
    verify_inclusion,
)


def _vectors_dir() -> Path:
    override = os.environ.get("CASELEDGER_VECTORS_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3].parent / "shared" / "vectors"


VECTORS: dict[str, Any] = json.loads((_vectors_dir() / "rfc9162-merkle.json").read_text())
LEAVES = [bytes.fromhex(leaf) for leaf in VECTORS["leaves"]]


def _h(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(value) for value in values]


def _probe_id(probe: dict[str, Any]) -> str:
    return str(probe["source"]).split("testdata/")[1].removesuffix(".json")


@pytest.fixture(scope="module")
def tree() -> MemoryTree:
    return MemoryTree(LEAVES)


# --- published vectors ---------------------------------------------------------------------------


def test_vector_file_holds_the_published_cases() -> None:
    assert len(VECTORS["leaves"]) == 8
    assert len(VECTORS["inclusion"]) == 5 and len(VECTORS["consistency"]) == 5
    assert len(VECTORS["inclusion_probes"]) == 93 and len(VECTORS["consistency_probes"]) == 93


@pytest.mark.parametrize(
    "vector", VECTORS["hasher_vectors"], ids=lambda v: f"{v['kind']}-{v['expected'][:8]}"
)
def test_hashes_leaves_and_nodes_like_the_reference_hasher(vector: dict[str, str]) -> None:
    if vector["kind"] == "leaf":
        actual = leaf_hash(bytes.fromhex(vector["input_hex"]))
    else:
        actual = node_hash(bytes.fromhex(vector["left_hex"]), bytes.fromhex(vector["right_hex"]))
    assert actual.hex() == vector["expected"]


def test_empty_tree_has_the_hash_of_nothing_as_root(tree: MemoryTree) -> None:
    assert EMPTY_ROOT.hex() == VECTORS["empty_root"]
    assert root(tree, 0) == EMPTY_ROOT
    assert root_from_leaves([]) == EMPTY_ROOT
    assert root(MemoryTree(), 0) == EMPTY_ROOT


@pytest.mark.parametrize("n", sorted(int(size) for size in VECTORS["roots"]), ids="size-{}".format)
def test_reproduces_published_root_of_every_prefix(tree: MemoryTree, n: int) -> None:
    expected = VECTORS["roots"][str(n)]
    assert root(tree, n).hex() == expected
    assert root_from_leaves([leaf_hash(leaf) for leaf in LEAVES[:n]]).hex() == expected
    assert root(MemoryTree(LEAVES[:n]), n).hex() == expected


@pytest.mark.parametrize(
    ("level", "index", "expected"),
    [
        (level, index, value)
        for level, row in enumerate(VECTORS["node_hashes_by_level"])
        for index, value in enumerate(row)
    ],
    ids=lambda x: str(x)[:8],
)
def test_stores_published_node_hash(
    tree: MemoryTree, level: int, index: int, expected: str
) -> None:
    assert tree.node(level, index).hex() == expected


def _inclusion_id(v: dict[str, Any]) -> str:
    return f"leaf-{v['index']}-of-{v['size']}"


def _consistency_id(v: dict[str, Any]) -> str:
    return f"size-{v['size1']}-to-{v['size2']}"


@pytest.mark.parametrize("vector", VECTORS["inclusion"], ids=_inclusion_id)
def test_generates_published_inclusion_proof(tree: MemoryTree, vector: dict[str, Any]) -> None:
    proof = inclusion_proof(tree, vector["index"], vector["size"])
    assert [p.hex() for p in proof] == vector["proof"]
    assert tree.node(0, vector["index"]).hex() == vector["leaf_hash"]


@pytest.mark.parametrize("vector", VECTORS["inclusion"], ids=_inclusion_id)
def test_verifies_published_inclusion_proof(vector: dict[str, Any]) -> None:
    verify_inclusion(
        bytes.fromhex(vector["leaf_hash"]),
        vector["index"],
        vector["size"],
        _h(vector["proof"]),
        bytes.fromhex(vector["root"]),
    )


@pytest.mark.parametrize("vector", VECTORS["consistency"], ids=_consistency_id)
def test_generates_published_consistency_proof(tree: MemoryTree, vector: dict[str, Any]) -> None:
    proof = consistency_proof(tree, vector["size1"], vector["size2"])
    assert [p.hex() for p in proof] == vector["proof"]
    assert root(tree, vector["size1"]).hex() == vector["root1"]
    assert root(tree, vector["size2"]).hex() == vector["root2"]


@pytest.mark.parametrize("vector", VECTORS["consistency"], ids=_consistency_id)
def test_verifies_published_consistency_proof(vector: dict[str, Any]) -> None:
    verify_consistency(
        vector["size1"],
        vector["size2"],
        bytes.fromhex(vector["root1"]),
        bytes.fromhex(vector["root2"]),
        _h(vector["proof"]),
    )


def _verify_inclusion_probe(probe: dict[str, Any]) -> None:
    verify_inclusion(
        bytes.fromhex(probe["leaf_hash"]),
        probe["index"],
        probe["size"],
        _h(probe["proof"]),
        bytes.fromhex(probe["root"]),
    )


def _verify_consistency_probe(probe: dict[str, Any]) -> None:
    verify_consistency(
        probe["size1"],
        probe["size2"],
        bytes.fromhex(probe["root1"]),
        bytes.fromhex(probe["root2"]),
        _h(probe["proof"]),
    )


INCLUSION_REJECTS = [p for p in VECTORS["inclusion_probes"] if not p["want_valid"]]
CONSISTENCY_REJECTS = [p for p in VECTORS["consistency_probes"] if not p["want_valid"]]
PROBE_ACCEPTS = [
    p for p in VECTORS["inclusion_probes"] + VECTORS["consistency_probes"] if p["want_valid"]
]


@pytest.mark.parametrize("probe", INCLUSION_REJECTS, ids=_probe_id)
def test_rejects_corrupted_inclusion_proof(probe: dict[str, Any]) -> None:
    with pytest.raises(ProofInvalid, match=r"^inclusion proof"):
        _verify_inclusion_probe(probe)


@pytest.mark.parametrize("probe", CONSISTENCY_REJECTS, ids=_probe_id)
def test_rejects_corrupted_consistency_proof(probe: dict[str, Any]) -> None:
    with pytest.raises(ProofInvalid, match=r"^consistency proof"):
        _verify_consistency_probe(probe)


@pytest.mark.parametrize("probe", PROBE_ACCEPTS, ids=_probe_id)
def test_accepts_upstream_probe_marked_valid(probe: dict[str, Any]) -> None:
    if "index" in probe:
        _verify_inclusion_probe(probe)
    else:
        _verify_consistency_probe(probe)


def test_every_probe_is_either_rejected_or_marked_valid() -> None:
    probes = len(VECTORS["inclusion_probes"]) + len(VECTORS["consistency_probes"])
    assert len(INCLUSION_REJECTS) + len(CONSISTENCY_REJECTS) + len(PROBE_ACCEPTS) == probes
    assert len(INCLUSION_REJECTS) + len(CONSISTENCY_REJECTS) == 184


# --- edge rules (RFC 9162 §2.1.3.2, §2.1.4.2) ----------------------------------------------------

ROOT8 = bytes.fromhex(VECTORS["roots"]["8"])
ROOT6 = bytes.fromhex(VECTORS["roots"]["6"])


def test_rejects_inclusion_at_index_equal_to_size(tree: MemoryTree) -> None:
    with pytest.raises(ProofInvalid, match=r"leaf index must be in \[0, 8\), got 8"):
        verify_inclusion(tree.node(0, 0), 8, 8, inclusion_proof(tree, 0, 8), ROOT8)


def test_rejects_inclusion_proof_one_hash_too_long(tree: MemoryTree) -> None:
    proof = [*inclusion_proof(tree, 5, 8), ROOT8]
    with pytest.raises(ProofInvalid, match="expected 3 hashes for leaf 5 of 8, got 4"):
        verify_inclusion(tree.node(0, 5), 5, 8, proof, ROOT8)


def test_rejects_inclusion_proof_one_hash_too_short(tree: MemoryTree) -> None:
    proof = inclusion_proof(tree, 5, 8)[:-1]
    with pytest.raises(ProofInvalid, match="expected 3 hashes for leaf 5 of 8, got 2"):
        verify_inclusion(tree.node(0, 5), 5, 8, proof, ROOT8)


def test_rejects_leaf_hash_of_wrong_length(tree: MemoryTree) -> None:
    with pytest.raises(ProofInvalid, match="leaf hash: expected 32 bytes, got 31"):
        verify_inclusion(tree.node(0, 5)[:31], 5, 8, inclusion_proof(tree, 5, 8), ROOT8)


def test_rejects_proof_hash_of_wrong_length(tree: MemoryTree) -> None:
    proof = list(inclusion_proof(tree, 5, 8))
    proof[1] += b"\x00"
    with pytest.raises(ProofInvalid, match=r"proof\[1\]: expected 32 bytes, got 33"):
        verify_inclusion(tree.node(0, 5), 5, 8, proof, ROOT8)


def test_root_mismatch_names_expected_and_calculated_roots(tree: MemoryTree) -> None:
    with pytest.raises(RootMismatch, match=f"expected {ROOT6.hex()}, calculated {ROOT8.hex()}"):
        verify_inclusion(tree.node(0, 5), 5, 8, inclusion_proof(tree, 5, 8), ROOT6)


def test_root_from_inclusion_proof_returns_the_tree_root(tree: MemoryTree) -> None:
    assert root_from_inclusion_proof(tree.node(0, 2), 2, 8, inclusion_proof(tree, 2, 8)) == ROOT8


@pytest.mark.parametrize("new_size", [0, 1, 8], ids=lambda n: f"0-to-{n}")
def test_rejects_consistency_from_size_zero(new_size: int) -> None:
    with pytest.raises(ProofInvalid, match="old size must be > 0, got 0"):
        verify_consistency(0, new_size, EMPTY_ROOT, EMPTY_ROOT, [])


def test_rejects_consistency_to_a_smaller_tree(tree: MemoryTree) -> None:
    with pytest.raises(ProofInvalid, match="new size must be >= old size 8, got 6"):
        verify_consistency(8, 6, ROOT8, ROOT6, consistency_proof(tree, 6, 8))


def test_equal_sizes_need_an_empty_proof() -> None:
    with pytest.raises(ProofInvalid, match="expected 0 hashes for equal sizes 8, got 1"):
        verify_consistency(8, 8, ROOT8, ROOT8, [ROOT8])


def test_equal_sizes_need_equal_roots() -> None:
    with pytest.raises(RootMismatch, match="root at equal sizes mismatch"):
        verify_consistency(8, 8, ROOT8, ROOT6, [])


def test_equal_sizes_with_equal_roots_and_empty_proof_are_consistent(tree: MemoryTree) -> None:
    assert consistency_proof(tree, 8, 8) == ()
    verify_consistency(8, 8, ROOT8, ROOT8, [])


def test_rejects_consistency_proof_one_hash_too_long(tree: MemoryTree) -> None:
    proof = [*consistency_proof(tree, 6, 8), ROOT8]
    with pytest.raises(ProofInvalid, match=r"expected 3 hashes for sizes 6 -> 8, got 4"):
        verify_consistency(6, 8, ROOT6, ROOT8, proof)


def test_rejects_consistency_proof_against_swapped_roots(tree: MemoryTree) -> None:
    with pytest.raises(RootMismatch, match="old root mismatch"):
        verify_consistency(6, 8, ROOT8, ROOT6, consistency_proof(tree, 6, 8))


def test_rejects_consistency_when_new_root_is_not_a_hash(tree: MemoryTree) -> None:
    with pytest.raises(ProofInvalid, match="new root: expected 32 bytes, got 12"):
        verify_consistency(6, 8, ROOT6, b"not-a-hash!!", consistency_proof(tree, 6, 8))


# --- generation ranges and the node store --------------------------------------------------------


def test_refuses_inclusion_proof_for_a_leaf_outside_the_tree(tree: MemoryTree) -> None:
    with pytest.raises(MerkleTreeError, match=r"leaf index must be in \[0, 5\), got 5"):
        inclusion_proof(tree, 5, 5)


def test_refuses_proof_for_a_size_the_store_has_not_reached(tree: MemoryTree) -> None:
    with pytest.raises(MerkleTreeError, match=r"tree size must be in \[0, 8\], got 9"):
        inclusion_proof(tree, 0, 9)
    with pytest.raises(MerkleTreeError, match=r"tree size must be in \[0, 8\], got 9"):
        consistency_proof(tree, 1, 9)
    with pytest.raises(MerkleTreeError, match=r"tree size must be in \[0, 8\], got 9"):
        root(tree, 9)


def test_refuses_consistency_proof_from_size_zero(tree: MemoryTree) -> None:
    with pytest.raises(MerkleTreeError, match="0 < old size <= new size, got 0 -> 4"):
        consistency_proof(tree, 0, 4)


def test_incomplete_subtree_is_not_a_stored_node() -> None:
    small = MemoryTree(LEAVES[:3])
    with pytest.raises(MerkleTreeError, match="no complete subtree at level 1, index 1"):
        small.node(1, 1)


def test_append_returns_the_new_leaf_index() -> None:
    grown = MemoryTree()
    assert [grown.append(leaf) for leaf in LEAVES] == list(range(8))
    assert grown.size == 8


def test_appending_a_leaf_completes_every_subtree_it_closes(tree: MemoryTree) -> None:
    seven = MemoryTree(LEAVES[:7])
    rows = appended_nodes(seven, leaf_hash(LEAVES[7]))
    assert [address for address, _ in rows] == [
        NodeAddress(level, 7 >> level) for level in range(4)
    ]
    assert [value for _, value in rows] == [tree.node(a.level, a.index) for a, _ in rows]


def test_appended_nodes_refuses_a_leaf_hash_of_wrong_length() -> None:
    with pytest.raises(MerkleTreeError, match="leaf hash: expected 32 bytes, got 3"):
        MemoryTree().append_leaf_hash(b"abc")


def test_plans_name_only_complete_subtrees() -> None:
    assert root_plan(7) == (NodeAddress(2, 0), NodeAddress(1, 2), NodeAddress(0, 6))
    assert inclusion_plan(0, 7)[-1] == (NodeAddress(1, 2), NodeAddress(0, 6))
    assert consistency_plan(6, 7) == (
        (NodeAddress(1, 2),),
        (NodeAddress(0, 6),),
        (NodeAddress(2, 0),),
    )


# --- properties ----------------------------------------------------------------------------------

MAX_SIZE = 300
BIG = MemoryTree(i.to_bytes(4, "big") for i in range(MAX_SIZE))
BIG_LEAVES = tuple(BIG.node(0, i) for i in range(MAX_SIZE))


@cache
def _mth(start: int, end: int) -> bytes:
    """MTH(D[start:end]) over BIG's leaves, straight from the RFC definition."""
    if end - start == 1:
        return BIG_LEAVES[start]
    k = 1
    while k * 2 < end - start:
        k *= 2
    return node_hash(_mth(start, start + k), _mth(start + k, end))


def _reference_path(m: int, start: int, end: int) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(m, D[start:end]), written as the RFC states it."""
    n = end - start
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*_reference_path(m, start, start + k), _mth(start + k, end)]
    return [*_reference_path(m - k, start + k, end), _mth(start, start + k)]


def _reference_subproof(m: int, start: int, end: int, whole: bool) -> list[bytes]:
    """RFC 9162 §2.1.4.1 SUBPROOF(m, D[start:end], b), written as the RFC states it."""
    n = end - start
    if m == n:
        return [] if whole else [_mth(start, end)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*_reference_subproof(m, start, start + k, whole), _mth(start + k, end)]
    return [*_reference_subproof(m - k, start + k, end, False), _mth(start, start + k)]


@settings(max_examples=60, deadline=None)
@given(size=st.integers(min_value=1, max_value=MAX_SIZE))
def test_every_inclusion_proof_of_a_tree_verifies_against_its_root(size: int) -> None:
    expected_root = root(BIG, size)
    assert expected_root == _mth(0, size)
    for index in range(size):
        proof = inclusion_proof(BIG, index, size)
        assert list(proof) == _reference_path(index, 0, size)
        verify_inclusion(BIG_LEAVES[index], index, size, proof, expected_root)


@settings(max_examples=60, deadline=None)
@given(new_size=st.integers(min_value=1, max_value=MAX_SIZE))
def test_every_consistency_proof_into_a_tree_verifies(new_size: int) -> None:
    new_root = root(BIG, new_size)
    for old_size in range(1, new_size + 1):
        proof = consistency_proof(BIG, old_size, new_size)
        assert list(proof) == _reference_subproof(old_size, 0, new_size, True)
        verify_consistency(old_size, new_size, root(BIG, old_size), new_root, proof)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_proof_for_one_leaf_does_not_verify_another(data: st.DataObject) -> None:
    size = data.draw(st.integers(min_value=2, max_value=MAX_SIZE), label="size")
    index = data.draw(st.integers(min_value=0, max_value=size - 1), label="index")
    other = data.draw(st.integers(min_value=0, max_value=size - 1).filter(lambda i: i != index))
    proof = inclusion_proof(BIG, index, size)
    with pytest.raises(ProofInvalid, match="^inclusion proof"):
        verify_inclusion(BIG_LEAVES[other], index, size, proof, root(BIG, size))


@settings(max_examples=100, deadline=None)
@given(leaves=st.lists(st.binary(max_size=40), min_size=1, max_size=70))
def test_memory_tree_agrees_with_the_rfc_definition_for_any_leaf_data(leaves: list[bytes]) -> None:
    memory = MemoryTree(leaves)
    hashes = [leaf_hash(leaf) for leaf in leaves]
    for size in range(len(leaves) + 1):
        assert root(memory, size) == root_from_leaves(hashes[:size])
    last = len(leaves) - 1
    verify_inclusion(
        hashes[last],
        last,
        len(leaves),
        inclusion_proof(memory, last, len(leaves)),
        root(memory, len(leaves)),
    )


# --- scale: O(log n) lookups over 10,000 leaves --------------------------------------------------


class CountingNodes:
    """A TreeNodes that counts node lookups on the way to a MemoryTree."""

    def __init__(self, inner: MemoryTree) -> None:
        self.inner = inner
        self.lookups = 0

    @property
    def size(self) -> int:
        return self.inner.size

    def node(self, level: int, index: int) -> bytes:
        self.lookups += 1
        return self.inner.node(level, index)


@pytest.fixture(scope="module")
def ten_thousand() -> tuple[MemoryTree, list[bytes]]:
    leaves = [f"event-{i}".encode() for i in range(10_000)]
    return MemoryTree(leaves), [leaf_hash(leaf) for leaf in leaves]


SIZES = [1, 2, 3, 7, 8, 9, 255, 256, 1000, 1023, 1024, 1025, 4096, 5000, 8191, 9999, 10_000]


def test_consistency_proofs_join_every_pair_of_sizes_in_ten_thousand_leaves(
    ten_thousand: tuple[MemoryTree, list[bytes]],
) -> None:
    big, hashes = ten_thousand
    roots = {size: root(big, size) for size in SIZES}
    for size in (1000, 1025, 9999, 10_000):
        assert roots[size] == root_from_leaves(hashes[:size])
    for old in SIZES:
        for new in SIZES:
            if old <= new:
                verify_consistency(
                    old, new, roots[old], roots[new], consistency_proof(big, old, new)
                )
    with pytest.raises(RootMismatch, match="old root mismatch"):
        verify_consistency(
            5000, 10_000, roots[4096], roots[10_000], consistency_proof(big, 5000, 10_000)
        )


def test_proofs_over_ten_thousand_leaves_take_logarithmic_lookups(
    ten_thousand: tuple[MemoryTree, list[bytes]],
) -> None:
    big, hashes = ten_thousand
    counting = CountingNodes(big)
    depth = (10_000 - 1).bit_length()  # 14 levels
    for index in (0, 1, 4095, 8191, 9998, 9999):
        counting.lookups = 0
        proof = inclusion_proof(counting, index, 10_000)
        assert counting.lookups <= 2 * depth
        verify_inclusion(hashes[index], index, 10_000, proof, root(big, 10_000))
    for old in (1, 3, 1000, 4096, 9999):
        counting.lookups = 0
        consistency_proof(counting, old, 10_000)
        assert counting.lookups <= 2 * depth + 1
    counting.lookups = 0
    root(counting, 10_000)
    assert counting.lookups == (10_000).bit_count()
