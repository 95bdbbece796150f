"""`ftsc import-fts` diagnostics: each of FTS's traps, and each reason an import stops, at its YAML line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftsc.cli import main
from ftsc.compiler.namespace import Namespace, load_namespace
from ftsc.diagnostics import Diagnostic, Severity, SourceText
from ftsc.fts.importer import import_fts

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def toy() -> Namespace:
    return load_namespace(DATA / "namespaces" / "toy.json")


def diagnostics(text: str, namespace: Namespace | None = None, code: str | None = None) -> list[Diagnostic]:
    # I509 (no namespace) and W208 (never thawed, as `check` says it; tests/fts/test_import.py) are not lints
    found = [d for d in import_fts(text, namespace).diagnostics if d.code not in ("I509", "W208")]
    return [d for d in found if code is None or d.code == code]


def one(text: str, code: str, namespace: Namespace | None = None) -> Diagnostic:
    found = diagnostics(text, namespace, code)
    assert len(found) == 1, [(d.code, d.message) for d in diagnostics(text, namespace)]
    return found[0]


def at(text: str, diagnostic: Diagnostic) -> tuple[int, int, str]:
    """1-based line and column of the diagnostic, and the text it covers."""
    line, column = SourceText(text).position(diagnostic.span.start)
    return line + 1, column + 1, text[diagnostic.span.start : diagnostic.span.end]


# -- W501: a prefix match that runs past the segment ---------------------------------------------------


def test_w501_with_a_namespace_names_the_parameters_past_the_segment(toy: Namespace) -> None:
    text = "0:\n  params:\n  - model.head\n1:\n  params:\n  - model.layers.1.*\n  - model.layers.2.attn.*\n"
    found = diagnostics(text, toy, "W501")
    assert [at(text, d) for d in found] == [(3, 5, "model.head"), (6, 18, "1.*")]
    head, layers = found
    assert head.data["extra"] == ["model.head2.weight"]
    assert "`model.head2.weight`" in head.message
    extra = layers.data["extra"]
    assert isinstance(extra, list)
    assert {name.split(".")[2] for name in extra} == {"10", "11"} and len(extra) == 8
    assert "8 parameters" in layers.message
    assert layers.message.endswith("to thaw only the segment, write `model.layers.1.**`")


def test_w501_without_a_namespace_flags_a_number_left_open() -> None:
    text = (
        "0:\n  params:\n  - model.layers.7\n  - model.layers.1.*\n  - model.layers.2\\..*\n  - model.norm.*\n"
    )
    found = diagnostics(text, None, "W501")
    assert [at(text, d) for d in found] == [(3, 18, "7"), (4, 18, "1.*")]
    assert "`70…`" in found[0].message


def test_w501_not_for_a_parameter_name_which_fts_takes_exactly(toy: Namespace) -> None:
    text = "0:\n  params:\n  - model.layers.1.attn.q.weight\n  - model.head.weight\n"
    assert diagnostics(text, toy) == []


# -- W502: `.` matches any character -------------------------------------------------------------------


def test_w502_points_at_the_dot_and_names_what_it_matched(toy: Namespace) -> None:
    text = "0:\n  params:\n  - model.head.weight\n1:\n  params:\n  - model.out.proj.*\n"
    found = one(text, "W502", toy)
    assert at(text, found) == (6, 14, ".")
    assert "in `model.out_proj.weight` it matches `_`" in found.message
    assert found.data["name"] == "model.out_proj.weight"


def test_w502_needs_a_namespace_to_tell() -> None:
    assert diagnostics("0:\n  params:\n  - model.out.proj.*\n", None, "W502") == []


# -- W503: a quantifier that reads like a layer range ----------------------------------------------------


@pytest.mark.parametrize("with_namespace", [True, False])
def test_w503_range_quantifier(toy: Namespace, with_namespace: bool) -> None:
    text = "0:\n  params:\n  - model.head.weight\n1:\n  params:\n  - model.layers.{0,11}.attn.*\n"
    found = one(text, "W503", toy if with_namespace else None)
    assert at(text, found) == (6, 17, ".{0,11}")
    assert "not layers 0 to 11" in found.message and "`{0..11}`" in found.message


def test_w503_also_for_a_single_count_and_an_escaped_dot() -> None:
    text = "0:\n  params:\n  - model.layers\\.{3}attn.*\n"
    assert at(text, one(text, "W503"))[2] == "\\.{3}"


# -- W504: duplicate keys ------------------------------------------------------------------------------


def test_w504_duplicate_phase_key_with_the_first_as_related() -> None:
    text = "0:\n  params: [a]\n1:\n  params: [b]\n0:\n  params: [c]\n"
    found = one(text, "W504")
    assert at(text, found) == (5, 1, "0")
    assert at(text, Diagnostic("x", Severity.HINT, "", found.related[0].span))[:2] == (1, 1)
    result = import_fts(text)
    assert result.text is not None and "thaw c" in result.text  # the later one wins, as in PyYAML


def test_w504_duplicate_key_inside_a_phase_and_deeper() -> None:
    text = (
        "0:\n  params: [a]\n  params: [b]\n"
        "1:\n  params: [c]\n  new_optimizer:\n    optimizer_init:\n      class_path: torch.optim.SGD\n"
        "      init_args: {lr: 0.1, lr: 0.2}\n"
    )
    found = diagnostics(text, None, "W504")
    assert [at(text, d)[:3] for d in found] == [(3, 3, "params"), (9, 28, "lr")]


def test_w504_keys_that_become_the_same_phase_number() -> None:
    text = "0:\n  params: [a]\n'0':\n  params: [b]\n"
    found = one(text, "W504")
    assert at(text, found)[:2] == (3, 1)
    assert "as phase 0" in found.message


# -- W505: unknown keys, which FTS ignores ---------------------------------------------------------------


def test_w505_unknown_keys_with_did_you_mean() -> None:
    text = (
        "0:\n  params: [a]\n  max_transition_epochs: 3\n"
        "1:\n  params: [b]\n  new_lr_scheduler:\n"
        "    lr_scheduler_init: {class_path: torch.optim.lr_scheduler.StepLR, init_args: {step_size: 1}}\n"
        "    pl_lrs_config: {interval: epoch}\n"
        "    pl_lrs_cfg: {intervals: epoch}\n"
    )
    found = diagnostics(text, None, "W505")
    assert [at(text, d) for d in found] == [
        (3, 3, "max_transition_epochs"),
        (8, 5, "pl_lrs_config"),
        (9, 18, "intervals"),
    ]
    assert "did you mean `max_transition_epoch`?" in found[0].message
    assert "did you mean `pl_lrs_cfg`?" in found[1].message
    assert "did you mean `interval`?" in found[2].message
    result = import_fts(text)
    assert result.text is not None and "until epoch" not in result.text  # FTS ignores it, so do we


# -- W506: phase numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("0:\n  params: [a]\n2:\n  params: [b]\n", (3, 1), "numbered 0, 2"),
        ("1:\n  params: [a]\n2:\n  params: [b]\n", (1, 1), "numbered 1, 2"),
        ("1:\n  params: [a]\n0:\n  params: [b]\n", (3, 1), "phase 0 comes after phase 1"),
        ("0:\n  params: [a]\n1.5:\n  params: [b]\n", (3, 1), "read by FTS as phase 1"),
    ],
    ids=["gap", "from-one", "out-of-order", "float-key"],
)
def test_w506_phase_numbers(text: str, where: tuple[int, int], words: str) -> None:
    found = one(text, "W506")
    assert at(text, found)[:2] == where
    assert words in found.message


def test_w506_phases_are_taken_in_number_order() -> None:
    result = import_fts("1:\n  params: [second]\n0:\n  params: [first]\n")
    assert result.text is not None
    assert result.text.index("thaw first") < result.text.index("thaw second")


# -- W507: numbers that YAML 1.1 reads as strings --------------------------------------------------------


def test_w507_number_read_as_a_string() -> None:
    text = (
        "0:\n  params: [a]\n1:\n  params: [b]\n  lr: 1e-5\n  new_optimizer:\n    optimizer_init:\n"
        "      class_path: torch.optim.AdamW\n      init_args: {lr: 5e-4, eps: '1e-8', weight_decay: 1.0e-2}\n"
    )
    found = diagnostics(text, None, "W507")
    assert [at(text, d) for d in found] == [(5, 7, "1e-5"), (9, 23, "5e-4")]
    result = import_fts(text)
    assert result.text is not None
    assert "lr = 1e-5" in result.text
    assert 'AdamW(lr = 0.0005, eps = "1e-8", weight_decay = 0.01)' in result.text  # a quoted string stays one


# -- W508: a tied parameter's other name ------------------------------------------------------------------


def test_w508_alias_is_dropped_as_fts_drops_it(toy: Namespace) -> None:
    text = "0:\n  params:\n  - model.embed.weight\n1:\n  params:\n  - model.lm_head.weight\n  - model.norm.weight\n"
    found = one(text, "W508", toy)
    assert at(text, found) == (6, 5, "model.lm_head.weight")
    result = import_fts(text, toy)
    assert result.text is not None and "lm_head" not in result.text


def test_i509_without_a_namespace() -> None:
    found = [d for d in import_fts("0:\n  params: [a]\n").diagnostics if d.code == "I509"]
    assert len(found) == 1 and found[0].severity == Severity.INFORMATION and found[0].span.start == 0


# -- errors: nothing is written ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "where"),
    [
        ("0:\n  params: [a\n1: x\n", "E510", (3, 2)),
        ("0:\n\tparams: [a]\n", "E510", (2, 1)),
        ("- a\n- b\n", "E511", (1, 1)),
        ("", "E511", (1, 1)),
        ("0:\n  params: [a]\nhead:\n  params: [b]\n", "E511", (3, 1)),
        ("0:\n", "E511", (1, 1)),
        ("0:\n  params: model.head.weight\n", "E511", (2, 11)),
        (
            "0:\n  params: [a]\n  new_optimizer:\n    optimizer_init: {class_path: torch.optim.SGD}\n",
            "E511",
            (3, 3),
        ),
        (
            "0:\n  params: [a]\n1:\n  params: [b]\n  new_optimizer: {optimizer_init: {init_args: {}}}\n",
            "E511",
            (5, 35),
        ),
        ("0:\n  params: [a]\n1:\n  params: [b]\n  lr: fast\n", "E511", (5, 7)),
        ("0:\n  params:\n  - model.(head\n", "E512", (3, 11)),
        ("0:\n  params: [a]\n1:\n  params: [b]\n  lr: 0\n", "E515", (5, 7)),
        ("0:\n  params: [a]\n  max_transition_epoch: 2.5\n", "E515", (3, 25)),
        ("0:\n  params:\n  - (?x)model.head\n", "E515", (3, 5)),
    ],
    ids=[
        "yaml-syntax",
        "yaml-tab",
        "not-a-mapping",
        "empty-file",
        "phase-key-not-a-number",
        "empty-phase",
        "params-a-string",
        "reinit-in-phase-0",
        "no-class-path",
        "lr-not-a-number",
        "invalid-regex",
        "lr-zero",
        "fractional-epoch",
        "verbose-regex",
    ],
)
def test_errors_stop_the_import(text: str, code: str, where: tuple[int, int]) -> None:
    result = import_fts(text)
    found = [d for d in result.diagnostics if d.code == code]
    assert found, [(d.code, d.message) for d in result.diagnostics]
    assert at(text, found[0])[:2] == where
    assert result.text is None


def test_e513_matches_nothing(toy: Namespace) -> None:
    text = "0:\n  params:\n  - model.head.weight\n  - model.heads\n"
    found = one(text, "E513", toy)
    assert at(text, found) == (4, 5, "model.heads")


def test_e514_twice_in_one_phase_and_across_phases(toy: Namespace) -> None:
    text = (
        "0:\n  params:\n  - model.head.weight\n  - model.head\\..*\n"
        "1:\n  params:\n  - model.norm.weight\n  - model.head.bias\n"
    )
    found = diagnostics(text, toy, "E514")
    assert [at(text, d)[:2] for d in found] == [(4, 5), (8, 5)]
    assert "in this phase" in found[0].message and "in phase 0" in found[1].message
    assert [at(text, Diagnostic("x", Severity.HINT, "", d.related[0].span))[:2] for d in found] == [
        (3, 5),
        (4, 5),
    ]


# -- the codes, and every output format ------------------------------------------------------------------


TRAPS = "0:\n  params:\n  - model.layers.{0,11}.attn.*\n"


@pytest.mark.parametrize("fmt", ["human", "json", "github", "sarif"])
def test_diagnostics_carry_the_yaml_line_in_every_format(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schedule = tmp_path / "s.yaml"
    schedule.write_text(TRAPS)
    status = main(["import-fts", str(schedule), "--format", fmt, "--color", "never"])
    captured = capsys.readouterr()
    assert status == 0 and captured.out.startswith("fts 1")
    err = captured.err
    if fmt == "human":
        assert f"{schedule}:3:17" in err and "warning[W503]" in err
    elif fmt == "json":
        payload = json.loads(err[: err.rindex("}") + 1])
        found = next(d for d in payload["diagnostics"] if d["code"] == "W503")
        assert found["range"]["start"] == {"line": 2, "character": 16}
    elif fmt == "github":
        assert f"::warning file={schedule},line=3,col=17" in err
    else:
        payload = json.loads(err[: err.rindex("}") + 1])
        result = next(r for r in payload["runs"][0]["results"] if r["ruleId"] == "W503")
        assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 3


# -- hostile input: bounded work ------------------------------------------------------------------------


def billion_laughs(levels: int) -> str:
    """Nested aliases, nine to a level: a few hundred bytes that stand for 9**levels values."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{level}: &a{level} [{','.join([f'*a{level - 1}'] * 9)}]" for level in range(1, levels)]
    return "\n".join(lines) + f"\n0:\n  params: *a{levels - 1}\n"


