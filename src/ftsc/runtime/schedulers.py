"""Carry an lr scheduler across a phase transition: give the groups a phase adds their share of its state.

torch's schedulers size their per-group state when they are created (`base_lrs`, `lr_lambdas`, `min_lrs`,
`CyclicLR`'s `max_lrs` and momenta, `OneCycleLR`'s group keys). A group added later without its share makes
the next `step()` raise (`LambdaLR`, `MultiplicativeLR`, `CosineAnnealingLR` at a restart,
`CosineAnnealingWarmRestarts`, `CyclicLR`, `OneCycleLR`), and the others raise where they read `base_lrs`
(a `SequentialLR` milestone, `step(epoch)`).

The new group's lr follows Fine-Tuning Scheduler (`add_optimizer_groups`): the phase lr is both its starting
lr and its base lr (`base_lrs`, `initial_lr`). Schedulers that scale the current lr (`StepLR`, `MultiStepLR`,
`ConstantLR`, `LinearLR`, `ExponentialLR`, `PolynomialLR`, `MultiplicativeLR`, `CosineAnnealingLR`,
`ReduceLROnPlateau`) carry the group on from the phase lr, as they carry every group from its current lr; so
a group added during a `ConstantLR`/`LinearLR` warm-up ends at the phase lr divided by the warm-up factor of
its start, exactly as in FTS. Schedulers computed from the base lr (`LambdaLR`, `CosineAnnealingWarmRestarts`,
`CyclicLR`, `OneCycleLR`, and `SequentialLR` at a milestone) give it, from their next step on, what they give
a group that was there from the start with the phase lr as its base.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

from torch import Tensor
from torch.optim.lr_scheduler import (
    ChainedScheduler,
    ConstantLR,
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    CyclicLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    LRScheduler,
    MultiplicativeLR,
    MultiStepLR,
    OneCycleLR,
    PolynomialLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)

from ftsc.runtime.errors import RuntimeConfigError

# Every scheduler class of torch.optim.lr_scheduler, each carried across a transition (and tested so in
# tests/runtime/test_param_groups.py). A subclass is carried as its torch parent is; any other LRScheduler
# gets FTS's generic treatment (`base_lrs`, and `lr_lambdas` where it has them). The compiler keeps the same
# list by name (`ftsc.compiler.optim.RUNTIME_LR_SCHEDULERS`), since it never imports torch.
CARRIED_SCHEDULERS: tuple[type[LRScheduler], ...] = (
    LambdaLR,
    MultiplicativeLR,
    StepLR,
    MultiStepLR,
    ConstantLR,
    LinearLR,
    ExponentialLR,
    PolynomialLR,
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    CyclicLR,
    OneCycleLR,
    ReduceLROnPlateau,
    SequentialLR,
    ChainedScheduler,
)

Group = dict[str, Any]


def carry_scheduler(scheduler: LRScheduler, groups: Sequence[Group], base_lr: float) -> None:
    """Extend `scheduler` (and the schedulers it wraps) for `groups`, just added to its optimizer with
    `base_lr` as their base lr, so its next `step()` schedules them too."""
    if not isinstance(scheduler, LRScheduler):
        raise RuntimeConfigError(
            f"the lr scheduler is a `{type(scheduler).__name__}`, not a torch `LRScheduler`, so ftsc cannot "
            "give the parameter groups a phase adds their part of its state; use a scheduler from "
            "torch.optim.lr_scheduler (or a subclass of one)"
        )
    if not groups:
        return
    for each in _tree(scheduler):
        _extend(each, groups, base_lr)
    for each in _tree(scheduler, composites=True):
        # get_last_lr() keeps one lr per group, as it would had the groups been there when it last stepped.
        each._last_lr = [_copy(group["lr"]) for group in each.optimizer.param_groups]


def keep_first_group(scheduler: LRScheduler) -> None:
    """Cut `scheduler`'s per-group state (and that of the schedulers it wraps) to its optimizer's first group,
    for when the other groups are dropped before any step (phase 0 enforced on the user's optimizer)."""
    for each in _tree(scheduler, composites=True):
        for attribute in PER_GROUP_LISTS:
            values = getattr(each, attribute, None)
            if isinstance(values, list) and len(values) > 1:
                setattr(each, attribute, values[:1])


# torch schedulers' per-group state: one entry per optimizer group.
PER_GROUP_LISTS = (
    "base_lrs",
    "_last_lr",
    "lr_lambdas",
    "min_lrs",
    "max_lrs",
    "base_momentums",
    "max_momentums",
)


def _copy(lr: float | Tensor) -> float | Tensor:
    """A tensor lr copied, as torch keeps `_last_lr` (so it never aliases the group's)."""
    return lr.clone() if isinstance(lr, Tensor) else lr


def lambda_factor(scheduler: LRScheduler) -> float:
    """What FTS's `apply_lambdas_new_pgs` multiplies a new group's starting lr by: the scheduler's latest lr
    lambda at its current epoch (1 for schedulers without lambdas; the active one of a `SequentialLR`, the
    product over a `ChainedScheduler`)."""
    if isinstance(scheduler, SequentialLR):
        return lambda_factor(_active(scheduler))
    if isinstance(scheduler, ChainedScheduler):
        return math.prod(lambda_factor(child) for child in scheduler._schedulers)
    lambdas = getattr(scheduler, "lr_lambdas", None)
    return float(lambdas[-1](scheduler.last_epoch)) if lambdas else 1.0


def _active(scheduler: SequentialLR) -> LRScheduler:
    """The child a `SequentialLR` steps at its current epoch (as `SequentialLR.step` chooses it)."""
    milestones = scheduler._milestones
    index = sum(1 for milestone in milestones if milestone <= scheduler.last_epoch)
    return scheduler._schedulers[index]


def _tree(scheduler: LRScheduler, *, composites: bool = False) -> Iterator[LRScheduler]:
    """The schedulers that hold per-group state: `scheduler` itself, or the children of a composite."""
    if isinstance(scheduler, SequentialLR | ChainedScheduler):
        if composites:
            yield scheduler
        for child in scheduler._schedulers:
            yield from _tree(child, composites=composites)
    else:
        yield scheduler


def _extend(scheduler: LRScheduler, groups: Sequence[Group], base_lr: float) -> None:
    added = len(groups)
    if isinstance(scheduler, ReduceLROnPlateau):
        # The first group's floor, as FTS does; with a scalar `min_lr` torch would refill it the same way.
        scheduler.min_lrs.extend([scheduler.min_lrs[0]] * added)
        return
    cycle_base = base_lr
    if isinstance(scheduler, OneCycleLR):
        _extend_one_cycle(scheduler, groups, base_lr)
    elif isinstance(scheduler, CyclicLR):
        cycle_base = _extend_cyclic(scheduler, groups, base_lr)
    scheduler.base_lrs.extend([cycle_base] * added)
    lambdas = getattr(scheduler, "lr_lambdas", None)
    if lambdas:
        # The latest lambda, as FTS does; `load_state_dict` may already have lengthened the list.
        missing = len(scheduler.optimizer.param_groups) - len(lambdas)
        lambdas.extend([lambdas[-1]] * max(missing, 0))


def _extend_one_cycle(scheduler: OneCycleLR, groups: Sequence[Group], base_lr: float) -> None:
    """`OneCycleLR` reads each group's `initial_lr`, `max_lr`, `min_lr` (and momenta): the new group gets the
    first group's cycle scaled to start at `base_lr`, and the momenta, which no lr scales, as they are."""
    first = scheduler.optimizer.param_groups[0]
    scale = base_lr / float(first["initial_lr"])
    for group in groups:
        group["initial_lr"] = base_lr
        group["max_lr"] = float(first["max_lr"]) * scale
        group["min_lr"] = float(first["min_lr"]) * scale
        if scheduler.cycle_momentum:
            group["max_momentum"] = first["max_momentum"]
            group["base_momentum"] = first["base_momentum"]
            _copy_momentum(first, group, use_beta1=scheduler.use_beta1)


def _extend_cyclic(scheduler: CyclicLR, groups: Sequence[Group], base_lr: float) -> float:
    """`CyclicLR` cycles each group between its `base_lr` and `max_lr`: the new group gets the first group's
    cycle scaled to start at `base_lr` (or, when that cycle starts at 0, to peak at `base_lr`). Returns the
    new group's `base_lr`."""
    first_base, first_max = float(scheduler.base_lrs[0]), float(scheduler.max_lrs[0])
    scale = base_lr / (first_base or first_max)
    scheduler.max_lrs.extend([first_max * scale] * len(groups))
    if scheduler.cycle_momentum:
        scheduler.base_momentums.extend([scheduler.base_momentums[0]] * len(groups))
        scheduler.max_momentums.extend([scheduler.max_momentums[0]] * len(groups))
        first = scheduler.optimizer.param_groups[0]
        for group in groups:
            group["max_momentum"] = scheduler.max_momentums[0]
            group["base_momentum"] = scheduler.base_momentums[0]
            _copy_momentum(first, group, use_beta1=scheduler.use_beta1)
    return first_base * scale


def _copy_momentum(source: Group, target: Group, *, use_beta1: bool) -> None:
    """The scheduler's current momentum (or Adam's beta1) until its next step sets the new group's own."""
    if use_beta1:
        target["betas"] = (source["betas"][0], *target["betas"][1:])
    else:
        target["momentum"] = source["momentum"]
