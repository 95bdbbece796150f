"""`format_text`: the canonical layout, pinned by golden cases and checked by properties.

Properties, for the shipped examples (re-spaced at random) and for generated messy schedules:
formatting is idempotent, the result parses without a diagnostic, the syntax tree is the same but for
spans, every comment survives, and the layout rules (no trailing whitespace, one final newline, no run
of blank lines, no blank line after `{` or before `}`) hold.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import re
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lark import Lark, Token

from ftsc.diagnostics import Span
from ftsc.format import FormatResult, format_text
from ftsc.grammar.parser import lark_parser, parse

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.fts"))


def fmt(text: str) -> str:
    result = format_text(text)
    assert result.diagnostics == ()
    assert result.text is not None
    return result.text


# -- golden cases ------------------------------------------------------------------------------------


def test_spacing_groups_and_blank_lines() -> None:
    messy = (
        '\n\n  fts   1 use    namespace\t"ns.json"\n\n\n'
        "use adapter   default\n"
        "let layers=model.layers\n\n\n\nlet   heads =  model.heads\n"
        "defaults{lr=1e-5 restore_best=true}phase{thaw a.**}\n\n\n\n"
        "phase   named{\n\n\n    thaw   b.*\n\n\n\n  until  epoch   3\n\n\n}\n\n\n"
    )
    assert fmt(messy) == (
        "fts 1\n"
        'use namespace "ns.json"\n'
        "use adapter default\n"
        "\n"
        "let layers = model.layers\n"
        "let heads = model.heads\n"
        "\n"
        "defaults {\n"
        "    lr = 1e-5\n"
        "    restore_best = true\n"
        "}\n"
        "\n"
        "phase {\n"
        "    thaw a.**\n"
        "}\n"
        "\n"
        "phase named {\n"
        "    thaw b.*\n"
        "\n"
        "    until epoch 3\n"
        "}\n"
    )


def test_use_namespace_at_keeps_its_module_path() -> None:
    assert fmt('use   namespace "ns.json"   at\tmodel.backbone\nphase{thaw a.*}') == (
        'use namespace "ns.json" at model.backbone\n\nphase {\n    thaw a.*\n}\n'
    )
    assert fmt('use namespace "ns.json" at "models.0"\nphase{thaw a.*}').startswith(
        'use namespace "ns.json" at "models.0"\n'
    )


def test_statements_are_never_reordered() -> None:
    messy = 'phase { thaw a } let x = y use namespace "n" fts 1 let z = w defaults { lr = 1 }'
    assert fmt(messy) == (
        "phase {\n"
        "    thaw a\n"
        "}\n"
        "\n"
        "let x = y\n"
        "\n"
        'use namespace "n"\n'
        "fts 1\n"
        "\n"
        "let z = w\n"
        "\n"
        "defaults {\n"
        "    lr = 1\n"
        "}\n"
    )


def test_values_tables_calls_and_lists() -> None:
    messy = (
        'use adapter fsdp{auto_wrap=["Layer",],use_orig_params=false}\n'
        "defaults {\n"
        '  early_stopping={monitor="val_loss",patience=2,min_delta=0.001,}\n'
        "  checkpoint = {   }\n"
        "  optimizer=torch.optim.AdamW( lr=1E-5 ,weight_decay=.01, betas=[0.9,0.999] )\n"
        "  lr_scheduler = StepLR\n"
        "  other = Foo( )\n"
        "  nested = [ [], [1,[2]], {a={b=none}}, +3, -1.5e+2, 1. ]\n"
        "}\n"
        "phase{thaw a}\n"
    )
    assert fmt(messy) == (
        'use adapter fsdp { auto_wrap = ["Layer"], use_orig_params = false }\n'
        "\n"
        "defaults {\n"
        '    early_stopping = { monitor = "val_loss", patience = 2, min_delta = 0.001 }\n'
        "    checkpoint = {}\n"
        "    optimizer = torch.optim.AdamW(lr = 1E-5, weight_decay = .01, betas = [0.9, 0.999])\n"
        "    lr_scheduler = StepLR\n"
        "    other = Foo()\n"
        "    nested = [[], [1, [2]], { a = { b = none } }, +3, -1.5e+2, 1.]\n"
        "}\n"
        "\n"
        "phase {\n"
        "    thaw a\n"
        "}\n"
    )


def test_strings_get_canonical_escapes_and_regexes_stay_raw() -> None:
    text = (
        r'use namespace "C:\data\models.json"' + "\n"
        'phase "tab\there \\"q\\" \\n" {\n'  # a real tab in the name
        r'    thaw "odd name\q", re"a\.b\\s\"x\d+", rest' + "\n"
        "}\n"
    )
    assert fmt(text) == (
        r'use namespace "C:\\data\\models.json"' + "\n"
        "\n"
        r'phase "tab\there \"q\" \n" {' + "\n"
        r'    thaw "odd name\\q", re"a\.b\\s\"x\d+", rest' + "\n"
        "}\n"
    )
    phase = parse(fmt(text)).schedule.phases[0]
    assert phase.name == 'tab\there "q" \n'
    assert [selector.text for selector in phase.thaws[0].selectors] == [
        "odd name\\q",
        'a\\.b\\\\s"x\\d+',
        "rest",
    ]


def test_block_headers_and_empty_blocks() -> None:
    messy = 'phase{}phase head{}phase "two words"{ }defaults{}'
    assert fmt(messy) == ('phase {\n}\n\nphase head {\n}\n\nphase "two words" {\n}\n\ndefaults {\n}\n')


def test_long_thaw_wraps_after_commas_at_100_columns() -> None:
    selectors = ", ".join(f"model.encoder.layer.{i}.attention.weight" for i in range(5))
    removed = "model.encoder.layer.0.attention.output.dense.weight_and_more"
    text = f"phase {{ thaw {selectors} except {removed}, x.y }}"
    assert fmt(text) == (
        "phase {\n"
        "    thaw model.encoder.layer.0.attention.weight, model.encoder.layer.1.attention.weight,\n"
        "        model.encoder.layer.2.attention.weight, model.encoder.layer.3.attention.weight,\n"
        "        model.encoder.layer.4.attention.weight\n"
        "        except model.encoder.layer.0.attention.output.dense.weight_and_more, x.y\n"
        "}\n"
    )


def test_thaw_of_exactly_100_columns_stays_on_one_line() -> None:
    line = "    thaw " + "a" * 83 + ", bbbbbb"
    assert len(line) == 100
    assert fmt("phase {\n" + line + "\n}\n") == "phase {\n" + line + "\n}\n"
    longer = "    thaw " + "a" * 83 + ", bbbbbbb"
    assert fmt("phase {" + longer + "}") == "phase {\n    thaw " + "a" * 83 + ",\n        bbbbbbb\n}\n"


def test_except_stays_on_the_line_when_it_fits_and_overlong_selectors_get_their_own_line() -> None:
    long = "x" * 120
    text = f"phase {{ thaw {long}, a.b except c, d }}"
    assert fmt(text) == f"phase {{\n    thaw {long},\n        a.b except c, d\n}}\n"


def test_comments_in_every_position() -> None:
    messy = (
        "#!file header   \n"
        "#   second header line\n"
        "\n"
        "fts 1   # version\n"
        "# about the namespace\n"
        'use namespace "ns.json"#glued\n'
        "\n\n\n"
        "# between groups\n"
        "let a = x.y\n"
        "phase head # in the header\n"
        "{   # after the brace\n"
        "  # before thaw\n"
        "  thaw a.**,   # inside the thaw\n"
        "     b.**      # after the thaw\n"
        "\n\n"
        "  # before a setting\n"
        "  early = {\n"
        '     monitor = "val_loss",   # what to watch\n'
        "     patience = 2,\n"
        "     # a last entry comment\n"
        "  }   # after the table\n"
        "  # last in the block\n"
        "\n"
        "}  # after the block\n"
        "# between blocks\n"
        "phase {\n"
        "  # only a comment\n"
        "}\n"
        "\n\n"
        "# end of file   \n"
        "# really the end\n"
    )
    assert fmt(messy) == (
        "#!file header\n"
        "#   second header line\n"
        "\n"
        "fts 1  # version\n"
        "# about the namespace\n"
        'use namespace "ns.json"  #glued\n'
        "\n"
        "# between groups\n"
        "let a = x.y\n"
        "\n"
        "# in the header\n"
        "phase head {  # after the brace\n"
        "    # before thaw\n"
        "    # inside the thaw\n"
        "    thaw a.**, b.**  # after the thaw\n"
        "\n"
        "    # before a setting\n"
        "    # what to watch\n"
        "    # a last entry comment\n"
        '    early = { monitor = "val_loss", patience = 2 }  # after the table\n'
        "    # last in the block\n"
        "}  # after the block\n"
        "\n"
        "# between blocks\n"
        "phase {\n"
        "    # only a comment\n"
        "}\n"
        "\n"
        "# end of file\n"
        "# really the end\n"
    )


def test_trailing_comment_goes_on_the_last_line_of_a_wrapped_thaw() -> None:
    selectors = ", ".join(f"model.layers.{i}.self_attention.query_key_value.weight" for i in range(3))
    assert fmt(f"phase {{\n thaw {selectors}  # three layers\n}}") == (
        "phase {\n"
        "    thaw model.layers.0.self_attention.query_key_value.weight,\n"
        "        model.layers.1.self_attention.query_key_value.weight,\n"
        "        model.layers.2.self_attention.query_key_value.weight  # three layers\n"
        "}\n"
    )


def test_comments_keep_their_text_and_a_hash_in_a_string_is_not_a_comment() -> None:
    text = 'phase { thaw "a#b", c#d\n lr = 1 #  ## spaced   \t\n}'
    assert fmt(text) == 'phase {\n    thaw "a#b", c  #d\n    lr = 1  #  ## spaced\n}\n'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ""),
        ("   \n\n\t\n", ""),
        ("# only a comment", "# only a comment\n"),
        ("\n\n# one\n\n\n\n# two   \n\n", "# one\n\n# two\n"),
        ("fts 1", "fts 1\n"),
        ("fts 1\n\n\n", "fts 1\n"),
        ("fts 1\r\nphase {\r\n  thaw a  # crlf\r\n}\r\n", "fts 1\n\nphase {\n    thaw a  # crlf\n}\n"),
    ],
)
def test_small_files(text: str, expected: str) -> None:
    assert fmt(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "phase { thaw a b }",
        "phase { thaw a",
        "phase { lr = }",
        "phase { lr = 'x' }",
        'use namespace "unterminated\nphase { thaw a }',
        "phasex { thaw a }",
        "phase { thaw a, }\nphase { until epoch }",
        "let thaw = a.b",
    ],
)
def test_syntax_errors_are_never_formatted(text: str) -> None:
    result = format_text(text)
    assert isinstance(result, FormatResult)
    assert result.text is None
    assert result.diagnostics
    assert {diagnostic.code for diagnostic in result.diagnostics} == {"E001"}
    assert result.diagnostics == parse(text).diagnostics


def test_every_syntax_error_is_returned() -> None:
    result = format_text("phase { thaw a b }\nphase { lr = }\n")
    assert result.text is None
    assert len(result.diagnostics) == 2


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_examples_are_already_formatted(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert fmt(text) == text


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_examples_flattened_onto_one_line_come_back_exactly(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    flat = _join(_pieces(text), lambda previous, following: "\n" if previous.type == "COMMENT" else " ")
    assert "\n\n" not in flat
    assert fmt(flat) == text


def test_formatting_is_safe_to_run_from_several_threads() -> None:
    texts = [path.read_text(encoding="utf-8") for path in EXAMPLES] * 8
    messy = [_join(_pieces(text), lambda p, f: "\n" if p.type == "COMMENT" else " \n ") for text in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(format_text, messy))
    assert [result.text for result in results] == texts


# -- properties ------------------------------------------------------------------------------------


def _shape(value: object) -> object:
    """A syntax tree with every span (and the text length) left out."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (
            type(value).__name__,
            tuple(
                (field.name, _shape(getattr(value, field.name)))
                for field in dataclasses.fields(value)
                if not field.name.endswith("span") and field.name != "text_length"
            ),
        )
    if isinstance(value, (tuple, list)):
        return tuple(_shape(item) for item in value)
    assert not isinstance(value, Span)
    return value


