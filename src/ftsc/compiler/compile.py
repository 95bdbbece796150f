"""The compiler: a `.fts` schedule and a namespace in, a phase plan and diagnostics out.

The CLI, the language server and the runtime all call `compile_schedule`, so they can never
disagree. It never raises on user input: every problem is a diagnostic, and the plan is only made
when there is a namespace and no error.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ftsc import __version__, codes
from ftsc.adapters.base import StrategyAdapter
from ftsc.compiler import adapters, frozen, optim, phases, range_spelling, settings
from ftsc.compiler.namespace import Namespace
from ftsc.compiler.positions import EMPTY, Positions
from ftsc.compiler.selectors import SelectorResolver
from ftsc.diagnostics import Diagnostic, SourceText, Span, capped, diagnose, sort_key
from ftsc.grammar import ast
from ftsc.grammar.parser import ParseResult, parse

if TYPE_CHECKING:  # the memory model is imported only by a compile that checks memory
    from ftsc.compiler.memory.budget import Budget
    from ftsc.compiler.memory.model import MemoryPlan

LANGUAGE_VERSION = 1
PLAN_VERSION = 2

Validator = Callable[["CompileResult", Namespace], list[Diagnostic]]


@dataclass
class CompileResult:
    """What compiling found. Positions in `matches`, `phase_params` and `never_thawed` index the names the
    schedule is written against (`schedule_namespace`); `canonical_params` and `canonical_frozen` index the
    model's own names (`namespace`), which the plan lists. Without a renaming adapter the two are one."""

    schedule: ast.Schedule
    diagnostics: list[Diagnostic]
    plan: dict[str, object] | None = None
    # What each selector matched (by its span) and each phase thaws, for hovers and inlay hints.
    matches: dict[Span, Positions] = field(default_factory=dict)
    phase_params: list[Positions] = field(default_factory=list)
    never_thawed: Positions = EMPTY
    # The strategy adapter, and what each phase thaws in canonical names (what adapter checks look at).
    adapter_use: adapters.AdapterUse | None = None
    namespace: Namespace | None = None
    schedule_namespace: Namespace | None = None
    canonical_params: list[Positions] = field(default_factory=list)
    canonical_frozen: Positions = EMPTY
    translation: adapters.Translation | None = None
    sites: list[list[tuple[ast.Selector, Positions]]] = field(default_factory=list)
    # Each phase's memory per rank, when the schedule or the caller asks for a memory check.
    memory: MemoryPlan | None = None
    memory_budget: Budget | None = None

    @property
    def has_errors(self) -> bool:
        return any(diagnostic.is_error for diagnostic in self.diagnostics)

    def canonical_sites(self, phase: int) -> list[tuple[ast.Selector, Positions]]:
        """Each selector of phase `phase` with the canonical positions it thaws there (after `except`)."""
        if phase >= len(self.sites) or self.translation is None:
            return []
        return [(selector, self.translation.to_canonical(thawed)) for selector, thawed in self.sites[phase]]


