"""Match a pattern down the names' segment tree once per *shape* of subtree, not once per name.

A large model repeats itself: 61 decoder layers, each of 256 experts, each expert the same three
weights. A node's shape is the list of its names relative to it, in namespace order. Two nodes of one
shape whose names each fill a contiguous run of positions are matched by any pattern at the same
relative positions, so the walk matches the first and shifts that answer onto the others:
`model.layers.*.mlp.experts.*.up_proj.weight` walks one layer and one expert, not 15,616 names.

The pattern is a set of alternatives of segment matchers, run as an automaton whose state is a set of
(alternative, position) pairs; `**` keeps its state and moves on, so an inner `**` needs no other
strategy. Answers are bitsets (see `ftsc.compiler.positions`): shifting and uniting them runs in C.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Iterator, Sequence
from typing import NamedTuple, Protocol

from ftsc.compiler.positions import Positions

State = tuple[int, int]  # (alternative, position of its next segment matcher)
States = frozenset[State]
_NONE: States = frozenset()


class Segment(Protocol):
    """One segment of an alternative (see `matcher.SegmentMatcher`)."""

    @property
    def double_star(self) -> bool: ...

    @property
    def choices(self) -> frozenset[str] | None: ...

    @property
    def any_segment(self) -> bool: ...

    @property
    def key(self) -> Hashable:
        """What the matcher matches, and nothing else (the same for the same segment in two patterns)."""

    def matches(self, segment: str) -> bool: ...


class Node(NamedTuple):
    """A node of the segment tree: its name (if a parameter ends there) and the names below it."""

    low: int  # the smallest position at or below it
    size: int  # how many names are at or below it
    contiguous: bool  # whether those names fill positions low .. low + size - 1


class Uniform(NamedTuple):
    """The children of a node that all have one shape and fill its positions one after the other."""

    size: int  # names at or below each child
    bits: dict[str, int]  # child segment -> 1 << its place among them, in namespace order


class Tree(Protocol):
    """What the walk needs of a namespace (see `selectors.NamespaceIndex`)."""

    index: dict[str, int]

    def segments_after(self, prefix: str) -> list[str]: ...

    def segment_set(self, prefix: str) -> frozenset[str]: ...

    def node(self, prefix: str) -> Node: ...

    def shape(self, prefix: str) -> int: ...

    def under_bits(self, prefix: str) -> int: ...

    def uniform(self, prefix: str) -> Uniform | None: ...

    def key(self, prefix: str) -> int | str: ...


class Automaton:
    """The alternatives of a pattern run together: a state set steps over one segment at a time."""

    def __init__(self, alternatives: Sequence[Sequence[Segment]]) -> None:
        self.alternatives = alternatives
        self.start = self.closure({(alternative, 0) for alternative in range(len(alternatives))})
        self._steps: dict[tuple[States, str], States] = {}
        self._closures: dict[State, States] = {}
        self._keys: dict[States, Hashable] = {}
        self._splits: dict[States, tuple[frozenset[str], tuple[Callable[[str], bool], ...], States]] = {}

    def closure(self, states: set[State]) -> States:
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

    def step(self, states: States, segment: str) -> States:
        """The states after `segment` (remembered: a walk asks about `weight` under every node)."""
        key = (states, segment)
        known = self._steps.get(key)
        if known is None:
            known = _NONE
            for state, position, matcher in self._next(states):
                if matcher.double_star:
                    following = self._after(state, position)
                elif matcher.matches(segment):
                    following = self._after(state, position + 1)
                else:
                    continue
                known = following if not known else known | following
            self._steps[key] = known
        return known

    def _next(self, states: States) -> Iterator[tuple[State, int, Segment]]:
        """Each state that has a segment matcher left, with its position and that matcher."""
        for state in states:
            alternative, position = state
            segments = self.alternatives[alternative]
            if position < len(segments):
                yield state, position, segments[position]

    def _after(self, state: State, position: int) -> States:
        """The closure of `state`'s alternative at `position` (kept per state: most steps take one)."""
        key = (state[0], position)
        known = self._closures.get(key)
        if known is None:
            known = self._closures[key] = self.closure({key})
        return known

    def single(self, states: States) -> tuple[Segment, States] | None:
        """For a lone state before a segment matcher other than `**`: the matcher and the states after it."""
        if len(states) != 1:
            return None
        (state,) = states
        alternative, position = state
        segments = self.alternatives[alternative]
        if position == len(segments) or segments[position].double_star:
            return None
        return segments[position], self._after(state, position + 1)

    def split(self, states: States) -> tuple[frozenset[str], tuple[Callable[[str], bool], ...], States]:
        """What decides the step after `states`: the segments their finite matchers spell, the tests of
        their open ones, and the states after a segment that none of them takes (the `**`s staying)."""
        known = self._splits.get(states)
        if known is None:
            spelt: set[str] = set()
            tests = []
            stay = _NONE
            for state, position, matcher in self._next(states):
                if matcher.double_star:
                    stay |= self._after(state, position)
                elif matcher.choices is not None:
                    spelt |= matcher.choices
                else:
                    tests.append(matcher.matches)
            known = self._splits[states] = (frozenset(spelt), tuple(tests), stay)
        return known

    def key(self, states: States) -> Hashable:
        """The states as what is left to match (the rest of each alternative): two patterns that have
        left the same to match below a node match the same names there."""
        known = self._keys.get(states)
        if known is None:
            alternatives = self.alternatives
            known = self._keys[states] = frozenset(
                tuple(matcher.key for matcher in alternatives[alternative][position:])
                for alternative, position in states
            )
        return known

    def accepts(self, states: States) -> bool:
        return any(position == len(self.alternatives[alternative]) for alternative, position in states)

    def takes_all(self, states: States) -> bool:
        """Whether some state matches the node and every name below it (only `**`s are left)."""
        for alternative, position in states:
            rest = self.alternatives[alternative][position:]
            if rest and all(matcher.double_star for matcher in rest):
                return True
        return False


