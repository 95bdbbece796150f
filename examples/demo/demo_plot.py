"""out/demo.png: the losses and each optimizer group's lr per epoch, with the phases shaded."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display is needed or wanted

import matplotlib.pyplot as plt
from demo_progress import EpochRecord
from matplotlib.axes import Axes

from ftsc.runtime import Transition

SHADES = ("#dbe9f6", "#fde9d4", "#dff2dd", "#efe2f3")


def plot(starts: list[Transition], epochs: list[EpochRecord], path: Path) -> None:
    figure, (losses, lrs) = plt.subplots(2, 1, sharex=True, figsize=(9, 6), height_ratios=(3, 2))
    x = [record.epoch for record in epochs]
    losses.plot(x, [r.train_loss for r in epochs], "o-", label="train loss")
    losses.plot(x, [r.val_loss for r in epochs], "s-", label="val loss")
    by_epoch = {record.epoch: record for record in epochs}
    restored = [by_epoch[s.restored.epoch] for s in starts if s.restored and s.restored.epoch in by_epoch]
    if restored:
        losses.plot(
            [r.epoch for r in restored],
            [r.val_loss for r in restored],
            "*",
            markersize=14,
            color="gold",
            markeredgecolor="black",
            label="best checkpoint, restored for the next phase",
        )
    losses.set_ylabel("cross-entropy")
    losses.legend(loc="best", fontsize="small")
    for depth, name in _group_names(starts).items():
        points = [(r.epoch, r.lrs[r.group_phases.index(depth)]) for r in epochs if depth in r.group_phases]
        if points:
            lrs.step(*zip(*points, strict=True), where="post", marker=".", label=f"lr of `{name}`")
    lrs.set_yscale("log")
    lrs.set_ylabel("lr")
    lrs.set_xlabel("epoch")
    lrs.legend(loc="lower left", fontsize="small")
    _shade(starts, epochs, (losses, lrs))
    figure.suptitle("ftsc demo: fine-tuning phase by phase")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _group_names(starts: list[Transition]) -> dict[int, str]:
    return {s.depth: s.name or f"phase {s.depth}" for s in starts}


def _shade(starts: list[Transition], epochs: list[EpochRecord], axes: tuple[Axes, Axes]) -> None:
    """A band per phase, from its first epoch to the next phase's (half an epoch of margin at each end)."""
    last = epochs[-1].epoch if epochs else 0
    bounds = [s.epoch for s in starts] + [last + 1]
    for index, start in enumerate(starts):
        left, right = bounds[index] - 0.5, bounds[index + 1] - 0.5
        for axis in axes:
            axis.axvspan(left, right, color=SHADES[index % len(SHADES)], zorder=0)
        axes[0].text(
            (left + right) / 2,
            1.01,
            _group_names(starts)[start.depth],
            transform=axes[0].get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize="small",
        )
