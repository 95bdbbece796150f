"""`ftsc upgrade`: in place, `-o`, `--check`, current files left alone, refusals, atomic writes."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from migrations_support import DATA

from ftsc.cli import main

V0, V1 = DATA / "plan-v0.json", DATA / "plan-v2.json"  # V1: the current version


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(["upgrade", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def old(tmp_path: Path) -> Path:
    return Path(shutil.copy(V0, tmp_path / "old.json"))


@pytest.fixture
def current(tmp_path: Path) -> Path:
    return Path(shutil.copy(V1, tmp_path / "current.json"))


def newer(tmp_path: Path) -> Path:
    path = tmp_path / "newer.json"
    path.write_text(json.dumps({**json.loads(V1.read_text()), "plan_version": 3}))
    return path


def test_rewrites_an_old_plan_in_place(old: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run([str(old)], capsys)
    assert status == 0 and err == ""
    assert old.read_text() == V1.read_text()  # exactly what `ftsc compile` would write
    assert out.splitlines()[0] == f"upgraded {old}"
    assert out.splitlines()[1].startswith("  plan 0 → 1: Changed in ftsc 0.1.0: phases became a list")


def test_leaves_a_current_plan_untouched(current: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.utime(current, ns=(1_000_000_000, 1_000_000_000))
    inode = current.stat().st_ino
    status, out, _ = run([str(current)], capsys)
    assert status == 0
    assert out == f"{current}: already plan version 2; left as it is\n"
    assert current.stat().st_mtime_ns == 1_000_000_000 and current.stat().st_ino == inode


def test_output_option_writes_elsewhere_and_keeps_the_old_file(
    old: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "new.json"
    status, out, _ = run([str(old), "-o", str(target)], capsys)
    assert status == 0 and out.startswith(f"upgraded {old} into {target}\n")
    assert target.read_text() == V1.read_text()
    assert old.read_text() == V0.read_text()


def test_output_to_standard_output_moves_the_notes_to_standard_error(
    old: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run([str(old), "-o", "-"], capsys)
    assert status == 0
    assert out == V1.read_text()
    assert err.startswith(f"upgraded {old} to standard output\n")


def test_output_option_takes_a_current_plan_too(current: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run([str(current), "-o", "-"], capsys)
    assert status == 0 and out == V1.read_text()
    assert err == f"{current}: already plan version 2; written to standard output\n"


def test_output_option_takes_one_plan(old: Path, current: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run([str(old), str(current), "-o", "x.json"], capsys)
    assert status == 2 and "-o takes one PLAN" in err
    assert old.read_text() == V0.read_text()


def test_check_writes_nothing_and_exits_1_when_a_plan_is_old(
    old: Path, current: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(["--check", str(current), str(old)], capsys)
    assert status == 1
    assert out.splitlines()[0] == f"would upgrade {old}"
    assert old.read_text() == V0.read_text()
    assert run(["--check", str(current)], capsys) == (0, "", "")


def test_check_and_output_do_not_go_together(old: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["upgrade", "--check", "-o", "x.json", str(old)])
    assert caught.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_a_plan_from_a_newer_ftsc_is_refused_and_the_others_still_upgraded(
    old: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    future = newer(tmp_path)
    text = future.read_text()
    status, out, err = run([str(future), str(old)], capsys)
    assert status == 2
    assert err == (
        f"ftsc: error: {future}: plan version 3 was written by a newer ftsc; this ftsc (0.1.0) reads plan "
        "versions up to 2: upgrade ftsc [E601]\n"
    )
    assert future.read_text() == text
    assert out.startswith(f"upgraded {old}")
    assert old.read_text() == V1.read_text()
    assert run(["--check", str(future)], capsys)[0] == 2  # --check does not hide it


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "invalid JSON: Expecting property name enclosed in double quotes"),
        ('{"version": "zero"}', '`version` must be a whole number, got "zero"'),
        ('{"version": 0, "fingerprint": "x", "namespace": {}, "phases": []}', "phases: expected an object"),
        (
            '{"plan_version": 2}',
            "not a valid plan: the plan does not fit the plan schema: top level: missing",
        ),
    ],
)
def test_a_broken_file_is_reported_and_left_as_it_is(
    tmp_path: Path, content: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.json"
    path.write_text(content)
    status, _, err = run([str(path)], capsys)
    assert status == 2 and message in err, err
    assert path.read_text() == content


def test_an_invalid_plan_after_upgrading_is_not_written(
    old: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(old.read_text())
    data["settings"]["lr"] = 0
    old.write_text(json.dumps(data))
    status, _, err = run([str(old)], capsys)
    assert status == 2 and "settings.lr: 0 must be greater than 0" in err
    assert json.loads(old.read_text()) == data


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(
    old: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(self: Path, target: object) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "replace", disk_full)
    status, out, err = run([str(old)], capsys)
    assert status == 2
    assert err == f"ftsc: error: {old}: cannot write the plan (No space left on device)\n"
    assert old.read_text() == V0.read_text()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["old.json"]
    assert out == ""


def test_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run([str(tmp_path / "nope.json")], capsys)
    assert status == 2 and err == f"ftsc: error: {tmp_path / 'nope.json'}: file not found\n"
