"""Definition, references and rename (`let` names and phase names), driving the real server as VS Code
(UTF-16) and Neovim (UTF-8)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsp_support import NAMESPACE, apply_edits, codes, open_document, position_of, published, replace_text
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

pytestmark = pytest.mark.asyncio

# Emojis before each name make UTF-16 and UTF-8 columns differ on every line that matters.
TEXT = (
    "fts 1\n"
    f'use namespace "{NAMESPACE.as_posix()}"\n'
    "let layers = bert.encoder.layer  # 🙂\n"
    "let top = $layers.{8..11}\n"
    'phase "🙂 head" { thaw bert.pooler.** }\n'
    "phase upper {\n"
    "    thaw $top.**, $layers.0.** except $layers.0.output.**  # 🙂🙂\n"
    "}\n"
    "phase tail { thaw rest }\n"
)


def nth(text: str, word: str, n: int = 0) -> int:
    """Offset of the n-th occurrence of `word` in `text`."""
    offset = -1
    for _ in range(n + 1):
        offset = text.index(word, offset + 1)
    return offset


def at(client: LanguageClient, text: str, offset: int) -> types.Position:
    return position_of(text, offset, client.ftsc_encoding)  # type: ignore[attr-defined]


def span_range(client: LanguageClient, text: str, start: int, length: int) -> types.Range:
    return types.Range(at(client, text, start), at(client, text, start + length))


def document(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri)


async def opened(client: LanguageClient, tmp_path: Path, text: str = TEXT) -> str:
    uri = open_document(client, tmp_path / "a.fts", text)
    assert codes(await published(client, uri)) == []
    return uri


async def rename(client: LanguageClient, uri: str, text: str, offset: int, new_name: str) -> str:
    edit = await client.text_document_rename_async(
        types.RenameParams(document(uri), at(client, text, offset), new_name)
    )
    assert edit is not None and edit.changes is not None
    return apply_edits(text, edit.changes[uri], client.ftsc_encoding)  # type: ignore[attr-defined]


async def test_definition_of_a_use(client: LanguageClient, tmp_path: Path) -> None:
    uri = await opened(client, tmp_path)
    use = nth(TEXT, "$layers", 2)  # on the line after the emojis' phase
    found = await client.text_document_definition_async(
        types.DefinitionParams(document(uri), at(client, TEXT, use + 3))
    )
    declared = nth(TEXT, "layers")
    assert list(found or ()) == [types.Location(uri, span_range(client, TEXT, declared, len("layers")))]
    nothing = await client.text_document_definition_async(
        types.DefinitionParams(document(uri), at(client, TEXT, nth(TEXT, "bert.pooler")))
    )
    assert nothing is None


async def test_references_with_and_without_the_declaration(client: LanguageClient, tmp_path: Path) -> None:
    uri = await opened(client, tmp_path)
    declared = nth(TEXT, "layers")
    uses = [nth(TEXT, "$layers", n) + 1 for n in range(3)]
    for include, expected in ((False, uses), (True, sorted([declared, *uses]))):
        found = await client.text_document_references_async(
            types.ReferenceParams(
                context=types.ReferenceContext(include_declaration=include),
                text_document=document(uri),
                position=at(client, TEXT, declared),
            )
        )
        assert list(found or ()) == [
            types.Location(uri, span_range(client, TEXT, offset, len("layers"))) for offset in expected
        ]


async def test_prepare_rename(client: LanguageClient, tmp_path: Path) -> None:
    uri = await opened(client, tmp_path)
    use = nth(TEXT, "$top")
    prepared = await client.text_document_prepare_rename_async(
        types.PrepareRenameParams(document(uri), at(client, TEXT, use))  # on the `$`
    )
    assert prepared == types.PrepareRenamePlaceholder(span_range(client, TEXT, use + 1, len("top")), "top")
    phase = nth(TEXT, '"🙂 head"')
    prepared = await client.text_document_prepare_rename_async(
        types.PrepareRenameParams(document(uri), at(client, TEXT, phase + 4))
    )
    assert prepared == types.PrepareRenamePlaceholder(
        span_range(client, TEXT, phase, len('"🙂 head"')), "🙂 head"
    )
    keyword = await client.text_document_prepare_rename_async(
        types.PrepareRenameParams(document(uri), at(client, TEXT, nth(TEXT, "thaw") + 1))
    )
    assert keyword is None


async def test_rename_a_let_everywhere(client: LanguageClient, tmp_path: Path) -> None:
    uri = await opened(client, tmp_path)
    renamed = await rename(client, uri, TEXT, nth(TEXT, "$layers", 1) + 2, "blocks")
    assert renamed == TEXT.replace("let layers", "let blocks").replace("$layers", "$blocks")
    assert "layers" not in renamed.replace("bert.encoder.layer", "")
    assert codes(await replace_text(client, uri, renamed, 2)) == []


LET_REFUSALS = [
    ("9lives", "cannot be a `let` name"),
    ("two words", "cannot be a `let` name"),
    ("phase", "cannot be a `let` name"),  # a keyword
    ("top", "already bound by another `let`"),
]
PHASE_REFUSALS = [("tail", "already named `tail`"), ("  ", "cannot be blank"), ("a\nb", "one line")]


async def test_invalid_new_names_are_refused_with_the_reason(client: LanguageClient, tmp_path: Path) -> None:
    uri = await opened(client, tmp_path)
    for word, refusals in (("layers", LET_REFUSALS), ("upper", PHASE_REFUSALS)):
        for new_name, message in refusals:
            with pytest.raises(JsonRpcException, match=message):
                await client.text_document_rename_async(
                    types.RenameParams(document(uri), at(client, TEXT, nth(TEXT, word)), new_name)
                )
    assert not [m for m in client.log_messages if m.type == types.MessageType.Error]  # refused, not failed


async def test_rename_phases_keeps_the_syntax(client: LanguageClient, tmp_path: Path) -> None:
    uri = await opened(client, tmp_path)
    quoted = nth(TEXT, '"🙂 head"') + 3
    assert await rename(client, uri, TEXT, quoted, 'the "best" 🙂') == TEXT.replace(
        '"🙂 head"', r'"the \"best\" 🙂"'
    )
    bare = nth(TEXT, "upper")
    assert await rename(client, uri, TEXT, bare, "middle") == TEXT.replace("phase upper", "phase middle")
    assert await rename(client, uri, TEXT, bare, "two words") == TEXT.replace(
        "phase upper", 'phase "two words"'
    )
    assert await rename(client, uri, TEXT, bare, "phase") == TEXT.replace("phase upper", 'phase "phase"')
