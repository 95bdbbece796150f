"""Parity with Fine-Tuning Scheduler (FTS): one plan runs under FTS (as the YAML schedule `ftsc export-fts`
writes, with the callback arguments and companion callbacks the export names) and under ftsc, on the same toy
model, data and seed. Every epoch's depth, trainable parameters, optimizer groups and group lrs (recorded at
`on_train_epoch_start`, after the transition), the number of epochs trained and the final weights must be
the same. The documented differences (docs/runtime.md) are asserted as differences, not hidden."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import pytest
import torch
from finetuning_scheduler import FinetuningScheduler as FTSScheduler
from finetuning_scheduler import FTSCheckpoint as TheirCheckpoint
from finetuning_scheduler import FTSEarlyStopping as TheirEarlyStopping
from finetuning_scheduler.fts_supporters import ScheduleImplMixin
from runtime_support import EpochRecord, Probe, ToyModel, compile_plan, loaders, trainer

from ftsc.cli import main as ftsc_main
from ftsc.fts.exporter import export_fts
from ftsc.runtime import FinetuningScheduler, RuntimeConfigError

SEED = 3
SAMPLES = 32  # two training steps and one validation batch per epoch: enough to move every phase's weights


class ParityModel(ToyModel):
    """The toy model; given a script, it logs `val_loss` from it, one value per epoch (the last one repeats),
    so early stopping and the best checkpoint fall on known epochs."""

    def __init__(self, script: tuple[float, ...] | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.script = script

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        if self.script is None:
            super().validation_step(batch, batch_idx)
        else:
            self.log("val_loss", torch.tensor(self.script[min(self.current_epoch, len(self.script) - 1)]))


@dataclass
class Run:
    records: list[EpochRecord]
    weights: dict[str, torch.Tensor]
    epochs: int  # epochs trained
    optimizer: str  # the optimizer's class at the end


@dataclass(frozen=True)
class Setup:
    """What both runs share besides the plan."""

    epochs: int
    script: tuple[float, ...] | None = None  # None: the toy model's real validation loss
    scheduler: str | None = None  # the LightningModule's own lr scheduler (`ToyModel(scheduler=…)`)


def fit(root: Path, setup: Setup, scheduler: pl.Callback, *companions: pl.Callback) -> Run:
    torch.manual_seed(SEED)
    model = ParityModel(setup.script, scheduler=setup.scheduler)
    probe = Probe()
    pl.seed_everything(SEED, verbose=False)
    run = trainer(root, setup.epochs, [scheduler, probe, *companions])
    run.fit(model, *loaders(samples=SAMPLES))
    weights = {name: parameter.detach().clone() for name, parameter in model.named_parameters()}
    return Run(probe.records, weights, run.current_epoch, type(run.optimizers[0]).__name__)


def run_ftsc(plan: dict[str, Any], root: Path, setup: Setup) -> Run:
    """ftsc adds its FTSEarlyStopping / FTSCheckpoint from the plan's settings."""
    return fit(root / "ftsc", setup, FinetuningScheduler(plan=plan))


def run_fts(plan: dict[str, Any], root: Path, setup: Setup) -> Run:
    """FTS on the schedule `ftsc export-fts` writes, with the callback arguments the export lists in its
    header (FTS adds the companion callbacks the export does not name, as ftsc does)."""
    folder = root / "fts"
    folder.mkdir(parents=True)
    plan_file, schedule = folder / "plan.json", folder / "schedule.yaml"
    plan_file.write_text(json.dumps(plan), encoding="utf-8")
    assert ftsc_main(["export-fts", str(plan_file), "-o", str(schedule)]) == 0
    exported = export_fts(plan)
    assert ScheduleImplMixin.load_yaml_schedule(schedule) == exported.schedule  # the file FTS reads
    companions: list[pl.Callback] = []
    if exported.early_stopping is not None:
        companions.append(TheirEarlyStopping(**exported.early_stopping))
    if exported.checkpoint is not None:
        companions.append(TheirCheckpoint(**exported.checkpoint))
    scheduler = FTSScheduler(ft_schedule=str(schedule), log_dir=folder, **exported.callback_args)  # type: ignore[arg-type]
    return fit(folder, setup, scheduler, *companions)


def assert_parity(text: str, tmp_path: Path, setup: Setup) -> Run:
    plan = compile_plan(text)
    theirs, ours = run_fts(plan, tmp_path, setup), run_ftsc(plan, tmp_path, setup)
    assert ours.records == theirs.records
    assert ours.epochs == theirs.epochs
    assert sorted(ours.weights) == sorted(theirs.weights)
    for name, weight in theirs.weights.items():
        assert torch.allclose(ours.weights[name], weight), name
    return ours


def lrs_by_epoch(run: Run) -> list[tuple[float, ...]]:
    return [record.lrs for record in run.records]


EPOCH_DRIVEN = """fts 1
defaults {{ epoch_transitions_only = true restore_best = {restore_best} }}
phase head {{ thaw head.* until epoch 1 }}
phase upper {{ thaw backbone.2.* lr = 0.05 until epoch 3 }}
phase rest {{ thaw rest lr = 0.01 }}
"""


@pytest.mark.parametrize("restore_best", ["true", "false"])
def test_epoch_driven_transitions(tmp_path: Path, restore_best: str) -> None:
    ours = assert_parity(EPOCH_DRIVEN.format(restore_best=restore_best), tmp_path, Setup(epochs=5))
    assert [r.depth for r in ours.records] == [0, 1, 1, 2, 2]
    assert [r.group_sizes for r in ours.records][-1] == (2, 2, 2)


