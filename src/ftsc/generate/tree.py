"""The parameter names of a namespace as a tree of dotted prefixes, each node knowing what lies below it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

__all__ = ["Node", "build_tree"]


class Node:
    """One dotted prefix: its children in first-appearance order and every position at or below it.

    `position` is set when a parameter is named exactly `prefix`; `positions` lists, in namespace order,
    the parameters named `prefix` or `prefix.…` (all of them at the root, whose prefix is "").
    """

    __slots__ = ("children", "position", "positions", "prefix")

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.children: dict[str, Node] = {}
        self.position: int | None = None
        self.positions: list[int] = []

    def child_prefix(self, segment: str) -> str:
        return f"{self.prefix}.{segment}" if self.prefix else segment

    def walk(self) -> Iterator[Node]:
        """This node and every node below it, parents before children."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children.values()))

    @property
    def leaf_children_only(self) -> bool:
        """Whether every parameter below is a direct child (`prefix.x`), and none is `prefix` itself."""
        return self.position is None and all(
            child.position is not None and not child.children for child in self.children.values()
        )


def build_tree(names: Sequence[str]) -> Node:
    root = Node("")
    for position, name in enumerate(names):
        node = root
        node.positions.append(position)
        for segment in name.split("."):
            child = node.children.get(segment)
            if child is None:
                child = node.children[segment] = Node(node.child_prefix(segment))
            child.positions.append(position)
            node = child
        node.position = position
    return root
