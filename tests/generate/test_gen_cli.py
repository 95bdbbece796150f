"""`ftsc gen`: standard output or an atomically written file, usage errors as exit status 2."""

from __future__ import annotations

import json
import os
import shutil
import stat
import threading
from pathlib import Path

import pytest

from ftsc.cli import main
from ftsc.compiler.namespace import load_namespace
from ftsc.generate import generate
from ftsc.io import atomic_write_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "namespaces"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def namespace_file(tmp_path: Path) -> Path:
    target = tmp_path / "models" / "gpt2.json"
    target.parent.mkdir()
    shutil.copy(EXAMPLES / "gpt2.json", target)
    return target


def test_stdout_without_output(namespace_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(["gen", "--namespace", str(namespace_file)], capsys)
    assert status == 0 and err == ""
    expected = generate(
        load_namespace(namespace_file), namespace_ref=str(namespace_file), source=namespace_file.name
    )
    assert out == expected
    assert f'use namespace "{namespace_file}"' in out
    assert run(["gen", "--namespace", str(namespace_file), "-o", "-"], capsys)[1] == expected


@pytest.mark.parametrize("strategy", ["blocks", "fts"])
def test_output_file_checks_clean_with_its_relative_namespace(
    namespace_file: Path, tmp_path: Path, strategy: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "schedules" / "gpt2.fts"
    out_file.parent.mkdir()
    status, out, err = run(
        ["gen", "--namespace", str(namespace_file), "--strategy", strategy, "-o", str(out_file)], capsys
    )
    assert status == 0 and out == ""
    assert err.startswith(f"wrote {out_file}: ")
    text = out_file.read_text()
    assert 'use namespace "../models/gpt2.json"' in text
    # `ftsc check` finds the namespace through the relative path and reports nothing.
    status, out, _ = run(["check", "--color", "never", str(out_file)], capsys)
    assert status == 0 and out.startswith("no problems")
    status, _, _ = run(["compile", str(out_file), "-o", str(tmp_path / "plan.json")], capsys)
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert status == 0 and plan["frozen"] == []


def test_output_is_written_atomically(
    namespace_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "out.fts"
    out_file.write_text("old content\n")
    calls: list[tuple[str, str]] = []
    real_write = atomic_write_text

    def spy(path: str, text: str) -> None:
        calls.append((str(path), text))
        real_write(path, text)

    monkeypatch.setattr("ftsc.io.atomic_write_text", spy)
    status, _, _ = run(["gen", "--namespace", str(namespace_file), "-o", str(out_file)], capsys)
    assert status == 0
    assert calls == [(str(out_file), out_file.read_text())]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["models", "out.fts"]  # no temporary file left

    def failing(path: str, text: str) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("ftsc.io.atomic_write_text", failing)
    status, _, err = run(["gen", "--namespace", str(namespace_file), "-o", str(out_file)], capsys)
    assert status == 2 and "cannot write the schedule (Permission denied)" in err
    assert out_file.read_text() == calls[0][1]  # the earlier file is untouched


def test_unwritable_destination_is_a_usage_error(
    namespace_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "no such folder" / "out.fts"
    status, out, err = run(["gen", "--namespace", str(namespace_file), "-o", str(target)], capsys)
    assert (status, out) == (2, "") and "cannot write the schedule" in err
    assert not target.parent.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "namespace file not found"),
        ("{not json", "not valid JSON"),
        ('{"parameters": [{"name": "a"}, {"name": "a"}]}', "duplicate parameter name"),
        ('{"parameters": []}', "no parameters"),
    ],
)
def test_bad_namespace_exits_2(
    tmp_path: Path, content: str | None, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    namespace = tmp_path / "ns.json"
    if content is not None:
        namespace.write_text(content)
    out_file = tmp_path / "out.fts"
    status, out, err = run(["gen", "--namespace", str(namespace), "-o", str(out_file)], capsys)
    assert (status, out) == (2, "")
    assert err.startswith("ftsc: error: ") and message in err
    assert not out_file.exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--layers-per-phase", "0"], "at least 1"),
        (["--strategy", "fts", "--layers-per-phase", "2"], "`blocks` strategy only"),
    ],
)
def test_bad_options_exit_2(
    namespace_file: Path, options: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(["gen", "--namespace", str(namespace_file), *options], capsys)
    assert (status, out) == (2, "") and message in err


def test_layers_per_phase(namespace_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["gen", "--namespace", str(namespace_file), "--layers-per-phase", "6"], capsys)
    assert status == 0
    assert "thaw $layers.{6..11}.**" in out and "thaw $layers.{0..5}.**" in out


def test_namespace_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["gen"])
    assert exit_info.value.code == 2
    assert "--namespace" in capsys.readouterr().err


def test_a_pipe_is_written_to_not_replaced(
    namespace_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An atomic rename would put a regular file where the FIFO (or `/dev/null`) was."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    status, _, _ = run(["gen", "--namespace", str(namespace_file), "-o", str(fifo)], capsys)
    reader.join(timeout=10)
    assert status == 0
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert received and received[0].startswith("# Generated by `ftsc gen")


def test_a_folder_is_a_usage_error(
    namespace_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(["gen", "--namespace", str(namespace_file), "-o", str(tmp_path)], capsys)
    assert status == 2 and "it is a folder" in err
