"""FSDP1 with `use_orig_params=False`: plan names → the FlatParameters that hold them, and the run-time E403.

Each FSDP1 unit flattens its parameters into one FlatParameter; `named_parameters()` then yields only the
`_flat_param`s, and `requires_grad` can be set only for a whole FlatParameter. So each plan name maps to the
FlatParameter holding it (its `_fqns`, relative to the unit's module), thawing a name thaws its unit, and a
unit whose names belong to different phases cannot follow the plan: that is E403, which `ftsc check
--adapter fsdp` reports before training; here it guards plans compiled without the adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from torch import nn
from torch.distributed.fsdp._flat_param import FlatParameter

from ftsc.runtime.errors import RuntimeConfigError
from ftsc.runtime.names import canonical_name
from ftsc.wording import counted

NEVER = "never thawed"


class Phase(Protocol):
    """What the check reads of a plan phase (`ftsc.runtime.plan_view.PhaseSpec`)."""

    @property
    def label(self) -> str: ...

    @property
    def params(self) -> tuple[str, ...]: ...


def has_flat_parameters(module: nn.Module) -> bool:
    return any(isinstance(parameter, FlatParameter) for parameter in module.parameters())


def flat_parameters(module: nn.Module) -> dict[str, nn.Parameter]:
    """Canonical parameter name → the parameter holding it: its FlatParameter, or itself if not flattened."""
    found: dict[str, nn.Parameter] = {}
    for name, parameter in module.named_parameters():
        if isinstance(parameter, FlatParameter):
            for member in units(name, parameter)[1]:
                found.setdefault(member, parameter)
        else:
            found.setdefault(canonical_name(name), parameter)
    return found


def units(name: str, flat: FlatParameter) -> tuple[str, list[str]]:
    """The unit (module) a FlatParameter named `name` belongs to ("" for the root) and its members' names."""
    unit = canonical_name(name).removesuffix("_flat_param").rstrip(".")
    return unit, [(f"{unit}." if unit else "") + canonical_name(fqn) for fqn in flat._fqns]


def check_units(module: nn.Module, phases: Sequence[Phase]) -> None:
    """Raise RuntimeConfigError (E403) when a FlatParameter holds names that different phases thaw (or that
    one phase thaws and no phase thaws others)."""
    phase_of: dict[str, str] = {}
    for phase in phases:
        for name in phase.params:
            phase_of.setdefault(name, phase.label)
    split = []
    for name, parameter in module.named_parameters():
        if not isinstance(parameter, FlatParameter):
            continue
        unit, members = units(name, parameter)
        by_phase: dict[str, list[str]] = {}
        for member in members:
            by_phase.setdefault(phase_of.get(member, NEVER), []).append(member)
        if len(by_phase) > 1:
            split.append(_describe(unit, len(members), by_phase))
    if split:
        shown = "; ".join(split[:3]) + (f"; and {len(split) - 3} more" if len(split) > 3 else "")
        raise RuntimeConfigError(
            f"E403: with use_orig_params=False, {len(split)} FSDP unit(s) are split across phases ({shown}); "
            "a flat-parameter unit is thawed whole, in one phase: thaw each unit whole, change the "
            "auto-wrap policy so that the parts are units of their own, or use use_orig_params=True. "
            "`ftsc check --adapter fsdp` reports this (with the selectors) before training"
        )


def _describe(unit: str, size: int, by_phase: dict[str, list[str]]) -> str:
    parts = ", ".join(
        f"{len(held)} {'is' if len(held) == 1 else 'are'} "
        f"{where if where == NEVER else f'thawed by {where}'} (e.g. `{held[0]}`)"
        for where, held in by_phase.items()
    )
    where = f"unit `{unit}`" if unit else "the root unit"
    return f"{where} holds {counted(size, 'parameter')}: {parts}"
