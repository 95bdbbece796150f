"""Property tests of the parser and the compiler's robustness (acceptance criteria).

1. Every schedule the grammar generates parses without a diagnostic, with one phase per `phase`.
2. No text, however broken, makes the parser or the compiler raise; what they return is well formed.
3. N independent syntax errors in N phases give (at least) N E001s, one inside each broken phase.

The oracle for "is this text a syntax error at all" is a plain lark LALR parser of the same grammar
(which raises at the first error): ftsc reports an E001 exactly when that parser rejects the text, the
text uses a statement keyword as a name or pattern (ftsc reserves those words), or a keyword is glued
to the word after it (`phasex`, `fts0`: lark reads `phase x`, `fts 0`; ftsc reports one unknown word).

Regression tests for parser bugs found by these properties follow them at the end of the file.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lark import Lark, Token, Tree
from lark.exceptions import LarkError

from ftsc.codes import CODES
from ftsc.compiler.compile import CompileResult, compile_schedule
from ftsc.compiler.namespace import Namespace
from ftsc.diagnostics import Diagnostic, Span
from ftsc.grammar import reuse
from ftsc.grammar.parser import ParseResult, lark_parser, parse
from ftsc.grammar.reuse import parse_reusing

# Every word the lexer treats specially somewhere: generated names and patterns avoid them all.
KEYWORDS = frozenset({
    "fts", "use", "let", "defaults", "phase", "thaw", "until", "except",
    "rest", "true", "false", "none", "epoch", "namespace", "adapter",
})  # fmt: skip
# Statement keywords are reserved everywhere: ftsc reports them as errors where a name is expected.
RESERVED = frozenset({"fts", "use", "let", "defaults", "phase", "thaw", "until"})


# -- strategies for the grammar's terminals ---------------------------------------------------------

identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,7}", fullmatch=True).filter(
    lambda word: word not in KEYWORDS
)
dotted_names = st.lists(identifiers, min_size=1, max_size=3).map(".".join)
numbers = st.from_regex(r"[+-]?([0-9]{1,4}\.?[0-9]{0,3}|\.[0-9]{1,3})([eE][+-]?[0-9]{1,2})?", fullmatch=True)

# Strings hold no whitespace, so a `phase` inside one can never be counted as a keyword.
_string_chars = st.one_of(
    st.characters(
        blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp"),
        blacklist_characters='"\\\x85\u180e\u200b',
    ),
    st.sampled_from(['\\"', "\\\\", "\\n", "\\t", "\\u00e9"]),
)
strings = st.lists(_string_chars, max_size=12).map(lambda chars: '"' + "".join(chars) + '"')

_regex_bodies = [
    r"model\.layer\.[0-9]+\..*",
    r".*",
    r"a|b",
    r"(x|q)_proj\.weight",
    r"\d+",
    r"[^.]+\.bias",
    r"a\"b",
    r"(?:enc|dec)oder\..*\.weight",
    r"x{2,3}",
    "",
]
regexes = st.sampled_from(_regex_bodies).map(lambda body: f're"{body}"')

_pattern_literals = st.one_of(
    st.sampled_from(["model", "layer", "a", "b", "0", "11", "x_proj", "q", "LayerNorm", "re", "rest_of"]),
    st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,5}", fullmatch=True),
).filter(lambda word: word not in KEYWORDS)


@st.composite
def _ranges(draw: st.DrawFn) -> str:
    lo = draw(st.integers(0, 30))
    if draw(st.booleans()):
        return f"{{{lo}..}}"
    return f"{{{lo}..{draw(st.integers(lo, 40))}}}"


def _simple_segment(inner: bool) -> st.SearchStrategy[str]:
    """One segment without `**`: literals, `*` and ranges glued together (never two `*` in a row)."""
    pieces = st.one_of(_pattern_literals, st.just("*"), _ranges())
    if not inner:
        # an alternation of simple options (possibly dotted), one level of nesting as the token allows
        option = st.lists(_simple_segment(inner=True), min_size=1, max_size=2).map(".".join)
        alternation = st.lists(option, min_size=2, max_size=3).map(lambda opts: "{" + ",".join(opts) + "}")
        pieces = st.one_of(pieces, alternation)

    def glue(parts: list[str]) -> str:
        text = ""
        for part in parts:
            if part.startswith("*") and text.endswith("*"):
                text += "x"
            text += part
        return text

    return st.lists(pieces, min_size=1, max_size=3).map(glue)


segments = st.one_of(_simple_segment(inner=False), st.just("**"))
patterns = st.lists(segments, min_size=1, max_size=4).map(".".join).filter(lambda text: text not in KEYWORDS)

_separators = st.sampled_from([" ", "\n", "\t", "  ", "\r\n", " # a comment, with = { [ punctuation\n"])


@functools.cache
def _generator_lark() -> Lark:
    """The parser's own grammar (a lark instance loaded from lark's cache cannot be generated from)."""
    project = lark_parser()
    assert project.source_grammar, "the project's Lark instance should keep its grammar text"
    # `phase` is a start symbol too, so that generated schedules can be given several phases.
    return Lark(project.source_grammar, parser="lalr", lexer="contextual", start=["start", "phase"])


def _schedules() -> st.SearchStrategy[str]:
    grammar = _generator_lark()
    ignored = set(grammar.ignore_tokens)
    assert ignored == {"WS", "COMMENT"}
    bases: dict[str, st.SearchStrategy[str]] = {
        "NAME": identifiers,
        "DOTTED": dotted_names,
        "NUMBER": numbers,
        "STRING": strings,
        "REGEX": regexes,
        "PATTERN": patterns,
    }
    explicit: dict[str, st.SearchStrategy[str]] = {
        "WS": st.sampled_from([" ", "\n", "\t"]),
        "COMMENT": st.just("# comment\n"),
    }
    for terminal in grammar.terminals:
        if terminal.name in ignored:
            continue
        # a KeyError here: a new regex terminal needs a strategy in `bases`
        base = st.just(terminal.pattern.value) if terminal.pattern.type == "str" else bases[terminal.name]
        # from_lark joins tokens with nothing in between (it adds %ignore'd ones only now and then),
        # so every token carries its own separator.
        explicit[terminal.name] = st.tuples(base, _separators).map("".join)

    def generate(start: str) -> st.SearchStrategy[str]:
        terminals, rules, ignore_names = grammar.grammar.compile([start], ())
        used = {terminal.name for terminal in terminals} | set(ignore_names)
        used |= {symbol.name for rule in rules for symbol in rule.expansion if symbol.is_term}
        return from_lark(grammar, start=start, explicit={k: v for k, v in explicit.items() if k in used})

    whole, phase = generate("start"), generate("phase")
    # `start: _item*` alone seldom draws more than an item or two: add phases, in any order.
    return st.lists(st.one_of(whole, phase), max_size=4).map("".join)


# -- checks shared by the robustness properties -----------------------------------------------------


def _spans(value: object) -> Iterator[Span]:
    """Every Span anywhere inside a syntax tree of dataclasses and tuples."""
    if isinstance(value, Span):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _spans(getattr(value, field.name))
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _spans(item)


def _assert_span_in(span: Span, text: str, what: str) -> None:
    assert 0 <= span.start <= span.end <= len(text), f"{what}: {span} outside [0, {len(text)}]"


def _assert_diagnostics_well_formed(
    diagnostics: tuple[Diagnostic, ...] | list[Diagnostic], text: str
) -> None:
    for diagnostic in diagnostics:
        assert diagnostic.code in CODES, diagnostic
        assert diagnostic.severity == CODES[diagnostic.code].severity, diagnostic
        assert isinstance(diagnostic.message, str) and diagnostic.message, diagnostic
        _assert_span_in(diagnostic.span, text, f"{diagnostic.code} {diagnostic.message!r}")
        for related in diagnostic.related:
            if related.path is None:
                _assert_span_in(related.span, text, f"related of {diagnostic.code}")
        for fix in diagnostic.fixes:
            _assert_span_in(fix.span, text, f"fix of {diagnostic.code}")


def _check_parse(text: str) -> ParseResult:
    result = parse(text)
    assert isinstance(result, ParseResult)
    _assert_diagnostics_well_formed(result.diagnostics, text)
    assert {diagnostic.code for diagnostic in result.diagnostics} <= {"E001"}
    phases = result.schedule.phases
    assert [phase.index for phase in phases] == list(range(len(phases)))
    for span in _spans(result.schedule.items):
        _assert_span_in(span, text, "syntax tree span")
    return result


# The terminals of the keywords above (lark names a keyword's terminal after it: `phase` -> PHASE).
_KEYWORD_TERMINALS = frozenset(keyword.upper() for keyword in KEYWORDS)


@functools.cache
def _oracle() -> tuple[Lark, list[Token]]:
    """A plain LALR parser of the same grammar, recording the name-like and keyword tokens it lexes."""
    seen: list[Token] = []

    def record(token: Token) -> Token:
        seen.append(token)
        return token

    project = lark_parser()
    terminals = {terminal.name for terminal in project.terminals}
    assert terminals >= _KEYWORD_TERMINALS, _KEYWORD_TERMINALS - terminals
    callbacks = {name: record for name in ("NAME", "DOTTED", "PATTERN", *_KEYWORD_TERMINALS)}
    oracle = Lark(project.source_grammar, parser="lalr", lexer="contextual", lexer_callbacks=callbacks)
    return oracle, seen


def _is_word_character(char: str) -> bool:
    return char.isalnum() or char == "_"


def _plain_parse(text: str) -> tuple[Tree[Token] | None, bool]:
    """The plain parser's tree (None: a syntax error) and whether ftsc must report an E001 anyway: a
    reserved word used as a name, or a keyword glued to the word after it (`phasex`, `fts0`)."""
    lark, seen = _oracle()
    seen.clear()
    try:
        tree = lark.parse(text)
    except LarkError:
        return None, False
    reserved = any(token.type in ("NAME", "DOTTED", "PATTERN") and token.value in RESERVED for token in seen)
    glued = any(
        token.type in _KEYWORD_TERMINALS
        and token.end_pos is not None
        and token.end_pos < len(text)
        and _is_word_character(text[token.end_pos])
        for token in seen
    )
    return tree, reserved or glued


def _check_agrees_with_plain_parser(text: str, result: ParseResult) -> None:
    tree, must_error = _plain_parse(text)
    has_e001 = any(diagnostic.code == "E001" for diagnostic in result.diagnostics)
    if tree is None or must_error:
        assert has_e001, f"a syntax error went unreported in {text!r}"
        return
    assert result.diagnostics == (), [(d.span, d.message) for d in result.diagnostics]
    assert len(result.schedule.phases) == len(list(tree.find_data("phase")))


def _check_compile(text: str, namespace: Namespace | None) -> CompileResult:
    result = compile_schedule(text, namespace)
    _assert_diagnostics_well_formed(result.diagnostics, text)
    codes = {diagnostic.code for diagnostic in result.diagnostics}
    if "E001" in codes:
        assert result.plan is None
    # The compiler's contract: a plan exactly when there is a namespace and no error.
    assert (result.plan is not None) == (namespace is not None and not result.has_errors)
    if namespace is None:
        assert "I404" in codes
    return result


def _check_all(text: str) -> None:
    """Everything the robustness properties assert about one text."""
    result = _check_parse(text)
    _check_agrees_with_plain_parser(text, result)
    _check_compile(text, NAMESPACE)
    _check_compile(text, None)


NAMES = [
    "model.classifier.weight",
    "model.classifier.bias",
    "model.pooler.dense.weight",
    "model.pooler.dense.bias",
    "model.deberta.embeddings.word_embeddings.weight",
    *(
        f"model.deberta.encoder.layer.{layer}.{part}.dense.weight"
        for layer in range(12)
        for part in ("attention", "intermediate", "output")
    ),
]
NAMESPACE = Namespace.from_names(NAMES)

EXAMPLE = """\
fts 1
use namespace "namespaces/deberta-v3-base.json"
use adapter default
let layers = model.deberta.encoder.layer

