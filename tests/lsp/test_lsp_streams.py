"""One diagnostics stream per client, and nothing on stderr in normal use.

Pull goes to a client that pulls and accepts `workspace/diagnostic/refresh` (vscode-languageclient 9+);
push to every other, which is then not offered `textDocument/diagnostic` at all (Neovim 0.11 pulls, but
without refresh support, and would keep both streams apart: each problem twice).
"""

from __future__ import annotations

import asyncio
import json
import weakref
from pathlib import Path

import pytest
import pytest_lsp
from lsp_support import NAMESPACE, SERVER, codes, open_document, pull, wait_for
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

from ftsc.lsp.streams import Stream, stream_for

TYPO = f'fts 1\nuse namespace "{NAMESPACE.as_posix()}"\nlet top = classifer\nphase a {{ thaw $top.* }}\nphase b {{ thaw rest }}\n'
PULLING = "vscode-languageclient"
PROFILES = {  # pytest-lsp's recorded capabilities; the pulling one adds what vscode-languageclient 11 declares
    "neovim": "neovim@v0.11.0",
    "emacs": "emacs@v29.1",
    PULLING: "visual-studio-code",
}


def capabilities(profile: str) -> types.ClientCapabilities:
    declared = client_capabilities(PROFILES[profile])
    if profile == PULLING:
        assert declared.text_document is not None and declared.workspace is not None
        declared.text_document.diagnostic = types.DiagnosticClientCapabilities(related_document_support=False)
        declared.workspace.diagnostics = types.DiagnosticWorkspaceClientCapabilities(refresh_support=True)
    return declared


_REFRESHES: weakref.WeakKeyDictionary[LanguageClient, list[None]] = weakref.WeakKeyDictionary()


def _refresh(client: LanguageClient, params: None) -> None:
    _REFRESHES.setdefault(client, []).append(params)


def refreshing_client() -> LanguageClient:
    """pytest-lsp's client, answering `workspace/diagnostic/refresh` as VS Code does (and counting them)."""
    client = LanguageClient(converter_factory=default_converter)
    register_lsp_features(client, {**DEFAULT_CLIENT_FEATURES, types.WORKSPACE_DIAGNOSTIC_REFRESH: _refresh})
    return client


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER, client_factory=refreshing_client),
    params=sorted(PROFILES),
)
async def editor(lsp_client: LanguageClient, request: pytest.FixtureRequest, tmp_path: Path):
    result = await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities(request.param),
            root_uri=tmp_path.as_uri(),
            initialization_options={"debounceMs": 0},
        )
    )
    lsp_client.ftsc_profile = request.param  # type: ignore[attr-defined]
    lsp_client.ftsc_provider = result.capabilities.diagnostic_provider  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


def test_the_stream_follows_pull_and_refresh_support() -> None:
    assert stream_for(capabilities(PULLING)) is Stream.PULL
    assert stream_for(capabilities("neovim")) is Stream.PUSH  # pulls, cannot be asked to pull again
    assert stream_for(capabilities("emacs")) is Stream.PUSH  # does not pull


@pytest.mark.asyncio
async def test_each_client_gets_one_stream(editor: LanguageClient, tmp_path: Path) -> None:
    uri = open_document(editor, tmp_path / "a.fts", TYPO)
    if editor.ftsc_profile == PULLING:  # type: ignore[attr-defined]
        assert editor.ftsc_provider is not None  # type: ignore[attr-defined]
        assert codes((await pull(editor, uri)).items) == ["E101"]
        await asyncio.sleep(0.5)  # a push, had one been sent, has arrived by now
        assert uri not in editor.diagnostics
    else:
        assert editor.ftsc_provider is None  # type: ignore[attr-defined]
        await wait_for(lambda: uri in editor.diagnostics)
        assert codes(editor.diagnostics[uri]) == ["E101"]


@pytest.mark.asyncio
@pytest.mark.parametrize("editor", [PULLING], indirect=True)  # push clients: test_lsp_watching.py
async def test_a_pulling_client_is_asked_to_pull_again_after_a_recheck(
    editor: LanguageClient, tmp_path: Path
) -> None:
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({"namespace_version": 1, "parameters": [{"name": "classifier.weight"}]}))
    uri = open_document(
        editor, tmp_path / "a.fts", "fts 1\nphase a { thaw bert.pooler.** }\nphase b { thaw rest }\n"
    )
    assert codes((await pull(editor, uri)).items) == ["I404"]
    for setting, expected in (("partial.json", ["E101"]), (NAMESPACE.as_posix(), [])):
        before = len(_REFRESHES.get(editor, []))
        editor.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"ftsc": {"namespace": setting}})
        )
        await wait_for(lambda before=before: len(_REFRESHES.get(editor, [])) == before + 1)
        assert codes((await pull(editor, uri)).items) == expected


@pytest.mark.asyncio
@pytest.mark.parametrize("editor", ["neovim"], indirect=True)  # the client that cancels answered requests
async def test_cancelling_answered_requests_and_refused_renames_log_nothing(
    editor: LanguageClient, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    uri = open_document(editor, tmp_path / "a.fts", TYPO)
    hover = types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(2, 5))
    for number in range(3):  # answered, then cancelled: Neovim cancels what a change made stale
        await editor.protocol.send_request_async(types.TEXT_DOCUMENT_HOVER, hover, msg_id=f"hover-{number}")
        editor.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=f"hover-{number}"))
    with pytest.raises(JsonRpcException, match="2 bad"):
        await editor.text_document_rename_async(
            types.RenameParams(types.TextDocumentIdentifier(uri), types.Position(2, 5), "2 bad")
        )
    await editor.text_document_hover_async(hover)  # a round trip: what the above logged has been sent
    await asyncio.sleep(0.3)  # and the server's stderr, forwarded to this process, has been copied
    assert [m.message for m in editor.log_messages if m.type <= types.MessageType.Warning] == []
    assert capfd.readouterr().err == ""  # editors log a server's stderr as errors
