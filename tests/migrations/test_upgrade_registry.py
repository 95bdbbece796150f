"""The registry: current versions, version reading, the chain, refusals, and the kinds without steps."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from migrations_support import DATA

from ftsc import __version__
from ftsc.compiler.compile import PLAN_VERSION
from ftsc.compiler.namespace import NAMESPACE_VERSION
from ftsc.compiler.schema import load_schema
from ftsc.migrations import CURRENT_VERSIONS, FORMATS, STEPS, MigrationError, steps_of, upgrade, version_of


def v0_plan() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "plan-v0.json").read_text(encoding="utf-8"))
    return data


def test_current_versions_agree_with_the_schemas_and_the_writers() -> None:
    plan_schema, namespace_schema = load_schema("plan"), load_schema("namespace")
    assert CURRENT_VERSIONS["plan"] == PLAN_VERSION == plan_schema["properties"]["plan_version"]["const"]
    namespace_version = namespace_schema["properties"]["namespace_version"]
    assert CURRENT_VERSIONS["namespace"] == NAMESPACE_VERSION == namespace_version["const"]
    assert CURRENT_VERSIONS["checkpoint"] == 2
    assert plan_schema["$id"].endswith(f"plan-{CURRENT_VERSIONS['plan']}.json")


@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_each_chain_runs_without_gaps_up_to_the_current_version(kind: Any) -> None:
    steps = steps_of(kind)
    for step in steps:
        assert step.kind == kind and step.target == step.source + 1
    assert [step.source for step in steps] == list(
        range(FORMATS[kind].current - len(steps), FORMATS[kind].current)
    )


def test_the_plan_and_the_checkpoint_state_have_had_format_changes() -> None:
    assert [(step.kind, step.source, step.target) for step in STEPS] == [
        ("plan", 0, 1),
        ("plan", 1, 2),
        ("checkpoint", 1, 2),
    ]


@pytest.mark.parametrize("step", STEPS, ids=lambda step: step.function.__name__)
def test_every_step_says_when_and_why_and_has_its_own_test(step: Any) -> None:
    assert re.search(r"\bftsc \d+\.\d+\.\d+", step.headline), "the first paragraph names the ftsc version"
    assert "Why:" in step.why
    tests = [path for path in Path(__file__).parent.glob("test_*.py") if path.name != Path(__file__).name]
    assert any(step.function.__name__ in path.read_text(encoding="utf-8") for path in tests)


def test_the_chain_upgrades_a_v0_plan_and_reports_each_step() -> None:
    old = v0_plan()
    before = copy.deepcopy(old)
    plan, steps = upgrade("plan", old)
    assert [(step.kind, step.source, step.target) for step in steps] == [("plan", 0, 1), ("plan", 1, 2)]
    assert plan["plan_version"] == 2
    assert old == before  # the input is left as it was


def test_upgrading_is_idempotent_and_current_data_comes_back_as_it_is() -> None:
    plan, _ = upgrade("plan", v0_plan())
    again, steps = upgrade("plan", plan)
    assert steps == () and again is plan


def test_future_versions_are_refused_with_the_versions_and_the_way_out() -> None:
    with pytest.raises(MigrationError) as caught:
        upgrade("plan", {"plan_version": 3})  # the version is read first: nothing else matters
    error = caught.value
    assert error.code == "E601"
    assert error.message == (
        f"plan version 3 was written by a newer ftsc; this ftsc ({__version__}) reads plan versions up "
        "to 2: upgrade ftsc"
    )
    assert str(error).endswith("upgrade ftsc [E601]")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"ftsc_version": "0.1.0"}, "no `plan_version`: not a plan written by ftsc, or a damaged one"),
        ({"plan_version": "1"}, '`plan_version` must be a whole number, got "1"'),
        ({"plan_version": 1.0}, "`plan_version` must be a whole number, got 1.0"),
        ({"plan_version": True}, "`plan_version` must be a whole number, got true"),
        ({"plan_version": -1}, "`plan_version` must be a whole number, got -1"),
        ({"version": None}, "`version` must be a whole number, got null"),
        ([1, 2], "a plan must be a JSON object, got [1, 2]"),
    ],
)
def test_missing_or_garbled_versions_are_refused(data: object, message: str) -> None:
    with pytest.raises(MigrationError) as caught:
        upgrade("plan", data)
    assert caught.value.code == "E602"
    assert caught.value.message.startswith(message)
    assert caught.value.message.endswith("compile the schedule again with `ftsc compile`")


def test_plan_version_wins_over_the_pre_release_key() -> None:
    assert version_of("plan", {"plan_version": 1, "version": 0}) == 1
    assert version_of("plan", {"version": 0}) == 0


def test_a_namespace_file_without_a_version_is_version_1() -> None:
    data = {"parameters": [{"name": "a"}]}
    assert upgrade("namespace", data) == (data, ())
    assert upgrade("namespace", data)[0] is data
    with pytest.raises(MigrationError, match=r"namespace file version 2 was written by a newer ftsc"):
        upgrade("namespace", {"namespace_version": 2, "parameters": []})
    with pytest.raises(MigrationError, match=r"older than any this ftsc can upgrade \(the oldest is 1\)"):
        upgrade("namespace", {"namespace_version": 0, "parameters": []})


class Tensor:
    """Stands in for what checkpoint state may hold besides JSON (tensors): never looked at."""


def test_checkpoint_state_at_version_2_is_returned_untouched() -> None:
    state = {"state_version": 2, "phase": 2, "best": Tensor()}
    assert upgrade("checkpoint", state)[0] is state
    assert upgrade("checkpoint", state)[1] == ()


@pytest.mark.parametrize(
    ("state", "code", "message"),
    [
        ({"phase": 2}, "E602", "no `state_version`: not a checkpoint state written by ftsc"),
        ({"state_version": Tensor()}, "E602", "`state_version` must be a whole number, got <"),
        ({"state_version": 0}, "E602", "checkpoint state version 0 is older than any this ftsc can upgrade"),
        ({"state_version": 3}, "E601", "checkpoint state version 3 was written by a newer ftsc"),
    ],
)
def test_bad_checkpoint_state_is_refused(state: dict[str, object], code: str, message: str) -> None:
    with pytest.raises(MigrationError) as caught:
        upgrade("checkpoint", state)
    assert caught.value.code == code
    assert caught.value.message.startswith(message)
