"""The text of an FTS `params` regex, token by token: what the importer and its lints need to see.

FTS resolves a `params` entry that is not a parameter name with `re.match`, anchored at the start of the
name only. To translate an entry, and to tell where its author was probably caught out, we need to know
where its unescaped dots, quantifiers and top-level alternatives are. This is a small tokenizer of
Python's regex syntax (it is run only on text `re.compile` accepts); it never matches anything itself.
A verbose-mode regex (`(?x)`) is not tokenized: whitespace and comments would change every answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal[
    "lit", "dot", "class", "open", "close", "alt", "quant", "anchor", "backref", "flags", "comment"
]

_CLASS_ESCAPES = frozenset("dDwWsS")
_ANCHOR_ESCAPES = frozenset("bBAZ")
_QUANT = re.compile(r"\{(\d*)(?:(,)(\d*))?\}")
_GLOBAL_FLAGS = re.compile(r"\(\?[aiLmsux]+\)")
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)*")
_WORD = re.compile(r"[A-Za-z0-9_\-]")


@dataclass(frozen=True)
class Tok:
    kind: Kind
    start: int
    end: int
    text: str
    value: str = ""  # the character of a `lit` (an escaped `\.` is the literal "."), the bounds of a `quant`

    @property
    def is_star(self) -> bool:
        return self.kind == "quant" and self.text in ("*", "*?", "*+")


def is_plain_name(text: str) -> bool:
    """Dotted word segments only: the entry spells a parameter name (or a module prefix) literally."""
    return _PLAIN_NAME.fullmatch(text) is not None


def tokenize(regex: str) -> list[Tok] | None:
    """The tokens of `regex`, or None for a verbose-mode regex (or text this tokenizer cannot follow)."""
    tokens: list[Tok] = []
    pos = 0
    flags = _GLOBAL_FLAGS.match(regex)
    if flags is not None:
        if "x" in flags.group():
            return None
        tokens.append(Tok("flags", 0, flags.end(), flags.group()))
        pos = flags.end()
    length = len(regex)
    while pos < length:
        char = regex[pos]
        if char == "\\":
            token = _escape(regex, pos)
        elif char == "[":
            end = _class_end(regex, pos)
            if end is None:
                return None
            token = Tok("class", pos, end, regex[pos:end])
        elif char == "(":
            group = _group(regex, pos)
            if group is None:
                return None
            token = group
        elif char == ")":
            token = Tok("close", pos, pos + 1, char)
        elif char == "|":
            token = Tok("alt", pos, pos + 1, char)
        elif char in "*+?":
            token = _quant_suffix(regex, pos, pos + 1)
        elif char == "{" and (match := _QUANT.match(regex, pos)) is not None and _quantifier(match):
            token = _quant_suffix(regex, pos, match.end(), f"{match.group(1)},{match.group(3) or ''}")
            if match.group(2) is None:
                token = Tok("quant", token.start, token.end, token.text, f"{match.group(1)},{match.group(1)}")
        elif char in "^$":
            token = Tok("anchor", pos, pos + 1, char)
        elif char == ".":
            token = Tok("dot", pos, pos + 1, char)
        else:
            token = Tok("lit", pos, pos + 1, char, char)
        tokens.append(token)
        pos = token.end
    return tokens


def _quantifier(match: re.Match[str]) -> bool:
    """`{m}`, `{m,}`, `{,n}`, `{m,n}` are quantifiers; `{}` and `{,}` are literal text."""
    return bool(match.group(1) or match.group(3))


def _quant_suffix(regex: str, start: int, end: int, value: str = "") -> Tok:
    if end < len(regex) and regex[end] in "?+":
        end += 1
    return Tok("quant", start, end, regex[start:end], value)


def _escape(regex: str, pos: int) -> Tok:
    following = regex[pos + 1 : pos + 2]
    if following in _CLASS_ESCAPES:
        return Tok("class", pos, pos + 2, regex[pos : pos + 2])
    if following in _ANCHOR_ESCAPES:
        return Tok("anchor", pos, pos + 2, regex[pos : pos + 2])
    if following.isdigit() and following != "0":
        end = pos + 2
        while end < len(regex) and end < pos + 3 and regex[end].isdigit():
            end += 1
        return Tok("backref", pos, end, regex[pos:end])
    end = pos + 2
    if following in "xuU":
        end = pos + 2 + {"x": 2, "u": 4, "U": 8}[following]
    elif following == "N" and regex[pos + 2 : pos + 3] == "{":
        close = regex.find("}", pos)
        end = close + 1 if close > 0 else len(regex)
    elif following == "0":
        while end < len(regex) and end < pos + 4 and regex[end] in "01234567":
            end += 1
    text = regex[pos:end]
    value = following if end == pos + 2 and not following.isalnum() else text
    return Tok("lit", pos, end, text, value)


def _class_end(regex: str, pos: int) -> int | None:
    end = pos + 1
    if regex[end : end + 1] == "^":
        end += 1
    if regex[end : end + 1] == "]":
        end += 1
    while end < len(regex):
        char = regex[end]
        if char == "\\":
            end += 2
            continue
        if char == "]":
            return end + 1
        end += 1
    return None


def _group(regex: str, pos: int) -> Tok | None:
    if regex[pos + 1 : pos + 2] != "?":
        return Tok("open", pos, pos + 1, "(")
    rest = regex[pos + 2 :]
    if rest.startswith(("P=", "#")):  # a named backreference or a comment: one token up to its `)`
        close = regex.find(")", pos)
        if close < 0:
            return None
        kind: Kind = "backref" if rest.startswith("P=") else "comment"
        return Tok(kind, pos, close + 1, regex[pos : close + 1])
    if rest.startswith("P<"):
        close = regex.find(">", pos)
        return None if close < 0 else Tok("open", pos, close + 1, regex[pos : close + 1])
    for opener in ("<=", "<!", "=", "!", ":", ">"):
        if rest.startswith(opener):
            end = pos + 2 + len(opener)
            return Tok("open", pos, end, regex[pos:end])
    scoped = re.match(r"[aiLmsux]*(?:-[imsx]+)?:", rest)
    if scoped is not None:
        end = pos + 2 + scoped.end()
        return Tok("open", pos, end, regex[pos:end])
    return None  # a conditional `(?(1)…)` or something newer: not followed


# -- questions about an entry ------------------------------------------------------------------------


def quantified(tokens: list[Tok], index: int) -> bool:
    """Whether the atom at `index` (a single-token atom) is followed by a quantifier."""
    return index + 1 < len(tokens) and tokens[index + 1].kind == "quant"


def top_level_alternation(tokens: list[Tok]) -> bool:
    depth = 0
    for token in tokens:
        if token.kind == "open":
            depth += 1
        elif token.kind == "close":
            depth -= 1
        elif token.kind == "alt" and depth == 0:
            return True
    return False


def ends_with_dot_star(tokens: list[Tok]) -> bool:
    """`….*` at the top level: then matching from the start already reaches the end of every name."""
    return (
        len(tokens) >= 2
        and tokens[-1].is_star
        and tokens[-2].kind == "dot"
        and not top_level_alternation(tokens)
    )


def split_flags(regex: str) -> tuple[str, str]:
    """(leading global flags such as `(?i)`, the rest): global flags must stay at the very start."""
    match = _GLOBAL_FLAGS.match(regex)
    return ("", regex) if match is None else (match.group(), regex[match.end() :])


def full_match_form(regex: str) -> str | None:
    """A regex whose full match selects what `re.match(regex, name)` selects (names hold no newline).

    `….*` already reaches the end of the name, so it is kept as written; anything else becomes
    `(?:…).*`. None for a verbose-mode regex, which cannot be wrapped on one line.
    """
    tokens = tokenize(regex)
    if tokens is None:
        return None
    if ends_with_dot_star(tokens):
        return regex
    flags, body = split_flags(regex)
    return f"{flags}(?:{body}).*"


def literal_depth(tokens: list[Tok]) -> int:
    """How many whole segments the entry spells out before its first regex construct.

    `model.pooler.dense.*` -> 3, `model.layers.3.(…)` -> 3, `layer.{0,11}` -> 1: a dot (escaped or not)
    after literal characters ends a segment, and anything else ends the literal part.
    """
    depth = 0
    segment = False
    for index, token in enumerate(tokens):
        if token.kind == "flags":
            continue
        is_dot = token.kind == "dot" or (token.kind == "lit" and token.value == ".")
        if is_dot:
            if segment:
                depth += 1
            if quantified(tokens, index) or not segment:
                return depth
            segment = False
            continue
        if token.kind == "lit" and _WORD.fullmatch(token.value) and not quantified(tokens, index):
            segment = True
            continue
        return depth
    return depth


def unquantified_dots(tokens: list[Tok]) -> list[int]:
    """Indexes of the `.` tokens that stand for one character (meant, nearly always, as a separator)."""
    return [
        index for index, token in enumerate(tokens) if token.kind == "dot" and not quantified(tokens, index)
    ]


def with_literal_dots(tokens: list[Tok], indexes: list[int]) -> str:
    """The regex with the `.` tokens at `indexes` escaped, as their author probably meant them."""
    chosen = set(indexes)
    return "".join("\\." if index in chosen else token.text for index, token in enumerate(tokens))


def segment_intent(tokens: list[Tok]) -> str:
    """What the entry most likely meant, read segment-wise: its match must reach a segment boundary
    (a dot or the end; matched, not looked ahead at, since only whether it matches from the start is
    asked), and a `.*` right after a word character means `\\..*` (the rest of that segment's names).

    `model.layers.7` -> `(?:model.layers.7)(?:\\.|$)`;
    `model.layers.1.*` -> `(?:model.layers.1(?:\\..*)?)(?:\\.|$)`.
    """
    parts: list[str] = []
    skip = -1
    flags = ""
    for index, token in enumerate(tokens):
        if index == skip:
            continue
        if token.kind == "flags":
            flags = token.text
            continue
        previous = tokens[index - 1] if index > 0 else None
        if (
            token.kind == "dot"
            and index + 1 < len(tokens)
            and tokens[index + 1].is_star
            and previous is not None
            and previous.kind == "lit"
            and _WORD.fullmatch(previous.value)
        ):
            parts.append(r"(?:\..*)?")
            skip = index + 1
            continue
        parts.append(token.text)
    return f"{flags}(?:{''.join(parts)})(?:\\.|$)"


def range_quantifiers(tokens: list[Tok]) -> list[tuple[int, int, str]]:
    """`{m,n}` / `{m}` quantifiers on a dot: `layer.{0,11}.` reads as layers 0 to 11 but is not.

    Each as (start of the dot, end of the quantifier, the bounds as written).
    """
    found = []
    for index, token in enumerate(tokens):
        if token.kind != "quant" or not token.text.startswith("{") or index == 0:
            continue
        atom = tokens[index - 1]
        if atom.kind == "dot" or (atom.kind == "lit" and atom.value == "."):
            found.append((atom.start, token.end, token.text))
    return found


def number_prefix_traps(tokens: list[Tok]) -> list[tuple[int, int]]:
    """Where a number is not closed off, so `re.match` also takes longer numbers (no namespace needed).

    A trailing number (`model.layers.7` also selects `model.layers.70…`) and a number followed by `.*`
    (`layers.1.*` also selects `layers.10…`). Each as the (start, end) of the number and what follows.
    """
    found: list[tuple[int, int]] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.kind == "lit" and token.value.isdigit() and not quantified(tokens, index):
            start = index
            while (
                index + 1 < len(tokens)
                and tokens[index + 1].kind == "lit"
                and tokens[index + 1].value.isdigit()
            ):
                index += 1
            if quantified(tokens, index):
                index += 1
                continue
            after = tokens[index + 1 : index + 3]
            open_end = not after
            open_star = len(after) == 2 and after[0].kind == "dot" and after[1].text[:1] in ("*", "+")
            if (open_end or open_star) and not top_level_alternation(tokens):
                end = after[1].end if open_star else tokens[index].end
                found.append((tokens[start].start, end))
        index += 1
    return found
