"""Semantic tokens (full document): what each word of a schedule is, from the syntax tree and the lexer.

The syntax tree decides the roles it knows (a `let` name, a setting, a class in a call, a keyword
argument, the parts of a selector pattern); `lexemes` fills in the rest (keywords, comments, `=`, and
whatever is inside a statement the parser could not read), so a half-typed document is still coloured.
Tokens never overlap and never cross a line.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

from lsprotocol import types

from ftsc.diagnostics import LINE_END, PositionEncoding, SourceText, Span, units
from ftsc.grammar import ast
from ftsc.lsp.lexemes import Lexeme, keywords, lexemes

# The legend: standard LSP token types and modifiers only. The VS Code extension's TextMate grammar is
# checked against it, so its order is part of the protocol with clients: only ever append.
TOKEN_TYPES: tuple[str, ...] = tuple(
    kind.value
    for kind in (
        types.SemanticTokenTypes.Keyword,
        types.SemanticTokenTypes.Variable,  # `let` names and `$name`; bare phase names
        types.SemanticTokenTypes.String,
        types.SemanticTokenTypes.Number,
        types.SemanticTokenTypes.Regexp,  # `re"…"`
        types.SemanticTokenTypes.Property,  # setting names and table keys
        types.SemanticTokenTypes.Class,  # the class named by a call: `AdamW(…)`
        types.SemanticTokenTypes.Parameter,  # a call's keyword arguments
        types.SemanticTokenTypes.Comment,
        types.SemanticTokenTypes.Operator,  # `=`, and the globs, braces and ranges of a pattern
        types.SemanticTokenTypes.Namespace,  # the literal segments of a selector pattern
    )
)
TOKEN_MODIFIERS: tuple[str, ...] = (types.SemanticTokenModifiers.Declaration.value,)  # `let` and phase names
LEGEND = types.SemanticTokensLegend(token_types=list(TOKEN_TYPES), token_modifiers=list(TOKEN_MODIFIERS))

_TYPE_INDEX = {name: index for index, name in enumerate(TOKEN_TYPES)}
_DECLARATION = 1 << TOKEN_MODIFIERS.index(types.SemanticTokenModifiers.Declaration.value)

# The parts of a pattern: `$name`, a range `M..N`, literal segment text, globs and braces; dots are left
# plain. The same character classes as `ftsc.compiler.patterns.syntax`, which rejects what is malformed;
# here a malformed pattern is still split into what it is made of.
_PATTERN_PART = re.compile(
    r"(?P<variable>\$[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<low>\d+)(?P<dots>\.\.)(?P<high>\d*)"
    r"|(?P<namespace>[A-Za-z0-9_\-]+)"
    r"|(?P<operator>\*\*?|[{},])"
)
_LEXEME_TYPES = {
    "comment": "comment",
    "regexp": "regexp",
    "string": "string",
    "number": "number",
    "operator": "operator",
}


@dataclasses.dataclass(frozen=True, order=True)
class Token:
    start: int  # code-point offsets
    end: int
    kind: str  # one of TOKEN_TYPES
    declaration: bool = False


def semantic_tokens(source: SourceText, schedule: ast.Schedule, encoding: PositionEncoding) -> list[int]:
    """The LSP's relative encoding of `tokens`: five integers per token, positions in `encoding`."""
    return encode(source, tokens(source.text, schedule), encoding)


def tokens(text: str, schedule: ast.Schedule) -> list[Token]:
    """Every token of `text`, sorted, none overlapping another or crossing a line, none empty."""
    known = sorted(token for token in _from_tree(schedule, text) if token.start < token.end <= len(text))
    claimed: list[Token] = []
    for token in known:  # the tree's tokens never overlap; kept even so if that were ever untrue
        if not claimed or claimed[-1].end <= token.start:
            claimed.append(token)
    found = list(claimed)
    found.extend(_from_lexemes(lexemes(text, [Span(token.start, token.end) for token in claimed])))
    found.sort()
    if "\r" not in text:  # only a lone `\r` can stand inside a token (the grammar's tokens end at `\n`)
        return found
    return [piece for token in found for piece in _on_each_line(token, text)]


def _on_each_line(token: Token, text: str) -> Iterator[Token]:
    """The token, cut at the line ends it crosses: a comment or an unterminated string runs past a lone
    `\r` (the grammar ends them at `\n` only), and a client draws a token on one line."""
    start = token.start
    for end in LINE_END.finditer(text, token.start, token.end):
        if start < end.start():
            yield dataclasses.replace(token, start=start, end=end.start())
        start = end.end()
    if start < token.end:
        yield dataclasses.replace(token, start=start, end=token.end)


