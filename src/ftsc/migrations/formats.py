"""The versioned formats and their current versions: the one place a format's version is defined.

A file or state that ftsc writes carries its format's version under `key`; readers upgrade older
versions through the steps in `ftsc.migrations.registry` and refuse newer ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["CURRENT_VERSIONS", "FORMATS", "Format", "Kind"]

Kind = Literal["plan", "namespace", "checkpoint"]


@dataclass(frozen=True)
class Format:
    """How one kind of data records its version, and what to tell a user whose data has none."""

    kind: Kind
    what: str  # the data in a message: "plan", "namespace file", "checkpoint state"
    key: str  # the field holding the version
    current: int
    # Data without any version key: that version (a format where the key is optional), or None: refuse.
    absent: int | None
    # Older spellings of the key, tried after `key` (the pre-release plan's `version`).
    legacy_keys: tuple[str, ...]
    # What to do about data whose version is missing or not a number.
    remedy: str


FORMATS: dict[Kind, Format] = {
    "plan": Format(
        kind="plan",
        what="plan",
        key="plan_version",
        current=2,
        absent=None,
        legacy_keys=("version",),
        remedy="compile the schedule again with `ftsc compile`",
    ),
    "namespace": Format(
        kind="namespace",
        what="namespace file",
        key="namespace_version",
        current=1,
        absent=1,  # hand-written namespace files may leave the version out (docs/language.md)
        legacy_keys=(),
        remedy="export the namespace again with `ftsc namespace export`",
    ),
    "checkpoint": Format(
        kind="checkpoint",
        what="checkpoint state",
        key="state_version",
        current=2,
        absent=None,
        legacy_keys=(),
        remedy="resume from a checkpoint saved by ftsc's FinetuningScheduler, or start the run afresh",
    ),
}

CURRENT_VERSIONS: dict[Kind, int] = {kind: form.current for kind, form in FORMATS.items()}
