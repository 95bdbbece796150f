"""One FSDP1 run on 2 CPU processes (gloo) through tests/runtime/fsdp_cpu.py's CPUFSDPStrategy, launched by
tests/runtime/test_fsdp_runtime.py and test_fsdp_resume.py as a script.

`fsdp_case.py CASE orig|flat OUT`: each rank writes OUT/<case>-rank<N>.json: the phases run, the plan names
each optimizer group holds, the trainable names — or the error that stopped the run.
`fsdp_case.py resume orig|flat OUT LABEL [CKPT]`: a 5-epoch run (from CKPT when given) saving a sharded
checkpoint every epoch; each rank saves its local shards of every parameter and optimizer-state tensor, and
the group layout, to OUT/<label>-rank<N>.pt."""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from fsdp_cpu import CPUFSDPStrategy
from runtime_support import THREE_PHASES, ToyModel, case_trainer, compile_plan, loaders
from torch import nn
from torch.distributed.fsdp._flat_param import FlatParameter

from ftsc.runtime import FinetuningScheduler, flat_params

RESUME_EPOCHS = 4  # phase 0: epoch 0; phase 1: epochs 1-2; phase 2: epoch 3
# every epoch's checkpoint is kept (restore_best's too), so one run's checkpoints serve every split
KEEP_ALL = 'checkpoint = { monitor = "val_loss", save_top_k = -1 }'

# head.bias is thawed a phase after head.weight: one flat unit split across phases (E403)
SPLIT = """fts 1
defaults { epoch_transitions_only = true }
phase head { thaw head.weight until epoch 1 }
phase upper { thaw head.bias, backbone.2.* }
"""


# `backbone.2` is a unit only through the adapter's `auto_wrap`; `head` through both (the user's policy
# wraps `Head`; the schedule names it too, so E403 knows every unit)
WRAP = """fts 1
use adapter fsdp { auto_wrap = ["backbone.2", "head"], use_orig_params = false }
defaults { epoch_transitions_only = true }
phase head { thaw head.* until epoch 1 }
phase upper { thaw backbone.2.* }
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


class Head(nn.Linear):
    """The only module type the user's own `auto_wrap_policy` names in the `wrap` case."""


def make_trainer(
    orig: bool,
    out: Path,
    epochs: int,
    callbacks: list[pl.Callback],
    policy: set[type[nn.Module]] | None = None,
) -> pl.Trainer:
    strategy = CPUFSDPStrategy(
        use_orig_params=orig, auto_wrap_policy=policy or {nn.Linear}, state_dict_type="sharded"
    )
    return case_trainer(out, strategy, callbacks, max_epochs=epochs)


def snapshot(trainer: pl.Trainer) -> dict[str, Any]:
    """This rank's local shards (FlatParameter shards, or the original parameters' local views under
    use_orig_params) of every parameter and optimizer-state tensor, and each group's names and lr."""
    optimizer = trainer.optimizers[0]
    names = {id(p): n for n, p in trainer.lightning_module.named_parameters()}
    state: dict[str, Any] = {
        f"param.{n}": p.detach().clone() for n, p in trainer.lightning_module.named_parameters()
    }
    for position, group in enumerate(optimizer.param_groups):
        state[f"group.{position}"] = ([names[id(p)] for p in group["params"]], group["lr"])
        for parameter in group["params"]:
            for key, value in optimizer.state.get(parameter, {}).items():
                if isinstance(value, torch.Tensor):
                    state[f"optim.{names[id(parameter)]}.{key}"] = value.detach().clone()
    return state


def resume(orig: bool, out: Path, label: str, ckpt: str | None) -> None:
    pl.seed_everything(11, verbose=False)
    callback = FinetuningScheduler(plan=compile_plan(THREE_PHASES.format(first=1, second=3, extra=KEEP_ALL)))
    trainer = make_trainer(orig, out, RESUME_EPOCHS, [callback])
    trainer.fit(ToyModel(lr=0.05, optimizer="adam"), *loaders(samples=128), ckpt_path=ckpt)
    torch.save(snapshot(trainer), out / f"{label}-rank{trainer.global_rank}.pt")


def wrap(out: Path) -> None:
    """The user's policy wraps `Head` modules, the plan's adapter `backbone.2`: record the FSDP units."""
    pl.seed_everything(5, verbose=False)
    model = ToyModel(lr=0.05, optimizer="adam")
    model.head = Head(16, 2)
    callback = FinetuningScheduler(plan=compile_plan(WRAP))
    trainer = make_trainer(False, out, 1, [callback], policy={Head})
    trainer.fit(model, *loaders(samples=64))
    units = dict(
        flat_params.units(name, parameter)
        for name, parameter in trainer.lightning_module.named_parameters()
        if isinstance(parameter, FlatParameter)
    )
    (out / f"wrap-rank{trainer.global_rank}.json").write_text(json.dumps(units))


def main(case: str, orig: bool, out: Path) -> None:
    pl.seed_everything(5, verbose=False)
    callback = FinetuningScheduler(plan=plan(case))
    trainer = make_trainer(orig, out, 4, [callback])
    try:
        trainer.fit(ToyModel(lr=0.05, optimizer="adam"), *loaders(samples=64))
        result = describe(trainer, callback)
    except Exception as exc:  # the error itself is what the test checks
        traceback.print_exc()
        result = {"error": f"{type(exc).__name__}: {exc}"}
    (out / f"{case}-rank{trainer.global_rank}.json").write_text(json.dumps(result))


if __name__ == "__main__":
    if sys.argv[1] == "wrap":
        wrap(Path(sys.argv[3]))
    elif sys.argv[1] == "resume":
        resume(
            sys.argv[2] == "orig", Path(sys.argv[3]), sys.argv[4], sys.argv[5] if len(sys.argv) > 5 else None
        )
    else:
        main(sys.argv[1], sys.argv[2] == "orig", Path(sys.argv[3]))
