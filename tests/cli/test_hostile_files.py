"""Hostile inputs end as a coded diagnostic (exit 1) or a one-line error (exit 2), never a traceback; reads
are bounded to regular files; `-o` never destroys an input; plans are checked for what the schema cannot see."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ftsc.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations" / "data"
HUGE = "9" * 5000  # past Python's 4,300-digit limit on converting text to int
GOOD = 'use namespace "ns.json"\nphase head { thaw classifier.* }\nphase body { thaw rest }\n'


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(EXAMPLES / "namespaces" / "bert-base.json", tmp_path / "ns.json")
    (tmp_path / "good.fts").write_text(GOOD)
    return tmp_path


def run(argv: list[str | Path], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main([str(argument) for argument in argv])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "internal error" not in captured.err
    return status, captured.out, captured.err


def one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ftsc: error: "), err
    return lines[0]


# --- item 5: no tracebacks -------------------------------------------------------------------------------


def test_an_integer_of_thousands_of_digits_in_a_schedule_is_e302(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "s.fts").write_text(f'use namespace "ns.json"\nphase a {{ thaw rest\n until epoch {HUGE} }}\n')
    status, out, _ = run(["check", "--format", "json", project / "s.fts"], capsys)
    assert status == 1
    assert [d["code"] for d in json.loads(out)["diagnostics"]] == ["E302"]


def test_an_integer_of_thousands_of_digits_in_a_namespace_is_e401_or_exit_2(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (project / "ns.json").read_text().replace("[30522, 768]", f"[{HUGE}, 768]", 1)
    (project / "ns.json").write_text(text)
    status, out, _ = run(["check", project / "good.fts"], capsys)
    assert status == 1 and "error[E401]" in out and "a number too long to read" in out
    status, _, err = run(["check", "--namespace", project / "ns.json", project / "good.fts"], capsys)
    assert status == 2 and "a number too long to read" in one_line_error(err)


def test_huge_integers_in_plans_and_v0_phase_keys_are_exit_2(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["compile", project / "good.fts", "-o", project / "plan.json"], capsys)[0] == 0
    plan = json.loads((project / "plan.json").read_text())
    (project / "plan.json").write_text(
        json.dumps(plan).replace('"max_transition_epoch": -1', f'"max_transition_epoch": {HUGE}', 1)
    )
    status, _, err = run(["explain", project / "plan.json"], capsys)
    assert status == 2 and "a number too long to read" in one_line_error(err)
    old = json.loads((MIGRATIONS / "plan-v0.json").read_text())
    old["phases"] = {HUGE: old["phases"]["0"]}
    (project / "v0.json").write_text(json.dumps(old))
    for command in ("explain", "export-fts"):
        status, _, err = run([command, project / "v0.json"], capsys)
        assert status == 2 and "is not a phase index" in one_line_error(err) and "[E603]" in err


def test_brackets_nested_300_deep_are_one_e001(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nested = "[" * 300 + "]" * 300
    (project / "s.fts").write_text(f'use namespace "ns.json"\ndefaults {{ init_pg_lrs = {nested} }}\n' + GOOD)
    status, out, _ = run(["check", "--format", "json", project / "s.fts"], capsys)
    diagnostics = json.loads(out)["diagnostics"]
    assert status == 1
    errors = [d for d in diagnostics if d["severity"] == "error"]
    assert [d["code"] for d in errors] == ["E001"] and "nested too deeply" in errors[0]["message"]


def test_a_chain_of_500_lets_ends_without_a_traceback(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lets = "".join(f"let a{i} = $a{i - 1}\n" for i in range(1, 500))
    text = f'use namespace "ns.json"\nlet a0 = classifier\n{lets}phase a {{ thaw $a499.* }}\nphase b {{ thaw rest }}\n'
    (project / "s.fts").write_text(text)
    status, out, _ = run(["check", "--format", "json", project / "s.fts"], capsys)
    assert status in (0, 1)
    assert {d["code"] for d in json.loads(out)["diagnostics"]} <= {"E103"}


@pytest.mark.parametrize(
    ("yaml_text", "says"),
    [
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than 200 levels deep"),
        ("".join("  " * level + f"k{level}:\n" for level in range(2000)), "nested too deeply"),
        ("0:\n  params: [classifier.weight\x07]\n", "unacceptable character"),
        ("0:\n  params: [classifier.weight]\n  when: 2001-13-45\n", "month must be in 1..12"),
        (f"0:\n  params: [classifier.weight]\n  max_transition_epoch: {HUGE}\n", "integer string conversion"),
        ("0: !!python/object:os.system\n  params: [classifier.weight]\n", "python/object:os.system"),
        ("0: !!python/name:os.system {params: [classifier.weight]}\n", "python/name:os.system"),
    ],
    ids=[
        "nested-5000",
        "nested-block-2000",
        "control-character",
        "bad-timestamp",
        "huge-integer",
        "python-tag",
        "python-tag-flow",
    ],
)
def test_yaml_that_pyyaml_cannot_read_is_e510(
    project: Path, capsys: pytest.CaptureFixture[str], yaml_text: str, says: str
) -> None:
    (project / "s.yaml").write_text(yaml_text)
    status, _, err = run(["import-fts", "--namespace", project / "ns.json", project / "s.yaml"], capsys)
    assert status == 1
    assert "error[E510]" in err and says in err


def test_output_through_a_loop_of_links_is_exit_2(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "loop1").symlink_to(project / "loop2")
    (project / "loop2").symlink_to(project / "loop1")
    status, _, err = run(["compile", project / "good.fts", "-o", project / "loop1"], capsys)
    assert status == 2 and "a loop of symbolic links" in one_line_error(err)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("command", ["check", "explain"])
def test_standard_output_on_a_full_device_is_one_line_and_exit_2(project: Path, command: str) -> None:
    with Path("/dev/full").open("w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "ftsc", command, str(project / "good.fts")],
            stdout=full,
            stderr=subprocess.PIPE,
            check=False,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert done.stderr.strip() == "ftsc: error: cannot write standard output (No space left on device)"


def test_a_lone_surrogate_in_a_parameter_name_is_reported_and_compiled(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (project / "ns.json").read_text().replace('"classifier.weight"', '"classifier.\\udcff"', 1)
    (project / "ns.json").write_text(text)
    status, out, _ = run(["check", "--format", "json", project / "good.fts"], capsys)
    assert status == 0 and json.loads(out)["diagnostics"] == []
    assert run(["compile", project / "good.fts", "-o", project / "plan.json"], capsys)[0] == 0
    status, out, _ = run(["export-fts", project / "plan.json"], capsys)
    assert status == 0 and "classifier.\\uDCFF" in out


def test_an_internal_error_says_so_and_exits_3(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import ftsc.cli.check

    def broken(*_: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(ftsc.cli.check, "compile_files", broken)
    assert main(["check", str(project / "good.fts")]) == 3
    err = capsys.readouterr().err
    assert err.startswith("ftsc: internal error: KeyError: 'boom' (a bug in ftsc") and "Traceback" not in err


# --- item 6: bounded reads ---------------------------------------------------------------------------------


def test_a_device_as_namespace_is_refused_without_reading_it(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "s.fts").write_text('use namespace "/dev/zero"\nphase a { thaw rest }\n')
    status, out, _ = run(["check", project / "s.fts"], capsys)
    assert status == 1 and "error[E401]" in out and "not a regular file" in out
    status, _, err = run(["check", "--namespace", "/dev/zero", project / "good.fts"], capsys)
    assert status == 2 and "not a regular file" in one_line_error(err)


@pytest.mark.parametrize("command", ["check", "fmt", "import-fts", "explain"])
def test_a_fifo_is_refused_instead_of_blocking(
    project: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    os.mkfifo(project / "pipe")
    status, _, err = run([command, project / "pipe"], capsys)
    assert status == 2 and "not a regular file" in one_line_error(err)


def test_the_input_size_limit_is_enforced_and_can_be_raised(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FTSC_MAX_INPUT_MB", "0.01")  # about 10 kB: the namespace is larger
    status, out, _ = run(["check", project / "good.fts"], capsys)
    assert status == 1 and "larger than the input limit of 0.01 MiB (raise it with FTSC_MAX_INPUT_MB" in out
    monkeypatch.setenv("FTSC_MAX_INPUT_MB", "64")
    assert run(["check", project / "good.fts"], capsys)[0] == 0


# --- item 7: destructive output targets ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "target"),
    [
        (["compile", "{dir}/good.fts", "-o", "{dir}/good.fts"], "good.fts"),
        (["compile", "{dir}/good.fts", "-o", "{dir}/ns.json"], "ns.json"),
        (["compile", "{dir}/good.fts", "--namespace", "{dir}/ns.json", "-o", "{dir}/ns.json"], "ns.json"),
        (["gen", "--namespace", "{dir}/ns.json", "-o", "{dir}/ns.json"], "ns.json"),
        (["import-fts", "{dir}/good.fts", "-o", "{dir}/good.fts"], "good.fts"),
    ],
    ids=["schedule", "use-namespace", "namespace-option", "gen", "import"],
)
def test_output_onto_an_input_is_refused_and_the_input_kept(
    project: Path, capsys: pytest.CaptureFixture[str], argv: list[str], target: str
) -> None:
    before = (project / target).read_bytes()
    status, _, err = run([argument.format(dir=project) for argument in argv], capsys)
    assert status == 2 and "which this command reads" in one_line_error(err)
    assert (project / target).read_bytes() == before


def test_export_onto_its_plan_is_refused(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["compile", project / "good.fts", "-o", project / "plan.json"], capsys)[0] == 0
    before = (project / "plan.json").read_bytes()
    status, _, err = run(["export-fts", project / "plan.json", "-o", project / "plan.json"], capsys)
    assert status == 2 and "which this command reads" in one_line_error(err)
    assert (project / "plan.json").read_bytes() == before


def test_read_only_files_are_not_replaced(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = project / "plan.json"
    plan.write_text("keep\n")
    plan.chmod(0o444)
    status, _, err = run(["compile", project / "good.fts", "-o", plan], capsys)
    assert status == 2 and "the file is read-only" in one_line_error(err)
    assert plan.read_text() == "keep\n"
    schedule = project / "messy.fts"
    schedule.write_text("phase   a {thaw rest}\n")
    schedule.chmod(0o444)
    status, _, err = run(["fmt", schedule], capsys)
    assert status == 2 and "read-only" in one_line_error(err)
    assert schedule.read_text() == "phase   a {thaw rest}\n"


def test_an_empty_output_name_says_so(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(["compile", project / "good.fts", "-o", ""], capsys)
    assert one_line_error(err) == (
        "ftsc: error: -o: an empty file name; name the file to write, or `-` for standard output"
    )
    assert status == 2


# --- item 9: plan invariants ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("break_plan", "says"),
    [
        (lambda plan: plan["phases"][1].update(index=5), "phases[1].index is 5, not its position 1"),
        (lambda plan: plan["phases"][1].update(name="head"), "phases 0 and 1 are both named `head`"),
        (
            lambda plan: plan["phases"][1]["params"].append("classifier.weight"),
            "`classifier.weight` is thawed by phases 0 and 1",
        ),
    ],
    ids=["index", "duplicate-name", "parameter-twice"],
)
@pytest.mark.parametrize("command", ["explain", "export-fts"])
def test_an_inconsistent_plan_is_refused_as_e603(
    project: Path, capsys: pytest.CaptureFixture[str], break_plan: object, says: str, command: str
) -> None:
    assert run(["compile", project / "good.fts", "-o", project / "plan.json"], capsys)[0] == 0
    plan = json.loads((project / "plan.json").read_text())
    break_plan(plan)  # type: ignore[operator]
    (project / "plan.json").write_text(json.dumps(plan))
    status, _, err = run([command, project / "plan.json"], capsys)
    line = one_line_error(err)
    assert status == 2 and says in line and line.endswith("compile the schedule again [E603]")


# --- item 12: minor -----------------------------------------------------------------------------------------------


def test_a_leading_bom_is_accepted(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "bom.fts").write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    assert run(["check", project / "bom.fts"], capsys)[0] == 0
    assert run(["compile", project / "bom.fts", "-o", project / "plan.json"], capsys)[0] == 0


def test_fmt_normalises_crlf_line_endings(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    crlf = project / "crlf.fts"
    crlf.write_bytes(b"phase a {\r\n    thaw rest\r\n}\r\n")
    assert run(["fmt", "--check", crlf], capsys)[0] == 1
    assert run(["fmt", crlf], capsys)[0] == 0
    assert crlf.read_bytes() == b"phase a {\n    thaw rest\n}\n"


def test_names_with_yaml_line_breaks_round_trip_through_fts_yaml(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (project / "ns.json").read_text()
    text = text.replace('"classifier.weight"', '"classifier.w\\u0085x"', 1)
    text = text.replace('"classifier.bias"', '"classifier.b\\u2028y"', 1)
    (project / "ns.json").write_text(text)
    assert run(["compile", project / "good.fts", "-o", project / "plan.json"], capsys)[0] == 0
    assert run(["export-fts", project / "plan.json", "-o", project / "s.yaml"], capsys)[0] == 0
    status, out, err = run(["import-fts", "--namespace", project / "ns.json", project / "s.yaml"], capsys)
    assert status == 0, err
    assert "thaw classifier.**" in out


def test_the_parser_reads_a_leading_bom_as_a_space_keeping_offsets() -> None:
    from ftsc.grammar.parser import parse

    with_bom, without = parse("\ufeff" + GOOD), parse(" " + GOOD)
    assert with_bom.diagnostics == () and with_bom.schedule == without.schedule
