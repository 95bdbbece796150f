"""Folding ranges: `defaults` and phase blocks, values and thaws written over several lines, and runs of
comment lines. Whole lines only (what VS Code and Neovim ask for); a closing bracket on its own line
stays visible, as editors fold brace blocks themselves."""

from __future__ import annotations

from collections.abc import Iterator

from lsprotocol import types

from ftsc.diagnostics import SourceText, Span
from ftsc.grammar import ast
from ftsc.lsp.lexemes import lexemes
from ftsc.lsp.snapshot import Snapshot

_CLOSERS = "}])"


def folding_ranges(snapshot: Snapshot, limit: int | None = None) -> list[types.FoldingRange]:
    """At most `limit` ranges (the client's `rangeLimit`), the outermost first when cut."""
    found = [*_blocks(snapshot.source, snapshot.schedule), *_comment_runs(snapshot.source)]
    found.sort(key=lambda folding: (folding.start_line, -folding.end_line))
    return found if limit is None else found[:limit]


def _blocks(source: SourceText, schedule: ast.Schedule) -> Iterator[types.FoldingRange]:
    for item in schedule.items:
        if isinstance(item, (ast.Defaults, ast.Phase)):
            yield from _fold(source, item.span)
            for setting in item.settings:
                yield from _values(source, setting.value)
        if isinstance(item, ast.Phase):
            for thaw in item.thaws:
                yield from _fold(source, thaw.span)
        elif isinstance(item, ast.UseAdapter):
            yield from _values(source, item.options)


def _values(source: SourceText, value: ast.Value | None) -> Iterator[types.FoldingRange]:
    """A table, list or call over several lines, and those inside it."""
    if isinstance(value, (ast.Table, ast.ListValue, ast.Call)):
        yield from _fold(source, value.span)
    inner: tuple[ast.Value | None, ...] = ()
    if isinstance(value, ast.ListValue):
        inner = value.items
    elif isinstance(value, ast.Table):
        inner = tuple(entry.value for entry in value.entries)
    elif isinstance(value, ast.Call):
        inner = tuple(entry.value for entry in value.arguments or ())
    for child in inner:
        yield from _values(source, child)


def _fold(source: SourceText, span: Span) -> Iterator[types.FoldingRange]:
    if span.end <= span.start:
        return
    start = source.line_of(span.start)
    end = source.line_of(span.end - 1)
    text = source.text
    if text[span.end - 1] in _CLOSERS and not text[source.line_start(end) : span.end - 1].strip():
        end -= 1  # `}` alone on its line stays visible under the folded header
    if end > start:
        yield types.FoldingRange(start_line=start, end_line=end, kind=types.FoldingRangeKind.Region)


def _comment_runs(source: SourceText) -> Iterator[types.FoldingRange]:
    """Two or more consecutive lines that hold only a comment."""
    run: list[int] = []
    for lexeme in lexemes(source.text):
        if lexeme.kind != "comment":
            continue
        line = source.line_of(lexeme.span.start)
        if source.text[source.line_start(line) : lexeme.span.start].strip():
            continue  # after code on its line
        if run and line != run[-1] + 1:
            yield from _comment_fold(run)
            run = []
        run.append(line)
    yield from _comment_fold(run)


def _comment_fold(run: list[int]) -> Iterator[types.FoldingRange]:
    if len(run) >= 2:
        yield types.FoldingRange(start_line=run[0], end_line=run[-1], kind=types.FoldingRangeKind.Comment)
