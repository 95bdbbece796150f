"""The one error a format upgrade raises, with its stable code (see `ftsc.codes`)."""

from __future__ import annotations

import json

from ftsc.codes import Code

__all__ = ["MigrationError", "show"]


class MigrationError(ValueError):
    """Data that cannot be brought to the current version of its format.

    `message` says what and the way out, without a location: callers put the file or checkpoint in
    front. `str()` adds the code, e.g. `… upgrade ftsc [E601]`; `code` is its string, as in diagnostics.
    """

    def __init__(self, message: str, code: Code) -> None:
        super().__init__(message)
        self.message = message
        self.code = code.code

    def __str__(self) -> str:
        return f"{self.message} [{self.code}]"


def show(value: object) -> str:
    """A value for a message: JSON where it is JSON (checkpoint state may hold anything), shortened."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
