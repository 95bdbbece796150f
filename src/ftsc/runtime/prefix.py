"""Plan names to live names across the LightningModule seam.

A plan lists a model's own names (`classifier.weight`); the LightningModule that trains it holds the model
as an attribute (`self.model`), so its names are `model.classifier.weight`. The plan's `namespace.prefix`
(`use namespace "…" at model`) says so. When it says nothing, or the live names sit elsewhere, the names
are compared once at fit start: a uniform prefix added or removed is found, and the run either goes on
with one info line (the plan did not say where the names sit, and one prefix turns every plan name into
every live name) or stops with one line saying what differs and how to fix it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ftsc.wording import counted

_SHOWN = 3


@dataclass(frozen=True)
class NameMap:
    """A plan name is live name `add + name.removeprefix(drop)`."""

    drop: str = ""
    add: str = ""

    @classmethod
    def of_prefix(cls, prefix: str) -> NameMap:
        """The map a plan's `namespace.prefix` (`model`, or "" for none) describes."""
        return cls(add=f"{prefix}." if prefix else "")

    def live(self, name: str) -> str:
        return self.add + name[len(self.drop) :]

    @property
    def identity(self) -> bool:
        return self.drop == self.add

    @property
    def prefix(self) -> str:
        """The live module path that holds the plan's names, as `namespace.prefix` spells it."""
        return self.add.removesuffix(".")

    def describe(self) -> str:
        if self.add and self.drop:
            return f"`{self.drop}` in place of `{self.add}`"
        if self.add:
            return f"under `{self.add}`"
        return f"without their `{self.drop}`" if self.drop else "at its root"


@dataclass(frozen=True)
class Fit:
    """How the live names relate to the plan's: `names` maps them, `exact` says it does so for every name."""

    names: NameMap
    exact: bool
    missing: tuple[str, ...] = ()  # plan names absent from the live module (mapped)
    unexpected: tuple[str, ...] = ()  # live names no plan name maps to


def fits(plan_names: Sequence[str], live: Sequence[str], names: NameMap) -> bool:
    """Whether `names` turns the plan's names into exactly the live ones (in any order)."""
    return len(plan_names) == len(live) and {names.live(name) for name in plan_names} == set(live)


def find_fit(plan_names: Sequence[str], live: Sequence[str]) -> Fit | None:
    """The uniform prefix, added to or dropped from every plan name, that maps the most plan names to live
    ones (the names as they are included); None when it maps fewer than half of them."""
    live_set = set(live)
    candidates = {NameMap()}
    candidates.update(NameMap(add=prefix) for prefix in _prefixes(live))
    candidates.update(NameMap(drop=prefix) for prefix in _prefixes(plan_names))
    best: tuple[int, NameMap] | None = None
    for names in sorted(candidates, key=lambda m: (len(m.add) + len(m.drop), m.add, m.drop)):
        if names.drop and not all(name.startswith(names.drop) for name in plan_names):
            continue
        found = sum(1 for name in plan_names if names.live(name) in live_set)
        if best is None or found > best[0]:
            best = (found, names)
    if best is None or best[0] * 2 < len(plan_names) or not plan_names:
        return None
    names = best[1]
    mapped = {names.live(name) for name in plan_names}
    missing = tuple(name for name in plan_names if names.live(name) not in live_set)
    unexpected = tuple(name for name in live if name not in mapped)
    return Fit(names, not missing and not unexpected, missing, unexpected)


def _prefixes(names: Sequence[str]) -> set[str]:
    """Candidates for a prefix: the leading segments (`model.`, `model.bert.`) of the first name under each
    top-level module (a LightningModule's own parameters come before its submodules')."""
    firsts: dict[str, str] = {}
    for name in names:
        firsts.setdefault(name.partition(".")[0], name)
    found: set[str] = set()
    for name in firsts.values():
        segments = name.split(".")[:-1]
        found.update(".".join(segments[:count]) + "." for count in range(1, len(segments) + 1))
    return found


def running_note(fit: Fit) -> str:
    """The one info line for a run that goes on under a prefix the plan did not state."""
    return (
        f"the plan's names sit {fit.names.describe()} in this module; running with them there (to say so, "
        f"{_fix(fit.names)} and compile again)"
    )


def mismatch_line(fit: Fit, stated: str) -> str:
    """The one line for live names that differ from the plan's by a prefix: what differs, and the fix."""
    if fit.exact:
        said = f"`at {stated}`" if stated else "no `at`"
        return (
            f"the plan's names sit {fit.names.describe()} in this module, but its schedule says {said} on "
            f"`use namespace`: {_fix(fit.names)} and compile again"
        )
    parts = []
    if fit.missing:
        parts.append(f"{counted(len(fit.missing), 'plan name')} not there ({_listed(fit.missing)})")
    if fit.unexpected:
        parts.append(
            f"{counted(len(fit.unexpected), 'live parameter')} not in the plan ({_listed(fit.unexpected)})"
        )
    return (
        f"the model's names are the plan's {fit.names.describe()}, except that {' and '.join(parts)}: "
        "export the namespace of the whole trained module (`ftsc namespace export --target …`), or hold "
        "those parameters inside the model, and compile again"
    )


def _fix(names: NameMap) -> str:
    if names.drop and not names.add:
        return (
            f"drop `{names.drop}` from the schedule's selectors and check it against the model's own "
            "namespace"
        )
    if names.add:
        return f'write `use namespace "…" at {names.prefix}`'
    return "drop `at …` from `use namespace`"


def _listed(names: Sequence[str]) -> str:
    shown = ", ".join(f"`{name}`" for name in names[:_SHOWN])
    return shown + (f", … {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")
