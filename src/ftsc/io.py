"""Reading and writing the project's JSON and text files.

Writes are atomic (temporary file in the target's directory, fsync, `os.replace`) so an interrupted
`ftsc compile` or `ftsc fmt` never leaves a half-written plan or schedule behind. Reads turn every way a
JSON file can be wrong into one `JsonFileError` that says where and what, so callers need only one
`except`.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
from pathlib import Path
from typing import Literal

__all__ = [
    "JsonFileError",
    "atomic_write_json",
    "atomic_write_text",
    "parse_json_bytes",
    "read_file_bytes",
    "read_json",
]

Reason = Literal["not_found", "unreadable", "invalid"]

# O_BINARY: on Windows a descriptor opened without it translates "\n" to "\r\n" below Python's io layer.
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


class JsonFileError(Exception):
    """A JSON file that is missing, unreadable or not valid JSON.

    `message` says what is wrong without the location; `str()` prefixes `path:line:column:` (1-based)
    where known. `reason` lets callers add advice ("export one with ...") without parsing messages.
    """

    def __init__(
        self,
        message: str,
        path: str,
        line: int | None = None,
        column: int | None = None,
        *,
        reason: Reason = "invalid",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        self.reason: Reason = reason

    def __str__(self) -> str:
        return f"{_location(self.path, self.line, self.column)}: {self.message}"


def _location(path: str, line: int | None, column: int | None) -> str:
    if line is None:
        return path
    return f"{path}:{line}" if column is None else f"{path}:{line}:{column}"


def atomic_write_text(path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8") -> None:
    """Replace the file at `path` with `text`, all at once or not at all.

    Readers see either the old content or the new, never a mix; on any failure (including an encoding
    error or KeyboardInterrupt) the old file is untouched and the temporary file is removed. An existing
    file keeps its permission bits; a new one gets 0o666 less the umask, like `open(path, "w")`. A
    symbolic link is followed, so the file it points to is replaced and the link kept. Newlines are
    written as given. A device or FIFO (`-o /dev/null`) is written into, never replaced by a file.
    """
    target = Path(path).resolve()
    try:
        status = target.stat()
    except FileNotFoundError:
        mode: int | None = None
    else:
        if stat.S_ISDIR(status.st_mode):
            raise IsADirectoryError(errno.EISDIR, "it is a folder", str(target))
        if not stat.S_ISREG(status.st_mode):  # /dev/null, a FIFO: write into it, never replace it
            with target.open("w", encoding=encoding, newline="") as stream:
                stream.write(text)
            return
        mode = stat.S_IMODE(status.st_mode)
    temp, fd = _create_temp(target)
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as stream:
            if mode is not None:
                temp.chmod(mode)
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        temp.replace(target)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    _fsync_directory(target.parent)


def atomic_write_json(path: str | os.PathLike[str], obj: object, *, indent: int | None = 2) -> None:
    """Write `obj` as strict JSON (UTF-8, trailing newline) with `atomic_write_text`.

    The whole document is serialised before the file is touched, so an object json cannot encode
    (or NaN / Infinity, which other JSON readers reject) raises without creating or changing anything.
    """
    text = json.dumps(obj, indent=indent, ensure_ascii=False, allow_nan=False)
    atomic_write_text(path, text + "\n")


def _create_temp(target: Path) -> tuple[Path, int]:
    """Create a fresh hidden file next to the target; mode 0o666 lets the kernel apply the umask."""
    for _ in range(100):
        temp = target.with_name(f".{target.name}.{os.urandom(4).hex()}.tmp")
        try:
            return temp, os.open(temp, _OPEN_FLAGS, 0o666)
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file next to {target}")


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable; best effort (not possible on Windows or some file systems)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class _NonStandardConstant(ValueError):
    pass


def _reject_constant(name: str) -> object:
    raise _NonStandardConstant(name)


def read_json(path: str | os.PathLike[str]) -> object:
    """Parse a UTF-8 JSON file (a leading BOM is accepted); every failure is a `JsonFileError`.

    NaN and Infinity are rejected: they are Python extensions that other JSON readers (the editor
    extension among them) do not accept.
    """
    where = os.fspath(path)
    return parse_json_bytes(read_file_bytes(where), where)


def read_file_bytes(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a file; every failure is a `JsonFileError` (reason `not_found` or `unreadable`)."""
    where = os.fspath(path)
    try:
        return Path(where).read_bytes()
    except FileNotFoundError:
        raise JsonFileError("file not found", where, reason="not_found") from None
    except IsADirectoryError:
        raise JsonFileError("is a directory, not a file", where, reason="unreadable") from None
    except PermissionError:
        raise JsonFileError("permission denied", where, reason="unreadable") from None
    except OSError as exc:
        raise JsonFileError(f"cannot read file: {exc.strerror or exc}", where, reason="unreadable") from None


def parse_json_bytes(data: bytes, where: str) -> object:
    """Parse the bytes of a UTF-8 JSON file read from `where` (for messages), as `read_json` does."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, column = _byte_position(data, exc.start)
        message = f"not UTF-8 text: byte 0x{data[exc.start]:02x} cannot be decoded"
        raise JsonFileError(message, where, line, column) from None
    if not text.strip():
        raise JsonFileError("file is empty; expected a JSON document", where, 1, 1)

    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise JsonFileError(f"invalid JSON: {exc.msg}", where, exc.lineno, exc.colno) from None
    except _NonStandardConstant as exc:
        raise JsonFileError(f"invalid JSON: {exc} is not a JSON value", where) from None
    except RecursionError:
        raise JsonFileError("invalid JSON: nested too deeply", where) from None


def _byte_position(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in bytes) of a byte offset, for errors found before decoding."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, offset - line_start + 1
