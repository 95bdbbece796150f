"""Small helpers shared by the benchmark scripts: summary statistics, the machine, table printing."""

from __future__ import annotations

import math
import os
import platform
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def summary(samples: Sequence[float]) -> dict[str, float | int]:
    """Median, p90 (nearest rank), min and max of `samples` (seconds), and how many there were."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(0.9 * len(ordered)))
    return {
        "median": statistics.median(ordered),
        "p90": ordered[rank - 1],
        "min": ordered[0],
        "max": ordered[-1],
        "runs": len(ordered),
    }


def machine() -> dict[str, object]:
    """What the figures were taken on."""
    try:
        load: list[float] | None = [round(value, 2) for value in os.getloadavg()]
    except OSError:
        load = None
    return {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "load_average": load,
        "executable": sys.executable,
    }


def ms(seconds: float) -> str:
    """`seconds` as milliseconds, for tables."""
    return f"{seconds * 1000:.1f} ms"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table with left-aligned first column and right-aligned others."""
    widths = [len(header) for header in headers]
    for row in rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.ljust(width) if column == 0 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])
