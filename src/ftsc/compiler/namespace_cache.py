"""A persistent cache of loaded, validated namespace files and the sorted order of their names.

A DeepSeek-V3-sized namespace file is 4-5 MB of JSON: parsing it, validating 45,000 entries and indexing
the names for the selectors took most of a cold `ftsc check` and of the language server's first open,
and was done identically on every run. An entry keeps the result as plain data, so the next process
reads it back in a few milliseconds.

Where: `$FTSC_CACHE_DIR`, else `$XDG_CACHE_HOME/ftsc`, else `~/.cache/ftsc` (entries in `namespaces/`).
`FTSC_CACHE_DIR=off` or `ftsc --no-cache` turns it off; `ftsc --cache-dir DIR` moves it.

Never a stale or wrong answer:
- the key is the SHA-256 of the file's bytes together with ftsc's version and this entry format's
  number (never the file's mtime): an edited file, or another ftsc, simply finds no entry;
- only a namespace that loaded and validated without error is stored, and it is stored as the data the
  checks ran on, so a hit is exactly what a fresh load would give;
- an entry is written to a temporary file in the same folder and renamed into place, so concurrent
  processes (pre-commit runs several) each see a whole entry or none; two writers of one key write the
  same bytes;
- reading checks a header (magic, format, the full key, the payload's length and SHA-256) before it
  decodes anything, and the decoded value's types after; a truncated, corrupt or foreign entry is a miss,
  and is rebuilt. The payload is `marshal` of tuples, strings, bytes and ints: marshal builds data and
  never imports or calls anything (pickle does); a digest mismatch rejects accidental corruption before
  marshal reads a byte. (A user who can write to your cache folder can already change your shell's
  start-up files, so deliberate tampering is outside what a cache can defend against.)
- a folder that cannot be created or written (read-only, full disk) only means no entry is kept.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import sys
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ftsc import __version__

__all__ = ["CacheEntry", "cache_folder", "configure", "read_entry", "store", "write_entry"]

FORMAT = 1  # bump whenever what an entry holds, or what a valid namespace is, changes
_MAGIC = b"FTSCNS\x00"
_KEEP_ENTRIES = 16  # per cache folder: the most recently used namespaces
# Smaller files are read as they are: parsing and checking them costs less than hashing and decoding an
# entry (BERT's 40 KB namespace loads in about 2 ms).
MIN_BYTES = 256 * 1024
_OFF = {"", "0", "off", "false", "no", "none"}


@dataclass
class _Choice:
    """What the command line chose for this process (nothing: the environment decides)."""

    folder: Path | None = None
    enabled: bool = True


_CHOICE = _Choice()


def configure(folder: str | os.PathLike[str] | None = None, *, enabled: bool = True) -> None:
    """Set the cache folder for this process (`--cache-dir`) or turn the cache off (`--no-cache`);
    no arguments: back to what the environment says."""
    _CHOICE.folder = Path(folder).expanduser() if folder is not None else None
    _CHOICE.enabled = enabled


def cache_folder() -> Path | None:
    """Where namespace entries are kept; None when the cache is off."""
    if not _CHOICE.enabled:
        return None
    if _CHOICE.folder is not None:
        return _CHOICE.folder / "namespaces"
    chosen = os.environ.get("FTSC_CACHE_DIR")
    if chosen is not None:
        if chosen.strip().lower() in _OFF:
            return None
        return Path(chosen).expanduser() / "namespaces"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "ftsc" / "namespaces"


@dataclass(frozen=True)
class CacheEntry:
    """A validated namespace as plain data: what `Namespace` and its index are rebuilt from."""

    names: tuple[str, ...]
    model: str | None
    adapter: str
    modules: tuple[tuple[str, str], ...]
    aliases: tuple[tuple[str, str], ...]
    # Per parameter, an index into `shapes` / `dtypes` (0: unknown) and requires_grad (0 unknown, 1, 2).
    shapes: tuple[tuple[int, ...] | None, ...]
    shape_ids: array[int]
    dtypes: tuple[str | None, ...]
    dtype_ids: array[int]
    requires_grad: bytes
    fingerprint: str
    sorted_positions: array[int]  # positions in the order of their names, sorted


def _digest(data: bytes) -> bytes:
    import hashlib  # here: its OpenSSL binding is slow to load, and a check without a namespace skips it

    return hashlib.sha256(data).digest()


def content_key(content: bytes) -> str:
    """The entry name of a namespace file's bytes, for this ftsc and this format."""
    return _digest(b"%d\x00%s\x00" % (FORMAT, __version__.encode()) + content).hex()


def _entry_path(folder: Path, key: str) -> Path:
    return folder / f"{key}.ftscns"


def read_entry(content: bytes) -> tuple[str, CacheEntry | None]:
    """(the key of `content`, its entry when the cache holds a sound one, else None)."""
    key = content_key(content)
    folder = cache_folder()
    if folder is None:
        return key, None
    path = _entry_path(folder, key)
    try:
        with path.open("rb") as stream:
            blob = stream.read()
    except OSError:
        return key, None
    entry = _decode(blob, key)
    if entry is not None:
        with contextlib.suppress(OSError):
            os.utime(path)  # most recently used: kept when the folder is pruned
    return key, entry


