"""The shipped examples compile cleanly (warnings allowed) into plans that fit the schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftsc.compiler.files import compile_file
from ftsc.compiler.schema import validate_plan_data

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.fts"))


def test_there_are_examples_for_several_models() -> None:
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_example_compiles_to_a_valid_plan(path: Path) -> None:
    result = compile_file(path.read_text(encoding="utf-8"), path)
    assert [d for d in result.diagnostics if d.is_error] == []
    assert result.plan is not None
    assert validate_plan_data(result.plan) == []
    phases = result.plan["phases"]
    assert isinstance(phases, list)
    assert all(phase["params"] for phase in phases)
