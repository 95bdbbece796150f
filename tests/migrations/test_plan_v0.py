"""The plan 0 → 1 step (`plan_0_to_1`): the pre-release layout to the version 1 schema."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from random import Random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from migrations_support import DATA, to_v0, to_v1, v1_plans

from ftsc.compiler.files import compile_file
from ftsc.compiler.schema import validate_plan_data
from ftsc.migrations import MigrationError, upgrade
from ftsc.migrations.plan_v0 import plan_0_to_1
from ftsc.migrations.plan_v1 import plan_1_to_2

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return data


def test_the_v0_fixture_becomes_the_v1_fixture() -> None:
    old, expected = load("plan-v0.json"), load("plan-v1.json")
    upgraded = plan_0_to_1(old)
    assert upgraded == expected
    assert validate_plan_data(plan_1_to_2(upgraded)) == []
    assert list(upgraded) == list(expected)  # version 1's key order, as `ftsc compile` writes it
    assert list(upgraded["phases"][1]) == list(expected["phases"][1])


def test_what_the_step_changes() -> None:
    upgraded = plan_0_to_1(load("plan-v0.json"))
    assert upgraded["plan_version"] == 1 and "version" not in upgraded
    assert "fingerprint" not in upgraded
    assert upgraded["namespace"]["fingerprint"].startswith("sha256:0bee05")
    assert [phase["index"] for phase in upgraded["phases"]] == [0, 1]
    assert upgraded["phases"][0]["max_transition_epoch"] == 1  # kept where given
    assert upgraded["phases"][1]["max_transition_epoch"] == -1  # absent: FTS's "none"
    assert upgraded["ftsc_version"] == "0.0.9"  # still says which ftsc compiled it


def test_phase_keys_are_ordered_by_number_not_text() -> None:
    old = load("plan-v0.json")
    phases = old["phases"]
    many = {str(index): {**phases["1"], "name": f"p{index}", "params": []} for index in range(11, 0, -1)}
    old["phases"] = {**many, "0": phases["0"]}  # "11", "10", …, "1", "0": text order would put "10" first
    upgraded = plan_0_to_1(old)
    assert [phase["index"] for phase in upgraded["phases"]] == list(range(12))
    assert [phase["name"] for phase in upgraded["phases"]] == ["head", *(f"p{i}" for i in range(1, 12))]


def test_the_step_never_mutates_its_input() -> None:
    old = load("plan-v0.json")
    before = copy.deepcopy(old)
    plan_0_to_1(old)
    assert old == before


DELETE = object()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"phases": [{"name": "a"}]}, 'phases: expected an object keyed "0", "1", … in a version 0 plan'),
        ({"phases": {"0": {}, "one": {}}}, 'phases: key "one" is not a phase index'),
        ({"phases": {"0": {}, "01": {}}}, 'phases: key "01" is not a phase index'),
        ({"phases": {"0": {}, "2": {}}}, "phases: the keys must be 0 to 1 with none missing, got 0, 2"),
        ({"phases": {"0": "head"}}, 'phases["0"]: expected an object, got "head"'),
        ({"phases": {"0": {"index": 0}}}, 'phases["0"]: a version 0 phase has no "index"'),
        ({"fingerprint": DELETE}, "fingerprint: missing; a version 0 plan has the namespace fingerprint"),
        ({"namespace": "tiny"}, 'namespace: expected an object, got "tiny"'),
    ],
)
def test_a_file_not_in_the_v0_layout_is_refused_with_its_place(change: dict[str, Any], message: str) -> None:
    old = {key: value for key, value in {**load("plan-v0.json"), **change}.items() if value is not DELETE}
    with pytest.raises(MigrationError) as caught:
        plan_0_to_1(old)
    assert caught.value.code == "E603"
    assert caught.value.message.startswith(message)
    assert caught.value.message.endswith("fix the file or compile the schedule again")


@settings(max_examples=100, deadline=None)
@given(v1_plans(), st.randoms(use_true_random=False))
def test_upgrading_the_v0_form_of_any_plan_gives_that_plan_back(plan: dict[str, Any], rng: Random) -> None:
    assert validate_plan_data(plan_1_to_2(plan)) == []  # the strategy makes only valid version 1 plans
    old = to_v0(plan)
    keys = list(old["phases"])
    rng.shuffle(keys)  # an object's key order means nothing: the numbers give the order
    old["phases"] = {key: old["phases"][key] for key in keys}
    old = json.loads(json.dumps(old))  # through JSON text, as a file would be read
    upgraded, steps = upgrade("plan", old)
    assert upgraded == plan_1_to_2(plan)
    assert [step.function for step in steps] == [plan_0_to_1, plan_1_to_2]


@pytest.mark.parametrize("schedule", sorted(EXAMPLES.glob("*.fts")), ids=lambda path: path.stem)
def test_the_v0_form_of_each_compiled_example_upgrades_to_its_plan(schedule: Path) -> None:
    plan = compile_file(schedule.read_text(encoding="utf-8"), schedule).plan
    assert plan is not None
    upgraded, _ = upgrade("plan", json.loads(json.dumps(to_v0(to_v1(plan)))))
    assert upgraded == plan_1_to_2(to_v1(plan))
