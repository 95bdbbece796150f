"""Every diagnostic code of the language reference, shown at the right place."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftsc import codes
from ftsc.adapters import StrategyAdapter
from ftsc.codes import CODES, Code, Family
from ftsc.compiler import optim
from ftsc.compiler.compile import CompileResult, compile_schedule
from ftsc.compiler.files import compile_file
from ftsc.compiler.namespace import Namespace, ParameterInfo
from ftsc.compiler.schema import validate_plan_data
from ftsc.diagnostics import Diagnostic, Severity, Span, diagnose

NAMES = [
    "embed.weight",
    *(
        f"layers.{layer}.{part}.weight"
        for layer in range(3)
        for part in ("attn.q_proj", "attn.k_proj", "attn.v_proj", "attn.o_proj", "mlp.up", "mlp.down")
    ),
    "norm.weight",
    "head.weight",
    "head.bias",
]


@pytest.fixture(scope="module")
def namespace() -> Namespace:
    return Namespace.from_names(NAMES, model="toy")


def at(text: str, needle: str, occurrence: int = 1) -> Span:
    """The span of the n-th occurrence of `needle` in `text`."""
    start = -1
    for _ in range(occurrence):
        start = text.index(needle, start + 1)
    return Span(start, start + len(needle))


def run(text: str, namespace: Namespace | None) -> CompileResult:
    result = compile_schedule(text, namespace)
    if result.plan is not None:
        assert validate_plan_data(result.plan) == []
    return result


def only(result: CompileResult, code: str) -> list[Diagnostic]:
    found = [d for d in result.diagnostics if d.code == code]
    assert found, f"no {code} in {[(d.code, d.message) for d in result.diagnostics]}"
    return found


def single(result: CompileResult, code: str) -> Diagnostic:
    found = only(result, code)
    assert len(found) == 1, found
    return found[0]


CLEAN = "phase a { thaw head.* }\nphase b { thaw rest }\n"


def test_a_clean_schedule_has_no_diagnostics_and_a_valid_plan(namespace: Namespace) -> None:
    result = run(CLEAN, namespace)
    assert result.diagnostics == []
    assert result.plan is not None
    phases = result.plan["phases"]
    assert isinstance(phases, list)
    assert phases[0]["params"] == ["head.weight", "head.bias"]
    assert len(phases[1]["params"]) == len(NAMES) - 2


DOCS = Path(__file__).parents[2] / "docs"


def doc_table(document: str, header: str) -> list[list[str]]:
    """The rows of the table in docs/`document` under the header row `header`, as stripped cells."""
    lines = (DOCS / document).read_text(encoding="utf-8").splitlines()
    rows = []
    for line in lines[lines.index(header) + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def registered(family: Family) -> list[Code]:
    return [code for code in CODES.values() if code.family is family]


def test_the_language_reference_lists_every_language_code_with_its_severity() -> None:
    rows = doc_table("language.md", "| code | severity | when | example message |")
    assert sorted((row[0], row[1]) for row in rows) == sorted(
        (code.code, code.severity.label) for code in registered(Family.LANGUAGE)
    )


def test_the_import_fts_reference_lists_every_import_code_with_its_severity_and_title() -> None:
    rows = doc_table("fts-interop.md", "| code | severity | title | when, and an example message |")
    assert all(CODES[row[0]].severity.label == row[1] for row in rows), rows
    shown = [tuple(row[:3]) for row in rows if CODES[row[0]].family is Family.FTS_IMPORT]
    assert sorted(shown) == sorted(
        (code.code, code.severity.label, code.title) for code in registered(Family.FTS_IMPORT)
    )


def test_the_formats_reference_lists_every_format_code() -> None:
    rows = doc_table("formats.md", "| code | meaning | example |")
    assert sorted({row[0] for row in rows}) == [code.code for code in registered(Family.FORMAT)]


def test_a_diagnostic_takes_its_severity_from_its_code() -> None:
    for code in (codes.NO_MATCH, codes.ADDS_NOTHING, codes.NO_NAMESPACE):
        made = diagnose(code, "m", Span(0, 1))
        assert (made.code, made.severity) == (code.code, code.severity)
    letters = {code.code[0]: code.severity for code in CODES.values()}
    assert letters == {"E": Severity.ERROR, "W": Severity.WARNING, "I": Severity.INFORMATION}


def test_e000_an_internal_failure_is_an_error_at_the_top_of_the_file() -> None:
    from ftsc.lsp.documents import internal_error

    diagnostic = internal_error(RecursionError("maximum recursion depth exceeded\nmore"))
    assert (diagnostic.code, diagnostic.severity, diagnostic.span) == ("E000", Severity.ERROR, Span(0, 0))
    assert "RecursionError: maximum recursion depth exceeded)" in diagnostic.message
    assert "report it" in diagnostic.message


def test_e001_each_syntax_error_has_its_own_range(namespace: Namespace) -> None:
    text = "phase a {\n  lr = \n  thaw head.*\n}\nphase b {\n  thaw layers.0.** layers.1.**\n}\nphase c { lr = = 2 }\n"
    result = run(text, namespace)
    errors = only(result, "E001")
    assert [d.span for d in errors] == [at(text, "thaw"), at(text, "layers.1.**"), at(text, "=", 3)]
    assert "missing `,`" in errors[1].message
    assert result.plan is None


def test_e002_unknown_language_version(namespace: Namespace) -> None:
    text = "fts 2\nphase a { thaw head.* }\n"
    diagnostic = single(run(text, namespace), "E002")
    assert diagnostic.span == at(text, "2")
    assert "fts 1" in diagnostic.message


def test_e101_did_you_mean_corrects_the_misspelt_segment(namespace: Namespace) -> None:
    text = "phase a { thaw layers.0.atn.** }\n"
    diagnostic = single(run(text, namespace), "E101")
    assert diagnostic.span == at(text, "layers.0.atn.**")
    assert "did you mean `layers.0.attn.**`" in diagnostic.message
    assert [(fix.span, fix.new_text) for fix in diagnostic.fixes] == [(at(text, "atn"), "attn")]


def test_e101_names_the_nearest_existing_prefix_when_nothing_is_close(namespace: Namespace) -> None:
    text = "phase a { thaw layers.{7..9}.** }\n"
    diagnostic = single(run(text, namespace), "E101")
    assert "`layers` exists, with 3 children: `0`, `1`, `2`" in diagnostic.message


def test_e101_a_pattern_that_stops_at_modules_suggests_appending_double_star(namespace: Namespace) -> None:
    text = "phase a { thaw layers.0.attn.* }\n"
    diagnostic = single(run(text, namespace), "E101")
    assert "matches modules (e.g. `layers.0.attn." in diagnostic.message
    fix = diagnostic.fixes[0]
    assert (fix.span, fix.new_text) == (Span(at(text, "*").end, at(text, "*").end), ".**")


def test_e101_for_an_exact_name_and_an_except(namespace: Namespace) -> None:
    text = 'phase a { thaw "head.weigth" }\nphase b { thaw layers.** except layers.9.** }\n'
    found = only(run(text, namespace), "E101")
    assert [d.span for d in found] == [at(text, '"head.weigth"'), at(text, "layers.9.**")]
    assert found[0].fixes[0].new_text == "head.weight"


def test_e102_malformed_pattern_and_regex(namespace: Namespace) -> None:
    text = 'phase a { thaw layers.{3..1}.** }\nphase b { thaw re"layers.(" }\n'
    found = only(run(text, namespace), "E102")
    assert found[0].span == at(text, "{3..1}")
    assert found[1].span.start >= at(text, "layers.(").start
    assert "invalid regex" in found[1].message


def test_e102_regexes_an_automaton_cannot_run_or_that_are_too_large(namespace: Namespace) -> None:
    text = (
        'phase a { thaw re"layers\\.(\\d)\\.\\1.*" }\nphase b { thaw re"layers\\.(?!0).*" }\n'
        'phase c { thaw re"a{99999999999}" }\n'
    )
    backreference, lookahead, repetition = only(run(text, namespace), "E102")
    assert (
        backreference.span.start == at(text, "\\1").start
        and "spell out the repeated text" in backreference.message
    )
    assert lookahead.span.start == at(text, "(?!").start and "`except`" in lookahead.message
    assert repetition.span.start == at(text, "{9").start and "larger than 1000" in repetition.message


def test_e102_a_catastrophic_regex_is_matched_not_refused(namespace: Namespace) -> None:
    text = 'phase a { thaw re"(.*)*weight" }\nphase b { thaw re"(.*)*x" }\n'
    result = run(text, namespace)
    assert len(result.matches[at(text, 're"(.*)*weight"')]) == len(NAMES) - 1  # all but head.bias
    assert single(result, "E101").span == at(text, 're"(.*)*x"')


def test_e102_lets_that_multiply_a_pattern_are_bounded(namespace: Namespace) -> None:
    """20 lets that each use the one before twice would be a million elements (28 s before the limit)."""
    lets = "".join(f"let a{i} = {{$a{i - 1},$a{i - 1}}}\n" for i in range(1, 21))
    text = f"let a0 = layers\n{lets}phase p {{ thaw $a20.** }}\n"
    found = only(run(text, namespace), "E102")
    assert len(found) == 1 and "the limit is 10,000" in found[0].message
    assert found[0].span == at(text, "{$a12,$a12}")  # `let a13`, past the limit; the later ones stay quiet


def test_e102_pattern_length_and_range_bounds(namespace: Namespace) -> None:
    stars = "*a" * 50_000
    text = f"phase p {{ thaw layers.{stars} }}\nphase q {{ thaw layers.{{0..{'9' * 19}}}.** }}\n"
    long, digits = only(run(text, namespace), "E102")
    assert long.span == at(text, f"layers.{stars}") and "100,007 characters long" in long.message
    assert "more than 18 digits" in digits.message


def test_i003_more_syntax_errors_than_are_shown(namespace: Namespace) -> None:
    text = "".join(f"phase p{index} {{ thaw head.*,, lr = }}\n" for index in range(150))
    result = run(text, namespace)
    errors = only(result, "E001")
    assert len(errors) == 100
    note = single(result, "I003")
    assert note.severity == Severity.INFORMATION and note.data["unreported"] == 50
    assert note.span.start > errors[-1].span.start  # where the unreported errors begin
    assert "50 more syntax errors" in note.message


def test_i003_more_diagnostics_than_a_file_shows(namespace: Namespace) -> None:
    text = "".join(f"phase p{index} {{ thaw head.weight }}\n" for index in range(1200))
    result = run(text, namespace)
    assert len(result.diagnostics) == 1000
    note = single(result, "I003")
    assert note.data["unreported"] == 1199 + 1 - 999  # 1199 E201 and a W208, 999 shown
    assert "(200 errors, 1 warning)" in note.message
    assert result.has_errors and result.plan is None


def test_e103_unbound_variable_with_did_you_mean(namespace: Namespace) -> None:
    text = "let layers = layers\nphase a { thaw $layrs.0.** }\n"
    diagnostic = single(run(text, namespace), "E103")
    assert diagnostic.span == at(text, "$layrs")
    assert "did you mean `$layers`" in diagnostic.message


def test_e104_let_bound_twice(namespace: Namespace) -> None:
    text = "let top = layers.2\nlet top = layers.1\nphase a { thaw $top.** }\n"
    diagnostic = single(run(text, namespace), "E104")
    assert diagnostic.span == at(text, "top", 2)
    assert diagnostic.related[0].span == at(text, "top", 1)


def test_w105_selector_that_adds_nothing(namespace: Namespace) -> None:
    text = "phase a { thaw layers.0.**, layers.0.attn.** }\nphase b { thaw rest }\n"
    diagnostic = single(run(text, namespace), "W105")
    assert diagnostic.span == at(text, "layers.0.attn.**")
    assert diagnostic.severity == Severity.WARNING


def test_w106_except_that_removes_nothing(namespace: Namespace) -> None:
    text = "phase a { thaw layers.0.** except layers.1.** }\nphase b { thaw rest }\n"
    diagnostic = single(run(text, namespace), "W106")
    assert diagnostic.span == at(text, "layers.1.**")


def test_e201_is_reported_once_on_the_later_phase_with_the_first_as_related(namespace: Namespace) -> None:
    text = "phase a { thaw head.* }\nphase b { thaw head.weight, norm.weight }\n"
    (found,) = only(run(text, namespace), "E201")
    assert found.span == at(text, "head.weight")
    assert found.related[0].span == at(text, "head.*")
    assert "already thawed by phase 0 `a`" in found.message


def test_e201_names_the_first_phase_for_each_later_one_not_every_pair(namespace: Namespace) -> None:
    """250 phases thawing one name are 249 conflicts (each later phase against the first), not 31,125 pairs."""
    text = "".join(f"phase p{index} {{ thaw head.weight }}\n" for index in range(250))
    found = only(run(text, namespace), "E201")
    assert len(found) == 249
    assert {d.related[0].span for d in found} == {at(text, "head.weight")}
    assert all("phase 0 `p0`" in d.message for d in found)


def test_e202_rest_twice(namespace: Namespace) -> None:
    text = "phase a { thaw rest }\nphase b { thaw rest }\n"
    diagnostic = single(run(text, namespace), "E202")
    assert diagnostic.span == at(text, "rest", 2)


def test_e203_optimizer_in_phase_0(namespace: Namespace) -> None:
    text = "phase a { thaw head.*\n optimizer = SGD(lr = 0.1) }\nphase b { thaw rest }\n"
    diagnostic = single(run(text, namespace), "E203")
    assert diagnostic.span == at(text, "optimizer")


def test_w204_lr_in_phase_0(namespace: Namespace) -> None:
    text = "phase a { thaw head.*\n lr = 1e-3 }\nphase b { thaw rest }\n"
    diagnostic = single(run(text, namespace), "W204")
    assert diagnostic.span == at(text, "lr")


def test_w205_until_epoch_not_after_an_earlier_phase(namespace: Namespace) -> None:
    text = "phase a { thaw head.*\n until epoch 5 }\nphase b { thaw norm.*\n until epoch 3 }\nphase c { thaw rest }\n"
    diagnostic = single(run(text, namespace), "W205")
    assert diagnostic.span == at(text, "3")
    assert diagnostic.related[0].span == at(text, "5")


def test_e206_epoch_transitions_only_needs_until_on_all_but_the_last(namespace: Namespace) -> None:
    text = (
        "defaults { epoch_transitions_only = true }\n"
        "phase a { thaw head.* }\nphase b { thaw norm.*\n until epoch 3 }\nphase c { thaw rest }\n"
    )
    diagnostic = single(run(text, namespace), "E206")
    assert diagnostic.span == at(text, "phase a")


def test_w207_phase_that_thaws_nothing(namespace: Namespace) -> None:
    text = "phase a { thaw head.* }\nphase empty { until epoch 2 }\nphase c { thaw rest }\n"
    diagnostic = single(run(text, namespace), "W207")
    assert diagnostic.span == at(text, "phase empty")


def test_w208_never_thawed_on_the_last_phase_header(namespace: Namespace) -> None:
    text = "phase a { thaw head.* }\nphase b { thaw norm.weight }\n"
    diagnostic = single(run(text, namespace), "W208")
    assert diagnostic.span == at(text, "phase b")
    assert diagnostic.message.startswith(f"{len(NAMES) - 3} parameters are never thawed")


def test_e209_duplicate_phase_name(namespace: Namespace) -> None:
    text = 'phase head { thaw head.* }\nphase "head" { thaw rest }\n'
    diagnostic = single(run(text, namespace), "E209")
    assert diagnostic.span == at(text, '"head"')
    assert diagnostic.related[0].span == at(text, "head")


def test_e301_unknown_setting_knows_fts_keys_and_typos(namespace: Namespace) -> None:
    text = (
        "defaults { restore_bset = true }\n"
        "phase a { thaw head.*\n max_transition_epoch = 3 }\nphase b { thaw rest\n restore_best = false }\n"
    )
    found = only(run(text, namespace), "E301")
    assert [d.span for d in found] == [
        at(text, "restore_bset"),
        at(text, "max_transition_epoch"),
        at(text, "restore_best"),
    ]
    assert "did you mean `restore_best`" in found[0].message
    assert "`until epoch N`" in found[1].message
    assert "belongs in `defaults`" in found[2].message


def test_e301_unknown_key_of_a_table_setting(namespace: Namespace) -> None:
    text = 'defaults { early_stopping = { monitr = "val_loss" } }\nphase a { thaw rest }\n'
    diagnostic = single(run(text, namespace), "E301")
    assert diagnostic.span == at(text, "monitr")
    assert "did you mean `monitor`" in diagnostic.message


def test_e302_wrong_type_or_out_of_range(namespace: Namespace) -> None:
    text = 'defaults { lr = -1\n restore_best = "yes" }\nphase a { thaw rest\n until epoch 1.5 }\n'
    found = only(run(text, namespace), "E302")
    assert [d.span for d in found] == [at(text, "-1"), at(text, '"yes"'), at(text, "1.5")]


def test_e303_class_not_found_with_did_you_mean(namespace: Namespace) -> None:
    text = "phase a { thaw head.* }\nphase b { thaw rest\n optimizer = AdamWW(lr = 1e-3) }\n"
    diagnostic = single(run(text, namespace), "E303")
    assert diagnostic.span == at(text, "AdamWW")
    assert "`AdamW`" in diagnostic.message


def test_e304_arguments_that_do_not_fit(namespace: Namespace) -> None:
    text = (
        "phase a { thaw head.* }\n"
        "phase b { thaw rest\n optimizer = AdamW(weight_decy = 0.1)\n lr_scheduler = StepLR(gamma = 0.5) }\n"
    )
    found = only(run(text, namespace), "E304")
    assert [d.span for d in found] == [at(text, "weight_decy"), at(text, "StepLR")]
    assert "did you mean `weight_decay`" in found[0].message
    assert "requires `step_size`" in found[1].message


def test_w305_untested_scheduler_and_allow_untested(namespace: Namespace) -> None:
    body = "phase a { thaw head.* }\nphase b { thaw rest\n lr_scheduler = OneCycleLR(max_lr = 0.1, total_steps = 10) }\n"
    diagnostic = single(run(body, namespace), "W305")
    assert diagnostic.span == at(body, "OneCycleLR")
    allowed = run("defaults { allow_untested = true }\n" + body, namespace)
    assert not [d for d in allowed.diagnostics if d.code == "W305"]


def test_e306_reduce_on_plateau_needs_a_monitor(namespace: Namespace) -> None:
    text = "phase a { thaw head.* }\nphase b { thaw rest\n lr_scheduler = ReduceLROnPlateau(patience = 1) }\n"
    diagnostic = single(run(text, namespace), "E306")
    assert diagnostic.span == at(text, "ReduceLROnPlateau(patience = 1)")
    fixed = text.replace("patience = 1)", 'patience = 1)\n lr_scheduler_config = { monitor = "val_loss" }')
    assert not [d for d in run(fixed, namespace).diagnostics if d.code == "E306"]


def test_e307_scheduler_the_runtime_cannot_carry(
    namespace: Namespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The runtime carries every scheduler of torch 2.13; one dropped from its table plays a class a later torch adds.
    monkeypatch.setattr(optim, "RUNTIME_LR_SCHEDULERS", optim.RUNTIME_LR_SCHEDULERS - {"CyclicLR"})
    cyclic = "CyclicLR(base_lr = 0.001, max_lr = 0.01)"
    text = f"phase a {{ thaw head.* }}\nphase b {{ thaw rest\n lr_scheduler = {cyclic} }}\n"
    diagnostic = single(run(text, namespace), "E307")
    assert diagnostic.span == at(text, "CyclicLR")
    assert diagnostic.message.startswith("`CyclicLR` cannot continue across phase transitions")
    assert "`OneCycleLR`" in diagnostic.message  # the way out: the schedulers the runtime carries
    untested = f"defaults {{ allow_untested = true\n lr_scheduler = {cyclic} }}\nphase a {{ thaw head.* }}\nphase b {{ thaw rest }}\n"
    assert single(run(untested, namespace), "E307").span == at(untested, "CyclicLR")  # not silenced
    nested = text.replace(
        cyclic, f"SequentialLR(schedulers = [StepLR(step_size = 1), {cyclic}], milestones = [2])"
    )
    assert single(run(nested, namespace), "E307").span == at(nested, "CyclicLR")


def test_schedulers_inside_a_sequential_lr_are_checked_as_schedulers(namespace: Namespace) -> None:
    inner = "[LinearLR(total_iters = 2), StepLr(step_size = 1), ReduceLROnPlateau(), 0.5, ExponentialLR()]"
    text = f"phase a {{ thaw head.* }}\nphase b {{ thaw rest\n lr_scheduler = SequentialLR(schedulers = {inner}, milestones = [1, 2, 3, 4]) }}\n"
    result = run(text, namespace)
    found = [(d.code, d.span) for d in result.diagnostics if d.code != "W305"]
    assert found == [
        ("E303", at(text, "StepLr")),
        ("E304", at(text, "ReduceLROnPlateau")),
        ("E304", at(text, "0.5")),
        ("E304", at(text, "ExponentialLR")),
    ]
    messages = [d.message for d in result.diagnostics]
    assert any("did you mean `StepLR`" in m for m in messages)
    assert any("cannot step `ReduceLROnPlateau`, which needs a metric" in m for m in messages)
    fixed = text.replace("StepLr", "StepLR").replace(
        "ReduceLROnPlateau(), 0.5, ExponentialLR()", "ExponentialLR(gamma = 0.5)"
    )
    fixed = fixed.replace("[1, 2, 3, 4]", "[1, 2]")
    assert [d.code for d in run(fixed, namespace).diagnostics] == ["W305"]


def test_e401_missing_namespace_file(tmp_path: Path) -> None:
    text = 'use namespace "nowhere.json"\nphase a { thaw rest }\n'
    schedule = tmp_path / "s.fts"
    schedule.write_text(text)
    result = compile_file(text, schedule)
    diagnostic = single(result, "E401")
    assert diagnostic.span == at(text, '"nowhere.json"')
    assert "ftsc namespace export" in diagnostic.message
    assert result.plan is None


def test_e402_unknown_adapter_and_unknown_option(namespace: Namespace) -> None:
    text = "use adapter defualt\nphase a { thaw rest }\n"
    diagnostic = single(run(text, namespace), "E402")
    assert diagnostic.span == at(text, "defualt")
    assert "did you mean `default`" in diagnostic.message
    text = "use adapter default { wrap = 1 }\nphase a { thaw rest }\n"
    assert single(run(text, namespace), "E402").span == at(text, "wrap")


def test_e403_flat_parameter_fsdp_unit_split_across_phases(namespace: Namespace) -> None:
    text = (
        'use adapter fsdp { auto_wrap = ["layers.*"], use_orig_params = false }\n'
        "phase a { thaw layers.0.attn.** }\nphase b { thaw rest }\n"
    )
    found = only(run(text, namespace), "E403")
    assert [d.span for d in found] == [at(text, "layers.0.attn.**"), at(text, "rest")]
    assert "FSDP unit `layers.0`" in found[0].message


class _TiedHead(StrategyAdapter):
    """Presents `head.weight` under a second name too, `lm_head.weight` (a tied output layer)."""

    name = "tied-head"

    def schedule_namespace(self, namespace: Namespace) -> Namespace:
        return Namespace.from_names([*namespace.names, "lm_head.weight"], model=namespace.model)

    def to_canonical(self, schedule_name: str) -> tuple[str, ...]:
        return ("head.weight",) if schedule_name == "lm_head.weight" else (schedule_name,)


def test_w210_a_thaw_takes_along_a_name_sharing_its_tensor(namespace: Namespace) -> None:
    text = "phase a { thaw head.* }\nphase b { thaw embed.weight, layers.** }\n"
    result = compile_schedule(text, namespace, adapter=_TiedHead())
    diagnostic = single(result, "W210")
    assert diagnostic.span == at(text, "head.*")
    assert "`lm_head.weight`, which it does not select" in diagnostic.message
    assert result.plan is not None


# A LoRA model as peft builds it: base weights frozen, adapters (and a `modules_to_save` head) trainable.
LORA_NAMES = [
    ("embed.weight", False),
    *(
        (f"layers.{layer}.attn.{part}", part.startswith("q.lora") or part.startswith("v.lora"))
        for layer in range(3)
        for part in (
            "q.base_layer.weight", "q.lora_A.default.weight", "q.lora_B.default.weight",
            "v.base_layer.weight", "v.lora_A.default.weight", "v.lora_B.default.weight",
            "o.weight", "norm.weight",
        )
    ),
    ("head.original_module.weight", False),
    ("head.modules_to_save.default.weight", True),
]  # fmt: skip


@pytest.fixture(scope="module")
def lora_namespace() -> Namespace:
    return Namespace([ParameterInfo(name, (4, 4), "float32", grad) for name, grad in LORA_NAMES])


def test_w211_a_thaw_that_sweeps_base_weights_of_a_lora_model_in(lora_namespace: Namespace) -> None:
    text = (
        "phase a { thaw layers.2.** }\nphase b { thaw layers.{0..1}.**.lora_*.** }\nphase c { thaw rest }\n"
    )
    result = run(text, lora_namespace)
    first, rest = only(result, "W211")
    assert first.span == at(text, "layers.2.**")
    assert first.message.startswith(
        "`layers.2.**` in phase 0 `a` thaws 4 parameters (64 elements) that the model builds frozen, "
        "e.g. `layers.2.attn.q.base_layer.weight`: peft froze the base weights"
    )
    assert "`**.lora_*.**`" in first.message and "name them in a selector of their own" in first.message
    assert rest.span == at(text, "rest")  # the frozen rest: embed, layers 0-1 (4 each), the original head
    assert "thaws 10 parameters" in rest.message
    assert result.plan is not None  # a warning: the schedule still compiles


def test_w211_not_for_frozen_parameters_named_on_purpose(lora_namespace: Namespace) -> None:
    text = (
        "phase adapters { thaw **.lora_*.**, head.modules_to_save.** }\n"
        "phase norms { thaw layers.*.attn.norm.weight }\n"
    )
    result = run(text, lora_namespace)
    assert [d.code for d in result.diagnostics] == []  # nor W208 for the base weights left frozen


def test_w211_points_at_peft_s_trained_copy_of_a_head(lora_namespace: Namespace) -> None:
    text = "phase a { thaw head.**, **.lora_*.** }\n"
    diagnostic = single(run(text, lora_namespace), "W211")
    assert diagnostic.span == at(text, "head.**")
    assert (
        "peft keeps `original_module` frozen and trains its copy under `modules_to_save`"
        in diagnostic.message
    )


def test_w208_still_counts_adapters_never_thawed(lora_namespace: Namespace) -> None:
    text = "phase a { thaw layers.2.**.lora_*.** }\n"
    diagnostic = single(run(text, lora_namespace), "W208")
    assert diagnostic.message.startswith("9 parameters are never thawed")  # 8 adapters and the trained head
    assert diagnostic.message.endswith(
        "the model builds them trainable: thaw them in a phase if that is not intended"
    )


def test_e101_adapters_of_a_module_peft_did_not_wrap(lora_namespace: Namespace) -> None:
    text = "phase a { thaw layers.1.attn.o.lora_A.** }\n"
    diagnostic = single(run(text, lora_namespace), "E101")
    assert diagnostic.message == (
        "`layers.1.attn.o.lora_A.**` matches no parameter of the namespace; `layers.1.attn.o` has no LoRA "
        "adapter: peft wrapped 6 modules named `q`, `v` (e.g. `layers.0.attn.q`); add the module to "
        "`target_modules` (or `layers_to_transform`) in the adapter config and export the namespace again, "
        "or select adapters that exist, e.g. `**.{q,v}.lora_*.**`"
    )


def test_e101_adapters_in_a_namespace_without_any(namespace: Namespace) -> None:
    diagnostic = single(run("phase a { thaw layers.*.attn.q_proj.lora_A.** }\n", namespace), "E101")
    assert "this namespace has no LoRA adapters" in diagnostic.message
    assert "--peft-config adapter_config.json" in diagnostic.message


def test_i404_without_a_namespace_other_checks_still_run() -> None:
    text = "phase a { thaw head.*\n optimizer = SGD(lr = 1) }\n"
    result = run(text, None)
    assert single(result, "I404").severity == Severity.INFORMATION
    assert single(result, "E203").span == at(text, "optimizer")
    assert result.plan is None


# -- names across the LightningModule seam (`model.` added or dropped) ---------------------------------------

WRAPPED = Namespace.from_names([f"model.{name}" for name in NAMES], model="toy in a LightningModule")


def test_e101_suggests_the_namespaces_leading_segments_and_i107_says_every_selector_misses_so() -> None:
    text = 'use namespace "toy.json"\nphase a { thaw head.* }\nphase b { thaw "norm.weight", layers.{0..1}.** }\n'
    result = run(text, WRAPPED)
    misses = only(result, "E101")
    assert [d.message.split("; ")[1] for d in misses] == [
        "did you mean `model.head.*`? (every name of the namespace starts with `model.`)",
        'did you mean `"model.norm.weight"`? (every name of the namespace starts with `model.`)',
        "did you mean `model.layers.{0..1}.**`? (every name of the namespace starts with `model.`)",
    ]
    start = at(text, "head.*").start
    assert misses[0].fixes[0].new_text == "model." and misses[0].fixes[0].span == Span(start, start)
    note = single(result, "I107")
    assert note.severity == Severity.INFORMATION
    assert note.span == at(text, 'use namespace "toy.json"')
    assert note.message.startswith("all 3 selectors match once `model.` is put in front")
    assert 'use namespace "…" at model' in note.message


def test_e101_suggests_dropping_leading_segments_the_namespace_lacks(namespace: Namespace) -> None:
    text = "phase a { thaw model.head.* }\nphase b { thaw rest }\n"
    diagnostic = single(run(text, namespace), "E101")
    assert "did you mean `head.*`? (no name of the namespace starts with `model.`)" in diagnostic.message
    fix = diagnostic.fixes[0]
    assert fix.span == at(text, "model.") and fix.new_text == ""
    note = single(run(text, namespace), "I107")
    assert "once `model.` is dropped" in note.message


def test_no_shift_that_leaves_only_wildcards(namespace: Namespace) -> None:
    diagnostic = single(run("phase a { thaw lit.** }\n", namespace), "E101")
    assert "did you mean" not in diagnostic.message and not diagnostic.fixes


def test_no_i107_while_some_selector_matches_as_written() -> None:
    text = "phase a { thaw head.* }\nphase b { thaw model.norm.weight }\n"
    result = run(text, WRAPPED)
    assert len(only(result, "E101")) == 1
    assert not [d for d in result.diagnostics if d.code == "I107"]


def test_at_puts_the_prefix_in_the_plan_and_a_bad_one_is_e302(namespace: Namespace) -> None:
    result = run('use namespace "toy.json" at model.backbone\n' + CLEAN, namespace)
    assert result.plan is not None and result.plan["namespace"]["prefix"] == "model.backbone"  # type: ignore[index]
    assert run(CLEAN, namespace).plan["namespace"]["prefix"] == ""  # type: ignore[index]
    text = 'use namespace "toy.json" at "model..x"\n' + CLEAN
    diagnostic = single(run(text, namespace), "E302")
    assert diagnostic.span == at(text, '"model..x"') and "is not a module path" in diagnostic.message


@pytest.mark.parametrize(
    ("written", "mistake", "suggestion"),
    [
        ("layers.[1-2].**", "`[1-2]` is a regex character class", "layers.{1..2}.**"),
        ("layers.[12].**", "`[12]` is a regex character class", "layers.{1,2}.**"),
        ("layers.1..2.**", "`1..2` is a range without braces", "layers.{1..2}.**"),
        ("layers.(1|2).**", "`(1|2)` is a regex alternation", "layers.{1,2}.**"),
        ("layers.[0-9]+.**", "`[0-9]+` is a regex for any number", "layers.{0..}.**"),
        ("layers.0.attn.(q|k)_proj.*", "`(q|k)` is a regex alternation", "layers.0.attn.{q,k}_proj.*"),
    ],
)
def test_range_spellings_of_other_tools_are_one_e102_with_the_pattern_spelling(
    namespace: Namespace, written: str, mistake: str, suggestion: str
) -> None:
    text = f"phase a {{ thaw {written} }}\nphase b {{ thaw rest }}\n"
    result = run(text, namespace)
    assert [d.code for d in result.diagnostics if d.is_error] == ["E102"]
    diagnostic = result.diagnostics[0]
    assert diagnostic.message.startswith(mistake) and f"write `{suggestion}`" in diagnostic.message
    assert diagnostic.span == at(text, written)
    fixed = text.replace(written, diagnostic.fixes[0].new_text)
    original = run(f"phase a {{ thaw {suggestion} }}\nphase b {{ thaw rest }}\n", namespace)
    assert original.plan is not None
    assert run(fixed, namespace).plan == original.plan


@pytest.mark.parametrize(("value", "bare"), [('"2e-4"', "2e-4"), ('" 0.1"', "0.1")])
def test_a_quoted_number_is_e302_saying_to_drop_the_quotes(
    namespace: Namespace, value: str, bare: str
) -> None:
    text = f"defaults {{ lr = {value} }}\n{CLEAN}"
    diagnostic = single(run(text, namespace), "E302")
    assert f"drop the quotes: `lr = {bare}`" in diagnostic.message
    assert diagnostic.fixes[0].new_text == bare and diagnostic.fixes[0].span == at(text, value)
    assert (
        "drop the quotes"
        not in single(run(f'defaults {{ lr = "fast" }}\n{CLEAN}', namespace), "E302").message
    )


# -- the memory check (E701, W702, I703) ------------------------------------------------------------------

SIZED = Namespace(
    [
        ParameterInfo("embed.weight", (1000, 256), "float32"),
        ParameterInfo("body.weight", (256, 256), "float32"),
        ParameterInfo("head.weight", (2, 256), "float32"),
    ],
    model="sized",
)
MEMORY_SCHEDULE = """defaults {{ memory = {{ device_memory = "{limit}", activations = "{activations}", optimizer = Adam() }} }}
phase head {{ thaw head.* until epoch 1 }}
phase body {{ thaw body.* until epoch 2 }}
phase rest {{ thaw rest }}
"""
# fp32 weights: 322,048 elements = 1,288,192 bytes; phase `rest` trains all of them: + gradients + two Adam
# moments + three 4-byte steps = 4 x 1,288,192 + 12 = 5,152,780 bytes (4.91 MiB) of model states


def test_e701_model_states_exceed_the_device_memory() -> None:
    text = MEMORY_SCHEDULE.format(limit="5000000", activations="0")
    result = compile_schedule(text, SIZED)
    diagnostic = single(result, "E701")
    assert diagnostic.span == at(text, "phase rest")
    assert "needs 4.91 MiB of model states per device" in diagnostic.message
    assert result.plan is None  # a phase that cannot fit fails the compile


def test_w702_the_activation_allowance_tips_the_first_phase_over() -> None:
    text = MEMORY_SCHEDULE.format(limit="5.2MB", activations="100000")
    result = compile_schedule(text, SIZED)
    diagnostic = single(result, "W702")
    assert diagnostic.span == at(text, "phase rest")
    assert "tips it over" in diagnostic.message
    assert result.plan is not None and not any(d.code == "E701" for d in result.diagnostics)
    fits = compile_schedule(MEMORY_SCHEDULE.format(limit="5.3MB", activations="100000"), SIZED)
    assert not [d for d in fits.diagnostics if d.code in ("E701", "W702")]
    assert fits.memory is not None and fits.memory.phases[-1].peak.states == 5_152_780


def test_i703_memory_that_cannot_be_estimated_is_said(namespace: Namespace) -> None:
    text = (
        'defaults { memory = { device_memory = "80GiB" } }\nphase a { thaw head.* }\nphase b { thaw rest }\n'
    )
    no_shapes = single(compile_schedule(text, namespace), "I703")  # a namespace of bare names
    assert "no shape" in no_shapes.message and no_shapes.span == at(text, "memory")
    lbfgs = compile_schedule(
        text.replace("phase b { thaw rest }", "phase b { thaw rest optimizer = LBFGS() }"), SIZED
    )
    messages = [d.message for d in only(lbfgs, "I703")]
    assert any("phase 0's optimizer" in m for m in messages)
    assert any("`LBFGS` is not modelled" in m and "whole optimizer" in m for m in messages)