defaults {
    lr = 1e-5                           # lr of every phase > 0 that sets none
    restore_best = true
    early_stopping = { monitor = "val_loss", patience = 2, min_delta = 0.001 }
}

phase head {
    thaw model.classifier.*, model.pooler.**
    thaw $layers.{10..11}.**
    until epoch 2
}

phase "upper encoder" {
    thaw $layers.{6..9}.{attention,intermediate,output}.**, re"model\\.deberta\\.encoder\\.layer\\.5\\..*"
    lr = 2e-5
    until epoch 6
}

phase rest_of_model {
    thaw rest except model.deberta.embeddings.word_embeddings.weight
    optimizer = AdamW(lr = 1e-5, weight_decay = 0.01)
    lr_scheduler = CosineAnnealingLR(T_max = 10)
    lr_scheduler_config = { interval = "epoch", frequency = 1 }
    init_pg_lrs = [1e-5, 2e-5,]
}
"""

# Pieces mutations insert: everything the lexer knows, and some things it does not.
TOKENS = [
    *sorted(KEYWORDS),
    "re",
    '"',
    're"',
    "'",
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    ",",
    "=",
    "==",
    "#",
    "$",
    "$layers",
    "$nope",
    "**",
    "*",
    "***",
    "..",
    ".",
    "{0..",
    "{5..2}",
    "{,}",
    "@",
    "\\",
    "\n",
    " ",
    "\t",
    "\r",
    "\x00",
    "é",
    "\u2028",
    "𝔸",
    "1e-5",
    "-0",
    "12",
    "lr",
    "optimizer",
    "AdamW(",
    "model.",
    "phase x {",
    "thaw rest",
    "until epoch 0",
]


def test_the_example_schedule_compiles_cleanly() -> None:
    """The mutation seed is itself valid: mutations start from a schedule that makes a plan."""
    assert parse(EXAMPLE).diagnostics == ()
    result = compile_schedule(EXAMPLE, NAMESPACE)
    assert not result.has_errors, result.diagnostics
    assert result.plan is not None


@st.composite
def mutations(draw: st.DrawFn) -> str:
    """The example schedule with a few random edits: characters, tokens, lines, truncation."""
    text = EXAMPLE
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["insert", "delete", "replace", "token", "line", "swap", "truncate"]))
        at = draw(st.integers(0, len(text)))
        if kind == "insert":
            text = text[:at] + draw(st.characters()) + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 20)) :]
        elif kind == "replace":
            text = text[:at] + draw(st.characters(codec="ascii")) + text[at + 1 :]
        elif kind == "token":
            text = text[:at] + draw(st.sampled_from(TOKENS)) + text[at:]
        elif kind in ("line", "swap"):
            lines = text.split("\n")
            index = draw(st.integers(0, len(lines) - 1))
            other = draw(st.integers(0, len(lines) - 1))
            if kind == "line":
                lines.insert(other, lines[index])
            else:
                lines[index], lines[other] = lines[other], lines[index]
            text = "\n".join(lines)
        else:
            text = text[:at]
    return text


token_soups = st.lists(st.sampled_from(TOKENS), max_size=40).map(
    lambda parts: "".join(f"{part} " if part.isidentifier() else part for part in parts)
)


# -- 1. generated schedules parse cleanly ---------------------------------------------------------


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_schedules())
def test_generated_schedules_parse_without_diagnostics(text: str) -> None:
    result = _check_parse(text)
    assert result.diagnostics == (), [(d.span, d.message) for d in result.diagnostics]
    assert len(result.schedule.phases) == text.split().count("phase")
    _check_agrees_with_plain_parser(text, result)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_schedules())
def test_generated_schedules_compile_without_raising(text: str) -> None:
    _check_compile(text, NAMESPACE)
    _check_compile(text, None)


# -- 2. nothing makes the parser or the compiler raise ---------------------------------------------


@settings(max_examples=150, deadline=None)
@given(st.text())
def test_arbitrary_text_never_raises(text: str) -> None:
    _check_all(text)


@settings(max_examples=150, deadline=None)
@given(st.one_of(token_soups, st.text(alphabet="{}[](),=\"'#$*.@ \n\tabre019-+_")))
def test_token_soup_never_raises(text: str) -> None:
    _check_all(text)


@settings(max_examples=200, deadline=None)
@given(mutations())
def test_mutated_schedules_never_raise(text: str) -> None:
    _check_all(text)


def test_every_truncation_of_the_example() -> None:
    """Cut the example at every offset: no exception, E001 iff the plain parser rejects the prefix,
    and every phase complete before the cut survives recovery."""
    ends = [phase.span.end for phase in parse(EXAMPLE).schedule.phases]
    for cut in range(len(EXAMPLE) + 1):
        text = EXAMPLE[:cut]
        result = _check_parse(text)
        _check_agrees_with_plain_parser(text, result)
        assert len(result.schedule.phases) >= sum(end <= cut for end in ends), text


# -- 3. every syntax error is reported, each where it is ---------------------------------------------

# One-line mistakes, each written in a phase before a valid `thaw` line.
MISTAKES = {
    "missing value": "lr =",
    "doubled =": "lr = = 1e-5",
    "stray @": "until epoch {epoch} @",
    "missing comma": "thaw a{epoch} b{epoch}",
    "missing comma, dotted": "thaw a.{epoch} b.{epoch}",
    "unclosed table": 'lr_scheduler_config = {{ interval = "epoch"',
    "unclosed list": "init_pg_lrs = [1e-5, 2e-5",
    "unclosed call": "optimizer = AdamW(lr = 1e-5",
    "missing =": "lr 2e-5",
    "missing epoch": "until {epoch}",
    "trailing comma": "thaw c.{epoch},",
    "single quotes": "lr_scheduler_config = {{ interval = 'epoch' }}",
    "unterminated string": 'lr_scheduler_config = {{ interval = "epoch }}',
    "comma between statements": "lr = 1e-5,",
    "missing value in table": "lr_scheduler_config = {{ interval = }}",
}


def _phase_with_mistake(name: str, kind: str, epoch: int) -> str:
    mistake = MISTAKES[kind].format(epoch=epoch)
    return f"phase {name} {{\n    {mistake}\n    thaw $layers.{epoch}.**\n}}"


@st.composite
def broken_schedules(draw: st.DrawFn) -> tuple[str, list[tuple[int, int]], list[str]]:
    """A schedule of valid and broken phases; returns it, the broken phases' ranges and mistakes."""
    count = draw(st.integers(2, 6))
    kinds = draw(st.lists(st.sampled_from(sorted(MISTAKES)), min_size=count, max_size=count))
    valid_between = draw(st.lists(st.booleans(), min_size=count, max_size=count))
    text = "fts 1\nlet layers = model.layer\n\n"
    ranges: list[tuple[int, int]] = []
    epoch = 0
    for kind, valid in zip(kinds, valid_between, strict=True):
        if valid:
            epoch += 1
            text += f"phase ok{epoch} {{\n    thaw x.{epoch}.**\n    until epoch {epoch}\n}}\n\n"
        epoch += 1
        start = len(text)
        text += _phase_with_mistake(f"p{epoch}", kind, epoch)
        ranges.append((start, len(text)))
        text += "\n\n"
    return text, ranges, kinds


