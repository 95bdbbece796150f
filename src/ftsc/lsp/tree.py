"""Walks over the syntax tree that several language features share: selectors and their `$name` uses."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ftsc.diagnostics import Span
from ftsc.grammar import ast

# `$name` inside a pattern; the same name rule as `let` (the grammar's NAME). A `$` can start nothing
# else in a pattern, so this finds every use, even in a pattern that does not parse (E102).
_VARIABLE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def selectors(schedule: ast.Schedule) -> Iterator[ast.Selector]:
    """Every selector in source order: `let` patterns, then each phase's thaws and their excepts."""
    for item in schedule.items:
        if isinstance(item, ast.Let) and item.pattern is not None:
            yield item.pattern
        elif isinstance(item, ast.Phase):
            for thaw in item.thaws:
                yield from thaw.selectors
                yield from thaw.excepts


def variables(selector: ast.Selector) -> Iterator[tuple[str, Span]]:
    """Each `$name` of a pattern selector: the name and the span of `$name`."""
    if selector.kind != "pattern":
        return
    start = selector.text_span.start
    for match in _VARIABLE.finditer(selector.text):
        yield match.group(1), Span(start + match.start(), start + match.end())
