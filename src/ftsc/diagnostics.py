"""Diagnostics shared by the parser, the compiler, the CLI and the language server.

Spans are code-point offsets into the source text (what lark gives us); `SourceText` turns them into
0-based line / character positions, in code points or in UTF-16 code units (LSP's default encoding).
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from ftsc import codes
from ftsc.codes import Code
from ftsc.severity import Severity

__all__ = [  # Severity lives in ftsc.severity (ftsc.codes needs it too) and is found here as always
    "MAX_DIAGNOSTICS",
    "Diagnostic",
    "Fix",
    "PositionEncoding",
    "Related",
    "Severity",
    "SourceText",
    "Span",
    "capped",
    "diagnose",
    "sort_key",
    "units",
]

PositionEncoding = Literal["utf-8", "utf-16", "utf-32"]

LINE_END = re.compile(r"\r\n|\r|\n")  # the LSP's line ends (editors' too); not the others `splitlines` knows


@dataclass(frozen=True, order=True)
class Span:
    """Half-open range `[start, end)` of code-point offsets into one source text."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.end < self.start:
            object.__setattr__(self, "end", self.start)

    def shifted(self, by: int) -> Span:
        return Span(self.start + by, self.end + by)

    def contains(self, offset: int) -> bool:
        return self.start <= offset <= self.end


@dataclass(frozen=True)
class Related:
    """Another place involved in a diagnostic (e.g. the other phase of a duplicate thaw)."""

    span: Span
    message: str
    path: str | None = None  # None: the same file as the diagnostic


@dataclass(frozen=True)
class Fix:
    """A replacement that resolves a diagnostic (did-you-mean); editors offer it as a code action."""

    title: str
    span: Span
    new_text: str


@dataclass(frozen=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    span: Span
    related: tuple[Related, ...] = ()
    fixes: tuple[Fix, ...] = ()
    data: dict[str, object] = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_error(self) -> bool:
        return self.severity == Severity.ERROR


def diagnose(
    code: Code,
    message: str,
    span: Span,
    *,
    related: Iterable[Related] = (),
    fixes: Iterable[Fix] = (),
    **data: object,
) -> Diagnostic:
    """A diagnostic of `code`, with the code's severity (so no call site can give it another)."""
    return Diagnostic(code.code, code.severity, message, span, tuple(related), tuple(fixes), dict(data))


def sort_key(diagnostic: Diagnostic) -> tuple[int, int, str]:
    return (diagnostic.span.start, diagnostic.span.end, diagnostic.code)


MAX_DIAGNOSTICS = 1000  # per file, for the CLI and the language server alike (the I003 note included)


def capped(diagnostics: list[Diagnostic], limit: int = MAX_DIAGNOSTICS) -> list[Diagnostic]:
    """At most `limit` diagnostics: the first in source order, errors before warnings (so a file with
    errors still shows one), then an I003 note counting the rest, placed at the first of them."""
    if len(diagnostics) <= limit:
        return diagnostics
    ranked = sorted(range(len(diagnostics)), key=lambda i: (diagnostics[i].severity, i))
    kept = [diagnostics[i] for i in sorted(ranked[: limit - 1])]
    left = [diagnostics[i] for i in sorted(ranked[limit - 1 :])]
    counts = {severity: sum(d.severity == severity for d in left) for severity in Severity}
    shown = ", ".join(f"{n} {s.label}{'s' if n != 1 else ''}" for s, n in counts.items() if n)
    note = diagnose(
        codes.MORE_NOT_SHOWN,
        f"{len(left)} more diagnostics are not shown ({shown}); a file shows at most {limit - 1}: fix "
        "those and check again",
        left[0].span,
        unreported=len(left),
    )
    return sorted([*kept, note], key=sort_key)


class SourceText:
    """A source text with a line index, for turning offsets into line / character positions.

    Lines end at `\r\n`, a lone `\r` or `\n`, as the LSP (and every editor) counts them; not at the other
    breaks `str.splitlines` knows (`\f`, `\x85`, `\u2028`, ...), which are characters of a line."""

    def __init__(self, text: str, path: str | None = None) -> None:
        self.text = text
        self.path = path
        self._line_starts = [0]
        self._line_ends: list[int] = []  # where each line's text ends, before its line end
        for found in LINE_END.finditer(text):
            self._line_ends.append(found.start())
            self._line_starts.append(found.end())
        self._line_ends.append(len(text))

    @property
    def line_count(self) -> int:
        return len(self._line_starts)

    def line_of(self, offset: int) -> int:
        """0-based line holding `offset` (an offset in a line end belongs to the line it ends)."""
        offset = max(0, min(offset, len(self.text)))
        return bisect.bisect_right(self._line_starts, offset) - 1

    def line_text(self, line: int) -> str:
        """The text of `line`, without its line end."""
        return self.text[self._line_starts[line] : self._line_ends[line]]

    def line_start(self, line: int) -> int:
        return self._line_starts[line]

    def lines_with_ends(self) -> list[str]:
        """Every line with its line end; the last line only when it is not empty."""
        starts = [*self._line_starts, len(self.text)]
        lines = [self.text[start:end] for start, end in itertools.pairwise(starts)]
        return lines if lines[-1] else lines[:-1]

    def position(self, offset: int, encoding: PositionEncoding = "utf-32") -> tuple[int, int]:
        """0-based (line, character) of `offset`; characters counted in the given encoding's units (an
        offset inside a line end is at the end of its line)."""
        offset = max(0, min(offset, len(self.text)))
        line = self.line_of(offset)
        prefix = self.text[self._line_starts[line] : min(offset, self._line_ends[line])]
        return line, units(prefix, encoding)

    def offset(self, line: int, character: int, encoding: PositionEncoding = "utf-32") -> int:
        """Inverse of `position`; positions past the end of a line clamp to its end, past the last line
        to the end of the text."""
        if line >= len(self._line_starts):
            return len(self.text)
        start = self._line_starts[max(line, 0)]
        text = self.line_text(max(line, 0))
        if encoding == "utf-32" or text.isascii():
            return start + min(character, len(text))
        count = 0
        for index, char in enumerate(text):
            if count >= character:
                return start + index
            count += units(char, encoding)
        return start + len(text)


def units(text: str, encoding: PositionEncoding) -> int:
    """Length of `text` in the code units of `encoding`."""
    if encoding == "utf-32" or text.isascii():
        return len(text)
    if encoding == "utf-16":
        return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)
    return len(text.encode("utf-8"))
