"""The syntax tree of a `.fts` schedule: plain dataclasses with spans, independent of lark.

A part the parser had to invent while recovering from a syntax error is `None` (a missing value, name
or number): the syntax error is already reported, so later stages skip what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ftsc.diagnostics import Span


@dataclass(frozen=True)
class Number:
    value: float | int
    text: str
    span: Span


@dataclass(frozen=True)
class String:
    value: str
    span: Span


@dataclass(frozen=True)
class Bool:
    value: bool
    span: Span


@dataclass(frozen=True)
class NoneValue:
    span: Span


@dataclass(frozen=True)
class ListValue:
    items: tuple[Value, ...]
    span: Span


@dataclass(frozen=True)
class Entry:
    """`key = value` inside a table or a call's argument list."""

    key: str
    key_span: Span
    value: Value | None
    span: Span


@dataclass(frozen=True)
class Table:
    entries: tuple[Entry, ...]
    span: Span


@dataclass(frozen=True)
class Call:
    """`Dotted.Name(k = v, ...)`, or a bare `Dotted.Name` (arguments is None)."""

    name: str
    name_span: Span
    arguments: tuple[Entry, ...] | None
    span: Span


Value = Number | String | Bool | NoneValue | ListValue | Table | Call


@dataclass(frozen=True)
class Setting:
    name: str
    name_span: Span
    value: Value | None
    span: Span


SelectorKind = Literal["pattern", "exact", "regex", "rest"]


@dataclass(frozen=True)
class Selector:
    """One thaw selector. `text` is the pattern / exact name / regex body; `text_span` covers exactly it."""

    kind: SelectorKind
    text: str
    span: Span
    text_span: Span


@dataclass(frozen=True)
class Thaw:
    selectors: tuple[Selector, ...]
    excepts: tuple[Selector, ...]
    span: Span
    keyword_span: Span


@dataclass(frozen=True)
class Until:
    epoch: Number | None
    span: Span


@dataclass(frozen=True)
class Phase:
    index: int
    name: str | None
    name_span: Span | None
    header_span: Span  # from `phase` to `{`
    thaws: tuple[Thaw, ...]
    untils: tuple[Until, ...]
    settings: tuple[Setting, ...]
    span: Span

    @property
    def label(self) -> str:
        """How messages name the phase: `phase 1 "upper encoder"`."""
        return f"phase {self.index}" + (f" `{self.name}`" if self.name is not None else "")


@dataclass(frozen=True)
class Let:
    name: str
    name_span: Span
    pattern: Selector | None
    span: Span


@dataclass(frozen=True)
class Header:
    version: Number | None
    span: Span


@dataclass(frozen=True)
class UseNamespace:
    """`use namespace "FILE" at PATH`: `at` is where the namespace's module sits inside the trained module
    (the attribute path of `self.model` in a LightningModule); None when not given."""

    path: String | None
    span: Span
    at: String | None = None


@dataclass(frozen=True)
class UseAdapter:
    name: str | None
    name_span: Span | None
    options: Table | None
    span: Span


@dataclass(frozen=True)
class Defaults:
    settings: tuple[Setting, ...]
    span: Span
    keyword_span: Span


Item = Header | UseNamespace | UseAdapter | Let | Defaults | Phase


@dataclass(frozen=True)
class Schedule:
    items: tuple[Item, ...] = field(default_factory=tuple)
    text_length: int = 0

    @property
    def phases(self) -> list[Phase]:
        return [item for item in self.items if isinstance(item, Phase)]

    @property
    def lets(self) -> list[Let]:
        return [item for item in self.items if isinstance(item, Let)]

    @property
    def defaults(self) -> list[Defaults]:
        return [item for item in self.items if isinstance(item, Defaults)]

    @property
    def headers(self) -> list[Header]:
        return [item for item in self.items if isinstance(item, Header)]

    @property
    def namespaces(self) -> list[UseNamespace]:
        return [item for item in self.items if isinstance(item, UseNamespace)]

    @property
    def adapters(self) -> list[UseAdapter]:
        return [item for item in self.items if isinstance(item, UseAdapter)]
