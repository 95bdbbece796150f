"""Parse `.fts` text into a `Schedule`, reporting every syntax error (E001) and never raising.

lark's LALR parser is driven token by token through its interactive interface so that, at an
error, we can choose a repair: insert the few tokens that let the parser go on (a missing value, a
missing `}`), or drop the offending token. After an error, further errors are held back until the
parser has shifted a few tokens or reached the next statement keyword, so one mistake gives one
diagnostic, while mistakes in different statements are each reported with their own range.

Recovery stays linear in the text: a repair is tried on a trial copy of the parser that shares the values
built so far and runs no tree callbacks (copying only the stack of states), and no more than
`MAX_SYNTAX_ERRORS` errors are reported per file, the rest counted in one closing I003 note.
"""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedToken
from lark.parsers.lalr_interactive_parser import InteractiveParser
from lark.parsers.lalr_parser_state import ParserState

from ftsc import codes
from ftsc.diagnostics import Diagnostic, Span, diagnose
from ftsc.grammar import ast
from ftsc.grammar.build import build_schedule

# Tokens that begin a statement: after an error, reaching one of these ends the quiet period.
_STATEMENT_KEYWORDS = {"FTS", "USE", "LET", "DEFAULTS", "PHASE", "THAW", "UNTIL"}
_CLOSERS = ("RBRACE", "RSQB", "RPAR")
_QUIET_TOKENS = 3
_MAX_INSERTION = 4
MAX_SYNTAX_ERRORS = 100  # reported per file; the rest are counted in one note
_SETTING_EQUALS = re.compile(r"[ \t]*=(?!=)")

_DISPLAY = {
    "NAME": "a name",
    "DOTTED": "a class name",
    "NUMBER": "a number",
    "STRING": 'a string ("…")',
    "REGEX": 're"…"',
    "PATTERN": "a pattern",
    "REST": "`rest`",
    "$END": "end of file",
}


@dataclass(frozen=True)
class ParseResult:
    schedule: ast.Schedule
    diagnostics: tuple[Diagnostic, ...]


@functools.cache
def lark_parser() -> Lark:
    grammar = Path(__file__).with_name("fts.lark").read_text(encoding="utf-8")
    return Lark(
        grammar,
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=True,
        cache=True,
    )


def parse(text: str) -> ParseResult:
    """Parse `text`; always returns a schedule (possibly partial) and the syntax errors found. A leading
    byte-order mark reads as a space (offsets stay those of `text`)."""
    if text.startswith("\ufeff"):
        text = " " + text[1:]
    too_deep = _too_deep(text)
    if too_deep is not None:  # refused before lark, whose recovery copies a stack that deep at every error
        return ParseResult(ast.Schedule((), len(text)), (too_deep,))
    driver = _Driver(text)
    try:
        tree = driver.run()
        schedule = build_schedule(tree, text) if tree is not None else ast.Schedule((), len(text))
    except RecursionError:  # what the bracket count cannot see: lark and the tree builder recurse
        message = "nested too deeply for ftsc to read"
        return ParseResult(ast.Schedule((), len(text)), (diagnose(codes.SYNTAX_ERROR, message, Span(0, 0)),))
    return ParseResult(schedule, tuple(driver.diagnostics) + driver.unreported())


MAX_NESTING = 100  # brackets inside brackets; deeper is refused where it starts
_BRACKETS = re.compile(r"[()\[\]{}]")


def _too_deep(text: str) -> Diagnostic | None:
    """E001 at the bracket that opens nesting level MAX_NESTING + 1, if one does (brackets in strings and
    comments count too: a schedule never comes near the limit)."""
    depth = 0
    for bracket in _BRACKETS.finditer(text):
        if bracket.group() in "([{":
            depth += 1
            if depth > MAX_NESTING:
                message = f"nested too deeply: ftsc reads brackets at most {MAX_NESTING} levels deep"
                return diagnose(codes.SYNTAX_ERROR, message, Span(bracket.start(), bracket.end()))
        else:
            depth = max(depth - 1, 0)
    return None