@pytest.mark.parametrize("kind", sorted(MISTAKES))
def test_each_mistake_alone_gives_one_error_in_its_phase(kind: str) -> None:
    """Each kind of mistake is a syntax error on its own, reported once, inside its phase."""
    text = (
        "let layers = model.layer\n"
        "phase ok {\n    thaw a.**\n}\n"
        + _phase_with_mistake("broken", kind, 3)
        + "\nphase after {\n    thaw c\n}\n"
    )
    start = text.index("phase broken")
    end = text.index("phase after")
    result = _check_parse(text)
    errors = [(d.span, d.message) for d in result.diagnostics if d.code == "E001"]
    assert len(errors) == 1, errors
    assert start <= errors[0][0].start <= errors[0][0].end <= end, errors
    assert [phase.name for phase in result.schedule.phases] == ["ok", "broken", "after"]


@settings(max_examples=100, deadline=None)
@given(broken_schedules())
def test_every_broken_phase_reports_its_own_error(case: tuple[str, list[tuple[int, int]], list[str]]) -> None:
    text, ranges, kinds = case
    result = _check_parse(text)
    errors = [d for d in result.diagnostics if d.code == "E001"]
    assert len(errors) >= len(ranges), [(d.span, d.message) for d in errors]
    for (start, end), kind in zip(ranges, kinds, strict=True):
        inside = [d for d in errors if start <= d.span.start and d.span.end <= end]
        assert inside, f"no E001 inside the phase with a {kind!r} mistake, {text[start:end]!r}"
    # recovery keeps every phase, broken or not
    assert len(result.schedule.phases) == text.count("phase ")
    _check_compile(text, NAMESPACE)


