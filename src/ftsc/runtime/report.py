"""The transition report: what the runtime did at each phase start, as lines a person reads in the log.

The callback records a `Transition` (plain data) at every phase start and, unless `report=False`, logs
`report_lines(transition)` on rank zero to the `lightning.pytorch.ftsc` logger: a child of Lightning's own
logger, so the lines appear wherever Lightning's messages do, and can be silenced on their own
(`logging.getLogger("lightning.pytorch.ftsc").setLevel(logging.WARNING)`).

`transition_of` measures a phase start on the trainer (what is trainable, each optimizer group's lr and
owner phase). Each line comes from one builder (`Transition -> str | None`) in `LINES`; a new line (say,
memory per phase) is a field on `Transition` and one more builder, without touching the others.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import lightning.pytorch as pl

    from ftsc.runtime.plan_view import PhaseSpec
    from ftsc.runtime.state import GroupRecord

REPORT_LOGGER = "lightning.pytorch.ftsc"
log = logging.getLogger(REPORT_LOGGER)

TriggerKind = Literal["start", "epoch", "early_stopping", "resume"]


@dataclass(frozen=True)
class Trigger:
    """Why a phase started: the fit began, the previous phase reached its `until epoch`, early stopping
    ended it, or a checkpoint was resumed at this phase."""

    kind: TriggerKind
    until_epoch: int | None = None  # "epoch": the previous phase's `until epoch`
    monitor: str | None = None  # "early_stopping": the metric that stopped improving
    checkpoint: str | None = None  # "resume": the checkpoint the fit resumed from


@dataclass(frozen=True)
class Restored:
    """The best checkpoint `restore_best` loaded before the phase started."""

    path: str
    epoch: int | None  # the epoch it was saved in, when the checkpoint says
    monitor: str | None
    score: float | None


@dataclass(frozen=True)
class Transition:
    """One phase start: what the report and progress displays show."""

    epoch: int
    depth: int
    name: str | None
    thawed: int  # parameter tensors trainable after the transition
    lrs: tuple[float, ...]  # the optimizer's group lrs after the transition
    phases: int = 0  # phases in the plan
    trigger: Trigger = Trigger("start")
    tensors: int = 0  # parameter tensors of the model
    trainable: int = 0  # trainable parameters (elements) after the transition
    total: int = 0  # parameters (elements) of the model
    groups: tuple[str, ...] = ()  # each optimizer group's owner: a phase's name (or `phase N`)
    restored: Restored | None = None

    @property
    def label(self) -> str:
        return f"phase {self.depth}" + (f" `{self.name}`" if self.name else "")


def transition_of(
    trainer: pl.Trainer,
    depth: int,
    phases: Sequence[PhaseSpec],
    groups: Sequence[GroupRecord],
    trigger: Trigger,
    restored: Restored | None = None,
) -> Transition:
    """What the phase start at `depth` looks like: counted on the LightningModule (sharded strategies: this
    rank's view), with each optimizer group's owner phase."""
    parameters = list(trainer.lightning_module.parameters())
    trainable = [p for p in parameters if p.requires_grad]
    owners = tuple(
        (phases[group.phase].name or f"phase {group.phase}") + (" (no decay)" if group.no_decay else "")
        for group in groups
    )
    return Transition(
        epoch=trainer.current_epoch,
        depth=depth,
        name=phases[depth].name,
        thawed=len(trainable),
        lrs=tuple(float(group["lr"]) for group in trainer.optimizers[0].param_groups),
        phases=len(phases),
        trigger=trigger,
        tensors=len(parameters),
        trainable=sum(p.numel() for p in trainable),
        total=sum(p.numel() for p in parameters),
        groups=owners,
        restored=restored,
    )


def resume_trigger(trainer: pl.Trainer) -> Trigger:
    """A phase start by resuming the trainer's checkpoint."""
    path = trainer.ckpt_path
    return Trigger("resume", checkpoint=shown_path(path) if path else None)


def shown_path(path: str | os.PathLike[str]) -> str:
    """A checkpoint path as the report shows it: relative to the current folder when under it."""
    location = Path(path)
    try:
        return str(location.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(location)


LineBuilder = Callable[[Transition], str | None]


def header_line(transition: Transition) -> str:
    of = f" of {transition.phases}" if transition.phases else ""
    return f"ftsc: epoch {transition.epoch}, {transition.label}{of}{_why(transition.trigger)}"


def _why(trigger: Trigger) -> str:
    if trigger.kind == "epoch":
        return f": `until epoch {trigger.until_epoch}` reached"
    if trigger.kind == "early_stopping":
        return f": {trigger.monitor or 'the monitored metric'} stopped improving (early stopping)"
    if trigger.kind == "resume":
        return f": resumed from {trigger.checkpoint}" if trigger.checkpoint else ": resumed"
    return ""


def restored_line(transition: Transition) -> str | None:
    restored = transition.restored
    if restored is None:
        return None
    facts = [f"epoch {restored.epoch}"] if restored.epoch is not None else []
    if restored.monitor and restored.score is not None:
        facts.append(f"{restored.monitor} {restored.score:.4g}")
    about = f" ({', '.join(facts)})" if facts else ""
    return f"    restored the best checkpoint so far{about}: {restored.path}"


def thawed_line(transition: Transition) -> str:
    tensors = f"{transition.thawed}/{transition.tensors}" if transition.tensors else str(transition.thawed)
    line = f"    thawed {tensors} tensors"
    if transition.total:
        line += f", {transition.trainable:,} of {transition.total:,} parameters trainable"
    return line


def lr_line(transition: Transition) -> str:
    if len(transition.groups) == len(transition.lrs):
        shown = ", ".join(
            f"{owner} {lr:.3g}" for owner, lr in zip(transition.groups, transition.lrs, strict=True)
        )
    else:
        shown = ", ".join(f"{lr:.3g}" for lr in transition.lrs)
    return f"    lr by group: {shown}"


LINES: tuple[LineBuilder, ...] = (header_line, restored_line, thawed_line, lr_line)


def report_lines(transition: Transition, builders: Sequence[LineBuilder] = LINES) -> list[str]:
    """The report's lines for one transition, in builder order (a builder may have nothing to say)."""
    return [line for line in (build(transition) for build in builders) if line]


def log_transition(transition: Transition) -> None:
    """Log the report of `transition` (the caller logs on rank zero only)."""
    log.info("\n".join(report_lines(transition)))
