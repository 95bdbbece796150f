"""Registers the editing features: code actions, definition, references, rename, document symbols,
folding ranges, semantic tokens and formatting (each guarded by `registration.handler`)."""

from __future__ import annotations

from lsprotocol import types
from pygls.exceptions import JsonRpcException

from ftsc.lsp import actions, folding, formatting, navigation, symbols
from ftsc.lsp.documents import Analysis
from ftsc.lsp.registration import handler
from ftsc.lsp.semantic_tokens import LEGEND, semantic_tokens
from ftsc.lsp.server import FtscLanguageServer
from ftsc.lsp.snapshot import snapshot


def _no_tokens() -> types.SemanticTokens:
    return types.SemanticTokens(data=[])


async def _current_analysis(ls: FtscLanguageServer, uri: str, text: str) -> Analysis | None:
    """The compile of exactly `text`: the last one if it is, else a fresh one (None: the document
    changed meanwhile)."""
    state = ls.documents.get(uri)
    if state is None:
        return None
    last = state.last
    if last is not None and last.source.text == text:
        return last
    analysis = await ls.analysis(uri)
    return analysis if analysis is not None and analysis.source.text == text else None


def register(server: FtscLanguageServer) -> None:
    code_action_options = types.CodeActionOptions(code_action_kinds=[actions.QUICK_FIX, actions.REWRITE])

    @handler(server, types.TEXT_DOCUMENT_CODE_ACTION, code_action_options)
    async def code_action(
        ls: FtscLanguageServer, params: types.CodeActionParams
    ) -> list[types.CodeAction] | None:
        uri, only = params.text_document.uri, params.context.only
        view = snapshot(ls, uri)
        found: list[types.CodeAction] = []
        if actions.wanted(actions.QUICK_FIX, only):
            found.extend(actions.diagnostic_actions(view, params.context.diagnostics))
        if actions.wanted(actions.REWRITE, only):
            analysis = await _current_analysis(ls, uri, view.text)
            if analysis is not None and analysis.result is not None:
                found.extend(actions.regex_actions(view, analysis.result, view.span(params.range)))
        return found

    @handler(server, types.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: FtscLanguageServer, params: types.DefinitionParams) -> list[types.Location] | None:
        return navigation.definition(snapshot(ls, params.text_document.uri), params.position)

    @handler(server, types.TEXT_DOCUMENT_REFERENCES)
    def references(ls: FtscLanguageServer, params: types.ReferenceParams) -> list[types.Location] | None:
        view = snapshot(ls, params.text_document.uri)
        return navigation.references(view, params.position, params.context.include_declaration)

    @handler(server, types.TEXT_DOCUMENT_PREPARE_RENAME)
    def prepare_rename(
        ls: FtscLanguageServer, params: types.PrepareRenameParams
    ) -> types.PrepareRenamePlaceholder | None:
        return navigation.prepare_rename(snapshot(ls, params.text_document.uri), params.position)

    @handler(server, types.TEXT_DOCUMENT_RENAME)
    def rename(ls: FtscLanguageServer, params: types.RenameParams) -> types.WorkspaceEdit | None:
        view = snapshot(ls, params.text_document.uri)
        try:
            return navigation.rename(view, params.position, params.new_name)
        except navigation.RenameRefused as exc:  # the client shows the message to the user
            raise JsonRpcException(str(exc), code=types.LSPErrorCodes.RequestFailed) from exc

    @handler(server, types.TEXT_DOCUMENT_DOCUMENT_SYMBOL, neutral=list)
    def document_symbol(
        ls: FtscLanguageServer, params: types.DocumentSymbolParams
    ) -> list[types.DocumentSymbol] | list[types.SymbolInformation]:
        view = snapshot(ls, params.text_document.uri)
        client = ls.client_capabilities.text_document
        capability = client.document_symbol if client is not None else None
        if capability is not None and capability.hierarchical_document_symbol_support:
            return symbols.document_symbols(view)
        return symbols.flat_symbols(view)

    @handler(server, types.TEXT_DOCUMENT_FOLDING_RANGE, neutral=list)
    def folding_range(ls: FtscLanguageServer, params: types.FoldingRangeParams) -> list[types.FoldingRange]:
        client = ls.client_capabilities.text_document
        capability = client.folding_range if client is not None else None
        limit = capability.range_limit if capability is not None else None
        return folding.folding_ranges(snapshot(ls, params.text_document.uri), limit)

    @handler(server, types.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL, LEGEND, neutral=_no_tokens)
    def semantic_tokens_full(
        ls: FtscLanguageServer, params: types.SemanticTokensParams
    ) -> types.SemanticTokens:
        view = snapshot(ls, params.text_document.uri)
        return types.SemanticTokens(data=semantic_tokens(view.source, view.schedule, view.encoding))

    @handler(server, types.TEXT_DOCUMENT_FORMATTING)
    def formatting_request(
        ls: FtscLanguageServer, params: types.DocumentFormattingParams
    ) -> list[types.TextEdit] | None:
        uri = params.text_document.uri
        try:
            return formatting.formatting_edits(snapshot(ls, uri))
        except formatting.NotFormatted as exc:
            ls.log(f"ftsc: {uri}: {exc}", types.MessageType.Info)
            return None
