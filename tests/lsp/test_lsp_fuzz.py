"""Robustness: random incremental edits to a valid schedule, each batch followed by every document request the
server registers. Every request must be answered (no error response, no timeout), nothing may be logged as an
error, and at the end the server's copy of the text must be the client's: the edited document answers exactly
as a fresh document opened with the client's text does.

The edits are seeded (reproducible: the seed, batch and text are in every failure message) and bounded in
number, so each client's run takes a few seconds. Positions follow the LSP rules: lines end at `\\r\\n`, `\\r`
or `\\n` (and nothing else), characters are counted in the negotiated encoding, and a character past the end
of a line means its end.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lsp_support import NAMESPACE, lines_of, offset_of, open_document, pull, units
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from ftsc.lsp.app import build_server

BATCHES = 120
REQUEST_TIMEOUT = 20.0

SCHEDULE = f"""# a schedule to take apart: 🙂 ünïcödé 中文
fts 1
use namespace "{NAMESPACE.as_posix()}"

let layers = bert.encoder.layer

defaults {{
    lr = 1e-5
    early_stopping = {{ monitor = "val_loss", patience = 2 }}
}}

phase head {{
    thaw classifier.*, bert.pooler.**
    until epoch 2
}}

phase "upper 🙂 encoder" {{
    thaw $layers.{{8..11}}.**
    lr = 2e-5
}}

phase rest_of_model {{
    thaw rest except bert.embeddings.word_embeddings.weight
    optimizer = AdamW(lr = 1e-5, weight_decay = 0.01)
    lr_scheduler = CosineAnnealingLR(T_max = 10)
}}
"""

# Pieces to insert: tokens of the language, unbalanced brackets and quotes, multi-byte and control characters,
# every LSP line ending, and characters Python's str.splitlines() takes for line ends but LSP does not.
PIECES = [
    *("{", "}", "(", ")", "[", "]", '"', "'", 're"', "$", ".", ",", "=", "*", "**", "..", "#", "\\", "`"),
    *("phase p {", "thaw ", "except ", "rest", "let x = ", "use namespace ", "defaults {", "until epoch 3"),
    *("bert.", "bert.encoder.layer.{0..3}.**", "$layers.", "lr = ", "optimizer = AdamW(", "fts 1"),
    *("🙂", "é", "中文", "\U0001f9ea\u200d", "\ufeff", "\x00", "\t", " ", "  "),
    *("\n", "\r\n", "\r", "\n\n"),
    *("\x0b", "\x0c", "\x1c", "\x1e", "\x85", "\u2028", "\u2029"),
]


@dataclass
class Editor:
    """The client's side of one document: its text, version and the random edits made to it."""

    text: str
    encoding: str
    rng: random.Random
    version: int = 1

    def position(self) -> types.Position:
        """A random position: anywhere, at a line's end, past it, or past the last line."""
        lines = lines_of(self.text)
        line = self.rng.randrange(len(lines))
        start, end = lines[line]
        length = units(self.text[start:end], self.encoding)
        roll = self.rng.random()
        if roll < 0.03:
            return types.Position(len(lines) + self.rng.randrange(3), self.rng.randrange(5))
        if roll < 0.2:
            return types.Position(line, length)
        if roll < 0.3:
            return types.Position(line, length + self.rng.randint(1, 4))  # past the end: means the end
        column = self.rng.randint(0, end - start)
        return types.Position(line, units(self.text[start : start + column], self.encoding))

    def piece(self) -> str:
        roll = self.rng.random()
        if roll < 0.04:
            return self.rng.choice(["x", "bert.", "{", '"', "🙂"]) * self.rng.randint(2_000, 20_000)
        return "".join(self.rng.choice(PIECES) for _ in range(self.rng.randint(1, 4)))

    def change(self) -> types.TextDocumentContentChangePartial:
        """One random edit, applied to `text` as the server must apply it."""
        start, end = self.position(), self.position()
        first, last = offset_of(self.text, start, self.encoding), offset_of(self.text, end, self.encoding)
        if first > last:
            start, end, first, last = end, start, last, first
        kind = self.rng.random()
        new_text = "" if kind < 0.3 else self.piece()
        if 0.3 <= kind < 0.7:
            end, last = start, first  # an insertion
        self.text = self.text[:first] + new_text + self.text[last:]
        return types.TextDocumentContentChangePartial(range=types.Range(start, end), text=new_text)

    def batch(self) -> list[types.TextDocumentContentChangePartial]:
        self.version += 1
        return [self.change() for _ in range(self.rng.randint(1, 4))]


