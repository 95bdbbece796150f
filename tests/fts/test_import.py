"""`ftsc import-fts`: how entries and settings are translated, the layout, and the command line."""

from __future__ import annotations

from pathlib import Path

import hypothesis
import pytest
from hypothesis import strategies as st

from ftsc.cli import main
from ftsc.compiler.compile import compile_schedule
from ftsc.compiler.namespace import Namespace, load_namespace
from ftsc.fts import regex_text
from ftsc.fts.importer import import_fts
from ftsc.fts.simplify import Simplifier, regex_literal
from ftsc.grammar.parser import parse

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def toy() -> Namespace:
    return load_namespace(DATA / "namespaces" / "toy.json")


@pytest.fixture(scope="module")
def deberta() -> Namespace:
    return load_namespace(DATA / "namespaces" / "deberta-v3-base.json")


def thaws(text: str, namespace: Namespace | None = None) -> list[str]:
    """The selectors of each phase of the translation of `text`."""
    result = import_fts(text, namespace)
    assert result.text is not None, [(d.code, d.message) for d in result.diagnostics]
    schedule = parse(result.text).schedule
    return [
        ", ".join(_source(result.text, s.span) for thaw in phase.thaws for s in thaw.selectors)
        for phase in schedule.phases
    ]


def _source(text: str, span: object) -> str:
    start, end = span.start, span.end  # type: ignore[attr-defined]
    return text[start:end]


def one_entry(entry: str, namespace: Namespace | None = None) -> str:
    return thaws(f"0:\n  params:\n  - '{entry}'\n", namespace)[0]


# -- entries -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("model.head.weight", "model.head.weight"),  # a parameter name: exact
        ("model.norm.*", "model.norm.weight"),  # one parameter: its name
        ("model.layers.3.*", "model.layers.3.**"),  # a whole module
        (r"model\.layers\.(1[0-1])\..*", "model.layers.{10..11}.**"),  # the issue's example
        ("model.layers.[2-5].attn.*", "model.layers.{2..5}.attn.**"),
        ("model.layers.(0|4|5|6).mlp.up.weight", "model.layers.{0,4..6}.mlp.up.weight"),
        ("model.layers.1.*", "model.layers.{1,10..11}.**"),  # FTS's meaning, trap included (W501)
        (r"model.layers.\d+.attn.(q|k).weight", "model.layers.{0..11}.attn.**"),  # attn holds only q and k
        (".*", "**"),
        ("model.layers.[0-9]+.mlp.up.bias", "model.layers.{0..11}.mlp.up.bias"),
        ("model.layers.[0-9]+.(mlp.up|attn.q).weight", "model.layers.{0..11}.{attn.q,mlp.up}.weight"),
        ("model.head", "model.head.**, model.head2.weight"),
    ],
)
def test_regex_entries_become_the_simplest_exact_patterns(toy: Namespace, entry: str, expected: str) -> None:
    assert one_entry(entry, toy) == expected


def test_the_issues_first_example(deberta: Namespace) -> None:
    assert one_entry("model.classifier.*", deberta) == "model.classifier.**"
    assert one_entry("model.pooler.dense.*", deberta) == "model.pooler.dense.**"  # the author's own prefix


def test_a_regex_with_no_plain_form_is_kept_in_full_match_form(toy: Namespace) -> None:
    entry = "model.layers.(0.attn.q|1.attn.k|2.mlp.up|3.attn.q|4.attn.k|5.mlp.up|6.attn.q|7.attn.k|8.mlp.up).weight"
    translated = one_entry(entry, toy)
    assert translated == f're"(?:{entry}).*"'
    simplifier = Simplifier(toy)
    fts = {i for i, name in enumerate(toy.names) if __import__("re").match(entry, name)}
    assert simplifier.resolve("regex", f"(?:{entry}).*") == frozenset(fts)


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("model.head.weight", "model.head.weight"),
        ("model.norm.*", 're"model.norm.*"'),  # already reaches the end of every name it matches
        ("model.(head|norm)", 're"(?:model.(head|norm)).*"'),
        ("model.layers.1|model.head", 're"(?:model.layers.1|model.head).*"'),
        ("(?i)MODEL.HEAD", 're"(?i)(?:MODEL.HEAD).*"'),  # global flags stay in front
        ("rest", '"rest"'),  # a reserved word cannot be a whole pattern
    ],
)
def test_without_a_namespace_entries_are_kept_as_fts_reads_them(entry: str, expected: str) -> None:
    assert one_entry(entry) == expected


