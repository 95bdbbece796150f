"""`make demo`: check and compile demo.fts with the `ftsc` commands, then fine-tune the demo encoder through
every phase of the plan on the CPU, showing the runtime's report of each transition as it happens, and end
with a table per phase and out/demo.png.

    python examples/demo/run.py [--out DIR] [--fast]

`--fast` trains on a handful of samples (a few seconds; what the test runs): every phase is still reached,
since the schedule's `until epoch`s bound each phase's length.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import lightning.pytorch as pl
import torch
from demo_model import DemoEncoder, loaders
from demo_plot import plot
from demo_progress import EpochRecord, EpochRecorder, show_the_report
from demo_summary import phase_rows, render_table
from lightning.pytorch.callbacks import TQDMProgressBar

from ftsc import cli
from ftsc.runtime import FinetuningScheduler, Transition

HERE = Path(__file__).resolve().parent
SCHEDULE = HERE / "demo.fts"
NAMESPACE = HERE / "demo.namespace.json"


@dataclass(frozen=True)
class Size:
    train: int
    val: int
    batch: int
    max_epochs: int  # the last `until epoch` is 7: the final phase gets the epochs after it


FULL = Size(train=2048, val=1024, batch=64, max_epochs=14)
FAST = Size(train=96, val=64, batch=32, max_epochs=9)


@dataclass(frozen=True)
class DemoRun:
    png: Path
    starts: list[Transition]
    epochs: list[EpochRecord]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("out"), help="folder for the plan, run and plot")
    parser.add_argument("--fast", action="store_true", help="a few samples per epoch: seconds, not minutes")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    plan = args.out / "demo.plan.json"
    status = compile_schedule(plan)
    if status != 0:
        return status
    run = fine_tune(plan, args.out, FAST if args.fast else FULL)
    seconds = time.perf_counter() - started
    print(f"\nwrote {run.png}; {len(run.epochs)} epochs, {seconds:.0f} s after the imports")
    return 0


def compile_schedule(plan: Path) -> int:
    """What a user does before a real job: `ftsc check`, `ftsc compile`, `ftsc explain`."""
    for argv in (
        ["check", str(SCHEDULE)],
        ["compile", str(SCHEDULE), "-o", str(plan)],
        ["explain", str(plan), "--namespace", str(NAMESPACE)],
    ):
        print(f"$ ftsc {' '.join(argv)}", flush=True)
        status = cli.main(argv)
        sys.stdout.flush()
        sys.stderr.flush()
        if status != 0:
            return status
    print(flush=True)
    return 0


def fine_tune(plan: Path, out: Path, size: Size) -> DemoRun:
    with demo_settings():
        return _fine_tune(plan, out, size)


def _fine_tune(plan: Path, out: Path, size: Size) -> DemoRun:
    pl.seed_everything(0, verbose=False)
    run_dir = out / "demo-run"
    shutil.rmtree(run_dir, ignore_errors=True)  # best checkpoints of an earlier run would be "restored" here
    scheduler = FinetuningScheduler(plan=plan)  # reports each transition on Lightning's logger
    recorder = EpochRecorder(scheduler)
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=1,
        max_epochs=size.max_epochs,
        callbacks=[scheduler, recorder, TQDMProgressBar()],
        default_root_dir=run_dir,
        logger=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )
    trainer.fit(DemoEncoder(), *loaders(size.train, size.val, size.batch))
    print("\n" + render_table(phase_rows(recorder.starts, recorder.epochs)), end="")
    png = out / "demo.png"
    plot(recorder.starts, recorder.epochs, png)
    return DemoRun(png, recorder.starts, recorder.epochs)


@contextmanager
def demo_settings() -> Iterator[None]:
    """One CPU thread (matrices this small: a second thread costs more than it gives, far more on a busy
    machine), and Lightning kept quiet (no device banner, no advice meant for real data loaders) but for
    ftsc's transition report, shown above the progress bar; all put back afterwards, for callers in the
    same process (the test)."""
    lightning_log = logging.getLogger("lightning.pytorch")
    level, threads = lightning_log.level, torch.get_num_threads()
    lightning_log.setLevel(logging.WARNING)
    torch.set_num_threads(1)
    try:
        with show_the_report(), warnings.catch_warnings():
            warnings.filterwarnings("ignore", ".*does not have many workers.*")
            warnings.filterwarnings("ignore", ".*LeafSpec.*")  # Lightning's own use of a torch API
            yield
    finally:
        lightning_log.setLevel(level)
        torch.set_num_threads(threads)


if __name__ == "__main__":
    sys.exit(main())
