"""`FTSEarlyStopping`: early stopping that ends a phase, and only in the final phase ends training."""

from __future__ import annotations

from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.callbacks import EarlyStopping
from torch import Tensor
from typing_extensions import override


class FTSEarlyStopping(EarlyStopping):
    """Lightning's `EarlyStopping`, phase-aware: when the monitored metric stops improving in a phase that
    is not the last, the phase is marked complete (the `FinetuningScheduler` moves on at the next epoch
    start) and the patience count restarts; in the final phase it stops training as `EarlyStopping` does.
    Thresholds and a non-finite metric stop training in any phase. Arguments are `EarlyStopping`'s.

    `_evaluate_stopping_criteria` is a private Lightning hook: `@override` makes mypy fail when a Lightning
    release renames it, rather than the phase logic silently never running."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.phase_complete = False
        self.final_phase = True  # until a FinetuningScheduler says otherwise, behave as EarlyStopping

    @override
    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        # Judge after validation, where the monitored metric usually comes from (as FTS does).
        if self._check_on_train_epoch_end is None:
            self._check_on_train_epoch_end = False
        super().setup(trainer, pl_module, stage)

    @override
    def _evaluate_stopping_criteria(self, current: Tensor) -> tuple[bool, str | None]:
        should_stop, reason = super()._evaluate_stopping_criteria(current)
        if should_stop and not self.final_phase and self.patience > 0 and self.wait_count >= self.patience:
            self.phase_complete = True
            self.wait_count = 0
            return False, (
                f"Monitored metric {self.monitor} did not improve in the last {self.patience} records: "
                "the phase is complete."
            )
        return should_stop, reason

    def start_phase(self, final: bool) -> None:
        """A new phase starts: its patience is counted afresh (the best score is kept, as in FTS)."""
        self.phase_complete = False
        self.final_phase = final
        self.wait_count = 0

    @override
    def state_dict(self) -> dict[str, Any]:
        return {
            **super().state_dict(),
            "phase_complete": self.phase_complete,
            "final_phase": self.final_phase,
        }

    @override
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        self.phase_complete = bool(state_dict.get("phase_complete", False))
        self.final_phase = bool(state_dict.get("final_phase", self.final_phase))
