"""What the demo shows while it trains: the runtime's own transition report, printed above Lightning's
progress bar as it happens, and a record per epoch for the summary table and the plot afterwards."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import lightning.pytorch as pl
from lightning.pytorch.callbacks import Callback
from tqdm import tqdm

from ftsc.runtime import FinetuningScheduler, Transition
from ftsc.runtime.report import REPORT_LOGGER


@dataclass(frozen=True)
class EpochRecord:
    epoch: int
    depth: int
    lrs: tuple[float, ...]  # each optimizer group's lr during the epoch
    group_phases: tuple[int, ...]  # the phase each optimizer group belongs to
    train_loss: float
    val_loss: float
    val_acc: float


class EpochRecorder(Callback):
    """An `EpochRecord` per epoch. It comes after the scheduler in the trainer's callbacks, so that an
    epoch's lrs are read after the scheduler's transition at its start."""

    def __init__(self, scheduler: FinetuningScheduler) -> None:
        self.scheduler = scheduler
        self.epochs: list[EpochRecord] = []
        self._lrs: tuple[float, ...] = ()

    @property
    def starts(self) -> list[Transition]:
        """Every phase start of the run, as the runtime recorded (and reported) it."""
        return self.scheduler.history

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._lrs = tuple(float(group["lr"]) for group in trainer.optimizers[0].param_groups)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # Runs after the epoch's validation: its metrics and the epoch's mean training loss are both here.
        metrics = trainer.callback_metrics
        self.epochs.append(
            EpochRecord(
                epoch=trainer.current_epoch,
                depth=self.scheduler.depth,
                lrs=self._lrs,
                group_phases=tuple(group.phase for group in self.scheduler.groups),
                train_loss=float(metrics["train_loss"]),
                val_loss=float(metrics["val_loss"]),
                val_acc=float(metrics["val_acc"]),
            )
        )


class _AboveTheBar(logging.Handler):
    """Writes each record with `tqdm.write`, which keeps the progress bar whole below it."""

    def emit(self, record: logging.LogRecord) -> None:
        tqdm.write(self.format(record))


@contextmanager
def show_the_report() -> Iterator[None]:
    """The runtime's report on standard output above the progress bar, while the rest of Lightning's
    logging stays as the caller set it; all put back afterwards."""
    logger = logging.getLogger(REPORT_LOGGER)
    handler = _AboveTheBar()
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate
