"""A model's coarse structure, read from its namespace: repeated-layer stacks, head, embeddings.

A **stack** is a prefix whose children are exactly the layer indices `0 … N-1` (N ≥ 2) of one kind: a
`ModuleList` or `Sequential` of layers (`model.layers`, `bert.encoder.layer`, `transformer.h`). When the
namespace lists module types, the layers must share one type; otherwise their parameter names (relative
to the layer) must mostly agree: every layer's names are at least half made of the names all layers
share, which lets `T5`'s first block keep its extra relative-attention bias. Stacks inside a stack (the
experts of a mixture-of-experts layer) are part of their layer, and a stack with less than a tenth of
the parameters of the largest one (a small `Sequential` head) is not counted as one.

Every parameter outside the stacks is **loose**, and goes with its neighbours in namespace order (the
model's registration order, which puts the input side first): before the first stack are the
embeddings, after the last one the head (final norm, pooler, classifier, `lm_head`), and between two
stacks whatever connects them. A model without a stack (a small MLP) is split into the blocks below the
longest prefix that all its names share, and its last block is the head.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Literal

from ftsc.compiler import Namespace
from ftsc.generate.tree import Node, build_tree

__all__ = ["Part", "Role", "Stack", "Structure", "analyse", "common_prefix"]

Role = Literal["embeddings", "stack", "between", "head", "block"]

_INDEX = re.compile(r"0|[1-9][0-9]*")
_MIN_STACK_SHARE = 10  # a stack needs at least 1/_MIN_STACK_SHARE of the largest stack's parameters


@dataclass(frozen=True)
class Stack:
    """A run of repeated layers: `prefix.0` … `prefix.N-1` (prefix "" when the model itself is one)."""

    prefix: str
    layers: tuple[tuple[int, ...], ...]  # the positions of each layer's parameters, by layer index
    layer_type: str | None  # the layers' module class, when the namespace lists modules
    positions: tuple[int, ...]  # every position below the prefix, in namespace order

    @property
    def depth(self) -> int:
        return len(self.layers)


@dataclass(frozen=True)
class Part:
    """A stretch of the model: a stack, or loose parameters (in namespace order) with their role."""

    role: Role
    positions: tuple[int, ...]
    label: str  # the longest dotted prefix its names share ("" when none), or the stack's prefix
    stack: Stack | None = None


@dataclass(frozen=True)
class Structure:
    """The parts of a model in namespace order (input side first); together they hold every parameter."""

    namespace: Namespace
    tree: Node
    parts: tuple[Part, ...]

    @property
    def stacks(self) -> tuple[Stack, ...]:
        return tuple(part.stack for part in self.parts if part.stack is not None)

    @property
    def head(self) -> tuple[int, ...]:
        """The parameters after the last stack (or the last block of a model without one)."""
        return next((part.positions for part in self.parts if part.role == "head"), ())

    @property
    def embeddings(self) -> tuple[int, ...]:
        """The parameters before the first stack; () without a stack."""
        return next((part.positions for part in self.parts if part.role == "embeddings"), ())


def analyse(namespace: Namespace) -> Structure:
    names = namespace.names
    tree = build_tree(names)
    module_types = {module.name: module.type for module in namespace.modules}
    stacks = _find_stacks(tree, names, module_types)
    parts = _stack_parts(names, stacks) if stacks else _block_parts(names, tree)
    return Structure(namespace, tree, tuple(parts))


def common_prefix(names: list[str]) -> str:
    """The longest dotted prefix (whole segments) that every name equals or starts with."""
    if not names:
        return ""
    shared = names[0].split(".")
    for name in names[1:]:
        segments = name.split(".")
        keep = 0
        while keep < min(len(shared), len(segments)) and shared[keep] == segments[keep]:
            keep += 1
        shared = shared[:keep]
    return ".".join(shared)


def _find_stacks(tree: Node, names: tuple[str, ...], module_types: dict[str, str]) -> list[Stack]:
    found: list[Stack] = []
    pending = [tree]
    while pending:
        node = pending.pop()
        stack = _as_stack(node, names, module_types)
        if stack is not None:
            found.append(stack)
        else:
            pending.extend(reversed(node.children.values()))
    if not found:
        return []
    largest = max(len(stack.positions) for stack in found)
    kept = [stack for stack in found if len(stack.positions) * _MIN_STACK_SHARE >= largest]
    return sorted(kept, key=lambda stack: stack.positions[0])


def _as_stack(node: Node, names: tuple[str, ...], module_types: dict[str, str]) -> Stack | None:
    """The stack at `node`, or None when its children are not layers 0 … N-1 of one kind."""
    children = node.children
    if node.position is not None or len(children) < 2:
        return None
    if not all(_INDEX.fullmatch(segment) for segment in children):
        return None
    if {int(segment) for segment in children} != set(range(len(children))):
        return None
    layers = [children[str(index)] for index in range(len(children))]
    types = {module_types.get(layer.prefix) for layer in layers}
    if None not in types:
        if len(types) != 1:
            return None
    elif not _alike(layers, names):
        return None
    layer_type = next(iter(types)) if len(types) == 1 else None
    return Stack(
        node.prefix, tuple(tuple(layer.positions) for layer in layers), layer_type, tuple(node.positions)
    )


def _alike(layers: list[Node], names: tuple[str, ...]) -> bool:
    """Whether the layers' parameter names, relative to each layer, are mostly the same."""
    shapes = [
        frozenset(names[position][len(layer.prefix) + 1 :] for position in layer.positions)
        for layer in layers
    ]
    shared = frozenset.intersection(*shapes)
    return bool(shared) and all(2 * len(shared) >= len(shape) for shape in shapes)


def _stack_parts(names: tuple[str, ...], stacks: list[Stack]) -> list[Part]:
    """Stacks, with the loose parameters before, between and after them, in namespace order."""
    in_stack: set[int] = set()
    for stack in stacks:
        in_stack.update(stack.positions)
    starts = [stack.positions[0] for stack in stacks]
    loose: list[list[int]] = [[] for _ in range(len(stacks) + 1)]
    for position in range(len(names)):
        if position not in in_stack:
            loose[bisect.bisect_left(starts, position)].append(position)
    parts: list[Part] = []
    for gap, positions in enumerate(loose):
        if positions:
            role: Role = "embeddings" if gap == 0 else "head" if gap == len(stacks) else "between"
            parts.append(_loose_part(role, positions, names))
        if gap < len(stacks):
            stack = stacks[gap]
            parts.append(Part("stack", stack.positions, stack.prefix, stack))
    return parts


def _block_parts(names: tuple[str, ...], tree: Node) -> list[Part]:
    """No stack: the blocks below the longest shared prefix, the last of them the head."""
    node = tree
    while node.position is None and len(node.children) == 1:
        node = next(iter(node.children.values()))
    groups = [[node.position]] if node.position is not None else []
    groups.extend(child.positions for child in node.children.values())
    groups.sort(key=lambda group: group[0])
    parts = [_loose_part("block", group, names) for group in groups]
    if parts:
        last = parts[-1]
        parts[-1] = Part("head", last.positions, last.label)
    return parts


def _loose_part(role: Role, positions: list[int], names: tuple[str, ...]) -> Part:
    return Part(role, tuple(positions), common_prefix([names[position] for position in positions]))
