"""The demo's model and data: a small transformer encoder classifier, named as real encoders are
(`embed.*`, `layers.N.attn.*`, `layers.N.mlp.*`, `head.*`), and a synthetic task it can learn in a minute
on a CPU.

The task: each sequence hides a few *keyword* tokens among filler tokens; the label is the keyword that
occurs most often. The classifier reads the first (`[CLS]`) position, so the head alone learns only what
random attention happens to gather there, and every phase that thaws more of the encoder learns more:
the loss goes down phase by phase.
"""

from __future__ import annotations

from typing import Any

import lightning.pytorch as pl
import torch
from torch import nn
from torch.nn import functional
from torch.utils.data import DataLoader, TensorDataset

CLASSES = 4  # keywords 1..4; token 0 is [CLS], the rest filler
VOCAB = 32
LENGTH = 24


class Attention(nn.Module):
    """Multi-head self-attention with separate q/k/v/out projections (the layout most checkpoints use)."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(width, width)
        self.k = nn.Linear(width, width)
        self.v = nn.Linear(width, width)
        self.out = nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, width = x.shape

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(batch, length, self.heads, width // self.heads).transpose(1, 2)

        mixed = functional.scaled_dot_product_attention(split(self.q(x)), split(self.k(x)), split(self.v(x)))
        out: torch.Tensor = self.out(mixed.transpose(1, 2).reshape(batch, length, width))
        return out


class MLP(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(width, 4 * width)
        self.fc2 = nn.Linear(4 * width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.fc2(functional.gelu(self.fc1(x)))
        return out


class Block(nn.Module):
    """A pre-norm encoder layer."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.attn_norm = nn.LayerNorm(width)
        self.attn = Attention(width, heads)
        self.mlp_norm = nn.LayerNorm(width)
        self.mlp = MLP(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.attn_norm(x))
        out: torch.Tensor = x + self.mlp(self.mlp_norm(x))
        return out


class Embeddings(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.tokens = nn.Embedding(VOCAB, width)
        self.positions = nn.Embedding(LENGTH, width)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.tokens(ids) + self.positions(torch.arange(ids.shape[1], device=ids.device))
        return out


class DemoEncoder(pl.LightningModule):
    """A 4-layer transformer encoder with a classification head on the `[CLS]` position."""

    def __init__(self, width: int = 64, depth: int = 4, heads: int = 4, lr: float = 2e-3) -> None:
        super().__init__()
        self.lr = lr
        self.embed = Embeddings(width)
        self.layers = nn.ModuleList(Block(width, heads) for _ in range(depth))
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, CLASSES)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.embed(ids)
        for layer in self.layers:
            x = layer(x)
        logits: torch.Tensor = self.head(self.norm(x[:, 0]))
        return logits

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        ids, labels = batch
        loss = functional.cross_entropy(self(ids), labels)
        self.log("train_loss", loss, on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        ids, labels = batch
        logits = self(ids)
        self.log("val_loss", functional.cross_entropy(logits, labels), prog_bar=True)
        self.log("val_acc", (logits.argmax(-1) == labels).float().mean(), prog_bar=True)

    def configure_optimizers(self) -> Any:
        # Phase 0's optimizer: FinetuningScheduler keeps it and gives it phase 0's parameters only.
        return torch.optim.AdamW(
            (p for p in self.parameters() if p.requires_grad), lr=self.lr, weight_decay=0.01
        )


def keyword_data(samples: int, seed: int) -> TensorDataset:
    """Sequences of filler with 0-4 copies of each keyword at random places; label: the most frequent
    keyword (ties go to the smaller one)."""
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(CLASSES + 1, VOCAB, (samples, LENGTH), generator=generator)
    counts = torch.randint(0, 5, (samples, CLASSES), generator=generator)
    for row in range(samples):
        keywords = torch.repeat_interleave(torch.arange(1, CLASSES + 1), counts[row])
        places = torch.randperm(LENGTH - 1, generator=generator)[: len(keywords)] + 1
        ids[row, places] = keywords
    ids[:, 0] = 0
    return TensorDataset(ids, counts.argmax(dim=1))


def loaders(train: int, val: int, batch_size: int = 64) -> tuple[DataLoader[Any], DataLoader[Any]]:
    return (
        DataLoader(keyword_data(train, seed=0), batch_size=batch_size, shuffle=True),
        DataLoader(keyword_data(val, seed=1), batch_size=256),
    )
