"""textDocument/formatting: `ftsc fmt`'s layout (`format_text`), sent as edits of the changed lines only,
so an editor keeps its cursor, folds and marks on the lines that did not move.

The canonical layout has no options (four-space indents, `ftsc.format.WIDTH` columns), so the client's
tab size and spaces setting are not consulted. Text with syntax errors is not formatted: the formatter
refuses it, and the reason goes to the client's log.
"""

from __future__ import annotations

import difflib

from lsprotocol import types

from ftsc.diagnostics import SourceText, Span
from ftsc.format import format_text
from ftsc.lsp.snapshot import Snapshot

MAX_DIFF_LINES = 500


class NotFormatted(ValueError):
    """The formatter refused the text; the message says where the first syntax error is."""


def formatting_edits(snapshot: Snapshot) -> list[types.TextEdit]:
    """The edits that turn the document into its formatted text ([] when it already is)."""
    result = format_text(snapshot.text)
    if result.text is None:
        first = result.diagnostics[0]
        line, column = snapshot.source.position(first.span.start)
        count = len(result.diagnostics)
        raise NotFormatted(
            f"not formatted: {count} syntax error{'s' if count != 1 else ''}, the first at line {line + 1}, "
            f"column {column + 1}: {first.code} {first.message}"
        )
    return line_edits(snapshot, result.text)


def line_edits(snapshot: Snapshot, new_text: str) -> list[types.TextEdit]:
    """One edit per run of changed lines between the document and `new_text`. Past MAX_DIFF_LINES
    changed lines (difflib's exact matching grows with the square of repeated lines such as `}`), the
    changed middle is one edit."""
    old_lines = snapshot.source.lines_with_ends()
    new_lines = SourceText(new_text).lines_with_ends()
    head = 0
    while head < min(len(old_lines), len(new_lines)) and old_lines[head] == new_lines[head]:
        head += 1
    tail = 0
    while tail < min(len(old_lines), len(new_lines)) - head and old_lines[-1 - tail] == new_lines[-1 - tail]:
        tail += 1
    old_middle = old_lines[head : len(old_lines) - tail]
    new_middle = new_lines[head : len(new_lines) - tail]
    if max(len(old_middle), len(new_middle)) > MAX_DIFF_LINES:
        changes = [(0, len(old_middle), 0, len(new_middle))]
    else:
        matcher = difflib.SequenceMatcher(None, old_middle, new_middle, autojunk=False)
        changes = [(a, b, c, d) for tag, a, b, c, d in matcher.get_opcodes() if tag != "equal"]
    starts = [0]
    for line in old_lines:
        starts.append(starts[-1] + len(line))
    edits: list[types.TextEdit] = []
    for old_start, old_end, new_start, new_end in changes:
        where = snapshot.range(Span(starts[head + old_start], starts[head + old_end]))
        edits.append(types.TextEdit(where, "".join(new_middle[new_start:new_end])))
    return edits
