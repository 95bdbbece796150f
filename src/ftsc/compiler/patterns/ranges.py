"""Regular expressions for decimal integer ranges, so `{0..11}` compiles into one regex, not a loop.

Numbers are canonical: `0`, or digits without a leading zero (`07` is not in `{0..10}`), which is how
PyTorch names the children of `nn.Sequential` and `nn.ModuleList`.
"""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=1024)
def range_regex(lo: int, hi: int | None) -> str:
    """A regex (no anchors, no groups that capture) matching canonical integers in [lo, hi]."""
    if hi is None:
        return _at_least(lo)
    parts = []
    for digits in range(len(str(lo)), len(str(hi)) + 1):
        low = max(lo, 0 if digits == 1 else 10 ** (digits - 1))
        high = min(hi, 10**digits - 1)
        if low <= high:
            parts.extend(_same_length(str(low), str(high)))
    return "(?:" + "|".join(parts) + ")"


def _at_least(lo: int) -> str:
    """Canonical integers >= lo: those of lo's length that are >= lo, and every longer one."""
    length = len(str(lo))
    parts = _same_length(str(lo), "9" * length)
    parts.append(f"[1-9][0-9]{{{length},}}")
    return "(?:" + "|".join(parts) + ")"


def _same_length(low: str, high: str) -> list[str]:
    """Alternatives covering [low, high] for two numbers written with the same number of digits."""
    if low == high:
        return [low]
    if len(low) == 1:
        return [_digit_class(low, high)]
    common = 0
    while low[common] == high[common]:
        common += 1
    prefix = low[:common]
    low_rest, high_rest = low[common:], high[common:]
    tail = len(low_rest) - 1
    if low_rest[1:] == "0" * tail and high_rest[1:] == "9" * tail:
        return [prefix + _digit_class(low_rest[0], high_rest[0]) + _any_digits(tail)]
    parts = [prefix + low_rest[0] + part for part in _same_length(low_rest[1:], "9" * tail)]
    first, last = int(low_rest[0]) + 1, int(high_rest[0]) - 1
    if first <= last:
        parts.append(prefix + _digit_class(str(first), str(last)) + _any_digits(tail))
    parts.extend(prefix + high_rest[0] + part for part in _same_length("0" * tail, high_rest[1:]))
    return parts


def _digit_class(low: str, high: str) -> str:
    return low if low == high else f"[{low}-{high}]"


def _any_digits(count: int) -> str:
    if count == 0:
        return ""
    return "[0-9]" if count == 1 else f"[0-9]{{{count}}}"
