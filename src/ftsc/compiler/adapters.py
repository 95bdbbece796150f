"""The compiler's side of strategy adapters: `use adapter NAME { options }` (E402), the names a schedule is
written against, and what each phase thaws in the model's own (canonical) names.

The adapters themselves live in `ftsc.adapters` (base class, registry, built-ins). Here:

- `check_use_adapter`: which adapter the schedule uses (or the caller's override) and its options, each
  checked against what the adapter declares (E402 at the name, key or value).
- `translate`: the adapter's schedule namespace and, for each schedule name, its canonical positions;
  kept per (adapter options, namespace), since the language server compiles on every edit.
- `canonicalize`: each phase's canonical parameters, what stays frozen, and the problems that only show
  in canonical names: two phases thawing one tensor through different names (E201), and a thaw that takes
  along names it does not select because they share a tensor with names it does (W210).
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from dataclasses import dataclass, field

from ftsc import codes
from ftsc.adapters import registry
from ftsc.adapters.base import AdapterError, OptionError, StrategyAdapter
from ftsc.compiler import settings
from ftsc.compiler.namespace import Namespace
from ftsc.compiler.phases import Selection
from ftsc.compiler.positions import Positions, union
from ftsc.compiler.recent import Recent
from ftsc.diagnostics import Diagnostic, Fix, Related, Span, diagnose
from ftsc.grammar import ast


@dataclass
class AdapterUse:
    """The adapter a schedule is compiled with, and where its options were written."""

    name: str = "default"  # the reference the plan records (`fsdp`, `lens`, `pkg.mod:Class`)
    options: dict[str, object] = field(default_factory=dict)  # the options given (the plan records them)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    adapter: StrategyAdapter | None = None  # None: it could not be resolved or created (E402)
    name_span: Span | None = None  # the NAME of `use adapter NAME`
    syntax: dict[str, ast.Value] = field(default_factory=dict)  # option -> its value as written
    key_spans: dict[str, Span] = field(default_factory=dict)

    def span_of(self, option: str) -> Span:
        """Where an option's value was written; else the adapter's name; else the start of the file."""
        value = self.syntax.get(option)
        if value is not None:
            return value.span
        return self.key_spans.get(option) or self.name_span or Span(0, 0)


def check_use_adapter(schedule: ast.Schedule, override: str | StrategyAdapter | None = None) -> AdapterUse:
    """The adapter of `use adapter` (default: `default`), or `override`: a reference (`--adapter`, which
    wins over the file's name but takes the file's options) or an adapter instance (used as it is)."""
    use = AdapterUse()
    statement: ast.UseAdapter | None = None
    for position, item in enumerate(schedule.adapters):
        if position > 0:
            use.diagnostics.append(
                diagnose(codes.BAD_ADAPTER, "`use adapter` is given more than once", item.span)
            )
        else:
            statement = item
    if isinstance(override, StrategyAdapter):
        use.adapter, use.name, use.options = override, override.reference, dict(override.given)
        return use
    use.name_span = statement.name_span if statement is not None else None
    reference = override or (statement.name if statement is not None and statement.name else "default")
    try:
        adapter_type, use.name = registry.adapter_class(reference)
    except AdapterError as exc:
        use.diagnostics.append(_unresolved(reference, str(exc), use.name_span if override is None else None))
        return use
    options = _check_options(statement, adapter_type, use)
    try:
        adapter = adapter_type(**options)
    except OptionError as exc:  # checks of an option beyond its declared type
        span = use.span_of(exc.option) if exc.option is not None else use.name_span or Span(0, 0)
        use.diagnostics.append(diagnose(codes.BAD_ADAPTER, str(exc), span))
        return use
    except Exception as exc:  # a plugin's constructor failed: say whose it is, do not crash
        message = f"adapter `{use.name}` could not be created: {type(exc).__name__}: {exc}"
        use.diagnostics.append(diagnose(codes.BAD_ADAPTER, message, use.name_span or Span(0, 0)))
        return use
    adapter.reference = use.name
    use.adapter, use.options = adapter, dict(adapter.given)
    return use


def _unresolved(reference: str, message: str, span: Span | None) -> Diagnostic:
    if span is None:
        return diagnose(
            codes.BAD_ADAPTER, f"{message} (the adapter given in place of `use adapter`)", Span(0, 0)
        )
    close = difflib.get_close_matches(reference.lower(), list(registry.available_adapters()), n=1)
    if close and message.startswith("unknown adapter"):
        return diagnose(
            codes.BAD_ADAPTER, message, span, fixes=[Fix(f"Replace with `{close[0]}`", span, close[0])]
        )
    return diagnose(codes.BAD_ADAPTER, message, span)


def _check_options(
    statement: ast.UseAdapter | None, adapter_type: type[StrategyAdapter], use: AdapterUse
) -> dict[str, object]:
    """The options of the statement that the adapter accepts; E402 for the others (E302: given twice)."""
    accepted: dict[str, object] = {}
    entries = statement.options.entries if statement is not None and statement.options is not None else ()
    for entry in entries:
        option = adapter_type.option(entry.key)
        if option is None:
            message = adapter_type.unknown_option_message(entry.key, use.name)
            close = difflib.get_close_matches(entry.key, [o.name for o in adapter_type.options], n=1)
            fixes = [Fix(f"Replace with `{close[0]}`", entry.key_span, close[0])] if close else []
            use.diagnostics.append(diagnose(codes.BAD_ADAPTER, message, entry.key_span, fixes=fixes))
            continue
        if entry.key in use.key_spans:
            use.diagnostics.append(
                diagnose(codes.BAD_VALUE, f"`{entry.key}` is given twice in `use adapter`", entry.key_span)
            )
            continue
        use.key_spans[entry.key] = entry.key_span
        if entry.value is None:  # the parser already reported the missing value
            continue
        value = settings.to_plan(entry.value)
        expected = option.check(value)
        if expected is not None:
            hint = ""
            if isinstance(entry.value, ast.Call) and entry.value.arguments is None and "string" in expected:
                hint = f' (strings need quotes: "{entry.value.name}")'
            use.diagnostics.append(
                diagnose(
                    codes.BAD_ADAPTER,
                    f"option `{entry.key}` of adapter `{use.name}` must be {expected}, not "
                    f"{settings.describe(entry.value)}{hint}",
                    entry.value.span,
                )
            )
            continue
        use.syntax[entry.key] = entry.value
        accepted[entry.key] = value
    return accepted


# -- schedule names and canonical names -------------------------------------------------------------


@dataclass(frozen=True)
class Translation:
    """The namespace a schedule is written against, and the canonical positions of each of its names."""

    schedule: Namespace
    canonical: Namespace
    forward: tuple[tuple[int, ...], ...] | None  # schedule position -> canonical positions; None: identity

    @property
    def identity(self) -> bool:
        return self.forward is None

    def to_canonical(self, positions: Positions) -> Positions:
        if self.forward is None:
            return positions
        forward = self.forward
        return Positions.of([target for position in positions for target in forward[position]])


_TRANSLATIONS: Recent[Translation] = Recent(keep=8)


def translate(use: AdapterUse, namespace: Namespace) -> tuple[Translation | None, list[Diagnostic]]:
    """The adapter's schedule namespace for `namespace` and the name translation (E402 when it fails)."""
    adapter = use.adapter
    assert adapter is not None
    try:
        key = (adapter.cache_key(), id(namespace))
        cached = _TRANSLATIONS.get(key, namespace)
        if cached is not None:
            return cached, []
        translation = _build(adapter, namespace)
    except Exception as exc:  # adapters are plugin code: a failure is a diagnostic, never a crash
        message = f"adapter `{use.name}` cannot present this namespace: {type(exc).__name__}: {exc}"
        return None, [diagnose(codes.BAD_ADAPTER, message, use.name_span or Span(0, 0))]
    return _TRANSLATIONS.put(key, namespace, translation), []


