"""Document symbols, folding ranges, semantic tokens and formatting, driving the real server as VS Code
(UTF-16) and Neovim (UTF-8); and a property test of the semantic tokens on any text."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
import pytest_lsp
from hypothesis import given, settings
from hypothesis import strategies as st
from lsp_support import CLIENTS, SERVER, apply_edits, offset_of, open_document, position_of
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from ftsc.diagnostics import SourceText
from ftsc.format import format_text
from ftsc.grammar.parser import parse
from ftsc.lsp.formatting import line_edits
from ftsc.lsp.semantic_tokens import LEGEND, TOKEN_MODIFIERS, TOKEN_TYPES, encode, tokens
from ftsc.lsp.snapshot import Snapshot
from ftsc.lsp.symbols import flat_symbols

TEXT = (
    "# outline 🙂\n"
    "# of phases\n"
    "fts 1\n"
    "let layers = bert.encoder.layer\n"
    "defaults {\n"
    '    early_stopping = { monitor = "val 🙂", patience = 2 }\n'
    "}\n"
    'phase "🙂 head" {\n'
    r'    thaw bert.pooler.**, re"classifier\..*"' + "\n"
    "    until epoch 2\n"
    "}\n"
    "phase upper {\n"
    "    thaw $layers.{8..11}.** except $layers.11.output.**  # 🙂 trailing\n"
    "    optimizer = AdamW(lr = 1e-5, weight_decay = 0.01)\n"
    "}\n"
    "phase tail { thaw rest }\n"
)
KEYWORD, VARIABLE, STRING, NUMBER, REGEXP, PROPERTY, CLASS, PARAMETER, COMMENT, OPERATOR, NAMESPACE = (
    "keyword", "variable", "string", "number", "regexp", "property", "class", "parameter", "comment",
    "operator", "namespace",
)  # fmt: skip
DECLARATION = ("declaration",)


def encoding(client: LanguageClient) -> str:
    return str(client.ftsc_encoding)  # type: ignore[attr-defined]


def doc(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri)


def decode(text: str, data: Sequence[int], unit: str) -> list[tuple[int, int, str, tuple[str, ...]]]:
    """The tokens of LSP semantic-token data as (start, end) code-point offsets, type and modifiers."""
    assert len(data) % 5 == 0
    found = []
    line = column = 0
    for index in range(0, len(data), 5):
        delta_line, delta_start, length, kind, modifiers = data[index : index + 5]
        line += delta_line
        column = delta_start if delta_line else column + delta_start
        start = offset_of(text, types.Position(line, column), unit)
        end = offset_of(text, types.Position(line, column + length), unit)
        assert position_of(text, end, unit) == types.Position(line, column + length), "past the line's end"
        names = tuple(name for bit, name in enumerate(TOKEN_MODIFIERS) if modifiers >> bit & 1)
        found.append((start, end, TOKEN_TYPES[kind], names))
    return found


def as_text(text: str, found: list[tuple[int, int, str, tuple[str, ...]]]) -> list[tuple[str, ...]]:
    return [(text[start:end], kind, *names) for start, end, kind, names in found]


# -- capabilities ----------------------------------------------------------------------------------------


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), params=sorted(CLIENTS))
async def initialized(lsp_client: LanguageClient, request: pytest.FixtureRequest, tmp_path: Path):
    """A client that keeps the server's whole InitializeResult (the `client` fixture keeps its encoding)."""
    result = await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(CLIENTS[request.param]), root_uri=tmp_path.as_uri()
        )
    )
    lsp_client.ftsc_capabilities = result.capabilities  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio
