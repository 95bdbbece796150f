"""Runs entry points on corpus inputs in this process and prints one JSON line per run, as each ends.

Usage: `python corpus_worker.py JOBS.json`, where the file lists `{"cwd", "tool", "argv"}` jobs (`tool`:
`ftsc` or `ftsc-lightning-mode`). Each line gives the job's index, exit status, CPU seconds, the process's peak
memory so far (MiB) and any exception that escaped the entry point. The parent reads the lines as they come,
so a job that hangs is the one after the last line, and the parent's timeout ends it.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import sys
import time
import traceback
from pathlib import Path

AS_LIMIT = 4 << 30  # bytes of address space: a blow-up fails here instead of swapping the machine


def peak_mib() -> float:
    """This process's peak resident memory. Linux's VmHWM starts afresh at exec; `ru_maxrss` would carry
    over the peak of the process that started this one (pytest), so it is only the fallback."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_job(job: dict[str, object]) -> dict[str, object]:
    from ftsc.cli import main as ftsc_main
    from ftsc.lightning_mode.cli import main as lightning_main

    entry = ftsc_main if job["tool"] == "ftsc" else lightning_main
    argv = [str(argument) for argument in job["argv"]]  # type: ignore[attr-defined]
    out, err = io.StringIO(), io.StringIO()
    escaped = None
    started = time.process_time()  # CPU time: what the input costs, whatever else the machine runs
    os.chdir(str(job["cwd"]))
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status: object = entry(argv)
    except SystemExit as exc:  # argparse
        status = exc.code
    except BaseException as exc:  # a traceback: what must never happen
        status = None
        escaped = "".join(traceback.format_exception(exc))[-2000:]
    seconds = time.process_time() - started
    peak = peak_mib()
    return {
        "status": status,
        "seconds": round(seconds, 3),
        "peak_mib": round(peak, 1),
        "escaped": escaped,
        "stderr": err.getvalue()[-600:],
    }


def main() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))
    jobs = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    for index, job in enumerate(jobs):
        result = run_job(job)
        print(json.dumps({"index": index, **result}), flush=True)


if __name__ == "__main__":
    main()