@functools.cache
def _comment_lark() -> tuple[Lark, list[Token]]:
    """The project's grammar, keeping every token, with the comments it skips recorded."""
    comments: list[Token] = []

    def record(token: Token) -> Token:
        comments.append(token)
        return token

    lark = Lark(
        lark_parser().source_grammar,
        parser="lalr",
        lexer="contextual",
        keep_all_tokens=True,
        lexer_callbacks={"COMMENT": record},
    )
    return lark, comments


def _pieces(text: str) -> list[Token]:
    """Every token of `text`, comments included, in order."""
    lark, comments = _comment_lark()
    comments.clear()
    tree = lark.parse(text)
    tokens = list(tree.scan_values(lambda value: isinstance(value, Token)))
    assert all(isinstance(token, Token) for token in tokens)
    return sorted([*tokens, *comments], key=lambda token: token.start_pos or 0)


def _comment_texts(text: str) -> Counter[str]:
    return Counter(str(token).rstrip() for token in _pieces(text) if token.type == "COMMENT")


def _join(tokens: list[Token], separator: Callable[[Token, Token], str]) -> str:
    out = [str(tokens[0])] if tokens else []
    for previous, following in itertools.pairwise(tokens):
        out.append(separator(previous, following))
        out.append(str(following))
    return "".join(out)


