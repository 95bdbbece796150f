"""What the runtime tests share: a small model on synthetic data, plans compiled against it, and a probe
callback that records, every epoch, what the scheduler made trainable and the optimizer's groups."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from ftsc.compiler.files import compile_file
from ftsc.namespaces.record import namespace_from_module


class ToyModel(pl.LightningModule):
    """Three trainable blocks: `backbone.0`, `backbone.2` (Linear, between them a ReLU) and `head`."""

    def __init__(self, lr: float = 0.1, scheduler: str | None = None, optimizer: str = "sgd") -> None:
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU())
        self.head = nn.Linear(16, 2)
        self.lr = lr
        self.scheduler = scheduler
        self.optimizer_kind = optimizer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        x, y = batch
        loss = nn.functional.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        x, y = batch
        self.log("val_loss", nn.functional.cross_entropy(self(x), y), sync_dist=True)

    def configure_optimizers(self) -> Any:
        params = [p for p in self.parameters() if p.requires_grad]
        if self.optimizer_kind == "adam":
            optimizer: torch.optim.Optimizer = torch.optim.Adam(params, lr=self.lr)
        else:
            optimizer = torch.optim.SGD(params, lr=self.lr, momentum=0.9)
        if self.scheduler == "step":
            scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
            return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"}}
        return optimizer


def loaders(seed: int = 0, samples: int = 64) -> tuple[DataLoader[Any], DataLoader[Any]]:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(samples, 8, generator=generator)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).long()
    data = TensorDataset(x, y)
    return DataLoader(data, batch_size=16), DataLoader(data, batch_size=32)


THREE_PHASES = """fts 1
defaults {{ epoch_transitions_only = true {extra} }}
phase head {{ thaw head.* until epoch {first} }}
phase upper {{ thaw backbone.2.* lr = 0.05 until epoch {second} }}
phase rest {{ thaw rest lr = 0.01 }}
"""


def compile_plan(text: str, module: nn.Module | None = None) -> dict[str, Any]:
    """Compile `text` against the toy model's namespace; the compile must succeed."""
    namespace = namespace_from_module(module if module is not None else ToyModel())
    result = compile_file(text, None, namespace=namespace)
    errors = [d for d in result.diagnostics if d.is_error]
    assert not errors and result.plan is not None, errors
    return dict(result.plan)


def three_phase_plan(first: int = 1, second: int = 2, extra: str = "") -> dict[str, Any]:
    return compile_plan(THREE_PHASES.format(first=first, second=second, extra=extra))


@dataclass
class EpochRecord:
    epoch: int
    depth: int
    trainable: frozenset[str]
    group_sizes: tuple[int, ...]
    lrs: tuple[float, ...]


def scheduler_depth(trainer: pl.Trainer) -> int:
    """The current phase of the run's scheduler: ftsc's `depth`, or Fine-Tuning Scheduler's `curr_depth`."""
    for callback in trainer.callbacks:  # type: ignore[attr-defined]
        if hasattr(callback, "depth") and hasattr(callback, "plan"):
            return int(callback.depth)
        if hasattr(callback, "curr_depth"):
            return int(callback.curr_depth)
    raise AssertionError("the trainer has no phase scheduler callback")


class Probe(pl.Callback):
    """Records what training looks like at the start of every epoch (after the scheduler's transition)."""

    def __init__(self) -> None:
        self.records: list[EpochRecord] = []

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        optimizer = trainer.optimizers[0]
        self.records.append(
            EpochRecord(
                trainer.current_epoch,
                scheduler_depth(trainer),
                frozenset(n for n, p in pl_module.named_parameters() if p.requires_grad),
                tuple(len(g["params"]) for g in optimizer.param_groups),
                tuple(round(float(g["lr"]), 12) for g in optimizer.param_groups),
            )
        )


# What every test's Trainer leaves out: no logger, progress bar, model summary or sanity validation.
QUIET: dict[str, Any] = {
    "logger": False,
    "enable_progress_bar": False,
    "enable_model_summary": False,
    "num_sanity_val_steps": 0,
}


def trainer(tmp_path: Path, max_epochs: int, callbacks: list[pl.Callback], **kwargs: Any) -> pl.Trainer:
    """An in-process, single-device, deterministic Trainer without checkpointing (`kwargs` override)."""
    options: dict[str, Any] = {
        "accelerator": "cpu",
        "devices": 1,
        "max_epochs": max_epochs,
        **QUIET,
        "enable_checkpointing": False,
        "default_root_dir": tmp_path,
        "deterministic": True,
    }
    options.update(kwargs)
    return pl.Trainer(callbacks=callbacks, **options)


def case_trainer(
    out: Path, strategy: Any, callbacks: list[pl.Callback], max_epochs: int, **kwargs: Any
) -> pl.Trainer:
    """The Trainer of a multi-process case script (DDP, FSDP, ModelParallel): two CPU processes (gloo)
    under `strategy`, writing under `out` (`kwargs` override, e.g. `devices=1` or `enable_checkpointing`)."""
    options: dict[str, Any] = {
        "accelerator": "cpu",
        "devices": 2,
        "strategy": strategy,
        "max_epochs": max_epochs,
        **QUIET,
        "default_root_dir": out,
    }
    options.update(kwargs)
    return pl.Trainer(callbacks=callbacks, **options)


def flat_state(fit: pl.Trainer) -> dict[str, torch.Tensor]:
    """Every parameter, and every tensor of the optimizer state, by a stable key."""
    state = {f"param.{n}": p.detach().clone() for n, p in fit.lightning_module.named_parameters()}
    optimizer = fit.optimizers[0].state_dict()
    for index, entry in optimizer["state"].items():
        for key, value in entry.items():
            if isinstance(value, torch.Tensor):
                state[f"optim.{index}.{key}"] = value.clone()
    for position, group in enumerate(optimizer["param_groups"]):
        state[f"group.{position}.lr"] = torch.tensor(group["lr"])
        state[f"group.{position}.params"] = torch.tensor(group["params"])
    return state