def _build(adapter: StrategyAdapter, namespace: Namespace) -> Translation:
    schedule = adapter.schedule_namespace(namespace)
    if not isinstance(schedule, Namespace):
        raise TypeError(f"schedule_namespace() returned {type(schedule).__name__}, not a Namespace")
    if schedule is namespace and type(adapter).to_canonical is StrategyAdapter.to_canonical:
        return Translation(schedule, namespace, None)
    forward: list[tuple[int, ...]] = []
    missing: list[tuple[str, str]] = []
    for name in schedule.names:
        positions: set[int] = set()
        for canonical in adapter.to_canonical(name):
            position = namespace.index.get(namespace.canonical(canonical))
            if position is None:
                missing.append((name, canonical))
            else:
                positions.add(position)
        forward.append(tuple(sorted(positions)))
    if missing:
        name, canonical = missing[0]
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise ValueError(
            f"it translates `{name}` to `{canonical}`, which is not a parameter of the namespace{more}; "
            "is the namespace of the model this adapter is for?"
        )
    return Translation(schedule, namespace, tuple(forward))


@dataclass
class Canonical:
    params: list[Positions]  # per phase: the canonical positions it thaws
    frozen: Positions  # canonical positions no phase thaws
    schedule_never: Positions  # schedule positions that stay frozen in effect (for W208)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def canonicalize(phases: list[ast.Phase], selection: Selection, translation: Translation) -> Canonical:
    """What each phase thaws in canonical names; E201 and W210 for what only shows there."""
    phase_params, never_thawed = selection.phase_params, selection.never_thawed
    forward = translation.forward
    if forward is None:
        return Canonical(list(phase_params), never_thawed, never_thawed)
    params = [translation.to_canonical(thawed) for thawed in phase_params]
    thawed_any = union(params)
    selected = union(phase_params)
    frozen = Positions.span(0, len(translation.canonical)) - thawed_any
    never = Positions.of(
        position
        for position, targets in enumerate(forward)
        if position not in selected and thawed_any.isdisjoint(targets)
    )
    claims: defaultdict[int, list[tuple[int, int]]] = defaultdict(list)  # canonical -> (phase, schedule name)
    for index, thawed in enumerate(phase_params):
        for position in thawed:
            for target in forward[position]:
                claims[target].append((index, position))
    finder = _SiteFinder(phases, selection.sites)
    problems = _shared_conflicts(claims, translation, finder)
    problems.extend(_taken_along(forward, selected, thawed_any, claims, translation, finder))
    return Canonical(params, frozen, never, problems)