Request = Callable[[LanguageClient, str, Editor], Awaitable[Any]]


def _document(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri)


def _whole(editor: Editor) -> types.Range:
    return types.Range(types.Position(0, 0), types.Position(len(lines_of(editor.text)), 0))


async def _code_action(client: LanguageClient, uri: str, editor: Editor) -> Any:
    start, end = editor.position(), editor.position()
    if (start.line, start.character) > (end.line, end.character):
        start, end = end, start
    context = types.CodeActionContext(diagnostics=list(client.diagnostics.get(uri, [])))
    params = types.CodeActionParams(
        text_document=_document(uri), range=types.Range(start, end), context=context
    )
    return await client.text_document_code_action_async(params)


async def _rename(client: LanguageClient, uri: str, editor: Editor) -> Any:
    params = types.RenameParams(text_document=_document(uri), position=editor.position(), new_name="renamed")
    try:
        return await client.text_document_rename_async(params)
    except JsonRpcException as exc:  # a refused rename is an answer: the message the client shows
        assert exc.code == types.LSPErrorCodes.RequestFailed, exc
        return None


def _at(e: Editor, uri: str) -> dict[str, Any]:
    return {"text_document": _document(uri), "position": e.position()}


REQUESTS: dict[str, Request] = {
    types.TEXT_DOCUMENT_HOVER: lambda c, uri, e: c.text_document_hover_async(
        types.HoverParams(**_at(e, uri))
    ),
    types.TEXT_DOCUMENT_COMPLETION: lambda c, uri, e: c.text_document_completion_async(
        types.CompletionParams(**_at(e, uri))
    ),
    types.TEXT_DOCUMENT_INLAY_HINT: lambda c, uri, e: c.text_document_inlay_hint_async(
        types.InlayHintParams(text_document=_document(uri), range=_whole(e))
    ),
    types.TEXT_DOCUMENT_CODE_ACTION: _code_action,
    types.TEXT_DOCUMENT_DEFINITION: lambda c, uri, e: c.text_document_definition_async(
        types.DefinitionParams(**_at(e, uri))
    ),
    types.TEXT_DOCUMENT_REFERENCES: lambda c, uri, e: c.text_document_references_async(
        types.ReferenceParams(**_at(e, uri), context=types.ReferenceContext(include_declaration=True))
    ),
    types.TEXT_DOCUMENT_PREPARE_RENAME: lambda c, uri, e: c.text_document_prepare_rename_async(
        types.PrepareRenameParams(**_at(e, uri))
    ),
    types.TEXT_DOCUMENT_RENAME: _rename,
    types.TEXT_DOCUMENT_DOCUMENT_SYMBOL: lambda c, uri, e: c.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=_document(uri))
    ),
    types.TEXT_DOCUMENT_FOLDING_RANGE: lambda c, uri, e: c.text_document_folding_range_async(
        types.FoldingRangeParams(text_document=_document(uri))
    ),
    types.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL: lambda c, uri, e: c.text_document_semantic_tokens_full_async(
        types.SemanticTokensParams(text_document=_document(uri))
    ),
    types.TEXT_DOCUMENT_FORMATTING: lambda c, uri, e: c.text_document_formatting_async(
        types.DocumentFormattingParams(
            text_document=_document(uri), options=types.FormattingOptions(tab_size=4, insert_spaces=True)
        )
    ),
    types.TEXT_DOCUMENT_DIAGNOSTIC: lambda c, uri, e: c.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(text_document=_document(uri))
    ),
}


def registered_requests() -> set[str]:
    """The document requests the server answers (its notifications and lifecycle messages aside)."""
    features = set(build_server().protocol.fm.features)
    return {m for m in features if m.startswith("textDocument/") and not m.startswith("textDocument/did")}


