"""The plan 1 → 2 step (`plan_1_to_2`): `namespace.prefix`, `elements` and `frozen_elements` added."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from migrations_support import DATA, v1_plans

from ftsc.compiler.plan import plan_fingerprint
from ftsc.compiler.schema import validate_plan_data
from ftsc.migrations import MigrationError, upgrade
from ftsc.migrations.plan_v1 import plan_1_to_2


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return data


def test_the_v1_fixture_becomes_the_v2_fixture_in_the_compiled_key_order() -> None:
    upgraded = plan_1_to_2(load("plan-v1.json"))
    expected = load("plan-v2.json")
    assert upgraded == expected and validate_plan_data(upgraded) == []
    assert list(upgraded)[-2:] == ["frozen", "frozen_elements"]
    assert list(upgraded["phases"][0])[:4] == ["index", "name", "params", "elements"]
    assert upgraded["namespace"]["prefix"] == "" and upgraded["frozen_elements"] is None


@settings(max_examples=50, deadline=None)
@given(v1_plans())
def test_any_v1_plan_upgrades_to_a_valid_plan_with_the_same_fingerprint(plan: dict[str, Any]) -> None:
    before = copy.deepcopy(plan)
    upgraded, steps = upgrade("plan", json.loads(json.dumps(plan)))
    assert [step.function for step in steps] == [plan_1_to_2]
    assert validate_plan_data(upgraded) == []
    assert plan_fingerprint(upgraded) == plan_fingerprint(plan)  # checkpoints of v1 plans still resume
    assert all(phase["elements"] is None for phase in upgraded["phases"])
    assert plan == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"namespace": "x"}, 'namespace: expected an object, got "x"'),
        ({"phases": {}}, "phases: expected a list"),
    ],
)
def test_a_file_not_in_the_v1_layout_is_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(MigrationError) as caught:
        plan_1_to_2({**load("plan-v1.json"), **change})
    assert caught.value.code == "E603" and caught.value.message.startswith(message)


def test_a_stated_prefix_changes_the_plan_fingerprint() -> None:
    plan = load("plan-v2.json")
    prefixed = {**plan, "namespace": {**plan["namespace"], "prefix": "model"}}
    assert plan_fingerprint(prefixed) != plan_fingerprint(plan)
