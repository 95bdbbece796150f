"""The memory budget of a schedule: `defaults { memory = { … } }` (or the command line's flags) checked and
resolved into a `MemoryConfig`, the estimate of every phase, and the diagnostics of the first phase that does
not fit: E701 when the model states alone exceed the device memory, W702 when the activation allowance tips
it, I703 when the memory cannot be estimated (and why).

    defaults {
        memory = { devices = 8, device_memory = "80GiB", precision = "bf16-mixed", strategy = "fsdp2",
                   activations = "12GiB", optimizer = AdamW(weight_decay = 0.01) }
    }

`optimizer` is phase 0's optimizer (the LightningModule's own `configure_optimizers`, which the schedule does
not otherwise know); later phases use their `optimizer = …` reinitialisations. `activations` is a size or
the path of a report `FTSMemoryReport` wrote (relative to the schedule), whose measured peaks above the model
states become each phase's allowance. Without `strategy`, the schedule's adapter decides (`fsdp`: FSDP1 with
its `auto_wrap` units; `modelparallelstrategy`: FSDP2), else `ddp` for several devices, `single` for one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ftsc import codes
from ftsc.compiler.memory.model import (
    EstimateError,
    MemoryConfig,
    MemoryPlan,
    OptimizerSpec,
    PhaseInput,
    PhaseMemory,
    estimate,
)
from ftsc.compiler.memory.state import StateLayout, Unmodelled
from ftsc.compiler.namespace import Namespace
from ftsc.diagnostics import Diagnostic, Span, diagnose
from ftsc.grammar import ast

__all__ = [
    "Budget",
    "PhaseFacts",
    "check_memory",
    "format_bytes",
    "parse_size",
    "read_budget",
    "strategy_hint",
]

_UNITS = {
    "": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
}  # fmt: skip
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*$")


MAX_BYTES = 2**63 - 1
MAX_DEVICES = 65536  # per-rank results are worked out rank by rank: keep the editor responsive


def parse_size(text: str) -> int | None:
    """`"80GiB"`, `"80 GB"`, `"1.5TiB"`, `"12e9"` -> bytes; None when it is not a size (or beyond 2**63)."""
    match = _SIZE.match(text)
    if match is None or match.group(2).lower() not in _UNITS:
        return None
    return _whole_bytes(float(match.group(1)) * _UNITS[match.group(2).lower()])


def _whole_bytes(value: float) -> int | None:
    return int(value) if 0 <= value <= MAX_BYTES else None


def format_bytes(value: int | None) -> str:
    if value is None:
        return "?"
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(value) >= size:
            return f"{value / size:,.2f} {unit}"
    return f"{value} B"


def size_or_path(value: ast.Value) -> str | None:
    """The check of `activations`: a size, or a `.json` report path."""
    if isinstance(value, ast.Number) and _whole_bytes(value.value) is not None:
        return None
    if isinstance(value, ast.String) and (
        parse_size(value.value) is not None or value.value.endswith(".json")
    ):
        return None
    return 'a size such as "12GiB" or the path of a memory report ("….json")'


def size(value: ast.Value) -> str | None:
    """The check of `device_memory`."""
    if isinstance(value, ast.Number) and (_whole_bytes(value.value) or 0) > 0:
        return None
    if isinstance(value, ast.String) and (parse_size(value.value) or 0) > 0:
        return None
    return 'a size such as "80GiB" or "80 GB"'


@dataclass
class Budget:
    """The resolved `memory` settings; `given` is False when neither the schedule nor the command line asked
    for a memory check (then nothing is reported)."""

    given: bool = False
    devices: int = 1
    device_memory: int | None = None
    precision: str = "32-true"
    strategy: str | None = None
    activations: int = 0
    activations_by_phase: dict[int, int] = field(default_factory=dict)
    activations_source: str | None = None
    optimizer: OptimizerSpec | None = None
    problems: list[Diagnostic] = field(default_factory=list)
    anchor: Span = field(default_factory=lambda: Span(0, 0))

    def allowance(self, phase: int) -> int:
        return self.activations_by_phase.get(phase, self.activations)


def read_budget(
    table: ast.Table | None,
    anchor: Span | None,
    overrides: Mapping[str, object] | None,
    base: str | None,
    optimizer: str | None,
) -> Budget:
    """The schedule's `memory` table (already type-checked) with the command line's values on top.
    `optimizer` is the resolved qualified name of the table's `optimizer`, when it resolved."""
    budget = Budget(given=table is not None or overrides is not None, anchor=anchor or Span(0, 0))
    values: dict[str, object] = {}
    spans: dict[str, Span] = {}
    if table is not None:
        for entry in table.entries:
            if entry.value is None:
                continue
            spans[entry.key] = entry.value.span
            if isinstance(entry.value, ast.Call):
                if optimizer is not None:
                    arguments = {a.key: _plain(a.value) for a in entry.value.arguments or () if a.value}
                    budget.optimizer = OptimizerSpec(optimizer, arguments)
                continue
            values[entry.key] = _plain(entry.value)
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    if "devices" in values:
        budget.devices = int(values["devices"])  # type: ignore[call-overload]
    if "device_memory" in values:
        budget.device_memory = _bytes(values["device_memory"])
    if "precision" in values:
        budget.precision = str(values["precision"])
    if "strategy" in values:
        budget.strategy = str(values["strategy"])
    if isinstance(values.get("optimizer"), str):  # the command line's class name, with its defaults
        name = str(values["optimizer"])
        budget.optimizer = OptimizerSpec(name if "." in name else f"torch.optim.{name}", {})
    if "activations" in values:
        _read_activations(budget, values["activations"], base, spans.get("activations", budget.anchor))
    return budget


