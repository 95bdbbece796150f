"""`textDocument/hover`, driving the real server as VS Code (UTF-16) and Neovim (UTF-8)."""

from __future__ import annotations

from pathlib import Path

import pytest
from bert_facts import elements, matching
from lsp_support import NAMESPACE, open_document, position_of
from lsprotocol import types
from pytest_lsp import LanguageClient

from ftsc.compiler.settings import SETTINGS

pytestmark = pytest.mark.asyncio

POOLER = r"bert\.pooler\..+"
UPPER = r"bert\.encoder\.layer\.(8|9|10|11)\..+"


def schedule(namespace: Path | None = NAMESPACE) -> str:
    use = f'use namespace "{namespace.as_posix()}"\n' if namespace is not None else ""
    return (
        "fts 1\n" + use + "let layers = bert.encoder.layer\n"
        "defaults { restore_best = true }\n"
        'phase "🙂 head" { thaw bert.pooler.** }\n'
        'phase "upper" {\n    thaw $layers.{8..11}.**\n    lr = 2e-5\n}\n'
        "phase rest_of_model { thaw rest }  # the rest\n"
    )


async def hover_at(client: LanguageClient, uri: str, text: str, offset: int) -> types.Hover | None:
    encoding = client.ftsc_encoding  # type: ignore[attr-defined]
    return await client.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri), position_of(text, offset, encoding))
    )


def markdown(hover: types.Hover | None) -> str:
    assert hover is not None
    assert isinstance(hover.contents, types.MarkupContent)
    assert hover.contents.kind == types.MarkupKind.Markdown
    return hover.contents.value


async def test_selector_after_an_emoji(client: LanguageClient, tmp_path: Path) -> None:
    text = schedule()
    uri = open_document(client, tmp_path / "a.fts", text)
    start = text.index("bert.pooler.**")
    hover = await hover_at(client, uri, text, start + len("bert.po"))
    value = markdown(hover)
    names = matching(POOLER)
    assert f"**{len(names)} params**" in value
    assert f"{elements(names):,} elements" in value
    assert all(f"`{name}`" in value for name in names)
    encoding = client.ftsc_encoding  # type: ignore[attr-defined]
    assert hover is not None
    assert hover.range == types.Range(
        position_of(text, start, encoding), position_of(text, start + len("bert.pooler.**"), encoding)
    )


async def test_variable_shows_its_let_and_matches(client: LanguageClient, tmp_path: Path) -> None:
    text = schedule()
    uri = open_document(client, tmp_path / "a.fts", text)
    value = markdown(await hover_at(client, uri, text, text.index("$layers") + 2))
    below = matching(r"bert\.encoder\.layer\..+")
    assert "let layers = bert.encoder.layer" in value
    assert f"**{len(below)} params**" in value
    assert f"… and {len(below) - 8} more" in value  # the first eight names, then a count


async def test_phase_header_counts_what_it_thaws(client: LanguageClient, tmp_path: Path) -> None:
    text = schedule()
    uri = open_document(client, tmp_path / "a.fts", text)
    value = markdown(await hover_at(client, uri, text, text.index('phase "upper"') + 1))
    upper = matching(UPPER)
    assert value.startswith("**phase 1 `upper`** thaws")
    assert f"**{len(upper)} params** · {elements(upper):,} elements" in value


async def test_settings_show_the_compiler_description(client: LanguageClient, tmp_path: Path) -> None:
    text = schedule()
    uri = open_document(client, tmp_path / "a.fts", text)
    value = markdown(await hover_at(client, uri, text, text.index("lr = 2e-5")))
    assert SETTINGS["lr"].doc in value
    value = markdown(await hover_at(client, uri, text, text.index("restore_best") + 3))
    assert SETTINGS["restore_best"].doc in value
    assert await hover_at(client, uri, text, text.index("# the rest") + 3) is None


async def test_without_namespace_names_are_not_checked(client: LanguageClient, tmp_path: Path) -> None:
    text = schedule(namespace=None)
    uri = open_document(client, tmp_path / "a.fts", text)
    for needle in ("bert.pooler", "$layers", 'phase "upper"'):
        assert "not checked" in markdown(await hover_at(client, uri, text, text.index(needle) + 1))
    assert not [m for m in client.log_messages if m.type == types.MessageType.Error]


async def test_phase_header_shows_its_memory(client: LanguageClient, tmp_path: Path) -> None:
    from ftsc.compiler.memory.budget import format_bytes

    memory = (
        'defaults { memory = { devices = 2, device_memory = "16GiB", optimizer = SGD(momentum = 0.9) } }\n'
    )
    text = schedule().replace("defaults { restore_best = true }\n", memory)
    uri = open_document(client, tmp_path / "a.fts", text)
    value = markdown(await hover_at(client, uri, text, text.index('phase "upper"') + 1))
    trainable = elements(matching(POOLER)) + elements(matching(UPPER))
    assert "**Memory** (per device; ddp, 32-true)" in value
    assert f"| weights | {format_bytes(elements(matching('.+')) * 4)} |" in value
    # fp32 gradients and one momentum buffer per trainable element; DDP's buckets as large as the gradients
    assert f"| gradients | {format_bytes(trainable * 4)} |" in value
    assert f"| optimizer state | {format_bytes(trainable * 4)} |" in value
    assert f"| DDP buckets | {format_bytes(trainable * 4)} |" in value
    assert "| **headroom** |" in value