def compile_schedule(
    text: str,
    namespace: Namespace | None,
    *,
    path: str | None = None,
    parsed: ParseResult | None = None,
    namespace_span: Span | None = None,
    validators: Sequence[Validator] = (),
    adapter: str | StrategyAdapter | None = None,
    memory: Mapping[str, object] | None = None,
) -> CompileResult:
    """Check `text` against `namespace` (None: name checks skipped, I404) and build the plan.

    `parsed` may pass in the parse of `text` when the caller already has it (the language server).
    `adapter` overrides `use adapter`: a reference (`fsdp`, an entry-point name, `module:Class`) takes the
    file's options; an adapter instance is used as it is. Selectors resolve against the adapter's
    `schedule_namespace(namespace)`; the plan lists canonical names. `validators` run after the adapter's
    own `validate`, with the same arguments (the result and the canonical namespace). `memory` overrides
    the keys of `defaults { memory = { … } }` (the command line's `--devices`, `--device-memory`, …).
    """
    parsed = parsed if parsed is not None else parse(text)
    schedule = parsed.schedule
    result = CompileResult(schedule, list(parsed.diagnostics), namespace=namespace)
    diagnostics = result.diagnostics

    diagnostics.extend(_check_headers(schedule))
    use = result.adapter_use = adapters.check_use_adapter(schedule, adapter)
    diagnostics.extend(use.diagnostics)
    defaults = _Defaults(schedule)
    diagnostics.extend(defaults.diagnostics)
    phase_settings = [phases.PhaseSettings(phase, defaults.values) for phase in schedule.phases]
    for phase_setting in phase_settings:
        diagnostics.extend(phase_setting.diagnostics)
    diagnostics.extend(phases.check_phase_names(schedule.phases))
    diagnostics.extend(_check_scheduler_config(defaults, phase_settings))
    diagnostics.extend(phases.check_epochs(phase_settings, defaults.epoch_transitions_only))

    # The names the schedule is written against; unknown (no name checks) when the adapter is.
    if namespace is not None and use.adapter is not None:
        result.translation, problems = adapters.translate(use, namespace)
        diagnostics.extend(problems)
    against = result.schedule_namespace = result.translation.schedule if result.translation else None
    resolver = SelectorResolver(schedule.lets, against)
    diagnostics.extend(resolver.diagnostics)
    selection = phases.select(schedule.phases, resolver, against)
    diagnostics.extend(selection.diagnostics)
    uses = schedule.namespaces
    prefix_note = resolver.prefix_note(uses[0].span if uses else namespace_span or Span(0, 0))
    if prefix_note is not None:
        diagnostics.append(prefix_note)
    result.matches = selection.matches
    canonical: adapters.Canonical | None = None
    if namespace is None:
        span = namespace_span or Span(0, 0)
        diagnostics.append(
            diagnose(
                codes.NO_NAMESPACE,
                'no namespace is known, so parameter names were not checked: add `use namespace "…"`, '
                "pass `--namespace`, or export one with `ftsc namespace export`",
                span,
            )
        )
    elif result.translation is not None and against is not None:
        canonical = adapters.canonicalize(schedule.phases, selection, result.translation)
        selection.never_thawed = canonical.schedule_never  # W208: what stays frozen in effect
        result.phase_params = selection.phase_params
        result.never_thawed = selection.never_thawed
        result.sites = selection.sites
        result.canonical_params, result.canonical_frozen = canonical.params, canonical.frozen
        diagnostics.extend(phases.check_coverage(schedule.phases, selection, against))
        diagnostics.extend(frozen.check_frozen_thaws(schedule.phases, selection.sites, against))
        diagnostics.extend(canonical.diagnostics)
        checks = [use.adapter.validate] if use.adapter is not None else []
        for validator in (*checks, *validators):
            diagnostics.extend(_validate(validator, result, namespace, use))

    if not schedule.phases and not any(d.code == codes.SYNTAX_ERROR.code for d in diagnostics):
        end = Span(len(text), len(text))
        diagnostics.append(
            diagnose(codes.SYNTAX_ERROR, "a schedule needs at least one `phase name { thaw … }`", end)
        )
    result.diagnostics = diagnostics = range_spelling.rewrite(text, _without_echoes(diagnostics))
    diagnostics.sort(key=sort_key)
    if namespace is not None and canonical is not None and not result.has_errors:
        resolved = _PhasePlans(phase_settings, canonical.params, canonical.frozen)
        result.plan = _plan(text, path, namespace, use, defaults, resolved, module_prefix(schedule))
        _check_memory(result, defaults, memory, path)
    result.diagnostics = capped(diagnostics)
    return result


def _check_memory(
    result: CompileResult, defaults: _Defaults, overrides: Mapping[str, object] | None, path: str | None
) -> None:
    """The memory estimate and its diagnostics (E701 drops the plan: a phase that cannot fit fails early)."""
    setting = defaults.values.get("memory")
    table = _table(setting)
    if table is None and overrides is None:
        return  # no memory check asked for: the memory model is not even imported
    from ftsc.compiler.memory import budget as memory_budget

    base = str(Path(path).resolve().parent) if path else None
    budget = memory_budget.read_budget(
        table, setting.name_span if setting else None, overrides, base, defaults.memory_optimizer
    )
    if not budget.given or result.plan is None or result.namespace is None:
        return
    result.memory_budget = budget
    plan_phases = result.plan["phases"]
    plan_settings = result.plan["settings"]
    assert isinstance(plan_phases, list) and isinstance(plan_settings, dict)
    facts = [
        memory_budget.PhaseFacts(
            phase.name,
            phase.header_span,
            tuple(params),
            memory_budget.optimizer_spec(entry.get("optimizer") or plan_settings.get("optimizer")),
        )
        for phase, params, entry in zip(
            result.schedule.phases, result.canonical_params, plan_phases, strict=True
        )
    ]
    hint = memory_budget.strategy_hint(
        result.adapter_use.adapter if result.adapter_use else None, result.namespace
    )
    result.memory, problems = memory_budget.check_memory(
        budget, result.namespace, facts, hint, bool(plan_settings.get("restore_best", True))
    )
    result.diagnostics.extend(problems)
    result.diagnostics.sort(key=sort_key)
    if result.has_errors:
        result.plan = None


