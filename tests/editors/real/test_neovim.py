"""A real Neovim 0.11 (headless), set up as docs/editors.md tells users, editing a schedule with `ftsc lsp`.

neovim_driver.lua does what a user does and records what Neovim then holds; the assertions are here. Each
run has its own XDG config/data/state/cache folders, and Neovim starts in a folder other than the
schedule's, with no pyproject.toml or .git anywhere: the relative `namespace` setting must be resolved
against the document's folder (no workspace), not Neovim's working directory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from real_editors import NAMESPACE, OUT, ROOT, installer, layout, project_without_root, require

from ftsc.format.formatter import format_text

DRIVER = Path(__file__).with_name("neovim_driver.lua")
TYPO_LINE = 'phase "tête" { thaw classifer.*, bert.pooler.**'

INIT_LUA = """\
vim.opt.runtimepath:append({runtime})
local capabilities = vim.lsp.protocol.make_client_capabilities()
capabilities.general.positionEncodings = {{ {encoding} }}
vim.lsp.config('ftsc', {{
  cmd = {{ {python}, '-m', 'ftsc', 'lsp' }},
  settings = {{ ftsc = {{ namespace = 'namespaces/bert-base.json' }} }},
  capabilities = capabilities,
}})
vim.lsp.enable('ftsc')
"""


def lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a Lua one for these values (no `\u` escapes)


def run_neovim(tmp_path: Path, encoding: str) -> dict[str, Any]:
    require("neovim", installer.missing_for_neovim(layout))
    schedule = project_without_root(tmp_path)
    home = tmp_path / "xdg"
    config = home / "config" / "nvim"
    config.mkdir(parents=True)
    (config / "init.lua").write_text(
        INIT_LUA.format(
            runtime=lua_string(str(ROOT / "editors" / "neovim")),
            encoding=lua_string(encoding),
            python=lua_string(sys.executable),
        ),
        encoding="utf-8",
    )
    elsewhere = tmp_path / "elsewhere"  # Neovim's working directory: never what the setting is relative to
    elsewhere.mkdir()
    result = tmp_path / "result.json"
    env = {
        **os.environ,
        **{f"XDG_{kind.upper()}_HOME": str(home / kind) for kind in ("config", "data", "state", "cache")},
        "FTSC_FILE": str(schedule),
        "FTSC_RESULT": str(result),
    }
    started = time.monotonic()
    done = subprocess.run(
        [str(layout.nvim), "--headless", "-c", f"luafile {DRIVER}"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    print(f"neovim ({encoding}): {time.monotonic() - started:.1f} s")
    assert result.is_file(), f"nvim wrote no result (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
    found: dict[str, Any] = json.loads(result.read_text(encoding="utf-8"))
    log = Path(found["log_file"])
    found["log"] = log.read_text(encoding="utf-8") if log.is_file() else ""
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"neovim-{encoding}-lsp.log").write_text(found["log"], encoding="utf-8")
    (OUT / f"neovim-{encoding}.json").write_text(json.dumps(found, indent=2), encoding="utf-8")
    return found


def codes(diagnostics: list[dict[str, Any]]) -> list[str]:
    return sorted(d["code"] for d in diagnostics)


def pooler_names() -> list[str]:
    data = json.loads(NAMESPACE.read_text(encoding="utf-8"))
    return [p["name"] for p in data["parameters"] if p["name"].startswith("bert.pooler.")]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_neovim_edits_a_schedule_with_the_shipped_config(tmp_path: Path, encoding: str) -> None:
    found = run_neovim(tmp_path, encoding)
    steps = found["steps"]
    failed = {name: step["error"] for name, step in steps.items() if "error" in step}
    assert not failed, failed

    attach = steps["attach"]
    assert attach["filetype"] == "fts"
    assert attach["offset_encoding"] == encoding
    assert attach["root_dir"] is None  # no pyproject.toml or .git: no workspace at all
    assert attach["pulls"] is False  # Neovim 0.11 pulls without refresh: served by push alone

    # the setting found namespaces/ beside the schedule: only the example's own W208 (embeddings frozen)
    assert codes(steps["clean"]["diagnostics"]) == ["W208"]

    typo = steps["typo"]
    assert typo["line"] == TYPO_LINE
    assert codes(typo["diagnostics"]) == ["E101", "W208"]  # once each, not once per stream
    [diagnostic] = [d for d in typo["diagnostics"] if d["code"] == "E101"]
    start = TYPO_LINE.encode().index(b"classifer")  # Neovim holds byte columns, whatever was negotiated
    row = found["original"].split("\n").index("phase head {")
    assert (diagnostic["code"], diagnostic["lnum"], diagnostic["end_lnum"]) == ("E101", row, row)
    assert (diagnostic["col"], diagnostic["end_col"]) == (start, start + len("classifer.*"))
    assert "did you mean `classifier.*`" in diagnostic["message"]
    assert typo["counts"] == [1, 1]  # vim.diagnostic.count: one error, one warning

    names = pooler_names()
    assert f"**{len(names)} params**" in steps["hover"]["value"]
    assert all(f"`{name}`" in steps["hover"]["value"] for name in names)
    completion = steps["completion"]
    assert "dense" in completion["labels"]
    # Neovim 0.11 declares itemDefaults: the range is sent once, and Neovim's own completion puts it back
    # on every item, inserting the segment over an empty range at the cursor (after `bert.pooler.`).
    shared = completion["shared_range"]
    assert shared is not None and shared["start"] == shared["end"]
    assert completion["words"]["dense"] == {"word": "dense", "range": shared}

    assert steps["quickfix"]["line"] == TYPO_LINE.replace("classifer", "classifier")
    assert codes(steps["quickfix"]["diagnostics"]) == ["W208"]
    assert codes(steps["typing"]["diagnostics"]) == ["W208"]

    form = steps["format"]
    assert form["formatted"] != form["damaged"]
    assert form["formatted"] + "\n" == format_text(form["damaged"] + "\n").text

    before = form["formatted"]  # the text the rename starts from; the comment's "layers" is no name
    assert steps["rename"]["text"] == before.replace("let layers", "let blocks").replace("$layers", "$blocks")

    [shown] = steps["refused_rename"]["shown"]
    assert shown["level"] == 4  # vim.log.levels.ERROR: the user sees why
    assert "-32803" in shown["message"] and "cannot be a `let` name" in shown["message"]
    assert steps["refused_rename"]["text_unchanged"]

    errors = [line for line in found["log"].splitlines() if line.startswith("[ERROR]")]
    assert errors == []  # nothing on the server's stderr, no failed request, in all of the above
