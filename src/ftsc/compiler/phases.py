"""Checks of the phases: their settings and epochs, what each thaws, and how the phases cover the
namespace (E201-E209, W105, W106).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ftsc import codes
from ftsc.compiler import optim, settings
from ftsc.compiler.frozen import built_frozen
from ftsc.compiler.namespace import Namespace
from ftsc.compiler.positions import EMPTY, Positions, union
from ftsc.compiler.selectors import SelectorResolver
from ftsc.diagnostics import Diagnostic, Related, Span, diagnose
from ftsc.grammar import ast

# What reinitialises the optimizer or lr scheduler: meaningful only when a phase starts, so not in phase 0.
REINIT_SETTINGS = (
    "optimizer",
    "lr_scheduler",
    "lr_scheduler_config",
    "init_pg_lrs",
    "use_current_optimizer_pg_lrs",
)


class PhaseSettings:
    """One phase's settings, checked: E203, W204, E301, E302 and the optimizer checks."""

    def __init__(self, phase: ast.Phase, defaults: dict[str, ast.Setting]) -> None:
        self.phase = phase
        self.diagnostics: list[Diagnostic] = []
        self.values: dict[str, ast.Setting] = {}
        self.seen: set[str] = set()
        self.until: int | None = None
        self.until_span: Span | None = None
        self.optimizer: str | None = None
        self.lr_scheduler: str | None = None
        for setting in phase.settings:
            self._add(setting)
        self._check_until()
        self._check_classes(defaults)

    def plan_value(self, name: str) -> object:
        setting = self.values.get(name)
        return settings.to_plan(setting.value) if setting is not None and setting.value is not None else None

    def _add(self, setting: ast.Setting) -> None:
        spec = settings.SETTINGS.get(setting.name)
        if spec is None or "phase" not in spec.where:
            self.diagnostics.append(settings.unknown_setting(setting, "phase"))
            return
        if setting.name in self.seen:
            self.diagnostics.append(
                diagnose(
                    codes.BAD_VALUE,
                    f"`{setting.name}` is set more than once in this phase; keep one",
                    setting.name_span,
                )
            )
            return
        self.seen.add(setting.name)
        if self.phase.index == 0 and setting.name in REINIT_SETTINGS:
            self.diagnostics.append(
                diagnose(
                    codes.OPTIMIZER_IN_PHASE_0,
                    f"`{setting.name}` cannot be set in phase 0: training starts with the optimizer and lr "
                    "scheduler of your LightningModule; reinitialise them from phase 1 on",
                    setting.name_span,
                )
            )
            return
        problems = settings.check_value(setting)
        self.diagnostics.extend(problems)
        if problems or setting.value is None:
            return
        if self.phase.index == 0 and setting.name == "lr":
            self.diagnostics.append(
                diagnose(
                    codes.LR_IN_PHASE_0,
                    "`lr` in phase 0 is ignored: phase 0 trains with the lr of your optimizer configuration",
                    setting.name_span,
                )
            )
        self.values[setting.name] = setting

    def _check_until(self) -> None:
        for position, until in enumerate(self.phase.untils):
            if position > 0:
                self.diagnostics.append(
                    diagnose(
                        codes.BAD_VALUE, "`until epoch` is given more than once in this phase", until.span
                    )
                )
                continue
            epoch = until.epoch
            if epoch is None:
                continue
            if not isinstance(epoch.value, int) or epoch.value < 0:
                self.diagnostics.append(
                    diagnose(
                        codes.BAD_VALUE,
                        f"`until epoch` must be a whole number >= 0, not `{epoch.text}`",
                        epoch.span,
                    )
                )
                continue
            self.until, self.until_span = epoch.value, epoch.span

    def _check_classes(self, defaults: dict[str, ast.Setting]) -> None:
        optimizer = self._call("optimizer")
        if optimizer is not None:
            self.optimizer, problems = optim.check_class(optimizer, "optimizer")
            self.diagnostics.extend(problems)
        scheduler = self._call("lr_scheduler")
        config_setting = self.values.get("lr_scheduler_config")
        if scheduler is None:
            if config_setting is not None:
                self.diagnostics.append(
                    diagnose(
                        codes.BAD_VALUE,
                        "`lr_scheduler_config` configures the `lr_scheduler` of the same phase, "
                        "and this phase sets none",
                        config_setting.name_span,
                    )
                )
            return
        self.lr_scheduler, problems = optim.check_class(scheduler, "lr_scheduler")
        self.diagnostics.extend(problems)
        if self.lr_scheduler is None:
            return
        allow = defaults.get("allow_untested")
        allow_untested = allow is not None and isinstance(allow.value, ast.Bool) and allow.value.value
        config = self.config_setting(defaults)
        table = config.value if config is not None and isinstance(config.value, ast.Table) else None
        self.diagnostics.extend(optim.check_tested(scheduler, self.lr_scheduler, allow_untested))
        self.diagnostics.extend(optim.check_monitor(scheduler, self.lr_scheduler, table))

    def config_setting(self, defaults: dict[str, ast.Setting]) -> ast.Setting | None:
        """The phase's `lr_scheduler_config`, else the one in `defaults`."""
        return self.values.get("lr_scheduler_config") or defaults.get("lr_scheduler_config")

    def _call(self, name: str) -> ast.Call | None:
        setting = self.values.get(name)
        return setting.value if setting is not None and isinstance(setting.value, ast.Call) else None


