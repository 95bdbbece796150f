"""Warnings of one category shown as one-line `ftsc: <label>: …` messages on standard error: how the CLI
reports things that are not errors (a plugin that failed to load, a plan upgraded in memory)."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


@contextmanager
def warnings_as_lines(wanted: type[Warning], label: str, stream: TextIO | None = None) -> Iterator[None]:
    """Within the block, every `wanted` warning prints as `ftsc: {label}: {message}` (each time it occurs);
    other warnings show as usual."""
    with warnings.catch_warnings():
        shown = warnings.showwarning

        def show(
            message: Warning | str,
            category: type[Warning],
            filename: str,
            lineno: int,
            file: TextIO | None = None,
            line: str | None = None,
        ) -> None:
            if issubclass(category, wanted):
                print(f"ftsc: {label}: {message}", file=stream or sys.stderr)
            else:
                shown(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        warnings.simplefilter("always", wanted)
        yield
