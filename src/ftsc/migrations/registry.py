"""The upgrade steps of every versioned format, and `upgrade`, which applies them in order.

Each step turns one version of one format into the next. Steps are plain functions of JSON-like data:
they build new containers for what they change and never mutate their input (unchanged values are
shared with it). To change a format: bump its version in `formats.py` (and the schema's `const`),
write the step with a docstring saying why and in which ftsc version, add it to `STEPS`, and give it
its own test; docs/formats.md has the checklist.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ftsc import __version__, codes
from ftsc.migrations.checkpoint_v1 import checkpoint_1_to_2
from ftsc.migrations.errors import MigrationError, show
from ftsc.migrations.formats import FORMATS, Kind
from ftsc.migrations.plan_v0 import plan_0_to_1
from ftsc.migrations.plan_v1 import plan_1_to_2

__all__ = ["STEPS", "Step", "steps_of", "upgrade", "version_of"]

Upgrade = Callable[[Mapping[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Step:
    """One format change: `function` turns `kind` data of version `source` into version `target`."""

    kind: Kind
    source: int
    target: int
    function: Upgrade

    @property
    def why(self) -> str:
        """The step's docstring: what changed, in which ftsc version, and why."""
        return inspect.cleandoc(self.function.__doc__ or "")

    @property
    def headline(self) -> str:
        """The docstring's first paragraph on one line, for `ftsc upgrade` to print."""
        return " ".join(self.why.split("\n\n", 1)[0].split())


STEPS: tuple[Step, ...] = (
    Step("plan", 0, 1, plan_0_to_1),
    Step("plan", 1, 2, plan_1_to_2),
    Step("checkpoint", 1, 2, checkpoint_1_to_2),
)


def steps_of(kind: Kind) -> tuple[Step, ...]:
    """The steps of one format, oldest first."""
    return tuple(sorted((step for step in STEPS if step.kind == kind), key=lambda step: step.source))


def version_of(kind: Kind, data: object) -> int:
    """The format version `data` says it has; MigrationError when it is missing, malformed or newer."""
    form = FORMATS[kind]
    if not isinstance(data, Mapping):
        raise MigrationError(
            f"a {form.what} must be a JSON object, got {show(data)}; {form.remedy}", codes.NO_VERSION
        )
    key = next((key for key in (form.key, *form.legacy_keys) if key in data), None)
    if key is None:
        if form.absent is not None:
            return form.absent
        raise MigrationError(
            f"no `{form.key}`: not a {form.what} written by ftsc, or a damaged one; {form.remedy}",
            codes.NO_VERSION,
        )
    version = data[key]
    if type(version) is not int or version < 0:  # `type`: True is an int to isinstance
        raise MigrationError(
            f"`{key}` must be a whole number, got {show(version)}; {form.remedy}", codes.NO_VERSION
        )
    if version > form.current:
        raise MigrationError(
            f"{form.what} version {version} was written by a newer ftsc; this ftsc ({__version__}) reads "
            f"{form.what} versions up to {form.current}: upgrade ftsc",
            codes.NEWER_VERSION,
        )
    return version


def upgrade(kind: Kind, data: object) -> tuple[dict[str, Any], tuple[Step, ...]]:
    """`data` at the current version of its format, and the steps applied to get there, in order.

    Current data comes back as it is (the same dict) with no steps. Raises MigrationError for data
    from a newer ftsc, with no or a malformed version, or that a step cannot read.
    """
    version = version_of(kind, data)
    assert isinstance(data, Mapping)  # version_of refuses anything else
    by_source = {step.source: step for step in steps_of(kind)}
    applied: list[Step] = []
    current: Mapping[str, Any] = data
    while version < FORMATS[kind].current:
        step = by_source.get(version)
        if step is None:
            oldest = min(by_source, default=FORMATS[kind].current)
            form = FORMATS[kind]
            raise MigrationError(
                f"{form.what} version {version} is older than any this ftsc can upgrade (the oldest is "
                f"{oldest}); {form.remedy}",
                codes.NO_VERSION,
            )
        current = step.function(current)
        applied.append(step)
        version = step.target
    return (current if isinstance(current, dict) else dict(current)), tuple(applied)
