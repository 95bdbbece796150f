"""`ftsc check`, `ftsc compile`, `ftsc explain`: exit statuses, formats, namespace lookup, atomic plans."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ftsc.cli import main
from ftsc.compiler.schema import validate_plan_data

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

GOOD = 'use namespace "ns.json"\nphase head { thaw classifier.* }\nphase body { thaw rest }\n'
BAD = 'use namespace "ns.json"\nphase head { thaw clasifier.* }\nphase body { thaw rest }\n'
WARN = 'use namespace "ns.json"\nphase head { thaw classifier.* }\n'


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder with a namespace, and schedules that use it by a relative path."""
    shutil.copy(EXAMPLES / "namespaces" / "bert-base.json", tmp_path / "ns.json")
    (tmp_path / "good.fts").write_text(GOOD)
    (tmp_path / "bad.fts").write_text(BAD)
    (tmp_path / "warn.fts").write_text(WARN)
    return tmp_path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_check_exit_statuses(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["check", str(project / "good.fts")], capsys)[0] == 0
    assert run(["check", str(project / "warn.fts")], capsys)[0] == 0
    assert run(["check", "--strict", str(project / "warn.fts")], capsys)[0] == 1
    status, out, _ = run(["check", str(project / "good.fts"), str(project / "bad.fts")], capsys)
    assert status == 1
    assert "error[E101]" in out and "did you mean `classifier.*`?" in out
    status, _, err = run(["check", str(project / "missing.fts")], capsys)
    assert status == 2 and "no such file" in err


def test_human_output_shows_the_line_and_a_caret_span(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(["check", "--color", "never", str(project / "bad.fts")], capsys)
    lines = out.splitlines()
    source_line = next(i for i, line in enumerate(lines) if "thaw clasifier.*" in line)
    caret_line = lines[source_line + 1]
    code_column = lines[source_line].index("clasifier.*")
    assert caret_line.index("^") == code_column
    assert caret_line.count("^") == len("clasifier.*")
    assert f"{project / 'bad.fts'}:2:" in out


def test_json_output_is_the_lsp_shape(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["check", "--format", "json", str(project / "bad.fts")], capsys)
    assert status == 1
    diagnostic = json.loads(out)["diagnostics"][0]
    assert diagnostic["code"] == "E101"
    assert diagnostic["severity"] == "error"
    assert diagnostic["source"] == "ftsc"
    column = BAD.splitlines()[1].index("clasifier")
    assert diagnostic["range"]["start"] == {"line": 1, "character": column}
    assert diagnostic["range"]["end"] == {"line": 1, "character": column + len("clasifier.*")}


def test_github_and_sarif_formats(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(["check", "--format", "github", str(project / "bad.fts")], capsys)
    assert out.startswith("::error file=") and "title=ftsc E101" in out
    _, out, _ = run(["check", "--format", "sarif", str(project / "bad.fts")], capsys)
    sarif = json.loads(out)
    assert sarif["version"] == "2.1.0"
    assert sarif["runs"][0]["results"][0]["ruleId"] == "E101"


def test_namespace_option_wins_over_use_namespace(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(EXAMPLES / "namespaces" / "gpt2.json", project / "gpt2.json")
    status, out, _ = run(
        ["check", "--namespace", str(project / "gpt2.json"), str(project / "good.fts")], capsys
    )
    assert status == 1
    assert "`classifier.*` matches no parameter" in out


def test_use_namespace_resolves_relative_to_the_schedule(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project.parent)
    assert run(["check", str(project / "good.fts")], capsys)[0] == 0


def test_a_bad_namespace_option_is_a_usage_error(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "broken.json").write_text('{"parameters": [')
    status, _, err = run(
        ["check", "--namespace", str(project / "broken.json"), str(project / "good.fts")], capsys
    )
    assert status == 2
    assert "broken.json:1:" in err


def test_check_reads_standard_input(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("phase a { thaw classifier.* }\n"))
    status, out, _ = run(["check", "--namespace", str(project / "ns.json"), "-"], capsys)
    assert status == 0
    assert "<stdin>" in out  # W208: the rest is never thawed


def test_compile_writes_a_valid_plan(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan_path = project / "out" / "plan.json"
    plan_path.parent.mkdir()
    status, _, err = run(["compile", str(project / "good.fts"), "-o", str(plan_path)], capsys)
    assert status == 0, err
    plan = json.loads(plan_path.read_text())
    assert validate_plan_data(plan) == []
    assert plan["phases"][0]["params"] == ["classifier.weight", "classifier.bias"]
    assert plan["namespace"]["size"] == 201
    assert [p.name for p in plan_path.parent.iterdir()] == ["plan.json"]  # no temporary file left


def test_a_failed_compile_writes_no_plan_and_keeps_the_old_one(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan_path = project / "plan.json"
    plan_path.write_text("previous plan")
    status, _, err = run(["compile", str(project / "bad.fts"), "-o", str(plan_path)], capsys)
    assert status == 1
    assert "no plan written" in err
    assert plan_path.read_text() == "previous plan"
    status, _, err = run(["compile", "--strict", str(project / "warn.fts"), "-o", str(plan_path)], capsys)
    assert status == 1 and plan_path.read_text() == "previous plan"


def test_compile_without_a_namespace_writes_no_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schedule = tmp_path / "s.fts"
    schedule.write_text("phase a { thaw rest }\n")
    status, _, err = run(["compile", str(schedule), "-o", str(tmp_path / "plan.json")], capsys)
    assert status == 1
    assert "needs a namespace" in err
    assert not (tmp_path / "plan.json").exists()


def test_explain_a_schedule_and_its_plan(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, from_schedule, _ = run(["explain", str(EXAMPLES / "bert.fts")], capsys)
    assert status == 0
    rows = from_schedule.splitlines()
    assert rows[0].split()[:4] == ["#", "phase", "params", "elements"]
    assert rows[2].split()[:4] == ["0", "head", "4", "592,130"]
    assert "never thawed: 1 parameter (23,440,896 elements)" in from_schedule
    plan_path = project / "bert.plan.json"
    assert run(["compile", str(EXAMPLES / "bert.fts"), "-o", str(plan_path)], capsys)[0] == 0
    namespace = str(EXAMPLES / "namespaces" / "bert-base.json")
    status, from_plan, _ = run(["explain", str(plan_path), "--namespace", namespace], capsys)
    assert status == 0
    assert from_plan == from_schedule
    status, alone, _ = run(["explain", str(plan_path)], capsys)  # the plan records its element counts
    assert status == 0 and alone == from_schedule


def test_the_console_script_runs_without_importing_torch(project: Path) -> None:
    code = (
        "import sys\nfrom ftsc.cli import main\n"
        f"status = main(['check', {str(project / 'good.fts')!r}])\n"
        "assert 'torch' not in sys.modules, 'ftsc check imported torch'\nsys.exit(status)\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
