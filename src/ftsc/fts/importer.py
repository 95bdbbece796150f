"""`ftsc import-fts`: an FTS YAML schedule in, an equivalent `.fts` schedule and FTS's traps out.

Steps: read the YAML with spans (`yaml_source`), read it as FTS does (`schedule`), resolve each entry as
FTS does on the namespace when there is one (`resolve`), report the traps (`lints`), translate each
entry into selectors, write the `.fts` text (`emit`), and compile that text with ftsc to check that it
has no error and, with a namespace, that every phase thaws exactly what FTS's phase selects.

Translating an entry:
- a parameter name (in the namespace; without one, any entry made of dotted words) is that name;
- a regex, with a namespace, becomes the simplest plain patterns that select exactly what FTS selects
  (`simplify`), else stays a regex in full-match form: `….*` as written, anything else `(?:…).*`;
- with a namespace, runs of parameter names that together make whole subtrees are merged
  (`model.classifier.bias`, `model.classifier.weight` -> `model.classifier.**`) unless `merge=False`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ftsc import codes
from ftsc.compiler import Namespace, compile_schedule
from ftsc.diagnostics import Diagnostic, Span, capped, diagnose, sort_key
from ftsc.format import format_text
from ftsc.fts import emit, regex_text
from ftsc.fts.lints import lint_schedule
from ftsc.fts.resolve import Resolved, compile_entry, resolve_schedule
from ftsc.fts.schedule import FtsPhase, FtsSchedule, read_schedule
from ftsc.fts.simplify import Simplifier, exact_selector, regex_literal
from ftsc.fts.yaml_source import load_yaml
from ftsc.grammar import ast

_NO_NAMESPACE = diagnose(
    codes.FTS_NO_NAMESPACE,
    "no namespace is known, so each entry is taken as written: a dotted name as that parameter, anything "
    'else as a regex (kept as `re"…"`); pass `--namespace` to resolve the entries as FTS does (to FTS, a '
    "dotted name that is no parameter is a prefix) and to turn regexes into plain patterns",
    Span(0, 0),
)


@dataclass
class ImportResult:
    text: str | None  # the `.fts` schedule; None when an error stops the import
    diagnostics: list[Diagnostic]  # spans index the YAML text
    fts_phases: list[list[str]] | None = None  # with a namespace: what FTS thaws in each phase

    @property
    def has_errors(self) -> bool:
        return any(diagnostic.is_error for diagnostic in self.diagnostics)


class _CannotWrite(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def import_fts(
    yaml_text: str,
    namespace: Namespace | None = None,
    *,
    namespace_path: str | None = None,
    merge: bool = True,
) -> ImportResult:
    """Translate FTS schedule text; `namespace_path` is written as `use namespace "…"` when given."""
    loaded = load_yaml(yaml_text)
    diagnostics = list(loaded.diagnostics)
    if any(d.is_error for d in diagnostics):
        return _done(None, diagnostics)
    schedule, problems = read_schedule(loaded.root, yaml_text)
    diagnostics.extend(problems)
    if schedule is None:
        return _done(None, diagnostics)
    resolved: list[list[Resolved]] | None = None
    if namespace is not None:
        resolved, problems = resolve_schedule(schedule, namespace)
    else:
        problems = [*_regex_problems(schedule), _NO_NAMESPACE]
    diagnostics.extend(problems)
    diagnostics.extend(lint_schedule(schedule, namespace, resolved))
    if any(d.is_error for d in diagnostics):
        return _done(None, diagnostics)
    fts_phases = _phase_names(resolved, namespace) if resolved is not None and namespace is not None else None
    try:
        phases = _Translator(namespace, merge).phases(schedule, resolved)
    except _CannotWrite as exc:
        return _done(None, [*diagnostics, exc.diagnostic], fts_phases)
    text = emit.schedule_text(phases, namespace_path)
    text = format_text(text).text or text  # `ftsc fmt`'s layout, which the emitter already follows
    checked = _check(text, schedule, namespace, fts_phases)
    if any(d.is_error for d in checked):
        return _done(None, [*diagnostics, *checked], fts_phases)
    return _done(text, [*diagnostics, *checked], fts_phases)


def _done(
    text: str | None, diagnostics: list[Diagnostic], fts_phases: list[list[str]] | None = None
) -> ImportResult:
    return ImportResult(text, capped(sorted(diagnostics, key=sort_key)), fts_phases)


def _regex_problems(schedule: FtsSchedule) -> list[Diagnostic]:
    """Without a namespace every entry that is not a dotted name is a regex to FTS: it must compile."""
    problems = []
    for phase in schedule.phases:
        for entry in phase.entries:
            problem = None if regex_text.is_plain_name(entry.text) else compile_entry(entry)[1]
            if problem is not None:
                problems.append(problem)
    return problems


def _phase_names(resolved: list[list[Resolved]], namespace: Namespace) -> list[list[str]]:
    names = namespace.names
    return [sorted({names[p] for item in items for p in item.positions}, key=namespace.index.__getitem__)
            for items in resolved]  # fmt: skip


class _Translator:
    def __init__(self, namespace: Namespace | None, merge: bool) -> None:
        self.namespace = namespace
        self.simplifier = Simplifier(namespace) if namespace is not None else None
        self.merge = merge

    def phases(self, schedule: FtsSchedule, resolved: list[list[Resolved]] | None) -> list[emit.PhaseText]:
        out = []
        for index, phase in enumerate(schedule.phases):
            if resolved is not None:
                selectors = self.resolved_selectors(resolved[index])
            else:
                selectors = [self.unresolved_selector(entry.text, entry.span) for entry in phase.entries]
            out.append(emit.PhaseText(f"p{index}", selectors, self.settings(phase, index), phase.until))
        return out

    # -- selectors -----------------------------------------------------------------------------------

    def unresolved_selector(self, text: str, span: Span) -> str:
        if regex_text.is_plain_name(text):
            return exact_selector(text)
        return self.regex_selector(text, span)

    def regex_selector(self, text: str, span: Span) -> str:
        form = regex_text.full_match_form(text)
        literal = regex_literal(form) if form is not None else None
        if form is None or literal is None:
            message = (
                f'`{text}` cannot be written as a `re"…"` on one line (a verbose-mode or multi-line regex)'
            )
            raise _CannotWrite(diagnose(codes.FTS_INEXPRESSIBLE, message, span))
        return literal

    def resolved_selectors(self, items: list[Resolved]) -> list[str]:
        assert self.simplifier is not None
        selectors: list[str] = []
        run: list[Resolved] = []
        for item in items:
            if item.dropped:
                continue
            if item.exact:
                run.append(item)
                continue
            selectors.extend(self.merged(run))
            run = []
            selectors.extend(self.regex_entry(item))
        selectors.extend(self.merged(run))
        return selectors

    def merged(self, run: list[Resolved]) -> list[str]:
        """Parameter names, merged into whole-subtree patterns where that takes fewer selectors."""
        assert self.simplifier is not None and self.namespace is not None
        names = [self.namespace.names[item.positions[0]] for item in run]
        singles = [exact_selector(name) for name in names]
        if not self.merge or len(run) < 2 or len(set(names)) < len(names):
            return singles
        depth = _common_depth(names)
        patterns = self.simplifier.patterns([item.positions[0] for item in run], depth, combine=False)
        return patterns if patterns is not None and len(patterns) < len(run) else singles

    def regex_entry(self, item: Resolved) -> list[str]:
        assert self.simplifier is not None
        patterns = self.simplifier.regex_patterns(item.entry.text, item.positions)
        if patterns is not None:
            return patterns
        form = regex_text.full_match_form(item.entry.text)
        literal = self.regex_selector(item.entry.text, item.entry.span)
        assert form is not None
        if not self.simplifier.selects("regex", form, frozenset(item.positions)):
            message = f"`{item.entry.text}` has no `.fts` form that selects what FTS selects with it"
            raise _CannotWrite(diagnose(codes.FTS_INEXPRESSIBLE, message, item.entry.span))
        return [literal]

    # -- settings ------------------------------------------------------------------------------------

    def settings(self, phase: FtsPhase, index: int) -> list[tuple[str, str]]:
        settings: list[tuple[str, str]] = []
        if phase.lr is not None and phase.lr > 0:
            settings.append(("lr", emit.number_text(phase.lr)))
        if phase.optimizer is not None:
            optimizer = phase.optimizer
            settings.append(
                ("optimizer", emit.call_text(optimizer.class_path, optimizer.init_args, "optimizer"))
            )
        if phase.lr_scheduler is not None:
            scheduler = phase.lr_scheduler
            settings.append(
                ("lr_scheduler", emit.call_text(scheduler.class_path, scheduler.init_args, "lr_scheduler"))
            )
        if phase.lr_scheduler_config:
            settings.append(("lr_scheduler_config", emit.value_text(phase.lr_scheduler_config)))
        if phase.init_pg_lrs is not None:
            settings.append(("init_pg_lrs", emit.value_text(phase.init_pg_lrs)))
        if phase.use_current_optimizer_pg_lrs is not None:
            settings.append(
                ("use_current_optimizer_pg_lrs", emit.value_text(phase.use_current_optimizer_pg_lrs))
            )
        return settings


def _common_depth(names: list[str]) -> int:
    split = [name.split(".") for name in names]
    depth = 0
    while all(len(parts) > depth + 1 for parts in split) and len({parts[depth] for parts in split}) == 1:
        depth += 1
    return depth


# The FTS phase key each `.fts` phase statement comes from.
_FTS_KEYS = {
    "lr": "lr",
    "optimizer": "new_optimizer",
    "lr_scheduler": "new_lr_scheduler",
    "lr_scheduler_config": "new_lr_scheduler",
    "init_pg_lrs": "new_lr_scheduler",
    "use_current_optimizer_pg_lrs": "new_lr_scheduler",
}


def _fts_key(phase: ast.Phase, span: Span) -> str | None:
    """The FTS key whose translation holds `span` (a span in the translated phase), if one does."""
    for setting in phase.settings:
        if setting.span.start <= span.start < setting.span.end:
            return _FTS_KEYS.get(setting.name)
    if any(thaw.span.start <= span.start < thaw.span.end for thaw in phase.thaws):
        return "params"
    if any(until.span.start <= span.start < until.span.end for until in phase.untils):
        return "max_transition_epoch"
    return None


def _check(
    text: str, schedule: FtsSchedule, namespace: Namespace | None, fts_phases: list[list[str]] | None
) -> list[Diagnostic]:
    """Compile the translation: it must have no error and, with a namespace, FTS's phases exactly. Its
    W208 (parameters no phase thaws) is reported too, at the last phase of the YAML, as `check` would."""
    result = compile_schedule(text, namespace)
    problems = [d for d in result.diagnostics if d.is_error]
    if problems:
        first = problems[0]
        for phase, compiled in zip(schedule.phases, result.schedule.phases, strict=False):
            if compiled.span.start <= first.span.start < compiled.span.end:
                key = _fts_key(compiled, first.span)
                where = phase.key_spans.get(key, phase.key_span) if key else phase.key_span
                what = f"`{key}` of phase {phase.number}" if key else f"phase {phase.number}"
                break
        else:
            where, what = Span(0, 0), "the schedule"
        message = f"{what} cannot be written in `.fts`: in `.fts` it would be {first.code}: {first.message}"
        return [diagnose(codes.FTS_INEXPRESSIBLE, message, where)]
    if result.plan is None or fts_phases is None:
        return []
    plan_phases = result.plan["phases"]
    assert isinstance(plan_phases, list)
    for phase, plan_phase, expected in zip(schedule.phases, plan_phases, fts_phases, strict=True):
        if plan_phase["params"] != expected:
            message = (
                f"the translation of phase {phase.number} does not thaw what FTS thaws; please report this "
                "with the schedule"
            )
            return [diagnose(codes.FTS_INEXPRESSIBLE, message, phase.key_span)]
    last = schedule.phases[-1].key_span
    return [
        replace(d, span=last, related=(), fixes=())
        for d in result.diagnostics
        if d.code == codes.NEVER_THAWED.code
    ]
