"""Spelling names, prefixes and labels as `.fts` text: plain patterns where they are safe, else quoted.

A parameter name is written as a plain pattern (`model.norm.weight`) when the pattern can only match
that one name: every segment made of letters, digits, `_` and `-`, and the whole not a keyword. Any
other name is written exactly (`"my layer.w"`), and a prefix that a pattern cannot spell becomes an
anchored `re"…"`.
"""

from __future__ import annotations

import re

__all__ = [
    "RESERVED",
    "exact",
    "is_identifier",
    "is_plain",
    "phase_name",
    "prefix_pattern",
    "quote",
    "regex_literal",
    "spells_as_prefix",
]

# Every word that is a keyword somewhere: a whole pattern or a name equal to one is never written bare.
RESERVED = frozenset(
    {
        "fts",
        "use",
        "let",
        "defaults",
        "phase",
        "thaw",
        "until",
        "rest",
        "except",
        "true",
        "false",
        "none",
        "epoch",
        "namespace",
        "adapter",
    }
)
_PLAIN_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t"}


def is_plain(dotted: str) -> bool:
    """Whether `dotted` can be written as a pattern that matches exactly itself."""
    return dotted not in RESERVED and spells_as_prefix(dotted)


def spells_as_prefix(dotted: str) -> bool:
    """Whether `dotted` can start a longer pattern (`dotted.**`): every segment spelt literally.

    A keyword is fine there (`rest.**`), since only a whole token is reserved.
    """
    return bool(dotted) and all(_PLAIN_SEGMENT.fullmatch(segment) for segment in dotted.split("."))


def is_identifier(word: str) -> bool:
    """Whether `word` can stand as a `let` or phase name (a name token that is no keyword)."""
    return bool(_IDENTIFIER.fullmatch(word)) and word not in RESERVED


def quote(text: str) -> str:
    """A `.fts` string literal whose value is `text`."""
    return '"' + "".join(_ESCAPES.get(char, char) for char in text) + '"'


def exact(name: str) -> str:
    """A selector for exactly the parameter `name`: the plain pattern when safe, else `"name"`."""
    return name if is_plain(name) else quote(name)


def regex_literal(regex: str) -> str:
    """`re"…"` for `regex`: the body is taken as written, so only a quote needs a backslash."""
    return 're"' + regex.replace('"', '\\"') + '"'


def prefix_pattern(prefix: str, *, one_level: bool) -> str:
    """Every parameter below `prefix`: `prefix.*` (`one_level`: all are its direct children) or `prefix.**`.

    `prefix.**` also takes a parameter named exactly `prefix`. A prefix that a pattern cannot spell
    becomes the equivalent full-match regex.
    """
    if not prefix:
        return "*" if one_level else "**"
    if spells_as_prefix(prefix):
        return f"{prefix}.*" if one_level else f"{prefix}.**"
    tail = r"\.[^.]*" if one_level else r"(?:\..*)?"
    return regex_literal(re.escape(prefix) + tail)


def phase_name(label: str) -> str:
    """A phase name: the bare word when it is a name token, else a string."""
    return label if is_identifier(label) else quote(label)
