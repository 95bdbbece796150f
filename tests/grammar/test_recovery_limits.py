"""Hostile text costs the parser time linear in its length: recovery copies no parse tree, at most
MAX_SYNTAX_ERRORS errors are reported with an I003 note counting the rest, and a 10 MB token is read
without per-character state."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lark.parsers import lalr_parser_state

from ftsc.grammar import parser
from ftsc.grammar.parser import MAX_SYNTAX_ERRORS, lark_parser, parse

# The terminals as first written, one character per repetition: what the grammar's forms must equal.
PER_CHARACTER = {
    "STRING": r'"(\\.|[^"\\\n])*"',
    "REGEX": r're"(\\.|[^"\\\n])*"',
    "PATTERN": r"([A-Za-z0-9_\-*$.]|\{([^{}\s]|\{[^{}\s]*\})*\}?)+",
}


@settings(max_examples=500, deadline=None)
@given(text=st.text('ab1*.$-_{}, \n\\"re', max_size=14))
def test_terminals_read_what_their_per_character_forms_read(text: str) -> None:
    for name, reference in PER_CHARACTER.items():
        expected = re.match(reference, text)
        found = re.match(lark_parser().get_terminal(name).pattern.value, text)
        assert (found and found.group()) == (expected and expected.group()), (name, text)


def test_a_10_mb_selector_is_one_token() -> None:
    selector = "bert." + "*a" * 5_000_000
    result = parse(f"phase p {{ thaw {selector} }}\n")
    assert result.diagnostics == ()
    (thaw,) = result.schedule.phases[0].thaws
    assert thaw.selectors[0].text == selector


def test_recovery_never_deep_copies_the_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    """lark's `copy()` deep-copies every value built so far; a repair tried that way at each of N errors
    made recovery quadratic (800 errors in 49 KB: 30 s)."""

    def refuse(value: object) -> object:
        raise AssertionError("the parse tree was deep-copied")

    monkeypatch.setattr(lalr_parser_state, "deepcopy", refuse)
    text = "".join(f"phase p{index} {{ thaw layer.{index}.** lr == 1 }}\n" for index in range(50))
    text += "phase q { thaw a\nphase r { thaw b, }\n"
    result = parse(text)
    assert len([d for d in result.diagnostics if d.code == "E001"]) == 52


def test_errors_past_the_cap_are_counted_in_one_note(monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = ["{", "}", "=", ",", "phase", "thaw", "1", "a.b", 're"x"', "[", "]", "(", ")", "let", "except"]
    rng = random.Random(7)
    text = " ".join(rng.choice(tokens) for _ in range(6_000))
    monkeypatch.setattr(parser, "MAX_SYNTAX_ERRORS", 1_000_000)
    every = parse(text).diagnostics
    monkeypatch.undo()
    result = parse(text)
    assert len(every) > MAX_SYNTAX_ERRORS
    assert result.diagnostics[:MAX_SYNTAX_ERRORS] == every[:MAX_SYNTAX_ERRORS]
    (note,) = result.diagnostics[MAX_SYNTAX_ERRORS:]
    assert note.code == "I003" and note.data["unreported"] == len(every) - MAX_SYNTAX_ERRORS
    assert note.span == every[MAX_SYNTAX_ERRORS].span
