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
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from ftsc.adapters.base import StrategyAdapter
from ftsc.adapters.registry import adapter_for_strategy
from ftsc.compiler.namespace import names_fingerprint
from ftsc.compiler.plan import plan_fingerprint
from ftsc.migrations import upgrade
from ftsc.runtime import distributed, prefix, transitions
from ftsc.runtime.checkpoint import FTSCheckpoint
from ftsc.runtime.checkpoint_file import check_before_loading
from ftsc.runtime.early_stopping import FTSEarlyStopping
from ftsc.runtime.errors import NamespaceMismatchError, PlanMismatchError, RuntimeConfigError
from ftsc.runtime.names import canonical_parameters, mismatch_report
from ftsc.runtime.plan_source import PlanSource, check_adapters, check_schedule, compile_for_module, load_plan
from ftsc.runtime.plan_view import Options, PhaseSpec, last_depth, options_of, phases_of
from ftsc.runtime.report import Restored, Transition, Trigger, log_transition
from ftsc.runtime.state import GroupRecord, SchedulerState
from ftsc.wording import counted

log = logging.getLogger("ftsc.runtime")


class FinetuningScheduler(Callback):
    """Execute a compiled phase plan (`plan=`: a plan file or dict) or a `.fts` schedule compiled at setup
    against the live model (`schedule=`); exactly one of the two.

    The other arguments are the `defaults { }` settings of the schedule language; each one given here wins
    over the plan's value (None: the plan's). `custom_strategy_adapters` / `strategy_adapter_cfg` choose and
    configure the strategy adapter as in Fine-Tuning Scheduler. `allow_plan_change=True` resumes a checkpoint
    written under another plan (with a warning) instead of refusing it. `report=False` silences the report
    logged at each phase start (`ftsc.runtime.report`).

    What can be checked without the model is checked here, so a mistake stops the script before any
    `Trainer.fit`: the plan file (missing, unreadable, invalid), the schedule (every error that does not
    depend on parameter names), and the strategy adapters named.
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

    # --- properties
    # ------------------------------------------------------------------------------------------

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

    # --- setup
    # -------------------------------------------------------------------------------------------------

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if stage != "fit":
            return
        self._trainer = trainer
        check_before_loading(trainer.strategy)  # a damaged checkpoint is refused before anything loads
        if self.plan is None:
            self._set_plan(self._compile(pl_module))
        self.adapter = self._make_adapter(trainer)
        self.adapter.connect(self)
        distributed.check_ddp_options(trainer.strategy)
        if trainer.strategy.restore_checkpoint_after_setup:
            self._intercept_sharded_resume(trainer.strategy)
        self._install_callbacks(trainer)
        assert self.plan is not None
        self.adapter.on_setup(trainer, pl_module, self.plan)

    def _compile(self, pl_module: pl.LightningModule) -> dict[str, Any]:
        assert self.schedule_path is not None
        if not any(True for _ in pl_module.parameters()):
            raise RuntimeConfigError(
                f"{self.schedule_path}: the model has no parameters at setup (built in `configure_model`?), "
                f"so the "
                "schedule cannot be compiled against it; compile a plan with `ftsc compile` against an "
                "exported "
                "namespace and pass plan=PATH"
            )
        return compile_for_module(self.schedule_path, pl_module, None)

    def _set_plan(self, plan: dict[str, Any]) -> None:
        check_adapters({"plan": plan["namespace"]["adapter"]})
        self.plan = plan
        self.phases = phases_of(plan)
        self.options = options_of(plan, self.overrides)
        self.fingerprint = plan_fingerprint(plan)

    def _make_adapter(self, trainer: pl.Trainer) -> StrategyAdapter:
        assert self.plan is not None
        flag = distributed.strategy_flag(trainer.strategy)
        config = self.strategy_adapter_cfg
        namespace = self.plan["namespace"]
        adapter = adapter_for_strategy(flag, self.custom_strategy_adapters, config)
        if config is None and namespace["adapter"] == adapter.reference and namespace["adapter_options"]:
            adapter = adapter_for_strategy(flag, self.custom_strategy_adapters, namespace["adapter_options"])
        return adapter

    def _install_callbacks(self, trainer: pl.Trainer) -> None:
        """Add the early-stopping and checkpoint callbacks the plan needs (configured from its settings)."""
        options = self._opts()
        stopping = self.early_stopping_callback(trainer)
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
            self._install_checkpoint(trainer, stopping)

    def _install_checkpoint(self, trainer: pl.Trainer, stopping: FTSEarlyStopping | None) -> None:
        """Use the trainer's monitored checkpoint callback, or add an `FTSCheckpoint` (replacing only the
        unconfigured one Lightning adds by default; a user's own checkpoint callbacks are kept)."""
        options = self._opts()
        callbacks: list[Callback] = trainer.callbacks  # type: ignore[attr-defined]
        checkpoint = self.checkpoint_callback(trainer)
        if checkpoint is None or (
            options.checkpoint is not None and not isinstance(checkpoint, FTSCheckpoint)
        ):
            monitor = stopping.monitor if stopping is not None else "val_loss"
            checkpoint = FTSCheckpoint(**dict(options.checkpoint or {"monitor": monitor, "save_top_k": 1}))
            callbacks[:] = [c for c in callbacks if not _lightning_default_checkpoint(c)] + [checkpoint]
        if options.restore_best and (not checkpoint.monitor or checkpoint.save_top_k == 0):
            raise RuntimeConfigError(
                "restore_best needs a checkpoint callback with a monitored metric and save_top_k != 0; set "
                '`checkpoint = { monitor = "val_loss" }` in the schedule\'s defaults, or restore_best = false'
            )

    # --- the start of the fit
    # --------------------------------------------------------------------------------

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        options = self._opts()
        if len(trainer.optimizers) != 1:
            raise RuntimeConfigError(
                f"FinetuningScheduler needs exactly one optimizer from configure_optimizers "
                f"(found {len(trainer.optimizers)})"
            )
        parameters = self._parameters(pl_module)
        if self._check_namespace(list(parameters)):
            parameters = self._parameters(pl_module)  # the adapter sees the phases in live names now
        distributed.agree_on_plan(trainer, self.fingerprint)
        resumed = self._resumed
        if resumed is not None:
            self._check_resumed_names(resumed)
        self.depth = resumed.depth if resumed is not None else 0
        freeze(pl_module, options.frozen_bn_track_running_stats)
        for index in range(self.depth + 1):
            self._thaw(pl_module, parameters, self.phases[index])
        if resumed is not None:
            self._rebuild(trainer, pl_module, self.depth)
            self._resumed = None
        else:
            self.groups = transitions.start(trainer, pl_module, parameters, self.phases[0], options)
            self._check_init_pg_lrs(pl_module)
        distributed.rewrap_ddp(trainer)
        self._fit_started = True
        self._awaiting_resume = trainer.strategy.restore_checkpoint_after_setup
        trigger = _resume_trigger(trainer) if resumed else Trigger("start")
        self._phase_started(trainer)
        self._fit_start_trigger = trigger

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

    def _check_init_pg_lrs(self, pl_module: pl.LightningModule) -> None:
        """`init_pg_lrs` gives one lr per group the optimizer has at its phase: known now (phase 0's groups,
        then one group per phase, two with `no_decay`), so a wrong length stops the run before training."""
        per_phase = 2 if transitions.no_decay_names(pl_module) else 1
        for phase in self.phases[1:]:
            expected = len(self.groups) + per_phase * phase.index
            if phase.init_pg_lrs is not None and len(phase.init_pg_lrs) != expected:
                raise RuntimeConfigError(
                    f"{phase.label}: `init_pg_lrs` gives {counted(len(phase.init_pg_lrs), 'lr')}, and the "
                    f"optimizer will have {counted(expected, 'parameter group')} there (phase 0's "
                    f"{len(self.groups)}, then {per_phase} per phase); give one lr per group"
                )

    def _check_namespace(self, live: list[str]) -> bool:
        """Check the live names against the plan's, through `namespace.prefix`; True when the phases were
        put into live names (a prefix), so the parameters must be looked up again."""
        assert self.plan is not None
        namespace = self.plan["namespace"]
        stated = str(namespace.get("prefix", ""))
        names = prefix.NameMap.of_prefix(stated)
        phases = phases_of(self.plan)  # in plan names, also on a second fit
        if names.identity and names_fingerprint(live) == namespace["fingerprint"]:
            return self._use_names(names, phases)
        expected = [name for phase in phases for name in phase.params] + list(self.plan["frozen"])
        if not prefix.fits(expected, live, names):
            fit = prefix.find_fit(expected, live)
            if fit is None or (fit.names.identity and names.identity):
                raise NamespaceMismatchError(
                    f"the model does not fit the plan{self._where()}: {mismatch_report(expected, live)}; "
                    "recompile the schedule against this model (`ftsc namespace export`, then `ftsc compile`)"
                )
            if not fit.exact or stated:  # a stated prefix that does not fit is an error, never a guess
                message = prefix.mismatch_line(fit, stated)
                raise NamespaceMismatchError(f"the model does not fit the plan{self._where()}: {message}")
            log.info("ftsc: %s", prefix.running_note(fit))
            names = fit.names
        elif names.identity:
            log.debug(
                "ftsc: the model lists the plan's parameters in another order; the plan applies unchanged"
            )
        return self._use_names(names, phases)

    def _use_names(self, names: prefix.NameMap, phases: list[PhaseSpec]) -> bool:
        """Put the phases into live names; True when that changed them (look the parameters up again)."""
        self.names = names
        if not names.identity:
            phases = [replace(phase, params=tuple(map(names.live, phase.params))) for phase in phases]
        changed = phases != self.phases
        self.phases = phases
        return changed

    def _check_resumed_names(self, state: SchedulerState) -> None:
        saved = prefix.NameMap(state.names.get("drop", ""), state.names.get("add", ""))
        if saved != self.names:
            raise PlanMismatchError(
                f"the checkpoint was written with the plan's names {saved.describe()} in the trained module, "
                f"and this run finds them {self.names.describe()}; resume with the module it was written "
                "with, or start the run afresh"
            )

    def _where(self) -> str:
        source = self.schedule_path or self.plan_source
        return f" ({source})" if isinstance(source, (str, os.PathLike)) else ""

    def _thaw(self, module: nn.Module, parameters: Mapping[str, nn.Parameter], phase: PhaseSpec) -> None:
        thawed = thaw(module, parameters, phase.params, self._opts().frozen_bn_track_running_stats)
        if self.adapter is not None:
            self.adapter.on_phase_start(phase.index, phase.params)
        log.debug("ftsc: %s thawed %d parameter tensors", phase.label, thawed)

    # --- transitions
    # -----------------------------------------------------------------------------------------

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
        transition = self._transition(trainer, trigger, restored)
        self.history.append(transition)
        if self.report and trainer.is_global_zero:
            log_transition(transition)

    def _transition(self, trainer: pl.Trainer, trigger: Trigger, restored: Restored | None) -> Transition:
        """What the phase start looks like: counted on the LightningModule (sharded strategies: this rank's
        view), with each optimizer group's owner phase."""
        parameters = list(trainer.lightning_module.parameters())
        trainable = [p for p in parameters if p.requires_grad]
        owners = tuple(
            (self.phases[group.phase].name or f"phase {group.phase}")
            + (" (no decay)" if group.no_decay else "")
            for group in self.groups
        )
        return Transition(
            epoch=trainer.current_epoch,
            depth=self.depth,
            name=self.phases[self.depth].name,
            thawed=len(trainable),
            lrs=tuple(float(group["lr"]) for group in trainer.optimizers[0].param_groups),
            phases=len(self.phases),
            trigger=trigger,
            tensors=len(parameters),
            trainable=sum(p.numel() for p in trainable),
            total=sum(p.numel() for p in parameters),
            groups=owners,
            restored=restored,
        )

    # --- restoring
    # ---------------------------------------------------------------------------------------------

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
        return Restored(_shown_path(path), epoch, checkpoint.monitor, None if score is None else float(score))

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

    # --- state
    # -----------------------------------------------------------------------------------------------

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
        upgraded, _ = upgrade("checkpoint", state_dict)
        state = SchedulerState.from_dict(upgraded)
        if self.plan is not None and state.plan_fingerprint != self.fingerprint:
            message = (
                f"the checkpoint was written under another plan ({state.plan_fingerprint}, this run: "
                f"{self.fingerprint})"
            )
            if not self.allow_plan_change:
                raise PlanMismatchError(
                    message + "; resume with the plan it was written under, or pass "
                    "FinetuningScheduler(allow_plan_change=True) to continue under this one"
                )
            log.warning("ftsc: %s; continuing under this plan (allow_plan_change=True)", message)
        if state.depth >= len(self.phases) and self.phases:
            raise PlanMismatchError(
                f"the checkpoint is at phase {state.depth} but the plan has "
                f"{counted(len(self.phases), 'phase')}"
            )
        return state

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
            self._fit_start_trigger = _resume_trigger(trainer)
        else:
            self._record(trainer, _resume_trigger(trainer))

    def _current_trainer(self) -> pl.Trainer:
        if self._trainer is None:
            raise RuntimeConfigError("FinetuningScheduler state was loaded outside a fit")
        return self._trainer

    # --- finding the companion callbacks ------------------------------------------------------------------

    @staticmethod
    def early_stopping_callback(trainer: pl.Trainer) -> FTSEarlyStopping | None:
        found = [c for c in trainer.callbacks if isinstance(c, FTSEarlyStopping)]  # type: ignore[attr-defined]
        return found[0] if found else None

    @staticmethod
    def checkpoint_callback(trainer: pl.Trainer) -> ModelCheckpoint | None:
        """The checkpoint callback `restore_best` uses: an `FTSCheckpoint`, else the first monitored one."""
        callbacks = [c for c in trainer.callbacks if isinstance(c, ModelCheckpoint)]  # type: ignore[attr-defined]
        ours = [c for c in callbacks if isinstance(c, FTSCheckpoint)]
        monitored = [c for c in callbacks if c.monitor]
        return (ours or monitored or [None])[0]