def test_full_match_form_selects_what_re_match_selects(toy: Namespace) -> None:
    simplifier = Simplifier(toy)
    import re

    for entry in [
        "model.(head|norm)",
        "model.layers.1",
        "model.layers.1|model.head",
        "(?i)MODEL.HEAD",
        "model.l",
    ]:
        form = regex_text.full_match_form(entry)
        assert form is not None
        expected = frozenset(i for i, name in enumerate(toy.names) if re.match(entry, name))
        assert simplifier.resolve("regex", form) == expected, entry


def test_regex_literal_round_trips_through_the_parser() -> None:
    for regex in ['a"b', r"a\"b", r"a\\", r"a\.b\d+"]:
        literal = regex_literal(regex)
        assert literal is not None
        selector = parse(f"phase {{ thaw {literal} }}").schedule.phases[0].thaws[0].selectors[0]
        assert selector.kind == "regex"
        assert selector.text.replace('\\"', '"') == regex.replace('\\"', '"')
    assert regex_literal("a\nb") is None


def test_names_a_pattern_cannot_spell_are_exact_strings() -> None:
    namespace = Namespace.from_names(["rest", "block.w+b", "block.x"])
    text = "0:\n  params:\n  - rest\n  - block.w+b\n"
    assert thaws(text, namespace) == ['"rest", "block.w+b"']


# -- merging runs of parameter names -------------------------------------------------------------------


def test_names_that_make_whole_modules_are_merged(toy: Namespace) -> None:
    text = (
        "0:\n  params:\n  - model.head.weight\n  - model.head.bias\n  - model.norm.weight\n"
        "  - model.layers.0.mlp.up.weight\n  - model.layers.0.mlp.up.bias\n"
    )
    assert thaws(text, toy) == ["model.head.**, model.norm.weight, model.layers.0.mlp.**"]
    result = import_fts(text, toy, merge=False)
    assert result.text is not None and "model.head.weight, model.head.bias" in result.text


def test_names_that_do_not_make_a_whole_module_stay_names(toy: Namespace) -> None:
    text = "0:\n  params:\n  - model.head.weight\n  - model.norm.weight\n"
    assert thaws(text, toy) == ["model.head.weight, model.norm.weight"]


# -- settings -------------------------------------------------------------------------------------------


def test_settings_are_carried(toy: Namespace) -> None:
    result = import_fts((DATA / "fts_examples" / "explicit_reinit_optim_lr.yaml").read_text())
    assert result.text is not None
    expected_phase_1 = """phase p1 {
    thaw model.pooler.dense.bias, model.pooler.dense.weight, model.deberta.encoder.LayerNorm.bias,
        model.deberta.encoder.LayerNorm.weight
    optimizer = SGD(lr = 0.002, momentum = 0.9, weight_decay = 2e-6)
    lr_scheduler = StepLR(step_size = 1, gamma = 0.7)
    lr_scheduler_config = { interval = "epoch", frequency = 1, name = "Explicit_Reinit_LR_Scheduler" }
    init_pg_lrs = [2e-6, 2e-6]
}"""
    assert expected_phase_1 in result.text


def test_epochs_lrs_and_scheduler_flags(toy: Namespace) -> None:
    text = (
        "0:\n  params: [model.head.weight]\n  max_transition_epoch: 2\n  lr: 0.1\n"
        "1:\n  params: [model.head.bias]\n  max_transition_epoch: -1\n  lr: 3.0e-05\n"
        "  new_optimizer:\n    optimizer_init: {class_path: torch.optim.sgd.SGD, init_args: {lr: 0.1}}\n"
        "  new_lr_scheduler:\n    lr_scheduler_init:\n      class_path: torch.optim.lr_scheduler.ConstantLR\n"
        "    use_current_optimizer_pg_lrs: true\n"
    )
    result = import_fts(text)
    assert result.text is not None
    assert "    until epoch 2\n    lr = 0.1\n}" in result.text  # phase 0's lr: ignored by FTS, W204 in ftsc
    assert (
        "lr = 3e-5\n    optimizer = torch.optim.sgd.SGD(lr = 0.1)\n    lr_scheduler = ConstantLR()\n"
        "    use_current_optimizer_pg_lrs = true"
    ) in result.text
    assert "until epoch -1" not in result.text


