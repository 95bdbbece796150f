"""Telling the user that data was upgraded in memory, and how to make that permanent.

Reading an older plan works (the upgrade runs in memory) but costs a little on every read and hides
that the file is old, so readers issue one `FormatUpgradedWarning`; the CLI shows it as a
`ftsc: note: …` line and Python programs (the Lightning runtime) see an ordinary warning.
"""

from __future__ import annotations

import shlex
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TextIO

from ftsc.migrations.formats import FORMATS
from ftsc.migrations.registry import Step

__all__ = ["FormatUpgradedWarning", "notes_on_stderr", "warn_upgraded"]


class FormatUpgradedWarning(UserWarning):
    """Data in an older format version was upgraded in memory; the file itself is unchanged."""


def warn_upgraded(where: str, steps: Sequence[Step], *, stacklevel: int = 2) -> None:
    """One warning for a file read through `steps`, naming the command that rewrites it."""
    first = steps[0]
    what = FORMATS[first.kind].what
    warnings.warn(
        f"{where}: {what} version {first.source} upgraded in memory to {steps[-1].target}; "
        f"run `ftsc upgrade {shlex.quote(where)}` to rewrite it",
        FormatUpgradedWarning,
        stacklevel=stacklevel + 1,
    )


@contextmanager
def notes_on_stderr(stream: TextIO | None = None) -> Iterator[None]:
    """Show every FormatUpgradedWarning as an `ftsc: note: …` line; other warnings as usual."""
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
            if issubclass(category, FormatUpgradedWarning):
                print(f"ftsc: note: {message}", file=stream or sys.stderr)
            else:
                shown(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        warnings.simplefilter("always", FormatUpgradedWarning)
        yield
