"""Versioned formats: plans, namespace files and checkpoint state, and the steps that upgrade them.

`upgrade(kind, data)` is the one place old data is brought to the current version: `ftsc upgrade`
rewrites plan files with it, `read_plan` upgrades in memory, and the runtime calls
`upgrade("checkpoint", state)` on checkpoint load. Pure Python: never imports torch.
"""

from __future__ import annotations

from ftsc.migrations.errors import MigrationError
from ftsc.migrations.formats import CURRENT_VERSIONS, FORMATS, Format, Kind
from ftsc.migrations.notes import FormatUpgradedWarning, notes_on_stderr, warn_upgraded
from ftsc.migrations.registry import STEPS, Step, steps_of, upgrade, version_of

__all__ = [
    "CURRENT_VERSIONS",
    "FORMATS",
    "STEPS",
    "Format",
    "FormatUpgradedWarning",
    "Kind",
    "MigrationError",
    "Step",
    "notes_on_stderr",
    "steps_of",
    "upgrade",
    "version_of",
    "warn_upgraded",
]
