"""The optimizer side of a phase: phase 0's groups at the start, a new phase's group(s) at each transition
(or a re-created optimizer / lr scheduler where the phase says so), and restoring a checkpoint in between.

Group layout is deterministic — phase order, then namespace order within a phase — so replaying the plan
to a depth rebuilds exactly the layout a checkpoint's optimizer state was saved with.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.utilities.types import LRSchedulerConfig
from torch import nn
from torch.optim import Optimizer

from ftsc.runtime import param_groups, reinit, schedulers
from ftsc.runtime.plan_view import Options, PhaseSpec
from ftsc.runtime.state import GroupRecord

log = logging.getLogger("ftsc.runtime")

LrState = tuple[list[dict[str, Any]], list[float]]


def no_decay_names(pl_module: nn.Module) -> Sequence[str] | None:
    """The module's `no_decay` name fragments (FTS's convention), if it declares any."""
    value = getattr(pl_module, "no_decay", None)
    return tuple(value) if value else None


def start(
    trainer: pl.Trainer,
    pl_module: nn.Module,
    parameters: Mapping[str, nn.Parameter],
    phase0: PhaseSpec,
    options: Options,
) -> list[GroupRecord]:
    """Make the optimizer's groups hold exactly phase 0's parameters (`enforce_phase0_params`), as FTS does:
    the user's optimizer and lr schedulers are kept; only their parameter groups are rebuilt, with the
    optimizer's default hyper-parameters. Without enforcement a mismatch is reported, not changed."""
    optimizer = trainer.optimizers[0]
    wanted = [(name, parameters[name]) for name in phase0.params]
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    if held == {id(p) for _, p in wanted}:
        return [GroupRecord(0) for _ in optimizer.param_groups]
    if not options.enforce_phase0_params:
        log.warning(
            "ftsc: the optimizer from configure_optimizers holds %d parameter tensors but phase 0 thaws %d; "
            "enforce_phase0_params is off, so they are left as they are",
            len(held),
            len(wanted),
        )
        return [GroupRecord(0) for _ in optimizer.param_groups]
    log.info("ftsc: the optimizer's parameter groups are rebuilt to hold exactly phase 0's parameters")
    return [
        GroupRecord(0, free)
        for free in _reset_to_phase0(trainer, optimizer, wanted, no_decay_names(pl_module))
    ]


def _reset_to_phase0(
    trainer: pl.Trainer,
    optimizer: Optimizer,
    wanted: list[tuple[str, nn.Parameter]],
    no_decay: Sequence[str] | None,
) -> list[bool]:
    """Keep the user's first group (its hyper-parameters) with phase 0's parameters, drop the others, and cut
    the lr schedulers' per-group lists to match; a `no_decay` half is added as a second group."""
    split = param_groups.split_no_decay(wanted, no_decay)
    first = optimizer.param_groups[0]
    first["params"] = split[0][0]
    optimizer.param_groups[:] = [first]
    optimizer.state.clear()  # no step was taken yet: nothing to keep
    for config in trainer.lr_scheduler_configs:
        schedulers.keep_first_group(config.scheduler)
    flags = [False]
    if len(split) > 1:
        scheduler = trainer.lr_scheduler_configs[0].scheduler if trainer.lr_scheduler_configs else None
        base_lr = float(first.get("initial_lr", first["lr"]))
        optimizer.add_param_group(
            {"params": split[1][0], "lr": first["lr"], "initial_lr": base_lr, "weight_decay": 0.0}
        )
        if scheduler is not None:
            schedulers.carry_scheduler(scheduler, optimizer.param_groups[-1:], base_lr)
        flags.append(True)
    return flags


