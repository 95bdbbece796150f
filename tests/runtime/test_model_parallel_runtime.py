"""ModelParallelStrategy (FSDP2, DTensor parameters) on 2 CPU processes with gloo: a 3-phase plan with
transitions, distributed checkpoints, and an exact resume — every group's optimizer state included.

The trap guarded here: ModelParallel loads the optimizer state into the optimizer as it is before callbacks
are restored, silently dropping the state of groups it lacks; the callback builds the checkpoint's layout
first. Each run is tests/runtime/model_parallel_case.py as a script (Lightning's launcher re-runs it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from launch import assert_same_rank_states, run_case_script


def run(label: str, out: Path, epochs: int, ckpt: Path | None = None) -> list[dict[str, Any]]:
    done = run_case_script(
        "model_parallel_case.py", label, str(out), str(epochs), *([str(ckpt)] if ckpt else [])
    )
    files = [out / f"{label}-rank{rank}.pt" for rank in (0, 1)]
    assert all(f.exists() for f in files), done.stderr[-4000:]
    return [torch.load(f, weights_only=False) for f in files]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return run("whole", tmp_path_factory.mktemp("mp-whole"), 5)


@pytest.mark.slow
def test_three_phases_run_sharded(uninterrupted: list[dict[str, Any]]) -> None:
    for rank_state in uninterrupted:
        layout = [rank_state[key] for key in sorted(k for k in rank_state if k.startswith("group."))]
        assert [names for names, _ in layout] == [
            ["head.weight", "head.bias"],
            ["backbone.2.weight", "backbone.2.bias"],
            ["backbone.0.weight", "backbone.0.bias"],
        ]
        assert [lr for _, lr in layout] == [0.05, 0.05, 0.01]
        # every group trained: Adam state exists for the parameters of all three phases
        assert "optim.backbone.0.weight.exp_avg" in rank_state


# after epoch 0 a transition is next; after epoch 1 the run is mid-phase
@pytest.mark.slow
@pytest.mark.parametrize("split_after", [0, 1])
def test_resume_restores_every_group_exactly(
    uninterrupted: list[dict[str, Any]], tmp_path: Path, split_after: int
) -> None:
    run("first", tmp_path, split_after + 1)
    checkpoint = tmp_path / "ckpt" / f"epoch={split_after}.ckpt"
    assert (checkpoint / "meta.pt").is_file()  # a distributed checkpoint folder
    resumed = run("resumed", tmp_path, 5, checkpoint)
    assert_same_rank_states(uninterrupted, resumed)
