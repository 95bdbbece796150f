"""Early-stopping-driven phases: a phase ends when the monitored metric stops improving; the final phase's
early stop ends training. And schedules compiled at setup report their errors before training."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from runtime_support import Probe, ToyModel, compile_plan, loaders, trainer

from ftsc.runtime import FinetuningScheduler, FTSEarlyStopping, RuntimeConfigError, ScheduleCompileError


class Plateau(ToyModel):
    """Logs a val_loss that never improves after the first epoch: every phase ends after `patience` epochs."""

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self.log("val_loss", torch.tensor(1.0 if self.current_epoch == 0 else 2.0))


EARLY = """fts 1
defaults {{ restore_best = false early_stopping = {{ monitor = "val_loss", patience = {patience} }} }}
phase head {{ thaw head.* }}
phase upper {{ thaw backbone.2.* lr = 0.05 }}
phase rest {{ thaw rest lr = 0.01 }}
"""


def test_each_phase_ends_when_early_stopping_says_and_the_last_stops_training(tmp_path: Path) -> None:
    probe = Probe()
    scheduler = FinetuningScheduler(plan=compile_plan(EARLY.format(patience=2)))
    fit = trainer(tmp_path, 20, [scheduler, probe])
    fit.fit(Plateau(), *loaders())
    # epoch 0 improves; epochs 1-2 do not: phase 1 starts at epoch 3; two more epochs each for phases 1 and 2
    assert [r.depth for r in probe.records] == [0, 0, 0, 1, 1, 2, 2]
    assert fit.current_epoch == 7  # stopped by the final phase's early stop, long before max_epochs
    stopping = next(c for c in fit.callbacks if isinstance(c, FTSEarlyStopping))
    assert stopping.final_phase and stopping.monitor == "val_loss" and stopping.patience == 2


def test_until_epoch_still_moves_on_with_early_stopping(tmp_path: Path) -> None:
    text = EARLY.format(patience=5).replace(
        "phase head { thaw head.* }", "phase head { thaw head.* until epoch 1 }"
    )
    probe = Probe()
    trainer(tmp_path, 3, [FinetuningScheduler(plan=compile_plan(text)), probe]).fit(Plateau(), *loaders())
    assert [r.depth for r in probe.records] == [0, 1, 1]


def test_a_plain_early_stopping_callback_is_refused(tmp_path: Path) -> None:
    from lightning.pytorch.callbacks import EarlyStopping

    plan = compile_plan(EARLY.format(patience=2))
    fit = trainer(tmp_path, 2, [FinetuningScheduler(plan=plan), EarlyStopping(monitor="val_loss")])
    with pytest.raises(RuntimeConfigError, match="FTSEarlyStopping"):
        fit.fit(ToyModel(), *loaders())


def test_a_schedule_is_compiled_against_the_live_model(tmp_path: Path) -> None:
    schedule = tmp_path / "toy.fts"
    schedule.write_text(EARLY.format(patience=2), encoding="utf-8")
    probe = Probe()
    trainer(tmp_path, 4, [FinetuningScheduler(schedule=schedule), probe]).fit(Plateau(), *loaders())
    assert [r.depth for r in probe.records] == [0, 0, 0, 1]


def test_schedule_errors_stop_the_run_with_their_locations(tmp_path: Path) -> None:
    schedule = tmp_path / "typo.fts"
    schedule.write_text("fts 1\nphase head { thaw haed.* }\nphase rest { thaw rest }\n", encoding="utf-8")
    model = ToyModel()
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    with pytest.raises(ScheduleCompileError) as caught:
        trainer(tmp_path, 1, [FinetuningScheduler(schedule=schedule)]).fit(model, *loaders())
    message = str(caught.value)
    assert "E101" in message and f"{schedule}:2:19" in message and "head.*" in message
    assert all(p.equal(before[n]) for n, p in model.named_parameters())  # nothing trained
