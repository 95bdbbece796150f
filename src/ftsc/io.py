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
import math
import os
import stat
from pathlib import Path
from typing import Literal, TextIO

__all__ = [
    "JsonFileError",
    "atomic_write_json",
    "atomic_write_text",
    "input_limit",
    "parse_json_bytes",
    "read_file_bytes",
    "read_input",
    "read_json",
    "read_stream",
]

Reason = Literal["not_found", "unreadable", "invalid"]

MAX_INPUT_ENV = "FTSC_MAX_INPUT_MB"
DEFAULT_MAX_INPUT_MB = 512  # a 250k-parameter namespace is about 40 MB

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
    written as given. A device or FIFO (`-o /dev/null`) is written into, never replaced by a file. A
    read-only file (no write permission, or no write bit at all, even for root) is refused with
    `PermissionError`: replacing it by a rename would otherwise succeed and silently defeat its mode.
    """
    if not os.fspath(path):
        raise FileNotFoundError(errno.ENOENT, "no file name given", "")
    try:
        target = Path(path).resolve()
    except RuntimeError:  # Python before 3.13 reports a loop of symbolic links this way
        raise OSError(errno.ELOOP, "a loop of symbolic links", os.fspath(path)) from None
    try:
        status = target.stat()
    except FileNotFoundError:
        mode: int | None = None
    else:
        if stat.S_ISDIR(status.st_mode):
            raise IsADirectoryError(errno.EISDIR, "it is a folder", str(target))
        if stat.S_ISREG(status.st_mode) and _read_only(target, status.st_mode):
            raise PermissionError(errno.EACCES, "the file is read-only", str(target))
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


def _read_only(target: Path, mode: int) -> bool:
    return not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(target, os.W_OK)


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


def input_limit() -> int:
    """The most bytes ftsc reads from one input: `FTSC_MAX_INPUT_MB` mebibytes (default 512; a value
    that is not a positive number counts as unset)."""
    value = os.environ.get(MAX_INPUT_ENV, "").strip()
    try:
        megabytes = float(value) if value else DEFAULT_MAX_INPUT_MB
    except ValueError:
        megabytes = DEFAULT_MAX_INPUT_MB
    if not math.isfinite(megabytes) or megabytes <= 0:
        megabytes = DEFAULT_MAX_INPUT_MB
    return int(megabytes * 1024 * 1024)


def _too_large(limit: int) -> str:
    return f"larger than the input limit of {limit / 1024 / 1024:.3g} MiB (raise it with {MAX_INPUT_ENV}=…)"


def read_input(path: str | os.PathLike[str]) -> bytes:
    """The bytes of an input file: a regular file (symbolic links followed) no larger than `input_limit()`.

    A device, FIFO or socket (`/dev/zero`, a named pipe that would block) is refused before it is
    opened, so reading never hangs or grows without bound. Failures are `OSError`s whose `strerror`
    says what is wrong, as for any other unreadable file.
    """
    limit = input_limit()
    status = Path(path).stat()
    if stat.S_ISDIR(status.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a directory, not a file", os.fspath(path))
    if not stat.S_ISREG(status.st_mode):
        raise OSError(errno.EINVAL, "not a regular file (a device, FIFO or socket)", os.fspath(path))
    if status.st_size > limit:
        raise OSError(errno.EFBIG, _too_large(limit), os.fspath(path))
    with Path(path).open("rb") as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:  # it grew after the stat
        raise OSError(errno.EFBIG, _too_large(limit), os.fspath(path))
    return data


def read_stream(stream: TextIO) -> str:
    """Standard input, read up to `input_limit()` characters (more is an `OSError`, as for a file)."""
    limit = input_limit()
    text = stream.read(limit + 1)
    if len(text) > limit:
        raise OSError(errno.EFBIG, _too_large(limit), "<stdin>")
    return text


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
        return read_input(where)
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
    except ValueError as exc:  # an integer of more digits than Python converts (4,300)
        raise JsonFileError(f"invalid JSON: a number too long to read ({exc})", where) from None


def _byte_position(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in bytes) of a byte offset, for errors found before decoding."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, offset - line_start + 1
