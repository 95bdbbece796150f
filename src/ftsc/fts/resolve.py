"""What FTS makes of each `params` entry, on a given namespace: the reference the translation must meet.

FTS's `_parse_phase`: an entry that is a parameter name selects that parameter; any other entry is a
regex, and selects every name it matches *from the start* (`re.compile(entry).match(name)`). An entry
that selects nothing is an error, unless it is another name of a tied parameter, which FTS drops with a
warning. Afterwards no parameter may be selected twice, by two phases or by two entries of one phase
(`_validate_phases_disjoint` counts every occurrence).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ftsc import codes
from ftsc.compiler import Namespace, prefix_hint
from ftsc.compiler.patterns.linear_regex import LinearRegex, RegexProblem, compile_regex
from ftsc.compiler.selectors import closest_name, index_of
from ftsc.diagnostics import Diagnostic, Fix, Related, diagnose
from ftsc.fts import regex_text
from ftsc.fts.schedule import Entry, FtsSchedule

_SHOWN = 3


@dataclass(frozen=True)
class Resolved:
    """One entry as FTS resolves it: exact (a parameter name) or a regex, and the positions it selects."""

    entry: Entry
    exact: bool
    positions: tuple[int, ...]  # namespace order
    dropped: bool = False  # a tied parameter's other name, which FTS drops


def compile_entry(entry: Entry) -> tuple[LinearRegex | None, Diagnostic | None]:
    """The entry's regex, matched in linear time; E512 (FTS refuses it too) or E515 (a construct or size
    that a linear-time matcher does not run), placed at the offending character."""
    try:
        return compile_regex(entry.text), None
    except RegexProblem as exc:
        at = exc.position
        span = entry.sub_span(at, at + 1) if entry.text_start is not None else entry.span
        if exc.invalid:
            reason = exc.message.removeprefix("invalid regex: ")
            message = f"`{entry.text}` is not a valid regex ({reason}): FTS refuses the file"
            return None, diagnose(codes.FTS_BAD_REGEX, message, span)
        message = f"`{entry.text}`: {exc.message} (FTS matches it with `re`, which has no such limit)"
        return None, diagnose(codes.FTS_INEXPRESSIBLE, message, span)


def resolve_schedule(
    schedule: FtsSchedule, namespace: Namespace
) -> tuple[list[list[Resolved]], list[Diagnostic]]:
    """Each phase's entries as FTS resolves them, with E512, E513, E514 and W508."""
    names = namespace.names
    diagnostics: list[Diagnostic] = []
    phases: list[list[Resolved]] = []
    for phase in schedule.phases:
        resolved: list[Resolved] = []
        for entry in phase.entries:
            position = namespace.index.get(entry.text)
            if position is not None:
                resolved.append(Resolved(entry, True, (position,)))
                continue
            pattern, problem = compile_entry(entry)
            if pattern is None:
                assert problem is not None
                diagnostics.append(problem)
                continue
            positions = tuple(i for i, name in enumerate(names) if pattern.match(name))
            if positions:
                resolved.append(Resolved(entry, False, positions))
            elif entry.text in namespace.aliases:
                target = namespace.aliases[entry.text]
                diagnostics.append(
                    diagnose(
                        codes.FTS_TIED_NAME,
                        f"`{entry.text}` is another name of the tied parameter `{target}`: FTS drops it from "
                        "the schedule (the parameter is thawed with its first name); it is left out here",
                        entry.span,
                    )
                )
                resolved.append(Resolved(entry, True, (), dropped=True))
            else:
                close = _did_you_mean(entry.text, namespace)
                hint = f"; did you mean `{close}`?" if close else ""
                diagnostics.append(
                    diagnose(
                        codes.FTS_NO_MATCH,
                        f"`{entry.text}` matches no parameter of the namespace (FTS matches it as a "
                        "parameter name, else as a regex from the start of each name) and FTS refuses the "
                        f"file{hint}",
                        entry.span,
                        fixes=[Fix(f"Replace with `{close}`", entry.span, close)] if close else [],
                    )
                )
        phases.append(resolved)
    diagnostics.extend(_overlaps(schedule, phases, names))
    return phases, diagnostics


def _did_you_mean(text: str, namespace: Namespace) -> str | None:
    """As for E101: the entry with the namespace's common leading segments put in front or its own dropped
    (`classifier` → `model.classifier`), else, for a name, the closest name of the namespace."""
    index = index_of(namespace)
    for shift in _shifts(text, prefix_hint.stem(index.trie)):
        try:
            pattern = compile_regex(shift)
        except RegexProblem:
            continue
        if any(pattern.match(name) for name in index.names):
            return shift
    return closest_name(index, text) if regex_text.is_plain_name(text) else None


def _shifts(text: str, stem: list[str]) -> list[str]:
    """`text` with each run of the namespace's leading segments put in front (dots written as `text`
    writes them), then with up to three of its own leading segments dropped."""
    dot = "\\." if "\\." in text else "."
    added = [dot.join(stem[:count]) + dot + text for count in range(1, len(stem) + 1)]
    dropped: list[str] = []
    rest = text
    for _ in range(3):
        match = re.match(r"\w+\\?\.", rest)
        if match is None or match.end() == len(rest):
            break
        rest = rest[match.end() :]
        dropped.append(rest)
    return [*added, *dropped]


def _overlaps(
    schedule: FtsSchedule, phases: list[list[Resolved]], names: tuple[str, ...]
) -> list[Diagnostic]:
    """E514 on each entry that selects a parameter an earlier entry (of any phase) already selects."""
    first: dict[int, tuple[int, Resolved]] = {}
    problems: list[Diagnostic] = []
    for phase, resolved in zip(schedule.phases, phases, strict=True):
        for item in resolved:
            taken = [p for p in item.positions if p in first]
            for position in item.positions:
                first.setdefault(position, (phase.number, item))
            if not taken:
                continue
            other_phase, other = first[taken[0]]
            shown = ", ".join(f"`{names[p]}`" for p in taken[:_SHOWN]) + (
                ", …" if len(taken) > _SHOWN else ""
            )
            where = "this phase" if other_phase == phase.number else f"phase {other_phase}"
            problems.append(
                diagnose(
                    codes.FTS_SELECTED_TWICE,
                    f"`{item.entry.text}` selects {len(taken)} parameter{'s' if len(taken) != 1 else ''} "
                    f"({shown}) that `{other.entry.text}` in {where} already selects: FTS refuses a schedule "
                    "that selects a parameter twice, even within one phase (`Phases are not disjoint`)",
                    item.entry.span,
                    related=[Related(other.entry.span, f"`{other.entry.text}` selects them first")],
                )
            )
    return problems
