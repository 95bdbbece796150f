"""FSDP1 through the test-only CPUFSDPStrategy (2 CPU processes, gloo, `state_dict_type="sharded"`): a
3-phase plan with checkpoints resumes exactly, with `use_orig_params` true and false — every parameter and
every optimizer-state tensor of every group, per rank, equal to an uninterrupted run's.

The trap guarded here: FSDPStrategy restores a checkpoint after `on_fit_start` and loads its optimizer state
(`FSDP.optim_state_dict_to_load`) into the optimizer as it is, before callbacks are restored; the callback
builds the checkpoint's group layout first. Runs are tests/runtime/fsdp_case.py's `resume` mode as a script;
the uninterrupted run keeps every epoch's checkpoint, and each split resumes from one of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
import torch.distributed as dist
from launch import assert_same_rank_states, run_case_script

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(), reason="needs gloo"),
]

PARAMS = ("orig", "flat")


def run(params: str, out: Path, label: str, ckpt: Path | None = None) -> list[dict[str, Any]]:
    done = run_case_script("fsdp_case.py", "resume", params, str(out), label, *([str(ckpt)] if ckpt else []))
    files = [out / f"{label}-rank{rank}.pt" for rank in (0, 1)]
    assert all(f.exists() for f in files), done.stderr[-4000:]
    return [torch.load(f, weights_only=False) for f in files]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, list[dict[str, Any]]]]:
    """One uninterrupted 4-epoch run per `use_orig_params` value: its folder (checkpoints) and snapshots."""
    runs = {}
    for params in PARAMS:
        out = tmp_path_factory.mktemp(f"fsdp-{params}")
        runs[params] = (out, run(params, out, "whole"))
    return runs


def layout(rank_state: dict[str, Any]) -> list[tuple[list[str], float]]:
    return [rank_state[key] for key in sorted(k for k in rank_state if k.startswith("group."))]


@pytest.mark.parametrize("params", PARAMS)
def test_every_phase_trains_under_fsdp1(
    uninterrupted: dict[str, tuple[Path, list[dict[str, Any]]]], params: str
) -> None:
    ranks = uninterrupted[params][1]
    for rank_state in ranks:
        groups = layout(rank_state)
        assert [lr for _, lr in groups] == [0.05, 0.05, 0.01]
        # one group per phase, in phase order: head, backbone.2, backbone.0 (FSDP1 names)
        units = [{name.split("._fsdp_wrapped_module.")[0] for name in names} for names, _ in groups]
        assert units == [{"head"}, {"backbone.2"}, {"backbone.0"}]
    # every group stepped: Adam state for the parameters of all three phases (on some rank: under
    # use_orig_params a rank may hold none of a small parameter's elements)
    for names, _ in layout(ranks[0]):
        for name in names:
            assert any(f"optim.{name}.exp_avg" in rank_state for rank_state in ranks), name


# after epoch 0 a transition is next; after epoch 1 the run is in the middle of phase 1
@pytest.mark.parametrize("params", PARAMS)
@pytest.mark.parametrize("split_after", [0, 1])
def test_resume_restores_every_group_exactly(
    uninterrupted: dict[str, tuple[Path, list[dict[str, Any]]]], tmp_path: Path, params: str, split_after: int
) -> None:
    whole, expected_ranks = uninterrupted[params]
    (checkpoint,) = (whole / "checkpoints").glob(f"epoch={split_after}-*.ckpt")
    assert (checkpoint / "meta.pt").is_file()  # a distributed checkpoint folder
    resumed = run(params, tmp_path, "resumed", checkpoint)
    assert_same_rank_states(expected_ranks, resumed)