def _check_formatting(text: str) -> None:
    before = parse(text)
    assert before.diagnostics == (), "the generator made a broken schedule"
    formatted = fmt(text)
    assert fmt(formatted) == formatted  # idempotent
    after = parse(formatted)
    assert after.diagnostics == ()
    assert _shape(after.schedule.items) == _shape(before.schedule.items)
    assert _comment_texts(formatted) == _comment_texts(text)
    _check_layout(formatted)


def _check_layout(formatted: str) -> None:
    if not formatted:
        return
    assert formatted.endswith("\n") and not formatted.endswith("\n\n")
    lines = formatted[:-1].split("\n")
    assert lines[0] != ""
    for number, line in enumerate(lines):
        assert line == line.rstrip(), f"trailing whitespace on line {number + 1}"
        assert len(line) - len(line.lstrip(" ")) in (0, 4, 8)
        assert not line.startswith("\t")
        if line == "":
            assert lines[number - 1] != "", "a run of blank lines"
            # block headers start with their keyword (one ending in a comment may not end with `{`)
            assert not lines[number - 1].startswith(("phase", "defaults")), "a blank line after `{`"
            assert not lines[number + 1].lstrip().startswith("}"), "a blank line before `}`"


_PUNCTUATION = frozenset("{}[](),=")
_KEYWORDS = frozenset({
    "fts", "use", "let", "defaults", "phase", "thaw", "until", "except",
    "rest", "true", "false", "none", "epoch", "namespace", "adapter", "re",
})  # fmt: skip

