r"""Positions, read one way by every feature: lines end at `\r\n`, a lone `\r` or `\n` (the LSP's line ends,
and no others), and `locate` says what is under the cursor for hover and navigation alike."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lsp_support import NAMESPACE, codes, lines_of, open_document, position_of, published
from lsprotocol import types
from pytest_lsp import LanguageClient

from ftsc.diagnostics import SourceText, Span
from ftsc.grammar.parser import parse
from ftsc.lsp.locate import VariableAt, locate
from ftsc.lsp.navigation import LetTarget, target_at

ENCODINGS = ("utf-8", "utf-16", "utf-32")

# Every LSP line end, and the breaks `str.splitlines` knows that are characters of a line to the LSP.
_TEXTS = st.lists(
    st.sampled_from(["a", "é", "🙂", " ", "\n", "\r", "\r\n", "\n\r", "\x0b", "\x0c", "\x85", "\u2028"]),
    max_size=30,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_lines_end_at_the_lsp_line_ends_only(text: str) -> None:
    source = SourceText(text)
    expected = re.split(r"\r\n|\r|\n", text)
    assert [source.line_text(line) for line in range(source.line_count)] == expected
    assert "".join(source.lines_with_ends()) == text
    assert len(source.lines_with_ends()) == len(expected) - (expected[-1] == "")


@settings(max_examples=300, deadline=None)
@given(_TEXTS, st.sampled_from(ENCODINGS))
def test_offsets_and_positions_are_inverse(text: str, encoding: str) -> None:
    source = SourceText(text)
    for offset in range(len(text) + 1):
        position = source.position(offset, encoding)  # type: ignore[arg-type]
        back = source.offset(*position, encoding)  # type: ignore[arg-type]
        if text[offset - 1 : offset + 1] == "\r\n":  # between the two characters of one line end
            assert back == offset - 1
            continue
        expected = position_of(text, offset, encoding)
        assert position == (expected.line, expected.character)
        assert back == offset


@settings(max_examples=200, deadline=None)
@given(_TEXTS, st.integers(0, 40), st.integers(0, 40), st.sampled_from(ENCODINGS))
def test_a_position_past_a_line_or_the_text_means_its_end(
    text: str, line: int, past: int, encoding: str
) -> None:
    source = SourceText(text)
    lines = lines_of(text)
    if line >= len(lines):
        assert source.offset(line, past, encoding) == len(text)  # type: ignore[arg-type]
        return
    start, end = lines[line]
    assert source.offset(line, 4 * (end - start) + past, encoding) == end  # type: ignore[arg-type]


def test_a_use_in_a_pattern_that_does_not_parse_is_found_by_hover_and_navigation() -> None:
    text = "let layers = bert.encoder.layer\rphase a { thaw $layers.*** }\r"
    schedule = parse(text).schedule
    use = text.index("$layers")
    found = locate(schedule, use + 2)
    assert found == VariableAt("layers", Span(use, use + len("$layers")), "use")
    assert target_at(schedule, use + 2) == LetTarget("layers", Span(use + 1, use + len("$layers")))


# -- the server, on a document whose lines end in lone `\r` ----------------------------------------------

TEXT = (
    "fts 1\r"
    f'use namespace "{NAMESPACE.as_posix()}"\r'
    "let layers = bert.encoder.layer\r\n"
    'phase "🙂 head" {\r    thaw bert.poolr.**\r}\r'
    "phase upper { thaw $layers.{8..11}.** }\r"
)


def at(client: LanguageClient, text: str, offset: int) -> types.Position:
    return position_of(text, offset, client.ftsc_encoding)  # type: ignore[attr-defined]


def span_range(client: LanguageClient, text: str, start: int, length: int) -> types.Range:
    return types.Range(at(client, text, start), at(client, text, start + length))


@pytest.mark.asyncio
async def test_lone_carriage_returns_end_lines_for_every_feature(
    client: LanguageClient, tmp_path: Path
) -> None:
    uri = open_document(client, tmp_path / "a.fts", TEXT)
    document = types.TextDocumentIdentifier(uri)
    before = await published(client, uri)
    [typo] = [d for d in before if d.code == "E101"]
    typo_at = TEXT.index("bert.poolr.**")
    assert typo.range == span_range(client, TEXT, typo_at, len("bert.poolr.**"))
    assert typo.range.start.line == 4

    use = TEXT.index("$layers")
    hover = await client.text_document_hover_async(types.HoverParams(document, at(client, TEXT, use + 2)))
    assert hover is not None and hover.range == span_range(client, TEXT, use, len("$layers"))
    found = await client.text_document_definition_async(
        types.DefinitionParams(document, at(client, TEXT, use + 2))
    )
    declared = TEXT.index("layers")
    assert list(found or ()) == [types.Location(uri, span_range(client, TEXT, declared, len("layers")))]

    # An edit placed by line and character, on a line after lone `\r`s: the server's text stays the client's.
    poolr = TEXT.index("poolr")
    client.diagnostics.pop(uri, None)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=span_range(client, TEXT, poolr, len("poolr")), text="pooler"
                )
            ],
        )
    )
    assert codes(await published(client, uri)) == [code for code in codes(before) if code != "E101"]
    assert not [m for m in client.log_messages if m.type == types.MessageType.Error]
