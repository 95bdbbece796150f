"""Wall time of a cold `ftsc check` process on `examples/bert.fts` (a 201-parameter namespace).

Every run is a new process, as in CI or a pre-commit hook: interpreter start, imports, reading the
namespace file, parsing, checking, printing. Two conditions:

- `no cache`: `FTSC_NO_CACHE=1`, so nothing ftsc could cache on disk is used;
- `warm cache`: a temporary `FTSC_CACHE_DIR`, filled by one untimed run before the timed ones.

Each is measured twice: with the environment's own bytecode setting (where `PYTHONDONTWRITEBYTECODE`
is set and ftsc is installed editable, ftsc has no `.pyc` files and every process compiles its
sources again), and with bytecode cached in a temporary `PYTHONPYCACHEPREFIX` (what an ordinary
install has), so that neither hides the other.

Baselines: `python -c pass` (interpreter start) and `python -c "import lark"` (the parser library).
A separate process runs `ftsc.cli.main(["check", ...])` in-process and reports whether `torch` (or
any other heavy module) was imported. Run: `python benchmarks/cold_check.py [--runs N]`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from benchutil import ROOT, machine, ms, summary, table

TARGET_SECONDS = 0.3
SCHEDULE = "examples/bert.fts"
HEAVY_MODULES = ("torch", "lightning", "numpy", "jsonschema", "yaml", "pygls")

# Runs `ftsc check` in-process, then says which heavy modules that pulled in; fails if torch is one.
_IMPORT_PROBE = """
import contextlib, io, json, sys
from ftsc.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    status = main(["check", {schedule!r}])
heavy = {heavy!r}
print(json.dumps({{
    "exit_status": status,
    "torch_imported": "torch" in sys.modules,
    "heavy_imported": [name for name in heavy if name in sys.modules],
    "modules_loaded": len(sys.modules),
}}))
assert "torch" not in sys.modules, "ftsc check imported torch"
"""


def ftsc_command() -> list[str]:
    """The `ftsc` console script next to this interpreter, else `python -m ftsc`."""
    script = Path(sys.executable).parent / "ftsc"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "ftsc"]


def _environment(overrides: Mapping[str, str], *, pyc_prefix: str | None = None) -> dict[str, str]:
    """This environment without FTSC_* variables, plus `overrides`; with `pyc_prefix`, bytecode is
    written to and read from that folder whatever PYTHONDONTWRITEBYTECODE says."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("FTSC_")}
    if pyc_prefix is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = pyc_prefix
    env.update(overrides)
    return env


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


Case = tuple[Sequence[str], Mapping[str, str]]  # a command and its environment


def _run_once(command: Sequence[str], env: Mapping[str, str]) -> tuple[float, float, int]:
    """Wall and CPU (user + system) seconds of one process, and its exit status."""
    cpu_before = _children_cpu()
    start = time.perf_counter()
    completed = subprocess.run(
        command, cwd=ROOT, env=dict(env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    elapsed = time.perf_counter() - start
    if completed.returncode not in (0, 1):  # 1 is "the schedule has errors", still a full check
        raise RuntimeError(
            f"{' '.join(command)} exited with {completed.returncode}: {completed.stderr.decode()[-2000:]}"
        )
    return elapsed, _children_cpu() - cpu_before, completed.returncode


def time_processes(cases: Mapping[str, Case], runs: int, warmup: int = 1) -> dict[str, dict[str, object]]:
    """Wall time of each case as a fresh process, `runs` times after `warmup` untimed rounds.

    The cases take turns (one of each per round), so a burst of load from other processes falls on
    all of them alike rather than on whichever ran at the time. The CPU time of each process is
    recorded too: it is less disturbed than the wall time when other processes compete for the CPUs.
    """
    wall: dict[str, list[float]] = {name: [] for name in cases}
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    statuses: dict[str, set[int]] = {name: set() for name in cases}
    for round_ in range(warmup + runs):
        for name, (command, env) in cases.items():
            elapsed, cpu_used, status = _run_once(command, env)
            statuses[name].add(status)
            if round_ >= warmup:
                wall[name].append(elapsed)
                cpu[name].append(cpu_used)
    return {
        name: {
            **summary(wall[name]),
            "cpu_median": summary(cpu[name])["median"],
            "exit_status": sorted(statuses[name]),
            "samples": wall[name],
        }
        for name in cases
    }


def import_probe() -> dict[str, object]:
    """Run a check in a fresh interpreter and report which heavy modules it imported."""
    code = _IMPORT_PROBE.format(schedule=SCHEDULE, heavy=HEAVY_MODULES)
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_environment({"FTSC_NO_CACHE": "1"}),
        capture_output=True,
        text=True,
        check=False,
    )
    lines = completed.stdout.strip().splitlines()
    result: dict[str, object] = json.loads(lines[-1]) if lines else {}
    result["probe_exit_status"] = completed.returncode
    result["passed"] = completed.returncode == 0 and result.get("torch_imported") is False
    if completed.returncode != 0:
        result["stderr"] = completed.stderr[-2000:]
    return result


CONDITIONS = {
    "no_cache": "ftsc check, FTSC_NO_CACHE=1",
    "warm_cache": "ftsc check, warm FTSC_CACHE_DIR",
    "no_cache_pyc": "ftsc check, FTSC_NO_CACHE=1, .pyc cached",
    "warm_cache_pyc": "ftsc check, warm FTSC_CACHE_DIR, .pyc cached",
}
BASELINES = {"python_pass": "python -c pass", "python_import_lark": 'python -c "import lark"'}


def bytecode_state() -> dict[str, object]:
    """Whether this environment lets a new process reuse compiled ftsc modules."""
    import importlib.util

    import ftsc.cli

    source = ftsc.cli.__file__
    assert source is not None
    cached = importlib.util.cache_from_source(source)
    return {
        "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE"),
        "PYTHONPYCACHEPREFIX": os.environ.get("PYTHONPYCACHEPREFIX"),
        "ftsc_pyc_present": Path(cached).exists(),
    }


