"""Express a set of parameters as plain `.fts` patterns, checked with the compiler's own resolver.

The importer knows what an FTS entry selects on the namespace (a set of names). This module looks for
the simplest plain patterns that select exactly that set: it splits the set into whole subtrees
(`model.classifier.**`), folds subtrees that differ in one position into an alternation or a range
(`model.layers.{10..11}.**`, `…self.{key,query,value}.weight`), and keeps a candidate only when
`SelectorResolver` — the resolver `ftsc check` and `ftsc compile` use — selects exactly the set with it.
Nothing here matches a name against a pattern itself.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ftsc import codes
from ftsc.compiler import Namespace
from ftsc.compiler.selectors import SelectorResolver, index_of
from ftsc.diagnostics import Span
from ftsc.fts import regex_text
from ftsc.grammar import ast

_SEGMENT = re.compile(r"[A-Za-z0-9_\-]+")
_CANONICAL_INT = re.compile(r"0|[1-9][0-9]*")
# A whole pattern may not be one of these words (a parameter named so needs `"exact"`).
_RESERVED_PATTERNS = frozenset({"fts", "use", "let", "defaults", "phase", "thaw", "until", "rest", "except"})
MAX_PATTERNS = 3  # patterns one regex entry may become; beyond that, one folded alternation or the regex
MAX_FOLDED = 8  # options of an alternation that folds differently shaped subtrees


def segments_safe(name: str) -> bool:
    """Whether every segment of `name` can be a literal segment of a pattern."""
    return all(_SEGMENT.fullmatch(segment) for segment in name.split("."))


def pattern_safe(name: str) -> bool:
    """Whether `name` can be written as a plain pattern (else it needs `"exact"`)."""
    return segments_safe(name) and name not in _RESERVED_PATTERNS


def exact_selector(name: str) -> str:
    """The `.fts` source of a selector for exactly the parameter `name`."""
    return name if pattern_safe(name) else string_literal(name)


def string_literal(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def regex_literal(regex: str) -> str | None:
    """`re"…"` for `regex`: the body is the regex as written, with a bare `"` written `\\"`.

    None when the regex holds a line break, which a `re"…"` cannot.
    """
    if "\n" in regex or "\r" in regex:
        return None
    out: list[str] = []
    index = 0
    while index < len(regex):
        char = regex[index]
        if char == "\\" and index + 1 < len(regex):
            out.append(regex[index : index + 2])
            index += 2
            continue
        out.append('\\"' if char == '"' else char)
        index += 1
    return 're"' + "".join(out) + '"'


class Simplifier:
    """Plain patterns for sets of parameter positions of one namespace."""

    def __init__(self, namespace: Namespace) -> None:
        self.namespace = namespace
        self.names = namespace.names
        self.index = index_of(namespace)
        self.resolver = SelectorResolver([], namespace)

    def resolve(self, kind: ast.SelectorKind, text: str) -> frozenset[int] | None:
        """What the compiler selects with one selector (None: the selector is malformed)."""
        span = Span(0, len(text))
        resolution = self.resolver.resolve(ast.Selector(kind, text, span, span))
        if resolution.positions is None or any(
            d.code == codes.BAD_PATTERN.code for d in resolution.diagnostics
        ):
            return None
        return frozenset(resolution.positions)

    def selects(self, kind: ast.SelectorKind, text: str, target: frozenset[int]) -> bool:
        return self.resolve(kind, text) == target

    def regex_patterns(self, regex: str, target: Iterable[int]) -> list[str] | None:
        """At most MAX_PATTERNS plain patterns selecting exactly `target`, what `regex` selects (None when
        it takes more, or cannot be done). They keep the segments the regex spells out literally, so
        `model\\.pooler\\.dense\\..*` stays `model.pooler.dense.**`. Shared by `ftsc import-fts` and the
        language server's regex-to-pattern code action."""
        tokens = regex_text.tokenize(regex)
        depth = regex_text.literal_depth(tokens) if tokens is not None else 0
        patterns = self.patterns(target, depth)
        return patterns if patterns is not None and len(patterns) <= MAX_PATTERNS else None

    # -- the whole job -----------------------------------------------------------------------------

    def patterns(
        self, target: Iterable[int], min_depth: int = 0, *, combine: bool = True
    ) -> list[str] | None:
        """Plain patterns whose union is exactly `target` (disjoint, each checked), or None.

        `min_depth`: blocks start no higher than this many segments (keeps the author's own prefix,
        `model.pooler.dense.**` rather than `model.pooler.**`). `combine`: blocks may be folded into
        ranges and alternations (`layer.{0..3}.**`); without it, each block is its own pattern.
        """
        ordered = list(dict.fromkeys(target))  # blocks come in the order of their first name here
        wanted = frozenset(ordered)
        if not wanted:
            return None
        if (
            combine
            and len(wanted) == len(self.names)
            and min_depth == 0
            and self.selects("pattern", "**", wanted)
        ):
            return ["**"]
        units = self._units(ordered, wanted, min_depth)
        result: list[str] = []
        for group in _by_depth(units) if combine else [[unit] for unit in units]:
            merged = self._positional(group) if len(group) > 1 else None
            if merged is not None:
                result.append(merged)
                continue
            for unit in group:
                single = self._unit_pattern(unit)
                if single is None:
                    return None
                result.append(single)
        if len(result) > 1 and combine:
            combined = self._inner_globstar(wanted)
            if combined is None and len(result) > MAX_PATTERNS:
                combined = self._fold(units, wanted)
            if combined is not None:
                return [combined]
        return result

    # -- units: the largest whole subtrees inside the target ----------------------------------------

    def _units(self, ordered: list[int], wanted: frozenset[int], min_depth: int) -> list[_Unit]:
        """Whole subtrees (or single names) covering `wanted` without overlap, in the order of `ordered`.

        Each name goes to its highest ancestor, at `min_depth` segments or below, whose every name is
        wanted; a unit that holds a single name is that name.
        """
        covered: dict[str, bool] = {}
        units: dict[str, _Unit] = {}
        for position in ordered:
            segments = self.names[position].split(".")
            chosen: str | None = None
            for depth in range(max(min_depth, 1), len(segments) + 1):
                prefix = ".".join(segments[:depth])
                whole = covered.get(prefix)
                if whole is None:
                    whole = covered[prefix] = wanted.issuperset(self.index.under(prefix))
                if whole:
                    chosen = prefix
                    break
            if chosen is None:  # the name's own subtree holds names outside the target: the name alone
                unit = _Unit(self.names[position], frozenset({position}))
            else:
                members = frozenset(self.index.under(chosen))
                unit = _Unit(chosen if len(members) > 1 else self.names[position], members)
            units.setdefault(unit.path, unit)
        return list(units.values())

    def _unit_pattern(self, unit: _Unit) -> str | None:
        """One unit as a pattern: its name (`"exact"` if it must be), or `prefix.**`."""
        if not unit.multi:
            if pattern_safe(unit.path):
                return unit.path if self.selects("pattern", unit.path, unit.members) else None
            return string_literal(unit.path) if self.selects("exact", unit.path, unit.members) else None
        if not segments_safe(unit.path):
            return None
        text = f"{unit.path}.**"
        return text if self.selects("pattern", text, unit.members) else None

    # -- folding several units into one pattern ------------------------------------------------------

    def _positional(self, group: list[_Unit]) -> str | None:
        """Units of one depth that form a grid, position by position: `a.{0..3}.{q,k}.**`, if exact.

        Positions may be taken together (`layers.{0..11}.{attn.q,mlp.up}.weight`) when the units form
        a grid only that way; a pattern never names a combination that is not a unit.
        """
        if not all(segments_safe(unit.path) for unit in group):
            return None
        split = [unit.path.split(".") for unit in group]
        width = len(split[0])
        varying = [i for i in range(width) if len({parts[i] for parts in split}) > 1]
        layouts = [[(i, i + 1) for i in range(width)]]
        if len(varying) >= 2:
            for low, high in ((varying[1], varying[-1]), (varying[0], varying[-2])):
                layouts.append([*((i, i + 1) for i in range(low)), (low, high + 1),
                                *((i, i + 1) for i in range(high + 1, width))])  # fmt: skip
        target = frozenset().union(*(unit.members for unit in group))
        for layout in layouts:
            columns = [list(dict.fromkeys(".".join(parts[a:b]) for parts in split)) for a, b in layout]
            if math.prod(len(column) for column in columns) != len(group):
                continue  # the pattern would name combinations that are not units
            text = ".".join(_alternatives(column) for column in columns)
            if any(unit.multi for unit in group):
                text += ".**"
            if self.selects("pattern", text, target):
                return text
        return None

    def _inner_globstar(self, wanted: frozenset[int]) -> str | None:
        """`prefix.**.suffix` from the segments every wanted name starts and ends with, if exact."""
        split = [self.names[position].split(".") for position in wanted]
        shortest = min(len(parts) for parts in split)
        head = 0
        while head < shortest and len({parts[head] for parts in split}) == 1:
            head += 1
        tail = 0
        while tail < shortest - head and len({parts[-1 - tail] for parts in split}) == 1:
            tail += 1
        if tail == 0:
            return None
        first = split[0]
        parts = [*first[:head], "**", *first[len(first) - tail :]]
        if not segments_safe(".".join(part for part in parts if part != "**")):
            return None
        text = ".".join(parts)
        return text if self.selects("pattern", text, wanted) else None

    def _fold(self, units: list[_Unit], wanted: frozenset[int]) -> str | None:
        """Differently shaped units under one prefix: `model.{pooler,deberta.encoder.LayerNorm}.**`."""
        if len(units) > MAX_FOLDED or not all(segments_safe(unit.path) for unit in units):
            return None
        split = [unit.path.split(".") for unit in units]
        common = 0
        while (
            all(len(parts) > common + 1 for parts in split) and len({parts[common] for parts in split}) == 1
        ):
            common += 1
        options = [".".join(parts[common:]) for parts in split]
        if all(unit.multi for unit in units):
            body = "{" + ",".join(options) + "}.**"
        else:  # `**` where a unit is a subtree, nothing where it is one name
            body = (
                "{"
                + ",".join(
                    f"{option}.**" if unit.multi else option
                    for option, unit in zip(options, units, strict=True)
                )
                + "}"
            )
        head = ".".join(split[0][:common])
        text = (head + "." if head else "") + body
        return text if self.selects("pattern", text, wanted) else None


@dataclass(frozen=True)
class _Unit:
    path: str  # a module prefix (whole subtree) or, for a single name, the name
    members: frozenset[int]

    @property
    def multi(self) -> bool:
        return len(self.members) > 1


def _by_depth(units: list[_Unit]) -> list[list[_Unit]]:
    groups: dict[int, list[_Unit]] = {}
    for unit in units:
        groups.setdefault(unit.path.count("."), []).append(unit)
    return list(groups.values())


def _alternatives(values: list[str]) -> str:
    """One position of a pattern: a literal, a range `{0..11}`, or an alternation `{0..3,7,x}`."""
    if len(values) == 1:
        return values[0]
    numbers = sorted(int(value) for value in values if _CANONICAL_INT.fullmatch(value))
    words = sorted((value for value in values if not _CANONICAL_INT.fullmatch(value)), key=str.lower)
    parts: list[str] = []
    run_start = previous = None
    for number in [*numbers, None]:
        if number is not None and previous is not None and number == previous + 1:
            previous = number
            continue
        if run_start is not None and previous is not None:
            parts.append(f"{run_start}..{previous}" if previous > run_start else str(run_start))
        run_start = previous = number
    parts.extend(words)
    return "{" + ",".join(parts) + "}"