# -- regression tests: minimal reproductions of bugs the properties found ---------------------------


@pytest.mark.parametrize("names", [None, ["a"]])
def test_except_rest_is_a_diagnostic(names: list[str] | None) -> None:
    """Regression: `thaw a except rest` made compile_schedule raise ValueError."""
    namespace = Namespace.from_names(names) if names is not None else None
    result = compile_schedule("phase { thaw a except rest }", namespace)
    assert "E102" in [d.code for d in result.diagnostics]
    assert result.plan is None


@pytest.mark.parametrize(
    "text", ["defaults { x = [1", "defaults { x = A(l", "phase { optimizer = AdamW(lr = 1"]
)
def test_end_of_file_inside_a_call_or_list_is_one_error(text: str) -> None:
    """Regression: lark's UnexpectedToken at the end of the file escaped `parse`."""
    result = parse(text)
    assert [d.code for d in result.diagnostics] == ["E001"]


def test_missing_brace_after_a_table_is_reported_at_the_end() -> None:
    """Regression: a phase left open after a table value gave no diagnostic and an empty schedule."""
    text = 'phase a { thaw a.w }\nphase b { thaw b.w\n    lr_scheduler_config = { interval = "epoch" }\n'
    result = parse(text)
    assert [d.code for d in result.diagnostics] == ["E001"]
    assert result.diagnostics[0].span.start == len(text)  # the missing `}` at the end of the file
    assert len(result.schedule.phases) == 2