def check_phase_names(phases: list[ast.Phase]) -> list[Diagnostic]:
    """E209: phase names are how logs, checkpoints and the CLI refer to phases, so they are unique."""
    seen: dict[str, ast.Phase] = {}
    problems = []
    for phase in phases:
        if phase.name is None or phase.name_span is None:
            continue
        if not phase.name.strip():
            problems.append(
                diagnose(
                    codes.BAD_VALUE, "a phase name cannot be blank: drop it or write one", phase.name_span
                )
            )
            continue
        first = seen.get(phase.name)
        if first is None:
            seen[phase.name] = phase
            continue
        related = (Related(first.name_span or first.header_span, f"{first.label} has the same name"),)
        problems.append(
            diagnose(
                codes.DUPLICATE_PHASE_NAME,
                f"phase name `{phase.name}` is already used by phase {first.index}",
                phase.name_span,
                related=related,
            )
        )
    return problems


def check_epochs(phases: list[PhaseSettings], epoch_transitions_only: bool) -> list[Diagnostic]:
    """W205 (an `until epoch` that cannot fire after an earlier one) and E206."""
    problems: list[Diagnostic] = []
    latest: PhaseSettings | None = None
    for phase in phases:
        if phase.until is None or phase.until_span is None:
            continue
        if latest is not None and latest.until is not None and phase.until <= latest.until:
            earlier = f"{latest.phase.label} already moves on at epoch {latest.until}"
            related = (Related(latest.until_span or latest.phase.header_span, earlier),)
            problems.append(
                diagnose(
                    codes.EPOCH_NOT_AFTER,
                    f"`until epoch {phase.until}` is not after {latest.phase.label}'s epoch {latest.until}: "
                    "this phase moves on as soon as it starts",
                    phase.until_span,
                    related=related,
                )
            )
        latest = phase
    if epoch_transitions_only:
        for phase in phases[:-1]:
            if not phase.phase.untils:
                problems.append(
                    diagnose(
                        codes.EPOCH_MISSING,
                        f"with `epoch_transitions_only = true`, {phase.phase.label} needs `until epoch N`: "
                        "only the last phase may run until training ends",
                        phase.phase.header_span,
                    )
                )
    return problems


# -- what each phase thaws -----------------------------------------------------------------------


@dataclass
class Selection:
    """What each phase thaws, as sets of positions (bitsets: see `ftsc.compiler.positions`)."""

    phase_params: list[Positions] = field(default_factory=list)
    never_thawed: Positions = EMPTY
    matches: dict[Span, Positions] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # For each phase: its selectors with what each thaws there (after excepts), for E201's sites.
    sites: list[list[tuple[ast.Selector, Positions]]] = field(default_factory=list)
    complete: list[bool] = field(default_factory=list)  # every selector of the phase resolved


