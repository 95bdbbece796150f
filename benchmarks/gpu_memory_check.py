"""On one CUDA GPU (prepared for a machine that has one; not run in CI): the memory estimate against the
measured bytes and CUDA's own counters, per phase.

One command, a few minutes on one H100: `python benchmarks/gpu_memory_check.py [--out DIR]`. It fine-tunes
the small phased model of tests/runtime/memory_case.py (three phases, odd sizes) on `cuda:0`, once per case:

- `single`: AdamW, bf16-mixed, and SGD+momentum reinitialised to Adam(amsgrad) in bf16-true;
- `fsdp1-full`, `fsdp1-sharded`: Lightning's FSDPStrategy (use_orig_params, units `head` and `mid`) with
  `state_dict_type` "full" and "sharded" and restore_best on, so the best checkpoint is saved and loaded in
  both forms;
- `fsdp2`: ModelParallelStrategy (`fully_shard` per layer and the root) on a 1-device mesh.

For every phase it prints the measured bytes of parameters, gradients and optimizer state beside the
estimate (they must be equal; the script exits 1 otherwise), and CUDA's `memory_allocated` and
`max_memory_allocated` after the phase's first step, whose difference from the model states is the
activation allowance a schedule can read back (`--activations DIR/<case>.json`). Record what it prints in
docs/distributed.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "runtime"))

import lightning.pytorch as pl  # noqa: E402
import torch  # noqa: E402
from memory_case import FSDP_UNITS, SCHEDULE, OddSizes, ShardedOddSizes, data  # noqa: E402
from runtime_support import compile_plan  # noqa: E402

from ftsc.runtime import FinetuningScheduler  # noqa: E402
from ftsc.runtime.memory_report import FTSMemoryReport  # noqa: E402

CASES: dict[str, dict[str, Any]] = {
    "single-adamw-bf16-mixed": {"strategy": "auto", "precision": "bf16-mixed", "optimizer": ("AdamW", {})},
    "single-sgd-then-adam-bf16-true": {
        "strategy": "auto", "precision": "bf16-true", "optimizer": ("SGD", {"momentum": 0.9}),
        "reinit": "optimizer = Adam(amsgrad = true)",
    },
    "fsdp1-full": {"strategy": "fsdp-full", "precision": "32-true", "optimizer": ("AdamW", {})},
    "fsdp1-sharded": {"strategy": "fsdp-sharded", "precision": "32-true", "optimizer": ("AdamW", {})},
    "fsdp2": {"strategy": "fsdp2", "precision": "bf16-mixed", "optimizer": ("Adam", {})},
}  # fmt: skip


def strategy(kind: str) -> Any:
    if kind.startswith("fsdp-"):
        from lightning.pytorch.strategies import FSDPStrategy

        return FSDPStrategy(state_dict_type=kind.removeprefix("fsdp-"), use_orig_params=True)
    if kind == "fsdp2":
        from lightning.pytorch.strategies import ModelParallelStrategy

        return ModelParallelStrategy(data_parallel_size=1, tensor_parallel_size=1)
    return "auto"


def run_case(name: str, case: dict[str, Any], out: Path) -> list[str]:
    pl.seed_everything(5, verbose=False)
    optimizer, arguments = case["optimizer"]
    kind = case["strategy"]
    model = (ShardedOddSizes if kind == "fsdp2" else OddSizes)(optimizer, arguments)
    adapter = FSDP_UNITS % "true" if kind.startswith("fsdp-") else ""
    schedule = SCHEDULE.format(adapter=adapter, reinit=case.get("reinit", ""))
    if kind.startswith("fsdp-"):
        schedule = schedule.replace("restore_best = false", 'checkpoint = { monitor = "val_loss" }')
    plan = compile_plan(schedule, OddSizes(optimizer, arguments))
    report = out / f"{name}.json"
    trainer = pl.Trainer(
        accelerator="cuda", devices=1, strategy=strategy(kind), precision=case["precision"], max_epochs=3,
        limit_train_batches=4, limit_val_batches=1, num_sanity_val_steps=0, logger=False,
        enable_progress_bar=False, enable_model_summary=False, default_root_dir=out / name,
        callbacks=[FinetuningScheduler(plan=plan), FTSMemoryReport(report)],
    )  # fmt: skip
    train, val = data()
    trainer.fit(model, train, val)
    problems = []
    for phase in json.loads(report.read_text())["phases"]:
        for rank in phase["ranks"]:
            measured, estimate = rank["measured"], rank["estimate"]
            same = estimate is not None and all(
                measured[k] == estimate[k] for k in ("params", "grads", "optimizer")
            )
            print(
                f"{name:<32} phase {phase['index']}  params {measured['params']:>6} "
                f"grads {measured['grads']:>6} "
                f"optimizer {measured['optimizer']:>6}  estimate {'equal' if same else estimate}  "
                f"cuda allocated {measured['cuda_allocated']:>9} peak {measured['cuda_max_allocated']:>9}  "
                f"activations {phase['activations']}"
            )
            if not same:
                problems.append(f"{name} phase {phase['index']}: measured {measured}, estimated {estimate}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("gpu_memory_check"))
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA device: this check needs one GPU", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, lightning {pl.__version__}")
    start = time.perf_counter()
    problems: list[str] = []
    for name, case in CASES.items():
        try:
            problems += run_case(name, case, args.out)
        except Exception as exc:  # one failing case must not hide the others
            problems.append(f"{name}: {type(exc).__name__}: {exc}")
            print(f"{name}: FAILED {type(exc).__name__}: {exc}")
    print(f"{len(CASES)} cases in {time.perf_counter() - start:.0f} s; {len(problems)} problem(s)")
    for problem in problems:
        print("  " + problem)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
