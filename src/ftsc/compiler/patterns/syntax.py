"""The inner syntax of a selector pattern: `model.layers.{0..11}.{q,k,v}_proj.*`, `$layers.**`.

The grammar hands over a whole pattern as one token; this module parses its text into a small tree
whose nodes carry absolute spans, so every malformed part is reported as E102 at its exact place.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from ftsc import codes
from ftsc.diagnostics import Diagnostic, Span, diagnose


@dataclass(frozen=True)
class Lit:
    """Literal characters within one segment (never a dot)."""

    text: str
    span: Span


@dataclass(frozen=True)
class Dot:
    span: Span


@dataclass(frozen=True)
class Star:
    """`*`: any run of characters within one segment."""

    span: Span


@dataclass(frozen=True)
class DoubleStar:
    """`**` as a whole segment: zero or more whole segments."""

    span: Span


@dataclass(frozen=True)
class Range:
    """`{M..N}` / `{M..}`: a decimal integer (no leading zeros) from lo to hi inclusive."""

    lo: int
    hi: int | None
    span: Span


@dataclass(frozen=True)
class Alt:
    """`{a,b.c}`: one of several patterns."""

    options: tuple[Seq, ...]
    span: Span


@dataclass(frozen=True)
class Var:
    """`$name`: the pattern bound by `let name = …`, as whole segments."""

    name: str
    span: Span


Node = Lit | Dot | Star | DoubleStar | Range | Alt | Var


@dataclass(frozen=True)
class Seq:
    nodes: tuple[Node, ...]
    span: Span


_LITERAL = re.compile(r"[A-Za-z0-9_\-]+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RANGE = re.compile(r"(\d+)\.\.(\d*)")
_RANGE_OPTION = re.compile(r"(\d+)\.\.(\d*)(?=[,}])")


class _PatternError(Exception):
    def __init__(self, message: str, span: Span) -> None:
        super().__init__(message)
        self.message = message
        self.span = span


MAX_PATTERN_LENGTH = 10_000  # characters of one pattern as written
MAX_PATTERN_SIZE = 10_000  # elements of a pattern once each `$name` is replaced by its `let`
MAX_RANGE_DIGITS = 18  # digits of a bound of `{M..N}`


def parse_pattern(text: str, offset: int = 0) -> tuple[Seq | None, list[Diagnostic]]:
    """Parse pattern `text` that starts at source offset `offset`; E102 diagnostics on failure."""
    if len(text) > MAX_PATTERN_LENGTH:
        message = (
            f"the pattern is {len(text):,} characters long; the limit is {MAX_PATTERN_LENGTH:,}: "
            "split it into several selectors"
        )
        return None, [diagnose(codes.BAD_PATTERN, message, Span(offset, offset + len(text)))]
    parser = _Parser(text, offset)
    try:
        seq = parser.sequence(top_level=True)
        if parser.pos < len(text):
            raise parser.fail(f"unexpected `{text[parser.pos]}` in pattern", parser.pos, parser.pos + 1)
        _check_segments(seq)
    except _PatternError as exc:
        return None, [diagnose(codes.BAD_PATTERN, exc.message, exc.span)]
    return seq, []


class _Parser:
    def __init__(self, text: str, offset: int) -> None:
        self.text = text
        self.offset = offset
        self.pos = 0

    def fail(self, message: str, start: int, end: int) -> _PatternError:
        return _PatternError(message, Span(self.offset + start, self.offset + end))

    def span(self, start: int, end: int) -> Span:
        return Span(self.offset + start, self.offset + end)

    def sequence(self, top_level: bool) -> Seq:
        start = self.pos
        nodes: list[Node] = []
        text = self.text
        if not top_level:  # an alternative may be a range: `{0..3,11}`
            match = _RANGE_OPTION.match(text, start)
            if match is not None:
                self.pos = match.end(2)
                return Seq((self._range(match, start, self.pos),), self.span(start, self.pos))
        while self.pos < len(text):
            char = text[self.pos]
            if char in ",}":
                if top_level:
                    raise self.fail(f"unexpected `{char}` outside braces", self.pos, self.pos + 1)
                break
            nodes.append(self.node(char))
        return Seq(tuple(nodes), self.span(start, self.pos))

    def node(self, char: str) -> Node:
        start = self.pos
        text = self.text
        if char == ".":
            self.pos += 1
            return Dot(self.span(start, self.pos))
        if char == "*":
            if text.startswith("**", start):
                if text.startswith("***", start):
                    raise self.fail("`***` is not a pattern: use `*` or `**`", start, start + 3)
                self.pos += 2
                return DoubleStar(self.span(start, self.pos))
            self.pos += 1
            return Star(self.span(start, self.pos))
        if char == "$":
            match = _NAME.match(text, start + 1)
            if match is None:
                raise self.fail("`$` must be followed by a `let` name", start, start + 1)
            self.pos = match.end()
            return Var(match.group(), self.span(start, self.pos))
        if char == "{":
            return self.braces()
        match = _LITERAL.match(text, start)
        if match is None:
            raise self.fail(f"unexpected `{char}` in pattern", start, start + 1)
        self.pos = match.end()
        return Lit(match.group(), self.span(start, self.pos))

    def braces(self) -> Node:
        start = self.pos
        close = self._matching_brace(start)
        range_match = _RANGE.fullmatch(self.text, start + 1, close)
        if range_match is not None:
            self.pos = close + 1
            return self._range(range_match, start, self.pos)
        self.pos = start + 1
        options: list[Seq] = []
        while True:
            option = self.sequence(top_level=False)
            if not option.nodes:
                raise self.fail("empty alternative in `{…}`", self.pos, self.pos)
            options.append(option)
            if self.text[self.pos] == "}":
                break
            self.pos += 1  # the comma
        self.pos += 1
        if len(options) == 1 and ".." in self.text[start : self.pos]:
            raise self.fail(
                "a range inside braces is written `{M..N}` or `{M..}` with decimal numbers", start, self.pos
            )
        if len(options) == 1:
            raise self.fail(
                "`{…}` with one alternative: add more, separated by `,`, or drop the braces", start, self.pos
            )
        return Alt(tuple(options), self.span(start, self.pos))

    def _matching_brace(self, start: int) -> int:
        depth = 0
        for index in range(start, len(self.text)):
            if self.text[index] == "{":
                depth += 1
            elif self.text[index] == "}":
                depth -= 1
                if depth == 0:
                    return index
        raise self.fail("unclosed `{` in pattern", start, len(self.text))

    def _range(self, match: re.Match[str], start: int, end: int) -> Range:
        if max(len(match.group(1)), len(match.group(2))) > MAX_RANGE_DIGITS:
            raise self.fail(f"a range bound has more than {MAX_RANGE_DIGITS} digits", start, end)
        lo = int(match.group(1))
        hi = int(match.group(2)) if match.group(2) else None
        if hi is not None and hi < lo:
            raise self.fail(
                f"empty range `{lo}..{hi}`: the first bound is greater than the second", start, end
            )
        return Range(lo, hi, self.span(start, end))


def _check_segments(seq: Seq) -> None:
    """Segments are never empty; `**` and `$name` stand alone in their segment."""
    _check_dots(seq.nodes, seq.span, top_level=True)
    for option in _alternatives(seq):
        _check_dots(option.nodes, option.span, top_level=False)


def _alternatives(seq: Seq) -> list[Seq]:
    found = []
    for node in seq.nodes:
        if isinstance(node, Alt):
            for option in node.options:
                found.append(option)
                found.extend(_alternatives(option))
    return found


def _check_dots(nodes: tuple[Node, ...], span: Span, top_level: bool) -> None:
    if not nodes:
        raise _PatternError("empty pattern", span)
    if top_level and isinstance(nodes[0], Dot):
        raise _PatternError("a pattern cannot start with `.`", nodes[0].span)
    if top_level and isinstance(nodes[-1], Dot):
        raise _PatternError("a pattern cannot end with `.`", nodes[-1].span)
    for before, after in itertools.pairwise(nodes):
        if isinstance(before, Dot) and isinstance(after, Dot):
            raise _PatternError(
                "empty segment: `..` outside a range", Span(before.span.start, after.span.end)
            )
    for index, node in enumerate(nodes):
        if not isinstance(node, (DoubleStar, Var)):
            continue
        alone_before = index == 0 or isinstance(nodes[index - 1], Dot)
        alone_after = index == len(nodes) - 1 or isinstance(nodes[index + 1], Dot)
        if not (alone_before and alone_after):
            what = "`**`" if isinstance(node, DoubleStar) else f"`${node.name}`"
            hint = " (use `*` for part of a segment)" if isinstance(node, DoubleStar) else ""
            raise _PatternError(f"{what} must be a whole segment, between dots{hint}", node.span)


def variables(seq: Seq) -> list[Var]:
    """Every `$name` in the pattern, in order."""
    found: list[Var] = []
    for node in seq.nodes:
        if isinstance(node, Var):
            found.append(node)
        elif isinstance(node, Alt):
            for option in node.options:
                found.extend(variables(option))
    return found


def size(seq: Seq) -> int:
    """How many elements a pattern has, counting those inside braces."""
    return sum(1 + (sum(map(size, node.options)) if isinstance(node, Alt) else 0) for node in seq.nodes)


def substitution_too_large(seq: Seq, bindings: dict[str, Seq]) -> Diagnostic | None:
    """E102 when substituting `bindings` into `seq` would exceed MAX_PATTERN_SIZE (checked before it is
    built: lets that each use the one before twice double at every step)."""
    total = size(seq) + sum(size(bindings[var.name]) - 1 for var in variables(seq) if var.name in bindings)
    if total <= MAX_PATTERN_SIZE:
        return None
    message = (
        f"with its `$name`s replaced this pattern has {total:,} elements; the limit is {MAX_PATTERN_SIZE:,}: "
        "a `let` that uses another more than once multiplies its size"
    )
    return diagnose(codes.BAD_PATTERN, message, seq.span)


def substitute(seq: Seq, bindings: dict[str, Seq]) -> Seq:
    """Replace each `$name` with its bound pattern (which must itself be free of `$`)."""
    nodes: list[Node] = []
    for node in seq.nodes:
        if isinstance(node, Var):
            nodes.extend(bindings[node.name].nodes)
        elif isinstance(node, Alt):
            nodes.append(Alt(tuple(substitute(option, bindings) for option in node.options), node.span))
        else:
            nodes.append(node)
    return Seq(tuple(nodes), seq.span)


def render(seq: Seq) -> str:
    """The canonical text of a pattern tree (used for suggestions after substitution)."""
    parts: list[str] = []
    for node in seq.nodes:
        if isinstance(node, Lit):
            parts.append(node.text)
        elif isinstance(node, Dot):
            parts.append(".")
        elif isinstance(node, Star):
            parts.append("*")
        elif isinstance(node, DoubleStar):
            parts.append("**")
        elif isinstance(node, Var):
            parts.append(f"${node.name}")
        elif isinstance(node, Range):
            parts.append(f"{{{node.lo}..{'' if node.hi is None else node.hi}}}")
        else:
            parts.append("{" + ",".join(render(option) for option in node.options) + "}")
    return "".join(parts)
