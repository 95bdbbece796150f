"""Document symbols: the outline of a schedule (lets, defaults, phases with their thaws and settings)."""

from __future__ import annotations

from lsprotocol import types

from ftsc.diagnostics import Span
from ftsc.grammar import ast
from ftsc.lsp.snapshot import Snapshot

_DETAIL_WIDTH = 60  # a value or selector list longer than this is cut with `…`


def document_symbols(snapshot: Snapshot) -> list[types.DocumentSymbol]:
    symbols: list[types.DocumentSymbol] = []
    for item in snapshot.schedule.items:
        if isinstance(item, ast.Let):
            detail = _text(snapshot, item.pattern.span) if item.pattern is not None else None
            kind = types.SymbolKind.Variable
            symbols.append(_symbol(snapshot, item.name, kind, item.span, item.name_span, detail))
        elif isinstance(item, ast.Defaults):
            children = [_setting(snapshot, setting) for setting in item.settings]
            kind = types.SymbolKind.Object
            symbols.append(_symbol(snapshot, "defaults", kind, item.span, item.keyword_span, None, children))
        elif isinstance(item, ast.Phase):
            symbols.append(_phase(snapshot, item))
    return symbols


def flat_symbols(snapshot: Snapshot) -> list[types.SymbolInformation]:
    """The same symbols, flat, for clients without hierarchical document symbols."""
    flat: list[types.SymbolInformation] = []

    def add(symbol: types.DocumentSymbol, container: str | None) -> None:
        flat.append(
            types.SymbolInformation(
                name=symbol.name,
                kind=symbol.kind,
                location=types.Location(snapshot.uri, symbol.range),
                container_name=container,
            )
        )
        for child in symbol.children or ():
            add(child, symbol.name)

    for symbol in document_symbols(snapshot):
        add(symbol, None)
    return flat


def _phase(snapshot: Snapshot, phase: ast.Phase) -> types.DocumentSymbol:
    label = f"phase {phase.index}"
    named = phase.name is not None and phase.name.strip()
    children: list[types.DocumentSymbol] = []
    for thaw in phase.thaws:
        name = _cut(_thaw_text(snapshot, thaw))
        children.append(_symbol(snapshot, name, types.SymbolKind.Field, thaw.span, thaw.keyword_span))
    for until in phase.untils:
        epoch = until.epoch.text if until.epoch is not None else "…"
        name = f"until epoch {epoch}"
        children.append(_symbol(snapshot, name, types.SymbolKind.Event, until.span, until.span))
    children.extend(_setting(snapshot, setting) for setting in phase.settings)
    children.sort(key=lambda child: (child.range.start.line, child.range.start.character))
    return _symbol(
        snapshot,
        phase.name if named and phase.name is not None else label,
        types.SymbolKind.Module,
        phase.span,
        phase.name_span or phase.header_span,
        label if named else None,
        children,
    )


def _setting(snapshot: Snapshot, setting: ast.Setting) -> types.DocumentSymbol:
    detail = _text(snapshot, setting.value.span) if setting.value is not None else None
    return _symbol(snapshot, setting.name, types.SymbolKind.Property, setting.span, setting.name_span, detail)


def _symbol(
    snapshot: Snapshot,
    name: str,
    kind: types.SymbolKind,
    span: Span,
    selection: Span,
    detail: str | None = None,
    children: list[types.DocumentSymbol] | None = None,
) -> types.DocumentSymbol:
    # The range must hold the selection range; after a syntax error the tree's spans may not say so.
    whole = Span(min(span.start, selection.start), max(span.end, selection.end))
    return types.DocumentSymbol(
        name=name,
        kind=kind,
        range=snapshot.range(whole),
        selection_range=snapshot.range(selection),
        detail=detail,
        children=children,
    )


def _thaw_text(snapshot: Snapshot, thaw: ast.Thaw) -> str:
    """`thaw a, b except c` from the selectors as written (comments and line breaks left out)."""
    text = "thaw " + ", ".join(snapshot.text[s.span.start : s.span.end] for s in thaw.selectors)
    if thaw.excepts:
        text += " except " + ", ".join(snapshot.text[s.span.start : s.span.end] for s in thaw.excepts)
    return text


def _text(snapshot: Snapshot, span: Span) -> str:
    """The source of `span` on one line (whitespace runs collapsed), cut to _DETAIL_WIDTH characters."""
    return _cut(" ".join(snapshot.text[span.start : span.end].split()))


def _cut(text: str) -> str:
    return text if len(text) <= _DETAIL_WIDTH else text[: _DETAIL_WIDTH - 1] + "…"
