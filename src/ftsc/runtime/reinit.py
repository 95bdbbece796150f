"""New optimizers and lr schedulers at a phase transition (`optimizer = …` / `lr_scheduler = …` in a phase or
in `defaults`), created from the plan's `{"class_path", "init_args"}` with Fine-Tuning Scheduler's lr rules.

Class paths follow the language: a bare name is looked up in `torch.optim` (optimizers) or
`torch.optim.lr_scheduler` (lr schedulers), a dotted one is imported as written. An argument that is itself
`{"class_path", "init_args"}` (a call inside a call, e.g. the `schedulers` of `SequentialLR`) is created
first, lr schedulers among them on the same optimizer.

Deliberate difference from FTS: an `init_pg_lrs` whose length is not the optimizer's number of parameter
groups is an error here; FTS pairs the two lists up to the shorter one, leaving the other groups on whatever
lr they had.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler, ReduceLROnPlateau

from ftsc.runtime.errors import RuntimeConfigError
from ftsc.runtime.param_groups import NamedParameters, add_phase_groups, split_no_decay
from ftsc.wording import counted

Kind = Literal["optimizer", "lr_scheduler"]
HOME_MODULES: dict[Kind, str] = {"optimizer": "torch.optim", "lr_scheduler": "torch.optim.lr_scheduler"}


def build_optimizer(
    spec: Mapping[str, Any],
    phases: Sequence[tuple[NamedParameters, float | None]],
    *,
    no_decay: Sequence[str] | None = None,
) -> tuple[Optimizer, list[tuple[int, bool]]]:
    """A new optimizer holding every phase so far (FTS's `reinit_optimizer` and the depth sync after it):
    phase 0 (`phases[0]`) in the constructor's groups, each later phase added as a transition adds it, with
    its lr (where that is None, the new optimizer's). Each group gets an `initial_lr` (its lr, unless the
    optimizer set one) for a later lr scheduler to start from. Returns the optimizer and, per group,
    `(position in phases, is the no-decay half)`."""
    (first, _), later = phases[0], phases[1:]
    split = split_no_decay(first, no_decay)  # FTS `_reinit_phase0_pgs`: no lr, so the optimizer's own
    groups = [
        {"params": parameters, "weight_decay": 0.0} if free else {"params": parameters}
        for parameters, free in split
    ]
    optimizer = _create(spec, "optimizer", groups)
    if not isinstance(optimizer, Optimizer):
        raise RuntimeConfigError(
            f"`{spec['class_path']}` made a `{type(optimizer).__name__}`, not a torch optimizer; "
            "name a subclass of torch.optim.Optimizer in `optimizer = …`"
        )
    layout = [(0, free) for _, free in split]
    for position, (named, lr) in enumerate(later, start=1):
        phase_lr = lr if lr is not None else float(optimizer.defaults["lr"])
        added = add_phase_groups(optimizer, None, named, phase_lr, no_decay=no_decay)
        layout += [(position, group.no_decay) for group in added]
    for group in optimizer.param_groups:
        group.setdefault("initial_lr", group["lr"])
    return optimizer, layout


def build_lr_scheduler(
    spec: Mapping[str, Any],
    optimizer: Optimizer,
    *,
    init_pg_lrs: Sequence[float] | None = None,
    use_current_optimizer_pg_lrs: bool | None = None,
) -> tuple[LRScheduler, dict[str, Any]]:
    """A new lr scheduler on `optimizer` from the plan's `lr_scheduler` entry, and the keyword arguments of
    Lightning's `LRSchedulerConfig` for it (the entry's `config`, and `reduce_on_plateau` as FTS sets it).

    First each group's lr is set by FTS's precedence:

    1. `init_pg_lrs`, one per group, which also become the groups' `initial_lr`;
    2. else, with `use_current_optimizer_pg_lrs`, the lr each group has now;
    3. else the group's `initial_lr` (its lr when it has none).

    torch keeps an existing `initial_lr` as the new scheduler's base lr, so under 2 a scheduler computed from
    its base lrs (`LambdaLR`, `CosineAnnealingWarmRestarts`) moves the groups back to `initial_lr` as soon as
    it is created, as it does under FTS."""
    groups = optimizer.param_groups
    if init_pg_lrs:
        if len(init_pg_lrs) != len(groups):
            raise RuntimeConfigError(
                f"`init_pg_lrs` gives {counted(len(init_pg_lrs), 'lr')} for `{spec['class_path']}`, and the "
                f"optimizer has {counted(len(groups), 'parameter group')} here (one per phase so far, two "
                "per phase when the module sets `no_decay`); give one lr per group"
            )
        for group, lr in zip(groups, init_pg_lrs, strict=True):
            group["lr"] = group["initial_lr"] = lr
    elif not use_current_optimizer_pg_lrs:
        for group in groups:
            group["lr"] = group.get("initial_lr", group["lr"])
    scheduler = _create(spec, "lr_scheduler", optimizer)
    if not isinstance(scheduler, LRScheduler):
        raise RuntimeConfigError(
            f"`{spec['class_path']}` made a `{type(scheduler).__name__}`, not a torch lr scheduler; name a "
            "subclass of torch.optim.lr_scheduler.LRScheduler in `lr_scheduler = …`"
        )
    config = {**spec.get("config", {}), "reduce_on_plateau": isinstance(scheduler, ReduceLROnPlateau)}
    return scheduler, config


def load_class(class_path: str, kind: Kind) -> type:
    """The class a plan names: bare names from torch's home module for `kind`, dotted ones imported."""
    module_name, _, name = class_path.rpartition(".")
    module_name = module_name or HOME_MODULES[kind]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise RuntimeConfigError(
            f"cannot import `{module_name}` for `{class_path}` ({exc}); install it where training runs, "
            "or correct the class name in the schedule"
        ) from None
    found = getattr(module, name, None)
    if not isinstance(found, type):
        raise RuntimeConfigError(
            f"`{module_name}` has no class `{name}` (from `{class_path}`); "
            "correct the class name in the schedule"
        )
    return found


def _create(spec: Mapping[str, Any], kind: Kind, target: object, *, nested: bool = False) -> object:
    """Create a plan call: an optimizer over `target` (parameter groups), an lr scheduler on `target` (the
    optimizer); a call nested in a scheduler's arguments that is no scheduler (an lr lambda object) from its
    own arguments alone."""
    cls = load_class(spec["class_path"], kind)
    arguments = {key: _value(value, kind, target) for key, value in spec["init_args"].items()}
    try:
        if nested and not (kind == "lr_scheduler" and issubclass(cls, LRScheduler)):
            return cls(**arguments)
        return cls(target, **arguments) if kind == "optimizer" else cls(optimizer=target, **arguments)
    except (TypeError, ValueError, KeyError) as exc:
        raise RuntimeConfigError(
            f"cannot create `{spec['class_path']}` with {dict(spec['init_args'])}: {exc}; "
            "correct its arguments in the schedule"
        ) from exc


def _value(value: object, kind: Kind, target: object) -> object:
    """A plan value as an argument: the calls inside it created, everything else as it is."""
    if isinstance(value, Mapping):
        if set(value) == {"class_path", "init_args"}:
            return _create(value, kind, target, nested=True)
        return {key: _value(item, kind, target) for key, item in value.items()}
    if isinstance(value, list):
        return [_value(item, kind, target) for item in value]
    return value
