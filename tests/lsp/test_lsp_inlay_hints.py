"""`textDocument/inlayHint`: a match count after each `thaw`, as VS Code (UTF-16) and Neovim (UTF-8)."""

from __future__ import annotations

from pathlib import Path

import pytest
from bert_facts import NAMES, matching
from lsp_support import NAMESPACE, open_document, position_of
from lsprotocol import types
from pytest_lsp import LanguageClient

pytestmark = pytest.mark.asyncio

THAWS = (
    "thaw bert.pooler.**, classifier.*",
    "thaw bert.encoder.layer.{8..11}.** except bert.encoder.layer.11.output.**",
    "thaw rest",
)


def schedule(namespace: Path | None = NAMESPACE) -> str:
    use = f'use namespace "{namespace.as_posix()}"\n' if namespace is not None else ""
    first, second, third = THAWS
    return (
        f'fts 1\n{use}phase "🙂 head" {{ {first} }}\n'
        f'phase "upper" {{\n    {second}\n    until epoch 3\n}}\n'
        f"phase lower {{ {third} }}\n"
    )


async def hints(client: LanguageClient, uri: str, text: str, start: int, end: int) -> list[types.InlayHint]:
    encoding = client.ftsc_encoding  # type: ignore[attr-defined]
    found = await client.text_document_inlay_hint_async(
        types.InlayHintParams(
            types.TextDocumentIdentifier(uri),
            types.Range(position_of(text, start, encoding), position_of(text, end, encoding)),
        )
    )
    return list(found or [])


async def test_each_thaw_gets_its_count_at_its_end(client: LanguageClient, tmp_path: Path) -> None:
    text = schedule()
    uri = open_document(client, tmp_path / "a.fts", text)
    found = await hints(client, uri, text, 0, len(text))
    head = matching(r"bert\.pooler\..+|classifier\.[^.]+")
    upper = sorted(
        set(matching(r"bert\.encoder\.layer\.(8|9|10|11)\..+")) - set(matching(r".*11\.output\..+"))
    )
    rest = len(NAMES) - len(head) - len(upper)
    assert len(found) == len(THAWS)
    for hint, count in zip(found, [len(head), len(upper), rest], strict=True):
        assert str(hint.label).startswith(f"⟵ {count} params · ")
        assert str(hint.label).endswith(" elements")
    assert isinstance(found[0].tooltip, types.MarkupContent)
    assert all(f"`{name}`" in found[0].tooltip.value for name in head)
    encoding = client.ftsc_encoding  # type: ignore[attr-defined]
    ends = [text.index(thaw) + len(thaw) for thaw in THAWS]
    assert [hint.position for hint in found] == [position_of(text, end, encoding) for end in ends]
    assert found[0].position.character == {"utf-16": 51, "utf-8": 53}[encoding]  # after the emoji


async def test_only_the_requested_range(client: LanguageClient, tmp_path: Path) -> None:
    text = schedule()
    uri = open_document(client, tmp_path / "a.fts", text)
    start = text.index('phase "upper"')
    found = await hints(client, uri, text, start, text.index("phase lower"))
    assert len(found) == 1
    assert str(found[0].label).startswith("⟵ ") and "params" in str(found[0].label)
    encoding = client.ftsc_encoding  # type: ignore[attr-defined]
    assert found[0].position.line == position_of(text, text.index(THAWS[1]), encoding).line


async def test_no_namespace_no_hints(client: LanguageClient, tmp_path: Path) -> None:
    text = schedule(namespace=None)
    uri = open_document(client, tmp_path / "a.fts", text)
    assert await hints(client, uri, text, 0, len(text)) == []
    assert not [m for m in client.log_messages if m.type == types.MessageType.Error]
