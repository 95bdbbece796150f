"""One DDP run (2 CPU processes, gloo), launched by tests/runtime/test_ddp.py as a script: Lightning's
launcher re-runs this file for rank 1. Each rank writes what it saw to OUT/rank<N>.json."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.strategies import DDPStrategy
from runtime_support import ToyModel, case_trainer, compile_plan, loaders, three_phase_plan

from ftsc.runtime import FinetuningScheduler, FtscRuntimeError, distributed


class Replicas(pl.Callback):
    """After each epoch's transition, gather every rank's weights and record whether they are identical."""

    def __init__(self) -> None:
        self.identical: list[bool] = []
        self.depths: list[int] = []

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        flat = torch.cat([p.detach().flatten() for p in pl_module.parameters()])
        gathered = trainer.strategy.all_gather(flat)
        self.identical.append(bool(all(torch.equal(gathered[0], other) for other in gathered)))
        scheduler = next(c for c in trainer.callbacks if isinstance(c, FinetuningScheduler))
        self.depths.append(scheduler.depth)


class RankPlateau(ToyModel):
    """val_loss logged without sync_dist: only rank 0 stops improving, so only its early stopping fires."""

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        worse = self.global_rank == 0 and self.current_epoch > 0
        self.log("val_loss", torch.tensor(2.0 if worse else 1.0 - 0.1 * self.current_epoch))


class RankOneDies(pl.Callback):
    """Rank 1 is killed (SIGKILL) at the start of epoch 1, as an out-of-memory kill or a lost node would."""

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.global_rank == 1 and trainer.current_epoch == 1:
            os.kill(os.getpid(), signal.SIGKILL)


EARLY = """fts 1
defaults { restore_best = false early_stopping = { monitor = "val_loss", patience = 1 } }
phase head { thaw head.* }
phase rest { thaw rest lr = 0.01 }
"""


def main(case: str, out: Path) -> None:
    pl.seed_everything(3, verbose=False)
    model: ToyModel = ToyModel(lr=0.05)
    plan = three_phase_plan(first=1, second=2, extra="restore_best = false")
    if case == "no-rewrap":
        distributed.rewrap_ddp = lambda trainer: False  # DDP keeps the wrap made before anything was frozen
    if case == "early":
        model, plan = RankPlateau(lr=0.05), compile_plan(EARLY)
    if case == "plan-differs" and os.environ.get("LOCAL_RANK", "0") == "1":
        plan = three_phase_plan(first=2, second=3, extra="restore_best = false")
    replicas = Replicas()
    dying = [RankOneDies()] if case == "rank-dies" else []
    trainer = case_trainer(
        out,
        DDPStrategy(process_group_backend="gloo"),
        [FinetuningScheduler(plan=plan), replicas, *dying],
        max_epochs=4,
        enable_checkpointing=False,
    )
    result: dict[str, Any] = {"rank": trainer.global_rank}
    try:
        trainer.fit(model, *loaders(samples=128))
    except FtscRuntimeError as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
    except RuntimeError as exc:  # torch's own refusal (no-rewrap), or gloo's when a peer dies (rank-dies)
        result["error"] = f"RuntimeError: {exc}"
    else:
        result.update(identical=replicas.identical, depths=replicas.depths, epochs=trainer.current_epoch)
    (out / f"rank{trainer.global_rank}.json").write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