def _resume_trigger(trainer: pl.Trainer) -> Trigger:
    path = trainer.ckpt_path
    return Trigger("resume", checkpoint=_shown_path(path) if path else None)


def _shown_path(path: str | os.PathLike[str]) -> str:
    """A checkpoint path as the report shows it: relative to the current folder when under it."""
    location = Path(path)
    try:
        return str(location.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(location)


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


def read_callback_state(path: str, key: str) -> dict[str, Any] | None:
    """The callback's state saved in a checkpoint file, or in a distributed checkpoint folder's metadata,
    without reading the tensors (memory-mapped); None when it holds none."""
    location = Path(path)
    file = location / "meta.pt" if location.is_dir() else location
    if not file.is_file():
        return None
    data = torch.load(file, map_location="cpu", weights_only=False, mmap=location.is_file())
    state = data.get("callbacks", {}).get(key) if isinstance(data, dict) else None
    return state if isinstance(state, dict) else None


def freeze(module: nn.Module, track_running_stats: bool) -> None:
    """Every parameter frozen; BatchNorm layers stop tracking statistics unless `track_running_stats`."""
    for submodule in module.modules():
        if isinstance(submodule, _BatchNorm):
            submodule.track_running_stats = track_running_stats
    for parameter in module.parameters():
        parameter.requires_grad_(False)


def thaw(
    module: nn.Module,
    parameters: Mapping[str, nn.Parameter],
    names: tuple[str, ...],
    track_running_stats: bool,
) -> int:
    """Thaw `names`; a BatchNorm layer whose parameters thaw tracks statistics again. Returns the count."""
    targets = {id(parameters[name]) for name in names}
    for parameter in (parameters[name] for name in names):
        parameter.requires_grad_(True)
    if not track_running_stats:
        for submodule in module.modules():
            if isinstance(submodule, _BatchNorm) and any(
                id(p) in targets for p in submodule.parameters(recurse=False)
            ):
                submodule.track_running_stats = True
    return len(targets)
