"""Hover, completion and inlay hints, registered on the server by `register`.

Hover and completion answer at once from the document's last compile (they wait for one only when none
exists yet): a keystroke must not queue a compile. Completion reads the place from the text before the
cursor, which seldom parses while it is typed, and names from the last compile that knew a namespace.
Inlay hints are drawn at positions of one text, so they wait for the compile of the current version.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from lsprotocol import types

from ftsc import codes
from ftsc.diagnostics import PositionEncoding, SourceText, units
from ftsc.lsp.completion import complete
from ftsc.lsp.convert import encoding_of, lsp_range, offset_at
from ftsc.lsp.cursor import cursor_at
from ftsc.lsp.documents import Analysis, DocumentState
from ftsc.lsp.hover import hover_markdown
from ftsc.lsp.inlay_hints import thaw_hints
from ftsc.lsp.locate import locate, span_of
from ftsc.lsp.registration import handler
from ftsc.lsp.server import FtscLanguageServer

COMPLETION_OPTIONS = types.CompletionOptions(trigger_characters=[".", "{", ",", "$", "("])
_KEEP_NAMED = 64  # documents whose last compile with a namespace is remembered


def register(server: FtscLanguageServer) -> None:
    named = _LastNamed()

    @handler(server, types.TEXT_DOCUMENT_HOVER)
    async def hover(ls: FtscLanguageServer, params: types.HoverParams) -> types.Hover | None:
        uri = params.text_document.uri
        analysis = await _latest(ls, uri)
        if analysis is None or analysis.result is None:
            return None
        encoding = encoding_of(ls.encoding)
        offset = _offset_in(analysis, ls.workspace.get_text_document(uri).source, params.position, encoding)
        found = locate(analysis.result.schedule, offset) if offset is not None else None
        text = hover_markdown(analysis.result, found) if found is not None else None
        if found is None or text is None:
            return None
        return types.Hover(
            contents=types.MarkupContent(types.MarkupKind.Markdown, text),
            range=lsp_range(analysis.source, span_of(found), encoding),
        )

    @handler(server, types.TEXT_DOCUMENT_COMPLETION, COMPLETION_OPTIONS)
    async def completion(
        ls: FtscLanguageServer, params: types.CompletionParams
    ) -> types.CompletionList | None:
        uri = params.text_document.uri
        text = ls.workspace.get_text_document(uri).source
        encoding = encoding_of(ls.encoding)
        source = SourceText(text)
        offset = offset_at(source, params.position, encoding)
        cursor = cursor_at(text[:offset])
        if cursor.place == "none":
            return None
        analysis = named.best(uri, await _latest(ls, uri))
        result = analysis.result if analysis is not None else None
        namespace = result.schedule_namespace if result is not None else None
        lets = result.schedule.lets if result is not None else []
        line, character = source.position(offset, encoding)
        end = types.Position(line, character)

        def edit_range(replaced: str) -> types.Range:
            return types.Range(types.Position(line, character - units(replaced, encoding)), end)

        return complete(cursor, namespace, lets, edit_range, default_range=_takes_default_range(ls))

    @handler(
        server, types.TEXT_DOCUMENT_INLAY_HINT, types.InlayHintOptions(resolve_provider=False), neutral=list
    )
    async def inlay_hint(ls: FtscLanguageServer, params: types.InlayHintParams) -> list[types.InlayHint]:
        analysis = await _current(ls, params.text_document.uri)
        if analysis is None or analysis.result is None:
            return []
        encoding = encoding_of(ls.encoding)
        source = analysis.source
        start = offset_at(source, params.range.start, encoding)
        end = offset_at(source, params.range.end, encoding)

        def position(offset: int) -> types.Position:
            return types.Position(*source.position(offset, encoding))

        return thaw_hints(analysis.result, start, end, position)


class _LastNamed:
    """Per document, the last compile that knew a namespace: while a half-typed `use namespace` breaks
    the text, completion keeps offering the names it offered a moment ago."""

    def __init__(self) -> None:
        self._kept: OrderedDict[str, Analysis] = OrderedDict()

    def best(self, uri: str, analysis: Analysis | None) -> Analysis | None:
        result = analysis.result if analysis is not None else None
        if analysis is not None and result is not None and result.schedule_namespace is not None:
            self._kept[uri] = analysis
            self._kept.move_to_end(uri)
            while len(self._kept) > _KEEP_NAMED:
                self._kept.popitem(last=False)
            return analysis
        broken = analysis is None or any(d.code == codes.SYNTAX_ERROR.code for d in analysis.diagnostics)
        return self._kept.get(uri, analysis) if broken else analysis


async def _settled(state: DocumentState) -> None:
    """Wait for the compile already under way (the debounced one), without cancelling it."""
    pending = state.pending
    if isinstance(pending, asyncio.Task) and not pending.done():
        await asyncio.wait({pending})


def _takes_default_range(ls: FtscLanguageServer) -> bool:
    """Whether the client reads one edit range for all items (`completionList.itemDefaults`, LSP 3.17)."""
    document = ls.client_capabilities.text_document
    completion = document.completion if document is not None else None
    listed = completion.completion_list if completion is not None else None
    return listed is not None and "editRange" in (listed.item_defaults or ())


async def _latest(ls: FtscLanguageServer, uri: str) -> Analysis | None:
    """The last compile of the document, of whichever version; compiles only when there is none."""
    if not ls.is_open(uri):
        return None
    state = ls.state(uri)
    if state.last is None:
        await _settled(state)
    return state.last if state.last is not None else await ls.analysis(uri)


async def _current(ls: FtscLanguageServer, uri: str) -> Analysis | None:
    """The compile of the document's current version: the pending one, or one made now."""
    if not ls.is_open(uri):
        return None
    state = ls.state(uri)
    for _ in range(3):
        version = ls.workspace.get_text_document(uri).version
        if state.last is not None and state.last.version == version:
            return state.last
        pending = state.pending
        if isinstance(pending, asyncio.Task) and not pending.done():
            await _settled(state)
            continue
        analysis = await ls.analysis(uri)
        if analysis is not None:
            return analysis
    return None


def _offset_in(
    analysis: Analysis, text: str, position: types.Position, encoding: PositionEncoding
) -> int | None:
    """The offset in the compiled text of a position in the current `text`: where they differ, only a
    position on a line that is still the same (at the same line number) is answered."""
    source, line = analysis.source, position.line
    if line >= source.line_count:
        return None
    if text != source.text:
        current = SourceText(text)
        if line >= current.line_count or current.line_text(line) != source.line_text(line):
            return None
    return offset_at(source, position, encoding)
