"""The server keeps serving whatever it is sent: requests whose params do not deserialize get InvalidParams,
a slow compile never blocks other documents, hover or shutdown and is superseded by the next edit, and a
compile that fails inside ftsc becomes an E000 diagnostic on the document and a log line."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsp_support import CLIENTS, NAMESPACE, open_document, published
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

pytestmark = pytest.mark.asyncio

SLOW_SERVER = [sys.executable, str(Path(__file__).with_name("slow_server.py"))]
GOOD = f'use namespace "{NAMESPACE.as_posix()}"\nphase head {{ thaw classifier.* }}\nphase body {{ thaw rest }}\n'
ANSWER_WITHIN = 5.0  # seconds; generous for a shared machine, yet a request never answered fails


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SLOW_SERVER), params=sorted(CLIENTS))
async def client(lsp_client: LanguageClient, request: pytest.FixtureRequest, tmp_path: Path):
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(CLIENTS[request.param]),
            root_uri=tmp_path.as_uri(),
            initialization_options={"debounceMs": 0},
        )
    )
    yield
    await asyncio.wait_for(lsp_client.shutdown_session(), ANSWER_WITHIN)


def hover_params(uri: str, line: Any, character: Any) -> dict[str, Any]:
    return {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}


@pytest.mark.parametrize(
    ("method", "params"),
    [
        (types.TEXT_DOCUMENT_HOVER, hover_params("{uri}", -1, 0)),
        (types.TEXT_DOCUMENT_HOVER, hover_params("{uri}", 0, 2**31)),
        (types.TEXT_DOCUMENT_HOVER, hover_params("{uri}", "one", 0)),
        (types.TEXT_DOCUMENT_COMPLETION, {"textDocument": {"uri": "{uri}"}, "position": [0, 0]}),
        (
            types.TEXT_DOCUMENT_FORMATTING,
            {"textDocument": {"uri": "{uri}"}, "options": {"tabSize": -1, "insertSpaces": True}},
        ),
    ],
    ids=["negative-line", "character-2^31", "line-a-string", "position-a-list", "tabSize-negative"],
)
async def test_params_that_do_not_deserialize_get_invalid_params(
    client: LanguageClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    params: dict[str, Any],
) -> None:
    uri = open_document(client, tmp_path / "a.fts", GOOD)
    filled = _fill(params, uri)
    protocol = client.protocol
    known = protocol.get_message_type
    # send the params as they are: the client would otherwise build (and refuse) the typed request itself
    monkeypatch.setattr(protocol, "get_message_type", lambda name: None if name == method else known(name))
    with pytest.raises(JsonRpcInvalidParams) as caught:
        await asyncio.wait_for(protocol.send_request_async(method, filled), ANSWER_WITHIN)
    monkeypatch.undo()
    assert method in caught.value.message
    hover = await asyncio.wait_for(  # and the server goes on answering
        client.text_document_hover_async(
            types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(1, 20))
        ),
        ANSWER_WITHIN,
    )
    assert hover is not None


def _fill(value: Any, uri: str) -> Any:
    if isinstance(value, dict):
        return {key: _fill(item, uri) for key, item in value.items()}
    return uri if value == "{uri}" else value


async def test_a_slow_compile_blocks_neither_other_documents_nor_hover_and_is_superseded(
    client: LanguageClient, tmp_path: Path
) -> None:
    slow = open_document(client, tmp_path / "slow.fts", "# SLOW_COMPILE\n" + GOOD)
    await asyncio.sleep(0.3)  # the slow compile has started
    fast = open_document(client, tmp_path / "fast.fts", GOOD)
    assert list(await asyncio.wait_for(published(client, fast), ANSWER_WITHIN)) == []
    started = time.monotonic()
    hover = await client.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(fast), types.Position(1, 20))
    )
    assert hover is not None and time.monotonic() - started < 1.0
    assert slow not in client.diagnostics  # still compiling
    client.text_document_did_change(  # the edit supersedes the slow compile: its own result comes at once
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=2, uri=slow),
            [types.TextDocumentContentChangeWholeDocument("phase a { thaw nothing.here }\n" + GOOD)],
        )
    )
    diagnostics = await asyncio.wait_for(published(client, slow), ANSWER_WITHIN)
    assert "E101" in {str(d.code) for d in diagnostics}


async def test_shutdown_is_answered_while_a_compile_runs(client: LanguageClient, tmp_path: Path) -> None:
    open_document(client, tmp_path / "slow.fts", "# SLOW_COMPILE\n" + GOOD)
    await asyncio.sleep(0.3)
    # the fixture's shutdown and exit must be answered within ANSWER_WITHIN although the compile spins


async def test_a_compile_that_fails_inside_ftsc_is_e000_and_a_log_line(
    client: LanguageClient, tmp_path: Path
) -> None:
    uri = open_document(client, tmp_path / "crash.fts", "# CRASH_COMPILE\n" + GOOD)
    diagnostics = await asyncio.wait_for(published(client, uri), ANSWER_WITHIN)
    assert [str(d.code) for d in diagnostics] == ["E000"]
    assert "RuntimeError: simulated failure inside the compiler" in diagnostics[0].message
    assert any(
        m.type == types.MessageType.Error and "simulated failure" in m.message for m in client.log_messages
    )
    fine = open_document(client, tmp_path / "fine.fts", GOOD)  # and the server keeps serving
    assert list(await asyncio.wait_for(published(client, fine), ANSWER_WITHIN)) == []
