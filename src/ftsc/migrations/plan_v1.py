"""Plan version 1 to version 2: where the namespace sits in the trained module, and element counts.

Version 2 adds three keys, all filled in by `ftsc compile`:

- `namespace.prefix`: the attribute path of the namespace's module inside the module the runtime trains
  (`use namespace "…" at model`); `""` when they are one (every version 1 plan);
- `phases[i].elements` and `frozen_elements`: how many parameter elements each phase thaws and how many
  stay frozen; null when the namespace has no shapes (unknown for a version 1 plan).

Everything else is passed on unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ftsc import codes
from ftsc.migrations.errors import MigrationError, show

__all__ = ["plan_1_to_2"]


def plan_1_to_2(plan: Mapping[str, Any]) -> dict[str, Any]:
    """Changed in ftsc 0.2.0: `namespace.prefix` says where the namespace's module sits inside the trained
    module, and `elements` / `frozen_elements` count the parameter elements of each phase and of the
    never-thawed parameters.

    Why: a schedule is written in a model's own names, and the LightningModule that trains it holds the
    model as an attribute (`self.model`), whose names all start with `model.`; the plan records that
    prefix so the runtime (and a checkpoint) maps its names to the live ones without guessing. Element
    counts let `ftsc explain PLAN` show the size of each phase without the namespace file. A version 1
    plan was run against a module with its own names (prefix `""`); its element counts are unknown (null).
    """
    namespace = plan.get("namespace")
    if not isinstance(namespace, Mapping):
        raise _layout(f"namespace: expected an object, got {show(namespace)}")
    phases = plan.get("phases")
    if not isinstance(phases, list):
        raise _layout(f"phases: expected a list in a version 1 plan, got {show(phases)}")
    upgraded_phases = []
    for index, phase in enumerate(phases):
        if not isinstance(phase, Mapping):
            raise _layout(f"phases[{index}]: expected an object, got {show(phase)}")
        upgraded_phases.append(_after(phase, "params", {"elements": None}))
    upgraded = {
        **plan,
        "plan_version": 2,
        "namespace": {**namespace, "prefix": ""},
        "phases": upgraded_phases,
    }
    return _after(upgraded, "frozen", {"frozen_elements": None})


def _after(mapping: Mapping[str, Any], key: str, added: Mapping[str, Any]) -> dict[str, Any]:
    """A new dict with `added` right after `key` (or at the end), so an upgraded file reads like a compiled
    one."""
    result: dict[str, Any] = {}
    for name, value in mapping.items():
        if name not in added:
            result[name] = value
        if name == key:
            result.update(added)
    result.update({name: value for name, value in added.items() if name not in result})
    return result


def _layout(message: str) -> MigrationError:
    return MigrationError(f"{message}; fix the file or compile the schedule again", codes.WRONG_LAYOUT)