class _Driver:
    def __init__(self, text: str) -> None:
        self.text = text
        self.diagnostics: list[Diagnostic] = []
        self.unreported_count = 0  # syntax errors past MAX_SYNTAX_ERRORS
        self.first_unreported: Span | None = None
        self.quiet = 0  # errors are held back while > 0
        self.previous: list[Token] = []  # the last two tokens shifted, for better messages
        self.line = 0  # line of the last token seen
        self.parser = lark_parser()

    def run(self) -> Any:
        interactive = self.parser.parse_interactive(self.text)
        lexer = interactive.lexer_thread
        while True:
            try:
                for token in lexer.lex(interactive.parser_state):
                    self._feed(interactive, _reserved(token))
                break
            except UnexpectedCharacters as exc:
                position = int(exc.pos_in_stream or 0)
                skip = self._bad_characters(position)
                assert lexer.state is not None
                lexer.state.line_ctr.feed(self.text[position : position + skip])
            except UnexpectedToken as exc:  # a token valid elsewhere, but not here
                self._feed(interactive, _reserved(exc.token))
        return self._finish(interactive)

    # -- feeding and recovery -------------------------------------------------------------------

    def _feed(self, interactive: InteractiveParser, token: Token) -> None:
        if token.type in _KEYWORD_TYPES and self._glued(token):
            return
        line = token.line or 0
        if line > self.line:
            self.line = line
            dangling = self.previous[-1] if self.previous and self.previous[-1].type == "EQUAL" else None
            quiet = self.quiet
            if (quiet or dangling) and self._restarts_setting(interactive, token):
                if dangling is not None and not quiet:  # `lr =`, then `name = …` on the next line
                    self._report("missing value after `=`", _span(dangling))
                return
        if not _fits_now(interactive, token.type):
            self._recover(interactive, token)
            return
        try:
            interactive.feed_token(token)
        except UnexpectedToken:
            self._recover(interactive, token)
            return
        self.previous = [*self.previous[-1:], token]
        self.quiet = 0 if token.type in _STATEMENT_KEYWORDS else max(0, self.quiet - 1)

    def _glued(self, token: Token) -> bool:
        """`phasex`: lark reads a keyword and a name; it is one unknown word (reported, then dropped)."""
        end = token.end_pos or 0
        if end >= len(self.text) or not (self.text[end].isalnum() or self.text[end] == "_"):
            return False
        start = token.start_pos or 0
        while end < len(self.text) and (self.text[end].isalnum() or self.text[end] == "_"):
            end += 1
        if not self.quiet:
            self._report(f"unknown word `{self.text[start:end]}`", Span(start, end))
        self.quiet = _QUIET_TOKENS
        return True

    def _restarts_setting(self, interactive: InteractiveParser, token: Token) -> bool:
        """After an error, `name =` at the start of a line is a new setting: finish the broken one."""
        if token.type not in ("NAME", "DOTTED") or "." in token.value:
            return False
        if _SETTING_EQUALS.match(self.text, token.end_pos or 0) is None:
            return False
        name = Token.new_borrow_pos("NAME", token.value, token)
        insertion = () if _fits_now(interactive, "NAME") else _insertion(interactive, "NAME")
        if insertion is None:
            return False
        invented = [Token.new_borrow_pos(kind, "", token) for kind in insertion]
        trial = _trial(interactive)
        try:  # the LALR table may list NAME where only a reduction follows that dead-ends: try first
            for step in (*invented, name):
                trial.feed_token(step)
        except UnexpectedToken:
            return False
        for step in (*invented, name):
            interactive.feed_token(step)
        self.previous = [name]
        self.quiet = 0
        return True

    def _recover(self, interactive: InteractiveParser, token: Token) -> None:
        self._report_unexpected(interactive, token)
        self.quiet = _QUIET_TOKENS
        insertion = _insertion(interactive, token.type) if token.type in _SYNC else None
        if insertion is None:
            return  # drop the token
        for kind in insertion:
            interactive.feed_token(Token.new_borrow_pos(kind, "", token))
        try:
            interactive.feed_token(token)
        except UnexpectedToken:
            return
        if token.type in _STATEMENT_KEYWORDS:
            self.quiet = 0

    def _finish(self, interactive: InteractiveParser) -> Any:
        """Feed end-of-file, first inventing what an unfinished schedule lacks (closing brackets, …)."""
        end = Token("$END", "", len(self.text), 0, 0, 0, 0, len(self.text))
        reported = False
        for _ in range(_MAX_CLOSING):
            try:
                _trial(interactive).feed_eof(end)
            except UnexpectedToken:
                pass
            else:
                return interactive.feed_eof(end)
            if not reported:
                self._report_unexpected(interactive, end)
                reported = True
            if not _feed_filler(interactive, end):
                return None
        return None

    # -- reporting -------------------------------------------------------------------------------

    def _report_unexpected(self, interactive: InteractiveParser, token: Token) -> None:
        if self.quiet:
            return
        if len(self.diagnostics) >= MAX_SYNTAX_ERRORS:  # only counted: skip working out the message
            self._report("", _span(token))
            return
        expected = _accepted(interactive)
        kinds = [previous.type for previous in self.previous]
        if kinds[-2:] in (["PATTERN", "NAME"], ["STRING", "NAME"], ["REGEX", "NAME"], ["REST", "NAME"]):
            # `thaw a b`: `b` was read as the start of a setting; the real mistake is a missing comma.
            start = _span(self.previous[-1]).start
            end = start
            while end < len(self.text) and not self.text[end].isspace() and self.text[end] not in ",}":
                end += 1
            word = self.text[start:end]
            self.previous = []
            self._report(f"missing `,` before `{word}` (selectors are separated by commas)", Span(start, end))
            return
        last = self.previous[-1] if self.previous else None
        if (
            token.type == "STRING"
            and last is not None
            and (last.type, last.value, last.end_pos) == ("PATTERN", "re", token.start_pos)
        ):
            self._report(
                '`let` binds a pattern; a regex (`re"…"`) can only be written in `thaw`', _span(token)
            )
            return
        if token.type == "COMMA" and "COMMA" not in expected and "NAME" in expected:
            self._report(
                "unexpected `,`: statements in a block are separated by newlines, not commas", _span(token)
            )
            return
        what = "end of file" if token.type == "$END" else f"`{token.value}`"
        self._report(f"unexpected {what}; expected {_expected_text(expected)}", _span(token))

    def _report(self, message: str, span: Span) -> None:
        if self.diagnostics and self.diagnostics[-1].span == span:
            return  # the same place, seen again while recovering
        if len(self.diagnostics) >= MAX_SYNTAX_ERRORS:
            self.unreported_count += 1
            self.first_unreported = self.first_unreported or span
            return
        self.diagnostics.append(diagnose(codes.SYNTAX_ERROR, message, span))

    def unreported(self) -> tuple[Diagnostic, ...]:
        """The note closing a file with more syntax errors than are reported."""
        if not self.unreported_count or self.first_unreported is None:
            return ()
        count = self.unreported_count
        plural = "s from here on are" if count != 1 else " from here on is"
        message = (
            f"{count} more syntax error{plural} "
            f"not shown (the first {MAX_SYNTAX_ERRORS} are): fix those and check again"
        )
        return (diagnose(codes.MORE_NOT_SHOWN, message, self.first_unreported, unreported=count),)

    def _bad_characters(self, position: int) -> int:
        """Report characters no token starts with; returns how many characters to skip."""
        char = self.text[position]
        line_end = self.text.find("\n", position)
        line_end = len(self.text) if line_end < 0 else line_end
        if char in "\"'":
            close = self.text.find(char, position + 1, line_end) if char == "'" else -1
            end = close + 1 if close >= 0 else line_end
            message = "strings use double quotes" if char == "'" else "unterminated string"
            if not self.quiet:
                self._report(message, Span(position, end))
            self.quiet = _QUIET_TOKENS
            return max(1, end - position)
        end = position + 1
        while end < line_end and not self.text[end].isspace() and not _can_start_token(self.text[end]):
            end += 1
        if not self.quiet:
            self._report(
                f"unexpected character{'s' if end - position > 1 else ''} `{self.text[position:end]}`",
                Span(position, end),
            )
        self.quiet = _QUIET_TOKENS
        return end - position


