"""What the language-server tests share: the server command, the client profiles and small waiting helpers."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

NAMESPACE = Path(__file__).resolve().parents[2] / "examples" / "namespaces" / "bert-base.json"

SERVER = [sys.executable, "-m", "ftsc", "lsp"]

CLIENTS = {"vscode": "visual-studio-code", "neovim": "neovim@v0.11.0"}
EXPECTED_ENCODING = {"vscode": "utf-16", "neovim": "utf-8"}


async def wait_for(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting for the server")
        await asyncio.sleep(0.01)


def open_document(client: LanguageClient, path: Path, text: str, version: int = 1) -> str:
    path.write_text(text, encoding="utf-8")
    uri = path.as_uri()
    client.diagnostics.pop(uri, None)
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "fts", version, text))
    )
    return uri


async def published(client: LanguageClient, uri: str) -> Sequence[types.Diagnostic]:
    await wait_for(lambda: uri in client.diagnostics)
    return client.diagnostics[uri]


async def pull(client: LanguageClient, uri: str) -> types.RelatedFullDocumentDiagnosticReport:
    report = await client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri))
    )
    assert isinstance(report, types.RelatedFullDocumentDiagnosticReport)
    return report


def codes(diagnostics: Sequence[types.Diagnostic]) -> list[str]:
    return sorted(str(d.code) for d in diagnostics)
