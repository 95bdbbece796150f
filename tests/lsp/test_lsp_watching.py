"""Namespace and pyproject.toml changes re-check the open documents that use them; stale results are dropped.

VS Code watches files for the server (it registers `**/*.json` and `**/pyproject.toml`), so the tests send
the `workspace/didChangeWatchedFiles` VS Code would send after each write. The Neovim profile (0.11 on
Linux) cannot watch, so the tests send nothing and the server's polling must notice the write alone.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import Sequence
from pathlib import Path

import pytest
import pytest_lsp
from lsp_support import CLIENTS, SERVER, codes, open_document, published, pull, registrations, wait_for
from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

pytestmark = pytest.mark.asyncio

SCHEDULE = "fts 1\n{use}phase head {{ thaw head.** }}\nphase body {{ thaw rest }}\n"
DEBOUNCE_MS = 400


def schedule(namespace: str | None = None) -> str:
    return SCHEDULE.format(use=f'use namespace "{namespace}"\n' if namespace is not None else "")


def write_namespace(path: Path, *names: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"namespace_version": 1, "parameters": [{"name": name} for name in names]}
    path.write_text(json.dumps(data), encoding="utf-8")


def watches(client: LanguageClient) -> bool:
    workspace = client.capabilities.workspace if client.capabilities is not None else None
    capability = workspace.did_change_watched_files if workspace is not None else None
    return bool(capability is not None and capability.dynamic_registration)


def written(
    client: LanguageClient, path: Path, kind: types.FileChangeType = types.FileChangeType.Changed
) -> None:
    """What the client sends after `path` was written: an event from VS Code's watchers, nothing from Neovim."""
    if watches(client):
        event = types.FileEvent(uri=path.as_uri(), type=kind)
        client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[event]))


def no_errors_logged(client: LanguageClient) -> bool:
    return not [m for m in client.log_messages if m.type == types.MessageType.Error]


async def test_watchers_are_registered_when_the_client_can_watch(
    client: LanguageClient, tmp_path: Path
) -> None:
    uri = open_document(client, tmp_path / "a.fts", schedule())
    await pull(client, uri)  # a round trip: a registration sent at `initialized` has arrived by now
    found = [r for r in registrations(client) if r.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES]
    if watches(client):
        [registration] = found
        options = registration.register_options
        assert isinstance(options, dict)
        assert [w["globPattern"] for w in options["watchers"]] == ["**/*.json", "**/pyproject.toml"]
    else:
        assert found == []


async def test_rewriting_the_namespace_rechecks_only_the_documents_using_it(
    client: LanguageClient, tmp_path: Path
) -> None:
    model, other = tmp_path / "ns" / "model.json", tmp_path / "ns" / "other.json"
    write_namespace(model, "body.w")
    write_namespace(other, "body.w")
    (tmp_path / "my schedules").mkdir()  # a space: the URI has `%20` where the path has a space
    uses_model = open_document(client, tmp_path / "my schedules" / "a.fts", schedule("../ns/model.json"))
    uses_other = open_document(client, tmp_path / "b.fts", schedule("ns/other.json"))
    assert codes(await published(client, uses_model)) == ["E101"]
    assert codes(await published(client, uses_other)) == ["E101"]

    client.diagnostics.clear()
    write_namespace(model, "body.w", "head.w")  # the name the E101 missed
    written(client, model)
    assert codes(await published(client, uses_model)) == []
    await asyncio.sleep(1.5)  # longer than a poll: the other document must not be re-checked meanwhile
    assert uses_other not in client.diagnostics

    model.unlink()
    written(client, model, types.FileChangeType.Deleted)
    await wait_for(lambda: codes(client.diagnostics.get(uses_model, [])) == ["E401"])
    assert no_errors_logged(client)


async def test_a_pyproject_change_reassociates(client: LanguageClient, tmp_path: Path) -> None:
    write_namespace(tmp_path / "ns" / "old.json", "body.w")
    write_namespace(tmp_path / "ns" / "complete.json", "body.w", "head.w")
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.ftsc]\nnamespaces = { "*.fts" = "ns/old.json" }\n', encoding="utf-8")
    (tmp_path / "schedules").mkdir()
    uri = open_document(client, tmp_path / "schedules" / "a.fts", schedule())
    assert codes(await published(client, uri)) == ["E101"]

    client.diagnostics.clear()
    pyproject.write_text('[tool.ftsc]\nnamespaces = { "*.fts" = "ns/complete.json" }\n', encoding="utf-8")
    written(client, pyproject)
    assert codes(await published(client, uri)) == []

    # a pyproject.toml created nearer the document takes over (it has no [tool.ftsc]: no namespace)
    client.diagnostics.clear()
    nearer = tmp_path / "schedules" / "pyproject.toml"
    nearer.write_text('[project]\nname = "x"\n', encoding="utf-8")
    written(client, nearer, types.FileChangeType.Created)
    assert codes(await published(client, uri)) == ["I404"]


