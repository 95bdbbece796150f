"""`textDocument/completion`, driving the real server as VS Code (UTF-16) and Neovim (UTF-8), mostly on
text that does not parse: completion is asked for while the user is typing."""

from __future__ import annotations

from pathlib import Path

import pytest
from bert_facts import children
from lsp_support import NAMESPACE, codes, open_document, position_of, published
from lsprotocol import types
from pytest_lsp import LanguageClient

from ftsc.compiler.settings import SETTINGS

pytestmark = pytest.mark.asyncio

HEAD = f'fts 1\nuse namespace "{NAMESPACE.as_posix()}"\nlet layers = bert.encoder.layer\n'


async def complete(client: LanguageClient, tmp_path: Path, text: str) -> list[types.CompletionItem]:
    """Items at the end of `text`, the document's whole content."""
    uri = open_document(client, tmp_path / "a.fts", text)
    encoding = client.ftsc_encoding  # type: ignore[attr-defined]
    result = await client.text_document_completion_async(
        types.CompletionParams(types.TextDocumentIdentifier(uri), position_of(text, len(text), encoding))
    )
    assert not [m for m in client.log_messages if m.type == types.MessageType.Error]
    if result is None:
        return []
    assert isinstance(result, types.CompletionList)
    return [applied_defaults(item, result.item_defaults) for item in result.items]


def applied_defaults(
    item: types.CompletionItem, defaults: types.CompletionItemDefaults | None
) -> types.CompletionItem:
    """The item as a client reads it (LSP 3.17): without an edit of its own, it replaces the list's
    `itemDefaults.editRange` with its `textEditText`, else its label."""
    if item.text_edit is not None or defaults is None or defaults.edit_range is None:
        return item
    assert isinstance(defaults.edit_range, types.Range)
    item.text_edit = types.TextEdit(defaults.edit_range, item.text_edit_text or item.label)
    return item


def labels(items: list[types.CompletionItem]) -> set[str]:
    return {item.label for item in items}


def edit(item: types.CompletionItem) -> types.TextEdit:
    assert isinstance(item.text_edit, types.TextEdit)
    return item.text_edit


async def test_next_segment_after_an_emoji(client: LanguageClient, tmp_path: Path) -> None:
    text = HEAD + 'phase "🙂 head" { thaw bert.'
    items = await complete(client, tmp_path, text)
    assert labels(items) == children("bert")
    cursor = position_of(text, len(text), client.ftsc_encoding)  # type: ignore[attr-defined]
    assert all(edit(item).range == types.Range(cursor, cursor) for item in items)


async def test_a_typed_segment_is_replaced(client: LanguageClient, tmp_path: Path) -> None:
    text = HEAD + 'phase "🙂 head" { thaw bert.po'
    items = await complete(client, tmp_path, text)
    [pooler] = [item for item in items if item.label == "pooler"]
    encoding = client.ftsc_encoding  # type: ignore[attr-defined]
    start = position_of(text, len(text) - len("po"), encoding)
    assert edit(pooler) == types.TextEdit(
        types.Range(start, position_of(text, len(text), encoding)), "pooler"
    )
    assert start.character == {"utf-16": 28, "utf-8": 30}[encoding]  # the emoji: 2 UTF-16 units, 4 bytes


async def test_the_shared_range_is_sent_once_to_clients_that_read_it(
    client: LanguageClient, tmp_path: Path
) -> None:
    """Neovim 0.11 reads `itemDefaults.editRange` (LSP 3.17): the range all 12 layers replace is sent once,
    and items whose text is their label carry nothing more. The VS Code 1.65 profile does not: each item
    has its own edit."""
    text = HEAD + "phase a { thaw $layers.1"
    uri = open_document(client, tmp_path / "a.fts", text)
    encoding = client.ftsc_encoding  # type: ignore[attr-defined]
    result = await client.text_document_completion_async(
        types.CompletionParams(types.TextDocumentIdentifier(uri), position_of(text, len(text), encoding))
    )
    assert isinstance(result, types.CompletionList)
    start, end = position_of(text, len(text) - 1, encoding), position_of(text, len(text), encoding)
    if client.ftsc_name == "neovim":  # type: ignore[attr-defined]
        assert result.item_defaults is not None and result.item_defaults.edit_range == types.Range(start, end)
        assert all(item.text_edit is None for item in result.items)
        assert {item.label for item in result.items} >= {"1", "10", "11"}
    else:
        assert result.item_defaults is None
        assert all(edit(item).range == types.Range(start, end) for item in result.items)


