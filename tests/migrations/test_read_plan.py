"""Reading a plan in an older version: upgraded in memory, with one note that names `ftsc upgrade`."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pytest
from migrations_support import DATA

from ftsc.cli import main
from ftsc.compiler.plan import PlanError, read_plan
from ftsc.migrations import FormatUpgradedWarning


def test_an_old_plan_is_upgraded_in_memory_with_a_warning(tmp_path: Path) -> None:
    path = Path(shutil.copy(DATA / "plan-v0.json", tmp_path / "old plan.json"))
    with pytest.warns(FormatUpgradedWarning) as caught:
        plan = read_plan(path)
    assert plan == json.loads((DATA / "plan-v2.json").read_text())
    assert [str(warning.message) for warning in caught] == [
        f"{path}: plan version 0 upgraded in memory to 2; run `ftsc upgrade '{path}'` to rewrite it"
    ]
    assert path.read_text() == (DATA / "plan-v0.json").read_text()  # the file is not touched


def test_a_current_plan_reads_without_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_plan(DATA / "plan-v2.json")["plan_version"] == 2


def test_a_plan_from_a_newer_ftsc_is_a_plan_error(tmp_path: Path) -> None:
    path = tmp_path / "newer.json"
    path.write_text(json.dumps({"plan_version": 7}))
    with pytest.raises(PlanError, match=r"newer.json: plan version 7 was written by a newer ftsc.*\[E601\]$"):
        read_plan(path)


def test_the_cli_shows_the_warning_as_one_note(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["explain", str(DATA / "plan-v0.json")])
    captured = capsys.readouterr()
    assert status == 0
    assert captured.err == (
        f"ftsc: note: {DATA / 'plan-v0.json'}: plan version 0 upgraded in memory to 2; "
        f"run `ftsc upgrade {DATA / 'plan-v0.json'}` to rewrite it\n"
    )
    assert captured.out.splitlines()[2].split()[:4] == ["0", "head", "2", "1"]
