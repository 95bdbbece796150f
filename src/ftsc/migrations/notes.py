"""Telling the user that data was upgraded in memory, and how to make that permanent.

Reading an older plan works (the upgrade runs in memory) but costs a little on every read and hides
that the file is old, so readers issue one `FormatUpgradedWarning`; the CLI shows it as a
`ftsc: note: …` line and Python programs (the Lightning runtime) see an ordinary warning.
"""

from __future__ import annotations

import shlex
import warnings
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TextIO

from ftsc.migrations.formats import FORMATS
from ftsc.migrations.registry import Step
from ftsc.warning_lines import warnings_as_lines

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


def notes_on_stderr(stream: TextIO | None = None) -> AbstractContextManager[None]:
    """Show every FormatUpgradedWarning as an `ftsc: note: …` line; other warnings as usual."""
    return warnings_as_lines(FormatUpgradedWarning, "note", stream)