@dataclass
class _Statement:
    """One `thaw` statement: what each of its selectors adds, and then what its excepts remove."""

    thaw: ast.Thaw
    added: list[tuple[ast.Selector, Positions]] = field(default_factory=list)

    def positions(self) -> Positions:
        return union(positions for _, positions in self.added)

    def remove(self, removed: Positions) -> None:
        self.added = [(selector, positions - removed) for selector, positions in self.added]


def select(phases: list[ast.Phase], resolver: SelectorResolver, namespace: Namespace | None) -> Selection:
    """What each phase thaws. A `thaw` statement takes the union of its selectors minus its `except`s;
    the statement holding `rest` is finished last, once every other phase is known. Bitsets throughout:
    a 50,000-name schedule is a handful of integer operations per selector."""
    selection = Selection()
    rest: _RestUse | None = None
    for phase in phases:
        thawed = EMPTY
        sites: list[tuple[ast.Selector, Positions]] = []
        complete = True
        for thaw in phase.thaws:
            statement = _Statement(thaw)
            complete = bool(thaw.selectors) and complete
            holds_rest = False
            for selector in thaw.selectors:
                if selector.kind == "rest":
                    if rest is None:
                        rest = _RestUse(phase.index, selector, statement)
                        holds_rest = True
                    else:
                        selection.diagnostics.append(_rest_twice(selector, rest.selector))
                        complete = False
                    continue
                positions = _resolve(resolver, selector, selection)
                if not positions:  # unresolved, or matched nothing (E101): W207 would only repeat it
                    complete = False
                    continue
                new = positions - thawed - statement.positions()
                if not new:
                    selection.diagnostics.append(
                        diagnose(
                            codes.ADDS_NOTHING,
                            f"`{selector.text}` adds nothing: every parameter it matches is "
                            "already thawed by an earlier selector of this phase",
                            selector.span,
                        )
                    )
                statement.added.append((selector, new))
            if holds_rest:
                continue  # its excepts apply once `rest` is known
            complete = _apply_excepts(statement, resolver, selection) and complete
            sites.extend(statement.added)
            thawed |= statement.positions()
        selection.sites.append(sites)
        selection.phase_params.append(thawed)
        selection.complete.append(complete)
    if rest is not None and namespace is not None:
        _resolve_rest(rest, resolver, selection, len(namespace.names))
    if namespace is not None:
        selection.never_thawed = Positions.span(0, len(namespace.names)) - union(selection.phase_params)
    return selection


@dataclass
class _RestUse:
    phase: int
    selector: ast.Selector
    statement: _Statement  # the statement holding `rest`: its other selectors, and its excepts


def _rest_twice(selector: ast.Selector, first: ast.Selector) -> Diagnostic:
    return diagnose(
        codes.REST_TWICE,
        "`rest` is used more than once; it already means every parameter no other phase thaws",
        selector.span,
        related=(Related(first.span, "`rest` is first used here"),),
    )


def _resolve(resolver: SelectorResolver, selector: ast.Selector, selection: Selection) -> Positions | None:
    if selector.kind == "rest":  # only `except rest` gets here
        message = "`rest` cannot follow `except`: it means what no phase thaws, so there is nothing to remove"
        selection.diagnostics.append(diagnose(codes.BAD_PATTERN, message, selector.span))
        return None
    resolution = resolver.resolve(selector)
    selection.diagnostics.extend(resolution.diagnostics)
    if resolution.positions is not None:
        selection.matches[selector.span] = resolution.positions
    return resolution.positions


def _apply_excepts(statement: _Statement, resolver: SelectorResolver, selection: Selection) -> bool:
    """Remove what `except` selects from the statement; W106 for an except that removes nothing."""
    complete = True
    for selector in statement.thaw.excepts:
        positions = _resolve(resolver, selector, selection)
        if positions is None:
            complete = False
            continue
        removed = positions & statement.positions()
        if positions and not removed:
            selection.diagnostics.append(
                diagnose(
                    codes.REMOVES_NOTHING,
                    f"`except {selector.text}` removes nothing: none of the parameters it "
                    "matches is thawed by this statement",
                    selector.span,
                )
            )
        statement.remove(removed)
    return complete