async def test_capabilities_advertise_the_legend_and_the_features(initialized: LanguageClient) -> None:
    capabilities: types.ServerCapabilities = initialized.ftsc_capabilities  # type: ignore[attr-defined]
    tokens_provider = capabilities.semantic_tokens_provider
    assert isinstance(tokens_provider, types.SemanticTokensOptions)
    assert list(tokens_provider.legend.token_types) == list(TOKEN_TYPES) == list(LEGEND.token_types)
    assert list(tokens_provider.legend.token_modifiers) == list(TOKEN_MODIFIERS) == ["declaration"]
    assert tokens_provider.full
    assert capabilities.rename_provider == types.RenameOptions(prepare_provider=True)
    actions = capabilities.code_action_provider
    assert isinstance(actions, types.CodeActionOptions)
    assert set(actions.code_action_kinds or ()) == {"quickfix", "refactor.rewrite"}
    assert capabilities.document_formatting_provider
    assert capabilities.document_symbol_provider
    assert capabilities.folding_range_provider
    assert capabilities.definition_provider
    assert capabilities.references_provider


# -- semantic tokens -------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_semantic_tokens_of_a_schedule(client: LanguageClient, tmp_path: Path) -> None:
    uri = open_document(client, tmp_path / "a.fts", TEXT)
    result = await client.text_document_semantic_tokens_full_async(types.SemanticTokensParams(doc(uri)))
    assert result is not None
    assert as_text(TEXT, decode(TEXT, result.data, encoding(client))) == [
        ("# outline 🙂", COMMENT), ("# of phases", COMMENT),
        ("fts", KEYWORD), ("1", NUMBER),
        ("let", KEYWORD), ("layers", VARIABLE, *DECLARATION), ("=", OPERATOR),
        ("bert", NAMESPACE), ("encoder", NAMESPACE), ("layer", NAMESPACE),
        ("defaults", KEYWORD),
        ("early_stopping", PROPERTY), ("=", OPERATOR), ("monitor", PROPERTY), ("=", OPERATOR),
        ('"val 🙂"', STRING), ("patience", PROPERTY), ("=", OPERATOR), ("2", NUMBER),
        ("phase", KEYWORD), ('"🙂 head"', STRING, *DECLARATION),
        ("thaw", KEYWORD), ("bert", NAMESPACE), ("pooler", NAMESPACE), ("**", OPERATOR),
        (r're"classifier\..*"', REGEXP),
        ("until", KEYWORD), ("epoch", KEYWORD), ("2", NUMBER),
        ("phase", KEYWORD), ("upper", VARIABLE, *DECLARATION),
        ("thaw", KEYWORD), ("$layers", VARIABLE), ("{", OPERATOR), ("8", NUMBER), ("..", OPERATOR),
        ("11", NUMBER), ("}", OPERATOR), ("**", OPERATOR),
        ("except", KEYWORD), ("$layers", VARIABLE), ("11", NAMESPACE), ("output", NAMESPACE), ("**", OPERATOR),
        ("# 🙂 trailing", COMMENT),
        ("optimizer", PROPERTY), ("=", OPERATOR), ("AdamW", CLASS), ("lr", PARAMETER), ("=", OPERATOR),
        ("1e-5", NUMBER), ("weight_decay", PARAMETER), ("=", OPERATOR), ("0.01", NUMBER),
        ("phase", KEYWORD), ("tail", VARIABLE, *DECLARATION), ("thaw", KEYWORD), ("rest", KEYWORD),
    ]  # fmt: skip


@pytest.mark.asyncio
async def test_semantic_tokens_of_broken_text(client: LanguageClient, tmp_path: Path) -> None:
    text = (
        'phase "🙂" {\n    thaw bert.pooler.**\n    lr = = 3  # 🙂 note\n    optimizer = AdamW(lr = )\n}\n'
        "phase b { thaw rest\n"  # unclosed
    )
    uri = open_document(client, tmp_path / "a.fts", text)
    result = await client.text_document_semantic_tokens_full_async(types.SemanticTokensParams(doc(uri)))
    assert result is not None
    found = as_text(text, decode(text, result.data, encoding(client)))
    for expected in [
        ("phase", KEYWORD), ('"🙂"', STRING, *DECLARATION), ("thaw", KEYWORD), ("pooler", NAMESPACE),
        ("lr", PROPERTY), ("3", NUMBER), ("# 🙂 note", COMMENT), ("AdamW", CLASS), ("lr", PARAMETER),
        ("b", VARIABLE, *DECLARATION), ("rest", KEYWORD),
    ]:  # fmt: skip
        assert expected in found


