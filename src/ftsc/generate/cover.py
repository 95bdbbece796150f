"""Spell a set of parameters as few selectors as possible, each taking only parameters of the set.

Walking the name tree from the root, a node whose parameters all belong to the set becomes one selector
(`bert.pooler.**`, `classifier.*`, or the one name it holds), and a node only partly in the set is
looked into. The selectors are disjoint, so none of them adds nothing to its phase (W105).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from ftsc.generate.spelling import exact, prefix_pattern
from ftsc.generate.tree import Node

__all__ = ["cover"]


def cover(tree: Node, names: Sequence[str], wanted: Collection[int]) -> list[str]:
    """Selectors that together match exactly the parameters at `wanted` positions, in namespace order."""
    chosen = set(wanted)
    found: list[tuple[int, str]] = []
    pending = [tree]
    while pending:
        node = pending.pop()
        inside = sum(1 for position in node.positions if position in chosen)
        if inside == 0:
            continue
        if inside == len(node.positions):
            found.append((node.positions[0], _spell(node, names)))
            continue
        if node.position is not None and node.position in chosen:
            found.append((node.position, exact(names[node.position])))
        pending.extend(node.children.values())
    found.sort()
    return [selector for _, selector in found]


def _spell(node: Node, names: Sequence[str]) -> str:
    if len(node.positions) == 1:
        return exact(names[node.positions[0]])
    return prefix_pattern(node.prefix, one_level=node.leaf_children_only)
