"""The editor tests: the real language server as tests/lsp runs it, and where the editor configs live."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest_lsp
from pytest_lsp import ClientServerConfig, LanguageClient

# tests/lsp is not a package: its helpers are imported from its folder.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lsp"))
from lsp_support import SERVER


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def server(lsp_client: LanguageClient):
    """`ftsc lsp`, not yet initialised: each test initialises it as the editor it stands for does."""
    yield
    await lsp_client.shutdown_session()
