"""One training run that may be killed (SIGKILL) on purpose, launched as a script by test_faults.py.

    python kill_case.py OUT [--kill-at-step N | --kill-in-save EPOCH] [--resume CKPT]

Fits the toy model through a three-phase plan for EPOCHS epochs, saving a checkpoint after every epoch in
OUT/ckpt. `--kill-at-step` kills the process after that training step; `--kill-in-save` kills it in the
middle of writing the checkpoint of that epoch (after half its bytes). A run that ends writes every
parameter and optimizer tensor to OUT/final.pt.
"""

from __future__ import annotations

import argparse
import os
import signal
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.fabric.plugins.io import torch_io
from lightning.pytorch.callbacks import ModelCheckpoint
from runtime_support import ToyModel, flat_state, loaders, three_phase_plan, trainer

from ftsc.runtime import FinetuningScheduler

EPOCHS = 5


class KillAtStep(pl.Callback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        if trainer.global_step == self.step:
            os.kill(os.getpid(), signal.SIGKILL)


def kill_in_save(epoch: int) -> None:
    """Make the checkpoint write of `epoch` die half-way, inside Lightning's own write path."""
    original = torch_io._atomic_save

    def dying_save(checkpoint: dict[str, Any], filepath: Any) -> None:
        if checkpoint.get("epoch") != epoch:
            original(checkpoint, filepath)
            return
        import io

        import fsspec

        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
        data = buffer.getvalue()
        fs, path = fsspec.core.url_to_fs(str(filepath))
        with fs.transaction, fs.open(path, "wb") as stream:
            stream.write(data[: len(data) // 2])
            stream.flush()
            os.kill(os.getpid(), signal.SIGKILL)

    torch_io._atomic_save = dying_save  # the name TorchCheckpointIO.save_checkpoint calls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--kill-at-step", type=int)
    parser.add_argument("--kill-in-save", type=int)
    parser.add_argument("--resume", type=Path)
    args = parser.parse_args()
    callbacks: list[pl.Callback] = [FinetuningScheduler(plan=three_phase_plan(first=1, second=3))]
    callbacks.append(
        ModelCheckpoint(
            dirpath=args.out / "ckpt",
            filename="{epoch}",
            save_top_k=-1,
            every_n_epochs=1,
            save_on_train_epoch_end=True,
        )
    )
    if args.kill_at_step is not None:
        callbacks.append(KillAtStep(args.kill_at_step))
    if args.kill_in_save is not None:
        kill_in_save(args.kill_in_save)
    pl.seed_everything(7, verbose=False)
    fit = trainer(args.out, EPOCHS, callbacks, enable_checkpointing=True)
    fit.fit(ToyModel(lr=0.1, scheduler="step"), *loaders(), ckpt_path=args.resume)
    torch.save(flat_state(fit), args.out / "final.pt")


if __name__ == "__main__":
    main()