async def test_saving_a_namespace_open_in_the_editor_rechecks(client: LanguageClient, tmp_path: Path) -> None:
    model = tmp_path / "model.json"
    write_namespace(model, "body.w")
    uri = open_document(client, tmp_path / "a.fts", schedule("model.json"))
    assert codes(await published(client, uri)) == ["E101"]
    namespace_uri = model.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(namespace_uri, "json", 1, model.read_text()))
    )
    assert list((await pull(client, namespace_uri)).items) == []  # never compiled as a schedule

    client.diagnostics.clear()
    write_namespace(model, "body.w", "head.w")
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(namespace_uri))
    )
    assert codes(await published(client, uri)) == []
    assert namespace_uri not in client.diagnostics


async def test_a_namespace_outside_the_workspace_is_polled(
    client: LanguageClient, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("elsewhere") / "model.json"  # tmp_path is the workspace root
    write_namespace(outside, "body.w")
    uri = open_document(client, tmp_path / "a.fts", schedule(outside.as_posix()))
    assert codes(await published(client, uri)) == ["E101"]

    client.diagnostics.clear()
    write_namespace(outside, "body.w", "head.w")  # no watcher covers it, so no client says anything
    assert codes(await published(client, uri)) == []


async def test_changing_the_namespace_setting_rechecks_open_documents(
    client: LanguageClient, tmp_path: Path
) -> None:
    write_namespace(tmp_path / "partial.json", "body.w")
    write_namespace(tmp_path / "complete.json", "body.w", "head.w")
    uri = open_document(client, tmp_path / "a.fts", schedule())
    assert codes(await published(client, uri)) == ["I404"]

    for setting, expected in (("partial.json", ["E101"]), ("complete.json", [])):
        client.diagnostics.clear()
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"ftsc": {"namespace": setting}})
        )
        assert codes(await published(client, uri)) == expected


# --- stale results, with a debounce -----------------------------------------------------------------

_HISTORY: weakref.WeakKeyDictionary[LanguageClient, list[types.PublishDiagnosticsParams]] = (
    weakref.WeakKeyDictionary()
)


def _record_publish(client: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
    client.diagnostics[params.uri] = params.diagnostics
    _HISTORY.setdefault(client, []).append(params)


def recording_client() -> LanguageClient:
    """pytest-lsp's test client that also keeps every publishDiagnostics, not just the last per document."""
    client = LanguageClient(converter_factory=default_converter)
    features = {**DEFAULT_CLIENT_FEATURES, types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: _record_publish}
    register_lsp_features(client, features)
    return client


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER, client_factory=recording_client),
    params=sorted(CLIENTS),
)
async def debounced(lsp_client: LanguageClient, request: pytest.FixtureRequest, tmp_path: Path):
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(CLIENTS[request.param]),
            root_uri=tmp_path.as_uri(),
            initialization_options={"debounceMs": DEBOUNCE_MS},
        )
    )
    yield
    await lsp_client.shutdown_session()


def history(client: LanguageClient, uri: str) -> Sequence[types.PublishDiagnosticsParams]:
    return [params for params in _HISTORY.get(client, []) if params.uri == uri]


async def test_quick_changes_publish_only_the_last_version(debounced: LanguageClient, tmp_path: Path) -> None:
    client = debounced
    write_namespace(tmp_path / "model.json", "body.w")
    uri = open_document(client, tmp_path / "a.fts", schedule("model.json"))
    await wait_for(lambda: len(history(client, uri)) == 1)

    for version in range(2, 7):  # inside one debounce window
        text = schedule("model.json").replace("head.**", f"head{version}.**")
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )
    await wait_for(lambda: any(params.version == 6 for params in history(client, uri)))
    await asyncio.sleep(2 * DEBOUNCE_MS / 1000)  # anything still on its way arrives meanwhile
    assert [params.version for params in history(client, uri)] == [1, 6]
    [typo] = history(client, uri)[-1].diagnostics
    assert "`head6.**`" in typo.message  # compiled from the text of version 6
    assert no_errors_logged(client)