class _SiteFinder:
    """The selector of a phase that thaws a schedule name (the phase header when none is found)."""

    def __init__(self, phases: list[ast.Phase], sites: list[list[tuple[ast.Selector, Positions]]]) -> None:
        self.phases = phases
        self.sites = sites

    def find(self, phase: int, position: int) -> tuple[Span, str]:
        for selector, positions in self.sites[phase]:
            if position in positions:
                return selector.span, selector.text
        return self.phases[phase].header_span, self.phases[phase].label


def _shared_conflicts(
    claims: dict[int, list[tuple[int, int]]], translation: Translation, finder: _SiteFinder
) -> list[Diagnostic]:
    """E201 where a later phase thaws a canonical parameter that an earlier phase thaws through a different
    schedule name (the same name in two phases is already an E201 of its own): once per conflict, on the
    later phase's selector, against the first phase that thaws it."""
    pairs: dict[tuple[int, int, Span, Span], list[tuple[int, int, int]]] = defaultdict(list)
    for target, owners in claims.items():
        by_phase: defaultdict[int, set[int]] = defaultdict(set)
        for phase, position in owners:
            by_phase[phase].add(position)
        if len(by_phase) < 2:
            continue
        first, *later = sorted(by_phase)
        for second in later:
            if by_phase[first] & by_phase[second]:
                continue
            one, other = min(by_phase[first]), min(by_phase[second])
            key = (first, second, finder.find(first, one)[0], finder.find(second, other)[0])
            pairs[key].append((one, other, target))
    problems: list[Diagnostic] = []
    names, canonical = translation.schedule.names, translation.canonical.names
    for (first, _second, first_span, second_span), found in pairs.items():
        one, other, target = found[0]
        more = f" (and {len(found) - 1} more like it)" if len(found) > 1 else ""
        label = finder.phases[first].label
        problems.append(
            diagnose(
                codes.THAWED_TWICE,
                f"`{names[other]}` thawed here and `{names[one]}` thawed by {label} are one parameter, "
                f"`{canonical[target]}`{more}; a parameter is thawed by at most one phase: thaw them in "
                "the same phase",
                second_span,
                related=(Related(first_span, f"{label} thaws `{names[one]}` first, here"),),
            )
        )
    return problems


def _taken_along(
    forward: tuple[tuple[int, ...], ...],
    selected: Positions,
    thawed_any: Positions,
    claims: dict[int, list[tuple[int, int]]],
    translation: Translation,
    finder: _SiteFinder,
) -> list[Diagnostic]:
    """W210: names no phase selects that are thawed anyway, because they share a tensor with a thawed name."""
    found: dict[Span, list[tuple[int, int, int, str]]] = defaultdict(list)
    for position, targets in enumerate(forward):
        if position in selected or thawed_any.isdisjoint(targets):
            continue
        target = next(t for t in targets if t in thawed_any)
        phase, owner = claims[target][0]
        span, text = finder.find(phase, owner)
        found[span].append((position, owner, target, text))
    problems: list[Diagnostic] = []
    names, canonical = translation.schedule.names, translation.canonical.names
    for span, along in found.items():
        position, owner, target, text = along[0]
        count = len(along)
        what = f"{count} names it does not select (e.g. `{names[position]}`)" if count > 1 else (
            f"`{names[position]}`, which it does not select"
        )  # fmt: skip
        problems.append(
            diagnose(
                codes.SHARED_PARAMETER,
                f"`{text}` also thaws {what}: `{names[position]}` and `{names[owner]}` are one parameter, "
                f"`{canonical[target]}`, which cannot be partly frozen; select them together to say what "
                "is trained",
                span,
                taken_along=count,
            )
        )
    return problems
