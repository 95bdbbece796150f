"""Completion items for the place `cursor_at` found: namespace segments along the compiler's trie,
keywords, settings, optimizer and lr-scheduler classes and their keyword arguments, table keys.

Everything here comes from the compiler's own tables (settings, classes, the namespace index), so what
completion offers is what the compiler accepts.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from lsprotocol import types

from ftsc.compiler import Namespace, settings
from ftsc.compiler.classes import HOME_MODULES, known_class_names, resolve_class
from ftsc.compiler.optim import BASE_CLASSES
from ftsc.compiler.selectors import SelectorResolver
from ftsc.diagnostics import Span
from ftsc.grammar import ast
from ftsc.lsp.arguments import keyword_arguments
from ftsc.lsp.cursor import Cursor
from ftsc.lsp.locate import CLASS_SETTINGS
from ftsc.lsp.next_segments import next_segments
from ftsc.lsp.summary import params_label

EditRange = Callable[[str], types.Range]  # the range of the text a completion replaces
Kind = types.CompletionItemKind

TOP_KEYWORDS = ("fts", "use", "let", "defaults", "phase")
USE_KEYWORDS = ("namespace", "adapter")
MAX_SEGMENTS = 2000


def complete(
    cursor: Cursor,
    namespace: Namespace | None,
    lets: Sequence[ast.Let],
    edit_range: EditRange,
    *,
    default_range: bool = False,
) -> types.CompletionList:
    """`namespace` and `lets` come from the last good compile; the cursor's own lets (typed since) win.

    With `default_range` (a client that reads `itemDefaults.editRange`, LSP 3.17: VS Code, Neovim 0.11),
    the range most items replace is sent once, not in each of 256 experts' items."""
    offer = _Offer(cursor.partial)
    place = cursor.place
    if place == "top":
        offer.words(TOP_KEYWORDS, Kind.Keyword)
    elif place == "use":
        offer.words(USE_KEYWORDS, Kind.Keyword)
    elif place == "until":
        offer.words(("epoch",), Kind.Keyword)
    elif place == "statement" and cursor.block is not None:
        _statement(offer, cursor)
    elif place == "value" and cursor.setting is not None:
        _value(offer, cursor.setting)
    elif place == "argument" and cursor.call is not None:
        _arguments(offer, cursor.setting, cursor.call)
    elif place == "key" and cursor.setting in settings.TABLE_KEYS:
        keys, _ = settings.TABLE_KEYS[cursor.setting]
        offer.words(keys, Kind.Property, suffix=" = ")
    elif place == "selector":
        _selector(offer, cursor, namespace, lets)
    return offer.completion_list(edit_range, default_range)


@dataclass(frozen=True)
class _Item:
    label: str
    kind: types.CompletionItemKind
    new_text: str
    replaced: str  # the text before the cursor that the item replaces
    detail: str | None
    documentation: str | None


class _Offer:
    """Collects items; each replaces the text it was asked about (by default the whole partial word)."""

    def __init__(self, partial: str) -> None:
        self.partial = partial
        self.items: list[_Item] = []

    def add(
        self,
        label: str,
        kind: types.CompletionItemKind,
        *,
        insert: str | None = None,
        replaced: str | None = None,
        detail: str | None = None,
        documentation: str | None = None,
    ) -> None:
        text = replaced if replaced is not None else self.partial
        new_text = insert if insert is not None else label
        self.items.append(_Item(label, kind, new_text, text, detail, documentation))

    def words(self, words: Iterable[str], kind: types.CompletionItemKind, suffix: str = "") -> None:
        for word in words:
            self.add(word, kind, insert=word + suffix)

    def completion_list(self, edit_range: EditRange, default_range: bool) -> types.CompletionList:
        ranges: dict[str, types.Range] = {}
        for item in self.items:
            if item.replaced not in ranges:
                ranges[item.replaced] = edit_range(item.replaced)
        common = Counter(item.replaced for item in self.items).most_common(1) if default_range else []
        shared = common[0][0] if common else None
        defaults = types.CompletionItemDefaults(edit_range=ranges[shared]) if shared is not None else None
        every = shared is not None and common[0][1] == len(self.items)
        key = tuple(self.items) if every else None  # items with no range of their own can be sent again
        if key is not None and key in _BUILT:
            _BUILT.move_to_end(key)
            return types.CompletionList(is_incomplete=False, items=_BUILT[key], item_defaults=defaults)
        items = [
            types.CompletionItem(
                label=item.label,
                kind=item.kind,
                detail=item.detail,
                documentation=(
                    types.MarkupContent(types.MarkupKind.Markdown, item.documentation)
                    if item.documentation
                    else None
                ),
                sort_text=f"{order:05d}",
                filter_text=_filter_text(item),
                text_edit=None
                if item.replaced == shared
                else types.TextEdit(ranges[item.replaced], item.new_text),
                text_edit_text=item.new_text
                if item.replaced == shared and item.new_text != item.label
                else None,
            )
            for order, item in enumerate(self.items)
        ]
        if key is not None:
            _BUILT[key] = items
            while len(_BUILT) > _KEEP_BUILT:
                _BUILT.popitem(last=False)
        return types.CompletionList(is_incomplete=False, items=items, item_defaults=defaults)


