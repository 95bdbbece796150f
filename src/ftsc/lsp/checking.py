"""The document lifecycle and its diagnostics: initialize, open / change / save / close, configuration
changes, and `textDocument/diagnostic` for clients that pull (the server pushes to the others)."""

from __future__ import annotations

import asyncio
import os

from lsprotocol import types

from ftsc.compiler.compile import compile_schedule
from ftsc.io import MAX_INPUT_ENV
from ftsc.lsp.namespaces import setting_from
from ftsc.lsp.rechecking import files_changed
from ftsc.lsp.registration import handler
from ftsc.lsp.server import FtscLanguageServer
from ftsc.lsp.streams import Stream, stream_for
from ftsc.lsp.watching import is_dependency_file

# Compiled once at initialize, so that the first document opened does not wait for lark's grammar and
# the lexers of its states, which are loaded on first use (tens of milliseconds).
WARM_UP = """fts 1
let top = encoder.layer.{8..11}
defaults { lr = 1e-5  early_stopping = { monitor = "val_loss", patience = 2 } }
phase head { thaw classifier.*, "pooler.dense.weight", re"pooler\\..*" except $top.**
    until epoch 1 }
phase rest_of_model { thaw rest  lr = 2e-5  optimizer = AdamW(weight_decay = 0.01) }
"""

DIAGNOSTIC_OPTIONS = types.DiagnosticOptions(
    identifier="ftsc", inter_file_dependencies=False, workspace_diagnostics=False
)


def _empty_report() -> types.DocumentDiagnosticReport:
    return types.RelatedFullDocumentDiagnosticReport(items=[])


def register(server: FtscLanguageServer) -> None:
    @handler(server, types.INITIALIZE)
    def initialize(ls: FtscLanguageServer, params: types.InitializeParams) -> None:
        ls.stream = stream_for(params.capabilities)
        options = params.initialization_options
        if isinstance(options, dict):
            debounce = options.get("debounceMs")
            if isinstance(debounce, (int, float)) and not isinstance(debounce, bool) and debounce >= 0:
                ls.debounce_s = debounce / 1000
            value, present = setting_from(options)
            if present:
                ls.namespace_setting = value
            nested = options.get("ftsc")
            limit = (nested if isinstance(nested, dict) else options).get("maxInputMB")
            if isinstance(limit, (int, float)) and not isinstance(limit, bool) and limit > 0:
                os.environ[MAX_INPUT_ENV] = str(limit)  # what ftsc.io reads, for every file the server reads
        compile_schedule(WARM_UP, None)

    @handler(server, types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: FtscLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        if is_dependency_file(params.text_document.uri):
            return  # a namespace or pyproject.toml: its saves re-check the schedules that use it
        ls.schedule(params.text_document.uri, params.text_document.version)

    @handler(server, types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: FtscLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        if is_dependency_file(params.text_document.uri):
            return
        ls.schedule(params.text_document.uri, params.text_document.version, ls.debounce_s)

    @handler(server, types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: FtscLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        if is_dependency_file(uri):
            files_changed(ls, [uri])
            return
        ls.schedule(uri, ls.state(uri).version)

    @handler(server, types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: FtscLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        state = ls.documents.pop(uri, None)
        if state is not None and isinstance(state.pending, asyncio.Task):
            state.pending.cancel()
        ls.compiler.cancel(uri)
        if ls.stream is Stream.PUSH:
            ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    @handler(server, types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls: FtscLanguageServer, params: types.DidChangeConfigurationParams) -> None:
        value, present = setting_from(params.settings)
        if present and value != ls.namespace_setting:
            ls.namespace_setting = value
            ls.republish_all()

    @handler(server, types.TEXT_DOCUMENT_DIAGNOSTIC, DIAGNOSTIC_OPTIONS, neutral=_empty_report)
    async def diagnostic(
        ls: FtscLanguageServer, params: types.DocumentDiagnosticParams
    ) -> types.DocumentDiagnosticReport:
        uri = params.text_document.uri
        if is_dependency_file(uri):
            return _empty_report()  # a namespace or pyproject.toml the client shows us: not a schedule
        state = ls.state(uri)
        if not ls.is_open(uri):
            state.version = None  # not open: read from disk each time
            state.last = None
        analysis = state.last
        current = ls.workspace.get_text_document(uri).version
        for _ in range(3):
            if analysis is not None and analysis.version == current:
                break
            state.version = current
            analysis = await ls.analysis(uri)
            current = ls.workspace.get_text_document(uri).version
        if analysis is None:
            return _empty_report()
        if params.previous_result_id is not None and params.previous_result_id == analysis.result_id:
            return types.RelatedUnchangedDocumentDiagnosticReport(result_id=analysis.result_id)
        return types.RelatedFullDocumentDiagnosticReport(items=analysis.items, result_id=analysis.result_id)
