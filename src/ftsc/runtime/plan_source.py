"""Where the run's plan comes from: a plan file or dict (validated, older versions upgraded), or a `.fts`
schedule compiled at setup against the live model with the same compiler and diagnostics as `ftsc check`."""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from torch import nn

from ftsc.adapters.base import AdapterError, StrategyAdapter
from ftsc.adapters.registry import adapter_class, adapter_for_strategy
from ftsc.cli.report import FileReport, render
from ftsc.compiler import compile_file
from ftsc.compiler.compile import CompileResult, compile_schedule, module_prefix
from ftsc.compiler.namespace import ModuleInfo, Namespace, ParameterInfo
from ftsc.compiler.plan import PlanError, read_plan
from ftsc.compiler.schema import validate_plan_data
from ftsc.diagnostics import SourceText
from ftsc.grammar import parse
from ftsc.io import read_input
from ftsc.migrations import MigrationError, upgrade
from ftsc.runtime.errors import RuntimeConfigError, ScheduleCompileError
from ftsc.runtime.names import canonical_name
from ftsc.wording import counted

PlanSource = str | os.PathLike[str] | Mapping[str, Any]


def load_plan(plan: PlanSource) -> dict[str, Any]:
    """The plan from a path or a dict, checked against the plan schema."""
    if isinstance(plan, Mapping):
        try:
            data, _ = upgrade("plan", copy.deepcopy(dict(plan)))
        except MigrationError as exc:
            raise RuntimeConfigError(f"the plan passed to FinetuningScheduler: {exc}") from None
        problems = validate_plan_data(data)
        if problems:
            raise RuntimeConfigError(
                "the plan passed to FinetuningScheduler is not valid: "
                + "; ".join(problems[:3])
                + "; compile it again with `ftsc compile`"
            )
        return dict(data)
    try:
        return dict(read_plan(plan))
    except PlanError as exc:
        raise RuntimeConfigError(str(exc)) from None


def check_adapters(references: Mapping[str, str] | None) -> None:
    """Every strategy adapter named (by `custom_strategy_adapters`, or a plan's `namespace.adapter`) can be
    loaded; RuntimeConfigError naming the first that cannot (unknown name, did-you-mean, failed import)."""
    for key, reference in (references or {}).items():
        try:
            adapter_class(str(reference))
        except AdapterError as exc:
            where = "the plan's adapter" if key == "plan" else f"custom_strategy_adapters[{key!r}]"
            raise RuntimeConfigError(f"{where}: {exc}") from None


def check_schedule(schedule: str | os.PathLike[str]) -> None:
    """Before the model exists: the schedule can be read and has no error that parameter names cannot
    change (syntax, settings, classes, adapter); ScheduleCompileError lists them as `ftsc check` does."""
    path, text = _read(schedule)
    result = compile_schedule(text, None, path=str(path))
    _raise_errors(path, text, result, "has errors")


def compile_for_module(
    schedule: str | os.PathLike[str], module: nn.Module, adapter: StrategyAdapter | None = None
) -> dict[str, Any]:
    """Compile `schedule` against `module`'s parameters (canonical names; `adapter` None: the schedule's own
    `use adapter`); raise `ScheduleCompileError` listing every error with its location, as `ftsc check`
    prints them."""
    path, text = _read(schedule)
    parsed = parse(text)
    namespace = _inside(live_namespace(module), module_prefix(parsed.schedule))
    result = compile_file(text, path, namespace=namespace, adapter=adapter, parsed=parsed)
    what = f"does not compile against the model's {counted(len(namespace.names), 'parameter')}"
    _raise_errors(path, text, result, what)
    assert result.plan is not None
    return dict(result.plan)


def compile_at_setup(schedule: str | os.PathLike[str], module: nn.Module) -> dict[str, Any]:
    """`schedule=`: the plan compiled at setup against the live `module`, which must have its parameters
    by then (a model built later, in `configure_model`, needs a plan compiled ahead)."""
    if not any(True for _ in module.parameters()):
        raise RuntimeConfigError(
            f"{schedule}: the model has no parameters at setup (built in `configure_model`?), so the "
            "schedule cannot be compiled against it; compile a plan with `ftsc compile` against an exported "
            "namespace and pass plan=PATH"
        )
    return compile_for_module(schedule, module, None)


def strategy_adapter(
    plan: Mapping[str, Any],
    flag: str,
    custom: Mapping[str, str] | None,
    config: Mapping[str, Any] | None,
) -> StrategyAdapter:
    """The adapter for the trainer's strategy (`flag`), configured by `strategy_adapter_cfg` (`config`),
    else by the plan's `adapter_options` when the plan was compiled for that same adapter."""
    namespace = plan["namespace"]
    adapter = adapter_for_strategy(flag, custom, config)
    if config is None and namespace["adapter"] == adapter.reference and namespace["adapter_options"]:
        adapter = adapter_for_strategy(flag, custom, namespace["adapter_options"])
    return adapter


def _inside(namespace: Namespace, prefix: str) -> Namespace:
    """The part of a live namespace under `prefix` (`use namespace "…" at model`), in the model's own names;
    the whole of it when no part is there (the compiler then says which names it finds)."""
    if not prefix:
        return namespace
    start = prefix + "."
    inner = [p for p in namespace.parameters if p.name.startswith(start)]
    if not inner:
        return namespace
    return Namespace(
        [ParameterInfo(p.name[len(start) :], p.shape, p.dtype, p.requires_grad) for p in inner],
        model=namespace.model,
        modules=[
            ModuleInfo(m.name[len(start) :], m.type) for m in namespace.modules if m.name.startswith(start)
        ],
        aliases={
            alias[len(start) :]: target[len(start) :]
            for alias, target in namespace.aliases.items()
            if alias.startswith(start) and target.startswith(start)
        },
    )


def _read(schedule: str | os.PathLike[str]) -> tuple[Path, str]:
    """The schedule's text, read as the CLI reads inputs (a regular file, within the input limit)."""
    path = Path(schedule)
    try:
        return path, read_input(path).decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuntimeConfigError(f"{path}: cannot read the schedule ({exc})") from None


def _raise_errors(path: Path, text: str, result: CompileResult, what: str) -> None:
    if result.has_errors:
        errors = tuple(d for d in result.diagnostics if d.is_error)
        report = render([FileReport(SourceText(text, str(path)), errors)], "human")
        raise ScheduleCompileError(f"{path} {what}:\n{report}")


def live_namespace(module: nn.Module) -> Namespace:
    """The model's namespace in canonical names (wrapper segments removed): what plans are compiled
    against."""
    from ftsc.namespaces.record import namespace_from_module  # its package loads the exporters: on use

    raw = namespace_from_module(module)
    if all(canonical_name(name) == name for name in raw.names):
        return raw
    return Namespace(
        [ParameterInfo(canonical_name(p.name), p.shape, p.dtype, p.requires_grad) for p in raw.parameters],
        model=raw.model,
        modules=list(
            {canonical_name(m.name): ModuleInfo(canonical_name(m.name), m.type) for m in raw.modules}.values()
        ),
        aliases={canonical_name(a): canonical_name(t) for a, t in raw.aliases.items()},
    )