def _fill(command: Sequence[str], env: Mapping[str, str]) -> None:
    subprocess.run(command, cwd=ROOT, env=dict(env), capture_output=True, check=False)


def _count_files(directory: str) -> tuple[int, int]:
    entries = [path for path in Path(directory).rglob("*") if path.is_file()]
    return len(entries), sum(path.stat().st_size for path in entries)


def run(runs: int = 15) -> dict[str, object]:
    """Measure everything; returns what `results.json` records under `cold_check`."""
    python = [sys.executable]
    command = [*ftsc_command(), "check", SCHEDULE]
    results: dict[str, object] = {"command": " ".join(command), "schedule": SCHEDULE, "runs": runs}
    results["bytecode"] = bytecode_state()
    with (
        tempfile.TemporaryDirectory(prefix="ftsc-bench-cache-") as cache,
        tempfile.TemporaryDirectory(prefix="ftsc-bench-pyc-") as pycache,
    ):
        envs = {
            "no_cache": _environment({"FTSC_NO_CACHE": "1"}),
            "warm_cache": _environment({"FTSC_CACHE_DIR": cache}),
            "no_cache_pyc": _environment({"FTSC_NO_CACHE": "1"}, pyc_prefix=pycache),
            "warm_cache_pyc": _environment({"FTSC_CACHE_DIR": cache}, pyc_prefix=pycache),
        }
        _fill(command, envs["warm_cache"])  # fills FTSC_CACHE_DIR
        _fill(command, envs["no_cache_pyc"])  # fills the bytecode cache
        results["cache_entries"], results["cache_bytes"] = _count_files(cache)
        results["pyc_files"], _ = _count_files(pycache)
        cases: dict[str, Case] = {
            "python_pass": ([*python, "-c", "pass"], _environment({})),
            "python_import_lark": ([*python, "-c", "import lark"], _environment({})),
            **{condition: (command, env) for condition, env in envs.items()},
        }
        results.update(time_processes(cases, runs))
    results["import_probe"] = import_probe()
    results["target_seconds"] = TARGET_SECONDS
    for condition in CONDITIONS:
        stats = results[condition]
        assert isinstance(stats, dict)
        results[f"pass_{condition}"] = stats["median"] < TARGET_SECONDS
    return results


def report(results: Mapping[str, object]) -> str:
    rows = []
    for key, label in {**BASELINES, **CONDITIONS}.items():
        stats = results[key]
        assert isinstance(stats, dict)
        verdict = ""
        if key in CONDITIONS:
            verdict = "PASS" if stats["median"] < TARGET_SECONDS else "MISS"
        cells = [ms(stats["median"]), ms(stats["p90"]), ms(stats["min"]), ms(stats["cpu_median"])]
        rows.append([label, *cells, str(stats["runs"]), verdict])
    probe = results["import_probe"]
    bytecode = results["bytecode"]
    assert isinstance(probe, dict)
    assert isinstance(bytecode, dict)
    lines = [
        f"cold `{results['command']}` (target: median under {results['target_seconds']} s)",
        table(["process", "median", "p90", "min", "cpu median", "runs", "target"], rows),
        f"environment: PYTHONDONTWRITEBYTECODE={bytecode['PYTHONDONTWRITEBYTECODE']!r}, "
        f"ftsc .pyc present: {bytecode['ftsc_pyc_present']}; .pyc files in the temporary prefix: "
        f"{results['pyc_files']}",
        f"FTSC_CACHE_DIR entries written by the fill run: {results['cache_entries']} "
        f"({results['cache_bytes']} bytes)",
        f"torch imported by a check: {'yes' if probe.get('torch_imported') else 'no'}"
        f" (heavy modules loaded: {', '.join(probe.get('heavy_imported', [])) or 'none'};"
        f" {probe.get('modules_loaded')} modules in sys.modules) -> {'PASS' if probe['passed'] else 'FAIL'}",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed processes per condition (default 15)")
    args = parser.parse_args(argv)
    print(json.dumps(machine()))
    print(report(run(args.runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