def _plain(value: ast.Value | None) -> object:
    if isinstance(value, (ast.Number, ast.String, ast.Bool)):
        return value.value
    if isinstance(value, ast.ListValue):
        return [_plain(item) for item in value.items]
    return None


def _bytes(value: object) -> int | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _whole_bytes(value)
    return parse_size(str(value))


def _read_activations(budget: Budget, value: object, base: str | None, span: Span) -> None:
    if not (isinstance(value, str) and value.endswith(".json")):
        budget.activations = _bytes(value) or 0
        return
    from ftsc.io import JsonFileError, read_json  # only when a report is named

    path = str(Path(base) / value) if base is not None else value  # an absolute value stays itself
    budget.activations_source = value
    try:
        data = read_json(path)
    except JsonFileError as exc:
        budget.problems.append(
            diagnose(codes.BAD_VALUE, f"cannot read the memory report {value!r}: {exc.message}", span)
        )
        return
    phases = data.get("phases") if isinstance(data, dict) else None
    if not isinstance(phases, list):
        budget.problems.append(
            diagnose(codes.BAD_VALUE, f"{value!r} is not a memory report (no `phases`)", span)
        )
        return
    for phase in phases:
        if isinstance(phase, dict) and isinstance(phase.get("activations"), int):
            budget.activations_by_phase[int(phase["index"])] = int(phase["activations"])
    if not budget.activations_by_phase:
        message = (
            f"the memory report {value!r} has no measured activations (it was not measured on CUDA), so the "
            "allowance is 0"
        )
        budget.problems.append(diagnose(codes.MEMORY_NOT_ESTIMATED, message, span))
    else:
        budget.activations = max(budget.activations_by_phase.values())


# -- the estimate and its diagnostics ------------------------------------------------------------------


@dataclass(frozen=True)
class PhaseFacts:
    """What the compiler knows of a phase: its header span, what it thaws, its reinitialised optimizer."""

    name: str | None
    span: Span
    thaws: tuple[int, ...]
    optimizer: OptimizerSpec | None


