"""Where the cursor stands, read from the text before it alone: the text is being typed and seldom parses.

A small scanner follows the statements and brackets that lead up to the cursor (the same tokens as the
grammar; a selector is read with the grammar's own PATTERN terminal) and reports the place — statement
start at top level, in a phase or in `defaults`, a selector, a setting's value, a class's arguments, a
table's keys — and the word being typed there, which a completion replaces. It never raises: text it does
not understand is skipped, as the parser's recovery would.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Literal

from ftsc.grammar.parser import lark_parser

Place = Literal[
    "top",  # a top-level statement starts here
    "use",  # after `use`
    "statement",  # a statement of a phase or of `defaults` (see `block`)
    "selector",  # a thaw / except selector or a `let` pattern
    "until",  # after `until`
    "value",  # a setting's value (see `setting`)
    "argument",  # an argument name of `Class(` (see `call`, `setting`)
    "key",  # a key of a table value (see `setting`)
    "none",  # in a comment or a string, or nowhere completion can help
]
Block = Literal["phase", "defaults"]

_TOKEN = re.compile(
    r"""(?P<space>\s+)
    |(?P<comment>\#[^\n]*)
    |(?P<string>(?:re)?"(?:\\.|[^"\\\n])*"?)
    |(?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    |(?P<word>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\.?)
    |(?P<punct>.)""",
    re.VERBOSE,
)
_CLOSED_STRING = re.compile(r'(?:re)?"(?:\\.|[^"\\\n])*"')
_OPENERS = {"{": "}", "(": ")", "[": "]"}


@functools.cache
def _pattern_token() -> re.Pattern[str]:
    """The grammar's PATTERN terminal: a selector is exactly what the parser would read as one."""
    return re.compile(lark_parser().get_terminal("PATTERN").pattern.value)


@dataclass(frozen=True)
class Cursor:
    place: Place
    partial: str  # the word being typed, up to the cursor (what a completion replaces)
    block: Block | None = None  # the block of a "statement"
    setting: str | None = None  # the setting of a "value", "argument" or "key"
    call: str | None = None  # the class of an "argument"
    first_selector: bool = False  # right after `thaw` (where `rest` may stand)
    after_selector: bool = False  # a statement that may also continue a `thaw` with `except`
    lets: dict[str, str] = field(default_factory=dict)  # `let` name -> pattern, as typed before the cursor


@dataclass
class _Frame:
    """One open bracket (or the file itself) and where its current statement has got to."""

    kind: Literal["top", "phase", "defaults", "table", "call", "list", "other"]
    closer: str = ""
    state: str = "statement"
    setting: str | None = None  # the setting a table or call is the value of
    call: str | None = None  # the class of a call
    name: str | None = None  # the setting, key or `let` name before `=`
    word: str | None = None  # the last value word (a class name when `(` follows)
    opening: str | None = None  # top level: `phase` or `defaults`, whose `{` is awaited
    first: bool = False  # the selector expected is the first of a `thaw`
    excepted: bool = False  # the current `thaw` has its `except` already


_BLOCK_KEYWORDS = {"thaw": "selector", "until": "until"}
_TOP_KEYWORDS = {"use": "use", "let": "let_name", "phase": "phase_name", "defaults": "statement"}


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.frames = [_Frame("top")]
        self.lets: dict[str, str] = {}

    @property
    def frame(self) -> _Frame:
        return self.frames[-1]

    def scan(self, position: int = 0, stop: int | None = None) -> tuple[str, str, int] | None:
        """Feed every token from `position` (up to `stop`: a line start, which no token runs across) but
        a word, pattern or number that ends the text (the one being typed: the place is the one before
        it); return the last one (kind, text, end), comments and spaces included."""
        last = None
        text = self.text
        end = len(text) if stop is None else stop
        while position < end:
            match = None
            kind = "pattern"
            if self.frame.state == "selector" and not text.startswith(('"', 're"'), position):
                match = _pattern_token().match(text, position)
            if match is None or not match.group():
                match = _TOKEN.match(text, position)
                assert match is not None  # `punct` takes any character
                kind = match.lastgroup or "punct"
            position = match.end()
            last = (kind, match.group(), position)
            if position == len(text) and kind in _TYPED:
                break
            if kind not in ("space", "comment"):
                self.feed(kind, match.group())
        return last

    def feed(self, kind: str, value: str) -> None:
        """Advance the current statement by one token, as the grammar would; what does not fit starts
        a new statement or is skipped."""
        frame = self.frame
        state = frame.state
        if kind == "punct" and value in "})]":
            self._close(value)
        elif state == "selector":
            frame.state, frame.first = "after_selector", False
            if frame.kind == "top" and frame.name is not None:
                self.lets[frame.name] = value
                frame.state = "statement"
        elif state == "after_selector" and value in (",", "except"):
            frame.state = "selector"
            frame.excepted = frame.excepted or value == "except"
        elif state == "let_name" and kind == "word":
            frame.name, frame.state = value, "equals"
        elif state == "phase_name" and kind in ("word", "string"):
            frame.state = "statement"  # still awaiting the phase's `{`
        elif state == "equals" and value == "=":
            frame.state = "selector" if frame.kind == "top" else "value"
        elif state == "value":
            self._value(kind, value)
        elif state == "after_value" and value == "(":
            frame.state = "statement"
            self.frames.append(_Frame("call", ")", setting=frame.setting or frame.name, call=frame.word))
        elif (state, value) in (("use", "namespace"), ("use", "adapter"), ("until", "epoch")):
            frame.state = "statement"
        else:
            frame.state = "statement"
            self._statement(kind, value)

    def _statement(self, kind: str, value: str) -> None:
        frame = self.frame
        if value in _OPENERS:
            self._open(value)
            return
        if kind != "word":
            return
        if frame.kind != "top" and value in _TOP_KEYWORDS:
            del self.frames[1:]  # a block left open: the parser's recovery closes it here too
            frame = self.frame
        if frame.kind == "top":
            if value in _TOP_KEYWORDS:
                frame.state, frame.name = _TOP_KEYWORDS[value], None
                frame.opening = value if value in ("phase", "defaults") else None
        elif frame.kind in ("phase", "defaults") and value in _BLOCK_KEYWORDS:
            frame.state, frame.first, frame.excepted = _BLOCK_KEYWORDS[value], value == "thaw", False
        elif frame.kind not in ("list", "other"):
            frame.name, frame.state = value, "equals"

    def _value(self, kind: str, value: str) -> None:
        frame = self.frame
        frame.state = "statement"
        if value in _OPENERS:
            self._open(value, frame.name if frame.kind in ("phase", "defaults") else None)
        elif kind == "word":
            frame.word, frame.state = value, "after_value"

    def _open(self, opener: str, setting: str | None = None) -> None:
        frame = self.frame
        closer = _OPENERS[opener]
        if opener == "{" and frame.kind == "top" and frame.opening in ("phase", "defaults"):
            self.frames.append(_Frame("phase" if frame.opening == "phase" else "defaults", closer))
            frame.opening = None
        elif opener == "{" and setting is not None:
            self.frames.append(_Frame("table", closer, setting=setting))
        elif opener == "[":
            self.frames.append(_Frame("list", closer))
        else:
            self.frames.append(_Frame("other", closer))

    def _close(self, closer: str) -> None:
        for depth in range(len(self.frames) - 1, 0, -1):
            if self.frames[depth].closer == closer:
                del self.frames[depth:]
                self.frame.state = "statement"
                return


def cursor_at(before: str) -> Cursor:
    """The place at the end of `before` (the text up to the cursor)."""
    scanner, start = _resumed(before)
    last = scanner.scan(start)
    if last is not None and last[0] in ("comment", "string") and not _closed(last):
        return Cursor("none", "")
    typed = last is not None and last[0] in _TYPED  # the word being typed, which the scan left unfed
    return _place(scanner, last[1] if last is not None and typed else "")


_TYPED = ("word", "pattern", "number")  # tokens a completion replaces


def _resumed(before: str) -> tuple[_Scanner, int]:
    """A scanner for `before`, and where to start it: at the last line that begins with a top-level
    keyword, in the state the text above leaves. Completion scans the document up to the cursor at every
    keystroke, so the state at each such line is kept (keyed by the text above it) and a scan starts from
    the nearest one kept."""
    starts = [match.start() for match in _STATEMENT_LINE.finditer(before) if match.start()]
    keys = _keys(before, starts)
    scanner = _Scanner(before)
    resume, first = 0, 0
    for index in reversed(range(len(starts))):
        snapshot = _SNAPSHOTS.get(keys[index])
        if snapshot is not None:
            _SNAPSHOTS.move_to_end(keys[index])
            frames, lets = snapshot
            scanner.frames = [dataclasses.replace(frame) for frame in frames]
            scanner.lets = dict(lets)
            resume, first = starts[index], index + 1
            break
    for start, key in zip(starts[first:], keys[first:], strict=True):
        scanner.scan(resume, start)
        _SNAPSHOTS[key] = ([dataclasses.replace(frame) for frame in scanner.frames], dict(scanner.lets))
        resume = start
    while len(_SNAPSHOTS) > _KEEP_SNAPSHOTS:
        _SNAPSHOTS.popitem(last=False)
    return scanner, resume


def _keys(text: str, starts: list[int]) -> list[bytes]:
    """A 128-bit digest of the text above each start: what a state is kept under, not the text itself.
    One running hash, so a long document is hashed once, not once per statement."""
    running, keys, previous = hashlib.blake2b(digest_size=16), [], 0
    for start in starts:
        running.update(text[previous:start].encode("utf-8", "surrogatepass"))
        keys.append(running.copy().digest())
        previous = start
    return keys


_STATEMENT_LINE = re.compile(r"^(?=(?:fts|use|let|defaults|phase)(?!\w))", re.MULTILINE)
_SNAPSHOTS: OrderedDict[bytes, tuple[list[_Frame], dict[str, str]]] = OrderedDict()
_KEEP_SNAPSHOTS = 512  # states at the statements of the documents being edited (a few versions of each)


def _closed(token: tuple[str, str, int]) -> bool:
    return token[0] == "string" and _CLOSED_STRING.fullmatch(token[1]) is not None


def _place(scanner: _Scanner, partial: str) -> Cursor:
    frame = scanner.frame
    state = frame.state
    lets = scanner.lets
    if state == "selector":
        return Cursor("selector", partial, first_selector=frame.first, lets=lets)
    if frame.kind == "top":
        if state in ("use", "statement"):
            return Cursor("use" if state == "use" else "top", partial, lets=lets)
    elif frame.kind in ("phase", "defaults"):
        block: Block = frame.kind
        if state == "until":
            return Cursor("until", partial, block=block, lets=lets)
        if state == "value":
            return Cursor("value", partial, block=block, setting=frame.name, lets=lets)
        if state in ("statement", "after_selector", "after_value"):
            after = state == "after_selector" and not frame.excepted
            return Cursor("statement", partial, block=block, after_selector=after, lets=lets)
    elif frame.kind == "call" and state in ("statement", "after_value"):
        return Cursor("argument", partial, setting=frame.setting, call=frame.call, lets=lets)
    elif frame.kind == "table" and state in ("statement", "after_value"):
        return Cursor("key", partial, setting=frame.setting, lets=lets)
    return Cursor("none", partial, lets=lets)
