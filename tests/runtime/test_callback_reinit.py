"""Phases that re-create the optimizer or the lr scheduler, and resuming across them."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from runtime_support import Probe, ToyModel, compile_plan, loaders, trainer
from test_resume import flat_state, run

from ftsc.runtime import FinetuningScheduler

REINIT = """fts 1
defaults { epoch_transitions_only = true restore_best = false }
phase head { thaw head.* until epoch 1 }
phase upper { thaw backbone.2.* lr = 0.05 until epoch 2 }
phase rest {
    thaw rest
    lr = 0.02
    optimizer = Adam(lr = 0.01)
    lr_scheduler = StepLR(step_size = 1, gamma = 0.5)
}
"""


def test_a_phase_can_switch_optimizer_and_lr_scheduler(tmp_path: Path) -> None:
    probe = Probe()
    fit = trainer(tmp_path, 4, [FinetuningScheduler(plan=compile_plan(REINIT)), probe])
    fit.fit(ToyModel(lr=0.1, scheduler="step"), *loaders())
    assert [r.depth for r in probe.records] == [0, 1, 2, 2]
    assert isinstance(fit.optimizers[0], torch.optim.Adam)
    # the new optimizer holds every phase so far: phase 0 at its own lr, later phases at theirs
    assert probe.records[2].lrs == (0.01, 0.05, 0.02)
    assert probe.records[2].group_sizes == (2, 2, 2)
    [config] = fit.lr_scheduler_configs
    assert isinstance(config.scheduler, torch.optim.lr_scheduler.StepLR)
    assert config.scheduler.optimizer is fit.optimizers[0]
    assert probe.records[3].lrs == pytest.approx((0.005, 0.025, 0.01))  # one StepLR step later


@pytest.mark.parametrize("split_after", [1, 2])
def test_resume_across_a_reinit_phase_is_exact(tmp_path: Path, split_after: int) -> None:
    plan = compile_plan(REINIT)
    expected = flat_state(run(tmp_path / "whole", plan))
    run(tmp_path / "split", plan, epochs=split_after + 1)
    checkpoint = tmp_path / "split" / "ckpt" / f"epoch={split_after}.ckpt"
    resumed = run(tmp_path / "split", plan, ckpt_path=checkpoint)
    assert isinstance(resumed.optimizers[0], torch.optim.Adam)
    state = flat_state(resumed)
    assert [key for key in expected if not torch.equal(state[key], expected[key])] == []
