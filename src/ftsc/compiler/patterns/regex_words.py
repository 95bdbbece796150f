"""The whole segments every match of a `re"…"` selector must contain, read from the parsed regex.

`re"model\\.layers\\.(4[89]|5[0-5])\\.mlp\\.\\w+"` can only match names whose segments include
`model`, `layers`, one of `48`…`55` and `mlp`: a segment is whole when literal dots (or the ends of
the regex, which is full-matched) bound it, and it is known when everything in it has a small, finite
set of spellings. The namespace's inverted index turns those sets into a few candidate names, so a
regex selector is full-matched against those instead of every name.
"""

from __future__ import annotations

import re
from typing import Any

try:  # the parser behind `re`; private, so any surprise only costs the shortcut
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse

MAX_SPELLINGS = 64
_DOT = ord(".")


def required_segments(regex: str) -> list[frozenset[str]]:
    """For each whole segment the regex pins down, its possible spellings; [] when none is known."""
    try:
        parsed = sre_parse.parse(regex)
    except Exception:
        return []
    if parsed.state.flags & (re.IGNORECASE | re.VERBOSE):
        return []
    found: list[frozenset[str]] = []
    current: set[str] | None = {""}  # spellings of the segment so far; None: not known
    for op, value in parsed:
        if op is sre_parse.LITERAL and value == _DOT:
            if current:
                found.append(frozenset(current))
            current = {""}
            continue
        options = _spellings(op, value)
        if current is None or options is None or any("." in option for option in options):
            current = None
            continue
        current = {before + after for before in current for after in options}
        if len(current) > MAX_SPELLINGS:
            current = None
    if current and current != {""}:
        found.append(frozenset(current))
    return [spellings for spellings in found if "" not in spellings]


def _spellings(op: Any, value: Any) -> set[str] | None:
    """The strings one parsed regex item matches, when they are few; else None."""
    if op is sre_parse.LITERAL:
        return {chr(value)}
    if op is sre_parse.AT:
        return {""}
    if op is sre_parse.IN:
        return _character_set(value)
    if op is sre_parse.SUBPATTERN:
        _group, add_flags, _del_flags, inner = value
        return None if add_flags else _sequence(list(inner))
    if op is sre_parse.BRANCH:
        union: set[str] = set()
        for branch in value[1]:
            options = _sequence(list(branch))
            if options is None:
                return None
            union |= options
        return union if len(union) <= MAX_SPELLINGS else None
    return None


def _sequence(items: list[tuple[Any, Any]]) -> set[str] | None:
    found = {""}
    for op, value in items:
        options = _spellings(op, value)
        if options is None:
            return None
        found = {before + after for before in found for after in options}
        if len(found) > MAX_SPELLINGS:
            return None
    return found


def _character_set(items: list[tuple[Any, Any]]) -> set[str] | None:
    chars: set[str] = set()
    for op, value in items:
        if op is sre_parse.LITERAL:
            chars.add(chr(value))
        elif op is sre_parse.RANGE and value[1] - value[0] < MAX_SPELLINGS:
            chars.update(chr(code) for code in range(value[0], value[1] + 1))
        else:
            return None
    return chars
