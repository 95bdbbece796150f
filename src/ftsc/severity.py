"""How serious a diagnostic is: LSP's DiagnosticSeverity values, so the language server passes them on."""

from __future__ import annotations

import enum


class Severity(enum.IntEnum):
    """LSP's DiagnosticSeverity values, so the language server can pass them through unchanged."""

    ERROR = 1
    WARNING = 2
    INFORMATION = 3
    HINT = 4

    @property
    def label(self) -> str:
        return {1: "error", 2: "warning", 3: "information", 4: "hint"}[self.value]
