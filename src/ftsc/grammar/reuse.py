"""Parse an edited schedule again, reusing the statements the edit left alone.

The language server parses the whole document on every keystroke, and parsing is the larger half of an
edit in a long schedule. Top-level statements (`fts`, `use`, `let`, `defaults`, `phase`) are independent
in the grammar, so a document that starts each one at the beginning of a line is parsed statement by
statement, and a statement whose text was parsed before (anywhere in the document) is taken from there,
its spans moved to where it now stands. Any syntax error, anywhere, falls back to `parse` of the whole
text, so diagnostics and recovery are exactly those of `parse`; on text without errors the result
equals `parse`'s (property tested).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import re
from typing import Any

from ftsc.diagnostics import Span
from ftsc.grammar import ast
from ftsc.grammar.parser import ParseResult, parse

# Where a top-level statement starts: its keyword at the beginning of a line.
_STATEMENT_START = re.compile(r"^(?=(?:fts|use|let|defaults|phase)(?![\w]))", re.MULTILINE)
_KEEP = 4096  # statements remembered, across the documents open


def parse_reusing(text: str) -> ParseResult:
    """`parse(text)`, statement by statement where that gives the same result (see the module doc)."""
    if text.startswith("\ufeff") or "\r" in text:  # `parse` handles these; spans must match it exactly
        return parse(text)
    starts = [match.start() for match in _STATEMENT_START.finditer(text) if match.start()]
    if not starts:
        return parse(text)
    items: list[ast.Item] = []
    phases = 0
    bounds = [0, *starts, len(text)]
    for start, end in itertools.pairwise(bounds):
        statement = text[start:end]
        placed = _placed(statement, start, phases)
        if placed is None:
            return parse(text)
        items.extend(placed)
        phases += sum(1 for item in placed if isinstance(item, ast.Phase))
    return ParseResult(ast.Schedule(tuple(items), len(text)), ())


@functools.lru_cache(maxsize=_KEEP)
def _placed(statement: str, start: int, phases: int) -> tuple[ast.Item, ...] | None:
    """The items of a statement standing at `start` after `phases` phases; None if it has an error."""
    relative = _relative(statement)
    if relative is None:
        return None
    return tuple(_moved(item, start, phases) for item in relative)


@functools.lru_cache(maxsize=_KEEP)
def _relative(statement: str) -> tuple[ast.Item, ...] | None:
    """A statement's items with spans from its own start and phases numbered from 0."""
    parsed = parse(statement)
    return None if parsed.diagnostics else parsed.schedule.items


def _moved(item: ast.Item, delta: int, phases: int) -> ast.Item:
    moved: ast.Item = _shifted(item, delta) if delta else item
    if isinstance(moved, ast.Phase) and phases:
        moved = dataclasses.replace(moved, index=moved.index + phases)
    return moved


_PLAIN = (str, int, float, bool, type(None))


def _shifted(node: Any, delta: int) -> Any:
    """`node` with every span in it moved by `delta` characters (the tree is small: a statement)."""
    kind: type = type(node)
    if kind is Span:
        return Span(node.start + delta, node.end + delta)
    if kind is tuple:
        return tuple([_shifted(inner, delta) for inner in node])
    names = _field_names(kind)
    if names is None:
        return node
    values = []
    for name in names:
        value = getattr(node, name)
        if type(value) is Span:
            value = Span(value.start + delta, value.end + delta)
        elif not isinstance(value, _PLAIN):
            value = _shifted(value, delta)
        values.append(value)
    return kind(*values)


@functools.cache
def _field_names(kind: type) -> tuple[str, ...] | None:
    """The fields of a syntax-tree class, in constructor order (None for a plain value)."""
    if not dataclasses.is_dataclass(kind):
        return None
    return tuple(field.name for field in dataclasses.fields(kind))
