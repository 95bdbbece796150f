"""`ftsc fmt`: in-place rewrites (atomic, only on change), `--check`, `--diff`, stdin, syntax errors."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ftsc.cli import main

MESSY = "fts 1\nphase head{thaw a.**,b.*   # the head\n  until epoch 2}\n"
FORMATTED = "fts 1\n\nphase head {\n    thaw a.**, b.*  # the head\n    until epoch 2\n}\n"
BROKEN = "phase head { thaw a b }\n"


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "messy.fts").write_text(MESSY, encoding="utf-8")
    (tmp_path / "tidy.fts").write_text(FORMATTED, encoding="utf-8")
    (tmp_path / "broken.fts").write_text(BROKEN, encoding="utf-8")
    return tmp_path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def listing(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_rewrites_a_file_in_place_and_reports_it(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    messy = files / "messy.fts"
    status, out, err = run(["fmt", str(messy)], capsys)
    assert (status, out, err) == (0, f"reformatted {messy}\n", "")
    assert messy.read_bytes() == FORMATTED.encode()
    assert listing(files) == ["broken.fts", "messy.fts", "tidy.fts"]  # no temporary file left behind
    # a second run finds nothing to do and prints nothing
    assert run(["fmt", str(messy)], capsys) == (0, "", "")


def test_a_formatted_file_is_not_rewritten(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tidy = files / "tidy.fts"
    before = tidy.stat()
    assert run(["fmt", str(tidy)], capsys) == (0, "", "")
    after = tidy.stat()
    # an atomic rewrite replaces the file (a new inode); an untouched file keeps its inode and time
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_rewrite_is_atomic(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    messy = files / "messy.fts"
    before = messy.stat().st_ino
    run(["fmt", str(messy)], capsys)
    assert messy.stat().st_ino != before  # replaced by rename, not truncated and rewritten


def test_a_failed_write_leaves_the_file_and_no_temporary_file(
    files: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: Path, target: object) -> Path:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "replace", refuse)
    messy = files / "messy.fts"
    status, _, err = run(["fmt", str(messy)], capsys)
    assert status == 2
    assert "cannot write (Permission denied)" in err
    assert messy.read_text(encoding="utf-8") == MESSY
    assert listing(files) == ["broken.fts", "messy.fts", "tidy.fts"]


def test_check_writes_nothing_and_lists_what_would_change(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    messy, tidy = files / "messy.fts", files / "tidy.fts"
    status, out, err = run(["fmt", "--check", str(messy), str(tidy)], capsys)
    assert (status, out, err) == (1, f"would reformat {messy}\n", "")
    assert messy.read_text(encoding="utf-8") == MESSY
    assert tidy.read_text(encoding="utf-8") == FORMATTED
    assert listing(files) == ["broken.fts", "messy.fts", "tidy.fts"]


def test_check_passes_when_everything_is_formatted(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["fmt", "--check", str(files / "tidy.fts")], capsys) == (0, "", "")


def test_diff_prints_a_unified_diff_and_writes_nothing(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    messy, tidy = files / "messy.fts", files / "tidy.fts"
    status, out, err = run(["fmt", "--diff", str(messy), str(tidy)], capsys)
    assert status == 0
    assert err == ""
    assert out == (
        f"--- {messy}\n"
        f"+++ {messy}\n"
        "@@ -1,3 +1,6 @@\n"
        " fts 1\n"
        "-phase head{thaw a.**,b.*   # the head\n"
        "-  until epoch 2}\n"
        "+\n"
        "+phase head {\n"
        "+    thaw a.**, b.*  # the head\n"
        "+    until epoch 2\n"
        "+}\n"
    )
    assert messy.read_text(encoding="utf-8") == MESSY


def test_diff_marks_a_missing_final_newline(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = files / "short.fts"
    path.write_text("fts 1", encoding="utf-8")
    status, out, _ = run(["fmt", "--diff", str(path)], capsys)
    assert status == 0
    assert out.endswith("-fts 1\n\\ No newline at end of file\n+fts 1\n")


def test_check_and_diff_together_print_the_diff_and_fail(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    messy = files / "messy.fts"
    status, out, err = run(["fmt", "--check", "--diff", str(messy)], capsys)
    assert status == 1
    assert out.startswith(f"--- {messy}\n")
    assert err == f"would reformat {messy}\n"  # stdout holds the diff
    assert messy.read_text(encoding="utf-8") == MESSY


def test_stdin_is_formatted_to_stdout(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(MESSY))
    assert run(["fmt", "-"], capsys) == (0, FORMATTED, "")
    monkeypatch.setattr(sys, "stdin", io.StringIO(FORMATTED))
    assert run(["fmt", "-"], capsys) == (0, FORMATTED, "")


def test_stdin_with_check_writes_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(MESSY))
    assert run(["fmt", "--check", "-"], capsys) == (1, "", "would reformat <stdin>\n")


def test_syntax_errors_leave_the_file_untouched(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken, messy = files / "broken.fts", files / "messy.fts"
    before = broken.stat()
    status, out, err = run(["fmt", "--color", "never", str(broken), str(messy)], capsys)
    assert status == 1
    assert broken.read_bytes() == BROKEN.encode()
    assert broken.stat().st_mtime_ns == before.st_mtime_ns
    assert "error[E001]: missing `,` before `b`" in err
    assert f"{broken}:1:21" in err
    # the other files are still formatted
    assert out == f"reformatted {messy}\n"
    assert messy.read_text(encoding="utf-8") == FORMATTED


def test_syntax_errors_on_stdin_print_no_text(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(BROKEN))
    status, out, err = run(["fmt", "--color", "never", "-"], capsys)
    assert (status, out) == (1, "")
    assert "<stdin>:1:21" in err and "E001" in err


def test_check_with_a_syntax_error_fails(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(["fmt", "--check", str(files / "broken.fts"), str(files / "tidy.fts")], capsys)
    assert (status, out) == (1, "")
    assert "E001" in err


def test_a_missing_file_is_a_usage_error(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(["fmt", str(files / "nope.fts")], capsys)
    assert status == 2
    assert "no such file" in err


def test_fmt_runs_as_a_command(files: Path) -> None:
    messy = files / "messy.fts"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    done = subprocess.run(
        [sys.executable, "-m", "ftsc", "fmt", "--check", str(messy)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert (done.returncode, done.stdout) == (1, f"would reformat {messy}\n")
    done = subprocess.run(
        [sys.executable, "-m", "ftsc", "fmt", str(messy)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0
    assert messy.read_text(encoding="utf-8") == FORMATTED
