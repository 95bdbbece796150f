"""One ModelParallelStrategy run (2 CPU processes, gloo) whose sharding comes from the `modelparallelstrategy`
adapter's `fsdp_plan`, launched by tests/runtime/test_model_parallel_plan.py as a script. Each rank writes
OUT/rank<N>.json: the modules that are `fully_shard` units, the activation-checkpoint wrappers, the phases
run, the optimizer's groups — or the error that stopped it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.strategies import ModelParallelStrategy
from runtime_support import THREE_PHASES, ToyModel, case_trainer, compile_plan, loaders
from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import ActivationWrapper
from torch.distributed.fsdp import FSDPModule, fully_shard
from torch.distributed.tensor import DTensor

from ftsc.runtime import FinetuningScheduler
from ftsc.runtime.names import canonical_name

PLAN = """
use adapter modelparallelstrategy {
    fsdp_plan = [
        { module = "backbone.*", reshard_after_forward = false },
        { module = "backbone.2", act_ckpt = "wrapped" },
        { module = "head" },
        { module = "backbone" },
    ]
}
"""
# the user shards `backbone` itself; the plan then names a module inside it
NESTED = 'use adapter modelparallelstrategy { fsdp_plan = [{ module = "backbone.0" }] }\n'


class PlannedToy(ToyModel):
    """No `configure_model`: the plan shards everything."""


class HeadShardedToy(ToyModel):
    """Shards `head` itself; the plan, which names `head` too, leaves it as it is."""

    def configure_model(self) -> None:
        fully_shard(self.head, mesh=self.device_mesh["data_parallel"])  # type: ignore[index]


class BackboneShardedToy(ToyModel):
    def configure_model(self) -> None:
        fully_shard(self.backbone, mesh=self.device_mesh["data_parallel"])  # type: ignore[index]


CASES: dict[str, tuple[type[ToyModel], str]] = {
    "planned": (PlannedToy, PLAN),
    "user-head": (HeadShardedToy, PLAN),
    "nested": (BackboneShardedToy, NESTED),
}


def describe(trainer: pl.Trainer, callback: FinetuningScheduler) -> dict[str, Any]:
    module = trainer.lightning_module
    names = {id(p): canonical_name(n) for n, p in module.named_parameters()}
    return {
        "sharded": sorted(canonical_name(n) for n, m in module.named_modules() if isinstance(m, FSDPModule)),
        "wrapped": sorted(
            canonical_name(n) for n, m in module.named_modules() if isinstance(m, ActivationWrapper)
        ),
        "dtensors": all(isinstance(p, DTensor) for p in module.parameters()),
        "depths": [t.depth for t in callback.history],
        "groups": [[names[id(p)] for p in g["params"]] for g in trainer.optimizers[0].param_groups],
        "trained": all(
            bool(torch.count_nonzero(trainer.optimizers[0].state[p]["exp_avg"].to_local()) > 0)
            for g in trainer.optimizers[0].param_groups
            for p in g["params"]
        ),
    }


def main(case: str, out: Path) -> None:
    pl.seed_everything(3, verbose=False)
    model_type, adapter = CASES[case]
    text = THREE_PHASES.format(first=1, second=2, extra="").replace("fts 1\n", "fts 1\n" + adapter, 1)
    callback = FinetuningScheduler(plan=compile_plan(text))
    trainer = case_trainer(
        out,
        ModelParallelStrategy(data_parallel_size=2, tensor_parallel_size=1),
        [callback],
        max_epochs=4,
        enable_checkpointing=False,
    )
    rank = trainer.global_rank
    try:
        trainer.fit(model_type(lr=0.05, optimizer="adam"), *loaders(samples=64))
        result = describe(trainer, callback)
    except Exception as exc:  # the error itself is what the test checks
        result = {"error": f"{type(exc).__name__}: {exc}"}
    (out / f"rank{rank}.json").write_text(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
