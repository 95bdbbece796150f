"""What schedules mean: `rest` and `except`, settings inheritance, and one diagnostic per mistake."""

from __future__ import annotations

import pytest

from ftsc.compiler.compile import CompileResult, compile_schedule
from ftsc.compiler.namespace import Namespace
from ftsc.grammar.parser import parse

NAMES = ["a.x", "a.y", "b.x", "b.y", "layers.0.w", "layers.3.w", "layers.11.w", "layers.12.w", "head.w"]


@pytest.fixture(scope="module")
def namespace() -> Namespace:
    return Namespace.from_names(NAMES)


def codes(result: CompileResult) -> list[str]:
    return [d.code for d in result.diagnostics]


def params(result: CompileResult) -> list[list[str]]:
    assert result.plan is not None, [(d.code, d.message) for d in result.diagnostics]
    phases = result.plan["phases"]
    assert isinstance(phases, list)
    return [phase["params"] for phase in phases]


def test_except_applies_to_every_selector_of_its_statement_rest_included(namespace: Namespace) -> None:
    result = compile_schedule(
        "phase p { thaw head.w }\nphase q { thaw a.*, rest except a.x, b.y }", namespace
    )
    assert codes(result) == ["W208"]
    assert params(result)[1] == ["a.y", "b.x", "layers.0.w", "layers.3.w", "layers.11.w", "layers.12.w"]


def test_except_rest_is_an_error_not_a_crash(namespace: Namespace) -> None:
    result = compile_schedule("phase p { thaw a.* except rest }", namespace)
    assert "E102" in codes(result)
    assert result.plan is None


def test_a_schedule_without_phases_is_an_error(namespace: Namespace) -> None:
    text = "fts 1\nlet x = a\n"
    result = compile_schedule(text, namespace)
    assert codes(result) == ["E001"]
    assert result.diagnostics[0].span.start == len(text)
    assert result.plan is None


def test_a_phase_scheduler_takes_the_defaults_config(namespace: Namespace) -> None:
    text = (
        'defaults { lr_scheduler_config = { monitor = "val_loss", interval = "epoch" } }\n'
        "phase p { thaw head.w }\nphase q { thaw rest\n lr_scheduler = ReduceLROnPlateau(patience = 1) }\n"
    )
    result = compile_schedule(text, namespace)
    assert codes(result) == []
    assert result.plan is not None
    phases = result.plan["phases"]
    assert isinstance(phases, list)
    assert phases[1]["lr_scheduler"]["config"] == {"monitor": "val_loss", "interval": "epoch"}


def test_a_scheduler_config_without_a_scheduler_is_reported(namespace: Namespace) -> None:
    phase_level = "phase p { thaw head.w }\nphase q { thaw rest\n lr_scheduler_config = { frequency = 2 } }\n"
    assert "E302" in codes(compile_schedule(phase_level, namespace))
    defaults_level = 'defaults { lr_scheduler_config = { monitor = "m" } }\nphase p { thaw rest }\n'
    assert codes(compile_schedule(defaults_level, namespace)) == ["E302"]


def test_reinitialisation_settings_are_refused_in_phase_0(namespace: Namespace) -> None:
    result = compile_schedule("phase p { thaw rest\n init_pg_lrs = [0.1] }", namespace)
    assert codes(result) == ["E203"]


def test_phase_0_lr_is_ignored_in_the_plan(namespace: Namespace) -> None:
    result = compile_schedule(
        "phase p { thaw head.w\n lr = 0.1 }\nphase q { thaw rest\n lr = 0.2 }", namespace
    )
    assert codes(result) == ["W204"]
    assert result.plan is not None
    phases = result.plan["phases"]
    assert isinstance(phases, list)
    assert [phase["lr"] for phase in phases] == [None, 0.2]


@pytest.mark.parametrize("header", ["fts 1.0", "fts +1", "fts 01", "fts 1e0", "fts 2"])
def test_the_header_must_be_exactly_1(namespace: Namespace, header: str) -> None:
    assert "E002" in codes(compile_schedule(f"{header}\nphase p {{ thaw rest }}", namespace))


def test_w105_looks_across_the_statements_of_a_phase(namespace: Namespace) -> None:
    text = "phase p { thaw a.*\n thaw a.x }\nphase q { thaw rest }"
    assert codes(compile_schedule(text, namespace)) == ["W105"]
    readded = "phase p { thaw a.* except a.x\n thaw a.x }\nphase q { thaw rest }"
    assert codes(compile_schedule(readded, namespace)) == []


def test_a_range_can_be_an_alternative(namespace: Namespace) -> None:
    result = compile_schedule("phase p { thaw layers.{0..3,12}.w }\nphase q { thaw rest }", namespace)
    assert params(result)[0] == ["layers.0.w", "layers.3.w", "layers.12.w"]


def test_one_mistake_one_diagnostic(namespace: Namespace) -> None:
    result = compile_schedule("phase p { thaw a.x b.x }\nphase q { thaw rest }", namespace)
    assert codes(result) == ["E001"]
    assert "missing `,` before `b.x`" in result.diagnostics[0].message
    invalid_until = "defaults { epoch_transitions_only = true }\nphase p { thaw a.*\n until epoch 2.5 }\nphase q { thaw rest }"
    assert codes(compile_schedule(invalid_until, namespace)) == ["E302"]


def test_consecutive_broken_settings_are_each_reported() -> None:
    text = "defaults {\n lr = ]\n max_depth = ]\n restore_best = ]\n}\nphase p { thaw x }\n"
    errors = [d for d in parse(text).diagnostics if d.code == "E001"]
    assert [text.count("\n", 0, d.span.start) for d in errors] == [1, 2, 3]


def test_let_cannot_bind_a_regex() -> None:
    diagnostics = parse('let g = re"a.*"\nphase p { thaw $g }').diagnostics
    assert "`let` binds a pattern" in diagnostics[0].message


def test_blank_phase_names_base_classes_and_save_last_link(namespace: Namespace) -> None:
    assert "E302" in codes(compile_schedule('phase "" { thaw rest }', namespace))
    base = "phase p { thaw head.w }\nphase q { thaw rest\n optimizer = Optimizer() }"
    diagnostic = next(d for d in compile_schedule(base, namespace).diagnostics if d.code == "E303")
    assert "base class" in diagnostic.message
    link = 'defaults { checkpoint = { save_last = "link" } }\nphase p { thaw rest }'
    assert codes(compile_schedule(link, namespace)) == []


def test_a_tied_parameter_s_other_name_points_at_the_listed_one() -> None:
    from ftsc.compiler.namespace import ParameterInfo

    tied = Namespace(
        [ParameterInfo("embed.weight"), ParameterInfo("head.bias")], aliases={"head.weight": "embed.weight"}
    )
    for selector in ("head.weight", '"head.weight"'):
        result = compile_schedule(f"phase p {{ thaw {selector} }}\nphase q {{ thaw rest }}", tied)
        diagnostic = next(d for d in result.diagnostics if d.code == "E101")
        assert "tied parameter `embed.weight`" in diagnostic.message
        assert diagnostic.fixes[0].new_text == "embed.weight"


def test_a_keyword_glued_to_a_selector_is_explained(namespace: Namespace) -> None:
    result = compile_schedule("phase p { thawa.* }\nphase q { thaw rest }", namespace)
    assert codes(result) == ["E301", "E001"]
    assert "did you mean `thaw a…` (a space is missing)" in result.diagnostics[0].message
