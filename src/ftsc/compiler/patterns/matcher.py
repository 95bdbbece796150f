"""Compile a pattern tree into a segment automaton and run it over the namespace trie.

A pattern becomes a few alternatives (only alternations that span dots are expanded), each a list
of segment matchers: a literal (one dict lookup), `**` (zero or more segments), or a small regex for
a segment with `*`, ranges or an in-segment alternation. Matching walks the trie once with a set of
automaton states, so a subtree no state can enter is never visited: resolving a schedule is a
pruned walk, not a patterns × names loop.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from ftsc.compiler.patterns import syntax as s
from ftsc.compiler.patterns.ranges import range_regex
from ftsc.compiler.patterns.trie import LEAF, TrieNode, children
from ftsc.diagnostics import Span

MAX_ALTERNATIVES = 4096


class PatternTooComplex(Exception):
    def __init__(self, message: str, span: Span) -> None:
        super().__init__(message)
        self.message = message
        self.span = span


@dataclass(frozen=True)
class SegmentMatcher:
    literal: str | None = None  # the segment must be exactly this
    regex: re.Pattern[str] | None = None
    double_star: bool = False
    source: s.Lit | None = None  # the literal's node, for did-you-mean fixes

    def matches(self, segment: str) -> bool:
        if self.literal is not None:
            return segment == self.literal
        assert self.regex is not None
        return self.regex.fullmatch(segment) is not None


Alternative = tuple[SegmentMatcher, ...]
State = tuple[int, int]  # (alternative, position)


@dataclass
class Exploration:
    deepest: tuple[str, ...] = ()  # the deepest prefix the walk reached
    modules: list[tuple[str, ...]] = field(default_factory=list)  # matched prefixes that are not parameters
    dead_ends: list[DeadEnd] = field(default_factory=list)

    def visit(self, path: tuple[str, ...]) -> None:
        if len(path) > len(self.deepest):
            self.deepest = path


@dataclass(frozen=True)
class DeadEnd:
    """Where a literal segment found no child: the place to look for a typo."""

    depth: int
    literal: s.Lit
    node: TrieNode
    path: tuple[str, ...]


class PatternMatcher:
    def __init__(self, seq: s.Seq) -> None:
        self.seq = seq
        self.alternatives: tuple[Alternative, ...] = tuple(
            tuple(_segment_matcher(segment, seq.span) for segment in segments) for segments in _expand(seq)
        )
        self._start = self._closure({(index, 0) for index in range(len(self.alternatives))})

    def match(self, root: TrieNode) -> list[int]:
        """Positions (namespace order) of every name the pattern matches."""
        return sorted(self._walk(root, None))

    def explore(self, root: TrieNode) -> Exploration:
        """Where a walk that matched nothing went: for did-you-mean and "nearest prefix" messages."""
        exploration = Exploration()
        for _ in self._walk(root, exploration):
            pass
        return exploration

    def _walk(self, root: TrieNode, seen: Exploration | None) -> Iterator[int]:
        stack: list[tuple[TrieNode, frozenset[State], tuple[str, ...]]] = [(root, self._start, ())]
        while stack:
            node, states, path = stack.pop()
            if self._accepts(states):
                if LEAF in node:
                    yield node[LEAF]
                elif seen is not None:
                    seen.modules.append(path)
            literals: dict[str, s.Lit | None] = {}
            scan_all = False
            for alternative, position in states:
                segments = self.alternatives[alternative]
                if position == len(segments):
                    continue
                matcher = segments[position]
                if matcher.literal is None:
                    scan_all = True
                else:
                    literals[matcher.literal] = matcher.source
            if scan_all:
                candidates: Iterator[tuple[str, TrieNode]] = children(node)
            else:
                candidates = ((key, node[key]) for key in literals if key in node and key != LEAF)
            if seen is not None:
                seen.visit(path)
                for key, source in literals.items():
                    if key not in node and source is not None:
                        seen.dead_ends.append(DeadEnd(len(path), source, node, path))
            for segment, child in candidates:
                following = self._step(states, segment)
                if following:
                    stack.append((child, following, (*path, segment) if seen is not None else path))

    def _accepts(self, states: frozenset[State]) -> bool:
        return any(position == len(self.alternatives[alt]) for alt, position in states)

    def _step(self, states: frozenset[State], segment: str) -> frozenset[State]:
        following: set[State] = set()
        for alternative, position in states:
            segments = self.alternatives[alternative]
            if position == len(segments):
                continue
            matcher = segments[position]
            if matcher.double_star:
                following.add((alternative, position))
            elif matcher.matches(segment):
                following.add((alternative, position + 1))
        return self._closure(following)

    def _closure(self, states: set[State]) -> frozenset[State]:
        """Add the states reached by letting a `**` match zero segments."""
        pending = list(states)
        closed = set(states)
        while pending:
            alternative, position = pending.pop()
            segments = self.alternatives[alternative]
            if position < len(segments) and segments[position].double_star:
                state = (alternative, position + 1)
                if state not in closed:
                    closed.add(state)
                    pending.append(state)
        return frozenset(closed)


# -- expansion into alternatives of segments -----------------------------------------------------

Atom = s.Node  # anything but Dot and Var, after substitution
Partial = tuple[tuple[tuple[Atom, ...], ...], tuple[Atom, ...]]


def _expand(seq: s.Seq) -> list[tuple[tuple[Atom, ...], ...]]:
    partials = _expand_nodes(seq.nodes, [((), ())], seq.span)
    return [(*segments, current) for segments, current in partials]


def _expand_nodes(nodes: tuple[s.Node, ...], partials: list[Partial], span: Span) -> list[Partial]:
    for node in nodes:
        if isinstance(node, s.Dot):
            partials = [((*segments, current), ()) for segments, current in partials]
        elif isinstance(node, s.Alt) and _spans_segments(node):
            expanded: list[Partial] = []
            for option in node.options:
                expanded.extend(_expand_nodes(option.nodes, partials, span))
                if len(expanded) > MAX_ALTERNATIVES:
                    raise PatternTooComplex(
                        f"pattern expands to more than {MAX_ALTERNATIVES} alternatives; split it up", span
                    )
            partials = expanded
        else:
            partials = [(segments, (*current, node)) for segments, current in partials]
    return partials


def _spans_segments(node: s.Alt) -> bool:
    """Whether an alternation holds a dot or `**` (then it is expanded, not put in a segment regex)."""
    for option in node.options:
        for inner in option.nodes:
            if isinstance(inner, (s.Dot, s.DoubleStar)):
                return True
            if isinstance(inner, s.Alt) and _spans_segments(inner):
                return True
    return False


def _segment_matcher(atoms: tuple[Atom, ...], span: Span) -> SegmentMatcher:
    if not atoms:
        raise PatternTooComplex("empty segment in pattern", span)
    if len(atoms) == 1 and isinstance(atoms[0], s.DoubleStar):
        return SegmentMatcher(double_star=True)
    if len(atoms) == 1 and isinstance(atoms[0], s.Lit):
        return SegmentMatcher(literal=atoms[0].text, source=atoms[0])
    for atom in atoms:
        if isinstance(atom, s.DoubleStar):
            raise PatternTooComplex("`**` must be a whole segment, between dots", atom.span)
    return SegmentMatcher(regex=re.compile("".join(_atom_regex(atom) for atom in atoms)))


def _atom_regex(atom: Atom) -> str:
    if isinstance(atom, s.Lit):
        return re.escape(atom.text)
    if isinstance(atom, s.Star):
        return "[^.]*"
    if isinstance(atom, s.Range):
        return range_regex(atom.lo, atom.hi)
    if isinstance(atom, s.Alt):
        options = ("".join(_atom_regex(inner) for inner in option.nodes) for option in atom.options)
        return "(?:" + "|".join(options) + ")"
    raise PatternTooComplex("`**` must be a whole segment, between dots", atom.span)
