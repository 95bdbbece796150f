"""`FinetuningScheduler`: the Lightning callback that executes a plan, phase by phase.

The plan is the contract: the callback thaws what it lists, when it says, with the lrs it gives. Order of
work in a fit (why each step sits where it does):

- `setup`: load the plan (or compile the `.fts` schedule against the live model), pick the strategy adapter,
  add `FTSEarlyStopping` / `FTSCheckpoint` when the plan needs them. Nothing is frozen yet.
- `on_fit_start` (after `configure_model`, the strategy's wrapping and `configure_optimizers`): check the
  model against the plan's namespace, agree on the plan across ranks, freeze everything, thaw phase 0 (or
  every phase up to a resumed depth), make the optimizer's groups match, re-wrap DDP.
- `on_train_epoch_start`: move to the next phase when its epoch comes or early stopping ends the phase.
- `state_dict` / `load_state_dict`: the depth, group layout and plan fingerprint, versioned; a checkpoint of
  another plan is refused.

This module is the hooks and the callback's state; each decision's work lives in a room of its own:
`plan_source.py` (loading the plan, choosing the adapter), `companions.py` (early stopping and checkpoint
callbacks), `fit_checks.py` (the model, optimizer and checkpoint against the plan), `freezing.py` and
`transitions.py` (a phase's parameters and optimizer groups), `report.py` (what each phase start reports).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from torch import nn
from typing_extensions import override

from ftsc.adapters.base import StrategyAdapter
from ftsc.compiler.plan import plan_fingerprint
from ftsc.migrations import upgrade
from ftsc.runtime import companions, distributed, fit_checks, prefix, transitions
from ftsc.runtime.checkpoint import FTSCheckpoint
from ftsc.runtime.checkpoint_file import check_before_loading, read_callback_state
from ftsc.runtime.early_stopping import FTSEarlyStopping
from ftsc.runtime.errors import PlanMismatchError, RuntimeConfigError
from ftsc.runtime.freezing import freeze, thaw
from ftsc.runtime.names import canonical_parameters
from ftsc.runtime.plan_source import (
    PlanSource,
    check_adapters,
    check_schedule,
    compile_at_setup,
    load_plan,
    strategy_adapter,
)
from ftsc.runtime.plan_view import Options, PhaseSpec, last_depth, options_of, phases_of
from ftsc.runtime.report import (
    Restored,
    Transition,
    Trigger,
    log_transition,
    resume_trigger,
    shown_path,
    transition_of,
)
from ftsc.runtime.state import GroupRecord, SchedulerState

log = logging.getLogger("ftsc.runtime")


class FinetuningScheduler(Callback):
    """Execute a compiled phase plan, phase by phase: freeze the model, thaw phase 0, and at each phase's
    `until epoch` (or when early stopping ends it) thaw the next phase and give it its optimizer group(s).

    What can be checked without the model is checked here, so a mistake stops the script before any
    `Trainer.fit`: the plan file (missing, unreadable, invalid), the schedule (every error that does not
    depend on parameter names), and the strategy adapters named.

    Args:
        plan: a plan written by `ftsc compile` (a path), or the plan as a dict. Give `plan` or `schedule`,
            exactly one of the two.
        schedule: a `.fts` schedule, compiled at setup against the live model with the same compiler and
            diagnostics as `ftsc check`.
        lr: the lr of each new phase's group when the phase gives none.
        restore_best: before each new phase, load the best checkpoint so far (the trainer's monitored
            checkpoint callback keeps it; an `FTSCheckpoint` is added when it has none).
        epoch_transitions_only: move on only at each phase's `until epoch`, never by early stopping.
        max_depth: the last phase to run (later phases are left frozen); -1 runs every phase.
        enforce_phase0_params: rebuild the optimizer's groups from `configure_optimizers` so that they hold
            exactly phase 0's parameters.
        apply_lambdas_new_pgs: scale a new group's lr by a `LambdaLR`'s current lambda at its transition,
            as FTS does (otherwise from the next step).
        frozen_bn_track_running_stats: frozen BatchNorm layers keep tracking their running statistics.
        allow_untested: the schedule's `allow_untested`, kept in the run's options; it acts when a
            schedule is compiled (W305: an lr scheduler outside the set tested across phases), not here.
        optimizer: `{"class_path": …, "init_args": {…}}`: the optimizer every later phase re-creates
            (a phase's own `optimizer` wins).
        lr_scheduler: the same shape, for the lr scheduler.
        early_stopping: the arguments of the `FTSEarlyStopping` added when the trainer has none.
        checkpoint: the arguments of the `FTSCheckpoint` added when the trainer has none.
        custom_strategy_adapters: strategy flag → adapter reference (a built-in or plugin name,
            `module:Class` or `module.Class`), as in Fine-Tuning Scheduler.
        strategy_adapter_cfg: options for the chosen strategy adapter (else the plan's `adapter_options`).
        allow_plan_change: resume a checkpoint written under another plan (with a warning) instead of
            refusing it.
        report: log a report at each phase start (`ftsc.runtime.report`); False silences it.

    `lr` to `checkpoint` are the `defaults { }` settings of the schedule language (docs/language.md): each
    one given here wins over the plan's value; None keeps the plan's.

    Example:
        A plan compiled for a model (here in place; usually `ftsc compile model.fts -o plan.json` and
        `plan="plan.json"`), then a `Trainer` that runs it::

            >>> import lightning.pytorch as pl
            >>> from torch import nn
            >>> from ftsc.compiler.files import compile_file
            >>> from ftsc.namespaces.record import namespace_from_module
            >>> model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))
            >>> schedule = "fts 1\\nphase head { thaw 2.* until epoch 1 }\\nphase rest { thaw rest }\\n"
            >>> plan = compile_file(schedule, None, namespace=namespace_from_module(model)).plan
            >>> scheduler = FinetuningScheduler(plan=plan, lr=1e-3, epoch_transitions_only=True)
            >>> [(phase.name, phase.params) for phase in scheduler.phases]
            [('head', ('2.weight', '2.bias')), ('rest', ('0.weight', '0.bias'))]
            >>> trainer = pl.Trainer(callbacks=[scheduler], max_epochs=3, logger=False)
            >>> scheduler in trainer.callbacks
            True
    """

    def __init__(
        self,
        plan: PlanSource | None = None,
        schedule: str | os.PathLike[str] | None = None,
        *,
        lr: float | None = None,
        restore_best: bool | None = None,
        epoch_transitions_only: bool | None = None,
        max_depth: int | None = None,
        enforce_phase0_params: bool | None = None,
        apply_lambdas_new_pgs: bool | None = None,
        frozen_bn_track_running_stats: bool | None = None,
        allow_untested: bool | None = None,
        optimizer: Mapping[str, Any] | None = None,
        lr_scheduler: Mapping[str, Any] | None = None,
        early_stopping: Mapping[str, Any] | None = None,
        checkpoint: Mapping[str, Any] | None = None,
        custom_strategy_adapters: Mapping[str, str] | None = None,
        strategy_adapter_cfg: Mapping[str, Any] | None = None,
        allow_plan_change: bool = False,
        report: bool = True,
    ) -> None:
        if (plan is None) == (schedule is None):
            raise RuntimeConfigError(
                "FinetuningScheduler takes a plan (plan=PATH or dict, from `ftsc compile`) or a schedule "
                "(schedule=PATH.fts), exactly one of the two"
            )
        check_adapters(custom_strategy_adapters)
        self.plan_source = plan
        self.schedule_path = schedule
        self.overrides: dict[str, Any] = {
            "lr": lr,
            "restore_best": restore_best,
            "epoch_transitions_only": epoch_transitions_only,
            "max_depth": max_depth,
            "enforce_phase0_params": enforce_phase0_params,
            "apply_lambdas_new_pgs": apply_lambdas_new_pgs,
            "frozen_bn_track_running_stats": frozen_bn_track_running_stats,
            "allow_untested": allow_untested,
            "optimizer": optimizer,
            "lr_scheduler": lr_scheduler,
            "early_stopping": early_stopping,
            "checkpoint": checkpoint,
        }
        self.custom_strategy_adapters = custom_strategy_adapters
        self.strategy_adapter_cfg = strategy_adapter_cfg
        self.allow_plan_change = allow_plan_change
        self.report = report
        self.plan: dict[str, Any] | None = None
        self.phases: list[PhaseSpec] = []
        self.options: Options | None = None
        self.fingerprint = ""
        self.adapter: StrategyAdapter | None = None
        self.names = prefix.NameMap()  # plan names -> live names (`use namespace … at model`)
        self.depth = 0
        self.groups: list[GroupRecord] = []
        self.optimizer_phase = 0
        self.scheduler_phase = 0
        self.history: list[Transition] = []
        self._resumed: SchedulerState | None = (
            None  # loaded before the optimizer exists: applied at fit start
        )
        self._fit_started = False
        self._awaiting_resume = False  # a sharded strategy may still load a checkpoint (see below)
        self._trainer: pl.Trainer | None = None
        self._fit_start_trigger: Trigger | None = None  # the fit's first phase start, reported at train start
        if plan is not None:
            self._set_plan(load_plan(plan))
        else:
            assert schedule is not None
            check_schedule(schedule)

    # --- properties -----------------------------------------------------------------------------------------

    @property
    def last_depth(self) -> int:
        assert self.options is not None
        return last_depth(self.phases, self.options)

    @property
    def final_phase(self) -> bool:
        return self.depth >= self.last_depth

    def _opts(self) -> Options:
        if self.options is None:
            raise RuntimeConfigError("FinetuningScheduler is used before Trainer.fit set it up")
        return self.options

    # --- setup ----------------------------------------------------------------------------------------------

    @override
    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if stage != "fit":
            return
        self._trainer = trainer
        check_before_loading(trainer.strategy)  # a damaged checkpoint is refused before anything loads
        if self.plan is None:
            assert self.schedule_path is not None
            self._set_plan(compile_at_setup(self.schedule_path, pl_module))
        assert self.plan is not None
        flag = distributed.strategy_flag(trainer.strategy)
        self.adapter = strategy_adapter(
            self.plan, flag, self.custom_strategy_adapters, self.strategy_adapter_cfg
        )
        self.adapter.connect(self)
        distributed.check_ddp_options(trainer.strategy)
        if trainer.strategy.restore_checkpoint_after_setup:
            self._intercept_sharded_resume(trainer.strategy)
        companions.install_companions(trainer, self._opts())
        self.adapter.on_setup(trainer, pl_module, self.plan)

    def _set_plan(self, plan: dict[str, Any]) -> None:
        check_adapters({"plan": plan["namespace"]["adapter"]})
        self.plan = plan
        self.phases = phases_of(plan)
        self.options = options_of(plan, self.overrides)
        self.fingerprint = plan_fingerprint(plan)

    # --- the start of the fit -------------------------------------------------------------------------------

    @override
    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        options = self._opts()
        fit_checks.check_one_optimizer(trainer)
        parameters = self._parameters(pl_module)
        if self._use_live_names(list(parameters)):
            parameters = self._parameters(pl_module)  # the adapter sees the phases in live names now
        distributed.agree_on_plan(trainer, self.fingerprint)
        resumed = self._resumed
        if resumed is not None:
            fit_checks.check_resumed_names(resumed, self.names)
        self.depth = resumed.depth if resumed is not None else 0
        freeze(pl_module, options.frozen_bn_track_running_stats)
        for index in range(self.depth + 1):
            self._thaw(pl_module, parameters, self.phases[index])
        if resumed is not None:
            self._rebuild(trainer, pl_module, self.depth)
            self._resumed = None
        else:
            self.groups = transitions.start(trainer, pl_module, parameters, self.phases[0], options)
            per_phase = 2 if transitions.no_decay_names(pl_module) else 1
            fit_checks.check_init_pg_lrs(self.phases, len(self.groups), per_phase)
        distributed.rewrap_ddp(trainer)
        self._fit_started = True
        self._awaiting_resume = trainer.strategy.restore_checkpoint_after_setup
        trigger = resume_trigger(trainer) if resumed else Trigger("start")
        self._phase_started(trainer)
        self._fit_start_trigger = trigger

    @override
    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._awaiting_resume = False  # any resume has happened by now
        if self._fit_start_trigger is not None:  # the loops are restored now: the epoch is the resumed one
            self._record(trainer, self._fit_start_trigger)
            self._fit_start_trigger = None

    def _intercept_sharded_resume(self, strategy: Any) -> None:
        """FSDP and ModelParallel restore a checkpoint after `on_fit_start`, and load its optimizer state
        into the optimizer as it is *before* restoring callbacks — silently dropping the state of the groups
        it lacks. Their `load_checkpoint` is wrapped so the callback builds the checkpoint's group layout
        (read from the checkpoint's metadata) first."""
        if getattr(strategy.load_checkpoint, "ftsc_wrapped", False):
            return
        load = strategy.load_checkpoint

        def load_checkpoint(checkpoint_path: Any, *args: Any, **kwargs: Any) -> Any:
            if self._awaiting_resume:
                self._awaiting_resume = False
                saved = read_callback_state(str(checkpoint_path), self.state_key)
                if saved is not None:
                    state = self._accepted(saved)
                    if state.depth != self.depth or state.groups != self.groups:
                        self._resume_now(state)
            return load(checkpoint_path, *args, **kwargs)

        load_checkpoint.ftsc_wrapped = True  # type: ignore[attr-defined]
        strategy.load_checkpoint = load_checkpoint

    def _parameters(self, pl_module: pl.LightningModule) -> Mapping[str, nn.Parameter]:
        """Plan name → the tensor to thaw and hand the optimizer, as the adapter sees the wrapped model
        (FSDP1's flat parameters); the canonical parameters without an adapter."""
        if self.adapter is None:
            return canonical_parameters(pl_module)
        return self.adapter.live_parameters(pl_module)

    def _use_live_names(self, live: list[str]) -> bool:
        """Check the live names against the plan's and put the phases into live names; True when that
        changed them (a prefix), so the parameters must be looked up again."""
        assert self.plan is not None
        phases = phases_of(self.plan)  # in plan names, also on a second fit
        names = fit_checks.live_names(self.plan, phases, live, self._where())
        self.names = names
        if not names.identity:
            phases = [replace(phase, params=tuple(map(names.live, phase.params))) for phase in phases]
        changed = phases != self.phases
        self.phases = phases
        return changed

    def _where(self) -> str:
        source = self.schedule_path or self.plan_source
        return f" ({source})" if isinstance(source, (str, os.PathLike)) else ""

    def _thaw(self, module: nn.Module, parameters: Mapping[str, nn.Parameter], phase: PhaseSpec) -> None:
        thawed = thaw(module, parameters, phase.params, self._opts().frozen_bn_track_running_stats)
        if self.adapter is not None:
            self.adapter.on_phase_start(phase.index, phase.params)
        log.debug("ftsc: %s thawed %d parameter tensors", phase.label, thawed)

    # --- transitions ----------------------------------------------------------------------------------------

    @override
    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.depth >= self.last_depth:
            return
        trigger = self._transition_trigger(trainer)
        if trigger is not None:
            self._advance(trainer, pl_module, trigger)

    def _transition_trigger(self, trainer: pl.Trainer) -> Trigger | None:
        """Why the current phase ends now (its `until epoch`, or early stopping on any rank), or None."""
        phase = self.phases[self.depth]
        by_epoch = 0 <= phase.max_transition_epoch <= trainer.current_epoch
        stopping = self.early_stopping_callback(trainer)
        if not self._opts().epoch_transitions_only:
            complete = stopping is not None and stopping.phase_complete
            if distributed.any_rank(trainer, complete) and not by_epoch:
                return Trigger("early_stopping", monitor=stopping.monitor if stopping is not None else None)
        return Trigger("epoch", until_epoch=phase.max_transition_epoch) if by_epoch else None

    def _advance(self, trainer: pl.Trainer, pl_module: pl.LightningModule, trigger: Trigger) -> None:
        options = self._opts()
        target = self.phases[self.depth + 1]
        parameters = self._parameters(pl_module)
        lr_state = transitions.lr_state(trainer)
        restored = None
        if options.restore_best:
            restored = self._restore_best(trainer, pl_module)
            transitions.restore_lr_state(trainer, lr_state)
        self._thaw(pl_module, parameters, target)
        self.groups = transitions.add_phase(
            trainer, pl_module, parameters, target, options, self.phases, self.groups
        )
        self._note_reinit(target, options)
        self.depth = target.index
        distributed.rewrap_ddp(trainer)
        self._phase_started(trainer)
        self._record(trainer, trigger, restored)

    def _note_reinit(self, phase: PhaseSpec, options: Options) -> None:
        if phase.optimizer is not None or options.optimizer is not None:
            self.optimizer_phase = phase.index
        if phase.lr_scheduler is not None or options.lr_scheduler is not None:
            self.scheduler_phase = phase.index

    def _phase_started(self, trainer: pl.Trainer) -> None:
        stopping = self.early_stopping_callback(trainer)
        if stopping is not None:
            stopping.start_phase(final=self.final_phase)
        checkpoint = self.checkpoint_callback(trainer)
        if isinstance(checkpoint, FTSCheckpoint):
            checkpoint.note_depth(self.depth)

    def _record(self, trainer: pl.Trainer, trigger: Trigger, restored: Restored | None = None) -> None:
        """Keep the phase start in `history` and report it (rank zero, unless `report=False`)."""
        transition = transition_of(trainer, self.depth, self.phases, self.groups, trigger, restored)
        self.history.append(transition)
        if self.report and trainer.is_global_zero:
            log_transition(transition)

    # --- restoring ------------------------------------------------------------------------------------------

    def _restore_best(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> Restored | None:
        """Load the best checkpoint so far into the model, optimizer and lr schedulers before the next phase;
        a best checkpoint from an earlier phase first gets that phase's optimizer layout back."""
        checkpoint = self.checkpoint_callback(trainer)
        path = getattr(checkpoint, "best_model_path", "")
        if checkpoint is None or not path:
            log.warning(
                "ftsc: restore_best is on but no best checkpoint was saved yet; continuing without it"
            )
            return None
        best_depth = checkpoint.best_depth if isinstance(checkpoint, FTSCheckpoint) else self._depth_in(path)
        if best_depth != self.depth:
            self._rebuild(trainer, pl_module, best_depth)
        epoch = transitions.load_checkpoint(trainer, path)
        parameters = self._parameters(pl_module)
        for index in range(best_depth + 1, self.depth + 1):
            self.groups = transitions.add_phase(
                trainer, pl_module, parameters, self.phases[index], self._opts(), self.phases, self.groups
            )
            self._note_reinit(self.phases[index], self._opts())
        score = checkpoint.best_model_score
        return Restored(shown_path(path), epoch, checkpoint.monitor, None if score is None else float(score))

    def _depth_in(self, path: str) -> int:
        state = read_callback_state(path, self.state_key)
        if state is None:
            raise PlanMismatchError(
                f"{path} holds no FinetuningScheduler state; cannot tell which phase it is from"
            )
        return SchedulerState.from_dict(upgrade("checkpoint", state)[0]).depth

    def _rebuild(self, trainer: pl.Trainer, pl_module: pl.LightningModule, depth: int) -> None:
        """Give the optimizer and lr schedulers the layout they had at `depth` (fresh from
        `configure_optimizers`, phase 0 enforced, each later phase replayed), ready for a checkpoint's
        state."""
        options = self._opts()
        parameters = self._parameters(pl_module)
        if self._fit_started:
            trainer.strategy.setup_optimizers(trainer)
        self.groups = transitions.start(trainer, pl_module, parameters, self.phases[0], options)
        self.optimizer_phase = self.scheduler_phase = 0
        for index in range(1, depth + 1):
            phase = self.phases[index]
            self.groups = transitions.add_phase(
                trainer, pl_module, parameters, phase, options, self.phases, self.groups
            )
            self._note_reinit(phase, options)

    # --- state ----------------------------------------------------------------------------------------------

    @override
    def state_dict(self) -> dict[str, Any]:
        if self.plan is None:
            return {}
        assert self.plan is not None
        state = SchedulerState(
            plan_fingerprint=self.fingerprint,
            namespace_fingerprint=str(self.plan["namespace"]["fingerprint"]),
            depth=self.depth,
            groups=list(self.groups),
            optimizer_phase=self.optimizer_phase,
            scheduler_phase=self.scheduler_phase,
            adapter=self.adapter.state_dict() if self.adapter is not None else {},
            names={"drop": self.names.drop, "add": self.names.add},
        )
        return state.to_dict()

    @override
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if not state_dict:
            return
        state = self._accepted(state_dict)
        if self.adapter is not None:
            self.adapter.load_state_dict(state.adapter)
        if not self._fit_started:
            self._resumed = state
        elif state.depth != self.depth or state.groups != self.groups:
            # a sharded strategy restored callbacks after on_fit_start without the layout built from it there
            log.warning(
                "ftsc: the optimizer layout of the checkpoint (phase %d) is rebuilt after its state was "
                "loaded; the state of groups added now starts afresh",
                state.depth,
            )
            self._resume_now(state)

    def _accepted(self, state_dict: dict[str, Any]) -> SchedulerState:
        """The saved state, upgraded to the current version, if it belongs to this plan (or may)."""
        fingerprint = self.fingerprint if self.plan is not None else None
        return fit_checks.accepted_state(state_dict, fingerprint, len(self.phases), self.allow_plan_change)

    def _resume_now(self, state: SchedulerState) -> None:
        trainer = self._current_trainer()
        pl_module = trainer.lightning_module
        parameters = self._parameters(pl_module)
        for index in range(self.depth + 1, state.depth + 1):
            self._thaw(pl_module, parameters, self.phases[index])
        self.depth = state.depth
        self._rebuild(trainer, pl_module, state.depth)
        distributed.rewrap_ddp(trainer)
        self._phase_started(trainer)
        if self._fit_start_trigger is not None:  # before training: reported at its start
            self._fit_start_trigger = resume_trigger(trainer)
        else:
            self._record(trainer, resume_trigger(trainer))

    def _current_trainer(self) -> pl.Trainer:
        if self._trainer is None:
            raise RuntimeConfigError("FinetuningScheduler state was loaded outside a fit")
        return self._trainer

    # --- finding the companion callbacks --------------------------------------------------------------------

    @staticmethod
    def early_stopping_callback(trainer: pl.Trainer) -> FTSEarlyStopping | None:
        return companions.early_stopping_callback(trainer)

    @staticmethod
    def checkpoint_callback(trainer: pl.Trainer) -> ModelCheckpoint | None:
        """The checkpoint callback `restore_best` uses: an `FTSCheckpoint`, else the first monitored one."""
        return companions.checkpoint_callback(trainer)
