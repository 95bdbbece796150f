"""`textDocument/codeAction`, driving the real server as VS Code (UTF-16) and Neovim (UTF-8)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from lsp_support import NAMESPACE, apply_edits, codes, open_document, position_of, published, replace_text
from lsprotocol import types
from pytest_lsp import LanguageClient

from ftsc.compiler.compile import compile_schedule
from ftsc.compiler.files import load_cached

pytestmark = pytest.mark.asyncio

USE = f'use namespace "{NAMESPACE.as_posix()}"\n'
# The emoji makes every position after it on its line differ between UTF-16 and UTF-8.
HEAD = "fts 1\n" + USE + 'phase "🙂 head" {{ thaw {selector} }}\n'


async def actions_for(
    client: LanguageClient,
    uri: str,
    text: str,
    span: tuple[int, int],
    diagnostics: Sequence[types.Diagnostic] = (),
    only: Sequence[str] | None = None,
) -> list[types.CodeAction]:
    encoding = client.ftsc_encoding  # type: ignore[attr-defined]
    where = types.Range(position_of(text, span[0], encoding), position_of(text, span[1], encoding))
    found = await client.text_document_code_action_async(
        types.CodeActionParams(
            types.TextDocumentIdentifier(uri),
            where,
            types.CodeActionContext(diagnostics=list(diagnostics), only=list(only) if only else None),
        )
    )
    assert found is not None
    return [action for action in found if isinstance(action, types.CodeAction)]


def applied(client: LanguageClient, uri: str, text: str, action: types.CodeAction) -> str:
    assert action.edit is not None and action.edit.changes is not None
    assert list(action.edit.changes) == [uri]
    return apply_edits(text, action.edit.changes[uri], client.ftsc_encoding)  # type: ignore[attr-defined]


def thawed(text: str) -> list[list[str]]:
    result = compile_schedule(text, load_cached(NAMESPACE))
    assert result.plan is not None, [d.message for d in result.diagnostics]
    return [phase["params"] for phase in result.plan["phases"]]  # type: ignore[attr-defined, index]


async def test_a_typo_fix_after_an_emoji(client: LanguageClient, tmp_path: Path) -> None:
    text = HEAD.format(selector="bert.poolr.**") + "phase rest { thaw rest }\n"
    uri = open_document(client, tmp_path / "a.fts", text)
    [typo] = [d for d in await published(client, uri) if d.code == "E101"]
    start = text.index("bert.poolr")
    [action] = await actions_for(client, uri, text, (start, start), [typo])
    assert action.title == "Replace with `pooler`"
    assert action.kind == types.CodeActionKind.QuickFix
    assert list(action.diagnostics or ()) == [typo]
    assert action.is_preferred
    fixed = applied(client, uri, text, action)
    assert fixed == text.replace("bert.poolr.**", "bert.pooler.**")
    assert codes(await replace_text(client, uri, fixed, 2)) == []


async def test_fixes_of_two_segments_are_one_action(client: LanguageClient, tmp_path: Path) -> None:
    text = HEAD.format(selector="bert.encodr.layr.**") + "phase rest { thaw rest }\n"
    uri = open_document(client, tmp_path / "a.fts", text)
    [typo] = [d for d in await published(client, uri) if d.code == "E101"]
    assert len(typo.data["fixes"]) == 2
    start = text.index("bert.encodr")
    [action] = await actions_for(client, uri, text, (start, start), [typo])
    assert action.title == "Replace with `bert.encoder.layer.**`"
    assert applied(client, uri, text, action) == text.replace("encodr.layr", "encoder.layer")


async def test_alternative_classes_are_separate_actions(client: LanguageClient, tmp_path: Path) -> None:
    text = (
        HEAD.format(selector="bert.pooler.**")
        + 'phase "tail" { thaw rest\n    optimizer = Adamw(lr = 1e-3) }\n'
    )
    uri = open_document(client, tmp_path / "a.fts", text)
    [wrong] = [d for d in await published(client, uri) if d.code == "E303"]
    start = text.index("Adamw")
    found = await actions_for(client, uri, text, (start, start), [wrong])
    assert [action.title for action in found] == [fix["title"] for fix in wrong.data["fixes"]]
    assert len(found) > 1
    assert not any(action.is_preferred for action in found)
    assert "optimizer = AdamW(lr = 1e-3)" in applied(client, uri, text, found[0])


async def test_never_thawed_gets_a_last_rest_phase(client: LanguageClient, tmp_path: Path) -> None:
    text = HEAD.format(selector="bert.pooler.**") + "phase rest { thaw classifier.* }"  # no final newline
    uri = open_document(client, tmp_path / "a.fts", text)
    [never] = [d for d in await published(client, uri) if d.code == "W208"]
    [action] = await actions_for(client, uri, text, (0, 0), [never], only=[types.CodeActionKind.QuickFix])
    assert action.title == "Add a last phase `rest_2` that thaws the rest"  # `rest` is taken
    fixed = applied(client, uri, text, action)
    assert fixed == text + "\n\nphase rest_2 {\n    thaw rest\n}\n"
    assert codes(await replace_text(client, uri, fixed, 2)) == []


async def test_no_rest_phase_where_it_would_be_an_error(client: LanguageClient, tmp_path: Path) -> None:
    text = HEAD.format(selector="rest except bert.embeddings.**") + "phase b { thaw classifier.* }\n"
    uri = open_document(client, tmp_path / "a.fts", text)
    [never] = [d for d in await published(client, uri) if d.code == "W208"]
    assert await actions_for(client, uri, text, (0, 0), [never]) == []  # a second `rest` would be E202
    only_epochs = "defaults { epoch_transitions_only = true }\n" + HEAD.format(selector="bert.pooler.**")
    uri = open_document(client, tmp_path / "b.fts", only_epochs)
    [never] = [d for d in await published(client, uri) if d.code == "W208"]
    assert await actions_for(client, uri, only_epochs, (0, 0), [never]) == []  # phase 0 has no `until`: E206


async def test_a_regex_becomes_the_pattern_that_selects_the_same(
    client: LanguageClient, tmp_path: Path
) -> None:
    regex = r're"bert\.encoder\.layer\.1[01]?\.attention\..*"'
    text = HEAD.format(selector=f"classifier.*, {regex}") + "phase rest { thaw rest }\n"
    uri = open_document(client, tmp_path / "a.fts", text)
    assert codes(await published(client, uri)) == []
    inside = text.index(regex) + 5
    [action] = await actions_for(client, uri, text, (inside, inside))
    assert action.kind == types.CodeActionKind.RefactorRewrite
    assert action.title == "Replace the regex with `bert.encoder.layer.{1,10..11}.attention.**`"
    rewritten = applied(client, uri, text, action)
    assert "bert.encoder.layer.{1,10..11}.attention.**" in rewritten
    assert 're"' not in rewritten
    assert thawed(rewritten) == thawed(text)
    assert codes(await replace_text(client, uri, rewritten, 2)) == []


async def test_regex_actions_respect_only_and_the_range(client: LanguageClient, tmp_path: Path) -> None:
    regex = r're"bert\.pooler\..*"'
    text = HEAD.format(selector=regex) + "phase rest { thaw rest }\n"
    uri = open_document(client, tmp_path / "a.fts", text)
    assert codes(await published(client, uri)) == []
    inside = text.index(regex) + 3
    assert await actions_for(client, uri, text, (inside, inside), only=[types.CodeActionKind.QuickFix]) == []
    elsewhere = text.index("phase rest")
    assert await actions_for(client, uri, text, (elsewhere, elsewhere)) == []
    [action] = await actions_for(client, uri, text, (inside, inside), only=[types.CodeActionKind.Refactor])
    assert action.title == "Replace the regex with `bert.pooler.**`"


async def test_a_regex_no_pattern_can_say_is_left_alone(client: LanguageClient, tmp_path: Path) -> None:
    names = load_cached(NAMESPACE).names
    scattered = "|".join(names[position].replace(".", r"\.") for position in range(3, 200, 17))
    text = HEAD.format(selector=f're"{scattered}"') + "phase rest { thaw rest }\n"
    uri = open_document(client, tmp_path / "a.fts", text)
    assert codes(await published(client, uri)) == []
    inside = text.index('re"') + 3
    assert await actions_for(client, uri, text, (inside, inside)) == []