def encode(source: SourceText, found: list[Token], encoding: PositionEncoding) -> list[int]:
    """Relative line / start / length in the units of `encoding`; columns are counted once along each
    line, so a long line with many tokens stays linear."""
    text = source.text
    data: list[int] = []
    previous_line = previous_column = 0
    line = -1
    at = column = 0  # offset and column in `line` up to which units are counted
    for token in found:
        token_line = source.line_of(token.start)
        if token_line != line:
            line, at, column = token_line, source.line_start(token_line), 0
        column += units(text[at : token.start], encoding)
        at = token.start
        delta_line = line - previous_line
        delta_start = column - previous_column if delta_line == 0 else column
        modifiers = _DECLARATION if token.declaration else 0
        length = units(text[token.start : token.end], encoding)
        data.extend((delta_line, delta_start, length, _TYPE_INDEX[token.kind], modifiers))
        previous_line, previous_column = line, column
    return data


# -- what the syntax tree knows --------------------------------------------------------------------------


def _from_tree(schedule: ast.Schedule, text: str) -> Iterator[Token]:
    for item in schedule.items:
        if isinstance(item, ast.Header) and item.version is not None:
            yield _token(item.version.span, "number")
        elif isinstance(item, ast.UseNamespace) and item.path is not None:
            yield _token(item.path.span, "string")
            if item.at is not None:  # `at model.backbone`: a module path; `at "models.0"`: a string
                yield _token(
                    item.at.span, "string" if text.startswith('"', item.at.span.start) else "namespace"
                )
        elif isinstance(item, ast.UseAdapter) and item.options is not None:
            yield from _value(item.options)
        elif isinstance(item, ast.Let):
            yield _token(item.name_span, "variable", declaration=True)
            if item.pattern is not None:
                yield from _selector(item.pattern)
        elif isinstance(item, ast.Defaults):
            for setting in item.settings:
                yield from _setting(setting)
        elif isinstance(item, ast.Phase):
            yield from _phase(item, text)


def _phase(phase: ast.Phase, text: str) -> Iterator[Token]:
    if phase.name_span is not None:
        quoted = text.startswith('"', phase.name_span.start)
        yield _token(phase.name_span, "string" if quoted else "variable", declaration=True)
    for thaw in phase.thaws:
        for selector in (*thaw.selectors, *thaw.excepts):
            yield from _selector(selector)
    for until in phase.untils:
        if until.epoch is not None:
            yield _token(until.epoch.span, "number")
    for setting in phase.settings:
        yield from _setting(setting)


def _selector(selector: ast.Selector) -> Iterator[Token]:
    if selector.kind == "exact":
        yield _token(selector.span, "string")
    elif selector.kind == "regex":
        yield _token(selector.span, "regexp")
    elif selector.kind == "rest":
        yield _token(selector.span, "keyword")
    else:
        yield from _pattern(selector.text, selector.span.start)


def _pattern(text: str, offset: int) -> Iterator[Token]:
    for match in _PATTERN_PART.finditer(text):
        group = match.lastgroup
        if group in ("variable", "namespace", "operator"):
            yield Token(offset + match.start(), offset + match.end(), group)
            continue
        for part, kind in (("low", "number"), ("dots", "operator"), ("high", "number")):  # a range
            if match.end(part) > match.start(part):
                yield Token(offset + match.start(part), offset + match.end(part), kind)


def _setting(setting: ast.Setting) -> Iterator[Token]:
    yield _token(setting.name_span, "property")
    if setting.value is not None:
        yield from _value(setting.value)


def _value(value: ast.Value) -> Iterator[Token]:
    if isinstance(value, ast.Number):
        yield _token(value.span, "number")
    elif isinstance(value, ast.String):
        yield _token(value.span, "string")
    elif isinstance(value, (ast.Bool, ast.NoneValue)):
        yield _token(value.span, "keyword")
    elif isinstance(value, ast.ListValue):
        for item in value.items:
            yield from _value(item)
    elif isinstance(value, ast.Table):
        yield from _entries(value.entries, "property")
    else:  # a call
        yield _token(value.name_span, "class")
        yield from _entries(value.arguments or (), "parameter")


def _entries(entries: tuple[ast.Entry, ...], key_kind: str) -> Iterator[Token]:
    for entry in entries:
        yield _token(entry.key_span, key_kind)
        if entry.value is not None:
            yield from _value(entry.value)


def _token(span: Span, kind: str, *, declaration: bool = False) -> Token:
    return Token(span.start, span.end, kind, declaration)


# -- what only the lexer sees ----------------------------------------------------------------------------


def _from_lexemes(found: Iterator[Lexeme]) -> Iterator[Token]:
    words = keywords()
    for lexeme in found:
        if lexeme.kind == "word":
            if lexeme.text in words:
                yield _token(lexeme.span, "keyword")
            continue
        yield _token(lexeme.span, _LEXEME_TYPES[lexeme.kind])
