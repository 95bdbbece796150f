"""What the callback checks once the model, the optimizer or a checkpoint is there: each check either
passes or stops the run with one line saying what differs and how to fix it.

- at fit start: one optimizer; the live parameter names against the plan's (through `namespace.prefix`,
  `prefix.py`); every phase's `init_pg_lrs` against the groups the optimizer will have;
- on resume: the checkpoint was written under this plan (or `allow_plan_change`), at a phase the plan has,
  and with the plan's names where this run finds them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import lightning.pytorch as pl

from ftsc.compiler.namespace import names_fingerprint
from ftsc.migrations import upgrade
from ftsc.runtime import prefix
from ftsc.runtime.errors import NamespaceMismatchError, PlanMismatchError, RuntimeConfigError
from ftsc.runtime.names import mismatch_report
from ftsc.runtime.plan_view import PhaseSpec
from ftsc.runtime.state import SchedulerState
from ftsc.wording import counted

log = logging.getLogger("ftsc.runtime")


def check_one_optimizer(trainer: pl.Trainer) -> None:
    if len(trainer.optimizers) != 1:
        raise RuntimeConfigError(
            f"FinetuningScheduler needs exactly one optimizer from configure_optimizers "
            f"(found {len(trainer.optimizers)})"
        )


def live_names(
    plan: dict[str, Any], phases: Sequence[PhaseSpec], live: list[str], where: str
) -> prefix.NameMap:
    """How the plan's names (`phases`, in plan names) map onto the live ones, through `namespace.prefix`:
    the stated prefix when the names fit it, else one uniform prefix found (with an info line); a model
    that does not fit stops the run. `where` names the plan's source in messages."""
    namespace = plan["namespace"]
    stated = str(namespace.get("prefix", ""))
    names = prefix.NameMap.of_prefix(stated)
    if names.identity and names_fingerprint(live) == namespace["fingerprint"]:
        return names
    expected = [name for phase in phases for name in phase.params] + list(plan["frozen"])
    if not prefix.fits(expected, live, names):
        fit = prefix.find_fit(expected, live)
        if fit is None or (fit.names.identity and names.identity):
            raise NamespaceMismatchError(
                f"the model does not fit the plan{where}: {mismatch_report(expected, live)}; "
                "recompile the schedule against this model (`ftsc namespace export`, then `ftsc compile`)"
            )
        if not fit.exact or stated:  # a stated prefix that does not fit is an error, never a guess
            message = prefix.mismatch_line(fit, stated)
            raise NamespaceMismatchError(f"the model does not fit the plan{where}: {message}")
        log.info("ftsc: %s", prefix.running_note(fit))
        return fit.names
    if names.identity:
        log.debug("ftsc: the model lists the plan's parameters in another order; the plan applies unchanged")
    return names


def check_init_pg_lrs(phases: Sequence[PhaseSpec], phase0_groups: int, per_phase: int) -> None:
    """`init_pg_lrs` gives one lr per group the optimizer has at its phase: known now (phase 0's groups,
    then `per_phase` groups per phase, two with `no_decay`), so a wrong length stops the run before
    training."""
    for phase in phases[1:]:
        expected = phase0_groups + per_phase * phase.index
        if phase.init_pg_lrs is not None and len(phase.init_pg_lrs) != expected:
            raise RuntimeConfigError(
                f"{phase.label}: `init_pg_lrs` gives {counted(len(phase.init_pg_lrs), 'lr')}, and the "
                f"optimizer will have {counted(expected, 'parameter group')} there (phase 0's "
                f"{phase0_groups}, then {per_phase} per phase); give one lr per group"
            )


def accepted_state(
    state_dict: dict[str, Any], fingerprint: str | None, phases: int, allow_plan_change: bool
) -> SchedulerState:
    """The saved state, upgraded to the current version, if it belongs to this plan (`fingerprint`; None:
    no plan yet) or may (`allow_plan_change`, with a warning), at a phase of its `phases`."""
    upgraded, _ = upgrade("checkpoint", state_dict)
    state = SchedulerState.from_dict(upgraded)
    if fingerprint is not None and state.plan_fingerprint != fingerprint:
        message = (
            f"the checkpoint was written under another plan ({state.plan_fingerprint}, "
            f"this run: {fingerprint})"
        )
        if not allow_plan_change:
            raise PlanMismatchError(
                message + "; resume with the plan it was written under, or pass "
                "FinetuningScheduler(allow_plan_change=True) to continue under this one"
            )
        log.warning("ftsc: %s; continuing under this plan (allow_plan_change=True)", message)
    if state.depth >= phases and phases:
        raise PlanMismatchError(
            f"the checkpoint is at phase {state.depth} but the plan has {counted(phases, 'phase')}"
        )
    return state


def check_resumed_names(state: SchedulerState, names: prefix.NameMap) -> None:
    """The checkpoint's plan names sit where this run finds them (`names`)."""
    saved = prefix.NameMap(state.names.get("drop", ""), state.names.get("add", ""))
    if saved != names:
        raise PlanMismatchError(
            f"the checkpoint was written with the plan's names {saved.describe()} in the trained module, "
            f"and this run finds them {names.describe()}; resume with the module it was written "
            "with, or start the run afresh"
        )
