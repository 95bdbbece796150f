"""Every diagnostic code of the language reference, shown at the right place."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftsc.adapters import StrategyAdapter
from ftsc.codes import CODES
from ftsc.compiler import optim
from ftsc.compiler.compile import CompileResult, compile_schedule
from ftsc.compiler.files import compile_file
from ftsc.compiler.namespace import Namespace, ParameterInfo
from ftsc.compiler.schema import validate_plan_data
from ftsc.diagnostics import Diagnostic, Severity, Span

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


def test_every_code_has_a_test_here() -> None:
    source = Path(__file__).read_text(encoding="utf-8")
    # 5xx: `import-fts`, tested in tests/fts; 6xx: versioned formats, tested in tests/migrations
    language = [code for code in CODES if not 500 <= int(code[1:]) < 700]
    missing = [code for code in language if f'"{code}"' not in source]
    assert missing == []


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


def test_e201_reports_both_sites_with_related_information(namespace: Namespace) -> None:
    text = "phase a { thaw head.* }\nphase b { thaw head.weight, norm.weight }\n"
    found = only(run(text, namespace), "E201")
    assert [d.span for d in found] == [at(text, "head.*"), at(text, "head.weight")]
    assert found[0].related[0].span == at(text, "head.weight")
    assert found[1].related[0].span == at(text, "head.*")
    assert "phase 1 `b`" in found[0].message and "phase 0 `a`" in found[1].message


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


def test_i404_without_a_namespace_other_checks_still_run() -> None:
    text = "phase a { thaw head.*\n optimizer = SGD(lr = 1) }\n"
    result = run(text, None)
    assert single(result, "I404").severity == Severity.INFORMATION
    assert single(result, "E203").span == at(text, "optimizer")
    assert result.plan is None


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
