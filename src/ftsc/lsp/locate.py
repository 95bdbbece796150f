"""What stands at an offset of a schedule: the syntax-tree node under the cursor, for hover and for
navigation (definition, references, rename) alike.

Offsets are code points (as spans are; `SourceText` turns LSP positions into them); a span's end counts
as inside it, so the position right after a word (where the cursor rests once it is typed) still finds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ftsc.compiler.classes import Kind
from ftsc.compiler.settings import Where
from ftsc.diagnostics import Span
from ftsc.grammar import ast
from ftsc.lsp import tree

CLASS_SETTINGS: dict[str, Kind] = {"optimizer": "optimizer", "lr_scheduler": "lr_scheduler"}


@dataclass(frozen=True)
class SelectorAt:
    selector: ast.Selector
    excepted: bool  # in an `except` list


@dataclass(frozen=True)
class VariableAt:
    """A `let` name: `$name` in a pattern (a use: `span` covers `$name`), the name of a `let` statement
    (its declaration) or the pattern a `let` binds (`span` covers the pattern)."""

    name: str
    span: Span
    role: Literal["use", "declaration", "pattern"]


@dataclass(frozen=True)
class SettingAt:
    setting: ast.Setting
    where: Where


@dataclass(frozen=True)
class PhaseAt:
    phase: ast.Phase


@dataclass(frozen=True)
class ClassAt:
    call: ast.Call
    kind: Kind


Located = SelectorAt | VariableAt | SettingAt | PhaseAt | ClassAt


def span_of(found: Located) -> Span:
    """What the hover covers."""
    if isinstance(found, SelectorAt):
        return found.selector.span
    if isinstance(found, SettingAt):
        return found.setting.name_span
    if isinstance(found, PhaseAt):
        return found.phase.header_span
    if isinstance(found, ClassAt):
        return found.call.name_span
    return found.span


def inside(span: Span | None, offset: int) -> bool:
    return span is not None and span.start <= offset <= span.end


def locate(schedule: ast.Schedule, offset: int) -> Located | None:
    """The innermost node the hover and navigation features know, at `offset`; None between them."""
    for item in schedule.items:
        if not inside(item.span, offset):
            continue
        if isinstance(item, ast.Phase):
            return _in_phase(item, offset)
        if isinstance(item, ast.Defaults):
            return _in_settings(item.settings, "defaults", offset)
        if isinstance(item, ast.Let):
            return _in_let(item, offset)
    return None


def _in_phase(phase: ast.Phase, offset: int) -> Located | None:
    for thaw in phase.thaws:
        for selectors, excepted in ((thaw.selectors, False), (thaw.excepts, True)):
            for selector in selectors:
                if inside(selector.span, offset):
                    return _in_selector(selector, excepted, offset)
    found = _in_settings(phase.settings, "phase", offset)
    if found is not None:
        return found
    return PhaseAt(phase) if inside(phase.header_span, offset) else None


def _in_selector(selector: ast.Selector, excepted: bool, offset: int) -> Located:
    for name, span in tree.variables(selector):
        if span.contains(offset):
            return VariableAt(name, span, "use")
    return SelectorAt(selector, excepted)


def _in_settings(settings: tuple[ast.Setting, ...], where: Where, offset: int) -> Located | None:
    for setting in settings:
        if inside(setting.name_span, offset):
            return SettingAt(setting, where)
        value = setting.value
        kind = CLASS_SETTINGS.get(setting.name)
        if kind is not None and isinstance(value, ast.Call) and inside(value.name_span, offset):
            return ClassAt(value, kind)
    return None


def _in_let(let: ast.Let, offset: int) -> Located | None:
    if inside(let.name_span, offset):
        return VariableAt(let.name, let.name_span, "declaration")
    if let.pattern is not None and inside(let.pattern.span, offset):
        found = _in_selector(let.pattern, False, offset)
        return found if isinstance(found, VariableAt) else VariableAt(let.name, let.pattern.span, "pattern")
    return None
