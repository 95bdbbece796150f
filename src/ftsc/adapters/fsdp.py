"""`fsdp`: Lightning's FSDPStrategy (FSDP1, flat parameters), and its static check E403.

FSDP1 flattens the parameters of each wrapped module ("unit") into one FlatParameter. A parameter belongs
to the innermost wrapped module that contains it; the root unit holds every parameter outside the wrapped
modules. With `use_orig_params = false`, every parameter of a FlatParameter must have the same
`requires_grad`, so a schedule must thaw each unit whole, in one phase (or leave it frozen whole). E403
finds the units a schedule splits, before training, from the namespace's `modules` (name, type).

Lightning's FSDPStrategy defaults to `use_orig_params=True` (lightning 2.6: `kwargs.setdefault(
"use_orig_params", True)`), and so does this adapter: E403 is reported only when the schedule says
`use_orig_params = false`.

At run time, `on_setup` composes `auto_wrap` with the strategy's own `auto_wrap_policy` (FSDP1 wraps what
either selects; `ftsc.runtime.fsdp_wrap`). Under `use_orig_params=False` (`live_parameters`) each plan name
maps to the FlatParameter that holds it, and a unit split across phases stops the run before training (the
run-time E403, for plans compiled without this adapter); see `ftsc.runtime.flat_params`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ftsc import codes
from ftsc.adapters.base import CompiledSchedule, Option, StrategyAdapter
from ftsc.compiler.modules import ROOT, ModuleTable, units_of
from ftsc.diagnostics import Diagnostic, Related, Span, diagnose
from ftsc.grammar import ast

if TYPE_CHECKING:
    from ftsc.compiler.namespace import Namespace

__all__ = ["FSDPAdapter"]


def item_spans(value: ast.Value | None, count: int, fallback: Span) -> list[Span]:
    """The span of each item of a list option as written (the fallback where it was not written)."""
    items = value.items if isinstance(value, ast.ListValue) else ()
    return [items[index].span if index < len(items) else fallback for index in range(count)]


class FSDPAdapter(StrategyAdapter):
    """`fsdp`: Lightning's FSDPStrategy. Schedule names are the model's; E403 checks flat-parameter units."""

    name = "fsdp"
    description = "FSDP (FSDPStrategy, flat parameters): E403 checks that phases thaw whole wrapped units"
    options = (
        Option(
            "auto_wrap",
            "list[str]",
            default=[],
            help="What FSDP wraps in units of their own, as the strategy's `auto_wrap_policy` does: module "
            'type names ("GPT2Block") or module names and patterns ("transformer.h.*").',
        ),
        Option(
            "use_orig_params",
            "bool",
            default=True,
            help="FSDP's `use_orig_params` (Lightning's default: true). With false, each unit's parameters "
            "must be thawed together (E403).",
        ),
    )

    def on_setup(self, trainer: Any, pl_module: Any, plan: Mapping[str, Any]) -> None:
        """Compose `auto_wrap` with the strategy's `auto_wrap_policy` before the strategy wraps the model
        (see `ftsc.runtime.fsdp_wrap`)."""
        entries = self.config["auto_wrap"]
        assert isinstance(entries, list)
        kwargs = getattr(trainer.strategy, "kwargs", None)
        if entries and isinstance(kwargs, dict):
            from ftsc.runtime import fsdp_wrap  # run time only: the compiler stays torch-free

            fsdp_wrap.compose(kwargs, entries, pl_module)

    def live_parameters(self, module: Any) -> Mapping[str, Any]:
        """Plan name → its FlatParameter under `use_orig_params=False` (after the run-time E403 check);
        the canonical parameters otherwise."""
        from ftsc.runtime import flat_params  # run time only: the compiler stays torch-free

        if not flat_params.has_flat_parameters(module):
            return super().live_parameters(module)
        flat_params.check_units(module, getattr(self.callback, "phases", ()))
        return flat_params.flat_parameters(module)

    def validate(self, result: CompiledSchedule, namespace: Namespace) -> list[Diagnostic]:
        use = result.adapter_use
        entries = self.config["auto_wrap"]
        assert isinstance(entries, list)
        fallback = use.span_of("auto_wrap") if use is not None else Span(0, 0)
        spans = item_spans(use.syntax.get("auto_wrap") if use is not None else None, len(entries), fallback)
        modules = ModuleTable(namespace)
        problems: list[Diagnostic] = []
        wrapped: set[str] = set()
        for entry, span in zip(entries, spans, strict=True):
            found, problem = modules.by_type_or_name(entry)
            if problem is not None:
                problems.append(diagnose(codes.BAD_ADAPTER, f'`auto_wrap` entry "{entry}": {problem}', span))
            elif not found:
                problems.append(
                    diagnose(codes.BAD_ADAPTER, f"`auto_wrap` entry {modules.no_match(entry, True)}", span)
                )
            wrapped.update(found)
        if self.config["use_orig_params"] is False:
            problems.extend(_split_units(result, namespace, wrapped, modules))
        return problems


# -- E403 -------------------------------------------------------------------------------------------

NEVER = -1  # the "phase" of parameters no phase thaws


@dataclass
class _Unit:
    name: str  # ROOT for the root unit
    members: list[int]  # canonical positions
    groups: dict[int, list[int]]  # phase (NEVER: never thawed) -> positions


def _split_units(
    result: CompiledSchedule, namespace: Namespace, wrapped: set[str], modules: ModuleTable
) -> list[Diagnostic]:
    phase_of = [NEVER] * len(namespace.names)
    for index, params in enumerate(result.canonical_params):
        for position in params:
            if phase_of[position] == NEVER:
                phase_of[position] = index
    split: list[_Unit] = []
    for name, members in units_of(namespace, wrapped).items():
        groups: dict[int, list[int]] = defaultdict(list)
        for position in members:
            groups[phase_of[position]].append(position)
        if len(groups) > 1:
            split.append(_Unit(name, members, dict(groups)))
    if not split:
        return []
    # One diagnostic per selector (or phase header) that thaws part of a split unit.
    sites: dict[tuple[int, Span], list[_Unit]] = defaultdict(list)
    site_text: dict[tuple[int, Span], str] = {}
    for unit in split:
        for phase, positions in unit.groups.items():
            if phase == NEVER:
                continue
            for span, text in _sites(result, phase, set(positions)):
                sites[(phase, span)].append(unit)
                site_text[(phase, span)] = text
    problems = []
    for (phase, span), units in sites.items():
        problems.append(_e403(result, namespace, modules, phase, span, site_text[(phase, span)], units))
    return problems


def _sites(result: CompiledSchedule, phase: int, positions: set[int]) -> list[tuple[Span, str]]:
    found = [
        (selector.span, selector.text)
        for selector, thawed in result.canonical_sites(phase)
        if not thawed.isdisjoint(positions)
    ]
    if found:
        return found
    header = result.schedule.phases[phase]
    return [(header.header_span, header.label)]


def _e403(
    result: CompiledSchedule,
    namespace: Namespace,
    modules: ModuleTable,
    phase: int,
    span: Span,
    text: str,
    units: list[_Unit],
) -> Diagnostic:
    phases = result.schedule.phases
    label = phases[phase].label
    head = f"with `use_orig_params = false`, `{text}` splits"
    if len(units) == 1:
        unit = units[0]
        here = unit.groups[phase]
        what = (
            f"{head} {_describe_unit(unit, namespace, modules)}: it thaws {len(here)} of its "
            f"{len(unit.members)} parameters in {label}, while {_others(unit, phase, namespace, phases)}"
        )
        whole = f"thaw all of `{unit.name}.**` in one phase" if unit.name != ROOT else (
            "thaw all of the root unit's parameters in one phase"
        )  # fmt: skip
    else:
        listed = "; ".join(
            f"{_short_unit(unit, modules)}: {len(unit.groups[phase])} of {len(unit.members)} here, "
            f"{_others(unit, phase, namespace, phases)}"
            for unit in units[:_LISTED]
        )
        more = f"; and {len(units) - _LISTED} more" if len(units) > _LISTED else ""
        what = f"{head} {len(units)} FSDP units in {label} ({listed}{more})"
        whole = "thaw each unit whole, in one phase"
    fix = (
        f"; a flat-parameter unit is thawed whole, in one phase: {whole}, change `auto_wrap` so that the "
        "parts are units of their own, or set `use_orig_params = true` (then frozen parameters in a "
        "partly thawed unit still take gradient memory and communication, as if they were trained)"
    )
    related = []
    for unit in units[:_LISTED]:
        for other in sorted(o for o in unit.groups if o not in (NEVER, phase)):
            for other_span, _ in _sites(result, other, set(unit.groups[other]))[:1]:
                message = f"{phases[other].label} thaws other parameters of {_short_unit(unit, modules)} here"
                related.append(Related(other_span, message))
    return diagnose(codes.FSDP_UNIT_SPLIT, what + fix, span, related=related, units=[u.name for u in units])


_LISTED = 3  # units named in one E403; the rest are counted


def _others(unit: _Unit, phase: int, namespace: Namespace, phases: list[ast.Phase]) -> str:
    """`2 are thawed by phase 2 `rest` and 4 are never thawed (e.g. `h.0.mlp.w`)`."""
    parts = []
    for other, positions in sorted(unit.groups.items(), key=lambda item: (item[0] == NEVER, item[0])):
        if other == phase:
            continue
        verb = "is" if len(positions) == 1 else "are"
        if other == NEVER:
            parts.append(f"{len(positions)} {verb} never thawed (e.g. `{namespace.names[positions[0]]}`)")
        else:
            parts.append(f"{len(positions)} {verb} thawed by {phases[other].label}")
    return " and ".join(parts)


def _short_unit(unit: _Unit, modules: ModuleTable) -> str:
    if unit.name == ROOT:
        return "the root unit"
    kind = modules.types.get(unit.name)
    return f"`{unit.name}` ({kind})" if kind else f"`{unit.name}`"


def _describe_unit(unit: _Unit, namespace: Namespace, modules: ModuleTable) -> str:
    if unit.name == ROOT:
        example = namespace.names[unit.members[0]]
        return f"the root FSDP unit (the parameters outside every wrapped module, e.g. `{example}`)"
    return f"FSDP unit {_short_unit(unit, modules)}"
