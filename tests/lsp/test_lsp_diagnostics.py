"""`ftsc lsp` diagnostics, driving the real server process with pytest-lsp, as VS Code and as Neovim."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsp_support import EXPECTED_ENCODING, NAMESPACE, codes, open_document, published, pull
from lsprotocol import types
from pytest_lsp import LanguageClient

pytestmark = pytest.mark.asyncio

# `phase "` is 7 code units; the emoji is 2 UTF-16 units / 4 UTF-8 bytes; then ` head" { thaw `.
EMOJI_LINE = 'phase "🙂 head" {{ thaw {selector} }}\n'
TYPO_START = {"utf-16": 7 + 2 + 14, "utf-8": 7 + 4 + 14}


def schedule(selector: str, namespace: Path | None = NAMESPACE) -> str:
    use = f'use namespace "{namespace.as_posix()}"\n' if namespace is not None else ""
    return "fts 1\n" + use + EMOJI_LINE.format(selector=selector) + "phase rest { thaw rest }\n"


async def test_capabilities(client: LanguageClient) -> None:
    name = client.ftsc_name  # type: ignore[attr-defined]
    assert client.ftsc_encoding == EXPECTED_ENCODING[name]  # type: ignore[attr-defined]


async def test_typo_is_published_with_the_negotiated_range(client: LanguageClient, tmp_path: Path) -> None:
    uri = open_document(client, tmp_path / "a.fts", schedule("bert.poolr.**"))
    diagnostics = await published(client, uri)
    [typo] = [d for d in diagnostics if d.code == "E101"]
    encoding = client.ftsc_encoding  # type: ignore[attr-defined]
    start = TYPO_START[encoding]
    assert typo.range == types.Range(
        types.Position(2, start), types.Position(2, start + len("bert.poolr.**"))
    )
    assert typo.severity == types.DiagnosticSeverity.Error
    assert typo.source == "ftsc"
    assert "bert.pooler.**" in typo.message
    # the fix (for code actions) replaces `poolr`, in the same encoding
    assert typo.data["fixes"][0]["newText"] == "pooler"
    assert typo.data["fixes"][0]["range"] == {
        "start": {"line": 2, "character": start + len("bert.")},
        "end": {"line": 2, "character": start + len("bert.poolr")},
    }
    pulled = await pull(client, uri)
    assert list(pulled.items) == list(diagnostics)


async def test_fixing_the_typo_clears_it(client: LanguageClient, tmp_path: Path) -> None:
    uri = open_document(client, tmp_path / "a.fts", schedule("bert.poolr.**"))
    assert "E101" in codes(await published(client, uri))
    client.diagnostics.pop(uri)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=schedule("bert.pooler.**"))],
        )
    )
    assert codes(await published(client, uri)) == []
    first = await pull(client, uri)
    assert list(first.items) == []
    again = await client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(
            text_document=types.TextDocumentIdentifier(uri), previous_result_id=first.result_id
        )
    )
    assert isinstance(again, types.RelatedUnchangedDocumentDiagnosticReport)


async def test_no_namespace_gives_one_i404_and_the_other_checks(
    client: LanguageClient, tmp_path: Path
) -> None:
    text = schedule("bert.poolr.**", namespace=None) + "phase rest { thaw rest }\n"
    uri = open_document(client, tmp_path / "a.fts", text)
    found = codes(await published(client, uri))
    assert found.count("I404") == 1
    assert "E101" not in found  # names are not checked without a namespace
    assert len(found) > 1  # the duplicate phase name is still reported
    assert codes((await pull(client, uri)).items) == found


async def test_pyproject_associates_the_namespace(client: LanguageClient, tmp_path: Path) -> None:
    (tmp_path / "ns").mkdir()
    (tmp_path / "ns" / "bert.json").write_bytes(NAMESPACE.read_bytes())
    (tmp_path / "pyproject.toml").write_text(
        '[tool.ftsc]\nnamespaces = { "schedules/*.fts" = "ns/bert.json" }\n', encoding="utf-8"
    )
    (tmp_path / "schedules").mkdir()
    associated = open_document(
        client, tmp_path / "schedules" / "a.fts", schedule("bert.poolr.**", namespace=None)
    )
    assert codes(await published(client, associated)) == ["E101"]
    elsewhere = open_document(client, tmp_path / "b.fts", schedule("bert.poolr.**", namespace=None))
    assert codes(await published(client, elsewhere)) == ["I404"]


async def test_garbage_and_huge_lines_leave_the_server_answering(
    client: LanguageClient, tmp_path: Path
) -> None:
    garbage = "".join(chr(c) for c in range(1, 0x3000, 7)) + '\n{{{ ]]] "unterminated\n\x00\ufeff🙂' * 50
    uri = open_document(client, tmp_path / "garbage.fts", garbage)
    assert await published(client, uri)
    huge = open_document(client, tmp_path / "huge.fts", "phase " + "x" * 500_000 + "\n")
    assert await published(client, huge)
    ok = open_document(client, tmp_path / "ok.fts", schedule("bert.pooler.**"))
    assert list((await pull(client, ok)).items) == []
    assert not [m for m in client.log_messages if m.type == types.MessageType.Error]
