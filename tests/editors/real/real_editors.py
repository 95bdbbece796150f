"""What the real-editor tests share: where tools/install_editors.py put each editor, and skipping (or, in
CI, failing) by name when a part is missing."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "bert.fts"
NAMESPACE = ROOT / "examples" / "namespaces" / "bert-base.json"
OUT = ROOT / "out" / "editors"  # what a run leaves to look at: logs, the VS Code screenshot


def _installer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("install_editors", ROOT / "tools" / "install_editors.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


installer = _installer()
layout = installer.Layout(installer.cache_root())


def require(editor: str, missing: list[str]) -> None:
    """Skip with what is missing; under CI=true fail instead (CI installs every part)."""
    if not missing:
        return
    message = f"{editor}: missing {', '.join(missing)}; `make real-editors` installs it"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def project_without_root(folder: Path) -> Path:
    """The example schedule without its `use namespace`, beside its namespace, in a folder with no
    pyproject.toml or .git: the editor's relative `namespace` setting must find the file from there."""
    project = folder / "project"
    (project / "namespaces").mkdir(parents=True)
    (project / "namespaces" / NAMESPACE.name).write_bytes(NAMESPACE.read_bytes())
    text = "".join(
        line for line in EXAMPLE.read_text(encoding="utf-8").splitlines(True) if not line.startswith("use ")
    )
    schedule = project / EXAMPLE.name
    schedule.write_text(text, encoding="utf-8")
    return schedule