_FRAGMENTS = [
    "fts 1", "let ", "x = ", "$x", "phase ", '"🙂 a"', "{", "}", "thaw ", "except ", "rest", "re\"a\\.b\"",
    "a.b.**", "{0..3}", "{q,k}", ", ", "lr = ", "1e-5", "AdamW(", ")", "(", "[", "]", "true", "# c 🙂",
    "\n", "\r\n", "\r", " ", '"', "until epoch 2", "defaults ", "=", "é", "\t",
]  # fmt: skip
_ANY_TEXT = st.one_of(
    st.text(max_size=80),
    st.lists(st.sampled_from(_FRAGMENTS), max_size=40).map("".join),
)


@settings(max_examples=300, deadline=None)
@given(_ANY_TEXT)
def test_semantic_tokens_never_overlap_and_stay_in_the_document(text: str) -> None:
    found = tokens(text, parse(text).schedule)
    previous_end = 0
    for token in found:
        assert previous_end <= token.start < token.end <= len(text)
        assert "\n" not in text[token.start : token.end] and "\r" not in text[token.start : token.end]
        previous_end = token.end
    source = SourceText(text)
    for unit in ("utf-16", "utf-8"):
        decoded = decode(text, encode(source, found, unit), unit)  # type: ignore[arg-type]
        assert [(start, end) for start, end, *_ in decoded] == [(token.start, token.end) for token in found]


# -- document symbols and folding ------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_document_symbols(client: LanguageClient, tmp_path: Path) -> None:
    uri = open_document(client, tmp_path / "a.fts", TEXT)
    found = await client.text_document_document_symbol_async(types.DocumentSymbolParams(doc(uri)))
    assert found is not None
    symbols = [symbol for symbol in found if isinstance(symbol, types.DocumentSymbol)]
    assert [(s.name, s.kind, s.detail) for s in symbols] == [
        ("layers", types.SymbolKind.Variable, "bert.encoder.layer"),
        ("defaults", types.SymbolKind.Object, None),
        ("🙂 head", types.SymbolKind.Module, "phase 0"),
        ("upper", types.SymbolKind.Module, "phase 1"),
        ("tail", types.SymbolKind.Module, "phase 2"),
    ]
    defaults, head, upper = symbols[1], symbols[2], symbols[3]
    assert [(c.name, c.detail) for c in defaults.children or ()] == [
        ("early_stopping", '{ monitor = "val 🙂", patience = 2 }')
    ]
    assert [(c.name, c.kind) for c in head.children or ()] == [
        (r'thaw bert.pooler.**, re"classifier\..*"', types.SymbolKind.Field),
        ("until epoch 2", types.SymbolKind.Event),
    ]
    assert [(c.name, c.kind, c.detail) for c in upper.children or ()] == [
        ("thaw $layers.{8..11}.** except $layers.11.output.**", types.SymbolKind.Field, None),
        ("optimizer", types.SymbolKind.Property, "AdamW(lr = 1e-5, weight_decay = 0.01)"),
    ]
    unit = encoding(client)
    name = TEXT.index('"🙂 head"')
    assert head.selection_range == types.Range(
        position_of(TEXT, name, unit), position_of(TEXT, name + len('"🙂 head"'), unit)
    )
    assert head.range.start == position_of(TEXT, TEXT.index('phase "🙂'), unit)
    assert head.range.end == position_of(TEXT, TEXT.index("}\nphase upper") + 1, unit)


