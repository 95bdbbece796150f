"""A trie over the dotted segments of parameter names.

Patterns walk it segment by segment, so a literal segment is one dict lookup and a whole subtree
that cannot match is never visited. The language server completes the next segment from it too.
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


def leaves(node: TrieNode) -> list[int]:
    """Positions of every name at or below `node` (in no particular order)."""
    found: list[int] = []
    stack = [node]
    while stack:
        current = stack.pop()
        position = current.get(LEAF)
        if position is not None:
            found.append(position)
            stack.extend(child for segment, child in current.items() if segment != LEAF)
        else:
            stack.extend(current.values())
    return found


def find(root: TrieNode, segments: Iterable[str]) -> TrieNode | None:
    node: TrieNode | None = root
    for segment in segments:
        if node is None or segment == LEAF:
            return None
        node = node.get(segment)
    return node
