"""`FTSCheckpoint`: model checkpointing that knows which phase each best checkpoint comes from."""

from __future__ import annotations

from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.callbacks import ModelCheckpoint
from typing_extensions import override


class FTSCheckpoint(ModelCheckpoint):
    """Lightning's `ModelCheckpoint`, recording the depth (phase index) of the latest and of the best
    checkpoint.

    `restore_best` needs a monitored metric and `save_top_k != 0`; every checkpoint also carries the
    `FinetuningScheduler`'s own state, so restoring a best checkpoint from an earlier phase rebuilds that
    phase's optimizer groups exactly. Arguments are `ModelCheckpoint`'s.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.current_depth = 0
        self.best_depth = 0
        self._best_path_seen = ""

    @override
    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        # Save after validation (not at train-epoch end, Lightning's default when validating every epoch), so
        # the best checkpoint is settled before any other callback saves the run's state that epoch.
        if self._save_on_train_epoch_end is None:
            self._save_on_train_epoch_end = False
        super().setup(trainer, pl_module, stage)

    def note_depth(self, depth: int) -> None:
        """The scheduler's current depth; called at every phase start and resume."""
        self.current_depth = depth

    @override
    def state_dict(self) -> dict[str, Any]:
        # Called while a checkpoint is written, after `best_model_path` was updated for it.
        if self.best_model_path and self.best_model_path != self._best_path_seen:
            self.best_depth = self.current_depth
            self._best_path_seen = self.best_model_path
        return {**super().state_dict(), "current_depth": self.current_depth, "best_depth": self.best_depth}

    @override
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        self.current_depth = int(state_dict.get("current_depth", 0))
        self.best_depth = int(state_dict.get("best_depth", self.current_depth))
        self._best_path_seen = self.best_model_path
