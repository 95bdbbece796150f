"""Go to definition, find references and rename, for `let` names (`let name` ↔ `$name`) and phase names.

Phase names are not referred to inside a schedule (logs, checkpoints and the CLI use them), so renaming
one edits its header only. A new name that would not parse, or that another `let` or phase already has,
is refused with an error saying why, rather than leaving a schedule with an E001, E104 or E209.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lsprotocol import types

from ftsc.diagnostics import Span
from ftsc.grammar import ast, parse
from ftsc.lsp import tree
from ftsc.lsp.locate import PhaseAt, VariableAt, locate
from ftsc.lsp.snapshot import Snapshot


class RenameRefused(ValueError):
    """A new name the schedule cannot take; the message says why and what would do."""


@dataclass(frozen=True)
class LetTarget:
    """A `let` name under the cursor, at its `let` or at a `$name` use."""

    name: str
    span: Span  # the name under the cursor, without the `$`


@dataclass(frozen=True)
class PhaseTarget:
    phase: ast.Phase
    span: Span  # the name as written (with its quotes, if any)


Target = LetTarget | PhaseTarget


def target_at(schedule: ast.Schedule, offset: int) -> Target | None:
    """What renameable name `offset` is on or right after (editors put the cursor after a word, too):
    the node under the cursor (`locate`) when it is a `let` name, a `$name` use or a phase's name."""
    found = locate(schedule, offset)
    if isinstance(found, VariableAt) and found.role == "declaration":
        return LetTarget(found.name, found.span)
    if isinstance(found, VariableAt) and found.role == "use":
        return LetTarget(found.name, Span(found.span.start + 1, found.span.end))  # without the `$`
    if isinstance(found, PhaseAt) and found.phase.name_span is not None:
        return (
            PhaseTarget(found.phase, found.phase.name_span)
            if found.phase.name_span.contains(offset)
            else None
        )
    return None


def declarations(schedule: ast.Schedule, name: str) -> list[Span]:
    """The spans of `let name`; the first binds (a second is E104)."""
    return [let.name_span for let in schedule.lets if let.name == name]


def uses(schedule: ast.Schedule, name: str) -> list[Span]:
    """The spans of `name` in each `$name` (without the `$`)."""
    return [
        Span(span.start + 1, span.end)
        for selector in tree.selectors(schedule)
        for found, span in tree.variables(selector)
        if found == name
    ]


def definition(snapshot: Snapshot, position: types.Position) -> list[types.Location] | None:
    target = target_at(snapshot.schedule, snapshot.offset(position))
    if not isinstance(target, LetTarget):
        return None
    found = declarations(snapshot.schedule, target.name)
    return [snapshot.location(found[0])] if found else None


def references(
    snapshot: Snapshot, position: types.Position, include_declaration: bool
) -> list[types.Location] | None:
    target = target_at(snapshot.schedule, snapshot.offset(position))
    if isinstance(target, PhaseTarget):
        return [snapshot.location(target.span)] if include_declaration else []
    if target is None:
        return None
    spans = uses(snapshot.schedule, target.name)
    if include_declaration:
        spans += declarations(snapshot.schedule, target.name)
    return [snapshot.location(span) for span in sorted(spans)]


def prepare_rename(snapshot: Snapshot, position: types.Position) -> types.PrepareRenamePlaceholder | None:
    target = target_at(snapshot.schedule, snapshot.offset(position))
    if target is None:
        return None
    placeholder = target.name if isinstance(target, LetTarget) else (target.phase.name or "")
    return types.PrepareRenamePlaceholder(range=snapshot.range(target.span), placeholder=placeholder)


def rename(snapshot: Snapshot, position: types.Position, new_name: str) -> types.WorkspaceEdit | None:
    """The edits of a rename; raises RenameRefused for a name the schedule cannot take."""
    target = target_at(snapshot.schedule, snapshot.offset(position))
    if target is None:
        return None
    if isinstance(target, LetTarget):
        name = _let_name(snapshot.schedule, target.name, new_name)
        spans = declarations(snapshot.schedule, target.name) + uses(snapshot.schedule, target.name)
        edits = [types.TextEdit(snapshot.range(span), name) for span in sorted(spans)]
    else:
        written = _phase_name(snapshot, target.phase, new_name)
        edits = [types.TextEdit(snapshot.range(target.span), written)]
    return types.WorkspaceEdit(changes={snapshot.uri: edits})


# -- checking a new name ---------------------------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _let_name(schedule: ast.Schedule, old: str, new_name: str) -> str:
    name = new_name.strip().removeprefix("$")
    if not _is_bare_word(name, "let @ = x"):
        raise RenameRefused(
            f"`{new_name}` cannot be a `let` name: use letters, digits and `_`, not starting with a digit, "
            "and not a keyword of the language"
        )
    if name != old and declarations(schedule, name):
        raise RenameRefused(f"`{name}` is already bound by another `let`; choose another name")
    return name


def _phase_name(snapshot: Snapshot, phase: ast.Phase, new_name: str) -> str:
    """The new name as written: bare if the old one was and the new one can be, else a quoted string."""
    if not new_name.strip():
        raise RenameRefused("a phase name cannot be blank")
    if "\n" in new_name or "\r" in new_name:
        raise RenameRefused("a phase name is one line: remove the line break")
    for other in snapshot.schedule.phases:
        if other.index != phase.index and other.name == new_name:
            raise RenameRefused(f"phase {other.index} is already named `{new_name}`; phase names are unique")
    assert phase.name_span is not None
    was_quoted = snapshot.text.startswith('"', phase.name_span.start)
    if not was_quoted and _is_bare_word(new_name, "phase @ { thaw rest }"):
        return new_name
    escaped = new_name.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t")
    return f'"{escaped}"'


def _is_bare_word(name: str, statement: str) -> bool:
    """Whether `name` reads back as itself in place of the `@` of `statement`: the grammar decides,
    so keywords are refused exactly where the parser would refuse them."""
    if not _NAME.fullmatch(name):
        return False
    parsed = parse(statement.replace("@", name))
    if parsed.diagnostics:
        return False
    item = parsed.schedule.items[0] if parsed.schedule.items else None
    return isinstance(item, (ast.Let, ast.Phase)) and item.name == name
