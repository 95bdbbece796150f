"""FSDP1 (Lightning's FSDPStrategy) on 2 CPU processes with gloo, through the test-only CPUFSDPStrategy
(tests/runtime/fsdp_cpu.py): a 3-phase plan with restore_best runs with `use_orig_params` true (names carry
`_fsdp_wrapped_module.`) and false (plan names map to the FlatParameters holding them), and a plan that splits
a flat unit across phases is refused before training (the run-time E403). Each run is
tests/runtime/fsdp_case.py as a script (Lightning's launcher re-runs it for rank 1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch.distributed as dist
from launch import run_case_script

NAMES = [
    "backbone.0.bias",
    "backbone.0.weight",
    "backbone.2.bias",
    "backbone.2.weight",
    "head.bias",
    "head.weight",
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(), reason="needs gloo"),
]


def run_case(case: str, params: str, out: Path) -> list[dict[str, Any]]:
    done = run_case_script("fsdp_case.py", case, params, str(out))
    files = [out / f"{case}-rank{rank}.json" for rank in (0, 1)]
    assert all(f.exists() for f in files), done.stderr[-4000:]
    return [json.loads(f.read_text()) for f in files]


@pytest.mark.parametrize("params", ["orig", "flat"])
def test_three_phases_run_under_fsdp1(tmp_path: Path, params: str) -> None:
    results = run_case("phases", params, tmp_path)
    for result in results:
        assert "error" not in result, result
        assert result["depths"] == [0, 1, 2]
        assert result["groups"] == [
            ["head.bias", "head.weight"],
            ["backbone.2.bias", "backbone.2.weight"],
            ["backbone.0.bias", "backbone.0.weight"],
        ]
        assert result["lrs"] == [0.05, 0.05, 0.01]
        assert result["trainable"] == NAMES
    # every group trained (under use_orig_params a rank may hold none of a small tensor's elements)
    assert sorted({name for result in results for name in result["stepped"]}) == NAMES


def test_a_flat_unit_split_across_phases_is_refused_before_training(tmp_path: Path) -> None:
    for result in run_case("split", "flat", tmp_path):
        error = result.get("error", "")
        assert error.startswith("RuntimeConfigError: E403: with use_orig_params=False, 1 FSDP unit(s)"), (
            result
        )
        assert "unit `head` holds 2 parameters" in error
        assert "thawed by phase 0 `head` (e.g. `head.weight`)" in error
        assert "thawed by phase 1 `upper` (e.g. `head.bias`)" in error
        assert "ftsc check --adapter fsdp" in error
