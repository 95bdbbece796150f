"""The ways `ftsc gen` splits a model into phases.

- `fts`: Fine-Tuning Scheduler's own implicit schedule (`ScheduleImplMixin._gen_ft_schedule_impl`): every
  parameter of `named_parameters()`, `requires_grad = False` ones included, in reverse order, two a phase;
  with an odd count the last phase holds the first parameter alone. Phases have no `until epoch`, as in
  FTS's generated YAML. Each parameter is written by its exact name.
- `blocks`: one phase per block from the output side: the head, then `layers_per_phase` layers of each
  stack at a time from the top, then what lies between stacks, and the embeddings last, as `thaw rest`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

from ftsc.compiler import Namespace
from ftsc.generate.cover import cover
from ftsc.generate.spec import GeneratedLet, GeneratedPhase, GeneratedSchedule
from ftsc.generate.spelling import exact, is_identifier, regex_literal, spells_as_prefix
from ftsc.generate.structure import Part, Stack, Structure, analyse

__all__ = ["STRATEGIES", "blocks", "default_layers_per_phase", "fts_implicit", "layer_ranges"]

_LAYER_PHASES = 4  # by default the layers are thawed in about this many phases
_SHOWN_IN_COMMENT = 3


def fts_implicit(namespace: Namespace, layers_per_phase: int | None = None) -> GeneratedSchedule:
    """FTS's implicit schedule; `layers_per_phase` does not apply and must be None."""
    if layers_per_phase is not None:
        raise ValueError("layers_per_phase applies to the `blocks` strategy only")
    names = namespace.names
    order = list(range(len(names)))[::-1]
    phases = tuple(
        GeneratedPhase(None, tuple(exact(names[p]) for p in pair), tuple(sorted(pair)))
        for pair in (order[start : start + 2] for start in range(0, len(order), 2))
    )
    about = (
        "Fine-Tuning Scheduler's implicit schedule: the parameters in reverse order, two a phase.",
        "Each phase moves on when early stopping says so (no `until epoch`), as in FTS.",
    )
    return GeneratedSchedule("fts", about, (), phases)


def default_layers_per_phase(structure: Structure) -> int:
    """A quarter of all the layers (rounded up), so the layers take about four phases."""
    total = sum(stack.depth for stack in structure.stacks)
    return max(1, math.ceil(total / _LAYER_PHASES))


def layer_ranges(depth: int, per_phase: int) -> list[tuple[int, int]]:
    """Inclusive layer ranges from the top down; the lowest one takes the remainder."""
    ranges: list[tuple[int, int]] = []
    high = depth - 1
    while high >= 0:
        low = max(0, high - per_phase + 1)
        ranges.append((low, high))
        high = low - 1
    return ranges


def blocks(namespace: Namespace, layers_per_phase: int | None = None) -> GeneratedSchedule:
    structure = analyse(namespace)
    per_phase = layers_per_phase if layers_per_phase is not None else default_layers_per_phase(structure)
    if per_phase < 1:
        raise ValueError(f"layers_per_phase must be at least 1, not {per_phase}")
    stacks = structure.stacks
    lets = _let_names(stacks, per_phase)
    names = namespace.names
    units: list[tuple[str, tuple[str, ...], tuple[int, ...]]] = []
    for part in reversed(structure.parts):
        if part.stack is not None:
            for low, high in layer_ranges(part.stack.depth, per_phase):
                label = _layers_label(part.stack, low, high, several=len(stacks) > 1)
                selector = _layers_selector(part.stack, lets.get(part.stack.prefix), low, high)
                params = tuple(sorted(p for layer in part.stack.layers[low : high + 1] for p in layer))
                units.append((label, (selector,), params))
        else:
            selectors = tuple(cover(structure.tree, names, part.positions))
            units.append((_loose_label(part, first=not units), selectors, part.positions))
    if len(units) == 1:
        units[0] = ("all", *units[0][1:])
    labels = _unique([label for label, _, _ in units])
    phases: list[GeneratedPhase] = []
    for index, (label, (_, selectors, params)) in enumerate(zip(labels, units, strict=True)):
        if index < len(units) - 1:
            phases.append(GeneratedPhase(label, selectors, params, until=index + 1))
        else:
            comment = "rest: " + _summary(selectors, len(params))
            phases.append(GeneratedPhase(label, ("rest",), params, comment=comment))
    let_specs = tuple(GeneratedLet(name, prefix) for prefix, name in lets.items())
    used = per_phase if stacks else None
    return GeneratedSchedule("blocks", _about(structure, per_phase), let_specs, tuple(phases), used)


