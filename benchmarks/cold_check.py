"""Wall time of a cold `ftsc check` process on `examples/bert.fts` (a 201-parameter namespace).

Every run is a new process, as in CI or a pre-commit hook: interpreter start, imports, reading the
namespace file, parsing, checking, printing. Two conditions:

- `as installed`: the environment as it is. Where `PYTHONDONTWRITEBYTECODE` is set (this project's
  environment sets it) and ftsc is installed editable, no process writes ftsc's `.pyc` files, so
  every process compiles again each source that has no up-to-date `.pyc` already;
- `.pyc cached`: bytecode kept in a temporary `PYTHONPYCACHEPREFIX`, filled by one untimed run before
  the timed ones (what an ordinary install, which writes `.pyc` files, has).

Baselines: `python -c pass` (interpreter start), `python -c "import lark"` (the parser library) and the
floor, `python -c "import lark, jsonschema"` (ftsc's two libraries): the ratios are to the floor's median.

At scale: `ftsc check` of a 61-phase schedule against a DeepSeek-V3-shaped namespace (45,395 names, experts
unfused; generated into a temporary folder, `models.py`), with the namespace cache filled by the untimed
run (`45k, cached`: what every check after the first one sees) and with `--no-cache` (`45k, no cache`:
reading, validating and indexing the 4.7 MB file). Every ftsc process keeps its namespace cache in a
temporary `FTSC_CACHE_DIR`.
A separate process runs `ftsc.cli.main(["check", ...])` in-process and reports whether `torch` (or
any other heavy module) was imported. Run: `python benchmarks/cold_check.py [--runs N]`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import models
from benchutil import ROOT, machine, ms, summary, table

TARGET_SECONDS = 0.3
SMALL_RATIO_GOAL = 1.25  # cold check of BERT over the floor
LARGE_RATIO_GOAL = 2.0  # cold check of the 45k-name schedule, cache filled, over the floor
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

CONDITIONS = {"as_installed": "ftsc check, as installed", "pyc_cached": "ftsc check, .pyc cached"}
LARGE = {
    "large_cached": "ftsc check, 45k names, cached",
    "large_uncached": "ftsc check, 45k names, --no-cache",
}
BASELINES = {
    "python_pass": "python -c pass",
    "python_import_lark": 'python -c "import lark"',
    "floor": 'floor: python -c "import lark, jsonschema"',
}


def ftsc_command() -> list[str]:
    """The `ftsc` console script next to this interpreter, else `python -m ftsc`."""
    script = Path(sys.executable).parent / "ftsc"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "ftsc"]


def _environment(*, pyc_prefix: str | None = None, cache: str | None = None) -> dict[str, str]:
    """This environment as it is; with `pyc_prefix`, bytecode is written to and read from that
    folder whatever PYTHONDONTWRITEBYTECODE says; with `cache`, the namespace cache is kept there."""
    env = dict(os.environ)
    if cache is not None:
        env["FTSC_CACHE_DIR"] = cache
    if pyc_prefix is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = pyc_prefix
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
        env=_environment(),
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


def _pyc_current(source: Path) -> bool:
    """Whether `source` has a `.pyc` (where this environment looks for one) that Python would use."""
    try:
        with Path(importlib.util.cache_from_source(str(source))).open("rb") as cached:
            header = cached.read(16)
        stat = source.stat()
    except OSError:
        return False
    if len(header) < 16 or header[:4] != importlib.util.MAGIC_NUMBER:
        return False
    if int.from_bytes(header[4:8], "little") & 1:  # hash-based: valid against the source's hash
        return True
    mtime, size = int.from_bytes(header[8:12], "little"), int.from_bytes(header[12:16], "little")
    return mtime == int(stat.st_mtime) & 0xFFFFFFFF and size == stat.st_size & 0xFFFFFFFF


def bytecode_state() -> dict[str, object]:
    """Whether this environment lets a new process reuse compiled ftsc modules."""
    spec = importlib.util.find_spec("ftsc")
    assert spec is not None and spec.submodule_search_locations is not None
    sources = sorted(
        source for folder in spec.submodule_search_locations for source in Path(folder).rglob("*.py")
    )
    current = sum(1 for source in sources if _pyc_current(source))
    return {
        "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE"),
        "PYTHONPYCACHEPREFIX": os.environ.get("PYTHONPYCACHEPREFIX"),
        "ftsc_modules": len(sources),
        "ftsc_pyc_current": current,
        "ftsc_pyc_present": current > 0,
    }


def large_schedule(folder: Path) -> Path:
    """The DeepSeek-V3-shaped namespace and its 61-phase schedule, written into `folder`."""
    models.write_namespace(folder / "deepseek-v3.json", models.deepseek_v3_names(), "deepseek-v3")
    schedule = folder / "deepseek-v3.fts"
    schedule.write_text(models.deepseek_v3_schedule("deepseek-v3.json"), encoding="utf-8")
    return schedule


def run(runs: int = 15) -> dict[str, object]:
    """Measure everything; returns what `results.json` records under `cold_check`."""
    python = [sys.executable]
    command = [*ftsc_command(), "check", SCHEDULE]
    results: dict[str, object] = {"command": " ".join(command), "schedule": SCHEDULE, "runs": runs}
    results["bytecode"] = bytecode_state()
    with tempfile.TemporaryDirectory(prefix="ftsc-bench-cold-") as folder:
        work = Path(folder)
        pycache, cache = str(work / "pyc"), str(work / "cache")
        large = [*ftsc_command(), "check", str(large_schedule(work))]
        results["large_command"] = " ".join([*large[-2:]])
        envs = {
            "as_installed": _environment(cache=cache),
            "pyc_cached": _environment(pyc_prefix=pycache, cache=cache),
        }
        # One untimed run fills the bytecode prefix (ftsc, lark, the standard library, ...); another the
        # namespace cache with the large namespace.
        subprocess.run(command, cwd=ROOT, env=envs["pyc_cached"], capture_output=True, check=False)
        subprocess.run(large, cwd=ROOT, env=envs["pyc_cached"], capture_output=True, check=False)
        results["pyc_files"] = sum(1 for path in Path(pycache).rglob("*.pyc") if path.is_file())
        cases: dict[str, Case] = {
            "python_pass": ([*python, "-c", "pass"], _environment()),
            "python_import_lark": ([*python, "-c", "import lark"], _environment()),
            "floor": ([*python, "-c", "import lark, jsonschema"], _environment()),
            **{condition: (command, env) for condition, env in envs.items()},
            "large_cached": (large, envs["pyc_cached"]),
            "large_uncached": ([*large, "--no-cache"], envs["pyc_cached"]),
        }
        results.update(time_processes(cases, runs))
    results["import_probe"] = import_probe()
    results["target_seconds"] = TARGET_SECONDS
    floor = _median(results, "floor")
    for condition in CONDITIONS:
        results[f"pass_{condition}"] = _median(results, condition) < TARGET_SECONDS
    for condition in (*CONDITIONS, *LARGE):
        results[f"ratio_{condition}"] = _median(results, condition) / floor
    results["ratio_goals"] = {"pyc_cached": SMALL_RATIO_GOAL, "large_cached": LARGE_RATIO_GOAL}
    return results


def _median(results: Mapping[str, object], key: str) -> float:
    stats = results[key]
    assert isinstance(stats, dict)
    return float(stats["median"])


def report(results: Mapping[str, object]) -> str:
    rows = []
    goals = {"pyc_cached": SMALL_RATIO_GOAL, "large_cached": LARGE_RATIO_GOAL}
    for key, label in {**BASELINES, **CONDITIONS, **LARGE}.items():
        stats = results[key]
        assert isinstance(stats, dict)
        verdict = ""
        if key in CONDITIONS:
            verdict = "PASS" if stats["median"] < TARGET_SECONDS else "MISS"
        ratio = results.get(f"ratio_{key}")
        shown = f"{ratio:.2f}x" if isinstance(ratio, float) else ""
        if key in goals and isinstance(ratio, float):
            shown += f" (goal <= {goals[key]}x: {'PASS' if ratio <= goals[key] else 'MISS'})"
        cells = [ms(stats["median"]), ms(stats["p90"]), ms(stats["min"]), ms(stats["cpu_median"])]
        rows.append([label, *cells, str(stats["runs"]), verdict, shown])
    probe = results["import_probe"]
    bytecode = results["bytecode"]
    assert isinstance(probe, dict)
    assert isinstance(bytecode, dict)
    lines = [
        f"cold `{results['command']}` (target: median under {results['target_seconds']} s)",
        table(["process", "median", "p90", "min", "cpu median", "runs", "< 0.3 s", "/ floor"], rows),
        f"as installed: PYTHONDONTWRITEBYTECODE={bytecode['PYTHONDONTWRITEBYTECODE']!r}, "
        f"PYTHONPYCACHEPREFIX={bytecode['PYTHONPYCACHEPREFIX']!r}; ftsc modules with an up-to-date .pyc: "
        f"{bytecode['ftsc_pyc_current']} of {bytecode['ftsc_modules']}",
        f".pyc cached: {results['pyc_files']} .pyc files written to the temporary prefix by the fill run",
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
