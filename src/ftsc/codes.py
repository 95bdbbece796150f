"""The stable diagnostic codes: tools, tests, editors and SARIF output rely on their strings.

Each code is a constant of `Code`, which carries its string (`E101`, never renumbered), its severity, its
title and its family; `ftsc.diagnostics.diagnose` takes the constant, so a diagnostic's severity is the
code's and a misspelt code is a type error. `CODES` finds a constant by its string.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from ftsc.severity import Severity


class Family(enum.Enum):
    """Where a code's spans point, and which part of ftsc reports it."""

    LANGUAGE = "language"  # a `.fts` file: the parser, the compiler, the memory check
    FTS_IMPORT = "fts-import"  # an FTS YAML schedule read by `ftsc import-fts`
    FORMAT = "format"  # a versioned plan file or checkpoint state (`ftsc.migrations`)


@dataclass(frozen=True)
class Code:
    code: str  # stable: never renumbered
    severity: Severity  # the code's letter: E error, W warning, I information
    title: str
    family: Family


CODES: Final[dict[str, Code]] = {}
_SEVERITIES = {"E": Severity.ERROR, "W": Severity.WARNING, "I": Severity.INFORMATION}


def _define(code: str, title: str, family: Family) -> Code:
    """A code's constant, registered in `CODES` under its (unique) string; its letter gives its severity."""
    if code in CODES:
        raise ValueError(f"{code} is defined twice")
    CODES[code] = Code(code, _SEVERITIES[code[0]], title, family)
    return CODES[code]


def _language(code: str, title: str) -> Code:
    return _define(code, title, Family.LANGUAGE)


def _fts_import(code: str, title: str) -> Code:
    return _define(code, title, Family.FTS_IMPORT)


def _format(code: str, title: str) -> Code:
    return _define(code, title, Family.FORMAT)


# The `.fts` language: spans in a `.fts` file (the parser, the compiler, the memory check).
INTERNAL_ERROR: Final = _language("E000", "internal error in ftsc (a bug): the file was not checked")
SYNTAX_ERROR: Final = _language("E001", "syntax error")
BAD_FTS_HEADER: Final = _language("E002", "unknown language version in the `fts` header")
MORE_NOT_SHOWN: Final = _language("I003", "more diagnostics than a file shows: the rest are counted")
NO_MATCH: Final = _language("E101", "selector matches no parameter of the namespace")
BAD_PATTERN: Final = _language("E102", "malformed pattern or regex")
UNBOUND_NAME: Final = _language("E103", "`$name` with no `let`")
NAME_BOUND_TWICE: Final = _language("E104", "`let` name bound twice")
ADDS_NOTHING: Final = _language("W105", "selector adds nothing to its phase")
REMOVES_NOTHING: Final = _language("W106", "`except` selector removes nothing")
PREFIX_SHIFT: Final = _language(
    "I107", "every selector matches once the same leading segments are added or dropped"
)
THAWED_TWICE: Final = _language("E201", "parameter thawed by more than one phase")
REST_TWICE: Final = _language("E202", "`rest` used more than once")
OPTIMIZER_IN_PHASE_0: Final = _language("E203", "`optimizer` / `lr_scheduler` set in phase 0")
LR_IN_PHASE_0: Final = _language("W204", "`lr` set in phase 0 is ignored")
EPOCH_NOT_AFTER: Final = _language("W205", "`until epoch` not greater than an earlier phase's")
EPOCH_MISSING: Final = _language(
    "E206", "`epoch_transitions_only` needs `until epoch` on every phase but the last"
)
EMPTY_PHASE: Final = _language("W207", "phase thaws no parameter")
NEVER_THAWED: Final = _language("W208", "parameters never thawed")
DUPLICATE_PHASE_NAME: Final = _language("E209", "duplicate phase name")
SHARED_PARAMETER: Final = _language(
    "W210", "a thaw also thaws names it does not select (they share one parameter)"
)
FROZEN_SWEPT_IN: Final = _language(
    "W211", "a thaw sweeps in parameters the model builds frozen (a LoRA model's base weights)"
)
UNKNOWN_SETTING: Final = _language("E301", "unknown setting")
BAD_VALUE: Final = _language("E302", "value of the wrong type or out of range")
CLASS_NOT_FOUND: Final = _language("E303", "optimizer or lr scheduler class cannot be found")
BAD_ARGUMENTS: Final = _language("E304", "constructor arguments do not fit the class's signature")
UNTESTED_SCHEDULER: Final = _language("W305", "lr scheduler outside the tested set")
PLATEAU_WITHOUT_MONITOR: Final = _language("E306", "`ReduceLROnPlateau` without a `monitor`")
SCHEDULER_CANNOT_CONTINUE: Final = _language("E307", "lr scheduler cannot continue across phase transitions")
BAD_NAMESPACE: Final = _language("E401", "namespace file missing, unreadable or invalid")
BAD_ADAPTER: Final = _language("E402", "unknown adapter, or adapter options it does not accept")
FSDP_UNIT_SPLIT: Final = _language("E403", "flat-parameter FSDP unit split across phases")
NO_NAMESPACE: Final = _language("I404", "no namespace known: name checks skipped")
OUT_OF_MEMORY: Final = _language("E701", "a phase's model states exceed the device memory")
ACTIVATIONS_OVER_MEMORY: Final = _language(
    "W702", "the activation allowance tips a phase over the device memory"
)
MEMORY_NOT_ESTIMATED: Final = _language("I703", "memory not (fully) estimated, and why")

# `ftsc import-fts`: FTS's traps (W501-W508), a note (I509) and what stops an import (E510-E515).
FTS_PREFIX_MATCH: Final = _fts_import("W501", "FTS entry matches past the segment it names (prefix match)")
FTS_UNESCAPED_DOT: Final = _fts_import("W502", "unescaped `.` in an FTS entry matches any character")
FTS_QUANTIFIER_RANGE: Final = _fts_import("W503", "regex quantifier `{m,n}` that reads like a layer range")
FTS_DUPLICATE_KEY: Final = _fts_import("W504", "duplicate key in an FTS schedule")
FTS_UNKNOWN_KEY: Final = _fts_import("W505", "unknown FTS key, which FTS ignores")
FTS_PHASE_ORDER: Final = _fts_import("W506", "FTS phase keys are not 0..N-1 in order")
FTS_NUMBER_STRING: Final = _fts_import("W507", "number that YAML reads as a string")
FTS_TIED_NAME: Final = _fts_import("W508", "FTS entry names a tied parameter's other name (FTS drops it)")
FTS_NO_NAMESPACE: Final = _fts_import("I509", "no namespace: FTS entries taken as written")
FTS_BAD_YAML: Final = _fts_import("E510", "not valid YAML")
FTS_BAD_SCHEDULE: Final = _fts_import("E511", "not a valid FTS schedule")
FTS_BAD_REGEX: Final = _fts_import("E512", "invalid regex in an FTS `params` entry")
FTS_NO_MATCH: Final = _fts_import("E513", "FTS `params` entry matches no parameter")
FTS_SELECTED_TWICE: Final = _fts_import("E514", "parameter selected more than once in an FTS schedule")
FTS_INEXPRESSIBLE: Final = _fts_import("E515", "FTS value that `.fts` cannot express")

# Versioned formats (docs/formats.md): why a plan file or checkpoint state cannot be upgraded.
NEWER_VERSION: Final = _format("E601", "written by a newer ftsc")
NO_VERSION: Final = _format("E602", "format version missing, malformed or too old to upgrade")
WRONG_LAYOUT: Final = _format("E603", "data does not have the layout its format version says")