def test_every_registered_request_is_fuzzed() -> None:
    assert registered_requests() <= set(REQUESTS)


def _errors(client: LanguageClient) -> list[str]:
    return [m.message for m in client.log_messages if m.type == types.MessageType.Error]


async def _ask_everything(client: LanguageClient, uri: str, editor: Editor, where: str) -> None:
    methods = sorted(registered_requests())
    calls = [asyncio.wait_for(REQUESTS[method](client, uri, editor), REQUEST_TIMEOUT) for method in methods]
    answers = await asyncio.gather(*calls, return_exceptions=True)
    failures = [
        f"{method}: {answer!r}"
        for method, answer in zip(methods, answers, strict=True)
        if isinstance(answer, BaseException)
    ]
    assert not failures, f"{where}: {failures}"


def _comparable(diagnostics: Sequence[types.Diagnostic]) -> list[tuple[Any, ...]]:
    return sorted(
        (
            str(d.code),
            d.range.start.line,
            d.range.start.character,
            d.range.end.line,
            d.range.end.character,
            d.message,
        )
        for d in diagnostics
    )


async def _views(client: LanguageClient, uri: str) -> tuple[Any, ...]:
    """What the server says about the document as a whole: it depends on every character of its text."""
    tokens = await client.text_document_semantic_tokens_full_async(
        types.SemanticTokensParams(text_document=_document(uri))
    )
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=_document(uri))
    )
    folds = await client.text_document_folding_range_async(
        types.FoldingRangeParams(text_document=_document(uri))
    )
    return (
        _comparable((await pull(client, uri)).items),
        tokens.data if tokens is not None else None,
        repr(symbols),
        repr(folds),
    )


@pytest.mark.asyncio
async def test_random_edits_leave_the_server_answering_and_in_sync(
    client: LanguageClient, tmp_path: Path
) -> None:
    name = client.ftsc_name  # type: ignore[attr-defined]
    encoding = str(getattr(client.ftsc_encoding, "value", client.ftsc_encoding))  # type: ignore[attr-defined]
    seed = f"ftsc-fuzz-{name}"
    editor = Editor(SCHEDULE, encoding, random.Random(seed))
    uri = open_document(client, tmp_path / "fuzzed.fts", SCHEDULE)
    await _ask_everything(client, uri, editor, f"seed {seed!r}, before any edit")
    initial = (await pull(client, uri)).items
    assert not [d for d in initial if d.severity == types.DiagnosticSeverity.Error]  # it starts valid

    for batch in range(BATCHES):
        before = editor.text
        changes = editor.batch()
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=uri, version=editor.version), changes
            )
        )
        where = f"seed {seed!r}, batch {batch}, text before {before!r}, changes {changes!r}"
        await _ask_everything(client, uri, editor, where)
        assert not _errors(client), f"{where}: {_errors(client)}"

    fresh = open_document(client, tmp_path / "fresh.fts", editor.text)
    assert await _views(client, uri) == await _views(client, fresh), f"seed {seed!r}: out of sync"


@pytest.mark.asyncio
async def test_edits_land_where_the_lsp_puts_them(client: LanguageClient, tmp_path: Path) -> None:
    """The two places pygls's own didChange goes wrong (see ftsc.lsp.sync): a line holding characters that
    `str.splitlines` takes for line ends, and a character past the end of the last line."""
    text = "fts 1\n# form\x0cfeed, next\x85line, line\u2028separator\nphase a { thaw rest }"
    uri = open_document(client, tmp_path / "edited.fts", text)
    changes = [
        types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(2, 6), types.Position(2, 7)), text="b"
        ),
        types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(2, 99), types.Position(2, 99)), text=" # the end"
        ),
    ]
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(types.VersionedTextDocumentIdentifier(uri=uri, version=2), changes)
    )
    expected = text.replace("phase a { thaw rest }", "phase b { thaw rest } # the end")
    fresh = open_document(client, tmp_path / "expected.fts", expected)
    assert await _views(client, uri) == await _views(client, fresh)
