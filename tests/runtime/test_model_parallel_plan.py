"""The `modelparallelstrategy` adapter's `fsdp_plan` at run time: ModelParallelStrategy on 2 CPU processes
(gloo) shards the plan's modules after `configure_model` — with activation checkpointing where asked, and
leaving alone what the user sharded — and a 3-phase plan runs on the result. Each run is
tests/runtime/model_parallel_plan_case.py as a script (Lightning's launcher re-runs it for rank 1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from launch import run_case_script

GROUPS = [
    ["head.weight", "head.bias"],
    ["backbone.2.weight", "backbone.2.bias"],
    ["backbone.0.weight", "backbone.0.bias"],
]


def run_case(case: str, out: Path) -> list[dict[str, Any]]:
    done = run_case_script("model_parallel_plan_case.py", case, str(out))
    files = [out / f"rank{rank}.json" for rank in (0, 1)]
    assert all(f.exists() for f in files), done.stderr[-4000:]
    return [json.loads(f.read_text()) for f in files]


@pytest.mark.slow
@pytest.mark.parametrize("case", ["planned", "user-head"])
def test_plan_shards_the_model_and_three_phases_run(tmp_path: Path, case: str) -> None:
    for result in run_case(case, tmp_path):
        assert "error" not in result, result
        # backbone.1/3 (ReLU) hold no parameters and are passed over; `head` is a unit either way
        assert result["sharded"] == ["backbone", "backbone.0", "backbone.2", "head"]
        assert result["wrapped"] == ["backbone.2"]
        assert result["dtensors"]
        assert result["depths"] == [0, 1, 2]
        assert result["groups"] == GROUPS
        assert result["trained"]


@pytest.mark.slow
def test_plan_entry_inside_a_module_the_user_sharded_is_refused(tmp_path: Path) -> None:
    for result in run_case("nested", tmp_path):
        error = result.get("error", "")
        assert error.startswith('RuntimeConfigError: `fsdp_plan` entry "backbone.0"'), result
        assert "inside `backbone`, which configure_model already sharded" in error


def test_entry_options_become_fully_shard_arguments() -> None:
    from torch.distributed.fsdp import CPUOffloadPolicy

    from ftsc.runtime.fsdp2_plan import fully_shard_kwargs

    kwargs = fully_shard_kwargs(
        {"reshard_after_forward": False, "cpu_offload_policy": {"pin_memory": False}}, "x"
    )
    assert kwargs["reshard_after_forward"] is False
    assert isinstance(kwargs["offload_policy"], CPUOffloadPolicy)
    assert kwargs["offload_policy"].pin_memory is False
    assert "offload_policy" not in fully_shard_kwargs({"cpu_offload_policy": False}, "x")


def test_unknown_entry_option_is_refused_with_the_accepted_ones() -> None:
    from ftsc.runtime.errors import RuntimeConfigError
    from ftsc.runtime.fsdp2_plan import fully_shard_kwargs

    with pytest.raises(
        RuntimeConfigError, match=r'entry "layers\.\*": `reshard` is not a `fully_shard` argument'
    ):
        fully_shard_kwargs({"reshard": True}, "layers.*")