def test_e511_aliases_that_expand_past_the_limit() -> None:
    """7 levels × 9 (339 bytes) took 25 s and 1.3 GB to build, 9 levels past 3 GB."""
    text = billion_laughs(9)
    found = one(text, "E511")
    assert "aliases copy in more than 10,000 YAML nodes" in found.message
    line, _, _ = at(text, found)
    assert line <= 5  # an anchored value of the first levels, where the copying is
    assert import_fts(text).text is None


def test_aliases_within_the_limit_are_followed() -> None:
    text = "base: &names [model.head.weight, model.head.bias]\n0:\n  params: *names\n"
    result = import_fts(text)
    assert not [d for d in result.diagnostics if d.code == "E511" and "aliases" in d.message]


def test_a_catastrophic_fts_regex_is_matched_in_linear_time(toy: Namespace) -> None:
    """FTS would hang on it (`re` backtracks); the import says it selects nothing."""
    text = "0:\n  params:\n  - (.*)*x\n"
    assert at(text, one(text, "E513", toy)) == (3, 5, "(.*)*x")


@pytest.mark.parametrize(
    ("entry", "at_text", "what"),
    [
        (r"model\.(\w+)\.\1", r"\1", "backreference"),
        (r"model\.(?!head).*", "(?!", "negative lookahead"),
        ("model.a{99999999999}", "{", "larger than 1000"),
    ],
)
def test_e515_regexes_a_linear_time_matcher_does_not_run(entry: str, at_text: str, what: str) -> None:
    text = f"0:\n  params:\n  - '{entry}'\n"
    found = one(text, "E515")
    assert what in found.message and "FTS matches it with `re`" in found.message
    assert at(text, found)[1] == 6 + entry.index(at_text)