def _resolve_rest(rest: _RestUse, resolver: SelectorResolver, selection: Selection, size: int) -> None:
    """`rest` is every parameter no other statement thaws; then the statement's excepts apply."""
    statement = rest.statement
    remaining = Positions.span(0, size) - statement.positions() - union(selection.phase_params)
    selection.matches[rest.selector.span] = remaining
    statement.added.append((rest.selector, remaining))
    complete = _apply_excepts(statement, resolver, selection)
    selection.complete[rest.phase] = selection.complete[rest.phase] and complete
    selection.sites[rest.phase].extend(statement.added)
    selection.phase_params[rest.phase] |= statement.positions()


def check_coverage(phases: list[ast.Phase], selection: Selection, namespace: Namespace) -> list[Diagnostic]:
    """E201 (a parameter thawed by two phases), W207 (a phase that thaws nothing), W208 (never thawed)."""
    problems = _overlaps(phases, selection, namespace)
    for phase, params, complete in zip(phases, selection.phase_params, selection.complete, strict=True):
        if complete and not params:
            problems.append(
                diagnose(codes.EMPTY_PHASE, f"{phase.label} thaws no parameter", phase.header_span)
            )
    frozen = built_frozen(namespace)  # the model's own frozen parameters staying frozen is no surprise
    never = selection.never_thawed - frozen
    if phases and never:
        count = len(never)
        example = namespace.names[never[0]]
        uses_rest = any(s.kind == "rest" for phase in phases for thaw in phase.thaws for s in thaw.selectors)
        advice = "" if uses_rest else "; add a last phase with `thaw rest` if that is not intended"
        if frozen:  # `rest` would take the model's frozen parameters too (W211)
            advice = "; the model builds them trainable: thaw them in a phase if that is not intended"
        problems.append(
            diagnose(
                codes.NEVER_THAWED,
                f"{count} parameter{'s are' if count != 1 else ' is'} never thawed and "
                f"stay{'' if count != 1 else 's'} frozen for the whole run (e.g. `{example}`){advice}",
                phases[-1].header_span,
                never_thawed=count,
            )
        )
    return problems


def _overlaps(phases: list[ast.Phase], selection: Selection, namespace: Namespace) -> list[Diagnostic]:
    """E201 once per conflict: on the later selector, pointing at the phase that thawed the names first.

    Each earlier phase keeps what it thawed first (`owned`), so a later phase is compared with those
    owners only: 250 phases thawing one name are 249 conflicts, not 31,125 pairs."""
    conflicts: dict[tuple[int, Span, Span], Positions] = {}
    owned: list[Positions] = []  # per phase: what it thaws that no earlier phase does
    earlier = EMPTY
    for second, thawed in enumerate(selection.phase_params):
        if not earlier.isdisjoint(thawed):  # rare: only then find which selectors are involved
            for second_selector, positions in selection.sites[second]:
                for first, first_owned in enumerate(owned):
                    taken = positions & first_owned
                    if not taken:
                        continue
                    for first_selector, first_positions in selection.sites[first]:
                        shared = taken & first_positions
                        if shared:
                            key = (first, first_selector.span, second_selector.span)
                            conflicts[key] = conflicts.get(key, EMPTY) | shared
        owned.append(thawed - earlier)
        earlier |= thawed
    problems: list[Diagnostic] = []
    for (first, first_span, second_span), found in conflicts.items():
        count = len(found)
        example = namespace.names[found[0]]
        what = f"{count} parameter{'s' if count != 1 else ''} (e.g. `{example}`)"
        verb = "are" if count != 1 else "is"
        problems.append(
            diagnose(
                codes.THAWED_TWICE,
                f"{what} thawed here {verb} already thawed by {phases[first].label}; "
                "a parameter is thawed by at most one phase",
                second_span,
                related=(Related(first_span, f"{phases[first].label} thaws them first, here"),),
            )
        )
    return problems
