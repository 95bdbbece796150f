"""The three editor setups agree: `.fts` files, language id `fts`, the `ftsc lsp` server, and the
settings shape `{"ftsc": {"namespace": …}}` that the server reads (Helix's config, driven for real)."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest
import pytest_lsp
from editor_paths import EDITORS, VSCODE
from lsp_support import NAMESPACE, codes, open_document, published
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

if sys.version_info >= (3, 11):
    import tomllib
else:  # the lsp extra installs tomli there
    import tomli as tomllib

HELIX = tomllib.loads((EDITORS / "helix" / "languages.toml").read_text("utf-8"))
NEOVIM_LSP = (EDITORS / "neovim" / "lsp" / "ftsc.lua").read_text("utf-8")
NEOVIM_FTDETECT = (EDITORS / "neovim" / "ftdetect" / "fts.lua").read_text("utf-8")
VSCODE_MANIFEST = json.loads((VSCODE / "package.json").read_text("utf-8"))


def lua_strings(source: str, field: str) -> list[str]:
    """The strings of `field = { 'a', 'b' }` in a Lua table constructor, outside comments."""
    code = re.sub(r"--[^\n]*", "", source)
    match = re.search(rf"\b{field}\s*=\s*\{{([^}}]*)\}}", code)
    assert match is not None, f"no `{field} = {{ … }}`"
    return re.findall(r"'([^']*)'", match.group(1))


def test_every_editor_opens_fts_files_as_language_fts() -> None:
    [language] = VSCODE_MANIFEST["contributes"]["languages"]
    assert (language["id"], language["extensions"]) == ("fts", [".fts"])
    [helix] = HELIX["language"]
    assert (helix["name"], helix["file-types"], helix["scope"]) == ("fts", ["fts"], "source.fts")
    [grammar] = VSCODE_MANIFEST["contributes"]["grammars"]
    assert grammar["scopeName"] == helix["scope"]
    assert re.search(r"extension\s*=\s*\{\s*fts\s*=\s*'fts'\s*\}", NEOVIM_FTDETECT)
    assert lua_strings(NEOVIM_LSP, "filetypes") == ["fts"]


def test_every_editor_starts_ftsc_lsp() -> None:
    helix = HELIX["language-server"]["ftsc"]
    assert HELIX["language"][0]["language-servers"] == ["ftsc"]
    assert [helix["command"], *helix["args"]] == ["ftsc", "lsp"]
    assert lua_strings(NEOVIM_LSP, "cmd") == ["ftsc", "lsp"]
    # the VS Code client's fallback, in its launch module
    launch = (VSCODE / "src" / "launch.ts").read_text("utf-8")
    assert 'server: { command: "ftsc", args: ["lsp"] }' in launch


def test_comments_are_hash_everywhere() -> None:
    configuration = json.loads((VSCODE / "language-configuration.json").read_text("utf-8"))
    assert configuration["comments"]["lineComment"] == "#"
    assert HELIX["language"][0]["comment-token"] == "#"
    ftplugin = (EDITORS / "neovim" / "ftplugin" / "fts.lua").read_text("utf-8")
    assert "vim.bo.commentstring = '# %s'" in ftplugin


def helix_command() -> list[str]:
    """Helix's command, found as Helix would (PATH), else next to this interpreter (the venv's scripts)."""
    helix = HELIX["language-server"]["ftsc"]
    scripts = str(Path(sys.executable).parent)
    found = shutil.which(helix["command"]) or shutil.which(helix["command"], path=scripts)
    assert found is not None, "the ftsc console script is not installed"
    return [found, *helix["args"]]


@pytest_lsp.fixture(config=ClientServerConfig(server_command=helix_command()))
async def helix(lsp_client: LanguageClient):
    """The server as Helix starts it: its `command` and `args`."""
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio
async def test_the_helix_config_is_what_the_server_reads(helix: LanguageClient, tmp_path: Path) -> None:
    config = HELIX["language-server"]["ftsc"]["config"]
    config["ftsc"]["namespace"] = str(NAMESPACE)  # what a user fills in
    await helix.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),  # a client that declares nothing still gets diagnostics
            root_uri=tmp_path.as_uri(),
            initialization_options=config,
        )
    )
    uri = open_document(helix, tmp_path / "a.fts", "phase { thaw bert.poolr.** }\nphase { thaw rest }\n")
    # checked against the namespace from the config: a typo is E101, not I404 (no namespace)
    assert codes(await published(helix, uri)) == ["E101"]
