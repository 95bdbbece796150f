"""The segments that may follow a pattern in a namespace: what completion offers after a `.`.

A plain prefix (`bert.encoder`) is one lookup in the compiler's segment trie. A prefix with wildcards,
ranges, alternations or `$name`s is matched the way the compiler matches selectors: the names under it
come from `prefix.**` (the inverted index narrows them), and each name's next segment after a prefix the
pattern matches is taken. Walking the trie state by state instead takes seconds on 50,000 names.
"""

from __future__ import annotations

from dataclasses import dataclass

from ftsc.compiler import Namespace
from ftsc.compiler.patterns import syntax
from ftsc.compiler.patterns.matcher import PatternMatcher, PatternTooComplex
from ftsc.compiler.recent import Recent
from ftsc.compiler.selectors import NamespaceIndex, index_of


@dataclass(frozen=True)
class Segment:
    count: int  # parameters at or below it
    parameter: int | None  # its position, when the segment ends the one parameter it stands for


def next_segments(parent: str, namespace: Namespace, bindings: dict[str, syntax.Seq]) -> dict[str, Segment]:
    """Segment -> what is below it, for every segment that can follow a match of `parent` (a pattern;
    the empty one is the root)."""
    index = index_of(namespace)
    if not parent:
        return _children(index, "")
    seq = _parsed(parent, bindings)
    below = _parsed(parent + ".**", bindings)
    if seq is None or below is None:
        return {}
    if all(isinstance(node, (syntax.Lit, syntax.Dot)) for node in seq.nodes):
        return _children(index, syntax.render(seq))
    try:
        return _after_matches(index, PatternMatcher(seq), PatternMatcher(below))
    except PatternTooComplex:
        return {}


def _parsed(pattern: str, bindings: dict[str, syntax.Seq]) -> syntax.Seq | None:
    seq, _ = syntax.parse_pattern(pattern)
    if seq is None or any(var.name not in bindings for var in syntax.variables(seq)):
        return None
    return syntax.substitute(seq, bindings)


def _children(index: NamespaceIndex, prefix: str) -> dict[str, Segment]:
    """The segments after a plain prefix, kept per namespace and per shape of node: completion asks after
    the experts of one layer after another while a schedule is written (256 experts are 512 bisections
    the first time, for every layer of that shape at once)."""
    known = _KNOWN.get(id(index.namespace), index.namespace)
    if known is None or len(known) >= _KEEP_NODES:
        known = _KNOWN.put(id(index.namespace), index.namespace, {})
    key = index.key(prefix) if prefix else prefix
    relative = known.get(key)
    low = index.node(prefix).low
    if relative is None:
        relative = known[key] = _count_children(index, prefix, low)
    return {segment: Segment(count, None if at is None else low + at) for segment, count, at in relative}


# Per namespace: a node's shape (or, for a node of its own kind, its prefix) -> its children, each with
# the names at or below it and, for a parameter, its position from the node's first.
_KNOWN: Recent[dict[int | str, list[tuple[str, int, int | None]]]] = Recent(keep=8)
_KEEP_NODES = 1024


def _count_children(index: NamespaceIndex, prefix: str, low: int) -> list[tuple[str, int, int | None]]:
    found = []
    for segment in index.segments_after(prefix):
        path = f"{prefix}.{segment}" if prefix else segment
        count = index.count_under(path)
        position = index.index.get(path)
        at = position - low if position is not None and count == 1 else None  # a parameter, nothing below
        found.append((segment, count, at))
    return found


def _after_matches(
    index: NamespaceIndex, parent: PatternMatcher, below: PatternMatcher
) -> dict[str, Segment]:
    matches: dict[str, bool] = {}  # prefix -> whether `parent` matches it (prefixes repeat a lot)
    positions: dict[str, set[int]] = {}
    ends: dict[str, int] = {}
    for position in below.match(index):
        segments = index.names[position].split(".")
        prefix = segments[0]
        for depth in range(1, len(segments)):
            matched = matches.get(prefix)
            if matched is None:
                matched = matches[prefix] = parent.regex.fullmatch(prefix)
            segment = segments[depth]
            if matched:
                positions.setdefault(segment, set()).add(position)
                if depth == len(segments) - 1:
                    ends[segment] = position
            prefix += "." + segment
    return {
        segment: Segment(len(found), ends.get(segment) if found == {ends.get(segment)} else None)
        for segment, found in positions.items()
    }
