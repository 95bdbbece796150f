"""Compile a pattern tree into segment matchers and one regex, and match it against a namespace.

A pattern becomes a few alternatives (only alternations that span dots are expanded), each a list of
segment matchers: `**` (zero or more segments), a finite set of exact segments (`layers`, `{0..3}`,
`{q,k,v}_proj`), or a small regex (`*_proj`, `{24..}`). Matching is not a patterns × names loop:
- without an inner `**`, the names' segment tree is walked level by level, looking up finite segments
  and testing open ones once per distinct segment;
- `head.**.tail` takes the names below the nodes the head reaches (or, when those are many, the names
  the inverted index says hold the pattern's finite segments) and checks each distinct tail once;
- anything else narrows the candidates with the inverted index and full-matches them with the
  pattern's regex.
The trie walk is kept for explaining a pattern that matched nothing.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ftsc.compiler.patterns import syntax as s
from ftsc.compiler.patterns.linear_regex import LinearRegex, RegexProblem, compile_translated
from ftsc.compiler.patterns.ranges import range_regex
from ftsc.compiler.patterns.trie import LEAF, TrieNode, children
from ftsc.diagnostics import Span

MAX_ALTERNATIVES = 4096
MAX_CHOICES = 256  # a segment with at most this many spellings is looked up, not scanned
MAX_REQUIRED = 16  # spellings whose names the inverted index unites to narrow the candidates
MAX_BELOW = 4096  # names below an inner `**`'s head that are checked without asking the inverted index


class SegmentIndex(Protocol):
    """What matching needs of a namespace: its names and, per segment, the names holding it."""

    names: tuple[str, ...]
    index: dict[str, int]

    def having(self, segment: str) -> set[int]: ...

    def having_any(self, spellings: frozenset[str]) -> set[int]: ...

    def under(self, prefix: str) -> list[int]: ...

    def segments_after(self, prefix: str) -> list[str]: ...

    def segment_set(self, prefix: str) -> frozenset[str]: ...

    def tails(self, count: int) -> dict[str, list[int]]: ...

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

    @functools.cached_property
    def regex(self) -> LinearRegex:
        """The whole pattern as one regex over a full name (what the candidates are checked with)."""
        return _linear("|".join(f"(?:{_name_regex(alt)})" for alt in self.alternatives), self.seq.span)

    def match(self, index: SegmentIndex) -> list[int]:
        """Positions (namespace order) of every name the pattern matches."""
        exact = self._exact_name()
        if exact is not None:
            position = index.index.get(exact)
            return [] if position is None else [position]
        if len(self.alternatives) == 1 and not _spans(self.alternatives[0]):
            return sorted(_walk_fixed(index, self.alternatives[0]))  # one walk: no name twice
        found: set[int] = set()
        unsure: set[int] = set()
        for alternative in self.alternatives:
            if not _spans(alternative):
                found.update(_walk_fixed(index, alternative))
                continue
            candidates, head_matched = _spanning_candidates(index, alternative)
            if _one_gap(alternative):
                found.update(_tail_matches(index, alternative, candidates, head_matched))
            else:
                unsure.update(candidates)
        unsure -= found
        if unsure:  # the regex is compiled only when some name needs it
            names, fullmatch = index.names, self.regex.fullmatch
            found.update(position for position in unsure if fullmatch(names[position]))
        return sorted(found)

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


def walk_segments(index: SegmentIndex, segments: Sequence[tuple[str, str | None]]) -> list[int]:
    """Positions (namespace order) of the names whose segments match `segments` one for one: a regex
    in RE2 syntax per segment, with its text where it is a plain literal (see `segment_regexes`)."""
    alternative = tuple(
        SegmentMatcher(pattern, None if literal is None else frozenset((literal,)))
        for pattern, literal in segments
    )
    return sorted(_walk_fixed(index, alternative))


def _spans(alternative: Alternative) -> bool:
    """Whether a `**` stands before the last segment (else the segment tree is walked level by level)."""
    return any(matcher.double_star for matcher in alternative[:-1])


def _stars(alternative: Alternative) -> list[int]:
    """Where an alternative's `**`s stand."""
    return [position for position, matcher in enumerate(alternative) if matcher.double_star]


def _one_gap(alternative: Alternative) -> bool:
    """Whether the `**`s of an alternative stand together: `head.**.tail`, the common shape."""
    stars = _stars(alternative)
    return stars[-1] - stars[0] == len(stars) - 1


def _spanning_candidates(index: SegmentIndex, alternative: Alternative) -> tuple[Collection[int], bool]:
    """The names an alternative with an inner `**` can match, and whether they all match its segments
    before the first `**`: the fewer of the names below the nodes those segments reach and the names
    holding one spelling of each of its few-spelling segments (an inverted-index intersection)."""
    first = _stars(alternative)[0]
    below = (
        [position for path in _walk_paths(index, alternative[:first]) for position in index.under(path)]
        if first
        else None
    )
    if below is not None and len(below) <= MAX_BELOW:  # few enough: no inverted index needed
        return below, True
    required = sorted(
        (
            index.having_any(matcher.choices)
            for matcher in alternative
            if matcher.choices is not None and len(matcher.choices) <= MAX_REQUIRED
        ),
        key=len,
    )
    if not required or (below is not None and len(below) <= len(required[0])):
        return (range(len(index.names)), False) if below is None else (below, True)
    narrowed = set(required[0])
    for other in required[1:]:
        narrowed &= other
    return narrowed, False


def _tail_matches(
    index: SegmentIndex, alternative: Alternative, candidates: Collection[int], head_matched: bool
) -> list[int]:
    """The candidates that `head.**.tail` matches: at least as many segments as head and tail together,
    the first matching the head (unless known to) and the last matching the tail. Names share a few
    tails (`q_proj.weight`, …): each distinct tail is tested once, and when the names with a matching
    tail are fewer than the candidates, those names are checked instead."""
    stars = _stars(alternative)
    head, tail = alternative[: stars[0]], alternative[stars[-1] + 1 :]
    names, count, least = index.names, len(tail), len(head) + len(tail)
    if count:
        by_tail = index.tails(count)
        chosen = [
            positions
            for suffix, positions in by_tail.items()
            if all(matcher.matches(part) for matcher, part in zip(tail, suffix.split("."), strict=True))
        ]
        if sum(map(len, chosen)) < len(candidates):  # the head and the segment count decide the rest
            return [
                position
                for positions in chosen
                for position in positions
                if names[position].count(".") + 1 >= least and _head_matches(head, names[position])
            ]
    verdicts: dict[str, bool] = {}
    found = []
    for position in candidates:
        name = names[position]
        parts = name.rsplit(".", count)
        if len(parts) > count:  # segments before the tail: the head's, and what `**` spans
            if parts[0].count(".") + 1 + count < least:
                continue
            suffix = name[len(parts[0]) + 1 :]
        elif len(parts) == count and not head:  # the whole name is the tail; `**` spans nothing
            suffix = name
        else:
            continue
        verdict = verdicts.get(suffix)
        if verdict is None:
            tail_parts = parts[len(parts) - count :]
            verdict = verdicts[suffix] = all(
                matcher.matches(part) for matcher, part in zip(tail, tail_parts, strict=True)
            )
        if verdict and (head_matched or _head_matches(head, name)):
            found.append(position)
    return found


def _head_matches(head: Alternative, name: str) -> bool:
    parts = name.split(".", len(head))
    return all(matcher.matches(part) for matcher, part in zip(head, parts, strict=False))


def _walk_fixed(index: SegmentIndex, alternative: Alternative) -> list[int]:
    """Match an alternative with no `**` but a last one down the names' segment tree: one level per
    segment, looking up the spellings of finite segments and listing children only for open ones (`*`,
    `{24..}`); a final `**` takes every name at or below the nodes reached."""
    if len(alternative) >= 2 and alternative[-1].double_star and alternative[-2].any_segment:
        # `prefix.*.**`: every name strictly below `prefix`, one slice of the sorted names per prefix
        return [
            position
            for path in _walk_paths(index, alternative[:-2])
            for position in index.under(path)
            if index.names[position] != path
        ]
    if alternative and alternative[-1].double_star:
        return [position for path in _walk_paths(index, alternative[:-1]) for position in index.under(path)]
    if not alternative:
        return []
    known = index.index
    finite = _finite_suffix(alternative)
    if finite:  # the last segments are spelt out: build each name they spell and look it up
        spelled_names = [".".join(parts) for parts in itertools.product(*finite)]
        found: list[int] = []
        for path in _walk_paths(index, alternative[: len(alternative) - len(finite)]):
            prefix = path + "." if path else ""
            found.extend(
                position for name in spelled_names if (position := known.get(prefix + name)) is not None
            )
        return found
    paths = _walk_paths(index, alternative[:-1])
    last = alternative[-1]
    found = []
    for path in paths:
        prefix = path + "." if path else ""
        if last.choices is not None:
            spelled: Iterable[str] = last.choices
        else:
            spelled = [seg for seg in index.segments_after(path) if last.any_segment or last.matches(seg)]
        found.extend(position for seg in spelled if (position := known.get(prefix + seg)) is not None)
    return found


MAX_SPELLED = 4096  # names an alternative's finite last segments may spell, per node reached


def _finite_suffix(alternative: Alternative) -> list[tuple[str, ...]]:
    """The spellings of the alternative's last segments that each have few (the longest such run,
    while their product stays small): e.g. `{0..127}`, `down_proj`, `weight`."""
    suffix: list[tuple[str, ...]] = []
    product = 1
    for matcher in reversed(alternative):
        if matcher.choices is None or product * len(matcher.choices) > MAX_SPELLED:
            break
        product *= len(matcher.choices)
        suffix.append(tuple(matcher.choices))
    suffix.reverse()
    return suffix


def _walk_paths(index: SegmentIndex, alternative: Alternative) -> list[str]:
    """The dotted prefixes (nodes of the names' segment tree) an alternative without `**` reaches."""
    reached = [""]
    for matcher in alternative:
        following: list[str] = []
        for path in reached:
            prefix = path + "." if path else ""
            if matcher.choices is not None:
                below = index.segment_set(path)
                following.extend(prefix + c for c in matcher.choices if c in below)
            elif matcher.any_segment:
                following.extend(prefix + seg for seg in index.segments_after(path))
            else:
                following.extend(prefix + seg for seg in index.segments_after(path) if matcher.matches(seg))
        if not following:
            return []
        reached = following
    return reached


def _spellings(atoms: tuple[Atom, ...]) -> frozenset[str] | None:
    """Every string a run of atoms matches, if it is finite and small; else None."""
    found = {""}
    for atom in atoms:
        options: set[str]
        if isinstance(atom, s.Lit):
            options = {atom.text}
        elif isinstance(atom, s.Range) and atom.hi is not None and atom.hi - atom.lo < MAX_CHOICES:
            options = {str(number) for number in range(atom.lo, atom.hi + 1)}
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
