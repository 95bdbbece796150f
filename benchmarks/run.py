"""Run every ftsc benchmark, print a summary against the targets and write `benchmarks/results.json`.

Run from anywhere with the project's interpreter: `.venv/bin/python benchmarks/run.py`
(`--quick` for fewer runs while iterating). See benchmarks/README.md for what is measured.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import cold_check
import compile_50k
import lsp_latency
from benchutil import machine, ms, table

RESULTS = Path(__file__).resolve().parent / "results.json"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def summary_rows(
    cold: Mapping[str, object], compiled: Mapping[str, object], lsp: Mapping[str, object]
) -> list[list[str]]:
    rows = []
    target = f"< {ms(cold_check.TARGET_SECONDS)}"
    for condition, goal in (
        ("pyc_cached", cold_check.SMALL_RATIO_GOAL),
        ("large_cached", cold_check.LARGE_RATIO_GOAL),
    ):
        ratio = cold[f"ratio_{condition}"]
        assert isinstance(ratio, float)
        label = {**cold_check.CONDITIONS, **cold_check.LARGE}[condition]
        rows.append([f"{label} / floor", f"{ratio:.2f}x", f"<= {goal}x", _verdict(ratio <= goal)])
    for condition, label in cold_check.CONDITIONS.items():
        stats = cold[condition]
        assert isinstance(stats, dict)
        rows.append(
            [
                f"cold {label}",
                f"{ms(stats['median'])} (p90 {ms(stats['p90'])})",
                target,
                _verdict(stats["median"] < cold_check.TARGET_SECONDS),
            ]
        )
    probe = cold["import_probe"]
    assert isinstance(probe, dict)
    rows.append(
        [
            "torch imported by `ftsc check`",
            "yes" if probe.get("torch_imported") else "no",
            "no",
            "PASS" if probe.get("passed") else "FAIL",
        ]
    )
    stats = compiled["compile"]
    assert isinstance(stats, dict)
    rows.append(
        [
            f"compile_schedule, {compiled['names']} names, 40 selectors",
            f"{ms(stats['median'])} (p90 {ms(stats['p90'])})",
            f"< {ms(compile_50k.TARGET_SECONDS)}",
            _verdict(stats["median"] < compile_50k.TARGET_SECONDS),
        ]
    )
    index = compiled["index"]
    assert isinstance(index, dict)
    rows.append(["namespace index, first call (lazy)", ms(index["median"]), "-", "info"])
    recompile = compiled["recompile"]
    assert isinstance(recompile, dict)
    rows.append(["re-compile, selector results kept (as the LSP does)", ms(recompile["median"]), "-", "info"])
    fts = compiled["fts"]
    assert isinstance(fts, dict)
    rows.append(["FTS-style resolution (re.match x names)", ms(fts["median"]), "-", "info"])
    ratio, fastest = compiled["ratio_fts_over_compile"], compiled["ratio_fts_over_compile_min"]
    assert isinstance(ratio, float)
    assert isinstance(fastest, float)
    rows.append(
        [
            "FTS-style / ftsc compile",
            f"{ratio:.2f}x (fastest runs {fastest:.2f}x)",
            f">= {compile_50k.RATIO_GOAL:g}x",
            _verdict(ratio >= compile_50k.RATIO_GOAL),
        ]
    )
    check = compiled["check"]
    assert isinstance(check, dict)
    rows.append(["same names selected as FTS regexes", str(check["all_sets_equal"]), "True", "PASS"])
    for key, label, target in (
        (
            "change",
            "LSP didChange to publishDiagnostics, 300 lines x 50k names",
            lsp_latency.CHANGE_TARGET_SECONDS,
        ),
        ("hover", "LSP hover", lsp_latency.HOVER_TARGET_SECONDS),
        ("completion", "LSP completion (up to 256 items)", lsp_latency.COMPLETION_TARGET_SECONDS),
    ):
        stats = lsp[key]
        assert isinstance(stats, dict)
        rows.append(
            [
                f"{label} (p95)",
                f"{ms(stats['p95'])} (p50 {ms(stats['p50'])})",
                f"< {ms(target)}",
                _verdict(stats["p95"] < target),
            ]
        )
    opened = lsp["open"]
    assert isinstance(opened, dict)
    rows.append(
        [
            "LSP open to first diagnostics, cache filled",
            f"{ms(opened['p50'])} (p95 {ms(opened['p95'])})",
            f"< {ms(lsp_latency.OPEN_TARGET_SECONDS)}",
            _verdict(opened["p50"] < lsp_latency.OPEN_TARGET_SECONDS),
        ]
    )
    uncached = lsp["open_uncached"]
    assert isinstance(uncached, float)
    rows.append(["LSP open, cache empty (first open ever)", ms(uncached), "-", "info"])
    memory = lsp["memory_kb"]
    assert isinstance(memory, dict)
    resident = memory["VmRSS"] / 1024
    rows.append(
        [
            "LSP server memory, VmRSS (VmHWM)",
            f"{resident:.0f} MiB ({memory['VmHWM'] / 1024:.0f} MiB)",
            f"<= {lsp_latency.MEMORY_TARGET_MIB} MiB",
            _verdict(resident <= lsp_latency.MEMORY_TARGET_MIB),
        ]
    )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed processes per cold-check condition (15)")
    parser.add_argument("--repeats", type=int, default=15, help="timed runs of each compile step (15)")
    parser.add_argument("--fts-repeats", type=int, default=5, help="timed runs of the FTS loop (5)")
    parser.add_argument("--lsp-rounds", type=int, default=3, help="language-server processes measured (3)")
    parser.add_argument("--runtime-runs", type=int, default=5, help="timed fits per runtime condition (5)")
    parser.add_argument("--quick", action="store_true", help="5 runs of everything, 2 of the FTS loop")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON results")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.repeats, args.fts_repeats, args.lsp_rounds = 5, 5, 2, 1
        args.runtime_runs = 2

    before = machine()
    print(
        f"machine: {before['cpu_count']} CPUs, Python {before['python']} ({before['implementation']}), "
        f"{before['platform']}; load average {before['load_average']}"
    )
    print()
    cold = cold_check.run(args.runs)
    print(cold_check.report(cold))
    print()
    compiled = compile_50k.run(args.repeats, args.fts_repeats)
    print(compile_50k.report(compiled))
    print()
    lsp = lsp_latency.run(args.lsp_rounds)
    print(lsp_latency.report(lsp))
    print()
    import runtime_overhead  # imports torch and lightning: only after the benchmarks that time without them

    runtime = runtime_overhead.run(args.runtime_runs)
    print(runtime_overhead.report(runtime))
    print()
    after = machine()
    rows = summary_rows(cold, compiled, lsp) + runtime_overhead.summary_rows(runtime)
    print(table(["benchmark", "measured (median)", "target", "result"], rows))
    print(f"load average after: {after['load_average']} (timings are noisy while other processes run)")

    results = {
        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": before,
        "load_average_after": after["load_average"],
        "targets": {
            "cold_check_seconds": cold_check.TARGET_SECONDS,
            "compile_50k_seconds": compile_50k.TARGET_SECONDS,
            "lsp_change_p95_seconds": lsp_latency.CHANGE_TARGET_SECONDS,
            "lsp_hover_p95_seconds": lsp_latency.HOVER_TARGET_SECONDS,
            "lsp_completion_p95_seconds": lsp_latency.COMPLETION_TARGET_SECONDS,
            "lsp_open_p50_seconds": lsp_latency.OPEN_TARGET_SECONDS,
            "lsp_memory_mib": lsp_latency.MEMORY_TARGET_MIB,
            "cold_check_ratio_small": cold_check.SMALL_RATIO_GOAL,
            "cold_check_ratio_large": cold_check.LARGE_RATIO_GOAL,
            "runtime_overhead_percent": runtime_overhead.TARGET_OVERHEAD_PERCENT,
        },
        "cold_check": cold,
        "compile_50k": compiled,
        "lsp_latency": lsp,
        "runtime_overhead": runtime,
    }
    args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
