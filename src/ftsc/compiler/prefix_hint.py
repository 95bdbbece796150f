"""Did-you-mean for selectors written in another module's names.

A schedule is usually written in a model's own names (`classifier.*`), and the module that trains it is a
LightningModule holding the model as `self.model`, whose names all start with `model.`. Checked against
the other one's namespace, every selector misses by the same leading segments. This module finds that
shift for one selector (the namespace's common leading segments put in front, or the selector's own
leading segments dropped), and the one note for a file whose every selector misses by one shift.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ftsc import codes
from ftsc.compiler.patterns import syntax
from ftsc.compiler.patterns.matcher import PatternMatcher, PatternTooComplex, SegmentIndex
from ftsc.compiler.patterns.trie import LEAF, TrieNode, children
from ftsc.diagnostics import Diagnostic, Fix, Span, diagnose

_MAX_DROPPED = 3  # leading segments a selector may carry that the namespace lacks


@dataclass(frozen=True)
class Shift:
    """Leading segments to put in front of a selector (`add`) or to drop from it (`drop`), e.g. `model.`."""

    add: str = ""
    drop: str = ""

    def apply(self, text: str) -> str:
        return self.add + text.removeprefix(self.drop)

    @property
    def words(self) -> str:
        return "put in front" if self.add else "dropped"

    @property
    def segments(self) -> str:
        return self.add or self.drop


def stem(trie: TrieNode) -> list[str]:
    """The leading segments every name of the namespace shares (`model` in a LightningModule's namespace),
    never a whole name."""
    found: list[str] = []
    node = trie
    while LEAF not in node:
        only = list(children(node))
        if len(only) != 1 or LEAF in only[0][1]:
            break
        found.append(only[0][0])
        node = only[0][1]
    return found


def find_shift(seq: syntax.Seq, index: SegmentIndex) -> Shift | None:
    """The shift that makes pattern `seq` (with `$names` substituted) match, or None."""
    trie = index.trie
    leading = _leading_literals(seq)
    if not leading or leading[0] not in trie:  # only a selector whose first segment is unknown
        common = stem(trie)
        for count in range(1, len(common) + 1):
            added = common[:count]
            if leading[:count] == added:
                continue  # the selector already starts that way
            if _matches(_prepend(seq, added), index):
                return Shift(add=".".join(added) + ".")
    if leading and leading[0] not in trie:
        for count in range(1, min(len(leading), _MAX_DROPPED) + 1):
            rest = _drop(seq, count)
            first = rest.nodes[0] if rest is not None else None
            if rest is None or not isinstance(first, syntax.Lit) or first.text not in trie:
                continue  # what is left must start with a name the namespace has (never a bare `**`)
            if _matches(rest, index):
                return Shift(drop=".".join(leading[:count]) + ".")
    return None


def find_name_shift(name: str, trie: TrieNode, names: Mapping[str, int]) -> Shift | None:
    """The shift that makes exact name `name` a name of the namespace, or None."""
    segments = name.split(".")
    if segments[0] in trie:
        return None
    common = stem(trie)
    for count in range(1, len(common) + 1):
        if ".".join([*common[:count], name]) in names:
            return Shift(add=".".join(common[:count]) + ".")
    for count in range(1, min(len(segments), _MAX_DROPPED + 1)):
        if ".".join(segments[count:]) in names:
            return Shift(drop=".".join(segments[:count]) + ".")
    return None


def fix_for(shift: Shift, text: str, text_span: Span) -> list[Fix]:
    """The edit that applies `shift` to a selector written as `text` at `text_span` (none when the dropped
    segments come from a `$name`, which the selector does not spell out)."""
    if shift.add:
        return [Fix(f"Put `{shift.add}` in front", Span(text_span.start, text_span.start), shift.add)]
    if text.startswith(shift.drop):
        return [Fix(f"Drop `{shift.drop}`", Span(text_span.start, text_span.start + len(shift.drop)), "")]
    return []


def note(shifts: list[Shift], misses: int, hits: int, span: Span) -> Diagnostic | None:
    """I107 when every selector of the file missed, each by the same shift."""
    if hits or not shifts or misses != len(shifts) or len(set(shifts)) != 1:
        return None
    shift = shifts[0]
    path = shift.segments.removesuffix(".")
    count = f"all {len(shifts)} selectors match" if len(shifts) > 1 else "the selector matches"
    if shift.add:
        advice = (
            f"the namespace is of a module that holds the model as `{path}` (a LightningModule's?): check "
            f'against the model\'s own namespace and say where it sits with `use namespace "…" at {path}`, '
            f"or put `{shift.add}` in front of every selector"
        )
    else:
        advice = (
            f"the schedule is written in the trained module's names and the namespace is the model's own: "
            f'drop `{shift.drop}` from the selectors and say where the model sits with `use namespace "…" at '
            f"{path}`"
        )
    return diagnose(codes.PREFIX_SHIFT, f"{count} once `{shift.segments}` is {shift.words}: {advice}", span)


def _leading_literals(seq: syntax.Seq) -> list[str]:
    """The whole literal segments a pattern starts with (`model.classifier` of `model.classifier.*`)."""
    found: list[str] = []
    nodes = seq.nodes
    position = 0
    while position < len(nodes) and isinstance(nodes[position], syntax.Lit):
        after = nodes[position + 1] if position + 1 < len(nodes) else None
        if not isinstance(after, syntax.Dot):
            break
        literal = nodes[position]
        assert isinstance(literal, syntax.Lit)
        found.append(literal.text)
        position += 2
    return found


def _prepend(seq: syntax.Seq, segments: list[str]) -> syntax.Seq:
    at = Span(seq.span.start, seq.span.start)
    added: list[syntax.Node] = []
    for segment in segments:
        added.extend((syntax.Lit(segment, at), syntax.Dot(at)))
    return syntax.Seq((*added, *seq.nodes), seq.span)


def _drop(seq: syntax.Seq, count: int) -> syntax.Seq | None:
    """`seq` without its first `count` segments; None when no written segment would be left (`head.**`
    less `head.` is `**`, which matches every name and says nothing)."""
    rest = seq.nodes[2 * count :]
    if not any(isinstance(node, syntax.Lit) for node in rest):
        return None
    return syntax.Seq(rest, seq.span)


def _matches(seq: syntax.Seq, index: SegmentIndex) -> bool:
    try:
        return bool(PatternMatcher(seq).match(index))
    except PatternTooComplex:
        return False
