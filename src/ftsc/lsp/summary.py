"""What a set of matched parameters amounts to (how many, which, how many elements), in the words that
hover and inlay hints share, so the two never describe the same selection differently."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ftsc.compiler import Namespace
from ftsc.compiler.positions import Positions
from ftsc.compiler.recent import Recent

SHOWN_NAMES = 8


@dataclass(frozen=True)
class Matched:
    count: int
    first: tuple[str, ...]  # the first few names, in namespace order
    elements: int | None  # None when a shape is unknown
    total_elements: int | None  # of the whole namespace, for a share


def matched(namespace: Namespace, positions: Iterable[int]) -> Matched:
    chosen = Positions.of(positions)
    first = chosen.first(SHOWN_NAMES)
    return Matched(
        len(chosen),
        tuple(namespace.names[position] for position in first),
        namespace.total_numel_at(chosen),
        _total_elements(namespace),
    )


_TOTALS: Recent[tuple[int | None]] = Recent(keep=8)  # (total,): None is a total, not a miss


def _total_elements(namespace: Namespace) -> int | None:
    """Elements in the whole namespace, computed once per namespace (namespaces are immutable): every
    hover and inlay hint shows its share."""
    known = _TOTALS.get(id(namespace), namespace)
    if known is None:
        total = namespace.total_numel_at(Positions.span(0, len(namespace.names)))
        known = _TOTALS.put(id(namespace), namespace, (total,))
    return known[0]


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
