"""Code actions: the compiler's did-you-mean fixes, a last `thaw rest` phase for W208, and `re"…"` →
the plain pattern that selects exactly the same parameters.

Fixes arrive in each diagnostic's `data.fixes` (see `convert.to_lsp`), ranges already in the client's
encoding. Fixes whose ranges overlap are alternatives (one action each: three class names for one
typo); fixes with separate ranges are parts of one correction (`bert.encodr.layr.**` needs both
segments fixed to match anything), so they make one action.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lsprotocol import types

from ftsc import codes
from ftsc.compiler import CompileResult
from ftsc.diagnostics import Span
from ftsc.format.formatter import INDENT
from ftsc.fts.simplify import Simplifier
from ftsc.grammar import ast
from ftsc.lsp import tree
from ftsc.lsp.convert import SOURCE
from ftsc.lsp.snapshot import Snapshot

QUICK_FIX = types.CodeActionKind.QuickFix
REWRITE = types.CodeActionKind.RefactorRewrite


def wanted(kind: str, only: Sequence[str] | None) -> bool:
    """Whether the client asked for actions of `kind` (`only` lists kinds or their prefixes)."""
    return only is None or any(kind == prefix or kind.startswith(prefix + ".") for prefix in only)


def diagnostic_actions(snapshot: Snapshot, diagnostics: Sequence[types.Diagnostic]) -> list[types.CodeAction]:
    """Quick fixes for ftsc's diagnostics among `diagnostics` (the ones the client shows in the range)."""
    actions: list[types.CodeAction] = []
    for diagnostic in diagnostics:
        if diagnostic.source != SOURCE:
            continue
        actions.extend(_fix_actions(snapshot, diagnostic))
        if diagnostic.code == codes.NEVER_THAWED.code:
            action = _rest_phase(snapshot, diagnostic)
            if action is not None:
                actions.append(action)
    return actions


# -- did-you-mean fixes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Fix:
    title: str
    edit: types.TextEdit

    @property
    def bounds(self) -> tuple[tuple[int, int], tuple[int, int]]:
        start, end = self.edit.range.start, self.edit.range.end
        return (start.line, start.character), (end.line, end.character)


def _fix_actions(snapshot: Snapshot, diagnostic: types.Diagnostic) -> list[types.CodeAction]:
    fixes = _fixes(diagnostic.data)
    if not fixes:
        return []
    ordered = sorted(fixes, key=lambda fix: fix.bounds)
    separate = all(a.bounds[1] <= b.bounds[0] for a, b in itertools.pairwise(ordered))
    if len(fixes) > 1 and separate:
        title = _combined_title(snapshot, diagnostic.range, ordered)
        return [_action(snapshot.uri, title, [fix.edit for fix in ordered], diagnostic, preferred=True)]
    single = len(fixes) == 1
    return [_action(snapshot.uri, fix.title, [fix.edit], diagnostic, preferred=single) for fix in fixes]


def _fixes(data: Any) -> list[_Fix]:
    """The fixes `convert.to_lsp` put in `data`; anything else a client sends back is ignored."""
    entries = data.get("fixes") if isinstance(data, dict) else None
    fixes: list[_Fix] = []
    for entry in entries if isinstance(entries, list) else ():
        try:
            start, end = entry["range"]["start"], entry["range"]["end"]
            edit = types.TextEdit(
                types.Range(
                    types.Position(int(start["line"]), int(start["character"])),
                    types.Position(int(end["line"]), int(end["character"])),
                ),
                str(entry["newText"]),
            )
            fixes.append(_Fix(str(entry["title"]), edit))
        except (KeyError, TypeError, ValueError):
            continue
    return fixes


def _combined_title(snapshot: Snapshot, where: types.Range, fixes: list[_Fix]) -> str:
    """`Replace with `bert.encoder.layer.**``: the diagnostic's text with every fix applied."""
    span = snapshot.span(where)
    text = snapshot.text[span.start : span.end]
    for fix in reversed(fixes):  # from the end, so earlier offsets stay valid
        part = snapshot.span(fix.edit.range)
        if not (span.start <= part.start <= part.end <= span.end):
            return "; ".join(fix.title for fix in fixes)
        text = text[: part.start - span.start] + fix.edit.new_text + text[part.end - span.start :]
    return f"Replace with `{text}`"


