"""Configuration errors stop the script where `FinetuningScheduler(...)` is written, before a Trainer or a
model exists: a plan file that is missing, unreadable or invalid, a schedule with errors that do not depend
on the model's names, a strategy adapter that cannot be loaded. Name errors wait for the model (setup)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from runtime_support import ToyModel, loaders, three_phase_plan, trainer

from ftsc.runtime import FinetuningScheduler, RuntimeConfigError, ScheduleCompileError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_missing_plan_file(tmp_path: Path) -> None:
    with pytest.raises(RuntimeConfigError, match=r"missing\.plan\.json"):
        FinetuningScheduler(plan=tmp_path / "missing.plan.json")


def test_a_plan_file_that_is_not_json(tmp_path: Path) -> None:
    with pytest.raises(RuntimeConfigError, match=r"broken\.json"):
        FinetuningScheduler(plan=write(tmp_path / "broken.json", '{"plan_version": 1,'))


def test_a_plan_path_that_is_a_folder(tmp_path: Path) -> None:
    with pytest.raises(RuntimeConfigError, match=str(tmp_path)):
        FinetuningScheduler(plan=tmp_path)


def test_a_plan_file_that_is_not_a_valid_plan(tmp_path: Path) -> None:
    plan = three_phase_plan()
    del plan["phases"][0]["params"]
    with pytest.raises(RuntimeConfigError, match="not a valid plan"):
        FinetuningScheduler(plan=write(tmp_path / "plan.json", json.dumps(plan)))
    with pytest.raises(RuntimeConfigError, match="is not valid"):
        FinetuningScheduler(plan=plan)  # the same plan as a dict


def test_a_missing_schedule_file(tmp_path: Path) -> None:
    with pytest.raises(RuntimeConfigError, match=r"cannot read the schedule"):
        FinetuningScheduler(schedule=tmp_path / "nowhere.fts")


def test_schedule_errors_that_do_not_depend_on_names_come_at_construction(tmp_path: Path) -> None:
    schedule = write(
        tmp_path / "bad.fts",
        "fts 1\ndefaults { restore_bset = true }\nphase head { thaw head.* until epoch 1 }\nphase rest { thaw rest }\n",
    )
    with pytest.raises(ScheduleCompileError) as caught:
        FinetuningScheduler(schedule=schedule)
    message = str(caught.value)
    assert f"{schedule} has errors" in message
    assert "E301" in message and f"{schedule}:2:12" in message


def test_name_errors_wait_for_the_model(tmp_path: Path) -> None:
    """`haed.*` may match the model: only setup, with the live names, can tell."""
    schedule = write(tmp_path / "typo.fts", "fts 1\nphase head { thaw haed.* }\nphase rest { thaw rest }\n")
    scheduler = FinetuningScheduler(schedule=schedule)  # no error yet
    with pytest.raises(ScheduleCompileError, match="E101"):
        trainer(tmp_path, 1, [scheduler]).fit(ToyModel(), *loaders())


def test_an_unknown_adapter_in_the_schedule(tmp_path: Path) -> None:
    schedule = write(tmp_path / "adapter.fts", "fts 1\nuse adapter fsdb\nphase all { thaw rest }\n")
    with pytest.raises(ScheduleCompileError, match=r"E402.*did you mean `fsdp`"):
        FinetuningScheduler(schedule=schedule)


def test_an_unknown_custom_strategy_adapter() -> None:
    with pytest.raises(
        RuntimeConfigError, match=r"custom_strategy_adapters\['ddp'\]: unknown adapter `fsdb`"
    ):
        FinetuningScheduler(plan=three_phase_plan(), custom_strategy_adapters={"ddp": "fsdb"})
    with pytest.raises(RuntimeConfigError, match="no_such_module"):
        FinetuningScheduler(
            plan=three_phase_plan(), custom_strategy_adapters={"ddp": "no_such_module:Adapter"}
        )


def test_a_plan_recording_an_adapter_that_is_not_installed(tmp_path: Path) -> None:
    plan = three_phase_plan()
    plan["namespace"]["adapter"] = "someones_plugin"
    with pytest.raises(RuntimeConfigError, match=r"the plan's adapter: unknown adapter `someones_plugin`"):
        FinetuningScheduler(plan=plan)
