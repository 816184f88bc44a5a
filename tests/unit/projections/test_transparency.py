"""The transparency log's pure parts: appending through a fetched right border."""

from __future__ import annotations

import pytest

from ledger.errors import MerkleTreeError
from ledger.merkle import MemoryTree, appended_nodes, leaf_hash, root, root_plan
from projections.tree_nodes import NodeCache


def test_appending_from_the_right_border_alone_builds_the_same_tree() -> None:
    full = MemoryTree()
    for batch_start in range(0, 300, 37):
        size = full.size
        border = {(a.level, a.index): full.node(a.level, a.index) for a in root_plan(size)}
        cache = NodeCache(size, border)
        for i in range(batch_start, min(batch_start + 37, 300)):
            rows = appended_nodes(cache, leaf_hash(f"e{i}".encode()))
            cache.add(rows)
            full.append(f"e{i}".encode())
        assert root(cache, cache.size) == root(full, full.size)


def test_a_node_that_was_not_fetched_is_reported() -> None:
    with pytest.raises(MerkleTreeError, match=r"subtree \(2, 1\) was not fetched for a tree of 9"):
        NodeCache(9, {}).node(2, 1)
