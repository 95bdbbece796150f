"""A trie over the dotted segments of parameter names, built only to explain a selector that matched
nothing: the deepest prefix it reached, the literal that found no child, the names closest to a typo.
(Matching itself walks the sorted names: see `tree_walk`.)
Each node is a plain dict (segment -> child); the key `""` (never a segment) holds the position of
the parameter whose name ends at that node.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any

TrieNode = dict[str, Any]
LEAF = ""


def build_trie(names: Iterable[str]) -> TrieNode:
    """The trie of `names`; a segment spelt in many nodes (`weight`, `0`) is one string, not thousands."""
    root: TrieNode = {}
    intern = sys.intern
    for index, name in enumerate(names):
        node = root
        for segment in name.split("."):
            child = node.get(segment)
            if child is None:
                child = node[intern(segment)] = {}
            node = child
        node[LEAF] = index
    return root


def children(node: TrieNode) -> Iterator[tuple[str, TrieNode]]:
    for segment, child in node.items():
        if segment != LEAF:
            yield segment, child


def find(root: TrieNode, segments: Iterable[str]) -> TrieNode | None:
    node: TrieNode | None = root
    for segment in segments:
        if node is None or segment == LEAF:
            return None
        node = node.get(segment)
    return node
