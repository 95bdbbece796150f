"""What a relative `ftsc.namespace` setting is relative to: the document's workspace folder, else the first
workspace folder, else (no workspace) the document's own folder; never the server's working directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftsc.lsp.namespaces import setting_base, setting_path


def test_the_innermost_workspace_folder_holding_the_document(tmp_path: Path) -> None:
    outer, inner = tmp_path / "repo", tmp_path / "repo" / "sub"
    document = inner / "schedules" / "a.fts"
    assert setting_base(document, [outer, inner]) == inner
    assert setting_base(document, [inner, outer]) == inner


def test_a_document_outside_every_folder_uses_the_first_folder(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    assert setting_base(tmp_path / "elsewhere" / "a.fts", [first, second]) == first


def test_without_a_workspace_the_documents_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the editor's working directory is never the base
    document = tmp_path / "project" / "a.fts"
    base = setting_base(document, [])
    assert base == document.parent
    assert setting_path("namespaces/bert.json", base) == tmp_path / "project" / "namespaces" / "bert.json"
    assert setting_path("/abs/bert.json", base) == Path("/abs/bert.json")


def test_an_unsaved_document_without_a_workspace_has_only_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert setting_base(None, []) == tmp_path
    assert setting_base(None, [tmp_path / "ws"]) == tmp_path / "ws"