EARLY_STOPPING = """fts 1
defaults {{ restore_best = {restore_best} early_stopping = {{ monitor = "val_loss", patience = 2 }} }}
phase head {{ thaw head.* }}
phase upper {{ thaw backbone.2.* lr = 0.05 until epoch 5 }}
phase rest {{ thaw rest lr = 0.01 }}
"""
# Epoch 0 is best and 1-2 do not improve: phase 1 starts at epoch 3 (early stopping; with restore_best from
# the phase-0 checkpoint). 3-4 improve, and `until epoch 5` starts phase 2 at epoch 5 (epoch-driven, from
# the epoch-4 checkpoint). 5-6 do not improve: the final phase's early stop ends the fit after epoch 6.
PLATEAU = (1.0, 1.1, 1.1, 0.9, 0.8, 0.85)


@pytest.mark.parametrize("restore_best", ["true", "false"])
def test_early_stopping_driven_transitions(tmp_path: Path, restore_best: str) -> None:
    setup = Setup(epochs=12, script=PLATEAU)
    ours = assert_parity(EARLY_STOPPING.format(restore_best=restore_best), tmp_path, setup)
    assert [r.depth for r in ours.records] == [0, 0, 0, 1, 1, 2, 2]
    assert ours.epochs == 7  # stopped by early stopping, not by max_epochs


REINIT = """fts 1
defaults {{ epoch_transitions_only = true restore_best = {restore_best} }}
phase head {{ thaw head.* until epoch 1 }}
phase upper {{ thaw backbone.2.* lr = 0.05 {reinit} until epoch 3 }}
phase rest {{ thaw rest lr = 0.01 until epoch 4 }}
"""
NEW_STEP_LR = "lr_scheduler = StepLR(step_size = 1, gamma = 0.7)"


@pytest.mark.parametrize(
    ("reinit", "restore_best"),
    [
        (NEW_STEP_LR, "false"),
        (f"{NEW_STEP_LR} init_pg_lrs = [0.2, 0.02]", "false"),
        (f"{NEW_STEP_LR} use_current_optimizer_pg_lrs = true", "false"),
        (f"{NEW_STEP_LR} use_current_optimizer_pg_lrs = true", "true"),
        ("lr_scheduler = CosineAnnealingWarmRestarts(T_0 = 2) use_current_optimizer_pg_lrs = true", "false"),
    ],
    ids=[
        "initial-lrs",
        "init_pg_lrs",
        "current-lrs",
        "current-lrs-restore-best",
        "warm-restarts-current-lrs",
    ],
)
def test_lr_scheduler_reinit(tmp_path: Path, reinit: str, restore_best: str) -> None:
    text = REINIT.format(restore_best=restore_best, reinit=reinit)
    ours = assert_parity(text, tmp_path, Setup(epochs=5, scheduler="step"))
    assert len({r.lrs for r in ours.records}) == 5  # the lrs move every epoch: the comparison sees them


@pytest.mark.parametrize("restore_best", ["true", "false"])
def test_optimizer_and_lr_scheduler_reinit(tmp_path: Path, restore_best: str) -> None:
    text = REINIT.format(restore_best=restore_best, reinit=f"optimizer = Adam(lr = 0.02) {NEW_STEP_LR}")
    ours = assert_parity(text, tmp_path, Setup(epochs=5, scheduler="step"))
    # phase 0's group at the new optimizer's lr (its `initial_lr`), phase 1's at the phase lr
    assert lrs_by_epoch(ours)[1] == (0.02, 0.05)


@pytest.mark.parametrize(
    "reinit",
    [
        "optimizer = Adam(lr = 0.02)",
        f"optimizer = Adam(lr = 0.02) {NEW_STEP_LR} use_current_optimizer_pg_lrs = true",
    ],
    ids=["optimizer", "optimizer-current-lrs"],
)
def test_optimizer_reinit_keeps_the_current_lrs(tmp_path: Path, reinit: str) -> None:
    assert_parity(
        REINIT.format(restore_best="false", reinit=reinit), tmp_path, Setup(epochs=5, scheduler="step")
    )


# --- documented differences (docs/runtime.md, "Differences from Fine-Tuning Scheduler") -------------------


def test_init_pg_lrs_of_the_wrong_length_is_an_error_where_fts_pairs_them(tmp_path: Path) -> None:
    text = REINIT.format(restore_best="false", reinit=f"{NEW_STEP_LR} init_pg_lrs = [0.2]")  # 2 groups there
    plan = compile_plan(text)
    setup = Setup(epochs=2, scheduler="step")
    theirs = run_fts(plan, tmp_path, setup)
    assert lrs_by_epoch(theirs)[1] == (0.2, 0.05)  # FTS: the first group takes 0.2, the second keeps its lr
    with pytest.raises(RuntimeConfigError, match=r"`init_pg_lrs` gives 1 lr, .* 2 parameter groups"):
        run_ftsc(plan, tmp_path, setup)


def test_restoring_a_checkpoint_from_before_an_optimizer_switch(tmp_path: Path) -> None:
    """The phase-0 (SGD) checkpoint stays best through the Adam phase. Before phase 2, FTS loads it into
    the Adam optimizer and the next step fails (as FTS's docs warn); ftsc rebuilds the phase-0 layout,
    loads the checkpoint there and re-creates phase 1's Adam, so training goes on."""
    text = REINIT.format(restore_best="true", reinit="optimizer = Adam(lr = 0.02)")
    plan = compile_plan(text)
    setup = Setup(epochs=5, script=(1.0, 2.0), scheduler="step")
    with pytest.raises(KeyError, match="betas"):
        run_fts(plan, tmp_path, setup)
    ours = run_ftsc(plan, tmp_path, setup)
    assert [r.depth for r in ours.records] == [0, 1, 1, 2, 2]
    assert [r.group_sizes for r in ours.records][-1] == (2, 2, 2)
    assert ours.optimizer == "Adam" and ours.epochs == 5
