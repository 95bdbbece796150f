"""The `client` fixture: the real `ftsc lsp` process, initialised once as VS Code and once as Neovim."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_lsp
from lsp_support import CLIENTS, SERVER
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER),
    params=sorted(CLIENTS),
)
async def client(lsp_client: LanguageClient, request: pytest.FixtureRequest, tmp_path: Path):
    name = request.param
    result = await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(CLIENTS[name]),
            root_uri=tmp_path.as_uri(),
            initialization_options={"debounceMs": 0},
        )
    )
    lsp_client.ftsc_name = name  # type: ignore[attr-defined]
    lsp_client.ftsc_encoding = result.capabilities.position_encoding  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()
