"""One ModelParallelStrategy run (FSDP2 `fully_shard`, DTensor parameters; 2 CPU processes, gloo), launched
by tests/runtime/test_model_parallel_runtime.py as a script. Each rank saves its local shards of every
parameter and every optimizer-state tensor, plus the group layout, to OUT/<label>-rank<N>.pt."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.strategies import ModelParallelStrategy
from runtime_support import ToyModel, case_trainer, loaders, three_phase_plan
from torch.distributed.fsdp import fully_shard
from torch.distributed.tensor import DTensor

from ftsc.runtime import FinetuningScheduler

EPOCHS = 5


class ShardedToy(ToyModel):
    def configure_model(self) -> None:
        mesh = self.device_mesh["data_parallel"]
        for layer in (self.backbone[0], self.backbone[2], self.head):
            fully_shard(layer, mesh=mesh)
        fully_shard(self, mesh=mesh)


def local(tensor: torch.Tensor) -> torch.Tensor:
    return (tensor.to_local() if isinstance(tensor, DTensor) else tensor).detach().clone()


def snapshot(trainer: pl.Trainer) -> dict[str, Any]:
    optimizer = trainer.optimizers[0]
    names = {id(p): n for n, p in trainer.lightning_module.named_parameters()}
    state: dict[str, Any] = {f"param.{n}": local(p) for n, p in trainer.lightning_module.named_parameters()}
    for position, group in enumerate(optimizer.param_groups):
        state[f"group.{position}"] = ([names[id(p)] for p in group["params"]], group["lr"])
        for parameter in group["params"]:
            for key, value in optimizer.state.get(parameter, {}).items():
                if isinstance(value, torch.Tensor):
                    state[f"optim.{names[id(parameter)]}.{key}"] = local(value)
    return state


def main(label: str, out: Path, epochs: int, ckpt: str | None) -> None:
    pl.seed_everything(11, verbose=False)
    saver = ModelCheckpoint(
        dirpath=out / "ckpt", filename="{epoch}", save_top_k=-1, save_on_train_epoch_end=True
    )
    trainer = case_trainer(
        out,
        ModelParallelStrategy(data_parallel_size=2, tensor_parallel_size=1),
        [FinetuningScheduler(plan=three_phase_plan(first=1, second=3)), saver],
        max_epochs=epochs,
    )
    trainer.fit(ShardedToy(lr=0.05, optimizer="adam"), *loaders(samples=128), ckpt_path=ckpt)
    torch.save(snapshot(trainer), out / f"{label}-rank{trainer.global_rank}.pt")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else None)
