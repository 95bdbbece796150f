"""What a set of matched parameters amounts to (how many, which, how many elements), in the words that
hover and inlay hints share, so the two never describe the same selection differently."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ftsc.compiler import Namespace

SHOWN_NAMES = 8


@dataclass(frozen=True)
class Matched:
    count: int
    first: tuple[str, ...]  # the first few names, in namespace order
    elements: int | None  # None when a shape is unknown
    total_elements: int | None  # of the whole namespace, for a share


def matched(namespace: Namespace, positions: Iterable[int]) -> Matched:
    chosen = sorted(set(positions))
    each, known = _sizes(namespace)
    if known is not None:  # every shape known: a plain sum
        elements: int | None = sum(map(known.__getitem__, chosen))
        total: int | None = sum(known)
    else:
        elements, total = _elements(each[position] for position in chosen), None
    return Matched(
        len(chosen), tuple(namespace.names[position] for position in chosen[:SHOWN_NAMES]), elements, total
    )


_SIZES: dict[int, tuple[Namespace, tuple[int | None, ...], tuple[int, ...] | None]] = {}
_KEEP_SIZES = 8


def _sizes(namespace: Namespace) -> tuple[tuple[int | None, ...], tuple[int, ...] | None]:
    """Elements per parameter (the second: the same, when every shape is known), computed once per
    namespace (namespaces are immutable): a hover over `$layers` of a 50,000-name model would otherwise
    multiply 50,000 shapes out again."""
    cached = _SIZES.get(id(namespace))
    if cached is None or cached[0] is not namespace:
        if len(_SIZES) >= _KEEP_SIZES:
            _SIZES.clear()
        each = tuple(parameter.numel for parameter in namespace.parameters)
        known = tuple(size for size in each if size is not None)
        cached = _SIZES[id(namespace)] = (namespace, each, known if len(known) == len(each) else None)
    return cached[1], cached[2]


def _elements(numels: Iterable[int | None]) -> int | None:
    total = 0
    for numel in numels:
        if numel is None:
            return None
        total += numel
    return total


def params_label(count: int) -> str:
    return f"{count:,} param" + ("" if count == 1 else "s")


def short_number(value: int) -> str:
    """`7087872` as `7.1M`: inlay hints have room for a glance, not for digits."""
    for size, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K")):
        if value >= size:
            return f"{value / size:.1f}".removesuffix(".0") + suffix
    return str(value)


def elements_text(selection: Matched) -> str:
    """`85,054,464 elements (85.1M, 77.4% of the model)`; empty when shapes are unknown."""
    if selection.elements is None:
        return ""
    text = f"{selection.elements:,} elements"
    details = [short_number(selection.elements)] if selection.elements >= 1000 else []
    if selection.total_elements:
        share = 100 * selection.elements / selection.total_elements
        details.append(("<0.1" if 0 < share < 0.1 else f"{share:.1f}") + "% of the model")
    return text + (f" ({', '.join(details)})" if details else "")


def names_markdown(selection: Matched) -> str:
    """The first names as a Markdown list, then how many more there are."""
    lines = [f"- `{name}`" for name in selection.first]
    rest = selection.count - len(selection.first)
    if rest > 0:
        lines.append(f"- … and {rest:,} more")
    return "\n".join(lines)
