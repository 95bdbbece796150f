"""Reading checkpoint files: refusing a damaged one before Lightning loads it, and reading the callback's
own saved state without loading the tensors.

A checkpoint that was copied in part, cut short by a full disk or damaged on its way is a zip archive
(torch's format) with its table of contents missing or records whose CRC does not match. torch would stop
with "PytorchStreamReader failed reading zip archive", naming no file, or load records it can read; the
run must instead stop before anything is restored, saying which file and what to do.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

import torch

from ftsc.runtime.errors import CheckpointFileError


def check_checkpoint_file(path: str | os.PathLike[str]) -> None:
    """Raise `CheckpointFileError` unless `path` is a complete, undamaged torch checkpoint archive.

    Folders (sharded checkpoints) and files torch wrote in its legacy, non-zip format are left to their
    loaders; every record of a zip checkpoint is read and its CRC checked (one pass over the file).
    """
    where = Path(path)
    if not where.is_file():
        return
    with where.open("rb") as stream:
        legacy = stream.read(4) != b"PK\x03\x04"
    if legacy:
        if where.stat().st_size == 0:
            raise _damaged(where, "the file is empty")
        return
    try:
        with zipfile.ZipFile(where) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise _damaged(where, f"it is cut short or not a whole archive ({exc})") from None
    if bad is not None:
        raise _damaged(where, f"its record `{bad}` is damaged (CRC mismatch)")


def check_before_loading(strategy: Any) -> None:
    """Wrap the strategy's `load_checkpoint` (what `Trainer.fit(ckpt_path=…)` restores through, after the
    callbacks' `setup`) so every checkpoint file is checked first; wrapping twice is a no-op."""
    load = strategy.load_checkpoint
    if getattr(load, "ftsc_checked", False):
        return

    def load_checkpoint(checkpoint_path: Any, *args: Any, **kwargs: Any) -> Any:
        check_checkpoint_file(checkpoint_path)
        return load(checkpoint_path, *args, **kwargs)

    load_checkpoint.ftsc_checked = True  # type: ignore[attr-defined]
    strategy.load_checkpoint = load_checkpoint


def read_callback_state(path: str, key: str) -> dict[str, Any] | None:
    """The callback's state saved in a checkpoint file, or in a distributed checkpoint folder's metadata,
    without reading the tensors (memory-mapped); None when it holds none."""
    location = Path(path)
    file = location / "meta.pt" if location.is_dir() else location
    if not file.is_file():
        return None
    data = torch.load(file, map_location="cpu", weights_only=False, mmap=location.is_file())
    state = data.get("callbacks", {}).get(key) if isinstance(data, dict) else None
    return state if isinstance(state, dict) else None


def _damaged(path: Path, why: str) -> CheckpointFileError:
    return CheckpointFileError(
        f"{path}: this checkpoint is damaged and was not loaded: {why}; resume from an earlier checkpoint "
        "(a checkpoint cut short by a killed save or a full disk cannot be repaired)"
    )