async def test_inside_an_alternation(client: LanguageClient, tmp_path: Path) -> None:
    items = await complete(client, tmp_path, HEAD + "phase a { thaw bert.{pooler,")
    assert labels(items) == children("bert")


async def test_after_a_let_variable(client: LanguageClient, tmp_path: Path) -> None:
    items = await complete(client, tmp_path, HEAD + "phase a { thaw $layers.")
    assert labels(items) == children("bert.encoder.layer")
    assert [item.label for item in items][:3] == ["0", "1", "2"]  # numbers in numeric order
    items = await complete(client, tmp_path, HEAD + "phase a { thaw $layers.{8..11}.")
    assert labels(items) == children("bert.encoder.layer.8")


async def test_broken_text_still_completes(client: LanguageClient, tmp_path: Path) -> None:
    text = HEAD + "phase a { thaw bert.pooler.**\n  lr = = \nphase b {\n  thaw $layers.1.att"
    uri = open_document(client, tmp_path / "broken.fts", text)
    assert "E001" in codes(await published(client, uri))
    items = await complete(client, tmp_path, text)
    assert labels(items) == children("bert.encoder.layer.1")  # the client filters by what is typed
    [attention] = [item for item in items if item.label == "attention"]
    start = position_of(text, len(text) - len("att"), client.ftsc_encoding)  # type: ignore[attr-defined]
    assert edit(attention).range.start == start


async def test_keywords_and_settings_by_place(client: LanguageClient, tmp_path: Path) -> None:
    top = await complete(client, tmp_path, HEAD + "phase a { thaw bert.** }\n")
    assert labels(top) == {"fts", "use", "let", "defaults", "phase"}
    in_phase = await complete(client, tmp_path, HEAD + "phase a {\n  thaw bert.pooler.**\n  ")
    phase_settings = {name for name, spec in SETTINGS.items() if "phase" in spec.where}
    assert labels(in_phase) == {"thaw", "except", "until epoch"} | phase_settings
    in_defaults = await complete(client, tmp_path, HEAD + "defaults {\n  lr = 1e-5\n  ")
    assert labels(in_defaults) == {name for name, spec in SETTINGS.items() if "defaults" in spec.where}
    first = await complete(client, tmp_path, HEAD + "phase a { thaw ")
    assert {"rest", "$layers"} | children("") <= labels(first)
    assert await complete(client, tmp_path, HEAD + "phase a { thaw bert.** }  # bert.") == []


async def test_classes_and_their_arguments(client: LanguageClient, tmp_path: Path) -> None:
    optimizers = labels(await complete(client, tmp_path, HEAD + "defaults {\n  optimizer = "))
    assert {"AdamW", "SGD"} <= optimizers
    assert "Optimizer" not in optimizers  # the base class is refused (E303)
    schedulers = labels(await complete(client, tmp_path, HEAD + "phase a { lr_scheduler = "))
    assert {"CosineAnnealingLR", "StepLR"} <= schedulers
    assert not optimizers & schedulers
    arguments = await complete(client, tmp_path, HEAD + "phase a { optimizer = AdamW(lr = 1e-3, ")
    assert {"lr", "weight_decay", "betas"} <= labels(arguments)
    assert "params" not in labels(arguments)  # the runtime passes the parameter groups
    [decay] = [item for item in arguments if item.label == "weight_decay"]
    assert edit(decay).new_text == "weight_decay = "
