"""The stable diagnostic codes: tools, tests and editors rely on them.

E0xx-E4xx and E701-I703 (the memory check) belong to the `.fts` language (spans in a `.fts`
file); W501-E515 to `ftsc import-fts`, whose
spans point into an FTS YAML schedule; E601-E603 to versioned formats (plan files, checkpoint state),
raised by `ftsc.migrations`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ftsc.diagnostics import Severity


@dataclass(frozen=True)
class Code:
    code: str
    severity: Severity
    title: str


_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFORMATION

CODES: dict[str, Code] = {
    code.code: code
    for code in (
        Code("E000", _E, "internal error in ftsc (a bug): the file was not checked"),
        Code("E001", _E, "syntax error"),
        Code("E002", _E, "unknown language version in the `fts` header"),
        Code("I003", _I, "more diagnostics than a file shows: the rest are counted"),
        Code("E101", _E, "selector matches no parameter of the namespace"),
        Code("E102", _E, "malformed pattern or regex"),
        Code("E103", _E, "`$name` with no `let`"),
        Code("E104", _E, "`let` name bound twice"),
        Code("W105", _W, "selector adds nothing to its phase"),
        Code("W106", _W, "`except` selector removes nothing"),
        Code("I107", _I, "every selector matches once the same leading segments are added or dropped"),
        Code("E201", _E, "parameter thawed by more than one phase"),
        Code("E202", _E, "`rest` used more than once"),
        Code("E203", _E, "`optimizer` / `lr_scheduler` set in phase 0"),
        Code("W204", _W, "`lr` set in phase 0 is ignored"),
        Code("W205", _W, "`until epoch` not greater than an earlier phase's"),
        Code("E206", _E, "`epoch_transitions_only` needs `until epoch` on every phase but the last"),
        Code("W207", _W, "phase thaws no parameter"),
        Code("W208", _W, "parameters never thawed"),
        Code("E209", _E, "duplicate phase name"),
        Code("W210", _W, "a thaw also thaws names it does not select (they share one parameter)"),
        Code("W211", _W, "a thaw sweeps in parameters the model builds frozen (a LoRA model's base weights)"),
        Code("E301", _E, "unknown setting"),
        Code("E302", _E, "value of the wrong type or out of range"),
        Code("E303", _E, "optimizer or lr scheduler class cannot be found"),
        Code("E304", _E, "constructor arguments do not fit the class's signature"),
        Code("W305", _W, "lr scheduler outside the tested set"),
        Code("E306", _E, "`ReduceLROnPlateau` without a `monitor`"),
        Code("E307", _E, "lr scheduler cannot continue across phase transitions"),
        Code("E401", _E, "namespace file missing, unreadable or invalid"),
        Code("E402", _E, "unknown adapter, or adapter options it does not accept"),
        Code("E403", _E, "flat-parameter FSDP unit split across phases"),
        Code("I404", _I, "no namespace known: name checks skipped"),
        Code("E701", _E, "a phase's model states exceed the device memory"),
        Code("W702", _W, "the activation allowance tips a phase over the device memory"),
        Code("I703", _I, "memory not (fully) estimated, and why"),
    )
}

# `ftsc import-fts`: FTS's traps (W501-W508), a note (I509) and what stops an import (E510-E515).
FTS_CODES: dict[str, Code] = {
    code.code: code
    for code in (
        Code("W501", _W, "FTS entry matches past the segment it names (prefix match)"),
        Code("W502", _W, "unescaped `.` in an FTS entry matches any character"),
        Code("W503", _W, "regex quantifier `{m,n}` that reads like a layer range"),
        Code("W504", _W, "duplicate key in an FTS schedule"),
        Code("W505", _W, "unknown FTS key, which FTS ignores"),
        Code("W506", _W, "FTS phase keys are not 0..N-1 in order"),
        Code("W507", _W, "number that YAML reads as a string"),
        Code("W508", _W, "FTS entry names a tied parameter's other name (FTS drops it)"),
        Code("I509", _I, "no namespace: FTS entries taken as written"),
        Code("E510", _E, "not valid YAML"),
        Code("E511", _E, "not a valid FTS schedule"),
        Code("E512", _E, "invalid regex in an FTS `params` entry"),
        Code("E513", _E, "FTS `params` entry matches no parameter"),
        Code("E514", _E, "parameter selected more than once in an FTS schedule"),
        Code("E515", _E, "FTS value that `.fts` cannot express"),
    )
}

# Versioned formats (docs/formats.md): why a plan file or checkpoint state cannot be upgraded.
FORMAT_CODES: dict[str, Code] = {
    code.code: code
    for code in (
        Code("E601", _E, "written by a newer ftsc"),
        Code("E602", _E, "format version missing, malformed or too old to upgrade"),
        Code("E603", _E, "data does not have the layout its format version says"),
    )
}

CODES.update(FTS_CODES)
CODES.update(FORMAT_CODES)
