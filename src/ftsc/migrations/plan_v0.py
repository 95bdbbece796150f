"""Plan version 0 (the pre-release layout) to version 1.

Version 0 is the layout ftsc 0.0.x wrote before the plan schema was published; docs/formats.md shows a
whole file. It differs from version 1 in four places:

- the version is `"version": 0`, not `"plan_version"`;
- the namespace fingerprint is a top-level `fingerprint`, not `namespace.fingerprint`;
- `phases` is an object keyed "0", "1", … (as in a Fine-Tuning Scheduler YAML schedule), and a phase
  has no `index`: its key is the index;
- a phase without `max_transition_epoch` has none (-1), as in FTS.

Everything else (`ftsc_version`, `source`, `settings`, `frozen`, the other phase fields) is already as in
version 1 and is passed on unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ftsc import codes
from ftsc.migrations.errors import MigrationError, show

__all__ = ["plan_0_to_1"]

# Version 1's key order, as `ftsc compile` writes it, so an upgraded file reads like a compiled one.
_PLAN_KEYS = (
    "$schema",
    "plan_version",
    "ftsc_version",
    "source",
    "namespace",
    "settings",
    "phases",
    "frozen",
)
_NAMESPACE_KEYS = ("model", "fingerprint", "size", "adapter", "adapter_options")
_PHASE_KEYS = (
    "index",
    "name",
    "params",
    "max_transition_epoch",
    "lr",
    "optimizer",
    "lr_scheduler",
    "init_pg_lrs",
    "use_current_optimizer_pg_lrs",
    "line",
)


def plan_0_to_1(plan: Mapping[str, Any]) -> dict[str, Any]:
    """Changed in ftsc 0.1.0: phases became a list with explicit indexes, `max_transition_epoch`
    became required, and the fingerprint moved into `namespace`.

    Why: the pre-release plan copied FTS's YAML layout, so every reader had to sort string keys and
    check them for gaps, and had to know FTS's default for a missing `max_transition_epoch`; a list
    with explicit values makes the JSON Schema alone enough to check a plan. The fingerprint moved next
    to the namespace's size and adapter: everything the runtime checks against the live model is in
    one object. The version key got the format's name (`plan_version`), like `namespace_version`.
    """
    fingerprint = plan.get("fingerprint")
    if fingerprint is None:
        raise _layout("fingerprint: missing; a version 0 plan has the namespace fingerprint at the top level")
    namespace = plan.get("namespace")
    if not isinstance(namespace, Mapping):
        raise _layout(f"namespace: expected an object, got {show(namespace)}")
    rest = {
        key: value
        for key, value in plan.items()
        if key not in ("version", "plan_version", "fingerprint", "namespace", "phases")
    }
    upgraded = {
        **rest,
        "plan_version": 1,
        "namespace": _ordered({**namespace, "fingerprint": fingerprint}, _NAMESPACE_KEYS),
        "phases": _phase_list(plan.get("phases")),
    }
    return _ordered(upgraded, _PLAN_KEYS)


def _index_key(key: object) -> bool:
    """A decimal phase index without leading zeros, of at most 18 digits (no plan has more phases, and
    `int()` gives up past 4,300 digits)."""
    return (
        isinstance(key, str) and key.isdecimal() and key.isascii() and len(key) <= 18 and str(int(key)) == key
    )


def _phase_list(phases: object) -> list[dict[str, Any]]:
    """The phase object keyed "0".."N-1" as a list in index order, each phase with its `index`."""
    if not isinstance(phases, Mapping):
        raise _layout(f'phases: expected an object keyed "0", "1", … in a version 0 plan, got {show(phases)}')
    for key in phases:
        if not _index_key(key):
            raise _layout(f'phases: key {show(key)} is not a phase index ("0", "1", …)')
    keys = sorted(phases, key=int)
    if [int(key) for key in keys] != list(range(len(keys))):
        raise _layout(
            f"phases: the keys must be 0 to {len(keys) - 1} with none missing, got {', '.join(keys)}"
        )
    listed = []
    for key in keys:
        phase = phases[key]
        if not isinstance(phase, Mapping):
            raise _layout(f'phases["{key}"]: expected an object, got {show(phase)}')
        if "index" in phase:
            raise _layout(f'phases["{key}"]: a version 0 phase has no "index" (its key is the index)')
        listed.append(_ordered({"index": int(key), "max_transition_epoch": -1, **phase}, _PHASE_KEYS))
    return listed


def _ordered(mapping: Mapping[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    """A new dict with the keys of `order` first, in that order, then any others as they came."""
    first = {key: mapping[key] for key in order if key in mapping}
    return {**first, **{key: value for key, value in mapping.items() if key not in first}}


def _layout(message: str) -> MigrationError:
    return MigrationError(f"{message}; fix the file or compile the schedule again", codes.WRONG_LAYOUT)
