"""Typed views of a plan: its phases, and the options the run uses (plan settings, overridden by callback
arguments). The plan dict is the contract; these only read it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class PhaseSpec:
    index: int
    name: str | None
    params: tuple[str, ...]
    max_transition_epoch: int
    lr: float | None
    optimizer: Mapping[str, Any] | None
    lr_scheduler: Mapping[str, Any] | None
    init_pg_lrs: tuple[float, ...] | None
    use_current_optimizer_pg_lrs: bool | None

    @property
    def label(self) -> str:
        return f"phase {self.index}" + (f" `{self.name}`" if self.name else "")


@dataclass(frozen=True)
class Options:
    """The `defaults { }` settings of the language (docs/language.md), as the run uses them."""

    lr: float
    restore_best: bool
    epoch_transitions_only: bool
    max_depth: int
    enforce_phase0_params: bool
    apply_lambdas_new_pgs: bool
    frozen_bn_track_running_stats: bool
    allow_untested: bool
    optimizer: Mapping[str, Any] | None
    lr_scheduler: Mapping[str, Any] | None
    early_stopping: Mapping[str, Any] | None
    checkpoint: Mapping[str, Any] | None


OPTION_NAMES = tuple(field.name for field in fields(Options))


def phases_of(plan: Mapping[str, Any]) -> list[PhaseSpec]:
    return [
        PhaseSpec(
            index=int(phase["index"]),
            name=phase.get("name"),
            params=tuple(phase["params"]),
            max_transition_epoch=int(phase["max_transition_epoch"]),
            lr=None if phase.get("lr") is None else float(phase["lr"]),
            optimizer=phase.get("optimizer"),
            lr_scheduler=phase.get("lr_scheduler"),
            init_pg_lrs=None if phase.get("init_pg_lrs") is None else tuple(map(float, phase["init_pg_lrs"])),
            use_current_optimizer_pg_lrs=phase.get("use_current_optimizer_pg_lrs"),
        )
        for phase in plan["phases"]
    ]


def options_of(plan: Mapping[str, Any], overrides: Mapping[str, Any]) -> Options:
    """The plan's settings, each replaced by the callback argument of the same name when that is not None."""
    settings = plan["settings"]
    options = Options(**{name: settings[name] for name in OPTION_NAMES})
    given = {name: value for name, value in overrides.items() if value is not None}
    return replace(options, **given) if given else options


def last_depth(phases: list[PhaseSpec], options: Options) -> int:
    """Index of the last phase the run reaches (`max_depth`, -1 meaning every phase)."""
    final = len(phases) - 1
    return final if options.max_depth < 0 else min(options.max_depth, final)
