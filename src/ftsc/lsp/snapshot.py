"""The syntax tree of a document as it is now, for requests that read the text (navigation, symbols, ...).

The last compile is reused when it was made from exactly this text; otherwise (an edit still in its
debounce window) the text is parsed on the spot, so ranges never point into an older version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lsprotocol import types

from ftsc.diagnostics import PositionEncoding, SourceText, Span
from ftsc.grammar import ast
from ftsc.grammar.reuse import parse_reusing
from ftsc.lsp.convert import encoding_of, lsp_range, offset_at

if TYPE_CHECKING:
    from ftsc.lsp.server import FtscLanguageServer


@dataclass(frozen=True)
class Snapshot:
    uri: str
    source: SourceText
    schedule: ast.Schedule
    encoding: PositionEncoding

    @property
    def text(self) -> str:
        return self.source.text

    def offset(self, position: types.Position) -> int:
        return offset_at(self.source, position, self.encoding)

    def range(self, span: Span) -> types.Range:
        return lsp_range(self.source, span, self.encoding)

    def location(self, span: Span) -> types.Location:
        return types.Location(self.uri, self.range(span))

    def span(self, value: types.Range) -> Span:
        return Span(self.offset(value.start), self.offset(value.end))


def snapshot(ls: FtscLanguageServer, uri: str) -> Snapshot:
    """The document's current text and syntax tree."""
    text = ls.workspace.get_text_document(uri).source
    state = ls.documents.get(uri)
    last = state.last if state is not None else None
    encoding = encoding_of(ls.encoding)
    if last is not None and last.result is not None and last.source.text == text:
        return Snapshot(uri, last.source, last.result.schedule, encoding)
    return Snapshot(uri, SourceText(text), parse_reusing(text).schedule, encoding)
