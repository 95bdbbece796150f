"""The TextMate grammar and the server's semantic tokens colour the same text the same way.

Each character of the examples (and of data/every_construct.fts) gets one class from each side: from the
semantic tokens of the real `ftsc lsp` (as VS Code asks for them), and from the scopes that the
extension's grammar gives it in VS Code's own tokeniser (vscode-textmate, through
editors/vscode/scripts/tokenize.mjs). A scope stands for the semantic type that VS Code maps to it when
a theme has no semantic colours (keyword → keyword.control, number → constant.numeric, …), so the two
agreeing means the colours do not change when the server's tokens arrive.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from editor_paths import EXAMPLES, VSCODE
from lsp_support import CLIENTS, wait_for
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

SCHEDULES = [*EXAMPLES, Path(__file__).parent / "data" / "every_construct.fts"]
TOKENIZE = VSCODE / "scripts" / "tokenize.mjs"

# Inside these, every character is of the container's class (a regex's `^` is not a keyword).
CONTAINERS = (("comment", "comment"), ("string.regexp", "regexp"), ("string", "string"))
# The innermost scope with one of these prefixes decides; punctuation and meta scopes stand for nothing.
SCOPE_TYPES = (
    ("keyword.operator", "operator"),
    ("keyword.control", "keyword"),
    ("constant.language", "keyword"),  # true, false, none
    ("constant.numeric", "number"),
    ("entity.name.namespace", "namespace"),  # a pattern's literal segments
    ("variable.other.readwrite", "variable"),  # $name
    ("entity.name.variable", "variable"),  # let and phase names
    ("variable.other.property", "property"),
    ("variable.parameter", "parameter"),
    ("entity.name.type.class", "class"),
)

Position = tuple[int, int]


def has_scope(scopes: list[str], prefix: str) -> bool:
    return any(scope == prefix or scope.startswith(prefix + ".") for scope in scopes)


def scope_type(scopes: list[str]) -> str | None:
    for prefix, kind in CONTAINERS:
        if has_scope(scopes, prefix):
            return kind
    for scope in reversed(scopes):
        for prefix, kind in SCOPE_TYPES:
            if has_scope([scope], prefix):
                return kind
    return None


def textmate_types(paths: list[Path]) -> dict[Path, dict[Position, str]]:
    node = shutil.which("node")
    if node is None or not (VSCODE / "node_modules" / "vscode-textmate").is_dir():
        pytest.skip("needs node and editors/vscode/node_modules: `make editors` installs them (npm ci)")
    run = subprocess.run(
        [node, str(TOKENIZE), *map(str, paths)], capture_output=True, text=True, check=True, timeout=120
    )
    tokens: dict[str, list[tuple[int, int, int, list[str]]]] = json.loads(run.stdout)
    found: dict[Path, dict[Position, str]] = {}
    for path in paths:
        classes = found[path] = {}
        for line, start, end, scopes in tokens[str(path)]:
            kind = scope_type(scopes)
            if kind is not None:
                classes.update({(line, column): kind for column in range(start, end)})
    return found


def decode(data: list[int], legend: list[str]) -> dict[Position, str]:
    """Characters → semantic type, from the LSP's relative five-integer encoding (UTF-16 columns)."""
    classes: dict[Position, str] = {}
    line = column = 0
    for at in range(0, len(data), 5):
        delta_line, delta_start, length, kind = data[at : at + 4]
        line += delta_line
        column = column + delta_start if delta_line == 0 else delta_start
        classes.update({(line, column + offset): legend[kind] for offset in range(length)})
    return classes


async def semantic_types(client: LanguageClient, paths: list[Path]) -> dict[Path, dict[Position, str]]:
    result = await client.initialize_session(
        types.InitializeParams(capabilities=client_capabilities(CLIENTS["vscode"]), root_uri=VSCODE.as_uri())
    )
    provider = result.capabilities.semantic_tokens_provider
    assert provider is not None, "the server offers no semantic tokens"
    assert result.capabilities.position_encoding in (None, types.PositionEncodingKind.Utf16)
    legend = list(provider.legend.token_types)
    found: dict[Path, dict[Position, str]] = {}
    for path in paths:
        uri = path.as_uri()
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "fts", 1, path.read_text("utf-8")))
        )
        await wait_for(lambda uri=uri: uri in client.diagnostics)  # compiled once
        tokens = await client.text_document_semantic_tokens_full_async(
            types.SemanticTokensParams(text_document=types.TextDocumentIdentifier(uri))
        )
        assert tokens is not None
        found[path] = decode(list(tokens.data), legend)
    return found


def characters(path: Path) -> list[tuple[Position, str, str]]:
    """(line, UTF-16 column), the character and its line, for every character that is not a space."""
    found = []
    for line, text in enumerate(path.read_text("utf-8").split("\n")):
        column = 0
        for char in text:
            if not char.isspace():
                found.append(((line, column), char, text))
            column += 2 if ord(char) > 0xFFFF else 1
    return found


@pytest.mark.asyncio
async def test_the_grammar_colours_as_the_server_does(server: LanguageClient) -> None:
    grammar = textmate_types(SCHEDULES)
    served = await semantic_types(server, SCHEDULES)
    disagreements: list[str] = []
    seen: Counter[str | None] = Counter()
    for path in SCHEDULES:
        for (line, column), char, text in characters(path):
            ours, theirs = grammar[path].get((line, column)), served[path].get((line, column))
            seen[theirs] += 1
            if ours != theirs:
                where = f"{path.name}:{line + 1}:{column + 1}"
                disagreements.append(f"{where} {char!r}: grammar {ours}, server {theirs} in {text.strip()!r}")
    assert disagreements == []
    # Not vacuous: keywords, the parts of patterns and numbers are all there, and most else too.
    expected = {"keyword", "namespace", "operator", "variable", "number", "string", "regexp", "comment"}
    assert expected | {"property", "class", "parameter"} <= {kind for kind in seen if kind}