def _decode(blob: bytes, key: str) -> CacheEntry | None:
    header_end = len(_MAGIC) + 4 + 32 + 8 + 32
    if len(blob) < header_end or not blob.startswith(_MAGIC):
        return None
    at = len(_MAGIC)
    if int.from_bytes(blob[at : at + 4], "little") != FORMAT or blob[at + 4 : at + 36] != bytes.fromhex(key):
        return None
    length = int.from_bytes(blob[at + 36 : at + 44], "little")
    payload = blob[header_end:]
    if len(payload) != length or _digest(payload) != blob[at + 44 : header_end]:
        return None
    try:
        data = marshal.loads(payload)
    except (ValueError, EOFError, TypeError):
        return None
    return _entry_from(data)


def _entry_from(data: object) -> CacheEntry | None:
    """The entry, if `data` has exactly the shape `_encode` writes; None for anything else."""
    if type(data) is not tuple or len(data) != 12:
        return None
    names, model, adapter, modules, aliases, shapes, shape_ids, dtypes, dtype_ids = data[:9]
    requires_grad, fingerprint, order = data[9:]
    count = len(names) if type(names) is tuple and _all_strings(names) else -1
    if not (
        count >= 0
        and (model is None or type(model) is str)
        and type(adapter) is str
        and _pairs(modules)
        and _pairs(aliases)
        and type(shapes) is tuple
        and type(dtypes) is tuple
        and all(type(dtype) is str or dtype is None for dtype in dtypes)
        and type(requires_grad) is bytes
        and len(requires_grad) == count
        and type(fingerprint) is str
    ):
        return None
    for shape in shapes:
        if shape is not None and (type(shape) is not tuple or not all(type(n) is int for n in shape)):
            return None
    columns = [_positions(shape_ids, "I"), _positions(dtype_ids, "I"), _positions(order, "I")]
    if any(column is None or len(column) != count for column in columns):
        return None
    shape_column, dtype_column, order_column = columns
    assert shape_column is not None and dtype_column is not None and order_column is not None
    if count and (max(shape_column) >= len(shapes) or max(dtype_column) >= len(dtypes)):
        return None
    return CacheEntry(
        names, model, adapter, modules, aliases, shapes, shape_column, dtypes, dtype_column,
        requires_grad, fingerprint, order_column,
    )  # fmt: skip


def _all_strings(names: tuple[object, ...]) -> bool:
    try:
        "\n".join(names)  # type: ignore[arg-type]  # in C: TypeError at the first one that is not
    except TypeError:
        return False
    return True


def _pairs(value: object) -> bool:
    return type(value) is tuple and all(
        type(pair) is tuple and len(pair) == 2 and type(pair[0]) is str and type(pair[1]) is str
        for pair in value
    )


def _positions(raw: object, typecode: str) -> array[int] | None:
    if type(raw) is not bytes:
        return None
    column = array(typecode)
    if len(raw) % column.itemsize:
        return None
    column.frombytes(raw)
    return column


def write_entry(key: str, entry: CacheEntry) -> bool:
    """Store `entry` under `key` (atomically); False when the cache is off or cannot be written."""
    folder = cache_folder()
    return folder is not None and _write(folder, key, _blob(key, entry))


def _blob(key: str, entry: CacheEntry) -> bytes:
    payload = _encode(entry)
    header = (_MAGIC, FORMAT.to_bytes(4, "little"), bytes.fromhex(key), len(payload).to_bytes(8, "little"))
    return b"".join((*header, _digest(payload), payload))


def _write(folder: Path, key: str, blob: bytes) -> bool:
    target = _entry_path(folder, key)
    temp = folder / f".{key}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with temp.open("xb") as stream:
            stream.write(blob)
        temp.replace(target)
    except OSError:
        with contextlib.suppress(OSError):
            temp.unlink()
        return False
    _prune(folder)
    return True


def _encode(entry: CacheEntry) -> bytes:
    data = (
        entry.names,
        entry.model,
        entry.adapter,
        entry.modules,
        entry.aliases,
        entry.shapes,
        entry.shape_ids.tobytes(),
        entry.dtypes,
        entry.dtype_ids.tobytes(),
        entry.requires_grad,
        entry.fingerprint,
        entry.sorted_positions.tobytes(),
    )
    return marshal.dumps(data, 4)


def _prune(folder: Path) -> None:
    """Keep the most recently used entries; another process removing the same file is fine."""
    try:
        entries = [(path.stat().st_mtime_ns, path) for path in folder.glob("*.ftscns")]
    except OSError:
        return
    if len(entries) <= _KEEP_ENTRIES:
        return
    entries.sort(reverse=True)
    for _, path in entries[_KEEP_ENTRIES:]:
        with contextlib.suppress(OSError):
            path.unlink()


def store(key: str, entry: CacheEntry) -> CacheEntry | None:
    """Keep a freshly loaded and validated namespace's entry (`Namespace.cache_entry`) under `key`.

    Returns the entry as the next process will read it (None when nothing was stored): a long-lived
    process (the language server) keeps that instead of the namespace built from the JSON, whose objects
    lie scattered among the parsed document's freed ones and would hold its memory.
    """
    folder = cache_folder()
    if folder is None:
        return None
    blob = _blob(key, entry)
    return _decode(blob, key) if _write(folder, key, blob) else None


def columns(values: Sequence[object]) -> tuple[tuple[Any, ...], array[int]]:
    """A table of the distinct values (None first) and each value's index in it."""
    table: dict[object, int] = {None: 0}
    ids = array("I", [table.setdefault(value, len(table)) for value in values])
    return tuple(table), ids


if sys.byteorder != "little":  # pragma: no cover - the arrays are stored in the machine's order
    _MAGIC = b"FTSCNSB"
