"""Inlay hints: after each `thaw` statement, how many parameters it thaws (its selectors' matches less
its `except`s), so the effect of an edit to a pattern shows while typing it."""

from __future__ import annotations

from collections.abc import Callable

from lsprotocol import types

from ftsc.compiler import CompileResult
from ftsc.compiler.positions import Positions, union
from ftsc.grammar import ast
from ftsc.lsp.summary import elements_text, matched, names_markdown, params_label, short_number

Position = Callable[[int], types.Position]  # a code-point offset in the negotiated encoding


def thaw_hints(result: CompileResult, start: int, end: int, position: Position) -> list[types.InlayHint]:
    """Hints for the thaw statements that end within [start, end] (offsets); none without a namespace."""
    namespace = result.schedule_namespace
    if namespace is None:
        return []
    hints = []
    for phase in result.schedule.phases:
        for thaw in phase.thaws:
            if not start <= thaw.span.end <= end:
                continue
            positions = thawed(result, thaw)
            if positions is None:
                continue
            selection = matched(namespace, positions)
            label = f"⟵ {params_label(selection.count)}"
            if selection.elements is not None:
                label += f" · {short_number(selection.elements)} elements"
            parts = (elements_text(selection), names_markdown(selection))
            tooltip = "\n\n".join(part for part in parts if part)
            hints.append(
                types.InlayHint(
                    position=position(thaw.span.end),
                    label=label,
                    padding_left=True,
                    tooltip=types.MarkupContent(types.MarkupKind.Markdown, tooltip) if tooltip else None,
                )
            )
    return hints


def thawed(result: CompileResult, thaw: ast.Thaw) -> Positions | None:
    """What the statement's selectors match less what its excepts match; None when one is unresolved."""
    chosen: list[Positions] = []
    for selector in (*thaw.selectors, *thaw.excepts):
        positions = result.matches.get(selector.span)
        if positions is None:
            return None
        chosen.append(positions)
    found, removed = union(chosen[: len(thaw.selectors)]), union(chosen[len(thaw.selectors) :])
    return found - removed if thaw.selectors else None
