"""The pygls language server: diagnostics for `.fts` documents, pushed or pulled (one per client, streams.py).

Compiles run off the event loop, each on its own thread, and a compile of a newer version of a document
supersedes the one running (`compiling.py`); didChange is debounced; a result computed for a version that
is no longer current is dropped, never published. A compile that fails inside ftsc becomes an error
diagnostic on the document, so the editor shows that checking stopped rather than a clean file.

The server holds the documents and compiles them; the handlers of the LSP methods live in the feature
modules, which register on the server they are given (`app.py` assembles them; `registration.handler`
guards each).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from ftsc import __version__
from ftsc.compiler import Namespace
from ftsc.diagnostics import SourceText
from ftsc.lsp import watching
from ftsc.lsp.compiling import CompileRunner, Superseded
from ftsc.lsp.convert import encoding_of, to_lsp
from ftsc.lsp.documents import Analysis, DocumentState, analyze, internal_error
from ftsc.lsp.memory import settle
from ftsc.lsp.namespaces import setting_base
from ftsc.lsp.protocol import FtscProtocol
from ftsc.lsp.streams import Stream
from ftsc.lsp.watching import FileWatch, Stamp, watched_files

DEFAULT_DEBOUNCE_MS = 150


class FtscLanguageServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("ftsc", __version__, protocol_cls=FtscProtocol)  # didChange by the LSP rules
        self.stream = Stream.PUSH  # until initialize says the client pulls
        self._refresh_pending = False
        self.documents: dict[str, DocumentState] = {}
        self.namespace_setting: str | None = None
        self.debounce_s = DEFAULT_DEBOUNCE_MS / 1000
        self.compiler = CompileRunner()
        self.settler = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ftsc-settle")
        self._result_ids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self.watch = FileWatch()  # the namespace and pyproject files each open document was compiled against

    # --- logging ----------------------------------------------------------------------------------

    def log(self, message: str, kind: types.MessageType = types.MessageType.Log) -> None:
        with contextlib.suppress(Exception):  # the transport is gone: nothing left to tell
            self.window_log_message(types.LogMessageParams(type=kind, message=message))

    def log_exception(self, where: str, exc: BaseException) -> None:
        details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        self.log(f"ftsc: {where} failed: {exc!r}\n{details}", types.MessageType.Error)

    # --- compiling --------------------------------------------------------------------------------

    def state(self, uri: str) -> DocumentState:
        state = self.documents.get(uri)
        if state is None:
            state = self.documents[uri] = DocumentState(uri)
        return state

    @property
    def encoding(self) -> Any:
        return self.workspace.position_encoding

    async def analysis(self, uri: str) -> Analysis | None:
        """Compile the document as it is now; None when it changed meanwhile (the result is stale)."""
        state = self.state(uri)
        document = self.workspace.get_text_document(uri)
        text, version, generation = document.source, document.version, state.generation
        path_text = to_fs_path(uri) if uri.startswith("file:") else None
        path = Path(path_text) if path_text else None
        base = setting_base(path, watching.workspace_folders(self.workspace))
        encoding = encoding_of(self.encoding)
        setting = self.namespace_setting

        source = SourceText(text, str(path) if path is not None else None)

        def work() -> tuple[Analysis, list[str], dict[Path, Stamp]]:
            result, diagnostics, notes = analyze(text, path, setting, base)
            items = to_lsp(diagnostics, source, uri, encoding)
            files = watched_files(result.schedule, path, setting, base)
            return Analysis(version, source, diagnostics, result, "", items), notes, files

        try:
            analysis, notes, files = await self.compiler.run(uri, (version, generation, text), work)
        except Superseded:
            return None
        except Exception as exc:  # a bug in ftsc: a log line with the traceback, and the document says so
            self.log_exception(f"checking {uri}", exc)
            diagnostics = [internal_error(exc)]
            items = to_lsp(diagnostics, source, uri, encoding)
            analysis, notes, files = Analysis(version, source, diagnostics, None, "", items), [], {}
        if analysis.result is not None:  # a new namespace: keep full GC passes off its objects, once the
            # diagnostics are out (call_soon runs after the caller's publish, in the same loop step)
            asyncio.get_running_loop().call_soon(self._settle_later, analysis.result.schedule_namespace)
        for note in notes:
            self.log(f"ftsc: {note}", types.MessageType.Warning)
        current = self.documents.get(uri)
        if current is not state or state.version != version or state.generation != generation:
            return None
        analysis.result_id = f"{generation}.{next(self._result_ids)}"
        state.last = analysis
        self.watch.record(uri, files)
        return analysis

    def _settle_later(self, namespace: Namespace | None) -> None:
        with contextlib.suppress(RuntimeError):  # the server is shutting down: nothing to keep fast
            self.settler.submit(settle, namespace)

    async def publish(self, uri: str, version: int | None, delay: float = 0.0) -> None:
        """Compile and push diagnostics, unless the document moves past `version` first."""
        try:
            if delay > 0:
                await asyncio.sleep(delay)
            state = self.documents.get(uri)
            if state is None or state.version != version:
                return
            analysis = await self.analysis(uri)
            if analysis is None:
                return
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=analysis.items, version=version)
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # any text must leave the server running
            self.log_exception(f"diagnostics for {uri}", exc)

    def schedule(self, uri: str, version: int | None, delay: float = 0.0) -> None:
        """Push diagnostics for `version` after `delay`; a pulling client asks for them itself."""
        state = self.state(uri)
        state.version = version
        if self.stream is Stream.PULL:
            return
        pending = state.pending
        if isinstance(pending, asyncio.Task) and not pending.done():
            pending.cancel()
        task = asyncio.get_running_loop().create_task(self.publish(uri, version, delay))
        state.pending = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def is_open(self, uri: str) -> bool:
        """pygls keys open documents by their unquoted URI (a space where the client sends `%20`)."""
        return unquote(uri) in self.workspace.text_documents

    def recheck(self, uri: str) -> None:
        """Compile an open document again at the same version: something it was compiled against changed."""
        state = self.documents.get(uri)
        if state is not None and self.is_open(uri):
            state.generation += 1
            if self.stream is Stream.PULL:
                state.last = None  # the next pull compiles again
                self.refresh_soon()
            else:
                self.schedule(uri, state.version)

    def refresh_soon(self) -> None:
        """One `workspace/diagnostic/refresh` for the rechecks of one turn of the loop; the client pulls."""
        if self._refresh_pending:
            return
        self._refresh_pending = True

        def send() -> None:
            self._refresh_pending = False
            with contextlib.suppress(Exception):  # the transport is gone: nothing left to tell
                answer = self.workspace_diagnostic_refresh(None)
                answer.add_done_callback(lambda done: done.cancelled() or done.exception())  # errors: seen

        asyncio.get_running_loop().call_soon(send)

    def republish_all(self) -> None:
        for uri in list(self.documents):
            self.recheck(uri)
