"""Paths of the editor integrations, shared by the editor tests."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EDITORS = ROOT / "editors"
VSCODE = EDITORS / "vscode"
EXAMPLES = sorted((ROOT / "examples").glob("*.fts"))