_comment_bodies = st.text(st.characters(codec="utf-8", exclude_characters="\n\r"), max_size=12).map(
    lambda body: "#" + body
)


@st.composite
def _separators(draw: st.DrawFn, glued: bool, after_comment: bool) -> str:
    """Whitespace (and sometimes a comment) between two tokens; "" only where that cannot glue words."""
    choices = [" ", "  ", "\t", "\n", "\n\n", "\n\n\n    ", "\r\n", " \n\t "]
    if glued and not after_comment:
        choices.append("")
    separator = draw(st.sampled_from(choices))
    if after_comment and "\n" not in separator:
        separator = "\n" + separator
    if draw(st.integers(0, 5)) == 0:
        separator += draw(_comment_bodies) + draw(st.sampled_from(["\n", "\n\n", "\n  "]))
    return separator


@st.composite
def _respaced(draw: st.DrawFn, tokens: list[str]) -> str:
    out = [tokens[0]]
    for previous, following in itertools.pairwise(tokens):
        glued = previous in _PUNCTUATION or following in _PUNCTUATION
        out.append(draw(_separators(glued, previous.startswith("#"))))
        out.append(following)
    if tokens[-1].startswith("#"):
        out.append("\n")
    return "".join(out)


_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True).filter(lambda w: w not in _KEYWORDS)
_dotted = st.lists(_names, min_size=1, max_size=3).map(".".join)
_numbers = st.from_regex(r"[+-]?([0-9]{1,3}\.?[0-9]{0,2}|\.[0-9]{1,2})([eE][+-]?[0-9]{1,2})?", fullmatch=True)
_string_chars = st.one_of(
    st.characters(codec="utf-8", exclude_characters='"\\\n'),
    st.sampled_from(['\\"', "\\\\", "\\n", "\\t", "\\q", "#", "\t"]),
)
_strings = st.lists(_string_chars, max_size=8).map(lambda chars: '"' + "".join(chars) + '"')
_regexes = st.sampled_from([r"a\.b", r".*", r"x\"y", r"\\d+", "", r"(q|k)_proj\..*"]).map(
    lambda b: f're"{b}"'
)
_segments = st.one_of(
    _names,
    st.sampled_from(["*", "**", "0", "11", "{0..3}", "{2..}", "{q,k,v}_proj", "$layers", "*_norm", "-x"]),
)
_patterns = st.lists(_segments, min_size=1, max_size=6).map(".".join).filter(lambda p: p not in _KEYWORDS)
_selectors = st.one_of(_patterns, _patterns, _strings, _regexes, st.just("rest"))


def _entries(values: st.SearchStrategy[list[str]]) -> st.SearchStrategy[list[str]]:
    entry = st.tuples(_names, values).map(lambda pair: [pair[0], "=", *pair[1]])
    return st.lists(entry, max_size=3).map(_comma_separated)


def _flat(lists: list[list[str]]) -> list[str]:
    return list(itertools.chain.from_iterable(lists))


