"""What the demo shows while it trains: a line per phase transition, printed above Lightning's progress bar
as it happens, and a record per epoch for the summary table and the plot afterwards."""

from __future__ import annotations

from dataclasses import dataclass

import lightning.pytorch as pl
from lightning.pytorch.callbacks import Callback, TQDMProgressBar

from ftsc.runtime import FinetuningScheduler, Transition


@dataclass(frozen=True)
class EpochRecord:
    epoch: int
    depth: int
    lrs: tuple[float, ...]  # each optimizer group's lr during the epoch
    group_phases: tuple[int, ...]  # the phase each optimizer group belongs to
    train_loss: float
    val_loss: float
    val_acc: float


@dataclass(frozen=True)
class PhaseStart:
    """A transition, with what the scheduler's `Transition` leaves out: sizes, and how the phase before
    it ended."""

    transition: Transition
    tensors: int  # parameter tensors of the model
    trainable: int  # trainable parameters (elements) after the transition
    total: int  # parameters (elements) of the model
    reason: str  # why the previous phase ended ("" for phase 0)
    restored: EpochRecord | None  # the epoch of the best checkpoint `restore_best` loaded before it


class PhaseReporter(Callback):
    """Reads `FinetuningScheduler.history` at every epoch start. It must come after the scheduler in the
    trainer's callbacks, so that it sees the transition the scheduler has just made."""

    def __init__(self, scheduler: FinetuningScheduler) -> None:
        self.scheduler = scheduler
        self.starts: list[PhaseStart] = []
        self.epochs: list[EpochRecord] = []
        self._lrs: tuple[float, ...] = ()

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        for transition in self.scheduler.history[len(self.starts) :]:
            start = self._phase_start(transition, trainer, pl_module)
            self.starts.append(start)
            _show(trainer, self.describe(start))
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

    def _phase_start(
        self, transition: Transition, trainer: pl.Trainer, pl_module: pl.LightningModule
    ) -> PhaseStart:
        parameters = list(pl_module.parameters())
        return PhaseStart(
            transition=transition,
            tensors=len(parameters),
            trainable=sum(p.numel() for p in parameters if p.requires_grad),
            total=sum(p.numel() for p in parameters),
            reason=self._reason(transition),
            restored=self._restored(trainer) if transition.depth > 0 else None,
        )

    def _reason(self, transition: Transition) -> str:
        if transition.depth == 0:
            return ""
        until = self.scheduler.phases[transition.depth - 1].max_transition_epoch
        if until == transition.epoch:
            return f"`until epoch {until}` reached"
        return "val_loss stopped improving (early stopping)"

    def _restored(self, trainer: pl.Trainer) -> EpochRecord | None:
        """The epoch whose checkpoint `restore_best` loaded before the transition: the one with the
        checkpoint callback's best score."""
        options = self.scheduler.options
        checkpoint = self.scheduler.checkpoint_callback(trainer)
        score = getattr(checkpoint, "best_model_score", None)
        if options is None or not options.restore_best or score is None:
            return None
        return next((r for r in reversed(self.epochs) if r.val_loss == float(score)), None)

    def describe(self, start: PhaseStart) -> str:
        transition = start.transition
        phases = self.scheduler.phases
        owners = [group.phase for group in self.scheduler.groups]
        lrs = ", ".join(
            f"{phases[owner].name or owner} {lr:.2g}"
            for owner, lr in zip(owners, transition.lrs, strict=True)
        )
        why = f": {start.reason}" if start.reason else ""
        lines = [
            f"▶ epoch {transition.epoch}, phase {transition.depth} `{transition.name}` of {len(phases)}{why}",
            f"    restored the best checkpoint so far (epoch {start.restored.epoch}, val_loss "
            f"{start.restored.val_loss:.3f})"
            if start.restored
            else "",
            f"    thawed {transition.thawed}/{start.tensors} tensors, {start.trainable:,} of {start.total:,} "
            f"parameters trainable; lr by group: {lrs}",
        ]
        return "\n".join(line for line in lines if line)


def _show(trainer: pl.Trainer, text: str) -> None:
    """Print above the progress bar (tqdm keeps the bar whole), or plainly without one."""
    bar = trainer.progress_bar_callback
    if isinstance(bar, TQDMProgressBar):
        bar.print(text)
    else:
        print(text, flush=True)
