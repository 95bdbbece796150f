"""Regexes that match in linear time, whatever their author wrote: `re"(.*)*x"` cannot freeze anything.

A `re"…"` selector (and an FTS `params` entry) is written in Python's regex syntax, the one FTS users
know, and is read by Python's own parser, so it means what it means to `re`. It is then written out for
RE2, an automaton that never backtracks: matching takes time linear in the name, and RE2 refuses a
program larger than its memory budget instead of growing without bound. The few constructs an automaton
cannot run (backreferences, lookaround, atomic groups, possessive quantifiers, conditionals) are refused
with the reason and a way out; docs/language.md lists the limits and where RE2 reads a class differently.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import re2
from re2 import _re2  # the binding's RE2 object: a yes/no match without the wrapper's per-call Match

try:  # the parser behind `re`; private, so it is imported the way `regex_words` imports it
    from re import _constants as sre_constants
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants
    import sre_parse

MAX_REGEX_LENGTH = 10_000  # characters of one regex
MAX_REPEAT = 1000  # RE2's largest counted repetition, `{1000}`
MAX_NESTING = 100  # groups within groups
_MAX_PROGRAM = 8 << 20  # bytes of RE2 program and automaton memory per regex

_OPTIONS = re2.Options()
_OPTIONS.max_mem = _MAX_PROGRAM
_OPTIONS.log_errors = False
_TEST_OPTIONS = re2.Options()  # for yes/no questions: no capture groups, so RE2 can run its DFA
_TEST_OPTIONS.max_mem = _MAX_PROGRAM
_TEST_OPTIONS.log_errors = False
_TEST_OPTIONS.never_capture = True
_BOTH, _START = _re2.RE2.Anchor.ANCHOR_BOTH, _re2.RE2.Anchor.ANCHOR_START
_NO_MATCH = (-1, -1)

# Python's `\s` on text: what `str.isspace` accepts.
_UNICODE_SPACE = (
    r"\t\n\x{b}\x{c}\r\x{1c}-\x{1f} \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}"
    r"\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}"
)
_CLASSES = {  # category -> (ASCII flag, Unicode): the body of a `[…]` and whether it is negated
    "CATEGORY_DIGIT": (("0-9", False), (r"\p{Nd}", False)),
    "CATEGORY_NOT_DIGIT": (("0-9", True), (r"\p{Nd}", True)),
    "CATEGORY_WORD": (("0-9A-Za-z_", False), (r"\p{L}\p{N}_", False)),
    "CATEGORY_NOT_WORD": (("0-9A-Za-z_", True), (r"\p{L}\p{N}_", True)),
    "CATEGORY_SPACE": ((r"\t\n\x{b}\x{c}\r ", False), (_UNICODE_SPACE, False)),
    "CATEGORY_NOT_SPACE": ((r"\t\n\x{b}\x{c}\r ", True), (_UNICODE_SPACE, True)),
}
_ANCHORS = {
    "AT_BEGINNING": "^",
    "AT_BEGINNING_STRING": r"\A",
    "AT_END": "$",
    "AT_END_STRING": r"\z",
    "AT_BOUNDARY": r"\b",
    "AT_NON_BOUNDARY": r"\B",
}
_FLAGS = ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"))
# What an automaton cannot run, the text that starts it, and the way out.
_UNSUPPORTED = {
    "GROUPREF": ("a backreference", (r"\1", "(?P="), "spell out the repeated text"),
    "GROUPREF_EXISTS": ("a conditional group `(?(…)…)`", ("(?(",), "write each case as its own selector"),
    "ASSERT": ("a lookahead or lookbehind", ("(?=", "(?<="), "match the text itself"),
    "ASSERT_NOT": ("a negative lookahead or lookbehind", ("(?!", "(?<!"), "remove names with `except`"),
    "ATOMIC_GROUP": ("an atomic group `(?>…)`", ("(?>",), "use a plain group `(?:…)`"),
    "POSSESSIVE_REPEAT": ("a possessive quantifier", ("*+", "++", "?+", "}+"), "drop the final `+`"),
}


class RegexProblem(Exception):
    """Why a regex cannot be used: a message for E102 / E512, and where in the regex text it is."""

    def __init__(self, message: str, position: int = 0, *, invalid: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.invalid = invalid  # Python's `re` refuses it too (else it is one of the linear-time limits)


class LinearRegex:
    """A regex compiled for RE2. `fullmatch` is what a `re"…"` selector asks; `match` (from the start
    only) is what FTS asks of a `params` entry; `group` reads one named group of a match from the start.
    The yes/no questions go straight to the compiled automaton (a name is matched in microseconds, and
    a selector may ask it of tens of thousands of names)."""

    def __init__(self, source: str, translated: str, test: Any) -> None:
        self.source = source
        self.translated = translated  # RE2 syntax
        self._test = test  # _re2.RE2, without capture groups

    def fullmatch(self, text: str) -> bool:
        encoded = _utf8(text)
        return bool(self._test.Match(_BOTH, encoded, 0, len(encoded))[0] != _NO_MATCH)

    def match(self, text: str) -> bool:
        encoded = _utf8(text)
        return bool(self._test.Match(_START, encoded, 0, len(encoded))[0] != _NO_MATCH)

    def group(self, text: str, name: str) -> str | None:
        try:
            found = self._with_groups.match(text)
        except UnicodeEncodeError:  # a lone surrogate: no entry of an FTS file can name it
            return None
        return None if found is None else str(found.group(name))

    @functools.cached_property
    def _with_groups(self) -> Any:
        return re2.compile(self.translated, _OPTIONS)


def _utf8(text: str) -> bytes:
    """UTF-8 for RE2; a lone surrogate (a namespace may hold one) passes as the bytes RE2 reads as one
    invalid character, instead of failing the encoding."""
    return text.encode("utf-8", "surrogatepass")


def compile_regex(source: str) -> LinearRegex:
    """`source` (Python syntax) compiled for RE2; RegexProblem says why it cannot be."""
    if len(source) > MAX_REGEX_LENGTH:
        raise RegexProblem(
            f"the regex is {len(source):,} characters long; the limit is {MAX_REGEX_LENGTH:,}: split it into "
            "several selectors",
            MAX_REGEX_LENGTH,
        )
    depth = _nesting(source)
    if depth > MAX_NESTING:
        raise RegexProblem(f"groups are nested {depth} deep; the limit is {MAX_NESTING}")
    try:
        parsed = sre_parse.parse(source, 0)
    except re.error as exc:
        raise RegexProblem(f"invalid regex: {exc.msg}", exc.pos or 0, invalid=True) from None
    except OverflowError:
        raise RegexProblem(_too_many(), _first(source, ("{",))) from None
    except RecursionError:
        raise RegexProblem(f"groups are nested too deep; the limit is {MAX_NESTING}") from None
    flags = parsed.state.flags
    translated = _Writer(source, dict(parsed.state.groupdict)).sequence(parsed, flags)
    prefix = "".join(letter for flag, letter in _FLAGS if flags & flag)
    return compile_translated(source, f"(?{prefix}){translated}" if prefix else translated)


def compile_translated(source: str, translated: str) -> LinearRegex:
    """RE2 syntax compiled under the memory budget (the patterns' own regexes come here directly)."""
    test = _re2.RE2(translated.encode(), _TEST_OPTIONS)
    if not test.ok():
        reason = test.error().decode(errors="replace")
        if "repetition" in reason:
            raise RegexProblem(_too_many(), _first(source, ("{",)))
        if "too large" in reason:
            raise RegexProblem(
                "the regex is too large to match in linear time (its automaton exceeds the memory budget): "
                "split it into several selectors"
            )
        raise RegexProblem(f"invalid regex: {reason}")
    return LinearRegex(source, translated, test)


_DOT = ord(".")
_DOTLESS_CATEGORIES = {"CATEGORY_DIGIT", "CATEGORY_WORD", "CATEGORY_SPACE"}


@functools.lru_cache(maxsize=256)
def segment_regexes(source: str) -> tuple[tuple[str, str | None], ...] | None:
    """`source` as one RE2 regex per dotted segment, with each part's text where it is a plain literal.

    When a regex's top level is parts joined by `\\.` and no part can match a dot, a name matches it
    exactly when its segments match the parts one for one, so the selector can walk the names' segment
    tree like a pattern (a few hundred segment tests) instead of being run over every name. None when
    the regex is not of that shape; call it only for a regex `compile_regex` accepted.
    """
    parsed = sre_parse.parse(source, 0)
    flags = parsed.state.flags
    parts: list[list[Any]] = [[]]
    for op, value in parsed:
        if str(op) == "LITERAL" and value == _DOT:
            parts.append([])
        elif _dotless(op, value):
            parts[-1].append((op, value))
        else:
            return None
    writer = _Writer(source, dict(parsed.state.groupdict))
    prefix = "".join(letter for flag, letter in _FLAGS if flags & flag)
    segments = []
    for items in parts:
        pattern = writer.sequence(items, flags)
        literal = (
            "".join(chr(value) for _, value in items)
            if not flags & re.IGNORECASE and all(str(op) == "LITERAL" for op, _ in items)
            else None
        )
        segments.append((f"(?{prefix}){pattern}" if prefix else pattern, literal))
    return tuple(segments)


def _dotless(op: Any, value: Any) -> bool:
    """Whether an item of a parsed regex can never match a `.` (conservatively: anchors count as not)."""
    kind = str(op)
    if kind == "LITERAL":
        return bool(value != _DOT)
    if kind == "NOT_LITERAL":
        return bool(value == _DOT)
    if kind == "IN":
        if value and str(value[0][0]) == "NEGATE":
            return any(str(inner) == "LITERAL" and code == _DOT for inner, code in value[1:])
        return all(_dotless_in_class(inner, item) for inner, item in value)
    if kind == "BRANCH":
        return all(_dotless(inner, item) for branch in value[1] for inner, item in branch)
    if kind == "SUBPATTERN":
        return all(_dotless(inner, item) for inner, item in value[3])
    if kind in ("MAX_REPEAT", "MIN_REPEAT"):
        return all(_dotless(inner, item) for inner, item in value[2])
    return False


def _dotless_in_class(op: Any, value: Any) -> bool:
    kind = str(op)
    if kind == "LITERAL":
        return bool(value != _DOT)
    if kind == "RANGE":
        return not value[0] <= _DOT <= value[1]
    return kind == "CATEGORY" and str(value) in _DOTLESS_CATEGORIES


def _too_many() -> str:
    return f"a repetition count is larger than {MAX_REPEAT} (in total, counting nested ones): use `*` or `+`"


class _Writer:
    """Python's parse tree written out in RE2 syntax, group for group."""

    def __init__(self, source: str, groups: dict[str, int]) -> None:
        self.source = source
        self.names = {number: name for name, number in groups.items()}

    def sequence(self, items: Any, flags: int) -> str:
        return "".join(self.item(op, value, flags) for op, value in items)

    def item(self, op: Any, value: Any, flags: int) -> str:
        name = str(op)
        if name == "LITERAL":
            return _char(value)
        if name == "NOT_LITERAL":
            return f"[^{_char(value)}]"
        if name == "ANY":
            return "."
        if name == "IN":
            return self.char_class(value, flags)
        if name == "AT":
            return _ANCHORS[str(value)]
        if name == "BRANCH":
            return "(?:" + "|".join(self.sequence(branch, flags) for branch in value[1]) + ")"
        if name == "SUBPATTERN":
            return self.group(value, flags)
        if name in ("MAX_REPEAT", "MIN_REPEAT"):
            low, high, inner = value
            if max(low, 0 if high == sre_constants.MAXREPEAT else high) > MAX_REPEAT:
                raise RegexProblem(_too_many(), _first(self.source, ("{",)))
            upper = "" if high == sre_constants.MAXREPEAT else str(high)
            count = f"{{{low},{upper}}}" if low != high else f"{{{low}}}"
            lazy = "?" if name == "MIN_REPEAT" else ""
            return f"(?:{self.sequence(inner, flags)}){count}{lazy}"
        what, starts, way_out = _UNSUPPORTED.get(name, (f"`{name}`", ("",), "rewrite it"))
        raise RegexProblem(
            f"{what} is not supported: ftsc matches regexes with RE2, in time linear in the name, which "
            f"rules it out; {way_out}",
            _first(self.source, starts),
        )

    def group(self, value: Any, flags: int) -> str:
        number, added, removed, inner = value
        scoped = (flags | added) & ~removed
        on = "".join(letter for flag, letter in _FLAGS if added & flag)
        off = "".join(letter for flag, letter in _FLAGS if removed & flag)
        body = self.sequence(inner, scoped)
        if on or off:
            body = f"(?{on}{'-' + off if off else ''}:{body})"
        if number is None:
            return f"(?:{body})"
        name = self.names.get(number)
        return f"(?P<{name}>{body})" if name is not None else f"({body})"

    def char_class(self, items: Any, flags: int) -> str:
        """A `[…]`; a category that is itself negated (`\\W`, `[\\Sa]`) cannot join others in RE2."""
        ascii_only = bool(flags & re.ASCII)
        negated = bool(items) and str(items[0][0]) == "NEGATE"
        body: list[str] = []
        alone: list[str] = []  # negated categories: alternatives beside the class
        for op, value in items[1:] if negated else items:
            kind = str(op)
            if kind == "LITERAL":
                body.append(_char(value))
            elif kind == "RANGE":
                body.append(f"{_char(value[0])}-{_char(value[1])}")
            elif kind == "CATEGORY":
                spelled, negative = _CLASSES[str(value)][0 if ascii_only else 1]
                if negative:
                    alone.append(f"[^{spelled}]")
                else:
                    body.append(spelled)
            else:
                raise RegexProblem(f"`{kind}` in a character class cannot be matched in linear time")
        if alone and negated:
            raise RegexProblem(
                "a negated class holding `\\W`, `\\S` or `\\D` cannot be matched in linear time; "
                "write the characters it allows",
                _first(self.source, ("[^",)),
            )
        if not alone:
            return f"[{'^' if negated else ''}{''.join(body)}]" if body else ("[^\\x{0}-\\x{10ffff}]")
        parts = ([f"[{''.join(body)}]"] if body else []) + alone
        return parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"


def _char(code: int) -> str:
    char = chr(code)
    return char if char.isascii() and char.isalnum() else f"\\x{{{code:x}}}"


def _nesting(source: str) -> int:
    """How deep `(` nests (escapes and classes aside): Python's parser recurses once per level."""
    depth = deepest = 0
    escaped = in_class = False
    for char in source:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth = max(0, depth - 1)
    return deepest


def _first(source: str, starts: tuple[str, ...]) -> int:
    """Where the first of `starts` stands in `source` (0 if none does): the place to underline."""
    found = [at for at in (source.find(start) for start in starts if start) if at >= 0]
    return min(found) if found else 0
