"""Compile a pattern tree into segment matchers and one regex, and match it against a namespace.

A pattern becomes a few alternatives (only alternations that span dots are expanded), each a list of
segment matchers: `**` (zero or more segments), a finite set of exact segments (`layers`, `{0..3}`,
`{q,k,v}_proj`), or a small regex (`*_proj`, `{24..}`). The alternatives run together as an automaton
down the names' segment tree (`tree_walk`), looking up finite segments, testing open ones once per
distinct segment, and walking each shape of subtree once. The trie walk is kept for explaining a
pattern that matched nothing.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence, Set
from dataclasses import dataclass, field
from typing import Protocol

from ftsc.compiler.patterns import syntax as s
from ftsc.compiler.patterns.linear_regex import LinearRegex, RegexProblem, compile_translated
from ftsc.compiler.patterns.ranges import range_regex
from ftsc.compiler.patterns.tree_walk import Automaton, Shared, States, Tree, walk
from ftsc.compiler.patterns.trie import LEAF, TrieNode, children
from ftsc.compiler.positions import EMPTY, Positions
from ftsc.diagnostics import Span

MAX_ALTERNATIVES = 4096
MAX_CHOICES = 256  # a segment with at most this many spellings is looked up, not scanned
MAX_REQUIRED = 16  # spellings whose names the inverted index unites to narrow the candidates


class SegmentIndex(Tree, Protocol):
    """What matching needs of a namespace: its segment tree, and its trie for explaining a miss."""

    names: tuple[str, ...]

    @property
    def trie(self) -> TrieNode: ...


class PatternTooComplex(Exception):
    def __init__(self, message: str, span: Span) -> None:
        super().__init__(message)
        self.message = message
        self.span = span


@dataclass(frozen=True)
class SegmentMatcher:
    pattern: str = ""  # regex source of the segment
    choices: frozenset[str] | None = None  # every spelling, when there are few
    double_star: bool = False
    source: s.Lit | None = None  # a plain literal's node, for did-you-mean fixes

    @property
    def literal(self) -> str | None:
        return next(iter(self.choices)) if self.choices is not None and len(self.choices) == 1 else None

    @property
    def key(self) -> tuple[str, frozenset[str] | None, bool]:
        """What the matcher matches, without where it was written."""
        return (self.pattern, self.choices, self.double_star)

    @property
    def any_segment(self) -> bool:
        """A lone `*`: every segment matches."""
        return self.pattern == _STAR and not self.double_star

    def matches(self, segment: str) -> bool:
        if self.choices is not None:
            return segment in self.choices
        seen = _verdicts(self.pattern)
        known = seen.get(segment)
        if known is None:  # a walk asks about the same few segments (`q_proj`, …) under every node
            known = seen[segment] = _segment_regex(self.pattern).fullmatch(segment)
        return known


@functools.lru_cache(maxsize=1024)
def _verdicts(pattern: str) -> dict[str, bool]:
    """Segment -> whether `pattern` matches it, shared by every selector with that segment (a schedule
    writes `*_layernorm` once per layer)."""
    return {}


@functools.lru_cache(maxsize=1024)
def _segment_regex(pattern: str) -> LinearRegex:
    return _linear(pattern, Span(0, 0))  # a segment of a pattern of at most 10,000 characters


Alternative = tuple[SegmentMatcher, ...]


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
        self.automaton = Automaton(self.alternatives)

    @functools.cached_property
    def regex(self) -> LinearRegex:
        """The whole pattern as one regex over a full name (what the candidates are checked with)."""
        return _linear("|".join(f"(?:{_name_regex(alt)})" for alt in self.alternatives), self.seq.span)

    def match(self, index: SegmentIndex, shared: Shared | None = None) -> Positions:
        """Every name the pattern matches (`shared`: what other walks of a compile learnt, see `walk`)."""
        exact = self._exact_name()
        if exact is not None:
            position = index.index.get(exact)
            return EMPTY if position is None else Positions(1 << position)
        return Positions(walk(self.automaton, index, shared))

    def _exact_name(self) -> str | None:
        """The one name a pattern of plain literals can match."""
        if len(self.alternatives) != 1:
            return None
        literals = [matcher.literal for matcher in self.alternatives[0]]
        if any(literal is None for literal in literals):
            return None
        return ".".join(literal for literal in literals if literal is not None)

    def explore(self, root: TrieNode) -> Exploration:
        """Where a walk that matched nothing went: for did-you-mean and "nearest prefix" messages."""
        seen = Exploration()
        automaton = self.automaton
        stack: list[tuple[TrieNode, States, tuple[str, ...]]] = [(root, automaton.start, ())]
        while stack:
            node, states, path = stack.pop()
            if automaton.accepts(states) and LEAF not in node:
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
            seen.visit(path)
            for key, source in literals.items():
                if key not in node and source is not None:
                    seen.dead_ends.append(DeadEnd(len(path), source, node, path))
            for segment, child in candidates:
                following = automaton.step(states, segment)
                if following:
                    stack.append((child, following, (*path, segment)))
        return seen


def _linear(regex: str, span: Span) -> LinearRegex:
    """A pattern's regex for RE2: linear in the name however many `*`s a segment holds (`*a*a*a…`
    backtracks polynomially in `re`)."""
    try:
        return compile_translated(regex, regex)
    except RegexProblem as exc:
        raise PatternTooComplex(f"the pattern is too complex: {exc.message}", span) from None


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
    for atom in atoms:
        if isinstance(atom, s.DoubleStar):
            raise PatternTooComplex("`**` must be a whole segment, between dots", atom.span)
    source = atoms[0] if len(atoms) == 1 and isinstance(atoms[0], s.Lit) else None
    pattern = "".join(_atom_regex(atom) for atom in atoms)
    return SegmentMatcher(pattern, _spellings(atoms), source=source)


def walk_segments(
    index: SegmentIndex, segments: Sequence[tuple[str, str | None]], shared: Shared | None = None
) -> Positions:
    """The names whose segments match `segments` one for one: a regex in RE2 syntax per segment, with its
    text where it is a plain literal (see `segment_regexes`)."""
    alternative = tuple(
        SegmentMatcher(pattern, None if literal is None else frozenset((literal,)))
        for pattern, literal in segments
    )
    return Positions(walk(Automaton((alternative,)), index, shared))


def _spellings(atoms: tuple[Atom, ...]) -> frozenset[str] | None:
    """Every string a run of atoms matches, if it is finite and small; else None."""
    found = {""}
    for atom in atoms:
        options: Set[str]
        if isinstance(atom, s.Lit):
            options = {atom.text}
        elif isinstance(atom, s.Range) and atom.hi is not None and atom.hi - atom.lo < MAX_CHOICES:
            options = _numbers(atom.lo, atom.hi)
        elif isinstance(atom, s.Alt):
            options = set()
            for option in atom.options:
                spelled = _spellings(option.nodes)
                if spelled is None:
                    return None
                options |= spelled
        else:
            return None
        found = {before + after for before in found for after in options}
        if len(found) > MAX_CHOICES:
            return None
    return frozenset(found)


@functools.lru_cache(maxsize=1024)
def _numbers(lo: int, hi: int) -> frozenset[str]:
    """`{lo..hi}` spelt out (a schedule writes the same few ranges in many selectors)."""
    return frozenset(str(number) for number in range(lo, hi + 1))


def _name_regex(alternative: Alternative) -> str:
    """One alternative as a regex over the full dotted name; `**` spans zero or more segments."""
    out = ""
    separated = False  # whether the next segment needs a `.` before it
    collapsed = [
        m for i, m in enumerate(alternative) if not (m.double_star and i and alternative[i - 1].double_star)
    ]
    last = len(collapsed) - 1
    for position, matcher in enumerate(collapsed):
        if not matcher.double_star:
            out += (r"\." if separated else "") + matcher.pattern
            separated = True
        elif position == last:
            out += r"(?:\.[^.]+)*" if separated else r"[^.]+(?:\.[^.]+)*"
        else:
            out += r"\.(?:[^.]+\.)*" if separated else r"(?:[^.]+\.)*"
            separated = False
    return out


_STAR = "[^.]*"


def _atom_regex(atom: Atom) -> str:
    if isinstance(atom, s.Lit):
        return re.escape(atom.text)
    if isinstance(atom, s.Star):
        return _STAR
    if isinstance(atom, s.Range):
        return range_regex(atom.lo, atom.hi)
    if isinstance(atom, s.Alt):
        options = ("".join(_atom_regex(inner) for inner in option.nodes) for option in atom.options)
        return "(?:" + "|".join(options) + ")"
    raise PatternTooComplex("`**` must be a whole segment, between dots", atom.span)