def _validate(
    validator: Validator, result: CompileResult, namespace: Namespace, use: adapters.AdapterUse
) -> list[Diagnostic]:
    """An adapter's checks are plugin code: a failure is an E402 naming the adapter, never a crash."""
    try:
        return list(validator(result, namespace))
    except Exception as exc:
        if not isinstance(getattr(validator, "__self__", None), StrategyAdapter):
            raise  # the caller's own validator: its bug is the caller's to see
        message = f"adapter `{use.name}` failed while checking the schedule: {type(exc).__name__}: {exc}"
        return [diagnose(codes.BAD_ADAPTER, message, use.name_span or Span(0, 0))]


def _without_echoes(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Drop what overlaps a syntax error: a half-parsed statement would only repeat it in other words."""
    syntax = [d.span for d in diagnostics if d.code == codes.SYNTAX_ERROR.code]
    if not syntax:
        return diagnostics
    # What a phase thaws is not known while part of it failed to parse.
    counts = {codes.EMPTY_PHASE.code, codes.NEVER_THAWED.code}
    return [
        d
        for d in diagnostics
        if d.code == codes.SYNTAX_ERROR.code
        or (d.code not in counts and not any(d.span.start < s.end and s.start < d.span.end for s in syntax))
    ]


def _check_headers(schedule: ast.Schedule) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    for position, header in enumerate(schedule.headers):
        if position > 0:
            problems.append(
                diagnose(codes.BAD_FTS_HEADER, "the `fts` header is given more than once", header.span)
            )
        elif header.version is not None and header.version.text != str(LANGUAGE_VERSION):
            problems.append(
                diagnose(
                    codes.BAD_FTS_HEADER,
                    f"unknown language version `{header.version.text}`: this ftsc reads version "
                    f"{LANGUAGE_VERSION} (`fts {LANGUAGE_VERSION}`)",
                    header.version.span,
                )
            )
    for position, use in enumerate(schedule.namespaces):
        if position > 0:
            problems.append(diagnose(codes.BAD_VALUE, "`use namespace` is given more than once", use.span))
        elif use.at is not None and not _MODULE_PATH.fullmatch(use.at.value):
            problems.append(
                diagnose(
                    codes.BAD_VALUE,
                    f'`at "{use.at.value}"` is not a module path: write the attribute path of the model '
                    "inside "
                    "the trained module, e.g. `at model` or `at model.backbone`",
                    use.at.span,
                )
            )
    return problems


_MODULE_PATH = re.compile(r"[^.\s]+(?:\.[^.\s]+)*")


def module_prefix(schedule: ast.Schedule) -> str:
    """Where the namespace's module sits in the trained module (`use namespace "…" at PATH`); "" if unsaid."""
    uses = schedule.namespaces
    at = uses[0].at if uses else None
    return at.value if at is not None and _MODULE_PATH.fullmatch(at.value) else ""


class _Defaults:
    """The merged `defaults { }` blocks: checked values, and what the plan's settings become."""

    def __init__(self, schedule: ast.Schedule) -> None:
        self.diagnostics: list[Diagnostic] = []
        self.values: dict[str, ast.Setting] = {}
        self.seen: set[str] = set()
        for block in schedule.defaults:
            for setting in block.settings:
                self._add(setting)
        self.epoch_transitions_only = _bool(self.values.get("epoch_transitions_only"))
        self.allow_untested = _bool(self.values.get("allow_untested"))
        self.optimizer: str | None = None
        self.lr_scheduler: str | None = None
        self.memory_optimizer: str | None = None
        self._check_classes()

    def _add(self, setting: ast.Setting) -> None:
        spec = settings.SETTINGS.get(setting.name)
        if spec is None or "defaults" not in spec.where:
            self.diagnostics.append(settings.unknown_setting(setting, "defaults"))
            return
        if setting.name in self.seen:
            self.diagnostics.append(_twice(setting, "`defaults`"))
            return
        self.seen.add(setting.name)
        problems = settings.check_value(setting)
        self.diagnostics.extend(problems)
        if not problems and setting.value is not None:
            self.values[setting.name] = setting

    def _check_classes(self) -> None:
        memory = _table(self.values.get("memory"))
        for entry in memory.entries if memory is not None else ():
            if entry.key == "optimizer" and isinstance(entry.value, ast.Call):
                self.memory_optimizer, problems = optim.check_class(entry.value, "optimizer")
                self.diagnostics.extend(problems)
        optimizer = _call(self.values.get("optimizer"))
        if optimizer is not None:
            self.optimizer, problems = optim.check_class(optimizer, "optimizer")
            self.diagnostics.extend(problems)
        scheduler = _call(self.values.get("lr_scheduler"))
        if scheduler is not None:
            self.lr_scheduler, problems = optim.check_class(scheduler, "lr_scheduler")
            self.diagnostics.extend(problems)
            if self.lr_scheduler is not None:
                config = _table(self.values.get("lr_scheduler_config"))
                self.diagnostics.extend(optim.check_tested(scheduler, self.lr_scheduler, self.allow_untested))
                self.diagnostics.extend(optim.check_monitor(scheduler, self.lr_scheduler, config))

    def plan_settings(self) -> dict[str, object]:
        values: dict[str, object] = dict(settings.PLAN_DEFAULTS)
        for name, setting in self.values.items():
            if name in values and setting.value is not None:
                values[name] = settings.to_plan(setting.value)
        if self.optimizer is not None:
            values["optimizer"] = _class_value(values["optimizer"], self.optimizer)
        if self.lr_scheduler is not None:
            config = self.values.get("lr_scheduler_config")
            values["lr_scheduler"] = _scheduler_value(values["lr_scheduler"], self.lr_scheduler, config)
        return values


def _check_scheduler_config(
    defaults: _Defaults, phase_settings: list[phases.PhaseSettings]
) -> list[Diagnostic]:
    """A `defaults.lr_scheduler_config` that no lr scheduler uses would be silently ignored."""
    config = defaults.values.get("lr_scheduler_config")
    used = "lr_scheduler" in defaults.values or any(p.lr_scheduler is not None for p in phase_settings)
    if config is None or used:
        return []
    message = "`lr_scheduler_config` configures an `lr_scheduler`, and no block of this schedule sets one"
    return [diagnose(codes.BAD_VALUE, message, config.name_span)]


def _twice(setting: ast.Setting, where: str) -> Diagnostic:
    return diagnose(
        codes.BAD_VALUE, f"`{setting.name}` is set more than once in {where}; keep one", setting.name_span
    )


def _bool(setting: ast.Setting | None) -> bool:
    return setting is not None and isinstance(setting.value, ast.Bool) and setting.value.value


def _call(setting: ast.Setting | None) -> ast.Call | None:
    return setting.value if setting is not None and isinstance(setting.value, ast.Call) else None


def _table(setting: ast.Setting | None) -> ast.Table | None:
    return setting.value if setting is not None and isinstance(setting.value, ast.Table) else None


def _class_value(value: object, qualname: str) -> dict[str, object]:
    assert isinstance(value, dict)
    return {"class_path": qualname, "init_args": value["init_args"]}


def _scheduler_value(value: object, qualname: str, config: ast.Setting | None) -> dict[str, object]:
    resolved = _class_value(value, qualname)
    resolved["config"] = settings.to_plan(config.value) if config is not None and config.value else {}
    return resolved


@dataclass
class _PhasePlans:
    settings: list[phases.PhaseSettings]
    params: list[Positions]  # canonical positions per phase
    frozen: Positions


def _plan(
    text: str,
    path: str | None,
    namespace: Namespace,
    adapter: adapters.AdapterUse,
    defaults: _Defaults,
    resolved: _PhasePlans,
    prefix: str,
) -> dict[str, object]:
    names = namespace.names
    plan_phases = []
    lines = SourceText(text)
    for phase_setting, params in zip(resolved.settings, resolved.params, strict=True):
        entry: dict[str, object] = {
            "index": phase_setting.phase.index,
            "name": phase_setting.phase.name,
            "params": params.pick(names),
            "elements": namespace.total_numel_at(params),
            "max_transition_epoch": phase_setting.until if phase_setting.until is not None else -1,
            "lr": phase_setting.plan_value("lr") if phase_setting.phase.index > 0 else None,
            "optimizer": None,
            "lr_scheduler": None,
            "init_pg_lrs": phase_setting.plan_value("init_pg_lrs"),
            "use_current_optimizer_pg_lrs": phase_setting.plan_value("use_current_optimizer_pg_lrs"),
        }
        if phase_setting.optimizer is not None:
            entry["optimizer"] = _class_value(phase_setting.plan_value("optimizer"), phase_setting.optimizer)
        if phase_setting.lr_scheduler is not None:
            entry["lr_scheduler"] = _scheduler_value(
                phase_setting.plan_value("lr_scheduler"),
                phase_setting.lr_scheduler,
                phase_setting.config_setting(defaults.values),
            )
        entry["line"] = lines.line_of(phase_setting.phase.span.start) + 1
        plan_phases.append(entry)
    return {
        "plan_version": PLAN_VERSION,
        "ftsc_version": __version__,
        "source": {"path": path, "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()},
        "namespace": {
            "model": namespace.model,
            "fingerprint": namespace.fingerprint(),
            "size": len(names),
            "adapter": adapter.name,
            "adapter_options": adapter.options,
            "prefix": prefix,
        },
        "settings": defaults.plan_settings(),
        "phases": plan_phases,
        "frozen": resolved.frozen.pick(names),
        "frozen_elements": namespace.total_numel_at(resolved.frozen),
    }