def _comma_separated(items: list[list[str]]) -> list[str]:
    out: list[str] = []
    for index, item in enumerate(items):
        if index:
            out.append(",")
        out.extend(item)
    return out


_values: st.SearchStrategy[list[str]] = st.recursive(
    st.one_of(
        _numbers.map(lambda n: [n]),
        _strings.map(lambda s: [s]),
        st.sampled_from(["true", "false", "none"]).map(lambda w: [w]),
        _dotted.map(lambda d: [d]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda items: ["[", *_comma_separated(items), "]"]),
        _entries(inner).map(lambda entries: ["{", *entries, "}"]),
        st.tuples(_dotted, _entries(inner)).map(lambda pair: [pair[0], "(", *pair[1], ")"]),
        st.tuples(st.sampled_from(["[", "{"]), inner).map(
            lambda pair: ["[", *pair[1], ",", "]"] if pair[0] == "[" else ["{", "k", "=", *pair[1], ",", "}"]
        ),
    ),
    max_leaves=6,
)
_settings = st.tuples(_names, _values).map(lambda pair: [pair[0], "=", *pair[1]])


@st.composite
def _thaws(draw: st.DrawFn) -> list[str]:
    selectors = draw(st.lists(_selectors, min_size=1, max_size=8))
    tokens = ["thaw", *_comma_separated([[s] for s in selectors])]
    if draw(st.booleans()):
        excepts = draw(st.lists(_selectors.filter(lambda s: s != "rest"), min_size=1, max_size=4))
        tokens += ["except", *_comma_separated([[s] for s in excepts])]
    return tokens


_body_statements = st.one_of(_thaws(), _settings, _numbers.map(lambda n: ["until", "epoch", n]))
_top_statements = st.one_of(
    _numbers.map(lambda n: ["fts", n]),
    _strings.map(lambda s: ["use", "namespace", s]),
    st.tuples(_names, st.one_of(st.just([]), _entries(_values).map(lambda e: ["{", *e, "}"]))).map(
        lambda pair: ["use", "adapter", pair[0], *pair[1]]
    ),
    st.tuples(_names, _patterns).map(lambda pair: ["let", pair[0], "=", pair[1]]),
    st.lists(_settings, max_size=3).map(lambda body: ["defaults", "{", *_flat(body), "}"]),
    st.tuples(
        st.one_of(
            st.just([]), _names.map(lambda n: [n]), _strings.filter(lambda s: s != '""').map(lambda s: [s])
        ),
        st.lists(_body_statements, max_size=4),
    ).map(lambda pair: ["phase", *pair[0], "{", *_flat(pair[1]), "}"]),
)


@st.composite
def _schedules(draw: st.DrawFn) -> str:
    statements = draw(st.lists(_top_statements, min_size=1, max_size=6))
    tokens: list[str] = _flat(statements)
    if draw(st.booleans()):
        tokens.insert(0, draw(_comment_bodies))
    return draw(_respaced(tokens))


_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large]


@settings(max_examples=120, deadline=None, suppress_health_check=_HEALTH)
@given(_schedules())
def test_generated_schedules_format_safely(text: str) -> None:
    _check_formatting(text)


@settings(max_examples=40, deadline=None, suppress_health_check=_HEALTH)
@given(st.sampled_from(EXAMPLES), st.data())
def test_respaced_examples_format_safely_and_come_back(path: Path, data: st.DataObject) -> None:
    original = path.read_text(encoding="utf-8")
    tokens = [str(token) for token in _pieces(original)]
    text = data.draw(_respaced(tokens))
    _check_formatting(text)
    assert _shape(parse(text).schedule.items) == _shape(parse(original).schedule.items)


def test_tree_shape_ignores_spans_only() -> None:
    a = parse("phase { thaw a }").schedule.items
    b = parse("\n\nphase   {\n thaw  a\n}").schedule.items
    c = parse("phase { thaw b }").schedule.items
    assert _shape(a) == _shape(b)
    assert _shape(a) != _shape(c)


def test_pieces_are_every_token_in_source_order() -> None:
    tokens = _pieces("phase { thaw a, b # c\n }")
    assert [str(token) for token in tokens] == ["phase", "{", "thaw", "a", ",", "b", "# c", "}"]


def test_the_examples_in_docs_formatting_md_are_what_the_formatter_writes() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "formatting.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```\n(.*?)^```$", doc, re.MULTILINE | re.DOTALL)
    style, before, after = blocks[0], blocks[1], blocks[2]
    assert fmt(style) == style
    assert fmt(before) == after
    assert before != after
