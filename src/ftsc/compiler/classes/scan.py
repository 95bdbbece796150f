"""Finding top-level statements and class headers in source text without parsing it whole.

Strings and comments are skipped whole, so a column-0 line inside a docstring is not taken for a
statement. Whatever this misjudges makes a chunk fail to parse, and then the module is parsed whole.
"""

from __future__ import annotations

import re

# `_SCAN` skips code, one-line strings, comments and indented lines in one go, and stops at a triple
# quote (its end is found with `_STRING_END`), at a line starting in column 0, or at an unclosed string.
_SCAN = re.compile(
    r"""(?:[^"'#\n]+|"(?!"")(?:[^"\\\n]|\\.)*"|'(?!'')(?:[^'\\\n]|\\.)*'|\#[^\n]*|\n(?=[\s#]))*"""
    r"""(?:(?P<quote>\"\"\"|''')|(?P<unclosed>["'])|\n|\Z)""",
    re.DOTALL,
)
_STRING_END = {
    '"""': re.compile(r'[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""', re.DOTALL),
    "'''": re.compile(r"[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''", re.DOTALL),
    '"': re.compile(r'[^"\\\n]*(?:\\.[^"\\\n]*)*"', re.DOTALL),
    "'": re.compile(r"[^'\\\n]*(?:\\.[^'\\\n]*)*'", re.DOTALL),
}
_CONTINUATION = re.compile(r"[)\]}]|(?:else|elif|except|finally)\b")
HEAD = re.compile(r"(?:@[^\n]*\n)*(?:(class)|(?:async[ \t]+)?def)[ \t]+(\w+)")
_HEADER_SCAN = re.compile(r"""(?P<quote>\"\"\"|'''|"|')|#[^\n]*|[()\[\]{}:]""")


def header_end(text: str) -> int | None:
    """Offset just past the colon that ends a class statement's header (brackets and strings skipped)."""
    head = HEAD.match(text)
    if head is None:
        return None
    position, depth = head.end(), 0
    while (match := _HEADER_SCAN.search(text, position)) is not None:
        quote = match.group("quote")
        if quote:
            end = _STRING_END[quote].match(text, match.end())
            if end is None:
                return None
            position = end.end()
            continue
        position, token = match.end(), match.group()
        if token in "([{":
            depth += 1
        elif token in ")]}":
            depth -= 1
        elif token == ":" and depth == 0:
            return position
    return None


def statement_starts(source: str) -> list[int] | None:
    """Offsets where top-level statements (with their decorators) begin; None on an unclosed string."""
    starts, previous, position = [0], 0, 0
    while position < len(source):
        match = _SCAN.match(source, position)
        if match is None or match.group("unclosed") is not None:
            return None
        quote = match.group("quote")
        if quote:
            end = _STRING_END[quote].match(source, match.end())
            if end is None:
                return None
            position = end.end()
            continue
        position = match.end()
        if not source.endswith("\n", 0, position) or source.endswith("\\\n", 0, position):
            continue  # end of file, or a backslash continuation
        if position == len(source) or _CONTINUATION.match(source, position):
            continue
        if not source.startswith("@", previous):
            starts.append(position)
        previous = position
    return starts
