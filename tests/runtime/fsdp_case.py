"""One FSDP1 run on 2 CPU processes (gloo) through tests/runtime/fsdp_cpu.py's CPUFSDPStrategy, launched by
tests/runtime/test_fsdp_runtime.py as a script. Each rank writes OUT/<label>-rank<N>.json: the phases run,
the plan names each optimizer group holds, the trainable names — or the error that stopped the run."""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
from fsdp_cpu import CPUFSDPStrategy
from runtime_support import THREE_PHASES, ToyModel, compile_plan, loaders
from torch import nn

from ftsc.runtime import FinetuningScheduler

# head.bias is thawed a phase after head.weight: one flat unit split across phases (E403)
SPLIT = """fts 1
defaults { epoch_transitions_only = true }
phase head { thaw head.weight until epoch 1 }
phase upper { thaw head.bias, backbone.2.* }
"""


def plan(case: str) -> dict[str, Any]:
    if case == "split":
        return compile_plan(SPLIT)
    return compile_plan(THREE_PHASES.format(first=1, second=2, extra=""))


def describe(trainer: pl.Trainer, callback: FinetuningScheduler) -> dict[str, Any]:
    names: dict[int, list[str]] = {}
    for name, parameter in callback._parameters(trainer.lightning_module).items():
        names.setdefault(id(parameter), []).append(name)
    groups = trainer.optimizers[0].param_groups
    return {
        "depths": [t.depth for t in callback.history],
        "groups": [sorted(n for p in g["params"] for n in names[id(p)]) for g in groups],
        "lrs": [g["lr"] for g in groups],
        "trainable": sorted(
            n
            for p, ns in ((p, names[id(p)]) for g in groups for p in g["params"])
            for n in ns
            if p.requires_grad
        ),
        # with use_orig_params a rank may hold none of a small parameter's elements: no state there
        "stepped": sorted(
            n for g in groups for p in g["params"] if trainer.optimizers[0].state[p] for n in names[id(p)]
        ),
    }


def main(case: str, orig: bool, out: Path) -> None:
    pl.seed_everything(5, verbose=False)
    callback = FinetuningScheduler(plan=plan(case))
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=2,
        strategy=CPUFSDPStrategy(
            use_orig_params=orig, auto_wrap_policy={nn.Linear}, state_dict_type="sharded"
        ),
        max_epochs=4,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        callbacks=[callback],
        default_root_dir=out,
    )
    try:
        trainer.fit(ToyModel(lr=0.05, optimizer="adam"), *loaders(samples=64))
        result = describe(trainer, callback)
    except Exception as exc:  # the error itself is what the test checks
        traceback.print_exc()
        result = {"error": f"{type(exc).__name__}: {exc}"}
    (out / f"{case}-rank{trainer.global_rank}.json").write_text(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] == "orig", Path(sys.argv[3]))
