"""Layer ranges spelt as in other tools: `layer.[2-3].*`, `layer.1..3.**`, `layer.(2|3).*`, `layer.[0-9]+.*`.

Regex and shell habits bring these into patterns, where the grammar sees a pattern ending in `.` and then an
unexpected `[` or `(`, or an empty segment in `1..3`. This pass, run over the compiler's diagnostics,
recognises them and replaces those reports with one E102 that spells the same names the pattern way
(`{2..3}`, `{2,3}`, `{0..}`), with the rewritten pattern as its fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ftsc import codes
from ftsc.diagnostics import Diagnostic, Fix, Span, diagnose

_PATTERN_CHARS = re.compile(r"[A-Za-z0-9_\-*$.{},]*")
_BEFORE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-*$.{}")
_DIGITS = frozenset("0123456789")
_MAX_LOOK_BACK = 256  # characters of a pattern before a mistake; a longer run is not a selector's


def _class(match: re.Match[str]) -> str:
    body = match.group(1)
    spans = re.fullmatch(r"(\d)-(\d)", body)
    if spans is not None:
        return f"{{{spans.group(1)}..{spans.group(2)}}}"
    return "{" + ",".join(body) + "}" if len(body) > 1 else body


def _any_number(match: re.Match[str]) -> str:
    return "{0..}"


def _alternatives(match: re.Match[str]) -> str:
    return "{" + match.group(1).replace("|", ",") + "}"


def _bare_range(match: re.Match[str]) -> str:
    return f"{{{match.group(1)}..{match.group(2)}}}"


# What each mistake looks like at the place it starts, and the pattern spelling of the same segment.
_MISTAKES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str], str], ...] = (
    (re.compile(r"(?:\[0-9\]|\\d)[+*]"), _any_number, "a regex for any number"),
    (re.compile(r"\[(\d-\d|\d+)\]"), _class, "a regex character class"),
    (re.compile(r"\(([A-Za-z0-9_]+(?:\|[A-Za-z0-9_]+)+)\)"), _alternatives, "a regex alternation"),
    (re.compile(r"(\d+)\.\.(\d+)"), _bare_range, "a range without braces"),
)


def rewrite(text: str, diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """`diagnostics` with each recognised range mistake reported once, as an E102 with its fix."""
    replaced: list[Diagnostic] = []
    covered: list[Span] = []
    for diagnostic in diagnostics:
        if diagnostic.code not in (codes.SYNTAX_ERROR.code, codes.BAD_PATTERN.code) or any(
            _inside(diagnostic.span, span) for span in covered
        ):
            continue
        found = _recognise(text, diagnostic)
        if found is not None:
            replaced.append(found)
            covered.append(found.span)
    if not replaced:
        return diagnostics
    # what the parser made of the rest of the mistake (`_proj` after `(q|k)` read as a setting) only echoes it
    kept = [d for d in diagnostics if not any(_inside(d.span, span) for span in covered)]
    return [*kept, *replaced]


def _recognise(text: str, diagnostic: Diagnostic) -> Diagnostic | None:
    """The E102 for a range mistake at or right after `diagnostic`'s place, or None."""
    digits = _run_before(text, diagnostic.span.start, _DIGITS)
    starts = (diagnostic.span.start, diagnostic.span.end, *(() if digits is None else (digits,)))
    for at in starts:
        for regex, spelling, what in _MISTAKES:
            match = regex.match(text, at)
            if match is None or (
                what == "a range without braces" and diagnostic.code != codes.BAD_PATTERN.code
            ):
                continue
            begin = _run_before(text, match.start(), _BEFORE)
            if begin is None:
                continue
            rest = _PATTERN_CHARS.match(text, match.end())
            end = rest.end() if rest is not None else match.end()
            if begin == match.start() and what != "a range without braces":
                continue  # nothing of a pattern before it: not a selector
            suggestion = text[begin : match.start()] + spelling(match) + text[match.end() : end]
            message = (
                f"`{match.group()}` is {what}; a pattern spells it `{spelling(match)}`: "
                f"write `{suggestion}`, "
                "which selects the same names"
            )
            span = Span(begin, end)
            fix = Fix(f"Replace with `{suggestion}`", span, suggestion)
            return diagnose(codes.BAD_PATTERN, message, span, fixes=[fix])
    return None


def _run_before(text: str, end: int, chars: frozenset[str]) -> int | None:
    """Where the run of `chars` that ends at `end` starts; None when it is longer than _MAX_LOOK_BACK.
    (A backward regex search, `[…]*$`, retries from every offset: quadratic on a long run of digits.)"""
    start = end
    while start > 0 and text[start - 1] in chars:
        start -= 1
        if end - start > _MAX_LOOK_BACK:
            return None
    return start


def _inside(span: Span, outer: Span) -> bool:
    return outer.start <= span.start and span.end <= outer.end
