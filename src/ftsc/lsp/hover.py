"""Hover text (Markdown) for what `locate` found, from one compile's result.

Selector, phase and `$name` hovers say what is matched; setting hovers reuse the descriptions of the
compiler's settings table (`compiler/settings.py`), the one place they are written.
"""

from __future__ import annotations

from ftsc.compiler import CompileResult, Namespace
from ftsc.compiler.classes import resolve_class
from ftsc.compiler.memory.budget import Budget, format_bytes
from ftsc.compiler.memory.model import MemoryPlan
from ftsc.compiler.positions import Positions
from ftsc.compiler.selectors import SelectorResolver
from ftsc.compiler.settings import SETTINGS
from ftsc.diagnostics import Span
from ftsc.grammar import ast
from ftsc.lsp.arguments import keyword_arguments
from ftsc.lsp.locate import ClassAt, Located, PhaseAt, SelectorAt, SettingAt, VariableAt
from ftsc.lsp.summary import elements_text, matched, names_markdown, params_label

NOT_CHECKED = (
    'No namespace is known, so parameter names are not checked: add `use namespace "…"`, '
    "map the file in `[tool.ftsc]` of pyproject.toml, or set `ftsc.namespace`."
)


def hover_markdown(result: CompileResult, found: Located) -> str | None:
    if isinstance(found, SelectorAt):
        return _selector(result, found)
    if isinstance(found, VariableAt):
        return _variable(result, found.name)
    if isinstance(found, SettingAt):
        return _setting(found)
    if isinstance(found, PhaseAt):
        return _phase(result, found.phase)
    return _class(found)


def _selection(namespace: Namespace, positions: Positions) -> str:
    """`**12 params** · 7,087,872 elements (…)`, then the first names."""
    selection = matched(namespace, positions)
    head = f"**{params_label(selection.count)}**"
    elements = elements_text(selection)
    body = names_markdown(selection)
    return head + (f" · {elements}" if elements else "") + (f"\n\n{body}" if body else "")


def _selector(result: CompileResult, found: SelectorAt) -> str:
    selector = found.selector
    shown = "rest" if selector.kind == "rest" else _source_text(selector)
    title = f"`{'except ' if found.excepted else ''}{shown}`"
    namespace = result.schedule_namespace
    if namespace is None:
        return f"{title}\n\n{NOT_CHECKED}"
    positions = result.matches.get(selector.span)
    if positions is None:
        return f"{title} could not be resolved: see its diagnostic."
    if selector.kind == "rest":
        title += " (every parameter no other phase thaws)"
    verb = "removes what it matches from this `thaw`:" if found.excepted else "matches"
    return f"{title} {verb} {_selection(namespace, positions)}"


def _source_text(selector: ast.Selector) -> str:
    if selector.kind == "exact":
        return f'"{selector.text}"'
    if selector.kind == "regex":
        return f're"{selector.text}"'
    return selector.text


def _variable(result: CompileResult, name: str) -> str | None:
    let = next((let for let in result.schedule.lets if let.name == name), None)
    if let is None:
        return f"`${name}` has no `let`."
    pattern = let.pattern.text if let.pattern is not None else "…"
    text = f"```fts\nlet {name} = {pattern}\n```"
    namespace = result.schedule_namespace
    if namespace is None:
        return f"{text}\n\n{NOT_CHECKED}"
    resolver = SelectorResolver(result.schedule.lets, namespace)
    itself = _resolve(resolver, f"${name}")
    below = _resolve(resolver, f"${name}.**")
    if itself is None or below is None:
        return f"{text}\n\n`${name}` could not be resolved: see the diagnostics of its `let`."
    if itself:
        return f"{text}\n\n`${name}` matches {_selection(namespace, itself)}"
    return f"{text}\n\n`${name}` names modules; `${name}.**` matches {_selection(namespace, below)}"


def _resolve(resolver: SelectorResolver, text: str) -> Positions | None:
    selector = ast.Selector("pattern", text, Span(0, len(text)), Span(0, len(text)))
    return resolver.resolve(selector).positions


def _setting(found: SettingAt) -> str | None:
    spec = SETTINGS.get(found.setting.name)
    if spec is None:
        return None
    places = " and ".join("`defaults`" if where == "defaults" else "phases" for where in spec.where)
    text = f"**`{spec.name}`** · setting of {places}\n\n{spec.doc}\n\nFine-Tuning Scheduler: `{spec.fts}`"
    if found.where not in spec.where:
        block = "`defaults`" if found.where == "defaults" else "a phase"
        text += f"\n\n**Not a setting of {block}** (E301): move it to {places}."
    return text


def _phase(result: CompileResult, phase: ast.Phase) -> str:
    title = f"**{phase.label}**"
    namespace = result.schedule_namespace
    if namespace is None:
        return f"{title}\n\n{NOT_CHECKED}"
    if phase.index >= len(result.phase_params):
        return f"{title}: what it thaws is not known until the errors above are fixed."
    text = f"{title} thaws {_selection(namespace, result.phase_params[phase.index])}"
    if result.memory is not None and phase.index < len(result.memory.phases):
        text += "\n\n" + phase_memory_markdown(result.memory, phase.index, result.memory_budget)
    return text


def _class(found: ClassAt) -> str:
    lookup = resolve_class(found.call.name, found.kind)
    what = found.kind.replace("_", " ")
    if lookup.info is None:
        return f"`{found.call.name}` ({what}): {lookup.problem or 'not found'}"
    arguments = ", ".join(
        f"`{parameter.name}`" + ("" if parameter.has_default else " (required)")
        for parameter in keyword_arguments(lookup.info, found.kind)
    )
    text = f"**`{lookup.info.qualname}`** · {what}"
    return text + (f"\n\nKeyword arguments: {arguments}" if arguments else "")


def phase_memory_markdown(plan: MemoryPlan, index: int, budget: Budget | None) -> str:
    """The phase's memory on its fullest rank: weights, gradients, optimizer state, total, headroom."""
    phase = plan.phases[index]
    rank = phase.peak
    config = plan.config
    uneven = len(set(phase.ranks)) > 1
    where = f"fullest rank: {phase.peak_rank} of {len(phase.ranks)}" if uneven else "per device"
    rows = [
        ("weights", rank.params),
        ("gradients", rank.grads),
        ("optimizer state", rank.optimizer),
        *([("DDP buckets", rank.buckets)] if rank.buckets else []),
        ("**model states**", rank.states),
    ]
    if phase.restore:
        rows.append(("restore_best load (transient)", max(phase.restore)))
    allowance = budget.allowance(index) if budget is not None else config.activations
    if allowance:
        rows.append(("activation allowance", allowance))
    headroom = (
        plan.headroom(phase)
        if budget is None
        else (None if config.device_memory is None else config.device_memory - phase.peak_states - allowance)
    )
    if headroom is not None:
        rows.append(("**headroom**" if headroom >= 0 else "**over by**", abs(headroom)))
    table = "\n".join(f"| {label} | {format_bytes(value)} |" for label, value in rows)
    head = f"**Memory** ({where}; {config.strategy}, {config.precision})"
    return f"{head}\n\n| | |\n|---|---:|\n{table}"