def test_a_class_ftsc_cannot_find_stops_the_import_at_its_yaml_key() -> None:
    text = (
        "0:\n  params: [a]\n1:\n  params: [b]\n"
        "  new_optimizer:\n    optimizer_init: {class_path: mypkg.optim.Fancy}\n"
    )
    result = import_fts(text)
    assert result.text is None
    (problem,) = [d for d in result.diagnostics if d.is_error]
    assert problem.code == "E515" and "E303" in problem.message
    assert text[problem.span.start : problem.span.end] == "new_optimizer"  # the key, on its YAML line
    assert problem.message.startswith("`new_optimizer` of phase 1 cannot be written in `.fts`: ")
    assert "line" not in problem.message  # no line of a translation nobody wrote


@pytest.mark.parametrize(
    ("entry", "suggestion"),
    [
        ("layers.0.attn.q.weight", "model.layers.0.attn.q.weight"),  # the namespace's `model.` put in front
        ("layers\\.0\\.attn", "model\\.layers\\.0\\.attn"),  # a regex: dots written as it writes them
        ("lit.model.embed.weight", "model.embed.weight"),  # a LightningModule's own `lit.` dropped
        ("model.layers.0.attn.q.wieght", "model.layers.0.attn.q.weight"),  # a typo, as for E101
    ],
)
def test_e513_gets_the_did_you_mean_of_e101(toy: Namespace, entry: str, suggestion: str) -> None:
    text = f"0:\n  params: ['{entry}']\n1:\n  params: [model.head.weight]\n"
    (problem,) = [d for d in import_fts(text, toy).diagnostics if d.code == "E513"]
    assert problem.message.endswith(f"; did you mean `{suggestion}`?")
    assert problem.fixes[0].new_text == suggestion


def test_an_import_with_a_namespace_reports_never_thawed_parameters_as_check_does(toy: Namespace) -> None:
    text = "0:\n  params: [model.head.weight]\n1:\n  params: [model.head.bias]\n"
    result = import_fts(text, toy)
    assert result.text is not None
    (w208,) = [d for d in result.diagnostics if d.code == "W208"]
    (checked,) = [d for d in compile_schedule(result.text, toy).diagnostics if d.code == "W208"]
    assert w208.message == checked.message and w208.message.startswith(f"{len(toy.names) - 2} parameters are")
    assert text[w208.span.start : w208.span.end] == "1"  # the last phase of the YAML
    assert not [d for d in import_fts(text.replace("model.head.bias", "model.*"), toy).diagnostics
                if d.code == "W208"]  # fmt: skip


def test_the_translation_compiles_and_keeps_fts_phases(deberta: Namespace) -> None:
    for path in sorted((DATA / "fts_examples").glob("*deberta*")):
        result = import_fts(path.read_text(), deberta)
        assert result.text is not None
        compiled = compile_schedule(result.text, deberta)
        assert not compiled.has_errors
        assert compiled.plan is not None
        assert [p["params"] for p in compiled.plan["phases"]] == result.fts_phases  # type: ignore[union-attr]


# -- layout ---------------------------------------------------------------------------------------------


def test_canonical_layout(deberta: Namespace) -> None:
    result = import_fts((DATA / "fts_examples" / "RteBoolqModule_ft_schedule_deberta_base.yaml").read_text())
    text = result.text
    assert text is not None
    assert text.startswith("fts 1\n\nphase p0 {\n    thaw model.classifier.bias, ")
    lines = text.splitlines()
    assert all(len(line) <= 100 for line in lines)
    continued = [line for line in lines if line.startswith("        ")]
    assert continued and all(not line.startswith("         ") for line in continued)
    assert "\n\n\n" not in text and text.endswith("}\n")
    format_text = pytest.importorskip("ftsc.format").format_text
    assert format_text(text).text == text