def add_phase(
    trainer: pl.Trainer,
    pl_module: nn.Module,
    parameters: Mapping[str, nn.Parameter],
    phase: PhaseSpec,
    options: Options,
    phases: Sequence[PhaseSpec],
    layout: list[GroupRecord],
) -> list[GroupRecord]:
    """Give `phase` its parameter group(s), re-creating the optimizer and/or lr scheduler where the phase (or
    the schedule's defaults) asks for it. Returns the optimizer's group layout afterwards (`layout`
    before)."""
    no_decay = no_decay_names(pl_module)
    lr = phase.lr if phase.lr is not None else options.lr
    new_optimizer = phase.optimizer or options.optimizer
    new_scheduler = phase.lr_scheduler or options.lr_scheduler
    if new_optimizer is not None:
        # A new optimizer holds every phase so far: phase 0 with the optimizer's own lr, each later phase
        # with its lr (FTS's reinit_optimizer followed by its depth sync).
        built = [
            (
                [(name, parameters[name]) for name in earlier.params],
                None if earlier.index == 0 else (earlier.lr if earlier.lr is not None else options.lr),
            )
            for earlier in phases[: phase.index + 1]
        ]
        current_lrs = [group["lr"] for group in trainer.optimizers[0].param_groups]
        optimizer, groups = reinit.build_optimizer(new_optimizer, built, no_decay=no_decay)
        # the earlier phases' groups go on at the lrs they have now (FTS `_restore_latest_lr_state`); a new lr
        # scheduler below may set them again by its own precedence
        for group, lr in zip(optimizer.param_groups, current_lrs, strict=False):
            group["lr"] = lr
        _install_optimizer(trainer, optimizer)
        layout = [GroupRecord(index, flag) for index, flag in groups]
        if new_scheduler is None and trainer.lr_scheduler_configs:
            # the current lr scheduler follows the new optimizer: give it the groups it does not know yet
            current = trainer.lr_scheduler_configs[0].scheduler
            known = len(getattr(current, "base_lrs", None) or getattr(current, "min_lrs", []))
            schedulers.carry_scheduler(current, optimizer.param_groups[known:], lr)
    else:
        scheduler = trainer.lr_scheduler_configs[0].scheduler if trainer.lr_scheduler_configs else None
        lambdas = getattr(scheduler, "lr_lambdas", None)
        if lambdas and not options.apply_lambdas_new_pgs:
            log.warning(
                "ftsc: %s gets lr %g as it is; the lr scheduler's lambdas apply to it only from its next "
                "step (set apply_lambdas_new_pgs = true to scale it now, as FTS does)",
                phase.label,
                lr,
            )
        named = [(name, parameters[name]) for name in phase.params]
        added = param_groups.add_phase_groups(
            trainer.optimizers[0],
            scheduler,
            named,
            lr,
            no_decay=no_decay,
            apply_lambdas=options.apply_lambdas_new_pgs,
        )
        layout = layout + [GroupRecord(phase.index, group.no_decay) for group in added]
    if new_scheduler is not None:
        scheduler, config = reinit.build_lr_scheduler(
            new_scheduler,
            trainer.optimizers[0],
            init_pg_lrs=phase.init_pg_lrs,
            use_current_optimizer_pg_lrs=bool(phase.use_current_optimizer_pg_lrs),
        )
        trainer.strategy.lr_scheduler_configs = [LRSchedulerConfig(scheduler=scheduler, **config)]
    return layout


def _install_optimizer(trainer: pl.Trainer, optimizer: Optimizer) -> None:
    """Replace the run's optimizer; existing lr schedulers follow it (FTS does the same)."""
    trainer.strategy.optimizers = [optimizer]
    for config in trainer.lr_scheduler_configs:
        config.scheduler.optimizer = optimizer


def lr_state(trainer: pl.Trainer) -> LrState:
    """The lr schedulers' state and the groups' lrs now, to re-apply after a best checkpoint is restored: the
    schedule goes on from here rather than rewinding to the checkpoint (as in FTS)."""
    saved = [copy.deepcopy(config.scheduler.state_dict()) for config in trainer.lr_scheduler_configs]
    return saved, [float(group["lr"]) for group in trainer.optimizers[0].param_groups]


def restore_lr_state(trainer: pl.Trainer, state: LrState) -> None:
    saved, lrs = state
    for config, scheduler_state in zip(trainer.lr_scheduler_configs, saved, strict=False):
        config.scheduler.load_state_dict(scheduler_state)
    for group, lr in zip(trainer.optimizers[0].param_groups, lrs, strict=False):
        group["lr"] = lr


def load_checkpoint(trainer: pl.Trainer, path: str) -> int | None:
    """Restore model weights, precision-plugin state, optimizer and lr scheduler states from `path` (not the
    loops or callbacks): the same connector calls a resume makes, so every strategy's format is handled.
    Returns the epoch the checkpoint was saved in, when it records one."""
    connector = trainer._checkpoint_connector
    resumed_from = connector._ckpt_path  # `trainer.ckpt_path` keeps naming the checkpoint the fit began from
    trainer.strategy.barrier("ftsc-restore-best")
    try:
        connector.resume_start(checkpoint_path=path)
        epoch = connector._loaded_checkpoint.get("epoch")
        connector.restore_model()
        connector.restore_precision_plugin_state()
        connector.restore_optimizers_and_schedulers()
    finally:
        connector.resume_end()
        connector._ckpt_path = resumed_from
    return epoch if isinstance(epoch, int) else None
