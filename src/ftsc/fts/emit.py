"""Write translated phases as `.fts` text in ftsc's canonical layout (the importer then runs it through
`ftsc.format.format_text`, which leaves it as it is).

The layout `ftsc fmt` produces: the `fts 1` header, `use namespace "…"`, one blank line between blocks,
4-space indentation, `key = value`, tables `{ a = 1 }`, calls `AdamW(lr = 1e-5)`, lists `[1, 2]`, and
`thaw A, B` broken after a comma before column 100, continued with an 8-space indent.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from ftsc.fts.simplify import string_literal

WIDTH = 100
INDENT = "    "
CONTINUATION = " " * 8
_EXPONENT = re.compile(r"e([+-]?)0*(\d)")

# Bare class names the compiler looks up in these modules; anything else keeps its dotted path.
HOME_MODULES = {"optimizer": "torch.optim", "lr_scheduler": "torch.optim.lr_scheduler"}


@dataclass
class PhaseText:
    name: str
    selectors: list[str]  # `.fts` source of each selector
    settings: list[tuple[str, str]] = field(default_factory=list)  # (name, value source), in order
    until: int | None = None


def number_text(value: int | float) -> str:
    """`1e-5` for 1e-05, `0.7`, `2.0` (a float stays a float), `3`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"not a number: {value!r}")
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        raise ValueError(f"{value!r} cannot be written in .fts")
    return _EXPONENT.sub(lambda m: "e" + ("-" if m.group(1) == "-" else "") + m.group(2), repr(value))


def value_text(value: object) -> str:
    """A plain value (from YAML or a plan) as `.fts` source."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return number_text(value)
    if isinstance(value, str):
        return string_literal(value)
    if isinstance(value, list):
        return "[" + ", ".join(value_text(item) for item in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{key} = {value_text(item)}" for key, item in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} in .fts")


def call_text(class_path: str, init_args: dict[str, object], kind: str) -> str:
    """`AdamW(lr = 1e-5)`: a class of the module the compiler looks in is written by its bare name."""
    module, _, name = class_path.rpartition(".")
    shown = name if module == HOME_MODULES.get(kind) else class_path
    return f"{shown}(" + ", ".join(f"{key} = {value_text(item)}" for key, item in init_args.items()) + ")"


def thaw_lines(selectors: list[str]) -> list[str]:
    if not selectors:
        return []
    pieces = [selector + ("," if i < len(selectors) - 1 else "") for i, selector in enumerate(selectors)]
    lines = [f"{INDENT}thaw {pieces[0]}"]
    for piece in pieces[1:]:
        if len(lines[-1]) + 1 + len(piece) <= WIDTH:
            lines[-1] += " " + piece
        else:
            lines.append(CONTINUATION + piece)
    return lines


def schedule_text(phases: list[PhaseText], namespace_path: str | None) -> str:
    blocks = ["fts 1" + (f"\nuse namespace {string_literal(namespace_path)}" if namespace_path else "")]
    for phase in phases:
        body = thaw_lines(phase.selectors)
        if phase.until is not None:
            body.append(f"{INDENT}until epoch {phase.until}")
        body.extend(f"{INDENT}{name} = {value}" for name, value in phase.settings)
        blocks.append("\n".join([f"phase {phase.name} {{", *body, "}"]))
    return "\n\n".join(blocks) + "\n"
