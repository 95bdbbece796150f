"""The stable diagnostic codes of the `.fts` language: tools, tests and editors rely on them."""

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
        Code("E001", _E, "syntax error"),
        Code("E002", _E, "unknown language version in the `fts` header"),
        Code("E101", _E, "selector matches no parameter of the namespace"),
        Code("E102", _E, "malformed pattern or regex"),
        Code("E103", _E, "`$name` with no `let`"),
        Code("E104", _E, "`let` name bound twice"),
        Code("W105", _W, "selector adds nothing to its phase"),
        Code("W106", _W, "`except` selector removes nothing"),
        Code("E201", _E, "parameter thawed by more than one phase"),
        Code("E202", _E, "`rest` used more than once"),
        Code("E203", _E, "`optimizer` / `lr_scheduler` set in phase 0"),
        Code("W204", _W, "`lr` set in phase 0 is ignored"),
        Code("W205", _W, "`until epoch` not greater than an earlier phase's"),
        Code("E206", _E, "`epoch_transitions_only` needs `until epoch` on every phase but the last"),
        Code("W207", _W, "phase thaws no parameter"),
        Code("W208", _W, "parameters never thawed"),
        Code("E209", _E, "duplicate phase name"),
        Code("E301", _E, "unknown setting"),
        Code("E302", _E, "value of the wrong type or out of range"),
        Code("E303", _E, "optimizer or lr scheduler class cannot be found"),
        Code("E304", _E, "constructor arguments do not fit the class's signature"),
        Code("W305", _W, "lr scheduler outside the tested set"),
        Code("E306", _E, "`ReduceLROnPlateau` without a `monitor`"),
        Code("E401", _E, "namespace file missing, unreadable or invalid"),
        Code("E402", _E, "unknown adapter, or adapter options it does not accept"),
        Code("E403", _E, "flat-parameter FSDP unit split across phases"),
        Code("I404", _I, "no namespace known: name checks skipped"),
    )
}
