"""The optimizer parameter groups of a phase, split by the module's `no_decay` names as Fine-Tuning Scheduler
splits them, and added at the phase's transition with the lr scheduler carried along.

FTS's rules, kept so a schedule trains the same under either: with `no_decay` (substrings of parameter names,
e.g. `["bias", "LayerNorm.weight"]`) a phase gets two groups, the second with `weight_decay = 0.0`, even when
one of them is empty, so every phase adds the same number of groups (what `init_pg_lrs` counts); parameters
that do not require grad, or that a group already holds (a resumed optimizer), are left out. Membership is
tested with sets of tensor ids: a transition is one pass over the optimizer's and the phase's parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from torch import Tensor
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

from ftsc.runtime.schedulers import carry_scheduler, lambda_factor

NamedParameters = Sequence[tuple[str, Tensor]]


@dataclass(frozen=True)
class PhaseGroup:
    """A parameter group a phase added: the optimizer's own dict, and whether it is the no-decay half."""

    group: dict[str, Any]
    no_decay: bool


def split_no_decay(
    named: NamedParameters, no_decay: Sequence[str] | None, *, exclude: set[int] | None = None
) -> list[tuple[list[Tensor], bool]]:
    """`(parameters, is_no_decay)` per group: one group, or FTS's decay / no-decay pair given `no_decay`.

    Keeps each parameter once (tied parameters have several names), in order, and only if it requires grad
    and its id is not in `exclude`."""
    exclude = exclude if exclude is not None else set()
    seen: set[int] = set()
    decay: list[Tensor] = []
    free: list[Tensor] = []
    for name, parameter in named:
        key = id(parameter)
        if key in exclude or key in seen or not parameter.requires_grad:
            continue
        seen.add(key)
        (free if no_decay and any(part in name for part in no_decay) else decay).append(parameter)
    if no_decay:
        return [(decay, False), (free, True)]
    return [(decay, False)]


def add_phase_groups(
    optimizer: Optimizer,
    scheduler: LRScheduler | None,
    named: NamedParameters,
    lr: float,
    *,
    no_decay: Sequence[str] | None = None,
    apply_lambdas: bool = False,
) -> list[PhaseGroup]:
    """Add the groups of a newly thawed phase with `lr` as their lr, and carry `scheduler` across.

    `lr` is the groups' base lr (`initial_lr`, the scheduler's `base_lrs`) and starting lr; with
    `apply_lambdas` (FTS `apply_lambdas_new_pgs`) the starting lr is `lr` times the scheduler's latest lr
    lambda at its current epoch. (FTS records that scaled lr as `initial_lr`; here `initial_lr` stays the base
    lr the scheduler holds, so a later `lr_scheduler = …` restarts the group from its phase lr, not from a
    lambda's value at one epoch.) Returns the groups added: none when every parameter is already held by a
    group or none requires grad (a resumed run replaying its phases)."""
    held = {id(parameter) for group in optimizer.param_groups for parameter in group["params"]}
    split = split_no_decay(named, no_decay, exclude=held)
    if not any(parameters for parameters, _ in split):
        return []
    start_lr = lr * lambda_factor(scheduler) if apply_lambdas and scheduler is not None else lr
    for parameters, free in split:
        group: dict[str, Any] = {"params": parameters, "lr": start_lr, "initial_lr": lr}
        if free:
            group["weight_decay"] = 0.0
        optimizer.add_param_group(group)
    added = optimizer.param_groups[-len(split) :]
    if scheduler is not None:
        carry_scheduler(scheduler, added, lr)
    return [PhaseGroup(group, free) for group, (_, free) in zip(added, split, strict=True)]