# Completion lists whose items all replace the shared range, by their items: the 256 experts of every layer
# are one list, built once (items are never changed once sent).
_BUILT: OrderedDict[tuple[_Item, ...], list[types.CompletionItem]] = OrderedDict()
_KEEP_BUILT = 32


def _filter_text(item: _Item) -> str | None:
    """What the client filters by, when not the label: `lr = ` is found by typing `lr`."""
    if item.new_text.startswith(item.label):
        return None
    return item.new_text


def _statement(offer: _Offer, cursor: Cursor) -> None:
    block = cursor.block
    if block == "phase":
        offer.add("thaw", Kind.Keyword)
        if cursor.after_selector:
            offer.add("except", Kind.Keyword)
        offer.add("until epoch", Kind.Keyword, insert="until epoch ")
    for spec in settings.SETTINGS.values():
        if block in spec.where:
            offer.add(spec.name, Kind.Property, insert=f"{spec.name} = ", documentation=spec.doc)


def _value(offer: _Offer, setting: str) -> None:
    kind = CLASS_SETTINGS.get(setting)
    if kind is not None and "." not in offer.partial:
        home = HOME_MODULES[kind]
        for name in known_class_names(kind):
            if name in BASE_CLASSES:
                continue  # E303: a schedule must name a concrete class
            offer.add(name, Kind.Class, detail=f"{home}.{name}")
    elif settings.SCALAR_CHECKS.get(setting) is settings.boolean:
        offer.words(("true", "false"), Kind.Value)


def _arguments(offer: _Offer, setting: str | None, call: str) -> None:
    kind = CLASS_SETTINGS.get(setting or "")
    if kind is None:
        return
    info = resolve_class(call, kind).info
    if info is None:
        return
    for parameter in keyword_arguments(info, kind):
        detail = "keyword argument" + ("" if parameter.has_default else " (required)")
        offer.add(parameter.name, Kind.Variable, insert=f"{parameter.name} = ", detail=detail)


# -- selectors -------------------------------------------------------------------------------------


def _selector(offer: _Offer, cursor: Cursor, namespace: Namespace | None, lets: Sequence[ast.Let]) -> None:
    parent, typed, in_segment = split_pattern(cursor.partial)
    known = {let.name: let for let in lets}
    known.update({name: _let(name, text) for name, text in cursor.lets.items()})
    if typed.startswith("$") or (not parent and not typed):
        for name, let in known.items():
            pattern = let.pattern.text if let.pattern is not None else "…"
            offer.add(f"${name}", Kind.Variable, replaced=typed, detail=f"let {name} = {pattern}")
    if cursor.first_selector and not parent and not in_segment and not typed.startswith("$"):
        offer.add("rest", Kind.Keyword, replaced=typed, detail="every parameter no other phase thaws")
    if namespace is None or typed.startswith("$"):
        return
    bindings = SelectorResolver(list(known.values()), namespace).bindings
    segments = next_segments(parent, namespace, bindings)
    replaced = typed[len(in_segment) :]
    chosen = sorted((segment for segment in segments if segment.startswith(in_segment)), key=_natural)
    for segment in chosen[:MAX_SEGMENTS]:
        below = segments[segment]
        if below.parameter is not None:
            shape = namespace.parameters[below.parameter].shape
            kind, detail = Kind.Field, "parameter" + (f" {list(shape)}" if shape is not None else "")
        else:
            kind, detail = Kind.Module, params_label(below.count)
        offer.add(segment, kind, insert=segment[len(in_segment) :], replaced=replaced, detail=detail)


def split_pattern(partial: str) -> tuple[str, str, str]:
    """(parent pattern, typed segment, in-segment prefix) of a pattern being typed.

    Inside an open `{a,b` alternation only the current alternative counts: `bert.{pooler,cla` is the
    parent `bert` and the typed segment `cla`. When the alternation opened inside a segment
    (`attn.w{1,`), the text before the brace (`w`) is a prefix every offered segment must carry
    (`in_segment`); only what follows the brace is replaced (`w2` is inserted as `2`).
    """
    levels = [""]  # per open `{`: the current alternative's text (level 0: the pattern's)
    written = [""]  # per open `{`: everything written since it, to put back when it closes
    for char in partial:
        if char == "{":
            levels.append("")
            written.append("")
        elif char == "}" and len(levels) > 1:
            levels.pop()
            closed = "{" + written.pop() + "}"  # closed: part of the text, as written
            levels[-1] += closed
            written[-1] += closed
        elif char == "," and len(levels) > 1:
            levels[-1] = ""
            written[-1] += char
        else:
            levels[-1] += char
            written[-1] += char
    parent, _, typed = "".join(levels).rpartition(".")
    current = levels[-1]
    in_segment = typed[: len(typed) - len(current)] if "." not in current and len(levels) > 1 else ""
    return parent, typed, in_segment


def _let(name: str, pattern: str) -> ast.Let:
    span = Span(0, len(pattern))
    return ast.Let(name, span, ast.Selector("pattern", pattern, span, span), span)


def _natural(name: str) -> tuple[int, int | str]:
    return (0, int(name)) if name.isdigit() else (1, name)