def test_flat_symbols_for_clients_without_hierarchy() -> None:
    view = Snapshot("file:///a.fts", SourceText(TEXT), parse(TEXT).schedule, "utf-16")
    flat = flat_symbols(view)
    assert [(s.name, s.container_name) for s in flat] == [
        ("layers", None),
        ("defaults", None),
        ("early_stopping", "defaults"),
        ("🙂 head", None),
        (r'thaw bert.pooler.**, re"classifier\..*"', "🙂 head"),
        ("until epoch 2", "🙂 head"),
        ("upper", None),
        ("thaw $layers.{8..11}.** except $layers.11.output.**", "upper"),
        ("optimizer", "upper"),
        ("tail", None),
        ("thaw rest", "tail"),
    ]
    assert all(s.location.uri == "file:///a.fts" for s in flat)


@pytest.mark.asyncio
async def test_folding_ranges(client: LanguageClient, tmp_path: Path) -> None:
    text = TEXT.replace(
        "    until epoch 2\n",
        '    until epoch 2\n    lr_scheduler_config = {\n        interval = "epoch"\n    }\n',
    )
    uri = open_document(client, tmp_path / "a.fts", text)
    found = await client.text_document_folding_range_async(types.FoldingRangeParams(doc(uri)))
    assert found is not None
    region, comment = types.FoldingRangeKind.Region, types.FoldingRangeKind.Comment
    assert [(f.start_line, f.end_line, f.kind) for f in found] == [
        (0, 1, comment),  # the two comment lines
        (4, 5, region),  # defaults { … }: the `}` line stays visible
        (7, 12, region),  # phase "🙂 head" { … }
        (10, 11, region),  # lr_scheduler_config = { … }
        (14, 16, region),  # phase upper { … }
    ]


# -- formatting ------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_formatting_edits_only_what_changes(client: LanguageClient, tmp_path: Path) -> None:
    messy = TEXT.replace("    until epoch 2\n", "  until   epoch 2\n").replace(
        "phase tail { thaw rest }", "phase tail {thaw rest}"
    )
    expected = format_text(messy).text
    assert expected is not None and expected != messy
    uri = open_document(client, tmp_path / "a.fts", messy)
    options = types.FormattingOptions(tab_size=2, insert_spaces=True)
    edits = await client.text_document_formatting_async(types.DocumentFormattingParams(doc(uri), options))
    assert edits is not None
    assert apply_edits(messy, edits, encoding(client)) == expected
    assert min(edit.range.start.line for edit in edits) > 0  # the untouched top of the file is not rewritten
    formatted = open_document(client, tmp_path / "b.fts", expected)
    again = await client.text_document_formatting_async(
        types.DocumentFormattingParams(doc(formatted), options)
    )
    assert again is not None and list(again) == []


_LINES = st.lists(st.sampled_from(["}\n", "\n", "    thaw a\n", "phase 🙂 {\n", "x"]), max_size=40).map(
    "".join
)


@settings(max_examples=300, deadline=None)
@given(_LINES, _LINES, st.sampled_from(["utf-16", "utf-8"]))
def test_line_edits_turn_any_text_into_any_other(old: str, new: str, unit: str) -> None:
    view = Snapshot("file:///a.fts", SourceText(old), parse("").schedule, unit)  # type: ignore[arg-type]
    edits = line_edits(view, new)
    assert apply_edits(old, edits, unit) == new
    assert (edits == []) == (old == new)


@pytest.mark.asyncio
async def test_formatting_refuses_broken_text_and_says_why(client: LanguageClient, tmp_path: Path) -> None:
    uri = open_document(client, tmp_path / "a.fts", 'phase "🙂" {\n    thaw a.b,\n')
    options = types.FormattingOptions(tab_size=4, insert_spaces=True)
    assert (
        await client.text_document_formatting_async(types.DocumentFormattingParams(doc(uri), options)) is None
    )
    [message] = [m.message for m in client.log_messages if "not formatted" in m.message]
    assert "syntax error" in message and "E001" in message
    assert not [m for m in client.log_messages if m.type == types.MessageType.Error]
