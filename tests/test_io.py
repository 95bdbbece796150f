"""Atomic writes never leave a partial or stray file; JSON read errors say where and what."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from ftsc.io import JsonFileError, atomic_write_json, atomic_write_text, read_json

# --- atomic writes ----------------------------------------------------------------------------------------


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_write_creates_file_with_umask_permissions(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    atomic_write_text(target, "hello\n")
    assert target.read_text(encoding="utf-8") == "hello\n"
    if os.name == "posix":
        assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~current_umask()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json"]


def test_write_replaces_content_and_keeps_permissions(tmp_path: Path) -> None:
    target = tmp_path / "schedule.fts"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o640)
    atomic_write_text(target, "new")
    assert target.read_text(encoding="utf-8") == "new"
    if os.name == "posix":
        assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_write_keeps_newlines_and_non_ascii_as_given(tmp_path: Path) -> None:
    target = tmp_path / "x.txt"
    atomic_write_text(target, "a\r\nb\nç✓\n")
    assert target.read_bytes() == "a\r\nb\nç✓\n".encode()


def test_write_follows_a_symlink_and_keeps_it(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "link.json"
    try:
        link.symlink_to(real)
    except OSError:  # pragma: no cover - Windows without the symlink privilege
        pytest.skip("cannot create symlinks here")
    atomic_write_text(link, "new")
    assert link.is_symlink()
    assert real.read_text(encoding="utf-8") == "new"


def test_write_into_missing_directory_fails_cleanly(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        atomic_write_text(tmp_path / "missing" / "x.json", "{}")
    assert list(tmp_path.iterdir()) == []


def assert_untouched(directory: Path, target: Path, content: str) -> None:
    assert target.read_text(encoding="utf-8") == content
    assert [p.name for p in directory.iterdir()] == [target.name], "a temporary file was left behind"


@pytest.mark.parametrize(
    ("obj", "error"),
    [
        ({"phases": [{"params": ["a"], "lr": object()}]}, TypeError),  # json cannot encode it
        ({"lr": float("nan")}, ValueError),  # not strict JSON
        ({"lr": float("inf")}, ValueError),
        ({("tuple", "key"): 1}, TypeError),
    ],
)
def test_json_serialisation_failure_leaves_old_file(tmp_path: Path, obj: object, error: type) -> None:
    target = tmp_path / "plan.json"
    target.write_text('{"old": true}\n', encoding="utf-8")
    with pytest.raises(error):
        atomic_write_json(target, obj)
    assert_untouched(tmp_path, target, '{"old": true}\n')


def test_json_serialisation_failure_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        atomic_write_json(tmp_path / "plan.json", [1, 2, {3}])
    assert list(tmp_path.iterdir()) == []


def test_encoding_failure_midway_removes_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(UnicodeEncodeError):
        atomic_write_text(target, "fine so far " * 1000 + "\ud800")  # a lone surrogate
    assert_untouched(tmp_path, target, "old")


@pytest.mark.parametrize("exception", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_failure_at_fsync_removes_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exception: BaseException
) -> None:
    target = tmp_path / "plan.json"
    target.write_text("old", encoding="utf-8")

    def failing_fsync(fd: int) -> None:
        raise exception

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(type(exception)):
        atomic_write_text(target, "new")
    assert_untouched(tmp_path, target, "old")


def test_failure_at_replace_removes_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "plan.json"
    target.write_text("old", encoding="utf-8")

    def failing_replace(self: Path, other: object) -> Path:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "replace", failing_replace)
    with pytest.raises(PermissionError):
        atomic_write_text(target, "new")
    assert_untouched(tmp_path, target, "old")


def test_json_round_trip_is_strict_utf8_with_trailing_newline(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    obj = {"name": "café", "values": [1, 2.5, None, True], "nested": {"a": []}}
    atomic_write_json(target, obj)
    text = target.read_text(encoding="utf-8")
    assert text.endswith("}\n")
    assert "café" in text  # not \u escaped
    assert read_json(target) == obj
    assert json.loads(text) == obj


# --- read_json ----------------------------------------------------------------------------------------------


def test_read_json_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.json"
    with pytest.raises(JsonFileError) as info:
        read_json(path)
    error = info.value
    assert (error.reason, error.path, error.line, error.column) == ("not_found", str(path), None, None)
    assert str(error) == f"{path}: file not found"


def test_read_json_directory(tmp_path: Path) -> None:
    with pytest.raises(JsonFileError) as info:
        read_json(tmp_path)
    assert info.value.reason == "unreadable"


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0, reason="permission bits do not stop this user"
)
def test_read_json_permission_denied(tmp_path: Path) -> None:  # pragma: no cover - not run as root
    path = tmp_path / "secret.json"
    path.write_text("{}", encoding="utf-8")
    path.chmod(0)
    with pytest.raises(JsonFileError) as info:
        read_json(path)
    assert info.value.reason == "unreadable"
    assert "permission denied" in info.value.message


def test_read_json_invalid_json_reports_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{\n  "parameters": [\n    {"name": "a",}\n  ]\n}\n', encoding="utf-8")
    with pytest.raises(JsonFileError) as info:
        read_json(path)
    error = info.value
    assert (error.reason, error.line, error.column) == ("invalid", 3, 18)
    assert error.message.startswith("invalid JSON: Expecting property name")
    assert str(error).startswith(f"{path}:3:18: invalid JSON")


@pytest.mark.parametrize("content", [b"", b"   \n\t"])
def test_read_json_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.json"
    path.write_bytes(content)
    with pytest.raises(JsonFileError, match="file is empty"):
        read_json(path)


def test_read_json_accepts_utf8_bom(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b'\xef\xbb\xbf{"a": "\xc3\xa9"}')
    assert read_json(path) == {"a": "é"}


def test_read_json_not_utf8_reports_position(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{\n "a": "caf\xe9"\n}')
    with pytest.raises(JsonFileError) as info:
        read_json(path)
    assert (info.value.line, info.value.column) == (2, 11)
    assert "not UTF-8" in info.value.message and "0xe9" in info.value.message


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_read_json_rejects_non_standard_constants(tmp_path: Path, constant: str) -> None:
    path = tmp_path / "nan.json"
    path.write_text(f'{{"lr": {constant}}}', encoding="utf-8")
    with pytest.raises(JsonFileError, match=f"{constant} is not a JSON value"):
        read_json(path)


def test_read_json_deep_nesting_is_an_error_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(JsonFileError, match="nested too deeply"):
        read_json(path)


def test_a_device_is_written_into_not_replaced() -> None:
    """`ftsc compile -o /dev/null` must not turn the device into a regular file (we may run as root)."""
    atomic_write_text("/dev/null", "discarded\n")
    assert stat.S_ISCHR(Path("/dev/null").stat().st_mode)


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError):
        atomic_write_text(tmp_path, "x")
