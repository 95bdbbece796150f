"""`format_text`: the one canonical layout of a `.fts` text (see docs/formatting.md).

A pure function of the text, shared by `ftsc fmt` and the language server's textDocument/formatting.
Text with syntax errors is never reformatted: the result then has no text and the parser's E001s.

The layout is rebuilt from the tokens: statement order, numbers, patterns and `re"…"` bodies are kept
exactly as written, strings are re-quoted with the four escapes the language knows, and every comment
is kept (see `ftsc.format.concrete` for where each one goes).
"""

from __future__ import annotations

from dataclasses import dataclass

from lark import Token, Tree
from lark.exceptions import LarkError, UnexpectedInput

from ftsc import codes
from ftsc.diagnostics import Diagnostic, Span, diagnose
from ftsc.format.concrete import Comment, Statement, read_document
from ftsc.grammar import parse
from ftsc.grammar.build import string_value

__all__ = ["INDENT", "WIDTH", "FormatResult", "format_text"]

INDENT = 4  # spaces per block level
WIDTH = 100  # a `thaw` longer than this is wrapped after commas

# Top-level statements of one group are written together; a blank line separates groups and blocks.
_GROUPS = {"header": "use", "use_namespace": "use", "use_adapter": "use", "let": "let"}


@dataclass(frozen=True)
class FormatResult:
    """The formatted text, or None (with the syntax errors in `diagnostics`) when `text` does not parse."""

    text: str | None
    diagnostics: tuple[Diagnostic, ...] = ()


def format_text(text: str) -> FormatResult:
    """`text` in the canonical layout; `text is None` when it has syntax errors (never reformatted)."""
    diagnostics = parse(text).diagnostics
    if diagnostics:
        return FormatResult(None, diagnostics)
    try:
        document = read_document(text)
    except LarkError as exc:  # the parser accepted the text, so this is not expected; refuse, don't guess
        offset = exc.pos_in_stream if isinstance(exc, UnexpectedInput) and exc.pos_in_stream else 0
        return FormatResult(
            None, (diagnose(codes.SYNTAX_ERROR, f"cannot format: {exc}", Span(offset, offset)),)
        )
    printer = _Printer()
    previous: Statement | None = None
    for statement in document.statements:
        separated = None if previous is None else _separated(previous, statement)
        printer.statement(statement, 0, separated)
        previous = statement
    for comment in document.end_comments:
        printer.emit(comment.text, comment.blank_before)
    return FormatResult(printer.text())


def _separated(previous: Statement, statement: Statement) -> bool:
    """Whether a blank line goes between two top-level statements: unless both are in one group."""
    group = _GROUPS.get(previous.kind)
    return group is None or group != _GROUPS.get(statement.kind)


class _Printer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.no_blank = True  # at the start of the file and right after a `{`

    def text(self) -> str:
        return "".join(line + "\n" for line in self.lines)

    def emit(self, line: str, blank: bool) -> None:
        if blank and not self.no_blank:
            self.lines.append("")
        self.lines.append(line)
        self.no_blank = False

    def statement(self, statement: Statement, indent: int, separated: bool | None) -> None:
        """Its comments and lines. `separated` decides the blank line before the first of them (None:
        keep the source's); blank lines among its leading comments are kept as in the source."""
        pad = " " * indent
        first = True

        def blank(in_source: bool) -> bool:
            nonlocal first
            chosen = separated if first and separated is not None else in_source
            first = False
            return chosen

        for comment in statement.leading:
            self.emit(pad + comment.text, blank(comment.blank_before))
        in_source = statement.blank_before
        for comment in statement.internal:
            self.emit(pad + comment.text, blank(in_source))
            in_source = False
        if not statement.is_block:
            lines = _statement_lines(statement.tree, indent)
            lines[-1] += _trailing(statement.trailing)
            self.emit(lines[0], blank(in_source))
            for line in lines[1:]:
                self.emit(line, False)
            return
        self.emit(
            pad + _block_header(statement.tree) + _trailing(statement.header_trailing), blank(in_source)
        )
        self.no_blank = True
        inner = " " * (indent + INDENT)
        for child in statement.body:
            self.statement(child, indent + INDENT, None)
        for comment in statement.dangling:
            self.emit(inner + comment.text, comment.blank_before)
        self.emit(pad + "}" + _trailing(statement.trailing), False)


