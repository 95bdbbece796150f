"""Regex selectors run on RE2 but mean what Python's `re` makes of them; what RE2 cannot run is refused."""

from __future__ import annotations

import re

import hypothesis
import pytest
from hypothesis import strategies as st

from ftsc.compiler.namespace import Namespace
from ftsc.compiler.patterns.linear_regex import (
    MAX_NESTING,
    MAX_REGEX_LENGTH,
    RegexProblem,
    compile_regex,
    segment_regexes,
)
from ftsc.compiler.selectors import SelectorResolver
from ftsc.diagnostics import Span
from ftsc.grammar import ast

# A small regex language over the characters names are made of: every construct RE2 and `re` share.
_ATOMS = ["a", "b", "0", "1", r"\.", ".", "[ab]", "[^a.]", "[0-9]", r"\d", r"\w", r"\W", r"[\d.]", "_", r"\b"]


@st.composite
def regexes(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["atom", "atom", "group", "alt"] if depth < 2 else ["atom"]))
        if kind == "atom":
            part = draw(st.sampled_from(_ATOMS))
        elif kind == "group":
            part = "(" + draw(regexes(depth + 1)) + ")"
        else:
            part = "(?:" + draw(regexes(depth + 1)) + "|" + draw(regexes(depth + 1)) + ")"
        quantifier = draw(st.sampled_from(["", "", "*", "+", "?", "*?", "{2}", "{1,3}", "{,2}", "{2,}"]))
        parts.append(part + (quantifier if part != r"\b" else ""))
    flags = draw(st.sampled_from(["", "", "(?i)", "(?s)", "(?a)"])) if depth == 0 else ""
    return flags + "".join(parts)


@hypothesis.settings(max_examples=200, deadline=None)
@hypothesis.given(regex=regexes(), names=st.lists(st.text("aAb01._é\n", max_size=8), min_size=1, max_size=8))
def test_matches_what_python_re_matches(regex: str, names: list[str]) -> None:
    linear, python = compile_regex(regex), re.compile(regex)
    for name in names:
        if "\\b" in regex and not name.isascii():
            continue  # RE2's `\b` is an ASCII word boundary (documented; the next test shows it)
        assert linear.fullmatch(name) == (python.fullmatch(name) is not None), (regex, name)
        assert linear.match(name) == (python.match(name) is not None), (regex, name)


def test_a_word_boundary_is_ascii_as_documented() -> None:
    assert compile_regex(r"layer\b").match("layer.0") and not compile_regex(r"layer\b").match("layer0")
    assert compile_regex(r"layer\b").match("layeré")  # `re` sees `é` as a word character; RE2 does not


def test_a_named_group_reads_as_in_python() -> None:
    regex = r"model\.(?P<dot>.)layers"
    assert compile_regex(regex).group("model.xlayers", "dot") == re.match(regex, "model.xlayers").group("dot")  # type: ignore[union-attr]
    assert compile_regex(regex).group("other", "dot") is None


def test_a_catastrophic_regex_is_matched_in_linear_time() -> None:
    """`(.*)*x` backtracks exponentially in `re` on a name without an `x`; RE2 never backtracks."""
    regex = compile_regex("(.*)*x")
    assert not regex.fullmatch("bert.encoder.layer.11.attention.output.LayerNorm.weight" * 20)
    assert regex.fullmatch("ax")


@pytest.mark.parametrize(
    ("regex", "what", "at"),
    [
        (r"(a)\1", "backreference", 3),
        (r"(?P<n>a)(?P=n)", "backreference", 8),
        (r"layers\.(?!0)\d+", "negative lookahead", 8),
        (r"(?<=a)b", "lookahead or lookbehind", 0),
        (r"(?>a+)b", "atomic group", 0),
        (r"a*+b", "possessive", 1),
        (r"[^\Wa]", "negated class", 0),
    ],
)
def test_what_an_automaton_cannot_run_is_refused_with_a_way_out(regex: str, what: str, at: int) -> None:
    with pytest.raises(RegexProblem) as raised:
        compile_regex(regex)
    assert what in raised.value.message and "linear" in raised.value.message
    assert raised.value.position == at and not raised.value.invalid


@pytest.mark.parametrize("regex", ["a{99999999999}", "a{1001}", "(a{1000}){1000}"])
def test_huge_repetition_counts_are_refused(regex: str) -> None:
    """`re` raises OverflowError for the first; RE2 refuses counts over 1000, nested ones multiplied."""
    with pytest.raises(RegexProblem) as raised:
        compile_regex(regex)
    assert "repetition count is larger than 1000" in raised.value.message
    assert regex[raised.value.position] == "{"


def test_size_and_nesting_limits() -> None:
    with pytest.raises(RegexProblem, match="characters long"):
        compile_regex("a" * (MAX_REGEX_LENGTH + 1))
    with pytest.raises(RegexProblem, match="nested"):
        compile_regex("(" * (MAX_NESTING + 1) + ")" * (MAX_NESTING + 1))
    with pytest.raises(RegexProblem, match="memory budget"):
        compile_regex(r"\w{1000}")  # a thousand Unicode word characters: too large an automaton
    compile_regex("(" * MAX_NESTING + ")" * MAX_NESTING)


def test_invalid_regexes_say_so_at_the_place_python_names() -> None:
    with pytest.raises(RegexProblem) as raised:
        compile_regex("model.(head")
    assert raised.value.invalid and raised.value.position == len("model.")
    assert raised.value.message == "invalid regex: missing ), unterminated subpattern"


# Regexes joined at `\.` from parts of the same language, some of which can match a dot (then the
# selector cannot be walked segment by segment and is run over the names instead).
_segment_regexes = st.lists(regexes(depth=1), min_size=1, max_size=4).map(r"\.".join)
_dotted_names = st.lists(
    st.lists(st.sampled_from(["a", "b", "ab", "0", "1", "10", "a_b", "é", "B"]), min_size=1, max_size=5).map(
        ".".join
    ),
    min_size=1,
    max_size=20,
    unique=True,
)


@hypothesis.settings(max_examples=300, deadline=None)
@hypothesis.given(regex=_segment_regexes, flags=st.sampled_from(["", "(?i)", "(?a)"]), names=_dotted_names)
def test_a_regex_selector_selects_what_python_re_fullmatches(
    regex: str, flags: str, names: list[str]
) -> None:
    regex = flags + regex
    namespace = Namespace.from_names(names)
    resolver = SelectorResolver([], namespace)
    selector = ast.Selector("regex", regex, Span(0, len(regex) + 3), Span(2, 2 + len(regex)))
    resolution = resolver.resolve(selector)
    python = re.compile(regex)
    expected = [position for position, name in enumerate(names) if python.fullmatch(name)]
    if "\\b" in regex and not all(name.isascii() for name in names):
        return  # RE2's `\b` is an ASCII word boundary (documented above)
    assert resolution.positions is not None
    assert list(resolution.positions) == expected, (regex, names)


@pytest.mark.parametrize(
    ("regex", "walked"),
    [
        (r"model\.layers\.(4[89]|5[0-5])\.\w+\.weight", True),
        (r"(?i)a\.[^.]+\.b", True),
        (r"a\.(b|c\.d)", False),  # a dot inside a group spans segments
        (r"a\..*", False),  # `.` matches a dot
        (r"a\.\W", False),  # so does `\W`
        (r"^a\.b$", False),  # anchors are left to the whole-name match
    ],
)
def test_which_regexes_walk_the_segment_tree(regex: str, walked: bool) -> None:
    assert (segment_regexes(regex) is not None) == walked