def check_memory(
    budget: Budget,
    namespace: Namespace,
    phases: Sequence[PhaseFacts],
    strategy_hint: MemoryConfig,
    restore_best: bool,
) -> tuple[MemoryPlan | None, list[Diagnostic]]:
    """Estimate every phase and report the first that does not fit the budget."""
    problems = list(budget.problems)
    strategy = budget.strategy or strategy_hint.strategy
    if strategy == "single" and budget.devices > 1:
        strategy = "ddp"
    config = replace(
        strategy_hint,
        devices=budget.devices,
        strategy=strategy,
        precision=budget.precision,
        device_memory=budget.device_memory,
        activations=budget.activations,
        optimizer=budget.optimizer,
        restore_best=restore_best,
    )
    if strategy != strategy_hint.strategy:
        config = replace(config, fsdp_units=None, replicated=frozenset())
    parameters = namespace.parameters
    inputs = [PhaseInput(p.name, p.thaws, p.optimizer) for p in phases]
    try:
        plan = estimate([p.shape for p in parameters], [p.dtype for p in parameters], inputs, config)
    except EstimateError as exc:
        hint = " (export the namespace with `ftsc namespace export` to get shapes and dtypes)"
        message = f"memory not estimated: {exc}" + (hint if "no shape" in str(exc) else "")
        return None, [*problems, diagnose(codes.MEMORY_NOT_ESTIMATED, message, budget.anchor)]
    problems.extend(_unmodelled(plan, phases, budget))
    if config.device_memory is not None:
        problems.extend(_first_misfit(plan, phases, budget))
    return plan, problems


def _unmodelled(plan: MemoryPlan, phases: Sequence[PhaseFacts], budget: Budget) -> list[Diagnostic]:
    notes: list[Diagnostic] = []
    said: set[str] = set()
    for memory, facts in zip(plan.phases, phases, strict=True):
        layout = memory.optimizer
        if layout is None and memory.index == 0:
            message = (
                "memory: phase 0's optimizer is your LightningModule's own; name it in `memory = { "
                "optimizer = AdamW(…) }` to count its state (counted as none until then)"
            )
            notes.append(diagnose(codes.MEMORY_NOT_ESTIMATED, message, budget.anchor))
        elif isinstance(layout, Unmodelled) and layout.optimizer not in said:
            said.add(layout.optimizer)
            notes.append(diagnose(codes.MEMORY_NOT_ESTIMATED, f"memory: {layout.describe()}", facts.span))
        elif isinstance(layout, StateLayout) and memory.peak.optimizer is None:
            message = f"memory: the state of `{layout.optimizer}` on this strategy's shards is not modelled"
            notes.append(diagnose(codes.MEMORY_NOT_ESTIMATED, message, facts.span))
    return notes


def _first_misfit(plan: MemoryPlan, phases: Sequence[PhaseFacts], budget: Budget) -> list[Diagnostic]:
    """E701 at the first phase whose model states alone exceed the device memory, and W702 at the first
    phase the activation allowance tips over, when it comes earlier."""
    limit = plan.config.device_memory
    assert limit is not None
    found: list[Diagnostic] = []
    for memory, facts in zip(plan.phases, phases, strict=True):
        states = memory.peak_states
        where = _where(memory, plan)
        if states > limit:
            message = (
                f"{memory.label} needs {format_bytes(states)} of model states per device{where}, more than "
                f"`device_memory` = {format_bytes(limit)}: {breakdown(memory, plan)}; shard them (strategy "
                f'"fsdp2" or "fsdp") over more devices, thaw less in this phase, or keep less optimizer state'
            )
            return [*found, diagnose(codes.OUT_OF_MEMORY, message, facts.span)]
        allowance = budget.allowance(memory.index)
        if states + allowance > limit and not found:
            source = f" measured in {budget.activations_source}" if budget.activations_source else ""
            message = (
                f"{memory.label} needs {format_bytes(states)} of model states per device{where} and the "
                f"activation allowance{source} of {format_bytes(allowance)} tips it over `device_memory` = "
                f"{format_bytes(limit)} by {format_bytes(states + allowance - limit)}: "
                f"{breakdown(memory, plan)}"
            )
            found.append(diagnose(codes.ACTIVATIONS_OVER_MEMORY, message, facts.span))
    return found