@pytest.mark.parametrize(
    ("text", "error_starts", "phases"),
    [
        ("phase a { until 1 }\nphase b { lr = }\n", [16, 35], 2),  # at `1` and at the `}` after `lr =`
        ("phase a { thaw x }\nuse n\n", [23], 1),  # at `n`
        ("phase a { thaw x }\nphase b { until\n", [35], 2),  # at the end
    ],
)
def test_recovery_can_invent_keywords(text: str, error_starts: list[int], phases: int) -> None:
    """Regression: a missing `epoch`, `namespace` or `adapter` lost the whole schedule (and cascaded)."""
    result = parse(text)
    assert [(d.code, d.span.start) for d in result.diagnostics] == [("E001", at) for at in error_starts]
    assert len(result.schedule.phases) == phases


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("phasex { thaw a }", "phasex"),
        ("fts0", "fts0"),
        ("phase a { until epoch1 }", "epoch1"),
        ("use adapterx", "adapterx"),
    ],
)
def test_a_keyword_glued_to_a_word_is_one_unknown_word(text: str, word: str) -> None:
    """Regression: lark reads `phasex` as `phase x` and parsed such texts without a diagnostic."""
    tree, must_error = _plain_parse(text)
    assert tree is not None and must_error  # the oracle sees what plain lark does not
    start = text.index(word)
    result = parse(text)
    assert [(d.code, d.message, d.span) for d in result.diagnostics] == [
        ("E001", f"unknown word `{word}`", Span(start, start + len(word)))
    ]


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("defaults { x = { a @\n y = 1 } }", "@"),
        ('phase { x = A(a"\n y = 1)\n}', '"'),
    ],
)
def test_a_setting_after_an_error_in_a_table_or_call_does_not_raise(text: str, bad: str) -> None:
    """Found by test_mutated_schedules_never_raise (seeds 8, 10): `parse` raised UnexpectedToken."""
    result = _check_parse(text)
    assert result.diagnostics, "a syntax error went unreported"
    assert result.diagnostics[0].span.start == text.index(bad), result.diagnostics
    _check_compile(text, NAMESPACE)


# -- 6. reparsing an edited document reuses the statements it left alone ---------------------------


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_schedules(), mutations())
def test_reusing_parse_equals_a_fresh_parse(generated: str, mutated: str) -> None:
    """Whatever was parsed before (statements remembered from other texts), the result is `parse`'s."""
    for text in (EXAMPLE, generated, mutated, generated + "\n" + EXAMPLE, mutated + "\n" + generated):
        assert parse_reusing(text) == parse(text), text


@pytest.mark.parametrize("edit", ["lr = 1.5e-3", "lr = 1", "lr = 2e-5 # longer now"])
def test_an_edit_moves_the_statements_after_it(edit: str) -> None:
    before = EXAMPLE
    parse_reusing(before)
    after = before.replace("lr = 2e-5", edit, 1)
    assert after != before
    parsed_before = reuse._relative.cache_info().misses
    assert parse_reusing(after) == parse(after)
    assert reuse._relative.cache_info().misses == parsed_before + 1  # only the edited statement is parsed