def _trailing(comment: Comment | None) -> str:
    return "" if comment is None else "  " + comment.text


# -- statements ----------------------------------------------------------------------------------------


def _block_header(tree: Tree[Token]) -> str:
    if tree.data == "defaults":
        return "defaults {"
    name = next((child for child in tree.children if isinstance(child, Tree)), None)
    if name is None or name.data != "phase_name":
        return "phase {"
    return f"phase {_word(_tokens(name)[0])} {{"


def _statement_lines(tree: Tree[Token], indent: int) -> list[str]:
    """A one-line statement as lines (only a long `thaw` takes more than one)."""
    pad = " " * indent
    tokens = _tokens(tree)
    kind = tree.data
    if kind == "thaw":
        return _thaw_lines(tree, indent)
    if kind == "header":
        return [f"{pad}fts {tokens[-1]}"]
    if kind == "use_namespace":
        at = "".join(f" at {_word(_tokens(child)[-1])}" for child in _subtrees(tree))
        return [f"{pad}use namespace {_word(tokens[-1])}{at}"]
    if kind == "use_adapter":
        options = [f" {_value(child)}" for child in _subtrees(tree)]
        return [f"{pad}use adapter {tokens[2]}{''.join(options)}"]
    if kind == "let":
        return [f"{pad}let {tokens[1]} = {tokens[3]}"]
    if kind == "until":
        return [f"{pad}until epoch {tokens[-1]}"]
    if kind == "setting":
        return [f"{pad}{tokens[0]} = {_value(_subtrees(tree)[0])}"]
    raise AssertionError(f"not a one-line statement: {kind}")


def _thaw_lines(tree: Tree[Token], indent: int) -> list[str]:
    """`thaw A, B except C` on one line if it fits in WIDTH columns; else broken after commas, with
    continuation lines one level deeper and `except` starting a line when it does not fit."""
    selectors: list[str] = []
    excepts: list[str] = []
    for child in _subtrees(tree):
        if child.data == "selectors":
            selectors = _selectors(child)
        else:  # except: "except" selectors
            excepts = _selectors(_subtrees(child)[0])
    pieces = [text + ("," if i < len(selectors) - 1 else "") for i, text in enumerate(selectors)]
    pieces += [
        ("except " if i == 0 else "") + text + ("," if i < len(excepts) - 1 else "")
        for i, text in enumerate(excepts)
    ]
    lines = [" " * indent + "thaw " + pieces[0]]
    continuation = " " * (indent + INDENT)
    for piece in pieces[1:]:
        if len(lines[-1]) + 1 + len(piece) <= WIDTH:
            lines[-1] += " " + piece
        else:
            lines.append(continuation + piece)
    return lines


def _selectors(tree: Tree[Token]) -> list[str]:
    return [_word(_tokens(selector)[0]) for selector in _subtrees(tree)]


# -- values --------------------------------------------------------------------------------------------


def _value(tree: Tree[Token]) -> str:
    kind = tree.data
    if kind == "list":
        return "[" + ", ".join(_value(item) for item in _subtrees(tree)) + "]"
    if kind == "table":
        entries = [_entry(entry) for entry in _subtrees(tree)]
        return "{ " + ", ".join(entries) + " }" if entries else "{}"
    if kind == "call":
        name = str(_tokens(tree)[0])
        arguments = _subtrees(tree)
        if not arguments:
            return name
        return name + "(" + ", ".join(_entry(entry) for entry in _subtrees(arguments[0])) + ")"
    return _word(_tokens(tree)[0])  # number, string, true, false, none


def _entry(tree: Tree[Token]) -> str:
    return f"{_tokens(tree)[0]} = {_value(_subtrees(tree)[0])}"


def _word(token: Token) -> str:
    """A token as written, except that a string is re-quoted with the canonical escapes."""
    if token.type == "STRING":
        return _quote(string_value(token))
    return str(token)


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def _tokens(tree: Tree[Token]) -> list[Token]:
    return [child for child in tree.children if isinstance(child, Token)]


def _subtrees(tree: Tree[Token]) -> list[Tree[Token]]:
    return [child for child in tree.children if isinstance(child, Tree)]
