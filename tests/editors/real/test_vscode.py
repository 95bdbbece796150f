"""VS Code itself (code-server, in headless Chromium through Playwright) with the freshly built .vsix.

code-server is a remote window: `ftsc.interpreter` (machine-overridable) applies there only from the Remote
settings. The run starts with no interpreter set where the window reads it (not in the User settings either:
code-server applied a machine-overridable User setting in some runs and not in others), so the extension
falls back to `ftsc` on PATH (absent) and must say that the window is remote and to use the Remote settings;
vscode_driver.mjs then writes the Remote settings, the extension restarts the server, and the driver types a
typo and reads the squiggle, Problems, the hover and the inlay hints. A screenshot stays in out/editors/vscode.png. Everything code-server keeps is in a temporary folder;
it listens on 127.0.0.1 only, without authentication.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from real_editors import EXAMPLE, NAMESPACE, OUT, ROOT, installer, layout, require

VSCODE = ROOT / "editors" / "vscode"
DRIVER = Path(__file__).with_name("vscode_driver.mjs")
SCREENSHOT = OUT / "vscode.png"


def built_vsix() -> Path:
    """The .vsix `make vsix` (or `make editors`) built from the current sources."""
    manifest = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    vsix = VSCODE / f"ftsc-{manifest['version']}.vsix"
    require("vscode", [] if vsix.is_file() else [f"{vsix.relative_to(ROOT)} (`make vsix` builds it)"])
    sources = [*VSCODE.glob("src/*.ts"), VSCODE / "package.json", *VSCODE.glob("syntaxes/*.json")]
    stale = [p.name for p in sources if p.stat().st_mtime > vsix.stat().st_mtime]
    assert not stale, f"{vsix.name} is older than {', '.join(stale)}: run `make vsix`"
    return vsix


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def code_server(*args: str, data: Path, env: dict[str, str]) -> list[str]:
    return [
        str(layout.node), str(layout.code_server),
        "--user-data-dir", str(data / "user-data"), "--extensions-dir", str(data / "extensions"),
        "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust",
        *args,
    ]  # fmt: skip


@pytest.fixture
def served(tmp_path: Path) -> Iterator[dict[str, Any]]:
    require("vscode", installer.missing_for_vscode(layout))
    vsix = built_vsix()
    folder = tmp_path / "workspace"
    (folder / "namespaces").mkdir(parents=True)
    (folder / "namespaces" / NAMESPACE.name).write_bytes(NAMESPACE.read_bytes())
    (folder / EXAMPLE.name).write_bytes(EXAMPLE.read_bytes())
    user = tmp_path / "user-data" / "User"
    user.mkdir(parents=True)
    settings = {
        "ftsc.trace.server": "messages",
        "workbench.startupEditor": "none",
        "workbench.tips.enabled": False,
        "editor.inlayHints.enabled": "on",
        "extensions.autoCheckUpdates": False,
        "extensions.autoUpdate": False,
        "telemetry.telemetryLevel": "off",
    }
    (user / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
    machine = tmp_path / "user-data" / "Machine" / "settings.json"
    machine.parent.mkdir(parents=True)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("VSCODE_", "ELECTRON_"))},
        "PATH": "/usr/bin:/bin",  # no `ftsc` (nor this venv) on PATH: only the settings can find it
        "HOME": str(tmp_path / "home"),
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
    }
    started = time.monotonic()
    subprocess.run(
        code_server("--install-extension", str(vsix), data=tmp_path, env=env),
        env=env, check=True, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    installed = time.monotonic() - started
    port = free_port()
    log = (tmp_path / "code-server.log").open("w")
    server = subprocess.Popen(
        code_server("--auth", "none", "--bind-addr", f"127.0.0.1:{port}", str(folder), data=tmp_path, env=env),
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        yield {
            "url": f"http://127.0.0.1:{port}/?folder={folder}",
            "machine": machine,
            "settings": json.dumps({"ftsc.interpreter": sys.executable}),
            "data": tmp_path / "user-data",
            "install_seconds": installed,
        }
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def test_vscode_shows_the_typo_the_hover_and_the_hints(served: dict[str, Any], tmp_path: Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    result = tmp_path / "result.json"
    env = {
        **os.environ,
        "FTSC_PLAYWRIGHT": str(layout.playwright),
        "FTSC_CHROMIUM": str(installer.CHROMIUM),
        "FTSC_URL": served["url"],
        "FTSC_RESULT": str(result),
        "FTSC_SCREENSHOT": str(SCREENSHOT),
        "FTSC_FILE_NAME": EXAMPLE.name,
        "FTSC_MACHINE_SETTINGS": str(served["machine"]),
        "FTSC_SETTINGS_JSON": served["settings"],
    }
    started = time.monotonic()
    done = subprocess.run(
        [str(layout.node), str(DRIVER)], env=env, capture_output=True, text=True, timeout=420, check=False
    )
    print(f"vscode: install {served['install_seconds']:.1f} s, drive {time.monotonic() - started:.1f} s")
    assert result.is_file(), (
        f"the driver wrote nothing (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
    )
    found = json.loads(result.read_text(encoding="utf-8"))
    (OUT / "vscode.json").write_text(json.dumps(found, indent=2), encoding="utf-8")
    assert found["errors"] == [], "\n".join(found["errors"])
    steps = found["steps"]

    assert steps["typo"]["squiggles"] == 1
    assert "classifer" in steps["typo"]["line"]
    problems = [row for row in steps["problems"]["rows"] if "E101" in row]
    assert len(problems) == 1, steps["problems"]["rows"]  # one entry, not one per stream
    assert "did you mean `classifier.*`" in problems[0]
    assert steps["problems"]["status"] == "Errors: 1, Warnings: 1"  # and the example's own W208

    pooler = [
        p["name"]
        for p in json.loads(NAMESPACE.read_text())["parameters"]
        if p["name"].startswith("bert.pooler.")
    ]
    assert f"{len(pooler)} params" in steps["hover"]["text"]
    hints = [hint.replace("\xa0", " ") for hint in steps["inlay_hints"]["hints"]]  # the editor's spaces
    assert "⟵ 2 params · 590.6K elements" in hints  # the typo's thaw: the pooler's two left
    assert len(hints) == 3 and all(hint.startswith("⟵ ") and " params · " in hint for hint in hints)

    traced = "\n".join(p.read_text(errors="replace") for p in served["data"].glob("logs/**/*ftsc*.log"))
    assert "Sending request 'initialize" in traced  # ftsc.trace.server alone turned the trace on

    [remote] = [m for m in steps["remote_error"]["messages"] if "ftsc was not found" in m]
    assert (
        "This window is remote" in remote
        and "set ftsc.interpreter or ftsc.server.command in the Remote settings" in remote
    )
