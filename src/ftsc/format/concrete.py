"""The concrete syntax of a `.fts` text, for the formatter: statements, their tokens, and their comments.

The grammar `%ignore`s comments, so the parser's syntax tree has none. Here the same grammar is loaded
into a second lark parser that keeps every token (`keep_all_tokens`) and hands each comment to a lexer
callback. Each comment is then attached to a statement by where it stands between the tokens:

- after a statement's last token, on the same line: that statement's *trailing* comment;
- after a block's `{`, on the same line: the block header's trailing comment;
- on a line of its own before a statement: one of the statement's *leading* comments;
- on a line of its own before a block's `}`: one of the block's *dangling* comments (the end of its body);
- on a line of its own after the last statement: a comment at the end of the file;
- anywhere inside a statement (between two of its tokens, or in a block header before `{`): one of the
  statement's *internal* comments, which the formatter moves to their own lines before the statement.

Only text that `ftsc.grammar.parser.parse` accepts without a diagnostic is read here.
"""

from __future__ import annotations

import bisect
import functools
from contextvars import ContextVar
from dataclasses import dataclass, field

from lark import Lark, Token, Tree

from ftsc.grammar.parser import lark_parser

__all__ = ["Comment", "Document", "Statement", "read_document"]

BLOCKS = frozenset({"defaults", "phase"})
_BODY_STATEMENTS = frozenset({"thaw", "until", "setting"})
_WHITESPACE = " \t\f\r\n"  # the grammar's %ignore'd WS (lark's common.WS)

# The comments the lexer meets during one `read_document` call (a context variable, so that
# concurrent calls in threads or tasks do not share a list).
_SINK: ContextVar[list[Token]] = ContextVar("ftsc_format_comments")


def _record_comment(token: Token) -> Token:
    _SINK.get().append(token)
    return token


@functools.cache
def _parser() -> Lark:
    grammar = lark_parser().source_grammar
    assert grammar, "the project's Lark instance keeps its grammar text"
    return Lark(
        grammar,
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        keep_all_tokens=True,
        maybe_placeholders=False,
        lexer_callbacks={"COMMENT": _record_comment},
        cache=True,
    )


@dataclass(frozen=True)
class Comment:
    text: str  # as written, from `#`, trailing whitespace stripped
    start: int  # offset in the source text
    blank_before: bool  # a blank line separates it from what comes before it in the source


@dataclass(eq=False)
class Statement:
    """A top-level item (`fts`, `use`, `let`, `defaults`, `phase`) or a statement in a block."""

    tree: Tree[Token]  # lark's concrete tree (every token kept)
    first: int  # index of its first token in `Document.tokens`
    last: int  # index of its last token (a block's `}`)
    header_end: int  # a block's `{`; `last` for a one-line statement
    blank_before: bool
    body: list[Statement] = field(default_factory=list)  # blocks only
    leading: list[Comment] = field(default_factory=list)
    internal: list[Comment] = field(default_factory=list)
    trailing: Comment | None = None
    header_trailing: Comment | None = None  # blocks: on the line of `{`
    dangling: list[Comment] = field(default_factory=list)  # blocks: after the last body statement

    @property
    def kind(self) -> str:
        return str(self.tree.data)

    @property
    def is_block(self) -> bool:
        return self.kind in BLOCKS


@dataclass
class Document:
    statements: list[Statement]
    end_comments: list[Comment]  # own-line comments after the last statement
    tokens: list[Token]


def read_document(text: str) -> Document:
    """The statements of `text` with their comments attached; raises lark's errors on a syntax error."""
    comments: list[Token] = []
    reset = _SINK.set(comments)
    try:
        tree = _parser().parse(text)
    finally:
        _SINK.reset(reset)
    return _Reader(text).read(tree, comments)


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[Token] = []

    def read(self, tree: Tree[Token], comments: list[Token]) -> Document:
        statements = [self._statement(child) for child in tree.children if isinstance(child, Tree)]
        document = Document(statements, [], self.tokens)
        self._attach(document, comments)
        return document

    def _statement(self, tree: Tree[Token]) -> Statement:
        first = len(self.tokens)
        blank = self._blank_before(_start(tree))
        if tree.data not in BLOCKS:
            self._leaves(tree)
            last = len(self.tokens) - 1
            return Statement(tree, first, last, last, blank)
        body: list[Statement] = []
        header_end = -1
        for child in tree.children:
            if isinstance(child, Token):
                if child.type == "LBRACE" and header_end < 0:
                    header_end = len(self.tokens)
                self.tokens.append(child)
            elif child.data in _BODY_STATEMENTS:
                body.append(self._statement(child))
            else:  # phase_name
                self._leaves(child)
        return Statement(tree, first, len(self.tokens) - 1, header_end, blank, body)

    def _leaves(self, tree: Tree[Token]) -> None:
        for child in tree.children:
            if isinstance(child, Token):
                self.tokens.append(child)
            else:
                self._leaves(child)

    def _blank_before(self, offset: int) -> bool:
        """Whether the whitespace right before `offset` holds a blank line."""
        start = offset
        while start > 0 and self.text[start - 1] in _WHITESPACE:
            start -= 1
        return self.text.count("\n", start, offset) >= 2

    def _attach(self, document: Document, comments: list[Token]) -> None:
        starting: dict[int, Statement] = {}  # token index -> the statement it begins
        ending: dict[int, Statement] = {}  # token index -> the statement it ends
        opening: dict[int, Statement] = {}  # a block's `{`
        closing: dict[int, Statement] = {}  # a block's `}`
        owner: dict[int, Statement] = {}  # token index -> the one-line statement or block header holding it
        for statement in _walk(document.statements):
            starting[statement.first] = statement
            ending[statement.last] = statement
            for index in range(statement.first, statement.header_end + 1):
                owner[index] = statement
            if statement.is_block:
                opening[statement.header_end] = statement
                closing[statement.last] = statement
        starts = [_token_start(token) for token in self.tokens]
        seen: set[int] = set()
        for token in sorted(comments, key=_token_start):
            offset = _token_start(token)
            if offset in seen:
                continue
            seen.add(offset)
            comment = Comment(str(token.value).rstrip(), offset, self._blank_before(offset))
            following = bisect.bisect_left(starts, offset)
            previous = following - 1
            if previous >= 0 and "\n" not in self.text[_token_end(self.tokens[previous]) : offset]:
                if previous in ending:
                    ending[previous].trailing = comment
                elif previous in opening:
                    opening[previous].header_trailing = comment
                else:
                    owner[previous].internal.append(comment)
            elif following == len(self.tokens):
                document.end_comments.append(comment)
            elif following in starting:
                starting[following].leading.append(comment)
            elif following in closing:
                closing[following].dangling.append(comment)
            else:
                owner[following].internal.append(comment)


def _walk(statements: list[Statement]) -> list[Statement]:
    found: list[Statement] = []
    for statement in statements:
        found.append(statement)
        found.extend(_walk(statement.body))
    return found


def _start(tree: Tree[Token]) -> int:
    return int(tree.meta.start_pos)


def _token_start(token: Token) -> int:
    return int(token.start_pos or 0)


def _token_end(token: Token) -> int:
    return int(token.end_pos or 0)
