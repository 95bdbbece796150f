"""The table the demo ends with: one row per phase, from the per-epoch records."""

from __future__ import annotations

from dataclasses import dataclass

from demo_progress import EpochRecord

from ftsc.runtime import Transition


@dataclass(frozen=True)
class PhaseRow:
    depth: int
    name: str
    first_epoch: int
    last_epoch: int
    trainable: int
    best_val_loss: float
    best_epoch: int
    val_acc: float  # at the best epoch
    lr_start: float  # the phase's own optimizer group
    lr_end: float


def phase_rows(starts: list[Transition], epochs: list[EpochRecord]) -> list[PhaseRow]:
    rows = []
    for start in starts:
        depth = start.depth
        mine = [record for record in epochs if record.depth == depth]
        if not mine:  # the fit ended before this phase trained an epoch
            continue
        best = min(mine, key=lambda record: record.val_loss)
        group = mine[0].group_phases.index(depth)
        rows.append(
            PhaseRow(
                depth=depth,
                name=start.name or f"phase {depth}",
                first_epoch=mine[0].epoch,
                last_epoch=mine[-1].epoch,
                trainable=start.trainable,
                best_val_loss=best.val_loss,
                best_epoch=best.epoch,
                val_acc=best.val_acc,
                lr_start=mine[0].lrs[group],
                lr_end=mine[-1].lrs[group],
            )
        )
    return rows


def render_table(rows: list[PhaseRow]) -> str:
    header = ("#", "phase", "epochs", "trainable params", "best val_loss", "val_acc", "lr (own group)")
    body = [
        (
            str(row.depth),
            row.name,
            f"{row.first_epoch}-{row.last_epoch} ({row.last_epoch - row.first_epoch + 1})",
            f"{row.trainable:,}",
            f"{row.best_val_loss:.3f} (epoch {row.best_epoch})",
            f"{row.val_acc:.1%}",
            f"{row.lr_start:.2g}"
            if row.lr_start == row.lr_end
            else f"{row.lr_start:.2g} -> {row.lr_end:.2g}",
        )
        for row in rows
    ]
    widths = [max(len(line[column]) for line in [header, *body]) for column in range(len(header))]
    numeric = {0, 3}

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            cell.rjust(width) if index in numeric else cell.ljust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(cells) for cells in body)]) + "\n"