# -- W208: a last phase that thaws the rest ---------------------------------------------------------------


def _rest_phase(snapshot: Snapshot, diagnostic: types.Diagnostic) -> types.CodeAction | None:
    """Append `phase rest { thaw rest }`, unless `rest` is already used (a second one is E202) or
    `epoch_transitions_only` would then need an `until epoch` the old last phase lacks (E206)."""
    schedule = snapshot.schedule
    if not schedule.phases or any(selector.kind == "rest" for selector in tree.selectors(schedule)):
        return None
    if _epoch_transitions_only(schedule) and not schedule.phases[-1].untils:
        return None
    taken = {phase.name for phase in schedule.phases}
    candidates = ("rest", *(f"rest_{number}" for number in range(2, len(taken) + 3)))
    name = next(candidate for candidate in candidates if candidate not in taken)
    text = snapshot.text
    gap = "" if text.endswith("\n\n") else "\n" if text.endswith("\n") else "\n\n"
    block = f"{gap}phase {name} {{\n{' ' * INDENT}thaw rest\n}}\n"
    end = snapshot.range(Span(len(text), len(text)))
    edit = types.TextEdit(end, block)
    title = f"Add a last phase `{name}` that thaws the rest"
    return _action(snapshot.uri, title, [edit], diagnostic, preferred=True)


def _epoch_transitions_only(schedule: ast.Schedule) -> bool:
    return any(
        setting.name == "epoch_transitions_only"
        and isinstance(setting.value, ast.Bool)
        and setting.value.value
        for block in schedule.defaults
        for setting in block.settings
    )


# -- re"…" → a plain pattern -----------------------------------------------------------------------------


def regex_actions(snapshot: Snapshot, result: CompileResult, within: Span) -> list[types.CodeAction]:
    """For each `re"…"` touching `within` that plain patterns can say exactly (the same simplifier as
    `ftsc import-fts`, checked with the compiler's resolver), the rewrite. `result` must be the compile
    of the snapshot's text: its `matches` are what each selector selects."""
    actions = []
    for selector in tree.selectors(result.schedule):
        if selector.kind != "regex" or selector.span.end < within.start or within.end < selector.span.start:
            continue
        patterns = _REWRITES.patterns(result, selector)
        if patterns is None:
            continue
        new_text = ", ".join(patterns)
        edit = types.TextEdit(snapshot.range(selector.span), new_text)
        title = f"Replace the regex with `{new_text}`"
        change = types.WorkspaceEdit(changes={snapshot.uri: [edit]})
        actions.append(types.CodeAction(title=title, kind=REWRITE, edit=change))
    return actions


class _Rewrites:
    """The patterns found for the regexes of the last compile result. Editors ask for code actions each
    time the cursor rests, and simplifying a regex that selects thousands of names takes a while."""

    def __init__(self) -> None:
        self.result: CompileResult | None = None
        self.found: dict[Span, list[str] | None] = {}
        self.simplifier: Simplifier | None = None

    def patterns(self, result: CompileResult, selector: ast.Selector) -> list[str] | None:
        namespace = result.schedule_namespace
        positions = result.matches.get(selector.span)
        if namespace is None or not positions:
            return None
        if result is not self.result:
            self.result, self.found, self.simplifier = result, {}, Simplifier(namespace)
        if selector.span not in self.found:
            assert self.simplifier is not None
            self.found[selector.span] = self.simplifier.regex_patterns(selector.text, positions)
        return self.found[selector.span]


_REWRITES = _Rewrites()


def _action(
    uri: str,
    title: str,
    edits: list[types.TextEdit],
    diagnostic: types.Diagnostic,
    *,
    preferred: bool,
) -> types.CodeAction:
    return types.CodeAction(
        title=title,
        kind=QUICK_FIX,
        diagnostics=[diagnostic],
        edit=types.WorkspaceEdit(changes={uri: edits}),
        is_preferred=preferred or None,
    )
