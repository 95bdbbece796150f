"""Memory runs for tests/runtime/test_memory_exact.py: a small model with odd sizes (uneven FSDP2 shards,
FSDP1 padding) fine-tuned through three phases under one strategy, once per optimizer configuration, with
FTSMemoryReport writing what each phase kept on each rank beside the estimate.

`memory_case.py STRATEGY OUT CONFIG…` (STRATEGY: single, ddp, fsdp, fsdp-flat, fsdp2; CONFIG: an entry of
CONFIGS, `@PRECISION` appended to pick a precision): writes OUT/<config>.json (rank zero, every rank's
records) or OUT/<config>-error-rank<N>.txt."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from runtime_support import case_trainer, compile_plan
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from ftsc.runtime import FinetuningScheduler
from ftsc.runtime.memory_report import FTSMemoryReport

# name -> (phase 0's optimizer class, its arguments, the phase-2 reinitialisation or "")
CONFIGS: dict[str, tuple[str, dict[str, Any], str]] = {
    "sgd": ("SGD", {}, ""),
    "sgd-momentum": ("SGD", {"momentum": 0.9}, ""),
    "adam-amsgrad": ("Adam", {"amsgrad": True}, ""),
    "adamw": ("AdamW", {"weight_decay": 0.01}, ""),
    "rmsprop-centered-momentum": ("RMSprop", {"momentum": 0.5, "centered": True}, ""),
    "adagrad": ("Adagrad", {}, ""),
    "nadam": ("NAdam", {}, ""),
    "adamax": ("Adamax", {}, ""),
    "radam": ("RAdam", {}, ""),
    "adadelta": ("Adadelta", {}, ""),
    "rprop": ("Rprop", {}, ""),
    "asgd": ("ASGD", {}, ""),
    "adafactor": ("Adafactor", {}, ""),
    "sgd-then-adam": ("SGD", {"momentum": 0.9}, "optimizer = Adam(amsgrad = true)"),
}

SCHEDULE = """fts 1
{adapter}
defaults {{ epoch_transitions_only = true restore_best = false }}
phase head {{ thaw head.* until epoch 1 }}
phase mid {{ thaw mid.* lr = 0.01 until epoch 2 }}
phase rest {{ thaw rest lr = 0.01 {reinit} }}
"""
FSDP_UNITS = 'use adapter fsdp { auto_wrap = ["head", "mid"], use_orig_params = %s }'


class OddSizes(pl.LightningModule):
    """Sizes that divide unevenly over 2 ranks: an embedding of 11 rows, matrices of 7 and 3 rows."""

    def __init__(self, optimizer: str, arguments: dict[str, Any]) -> None:
        super().__init__()
        self.embed = nn.Embedding(11, 5)
        self.body = nn.Linear(5, 7)
        self.norm = nn.LayerNorm(7)
        self.mid = nn.Linear(7, 3)
        self.head = nn.Linear(3, 2)
        self.optimizer_class, self.arguments = optimizer, arguments

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        hidden = self.norm(self.body(self.embed(tokens).mean(dim=1)))
        return self.head(torch.relu(self.mid(torch.relu(hidden))))

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        tokens, labels = batch
        return nn.functional.cross_entropy(self(tokens), labels)

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        tokens, labels = batch
        self.log("val_loss", nn.functional.cross_entropy(self(tokens), labels), sync_dist=True)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        params = [p for p in self.parameters() if p.requires_grad]
        optimizer: torch.optim.Optimizer = getattr(torch.optim, self.optimizer_class)(
            params, lr=0.05, **self.arguments
        )
        return optimizer


class ShardedOddSizes(OddSizes):
    def configure_model(self) -> None:
        from torch.distributed.fsdp import fully_shard

        mesh = self.device_mesh["data_parallel"]
        for layer in (self.body, self.mid):
            fully_shard(layer, mesh=mesh)
        fully_shard(self, mesh=mesh)


def data() -> tuple[DataLoader[Any], DataLoader[Any]]:
    generator = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, 11, (32, 4), generator=generator)
    labels = (tokens.sum(dim=1) % 2).long()
    dataset = TensorDataset(tokens, labels)
    return DataLoader(dataset, batch_size=8), DataLoader(dataset, batch_size=16)


# Each run measures three phases on two batches, and writes no checkpoint.
SHORT: dict[str, Any] = {"limit_train_batches": 2, "limit_val_batches": 1, "enable_checkpointing": False}


def strategy(kind: str) -> Any:
    if kind == "ddp":
        from lightning.pytorch.strategies import DDPStrategy

        return DDPStrategy(process_group_backend="gloo")
    if kind in ("fsdp", "fsdp-flat"):
        from fsdp_cpu import CPUFSDPStrategy

        return CPUFSDPStrategy(process_group_backend="gloo", use_orig_params=kind == "fsdp")
    if kind == "fsdp2":
        from lightning.pytorch.strategies import ModelParallelStrategy

        return ModelParallelStrategy(data_parallel_size=2, tensor_parallel_size=1)
    return "auto"


def run(kind: str, config: str, out: Path) -> None:
    name, _, precision = config.partition("@")
    optimizer, arguments, reinit = CONFIGS[name]
    pl.seed_everything(5, verbose=False)
    model = (ShardedOddSizes if kind == "fsdp2" else OddSizes)(optimizer, arguments)
    adapter = (
        FSDP_UNITS % ("true" if kind == "fsdp" else "false")
        if kind.startswith("fsdp-") or kind == "fsdp"
        else ""
    )
    plan = compile_plan(SCHEDULE.format(adapter=adapter, reinit=reinit), OddSizes(optimizer, arguments))
    report = FTSMemoryReport(out / f"{config}.json")
    trainer = case_trainer(
        out,
        strategy(kind),
        [FinetuningScheduler(plan=plan), report],
        max_epochs=3,
        devices=1 if kind == "single" else 2,
        precision=precision or "32-true",
        **SHORT,
    )
    train, val = data()
    try:
        trainer.fit(model, train, val)
    except Exception:
        (out / f"{config}-error-rank{trainer.global_rank}.txt").write_text(traceback.format_exc())


class TinyGPT2(pl.LightningModule):
    """A real Hugging Face model, built from a tiny config (its lm_head is tied to the token embedding)."""

    def __init__(self) -> None:
        super().__init__()
        from transformers import GPT2Config, GPT2LMHeadModel

        config = GPT2Config(vocab_size=11, n_positions=8, n_embd=12, n_layer=2, n_head=2)
        self.model = GPT2LMHeadModel(config)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        tokens, _ = batch
        return self.model(input_ids=tokens, labels=tokens).loss

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        tokens, _ = batch
        self.log("val_loss", self.model(input_ids=tokens, labels=tokens).loss)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW([p for p in self.parameters() if p.requires_grad], lr=1e-3)


HF_SCHEDULE = """fts 1
defaults { epoch_transitions_only = true restore_best = false }
phase top { thaw model.transformer.ln_f.*, model.transformer.h.1.mlp.** until epoch 1 }
phase block { thaw model.transformer.h.1.** except model.transformer.h.1.mlp.** until epoch 2 }
phase rest { thaw rest }
"""


def run_hf(precision: str, out: Path) -> None:
    pl.seed_everything(5, verbose=False)
    model = TinyGPT2()
    plan = compile_plan(HF_SCHEDULE, TinyGPT2())
    trainer = case_trainer(
        out,
        "auto",
        [FinetuningScheduler(plan=plan), FTSMemoryReport(out / f"gpt2@{precision}.json")],
        max_epochs=3,
        devices=1,
        precision=precision,
        **SHORT,
    )
    train, val = data()
    trainer.fit(model, train, val)


def main(kind: str, out: Path, configs: list[str]) -> None:
    for config in configs:
        run(kind, config, out)


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), sys.argv[3:])
