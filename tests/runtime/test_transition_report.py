"""The transition report: logged on rank zero to Lightning's logger by default, one block per phase start
(phase k of n, its trigger, what was thawed, lr per group, a restored checkpoint), silenced by report=False;
and the report's lines built from plain data, so that a new line is one more builder."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from runtime_support import ToyModel, compile_plan, loaders, three_phase_plan, trainer

from ftsc.runtime import FinetuningScheduler, Transition, Trigger
from ftsc.runtime.report import LINES, REPORT_LOGGER, Restored, report_lines

# The toy model: backbone.0 (8x16 + 16), backbone.2 (16x16 + 16), head (16x2 + 2): 6 tensors, 450 elements.
TOTAL = 8 * 16 + 16 + 16 * 16 + 16 + 16 * 2 + 2


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def reported() -> Iterator[list[str]]:
    """What reaches the report's logger (Lightning's `lightning.pytorch` does not propagate to the root)."""
    handler = Records()
    logger = logging.getLogger(REPORT_LOGGER)
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


def test_the_report_reaches_lightning_s_logger_at_info() -> None:
    logger = logging.getLogger(REPORT_LOGGER)
    assert logger.parent is logging.getLogger("lightning.pytorch")
    assert logger.getEffectiveLevel() <= logging.INFO  # shown wherever Lightning's own messages are


def test_each_phase_start_is_reported_with_trigger_thawed_and_lr_per_group(
    tmp_path: Path, reported: list[str]
) -> None:
    plan = three_phase_plan(first=1, second=2, extra="restore_best = false")
    trainer(tmp_path, 3, [FinetuningScheduler(plan=plan)]).fit(ToyModel(), *loaders())
    assert reported == [
        "ftsc: epoch 0, phase 0 `head` of 3\n"
        f"    thawed 2/6 tensors, 34 of {TOTAL:,} parameters trainable\n"
        "    lr by group: head 0.1",
        "ftsc: epoch 1, phase 1 `upper` of 3: `until epoch 1` reached\n"
        f"    thawed 4/6 tensors, 306 of {TOTAL:,} parameters trainable\n"
        "    lr by group: head 0.1, upper 0.05",
        "ftsc: epoch 2, phase 2 `rest` of 3: `until epoch 2` reached\n"
        f"    thawed 6/6 tensors, {TOTAL:,} of {TOTAL:,} parameters trainable\n"
        "    lr by group: head 0.1, upper 0.05, rest 0.01",
    ]


class Plateau(ToyModel):
    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self.log("val_loss", torch.tensor(1.0 if self.current_epoch == 0 else 2.0))


def test_early_stopping_and_a_restored_best_checkpoint_are_reported(
    tmp_path: Path, reported: list[str]
) -> None:
    text = """fts 1
    defaults { restore_best = true early_stopping = { monitor = "val_loss", patience = 1 } }
    phase head { thaw head.* }
    phase rest { thaw rest lr = 0.01 }
    """
    scheduler = FinetuningScheduler(plan=compile_plan(text))
    trainer(tmp_path, 3, [scheduler], enable_checkpointing=True).fit(Plateau(), *loaders())
    header, restored, *_ = reported[1].splitlines()
    assert header == "ftsc: epoch 2, phase 1 `rest` of 2: val_loss stopped improving (early stopping)"
    best = scheduler.history[1].restored
    assert best is not None and best.epoch == 0 and best.score == 1.0  # epoch 0 logged the best val_loss
    assert restored == f"    restored the best checkpoint so far (epoch 0, val_loss 1): {best.path}"
    assert Path(best.path).name.startswith("epoch=0")


def test_a_resumed_fit_reports_the_checkpoint_it_resumed_from(tmp_path: Path, reported: list[str]) -> None:
    plan = three_phase_plan(first=1, second=3)
    saver = ModelCheckpoint(dirpath=tmp_path / "ckpt", filename="{epoch}", save_top_k=-1)
    trainer(tmp_path, 2, [FinetuningScheduler(plan=plan), saver], enable_checkpointing=True).fit(
        ToyModel(), *loaders()
    )
    reported.clear()
    checkpoint = tmp_path / "ckpt" / "epoch=1.ckpt"
    resumed = trainer(tmp_path, 3, [FinetuningScheduler(plan=plan)], enable_checkpointing=True)
    resumed.fit(ToyModel(), *loaders(), ckpt_path=checkpoint)
    assert reported[0].splitlines()[0] == f"ftsc: epoch 2, phase 1 `upper` of 3: resumed from {checkpoint}"


def test_report_false_is_silent_and_the_history_is_still_kept(tmp_path: Path, reported: list[str]) -> None:
    scheduler = FinetuningScheduler(plan=three_phase_plan(), report=False)
    trainer(tmp_path, 3, [scheduler]).fit(ToyModel(), *loaders())
    assert reported == []
    assert [(t.depth, t.trigger) for t in scheduler.history] == [
        (0, Trigger("start")),
        (1, Trigger("epoch", until_epoch=1)),
        (2, Trigger("epoch", until_epoch=2)),
    ]


def test_only_rank_zero_reports(tmp_path: Path, reported: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pl.Trainer, "is_global_zero", property(lambda self: False))
    scheduler = FinetuningScheduler(plan=three_phase_plan())
    trainer(tmp_path, 3, [scheduler]).fit(ToyModel(), *loaders())
    assert reported == []
    assert len(scheduler.history) == 3


def test_lines_are_built_from_data_and_a_builder_adds_one() -> None:
    transition = Transition(
        epoch=4,
        depth=2,
        name=None,
        thawed=10,
        lrs=(0.1, 0.01, 0.01),
        phases=3,
        trigger=Trigger("early_stopping", monitor="val_acc"),
        tensors=12,
        trainable=1_000_000,
        total=2_000_000,
        groups=("head", "phase 2", "phase 2 (no decay)"),
        restored=Restored("ckpt/epoch=3.ckpt", 3, "val_acc", 0.91),
    )
    assert report_lines(transition) == [
        "ftsc: epoch 4, phase 2 of 3: val_acc stopped improving (early stopping)",
        "    restored the best checkpoint so far (epoch 3, val_acc 0.91): ckpt/epoch=3.ckpt",
        "    thawed 10/12 tensors, 1,000,000 of 2,000,000 parameters trainable",
        "    lr by group: head 0.1, phase 2 0.01, phase 2 (no decay) 0.01",
    ]

    def memory(transition: Transition) -> str:
        return f"    memory: phase {transition.depth} fits"

    assert report_lines(transition, (*LINES, memory))[-1] == "    memory: phase 2 fits"
