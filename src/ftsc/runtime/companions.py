"""The scheduler's companion callbacks, `FTSEarlyStopping` and `FTSCheckpoint`: found on the trainer, and
added at setup when the plan needs them (configured from its settings).

A user's own callbacks are kept; only the unconfigured `ModelCheckpoint` Lightning adds by default is
replaced, and a plain `EarlyStopping` (which would end training in the first phase) is refused.
"""

from __future__ import annotations

import lightning.pytorch as pl
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint

from ftsc.runtime.checkpoint import FTSCheckpoint
from ftsc.runtime.early_stopping import FTSEarlyStopping
from ftsc.runtime.errors import RuntimeConfigError
from ftsc.runtime.plan_view import Options


def early_stopping_callback(trainer: pl.Trainer) -> FTSEarlyStopping | None:
    """The trainer's `FTSEarlyStopping`, if it has one."""
    found = [c for c in trainer.callbacks if isinstance(c, FTSEarlyStopping)]  # type: ignore[attr-defined]
    return found[0] if found else None


def checkpoint_callback(trainer: pl.Trainer) -> ModelCheckpoint | None:
    """The checkpoint callback `restore_best` uses: an `FTSCheckpoint`, else the first monitored one."""
    callbacks = [c for c in trainer.callbacks if isinstance(c, ModelCheckpoint)]  # type: ignore[attr-defined]
    ours = [c for c in callbacks if isinstance(c, FTSCheckpoint)]
    monitored = [c for c in callbacks if c.monitor]
    return (ours or monitored or [None])[0]


def install_companions(trainer: pl.Trainer, options: Options) -> None:
    """Add the early-stopping and checkpoint callbacks the plan needs (configured from its settings)."""
    stopping = early_stopping_callback(trainer)
    if not options.epoch_transitions_only and stopping is None:
        plain = [c for c in trainer.callbacks if isinstance(c, EarlyStopping)]  # type: ignore[attr-defined]
        if plain:
            raise RuntimeConfigError(
                "the trainer has a plain EarlyStopping callback, which would end training in the first "
                "phase; use ftsc.runtime.FTSEarlyStopping (same arguments) or set epoch_transitions_only"
            )
        stopping = FTSEarlyStopping(**dict(options.early_stopping or {"monitor": "val_loss"}))
        trainer.callbacks.append(stopping)  # type: ignore[attr-defined]
    if options.restore_best or options.checkpoint is not None:
        _install_checkpoint(trainer, options, stopping)


def _install_checkpoint(trainer: pl.Trainer, options: Options, stopping: FTSEarlyStopping | None) -> None:
    """Use the trainer's monitored checkpoint callback, or add an `FTSCheckpoint` (replacing only the
    unconfigured one Lightning adds by default; a user's own checkpoint callbacks are kept)."""
    callbacks: list[Callback] = trainer.callbacks  # type: ignore[attr-defined]
    checkpoint = checkpoint_callback(trainer)
    if checkpoint is None or (options.checkpoint is not None and not isinstance(checkpoint, FTSCheckpoint)):
        monitor = stopping.monitor if stopping is not None else "val_loss"
        checkpoint = FTSCheckpoint(**dict(options.checkpoint or {"monitor": monitor, "save_top_k": 1}))
        callbacks[:] = [c for c in callbacks if not _lightning_default_checkpoint(c)] + [checkpoint]
    if options.restore_best and (not checkpoint.monitor or checkpoint.save_top_k == 0):
        raise RuntimeConfigError(
            "restore_best needs a checkpoint callback with a monitored metric and save_top_k != 0; set "
            '`checkpoint = { monitor = "val_loss" }` in the schedule\'s defaults, or restore_best = false'
        )


def _lightning_default_checkpoint(callback: Callback) -> bool:
    """The `ModelCheckpoint()` Lightning adds when the user gave none: plain, unconfigured."""
    return (
        type(callback) is ModelCheckpoint
        and callback.monitor is None
        and callback.dirpath is None
        and callback.filename is None
        and callback.save_top_k == 1
        and not callback.save_last
    )