Shared = dict[tuple[int | str, Hashable], int]  # (node's shape, what is left to match) -> bits from its low


def walk(automaton: Automaton, tree: Tree, shared: Shared | None = None) -> int:
    """The bitset of every name of `tree` the automaton accepts. `shared` keeps what each node of a shape
    matches for what is left of a pattern there: within one walk (sibling layers), and across the walks
    of one compile when passed (`$layers.N.mlp.experts.*.**` for each N)."""
    return _TreeWalk(automaton, tree, {} if shared is None else shared).match("", automaton.start)


class _TreeWalk:
    def __init__(self, automaton: Automaton, tree: Tree, shared: Shared) -> None:
        self.automaton = automaton
        self.tree = tree
        self._shared = shared

    def match(self, prefix: str, states: States) -> int:
        """The names at or below `prefix` that `states` accept: from `shared` when a node of the same shape
        was matched with the same left to match."""
        if not prefix:
            return self._match(prefix, states)
        key = (self.tree.key(prefix), self.automaton.key(states))
        relative = self._shared.get(key)
        low = self.tree.node(prefix).low
        if relative is None:
            found = self._match(prefix, states)
            self._shared[key] = found >> low
            return found
        return relative << low

    def _match(self, prefix: str, states: States) -> int:
        tree, automaton = self.tree, self.automaton
        if automaton.takes_all(states):
            return tree.under_bits(prefix)
        bits = 0
        if prefix and automaton.accepts(states):
            position = tree.index.get(prefix)
            if position is not None:
                bits = 1 << position
        groups = self._children(prefix, states)
        if not groups:
            return bits
        lead = prefix + "." if prefix else ""
        uniform = tree.uniform(prefix) if len(groups) > 1 or len(groups[0][0]) > 1 else None
        if uniform is not None:
            return bits | self._match_uniform(prefix, uniform, groups)
        for segments, following in groups:
            for segment in segments:
                bits |= self.match(lead + segment, following)
        return bits

    def _match_uniform(self, prefix: str, uniform: Uniform, groups: list[tuple[list[str], States]]) -> int:
        """Children of one shape, one after the other (the experts of a layer): each group of those that
        reach the same states is matched once, and its answer repeated along each run of adjacent children
        of the group by doubling, in a few operations on integers however long the run."""
        bits = 0
        size = uniform.size
        lead = prefix + "." if prefix else ""
        for segments, following in groups:
            child = lead + segments[0]
            relative = self.match(child, following) >> self.tree.node(child).low
            if not relative:
                continue
            indexes = Positions(sum(map(uniform.bits.__getitem__, segments)))  # distinct powers of two
            for start, end in indexes.runs(len(segments)) or ():
                bits |= _repeated(relative, size, end - start) << (start * size)
        return bits << self.tree.node(prefix).low

    def _children(self, prefix: str, states: States) -> list[tuple[list[str], States]]:
        """The segments below `prefix` that some state takes, grouped by the states they lead to."""
        tree, automaton = self.tree, self.automaton
        spelt, tests, stay = automaton.split(states)
        segments: Collection[str]
        if tests or stay:  # an open matcher or a `**`: every child is a candidate
            segments = tree.segments_after(prefix)
        else:  # only spelt-out segments: look them up
            below = tree.segment_set(prefix)
            segments = spelt & below if len(spelt) < len(below) else below & spelt
        single = automaton.single(states)
        if single is not None:  # one state: every segment it takes leads to the same states
            matcher, following = single
            if matcher.any_segment or matcher.choices is not None:  # `*`, or spelt out (so intersected)
                taken = list(segments)
            else:
                taken = [segment for segment in segments if matcher.matches(segment)]
            return [(taken, following)] if taken else []
        groups: dict[States, list[str]] = {}
        staying: list[str] = []  # the segments that only a `**` takes: they lead to `stay`
        for segment in segments:
            if segment in spelt or (tests and any(test(segment) for test in tests)):
                following = automaton.step(states, segment)
                if following:
                    groups.setdefault(following, []).append(segment)
            elif stay:
                staying.append(segment)
        if staying:
            groups.setdefault(stay, []).extend(staying)
        return [(taken, following) for following, taken in groups.items()]


def _repeated(bits: int, size: int, count: int) -> int:
    """`bits` (within `size` positions) repeated `count` times, one copy every `size` positions."""
    result, copies = bits, 1
    while copies * 2 <= count:
        result |= result << (copies * size)
        copies *= 2
    if copies < count:
        result |= _repeated(bits, size, count - copies) << (copies * size)
    return result