def _where(memory: PhaseMemory, plan: MemoryPlan) -> str:
    restore = max(memory.restore) if memory.restore else 0
    suffix = " (restore_best's checkpoint load included)" if restore > memory.peak.states else ""
    rank = (
        f" (rank {memory.peak_rank})"
        if len(memory.ranks) > 1 and len({r.states for r in memory.ranks}) > 1
        else ""
    )
    return rank + suffix


def breakdown(memory: PhaseMemory, plan: MemoryPlan) -> str:
    """`weights 1.2 GiB + gradients … + optimizer state …` of the phase's fullest rank."""
    rank = memory.peak
    parts = [f"weights {format_bytes(rank.params)}", f"gradients {format_bytes(rank.grads)}",
             f"optimizer state {format_bytes(rank.optimizer)}"]  # fmt: skip
    if rank.buckets:
        parts.append(f"DDP buckets {format_bytes(rank.buckets)}")
    text = " + ".join(parts)
    restore = max(memory.restore) if memory.restore else 0
    if restore > rank.states:
        text = (
            f"{format_bytes(restore)} on loading the best checkpoint of the phase before (its weights and "
            f"optimizer state beside the live ones); then {text}"
        )
    return text


def strategy_hint(adapter: object, namespace: Namespace) -> MemoryConfig:
    """What the schedule's adapter says about the strategy: FSDP1 units from `auto_wrap`, FSDP2's unsharded
    parameters from `fsdp_plan`; `single` without an adapter that shards."""
    name = getattr(adapter, "name", None)
    config = getattr(adapter, "config", {})
    if name == "fsdp":
        from ftsc.compiler.modules import ModuleTable, units_of  # only a sharding adapter needs it

        modules = ModuleTable(namespace)
        wrapped = {
            found for entry in config.get("auto_wrap", []) for found in modules.by_type_or_name(entry)[0]
        }
        units = tuple(tuple(members) for members in units_of(namespace, wrapped).values())
        return MemoryConfig(
            strategy="fsdp", use_orig_params=bool(config.get("use_orig_params", True)), fsdp_units=units
        )
    if name == "modelparallelstrategy":
        from ftsc.compiler.modules import ModuleTable

        entries = getattr(adapter, "plan_entries", [])
        if not entries:
            return MemoryConfig(strategy="fsdp2")
        modules = ModuleTable(namespace)
        sharded = {found for pattern, _ in entries for found in modules.by_name(pattern)[0]}
        outside = frozenset(
            position for position, parameter in enumerate(namespace.names) if not _under(parameter, sharded)
        )
        return MemoryConfig(strategy="fsdp2", replicated=outside)
    return MemoryConfig()


def _under(name: str, modules: set[str]) -> bool:
    end = name.rfind(".")
    while end > 0:
        if name[:end] in modules:
            return True
        end = name.rfind(".", 0, end)
    return "" in modules


def estimate_plan(
    plan: Mapping[str, object], namespace: Namespace, overrides: Mapping[str, object], adapter: object = None
) -> tuple[Budget, MemoryPlan | None, list[Diagnostic]]:
    """The memory of a compiled plan (`ftsc explain PLAN.json --memory`): the budget from the flags only."""
    budget = read_budget(None, None, overrides, None, None)
    phases = plan["phases"]
    settings = plan["settings"]
    assert isinstance(phases, list) and isinstance(settings, dict)
    facts = [
        PhaseFacts(
            phase["name"],
            Span(0, 0),
            tuple(namespace.index[name] for name in phase["params"] if name in namespace.index),
            optimizer_spec(phase.get("optimizer") or settings.get("optimizer")),
        )
        for phase in phases
    ]
    memory, problems = check_memory(budget, namespace, facts, strategy_hint(adapter, namespace),
                                    bool(settings.get("restore_best", True)))  # fmt: skip
    return budget, memory, problems


def optimizer_spec(value: object) -> OptimizerSpec | None:
    """A plan's `{class_path, init_args}` as the memory model's optimizer."""
    if not isinstance(value, dict):
        return None
    return OptimizerSpec(str(value["class_path"]), dict(value.get("init_args") or {}))
