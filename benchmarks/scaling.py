"""How checking, opening and editing grow with the namespace: 1k to 250k names, plotted.

For each size, a DeepSeek-V3-shaped namespace (`models.scaled_names`: as many layers and experts as it
takes) and its schedule (`models.scaled_schedule`: a phase per upper MoE layer, at most 58, then the
lower layers, the dense layers and `thaw rest`) are generated into a temporary folder, and measured:

- `check`: a cold `ftsc check` process, median of `--runs` (the namespace cache filled by an untimed run
  and the bytecode cached, as every check after the first one);
- `check, no cache`: the same with `--no-cache` (reading, validating and indexing the file), one run;
- `open`: a fresh `ftsc lsp` process's didOpen to its first publishDiagnostics (cache filled), median of
  `--runs` servers;
- `edit`: didChange to publishDiagnostics, p50 of `--edits` one-line edits in that server (the default
  `lr` and an `except` range, alternately).

Writes `benchmarks/scaling.png` (time against names, log-log, with a line of slope 1 through each step's
smallest size: a step that grows linearly runs parallel to it) and `benchmarks/scaling.json`.
Run: `python benchmarks/scaling.py [--sizes 1000,3000,...] [--runs N] [--edits N]` (`make bench-scaling`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import models
from benchutil import ROOT, machine, ms, table
from cold_check import ftsc_command
from lsp_latency import Edit, Session

SIZES = (1_000, 3_000, 10_000, 30_000, 100_000, 250_000)
OUTPUT = Path(__file__).resolve().parent / "scaling.png"
STEPS = {"check": "cold check (cache filled)", "open": "LSP open", "edit": "LSP edit (p50)"}


def _environment(folder: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(folder / "pyc")
    env["FTSC_CACHE_DIR"] = str(folder / "cache")
    return env


def _check(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    completed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: {completed.stdout.decode()[-1000:]}")
    return elapsed


def _edits(lines: list[str], count: int) -> list[Edit]:
    """Alternately the default `lr` and the first `except` range `{N..}` (N and N + 1), one at a time."""
    lr_line = lines.index("    lr = 1e-5")
    range_line = next(number for number, line in enumerate(lines) if " except " in line)
    text = lines[range_line]
    start = text.rindex("{") + 1
    low = text[start : text.index("..", start)]
    current = {lr_line: "1e-5", range_line: low}
    found = []
    for index in range(count):
        line = lr_line if index % 2 == 0 else range_line
        old = current[line]
        if line == lr_line:
            new = "2e-5" if old == "1e-5" else "1e-5"
            column = lines[line].index("1e-5")
        else:
            new = str(int(low) + 1) if old == low else low
            column = start
        found.append(Edit(line, column, column + len(old), new))
        current[line] = new
    return found


async def _lsp(folder: Path, schedule: Path, text: str, edits: int) -> tuple[float, list[float]]:
    session = Session()
    env_cache = folder / "cache"
    await session.start(folder, env_cache)
    try:
        opened = await session.open(schedule, text)
        changed = [
            await session.change(version, edit)
            for version, edit in enumerate(_edits(text.splitlines(), edits), start=2)
        ]
    finally:
        await session.stop()
    if session.errors:
        raise RuntimeError("the server logged errors:\n" + "\n".join(session.errors))
    return opened, changed


def measure(size: int, runs: int, edits: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="ftsc-scaling-") as temp:
        folder = Path(temp)
        names = models.scaled_names(size)
        models.write_namespace(folder / "namespace.json", names, f"scaled-{size}")
        text = models.scaled_schedule("namespace.json", size)
        schedule = folder / "schedule.fts"
        schedule.write_text(text, encoding="utf-8")
        env = _environment(folder)
        command = [*ftsc_command(), "check", str(schedule)]
        uncached = _check([*command, "--no-cache"], env)  # also fills the bytecode cache
        _check(command, env)  # fills the namespace cache
        checks = [_check(command, env) for _ in range(runs)]
        previous = os.environ.get("FTSC_CACHE_DIR")
        os.environ["FTSC_CACHE_DIR"] = str(folder / "cache")  # the servers inherit it
        try:
            sessions = [asyncio.run(_lsp(folder, schedule, text, edits)) for _ in range(runs)]
        finally:
            if previous is None:
                os.environ.pop("FTSC_CACHE_DIR", None)
            else:
                os.environ["FTSC_CACHE_DIR"] = previous
    changes = [sample for _, changed in sessions for sample in changed]
    return {
        "size": size,
        "names": len(names),
        "schedule_lines": text.count("\n"),
        "check": statistics.median(checks),
        "check_uncached": uncached,
        "open": statistics.median(opened for opened, _ in sessions),
        "edit": statistics.median(changes),
        "load_average": [round(value, 2) for value in os.getloadavg()],
    }


def plot(rows: Sequence[dict[str, object]], output: Path) -> None:
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 5.5), dpi=120)
    sizes = [float(row["names"]) for row in rows]  # type: ignore[arg-type]
    colours = {"check": "tab:blue", "open": "tab:orange", "edit": "tab:green", "check_uncached": "tab:gray"}
    labels = {**STEPS, "check_uncached": "cold check, --no-cache"}
    for step, colour in colours.items():
        seconds = [float(row[step]) * 1000 for row in rows]  # type: ignore[arg-type]
        style = "--" if step == "check_uncached" else "-"
        axes.plot(sizes, seconds, style, marker="o", color=colour, label=labels[step])
        for x, y in zip(sizes[-1:], seconds[-1:], strict=True):
            axes.annotate(f"{y:.0f} ms", (x, y), textcoords="offset points", xytext=(6, -3), fontsize=8)
        if step != "check_uncached":  # slope 1 (linear growth) through the smallest size
            axes.plot(
                [sizes[0], sizes[-1]],
                [seconds[0], seconds[0] * sizes[-1] / sizes[0]],
                ":",
                color=colour,
                linewidth=1,
                alpha=0.6,
            )
    measured = [float(row[step]) * 1000 for row in rows for step in colours]  # type: ignore[arg-type]
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_ylim(min(measured) / 2, max(measured) * 3)  # the slope-1 guides are clipped, not the data
    plain = matplotlib.ticker.FuncFormatter(lambda value, _: f"{value:g}")
    axes.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda value, _: f"{value / 1000:g}k"))
    axes.yaxis.set_major_formatter(plain)
    axes.set_xlabel("parameter names in the namespace")
    axes.set_ylabel("milliseconds (log)")
    axes.set_title("ftsc at scale: DeepSeek-V3-shaped namespaces, 1k to 250k names")
    axes.grid(True, which="both", alpha=0.3)
    axes.plot([], [], ":", color="black", linewidth=1, label="linear growth from the smallest size")
    axes.legend(fontsize=8, loc="upper left")
    load = rows[-1]["load_average"]
    lines = sorted({int(row["schedule_lines"]) for row in rows})  # type: ignore[call-overload]
    figure.text(
        0.99,
        0.01,
        f"schedules of {lines[0]}-{lines[-1]} lines; {os.cpu_count()} CPUs, load average {load}",
        ha="right",
        fontsize=7,
    )
    figure.tight_layout()
    figure.savefig(output)
    plt.close(figure)


def report(rows: Sequence[dict[str, object]]) -> str:
    cells = [
        [
            str(row["names"]),
            str(row["schedule_lines"]),
            ms(float(row["check"])),  # type: ignore[arg-type]
            ms(float(row["check_uncached"])),  # type: ignore[arg-type]
            ms(float(row["open"])),  # type: ignore[arg-type]
            ms(float(row["edit"])),  # type: ignore[arg-type]
            str(row["load_average"][0]),  # type: ignore[index]
        ]
        for row in rows
    ]
    first, last = rows[0], rows[-1]
    growth = float(last["names"]) / float(first["names"])  # type: ignore[arg-type]
    ratios = ", ".join(
        f"{step} x{float(last[step]) / float(first[step]):.1f}"  # type: ignore[arg-type]
        for step in ("check", "open", "edit")
    )
    headers = ["names", "lines", "check", "check --no-cache", "open", "edit p50", "load"]
    return "\n".join(
        [table(headers, cells), f"{first['names']} -> {last['names']} names (x{growth:.0f}): {ratios}"]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="namespace sizes to measure")
    parser.add_argument("--runs", type=int, default=3, help="check processes and servers per size (3)")
    parser.add_argument("--edits", type=int, default=10, help="edits per server (10)")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="the PNG to write")
    args = parser.parse_args(argv)
    print(json.dumps(machine()))
    rows = []
    for size in (int(value) for value in args.sizes.split(",")):
        rows.append(measure(size, args.runs, args.edits))
        print(f"{rows[-1]['names']} names: done", flush=True)
    print(report(rows))
    plot(rows, args.output)
    args.output.with_suffix(".json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
