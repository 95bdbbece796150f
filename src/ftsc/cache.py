"""A small on-disk cache of pure results, so a cold `ftsc check` process stays well under 0.3 s.

Entries are keyed by a hash of everything the result depends on (file contents, schema text, ftsc's
version), so a stale entry is never used: it is simply never looked up again. The cache lives in
`$FTSC_CACHE_DIR`, else `$XDG_CACHE_HOME/ftsc`, else `~/.cache/ftsc`; `FTSC_NO_CACHE=1` turns it off.
Any failure to read or write it is ignored: the cache only ever saves time.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ftsc import __version__


def cache_dir() -> Path | None:
    if os.environ.get("FTSC_NO_CACHE"):
        return None
    explicit = os.environ.get("FTSC_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "ftsc"


def key(*parts: str | bytes) -> str:
    digest = hashlib.sha256(__version__.encode())
    for part in parts:
        digest.update(b"\0")
        digest.update(part.encode() if isinstance(part, str) else part)
    return digest.hexdigest()


def get(kind: str, entry: str) -> object | None:
    directory = cache_dir()
    if directory is None:
        return None
    try:
        value: object = json.loads((directory / kind / entry).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value


def put(kind: str, entry: str, value: object) -> None:
    directory = cache_dir()
    if directory is None:
        return
    try:
        from ftsc.io import atomic_write_text

        (directory / kind).mkdir(parents=True, exist_ok=True)
        atomic_write_text(directory / kind / entry, json.dumps(value))
    except (OSError, TypeError, ValueError):
        pass