# Tokens at which the parser tries to repair by insertion; any other unexpected token is dropped.
_SYNC = _STATEMENT_KEYWORDS | set(_CLOSERS) | {"COMMA", "EXCEPT", "LBRACE"}
# What recovery may invent, in order of preference: closing brackets first, then placeholders.
_FILLERS = (
    *_CLOSERS,
    "NUMBER",
    "PATTERN",
    "NAME",
    "EQUAL",
    "LBRACE",
    "EPOCH",
    "NAMESPACE",
    "STRING",
    "ADAPTER",
)
_MAX_CLOSING = 64


def _reserved(token: Token) -> Token:
    """Statement keywords are reserved everywhere, so `lr =` followed by `thaw` is a missing value."""
    if token.type in ("NAME", "DOTTED", "PATTERN") and token.value in _KEYWORD_TERMINALS:
        return Token.new_borrow_pos(_KEYWORD_TERMINALS[token.value], token.value, token)
    return token


_KEYWORD_TYPES = frozenset(
    {"FTS", "USE", "LET", "DEFAULTS", "PHASE", "THAW", "UNTIL", "EXCEPT", "REST", "TRUE", "FALSE", "NONE"}
    | {"EPOCH", "NAMESPACE", "ADAPTER"}
)
_KEYWORD_TERMINALS = {
    "fts": "FTS",
    "use": "USE",
    "let": "LET",
    "defaults": "DEFAULTS",
    "phase": "PHASE",
    "thaw": "THAW",
    "until": "UNTIL",
}


