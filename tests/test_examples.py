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


def test_the_lora_example_thaws_adapters_top_down_then_the_norms_without_a_warning() -> None:
    """examples/bert-lora.fts: no W211 (the norms are named on purpose), no W208 (peft's frozen base
    weights are meant to stay frozen), and each phase holds what its comment says."""
    path = Path(__file__).resolve().parents[1] / "examples" / "bert-lora.fts"
    result = compile_file(path.read_text(encoding="utf-8"), path)
    assert result.diagnostics == []
    assert result.plan is not None
    head, lower, norms = (phase["params"] for phase in result.plan["phases"])
    layer = "base_model.model.bert.encoder.layer"
    assert sorted(head) == sorted(
        [
            "base_model.model.classifier.modules_to_save.default.weight",
            "base_model.model.classifier.modules_to_save.default.bias",
            *(
                f"{layer}.{n}.attention.self.{module}.lora_{ab}.default.weight"
                for n in range(8, 12)
                for module in ("query", "value")
                for ab in "AB"
            ),
        ]
    )
    assert len(lower) == 8 * 4 and all(".lora_" in name and int(name.split(".")[5]) < 8 for name in lower)
    assert len(norms) == 12 * 2 * 2 and all(".LayerNorm." in name for name in norms)
    assert f"{layer}.0.attention.self.query.base_layer.weight" in result.plan["frozen"]
    assert all(".lora_" not in name for name in result.plan["frozen"])