STRATEGIES: dict[str, Callable[[Namespace, int | None], GeneratedSchedule]] = {
    "blocks": blocks,
    "fts": fts_implicit,
}


def _let_names(stacks: Sequence[Stack], per_phase: int) -> dict[str, str]:
    """`let` names for the stack prefixes written more than once (and of two segments or more).

    One stack is `layers`; several are named by the fewest last segments that tell them apart
    (`encoder_block`, `decoder_block`).
    """
    bound = [
        stack.prefix
        for stack in stacks
        if stack.depth > per_phase and "." in stack.prefix and spells_as_prefix(stack.prefix)
    ]
    if len(stacks) == 1:
        return {prefix: "layers" for prefix in bound}
    longest = max((len(prefix.split(".")) for prefix in bound), default=0)
    for count in range(1, longest + 1):
        words = [re.sub(r"\W", "_", "_".join(prefix.split(".")[-count:]), flags=re.ASCII) for prefix in bound]
        if len(set(words)) == len(words) and all(is_identifier(word) for word in words):
            return dict(zip(bound, words, strict=True))
    return {prefix: f"stack{number}" for number, prefix in enumerate(bound, start=1)}


def _layers_selector(stack: Stack, let: str | None, low: int, high: int) -> str:
    span = str(low) if low == high else f"{{{low}..{high}}}"
    if let is not None:
        return f"${let}.{span}.**"
    if not stack.prefix:
        return f"{span}.**"
    if spells_as_prefix(stack.prefix):
        return f"{stack.prefix}.{span}.**"
    indices = "|".join(str(index) for index in range(low, high + 1))
    return regex_literal(re.escape(stack.prefix) + rf"\.(?:{indices})(?:\..*)?")


def _layers_label(stack: Stack, low: int, high: int, *, several: bool) -> str:
    noun = (stack.prefix or "layers") if several else "layers"
    if low == high:
        return f"{noun} {low}" if several else f"layer {low}"
    return f"{noun} {low}-{high}"


def _loose_label(part: Part, *, first: bool) -> str:
    if part.role == "head" or (first and part.role == "block"):
        return "head"
    if part.role == "embeddings":
        return "embeddings"
    return part.label or part.role


def _unique(labels: list[str]) -> list[str]:
    seen: set[str] = set()
    unique: list[str] = []
    for label in labels:
        candidate, count = label, 1
        while candidate in seen:
            count += 1
            candidate = f"{label} ({count})"
        seen.add(candidate)
        unique.append(candidate)
    return unique


def _summary(selectors: Sequence[str], count: int) -> str:
    shown = ", ".join(selectors[:_SHOWN_IN_COMMENT])
    more = f", … ({len(selectors) - _SHOWN_IN_COMMENT} more)" if len(selectors) > _SHOWN_IN_COMMENT else ""
    return f"{shown}{more} ({count} parameter{'s' if count != 1 else ''})"


def _about(structure: Structure, per_phase: int) -> tuple[str, ...]:
    steps: list[str] = []
    for part in reversed(structure.parts):
        if part.stack is not None:
            count = f"{per_phase} layer{'s' if per_phase != 1 else ''}"
            steps.append(f"{part.stack.prefix or 'the layers'} {count} at a time from the top")
        elif part.role in ("head", "embeddings"):
            steps.append(f"the {part.role}")
        else:
            steps.append(part.label or "the blocks between")
    lines = [
        "Phases: " + ", then ".join(steps) + ".",
        "Each phase but the last has `until epoch`; the last thaws `rest`, so nothing stays frozen.",
    ]
    stacks = [
        f"{stack.prefix + '.' if stack.prefix else ''}{{0..{stack.depth - 1}}}"
        + (f" ({stack.layer_type})" if stack.layer_type else "")
        for stack in structure.stacks
    ]
    if stacks:
        lines.append("Repeated layers: " + ", ".join(stacks) + ".")
    else:
        lines.append("No repeated layers were found: one phase per block.")
    return tuple(lines)
