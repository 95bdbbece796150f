"""`ftsc explain --memory`: the memory table (per phase, the fullest rank or every rank) and the picture
(`--memory-png`: one stacked bar per phase against the device memory, and which blocks of the model thaw in
which phase; matplotlib is imported only here, only when asked)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from ftsc.compiler import Namespace
from ftsc.compiler.memory.budget import Budget, format_bytes
from ftsc.compiler.memory.model import MemoryPlan, PhaseMemory, RankMemory

HEADERS = [
    "#",
    "phase",
    "rank",
    "trainable",
    "weights",
    "grads",
    "optimizer",
    "states",
    "restore",
    "headroom",
]
NUMERIC = {"#", "rank", "trainable", "weights", "grads", "optimizer", "states", "restore", "headroom"}


def describe_config(plan: MemoryPlan, budget: Budget | None) -> str:
    config = plan.config
    parts = [
        f"{config.devices} device{'s' if config.devices != 1 else ''}",
        config.strategy
        + (" (use_orig_params)" if config.strategy == "fsdp" and config.use_orig_params else ""),
        config.precision,
        f"device memory {format_bytes(config.device_memory) if config.device_memory else 'not given'}",
    ]
    allowance = f"activations {format_bytes(config.activations)}"
    if budget is not None and budget.activations_source:
        allowance += f" (measured: {budget.activations_source})"
    parts.append(allowance)
    optimizer = next((p.optimizer for p in plan.phases if p.optimizer is not None), None)
    if optimizer is not None:
        parts.append(f"phase 0 optimizer {optimizer.describe()}" if plan.phases[0].optimizer else "")
    return "memory per device: " + ", ".join(p for p in parts if p)


def memory_table(plan: MemoryPlan, budget: Budget | None, all_ranks: bool = False) -> str:
    """Per phase its fullest rank (or every rank): weights, gradients, optimizer state, their total, the
    restore_best load, and the headroom left after the activation allowance."""
    rows: list[list[str]] = []
    for phase in plan.phases:
        ranks = range(len(phase.ranks)) if all_ranks else [phase.peak_rank]
        for rank in ranks:
            rows.append(_row(plan, phase, rank, budget))
    widths = [max(len(HEADERS[i]), *(len(row[i]) for row in rows)) for i in range(len(HEADERS))]
    lines = [describe_config(plan, budget), "", _line(HEADERS, widths)]
    lines.append("  ".join("-" * width for width in widths))
    lines.extend(_line(row, widths) for row in rows)
    notes = _notes(plan)
    if notes:
        lines.append("")
        lines.extend(notes)
    return "\n".join(lines) + "\n"


def _row(plan: MemoryPlan, phase: PhaseMemory, rank: int, budget: Budget | None) -> list[str]:
    memory: RankMemory = phase.ranks[rank]
    restore = phase.restore[rank] if phase.restore else None
    allowance = budget.allowance(phase.index) if budget is not None else plan.config.activations
    limit = plan.config.device_memory
    headroom = "-" if limit is None else format_bytes(limit - max(memory.states, restore or 0) - allowance)
    grads = format_bytes(memory.grads) + (
        f" +{format_bytes(memory.buckets)} buckets" if memory.buckets else ""
    )
    return [
        str(phase.index),
        phase.name or "-",
        str(rank),
        f"{phase.trainable_numel:,}",
        format_bytes(memory.params),
        grads,
        format_bytes(memory.optimizer),
        format_bytes(memory.states),
        "-" if restore is None else format_bytes(restore),
        headroom,
    ]


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    parts = [
        cell.rjust(width) if header in NUMERIC else cell.ljust(width)
        for cell, width, header in zip(cells, widths, HEADERS, strict=True)
    ]
    return "  ".join(parts).rstrip()


def _notes(plan: MemoryPlan) -> list[str]:
    notes = []
    if any(phase.restore for phase in plan.phases):
        notes.append("restore: model states while restore_best loads the previous phase's best checkpoint")
    if plan.config.device_memory is not None:
        notes.append("headroom: device memory - max(states, restore) - activation allowance")
    unmodelled = {
        p.optimizer.describe() for p in plan.phases if p.optimizer is not None and p.peak.optimizer is None
    }
    notes.extend(f"? {text}" for text in sorted(unmodelled))
    if plan.phases and plan.phases[0].optimizer is None:
        notes.append("phase 0's optimizer is not named (`memory = { optimizer = … }`): its state counts as 0")
    return notes


# -- the picture ---------------------------------------------------------------------------------------

_NUMBER = re.compile(r"^\d+$")


def blocks_of(names: Sequence[str]) -> list[tuple[str, list[int]]]:
    """The model's blocks in namespace order: a name up to its first numbered segment (`model.layers.12`),
    else its first two segments (`model.embed_tokens`)."""
    blocks: dict[str, list[int]] = {}
    for position, name in enumerate(names):
        parts = name.split(".")
        cut = next((i + 1 for i, part in enumerate(parts) if _NUMBER.match(part)), None)
        key = ".".join(parts[: cut if cut is not None else min(2, len(parts) - 1) or 1])
        blocks.setdefault(key, []).append(position)
    return list(blocks.items())


def write_png(
    path: str | Path,
    plan: MemoryPlan,
    budget: Budget | None,
    namespace: Namespace,
    thaws: Sequence[Iterable[int]],
    title: str,
) -> None:
    """One stacked bar per phase (fullest rank) with the device memory as a line, above a map of the blocks
    each phase thaws."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    gib = 2**30
    phases = plan.phases
    labels = [f"{p.index}: {p.name}" if p.name else str(p.index) for p in phases]
    figure, (bars, thaw_map) = plt.subplots(
        2, 1, figsize=(max(9.0, 1.3 * len(phases) + 6), 8.5), gridspec_kw={"height_ratios": [3, 2]}
    )
    positions = list(range(len(phases)))
    bottom = [0.0] * len(phases)
    colors = {
        "weights": "#4C72B0",
        "gradients": "#DD8452",
        "optimizer state": "#55A868",
        "DDP buckets": "#8172B2",
    }
    parts = {
        "weights": [p.peak.params for p in phases],
        "gradients": [p.peak.grads for p in phases],
        "optimizer state": [p.peak.optimizer or 0 for p in phases],
        "DDP buckets": [p.peak.buckets for p in phases],
    }
    for label, values in parts.items():
        if not any(values):
            continue
        heights = [v / gib for v in values]
        bars.bar(positions, heights, bottom=bottom, color=colors[label], label=label, width=0.6)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    allowances = [(budget.allowance(p.index) if budget else plan.config.activations) / gib for p in phases]
    if any(allowances):
        bars.bar(positions, allowances, bottom=bottom, color="none", edgecolor="#999999", hatch="//",
                 label="activation allowance", width=0.6)  # fmt: skip
    restores = [(max(p.restore) / gib if p.restore else None) for p in phases]
    if any(r is not None for r in restores):
        xs = [x for x, r in zip(positions, restores, strict=True) if r is not None]
        ys = [r for r in restores if r is not None]
        bars.scatter(xs, ys, marker="_", s=900, color="#C44E52", linewidths=2.5, zorder=3,
                     label="restore_best load (transient)")  # fmt: skip
    limit = plan.config.device_memory
    if limit is not None:
        bars.axhline(limit / gib, color="#C44E52", linestyle="--", linewidth=1.5, label="device memory")
        bars.text(1.0, limit / gib, f" {format_bytes(limit)}", transform=bars.get_yaxis_transform(),
                  va="center", ha="left", color="#C44E52", fontsize=8)  # fmt: skip
    for x, phase, top, extra in zip(positions, phases, bottom, allowances, strict=True):
        fits = limit is None or phase.peak_states + extra * gib <= limit
        color, weight = ("black", "normal") if fits else ("#C44E52", "bold")
        label = format_bytes(phase.peak.states)
        bars.annotate(label, (x, top + extra), xytext=(0, 3), textcoords="offset points", ha="center",
                      fontsize=8, color=color, fontweight=weight)  # fmt: skip
    bars.set_xticks(positions, labels)
    bars.set_ylabel("GiB per device (fullest rank)")
    bars.set_title(title, fontsize=11)
    bars.legend(loc="upper left", bbox_to_anchor=(1.11, 1.0), fontsize=8, frameon=False)
    bars.spines[["top", "right"]].set_visible(False)
    ceiling = max([*(b + a for b, a in zip(bottom, allowances, strict=True)), *(r or 0 for r in restores)])
    bars.set_ylim(0, max(ceiling, (limit or 0) / gib) * 1.15 or 1)

    blocks = blocks_of(namespace.names)
    phase_of = [-1] * len(namespace.names)
    for index, positions_thawed in enumerate(thaws):
        for position in positions_thawed:
            if phase_of[position] < 0:
                phase_of[position] = index
    grid = []
    for index in range(len(phases)):
        row = []
        for _, members in blocks:
            first = min((phase_of[m] for m in members if phase_of[m] >= 0), default=-1)
            row.append(0 if first < 0 or first > index else (2 if first == index else 1))
        grid.append(row)
    cmap = ListedColormap(["#EEEEEE", "#9DB9D9", "#2B5C8A"])
    thaw_map.imshow(grid, aspect="auto", cmap=cmap, vmin=0, vmax=2, interpolation="nearest")
    thaw_map.set_yticks(range(len(phases)), labels)
    step = max(1, len(blocks) // 24)
    thaw_map.set_xticks(range(0, len(blocks), step), [blocks[i][0] for i in range(0, len(blocks), step)],
                        rotation=60, ha="right", fontsize=7)  # fmt: skip
    thaw_map.set_title("blocks of the model: thawed in this phase (dark), trainable from before (light)",
                       fontsize=9)  # fmt: skip
    figure.tight_layout()
    figure.savefig(path, dpi=130)
    plt.close(figure)
