r"""Applying incremental `didChange` edits by the protocol's rules rather than pygls's.

pygls 2.1 cuts a document into lines with `str.splitlines`, which also breaks at \v, \f, \x1c-\x1e, \x85,
\u2028 and \u2029 (the LSP ends lines only at \r\n, \r and \n), and it moves a character past the end of
the last line to one before that end. Either puts an edit in the wrong place, and from then on the server's
copy of the text differs from the editor's. `SyncProtocol` applies each change itself and hands pygls the
resulting text whole, its positions read by `SourceText` (lines end at \r\n, \r and \n) as every
other position the server reads.

It also answers requests whose params do not deserialize (a negative position, `tabSize: -1`, a string
where a number belongs): pygls raises from inside `json.loads`, logs, and never replies, so the client
would wait forever. The reply here is the JSON-RPC `InvalidParams` error for that request's id.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.protocol import LanguageServerProtocol, lsp_method

from ftsc.diagnostics import LINE_END, PositionEncoding, SourceText
from ftsc.lsp.convert import encoding_of, offset_at


def apply_change(text: str, change: types.TextDocumentContentChangeEvent, encoding: PositionEncoding) -> str:
    if not isinstance(change, types.TextDocumentContentChangePartial):
        return change.text
    source = SourceText(_through_line(text, max(change.range.start.line, change.range.end.line)))
    start = offset_at(source, change.range.start, encoding)
    end = offset_at(source, change.range.end, encoding)
    start, end = min(start, end), max(start, end)
    return text[:start] + change.text + text[end:]


def _through_line(text: str, line: int) -> str:
    """The text up to the end of `line` (with its line end): all that positions on it and above read, so
    a keystroke near the top of a long document indexes only the lines above it."""
    for count, found in enumerate(LINE_END.finditer(text)):
        if count == line:
            return text[: found.end()]
    return text


class _Answered:
    """A request already answered with an error while it was read: nothing left to handle."""

    jsonrpc = None


class SyncProtocol(LanguageServerProtocol):
    """pygls's protocol with `textDocument/didChange` applied by `apply_change`, and an `InvalidParams`
    answer to a request that cannot be deserialized."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if "method" not in data or "id" not in data:
                raise  # a notification or a response: there is no one to answer
            method = data.get("method")
            error = JsonRpcInvalidParams(f"invalid params for {method}: {_cause(exc)}")
            self._send_response(data["id"], error=error.to_response_error())
            return _Answered()

    def handle_message(self, message: Any) -> None:
        if not isinstance(message, _Answered):
            super().handle_message(message)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(
        self, params: types.DidChangeTextDocumentParams
    ) -> Generator[Any, Any, None]:
        document = self.workspace.get_text_document(params.text_document.uri)
        encoding = encoding_of(self.workspace.position_encoding)
        text = document.source
        for change in params.content_changes:
            text = apply_change(text, change, encoding)
        whole = types.TextDocumentContentChangeWholeDocument(text=text)
        self.workspace.update_text_document(params.text_document, whole)
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None


def _cause(exc: BaseException) -> str:
    """The first line of what cattrs said was wrong (its message names the class and the field)."""
    cause = exc.__cause__ if exc.__cause__ is not None else exc
    causes = [cause, *getattr(cause, "exceptions", ())]
    text = "; ".join(str(item).splitlines()[0] for item in causes[:3] if str(item))
    return text[:300] or type(cause).__name__
