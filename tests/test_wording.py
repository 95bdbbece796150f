"""Counts in messages: singular for one, the right plural otherwise."""

from __future__ import annotations

import pytest

from ftsc.wording import counted


@pytest.mark.parametrize(
    ("count", "noun", "expected"),
    [
        (1, "alias", "1 alias"),
        (2, "alias", "2 aliases"),
        (0, "phase", "0 phases"),
        (1, "parameter or buffer", "1 parameter or buffer"),
        (3, "parameter or buffer", "3 parameters or buffers"),
        (12345, "parameter", "12,345 parameters"),
    ],
)
def test_counted(count: int, noun: str, expected: str) -> None:
    assert counted(count, noun) == expected
