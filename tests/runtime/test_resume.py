"""Resuming from any checkpoint — at a phase boundary or mid-phase — continues exactly as the uninterrupted
run; a checkpoint of another plan is refused unless explicitly allowed, and is left untouched."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from runtime_support import ToyModel, flat_state, loaders, three_phase_plan, trainer

from ftsc.runtime import FinetuningScheduler, PlanMismatchError

EPOCHS = 5


def run(
    tmp_path: Path, plan: dict[str, Any], ckpt_path: Path | None = None, epochs: int = EPOCHS, **kwargs: Any
) -> pl.Trainer:
    """Fit the toy model (restore_best on, as FTS's default) saving a checkpoint after every epoch."""
    pl.seed_everything(7, verbose=False)
    saver = ModelCheckpoint(
        dirpath=tmp_path / "ckpt",
        filename="{epoch}",
        save_top_k=-1,
        every_n_epochs=1,
        save_on_train_epoch_end=True,
    )
    fit = trainer(
        tmp_path, epochs, [FinetuningScheduler(plan=plan, **kwargs), saver], enable_checkpointing=True
    )
    fit.fit(ToyModel(lr=0.1, scheduler="step"), *loaders(), ckpt_path=ckpt_path)
    return fit


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, torch.Tensor]]:
    folder = tmp_path_factory.mktemp("whole")
    fit = run(folder, three_phase_plan(first=1, second=3))
    return folder, flat_state(fit)


# epoch 0 and 2 end just before a transition; 1 and 3 end mid-phase.
@pytest.mark.parametrize("split_after", [0, 1, 2, 3])
def test_resume_continues_exactly(
    uninterrupted: tuple[Path, dict[str, torch.Tensor]], tmp_path: Path, split_after: int
) -> None:
    _, expected = uninterrupted
    plan = three_phase_plan(first=1, second=3)
    run(tmp_path, plan, epochs=split_after + 1)  # the first run ends (or crashes) after this epoch
    checkpoint = tmp_path / "ckpt" / f"epoch={split_after}.ckpt"
    resumed = flat_state(run(tmp_path, plan, ckpt_path=checkpoint))
    assert sorted(resumed) == sorted(expected)
    different = [key for key in expected if not torch.equal(resumed[key], expected[key])]
    assert different == []


def test_checkpoint_records_state_version_and_fingerprint(
    uninterrupted: tuple[Path, dict[str, torch.Tensor]],
) -> None:
    folder, _ = uninterrupted
    data = torch.load(folder / "ckpt" / "epoch=1.ckpt", weights_only=False)
    state = data["callbacks"]["FinetuningScheduler"]
    assert state["state_version"] == 2
    assert state["names"] == {"drop": "", "add": ""}  # the toy model's names are the plan's
    assert state["depth"] == 1
    assert state["plan_fingerprint"].startswith("sha256:")
    assert [g["phase"] for g in state["groups"]] == [0, 1]


def test_resuming_under_another_plan_is_refused_and_the_checkpoint_untouched(
    uninterrupted: tuple[Path, dict[str, torch.Tensor]], tmp_path: Path
) -> None:
    folder, _ = uninterrupted
    checkpoint = folder / "ckpt" / "epoch=1.ckpt"
    digest = hashlib.sha256(checkpoint.read_bytes()).hexdigest()
    other = three_phase_plan(first=1, second=4)
    with pytest.raises(PlanMismatchError, match="allow_plan_change=True"):
        run(tmp_path, other, ckpt_path=checkpoint)
    assert hashlib.sha256(checkpoint.read_bytes()).hexdigest() == digest


def test_allow_plan_change_resumes_with_a_warning(
    uninterrupted: tuple[Path, dict[str, torch.Tensor]], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder, _ = uninterrupted
    other = three_phase_plan(first=1, second=4)
    with caplog.at_level("WARNING", logger="ftsc.runtime"):
        fit = run(tmp_path, other, ckpt_path=folder / "ckpt" / "epoch=1.ckpt", allow_plan_change=True)
    assert "another plan" in caplog.text
    assert fit.current_epoch == EPOCHS
