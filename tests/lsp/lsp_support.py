"""What the language-server tests share: the server command, the client profiles and small waiting helpers."""

from __future__ import annotations

import asyncio
import re
import sys
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient
from pytest_lsp.client import default_feature

NAMESPACE = Path(__file__).resolve().parents[2] / "examples" / "namespaces" / "bert-base.json"

SERVER = [sys.executable, "-m", "ftsc", "lsp"]

# Both profiles are served by push (VS Code 1.65 does not pull; Neovim 0.11 pulls without refresh support);
# test_lsp_streams.py adds the pulling client vscode-languageclient 11 is.
CLIENTS = {"vscode": "visual-studio-code", "neovim": "neovim@v0.11.0"}
EXPECTED_ENCODING = {"vscode": "utf-16", "neovim": "utf-8"}

_REGISTERED: weakref.WeakKeyDictionary[LanguageClient, list[types.Registration]] = weakref.WeakKeyDictionary()


@default_feature(types.CLIENT_REGISTER_CAPABILITY)
def _register_capability(client: LanguageClient, params: types.RegistrationParams) -> None:
    """Accept dynamic registrations as VS Code does (pytest-lsp's client would answer "method not found");
    every test client gets this handler, since this module is imported before any client is made."""
    _REGISTERED.setdefault(client, []).extend(params.registrations)


def registrations(client: LanguageClient) -> list[types.Registration]:
    """What the server has registered with `client` so far."""
    return _REGISTERED.get(client, [])


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


_LINE_END = re.compile(r"\r\n|\r|\n")  # the LSP's line ends, and no others


def units(text: str, encoding: str) -> int:
    """Length of `text` in the client's units."""
    if encoding == "utf-16":
        return len(text.encode("utf-16-le")) // 2
    return len(text.encode("utf-8")) if encoding == "utf-8" else len(text)


def lines_of(text: str) -> list[tuple[int, int]]:
    """(start, end of content) of each line, by the LSP's line ends."""
    spans, start = [], 0
    for found in _LINE_END.finditer(text):
        spans.append((start, found.start()))
        start = found.end()
    spans.append((start, len(text)))
    return spans


def position_of(text: str, offset: int, encoding: str) -> types.Position:
    """The LSP position of code point `offset` of `text`, counted in the client's units (UTF-16 / UTF-8)."""
    line = max(index for index, (start, _) in enumerate(lines_of(text)) if start <= offset)
    start, end = lines_of(text)[line]
    return types.Position(line, units(text[start : min(offset, end)], encoding))


def offset_of(text: str, position: types.Position, encoding: str) -> int:
    """The code point offset of an LSP position counted in the client's units (the inverse of position_of);
    past the end of a line: its end; past the last line: the end of the text."""
    lines = lines_of(text)
    if position.line >= len(lines):
        return len(text)
    start, end = lines[position.line]
    counted = 0
    for index in range(start, end):
        if counted >= position.character:
            return index
        counted += units(text[index], encoding)
    return end


def apply_edits(text: str, edits: Sequence[types.TextEdit], encoding: str) -> str:
    """`text` with non-overlapping `edits` applied, as an editor would."""
    spans = [
        (offset_of(text, e.range.start, encoding), offset_of(text, e.range.end, encoding), e.new_text)
        for e in edits
    ]
    for start, end, new_text in sorted(spans, reverse=True):
        text = text[:start] + new_text + text[end:]
    return text


async def replace_text(
    client: LanguageClient, uri: str, text: str, version: int
) -> Sequence[types.Diagnostic]:
    """Send the whole new text as a didChange; the diagnostics published for it."""
    client.diagnostics.pop(uri, None)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )
    return await published(client, uri)