# -- the command line -------------------------------------------------------------------------------


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "ns").mkdir()
    (tmp_path / "ns" / "toy.json").write_text((DATA / "namespaces" / "toy.json").read_text())
    (tmp_path / "traps.yaml").write_text((DATA / "schedules" / "toy_traps.yaml").read_text())
    (tmp_path / "bad.yaml").write_text("0:\n  params:\n  - model.nothing\n")
    return tmp_path


def test_cli_writes_stdout_or_a_file_with_a_relative_namespace(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(["import-fts", str(project / "traps.yaml")], capsys)
    assert status == 0 and out.startswith("fts 1\n") and "I509" in err
    out_file = project / "out" / "traps.fts"
    out_file.parent.mkdir()
    out_file.write_text("old")
    status, out, err = run(
        ["import-fts", str(project / "traps.yaml"), "--namespace", str(project / "ns" / "toy.json"),
         "-o", str(out_file)],
        capsys,
    )  # fmt: skip
    assert status == 0 and out == "" and "wrote" in err and "4 phases" in err
    written = out_file.read_text()
    assert 'use namespace "../ns/toy.json"\n' in written
    assert not [path for path in out_file.parent.iterdir() if path.name.endswith(".tmp")]
    status, out, _ = run(["check", str(out_file)], capsys)
    assert status == 0


def test_cli_errors_write_nothing(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = project / "bad.fts"
    namespace = str(project / "ns" / "toy.json")
    status, _, err = run(
        ["import-fts", str(project / "bad.yaml"), "--namespace", namespace, "-o", str(target)], capsys
    )
    assert status == 1 and "error[E513]" in err and "nothing written" in err
    assert not target.exists()
    status, _, err = run(
        ["import-fts", str(project / "traps.yaml"), "--namespace", namespace, "--strict"], capsys
    )
    assert status == 1 and "(--strict)" in err
    assert run(["import-fts", str(project / "missing.yaml")], capsys)[0] == 2
    status, _, err = run(
        ["import-fts", str(project / "traps.yaml"), "--namespace", str(project / "x.json")], capsys
    )
    assert status == 2 and "namespace file not found" in err


def test_cli_reads_standard_input(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("0:\n  params:\n  - model.head.*\n"))
    status, out, err = run(["import-fts", "-", "--namespace", str(project / "ns" / "toy.json")], capsys)
    assert status == 0 and "thaw model.head.**, model.head2.weight" in out
    assert "<stdin>:3:5" in err  # W501, located in the text read from stdin


# -- never a crash -------------------------------------------------------------------------------------

_PIECES = ["0:", "1:", "\n", "  ", "- ", "params:", "lr: ", "1e-5", "max_transition_epoch: ", "new_optimizer:",
           "optimizer_init:", "class_path: torch.optim.SGD", "model.", "layers.", "1", ".*", "(", ")", "|", "[0-9]",
           "{0,11}", "\\", "'", '"', "#", "&a", "*a", "<<: ", "(?x)", "(?i)", "head", ": ", "{", "}", "[", "]", ","]  # fmt: skip


@hypothesis.settings(max_examples=150, deadline=None)
@hypothesis.given(
    st.sampled_from([*sorted((DATA / "fts_examples").glob("*.yaml")), DATA / "schedules" / "toy_traps.yaml"]),
    st.lists(st.tuples(st.floats(0, 1), st.sampled_from(_PIECES), st.integers(0, 6)), max_size=5),
    st.booleans(),
)
def test_import_never_raises_and_never_writes_an_unfaithful_translation(
    path: Path, edits: list[tuple[float, str, int]], with_namespace: bool
) -> None:
    text = path.read_text()
    for where, piece, cut in edits:
        at = int(where * len(text))
        text = text[:at] + piece + text[at + cut :]
    namespace = load_namespace(DATA / "namespaces" / ("toy.json" if "toy" in path.name else
                               "torchtitan-llama.json" if "llama" in path.name else "deberta-v3-base.json"))  # fmt: skip
    result = import_fts(text, namespace if with_namespace else None)
    internal = [d for d in result.diagnostics if d.code == "E515" and "does not thaw" in d.message]
    assert not internal
    if result.text is not None:
        assert not compile_schedule(result.text, namespace if with_namespace else None).has_errors