def _can_start_token(char: str) -> bool:
    return char.isalnum() or char in '_*$.{}[](),="#+-'


def _fits_now(interactive: InteractiveParser, kind: str) -> bool:
    state = interactive.parser_state
    return kind in state.parse_conf.states[state.position]


def _feed_filler(interactive: InteractiveParser, at: Token) -> bool:
    """Feed the first invented token the parser really takes (tried on a copy first)."""
    for kind in _FILLERS:
        if not _fits_now(interactive, kind):
            continue
        token = Token.new_borrow_pos(kind, "", at)
        try:
            _trial(interactive).feed_token(token)
        except UnexpectedToken:
            continue
        interactive.feed_token(token)
        return True
    return False


def _insertion(interactive: InteractiveParser, target: str) -> tuple[str, ...] | None:
    """The shortest run of invented tokens (at most _MAX_INSERTION) after which `target` fits."""
    frontier: list[tuple[tuple[str, ...], InteractiveParser]] = [((), interactive)]
    for _ in range(_MAX_INSERTION):
        next_frontier = []
        for kinds, parser in frontier:
            for kind in _FILLERS:
                if not _fits_now(parser, kind):
                    continue
                trial = _trial(parser)
                try:
                    trial.feed_token(Token(kind, ""))
                except UnexpectedToken:
                    continue
                if _fits_now(trial, target):
                    return (*kinds, kind)
                next_frontier.append(((*kinds, kind), trial))
        frontier = next_frontier
    return None


def _trial(interactive: InteractiveParser) -> InteractiveParser:
    """A copy to try tokens on: its own stacks, the values built so far shared, no tree callbacks.

    lark's `copy()` deep-copies every value (the whole tree so far), which made each repair cost the
    length of the text before it; a trial only needs the states, and without callbacks a reduction
    builds a fresh list and never touches the shared values."""
    state = interactive.parser_state
    trial_state = ParserState(
        _without_callbacks(state.parse_conf), state.lexer, list(state.state_stack), list(state.value_stack)
    )
    return InteractiveParser(interactive.parser, trial_state, interactive.lexer_thread)


@functools.cache
def _without_callbacks(conf: Any) -> Any:
    plain = copy.copy(conf)
    plain.callbacks = {}
    return plain


def _accepted(interactive: InteractiveParser) -> set[str]:
    accepted: set[str] = interactive.accepts()
    return accepted


def _expected_text(kinds: set[str]) -> str:
    shown = sorted(_display(kind) for kind in kinds if kind != "$END")
    if "$END" in kinds:
        shown.append("end of file")
    if not shown:
        return "nothing more"
    if len(shown) == 1:
        return shown[0]
    return "one of " + ", ".join(shown)


@functools.cache
def _display(kind: str) -> str:
    if kind in _DISPLAY:
        return _DISPLAY[kind]
    for terminal in lark_parser().terminals:
        if terminal.name == kind and terminal.pattern.type == "str":
            return f"`{terminal.pattern.value}`"
    return kind.lower()


def _span(token: Token) -> Span:
    start = token.start_pos if token.start_pos is not None else 0
    end = token.end_pos if token.end_pos is not None else start
    return Span(start, end)
