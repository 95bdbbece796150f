"""Counts in messages: `1 alias`, `2 aliases`, one spelling for every command and the runtime."""

from __future__ import annotations

_PLURALS = {
    "alias": "aliases",
    "entry": "entries",
    "child": "children",
    "parameter or buffer": "parameters or buffers",
}


def counted(count: int, noun: str) -> str:
    """`count` and `noun`, plural unless `count` is 1: `counted(1, "alias")` is `1 alias`."""
    return f"{count:,} {noun if count == 1 else plural(noun)}"


def plural(noun: str) -> str:
    return _PLURALS.get(noun, noun + "s")
