"""A lexer that never fails, for the parts of a document the syntax tree does not cover.

The parser's tree has no comments (the grammar ignores them), no keywords, and nothing of a statement it
could not read. Semantic tokens and comment folding still need those, so this reads any text into
comments, strings, regexes, numbers, words and `=`, with the grammar's own terminal regexes (taken from
the project's lark parser, so the two cannot drift apart). What no terminal starts is skipped.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from ftsc.diagnostics import Span
from ftsc.grammar.parser import lark_parser

LexemeKind = Literal["comment", "regexp", "string", "number", "word", "operator"]


@dataclass(frozen=True)
class Lexeme:
    kind: LexemeKind
    span: Span
    text: str


@functools.cache
def _terminal(name: str) -> str:
    return str(lark_parser().get_terminal(name).pattern.to_regexp())


@functools.cache
def keywords() -> frozenset[str]:
    """The grammar's words (`phase`, `thaw`, `epoch`, `true`, ...): its string terminals made of letters."""
    return frozenset(
        str(terminal.pattern.value)
        for terminal in lark_parser().terminals
        if terminal.pattern.type == "str" and str(terminal.pattern.value).isalpha()
    )


_KINDS: dict[str, LexemeKind] = {
    "comment": "comment",
    "regexp": "regexp",
    "string": "string",
    "unterminated": "string",
    "number": "number",
    "word": "word",
    "operator": "operator",
}


@functools.cache
def _lexeme() -> re.Pattern[str]:
    # Order matters where two alternatives start alike: `re"…"` before a word, a number before a word.
    return re.compile(
        f"(?P<comment>{_terminal('COMMENT')})"
        f"|(?P<regexp>{_terminal('REGEX')})"
        f"|(?P<string>{_terminal('STRING')})"
        r'|(?P<unterminated>"[^"\n]*)'  # the parser reports it and skips to the end of the line
        f"|(?P<number>{_terminal('NUMBER')})"
        f"|(?P<word>{_terminal('DOTTED')})"
        r"|(?P<operator>=)"
        r"|(?P<skip>\s+|[\s\S])"
    )


def lexemes(text: str, claimed: Sequence[Span] = ()) -> Iterator[Lexeme]:
    """The lexemes of `text` outside the `claimed` spans (sorted, not overlapping: tokens the caller
    already knows from the syntax tree). A lexeme that would run into a claimed span is dropped."""
    pattern = _lexeme()
    position = 0
    index = 0
    while position < len(text):
        while index < len(claimed) and claimed[index].end <= position:
            index += 1
        limit = len(text)
        if index < len(claimed):
            if claimed[index].start <= position:
                position = claimed[index].end
                continue
            limit = claimed[index].start
        match = pattern.match(text, position)
        assert match is not None and match.lastgroup is not None  # `[\s\S]` matches any character
        end = match.end()
        if end > limit:
            position = limit
            continue
        kind = _KINDS.get(match.lastgroup)
        if kind is not None:
            value = match.group().rstrip("\r") if kind == "comment" else match.group()
            yield Lexeme(kind, Span(position, position + len(value)), value)
        position = end
