"""Memory at run time: what each phase really keeps on this rank, beside the compile-time estimate.

`FTSMemoryReport` (a Lightning callback, added beside `FinetuningScheduler`) measures, once the first
optimizer step of each phase is done (every trainable parameter then has its gradient and its optimizer
state), the bytes of parameters, gradients and optimizer state this rank holds — each storage counted once,
DTensors by their local shard, FSDP1 FlatParameters with their gradients — and on CUDA also
`memory_allocated` / `max_memory_allocated` since the phase started. Beside it stands the estimate of
`ftsc.compiler.memory` for the same strategy, precision and world size, so a difference shows at once.

At the end of the fit, rank zero writes every rank's records as JSON (`path=`); `memory = { activations =
"that.json" }` in a schedule (or `ftsc check --activations that.json`) reads the peak CUDA memory above the
model states back as each phase's activation allowance.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import lightning.pytorch as pl
import torch
import torch.distributed as dist
from torch import nn
from typing_extensions import override

from ftsc.compiler.memory.budget import format_bytes
from ftsc.compiler.memory.model import (
    EstimateError,
    MemoryConfig,
    MemoryPlan,
    OptimizerSpec,
    PhaseInput,
    estimate,
)
from ftsc.io import atomic_write_json
from ftsc.runtime.errors import RuntimeConfigError
from ftsc.runtime.names import canonical_name

__all__ = ["MEMORY_VERSION", "FTSMemoryReport", "Measured", "measure", "memory_line"]

MEMORY_VERSION = 1
log = logging.getLogger("ftsc.runtime")


@dataclass(frozen=True)
class Measured:
    params: int
    grads: int
    optimizer: int
    cuda_allocated: int | None = None
    cuda_max_allocated: int | None = None

    @property
    def states(self) -> int:
        return self.params + self.grads + self.optimizer


def _storage_bytes(tensors: Iterable[torch.Tensor | None]) -> int:
    """Bytes of the distinct storages behind `tensors` (DTensors by their local shard)."""
    seen: dict[int, int] = {}
    for tensor in tensors:
        if tensor is None:
            continue
        local = tensor.to_local() if hasattr(tensor, "to_local") else tensor
        storage = local.untyped_storage()
        if storage.nbytes():
            seen[storage.data_ptr()] = storage.nbytes()
    return sum(seen.values())


def _flat_parameters(module: nn.Module) -> list[torch.Tensor]:
    """FSDP1's FlatParameters, which `parameters()` hides under `use_orig_params=True`."""
    found = []
    for submodule in module.modules():
        flat = getattr(getattr(submodule, "_handle", None), "flat_param", None)
        if isinstance(flat, torch.Tensor):
            found.append(flat)
    return found


def measure(module: nn.Module, optimizer: torch.optim.Optimizer) -> Measured:
    """This rank's bytes of parameters, gradients and optimizer state (plus CUDA's counters on CUDA)."""
    parameters = [*module.parameters(), *_flat_parameters(module)]
    state = [
        value
        for values in optimizer.state.values()
        for value in values.values()
        if isinstance(value, torch.Tensor)
    ]
    cuda = next((p.device for p in parameters if p.device.type == "cuda"), None)
    return Measured(
        params=_storage_bytes(parameters),
        grads=_storage_bytes(p.grad for p in parameters),
        optimizer=_storage_bytes(state),
        cuda_allocated=torch.cuda.memory_allocated(cuda) if cuda is not None else None,
        cuda_max_allocated=torch.cuda.max_memory_allocated(cuda) if cuda is not None else None,
    )


def memory_line(label: str, rank: int, measured: Measured, plan: MemoryPlan | None, depth: int) -> str:
    """One line for the transition report: measured bytes with the estimate beside them."""
    estimated = plan.phases[depth].ranks[rank] if plan is not None else None
    parts = []
    for field, value in (
        ("params", measured.params),
        ("grads", measured.grads),
        ("optimizer", measured.optimizer),
    ):
        expected = getattr(estimated, field) if estimated is not None else None
        same = (
            ""
            if expected is None
            else (" (= estimate)" if expected == value else f" (estimate {format_bytes(expected)})")
        )
        parts.append(f"{field} {format_bytes(value)}{same}")
    line = f"{label} on rank {rank}: " + ", ".join(parts)
    if measured.cuda_max_allocated is not None:
        allocated, peak = format_bytes(measured.cuda_allocated), format_bytes(measured.cuda_max_allocated)
        line += f"; CUDA allocated {allocated}, peak {peak}"
    return line


# -- the estimate for the live run --------------------------------------------------------------------


def _strategy(trainer: pl.Trainer) -> tuple[str, bool]:
    """ftsc's strategy name for the trainer's strategy, and FSDP1's use_orig_params."""
    from lightning.pytorch.strategies import DDPStrategy, FSDPStrategy, ModelParallelStrategy

    strategy = trainer.strategy
    if isinstance(strategy, FSDPStrategy):
        return "fsdp", bool(strategy.kwargs.get("use_orig_params", True))
    if isinstance(strategy, ModelParallelStrategy):
        return "fsdp2", True
    if isinstance(strategy, DDPStrategy):
        return "ddp", True
    return "single", True


def _wrapped(trainer: pl.Trainer) -> nn.Module:
    """The model as the strategy wraps it (FSDP1's root unit sits outside the LightningModule)."""
    model = trainer.strategy.model
    return model if isinstance(model, nn.Module) else trainer.lightning_module


def _optimizer_spec(value: Mapping[str, Any] | None) -> OptimizerSpec | None:
    if not value:
        return None
    return OptimizerSpec(str(value["class_path"]), dict(value.get("init_args") or {}))


def live_optimizer_spec(optimizer: torch.optim.Optimizer) -> OptimizerSpec:
    """The LightningModule's own optimizer (phase 0's) as the memory model names it."""
    cls = type(optimizer)
    module = "torch.optim" if cls.__module__.startswith("torch.optim") else cls.__module__
    return OptimizerSpec(f"{module}.{cls.__name__}", dict(optimizer.defaults))


class _Shapes:
    """Canonical name -> (global shape, dtype) of the model before any wrapper shards it."""

    def __init__(self, module: nn.Module) -> None:
        self.shapes: dict[str, tuple[tuple[int, ...], str]] = {}
        for name, parameter in module.named_parameters():
            self.shapes.setdefault(
                canonical_name(name), (tuple(parameter.shape), str(parameter.dtype).removeprefix("torch."))
            )


def _fsdp1_units(module: nn.Module, index: Mapping[str, int]) -> tuple[tuple[int, ...], ...]:
    units = []
    for path, submodule in module.named_modules():
        flat = getattr(getattr(submodule, "_handle", None), "flat_param", None)
        if flat is None or not hasattr(flat, "_fqns"):
            continue
        unit = canonical_name(path)
        names = [(f"{unit}." if unit else "") + canonical_name(fqn) for fqn in flat._fqns]
        units.append(tuple(index[name] for name in names if name in index))
    return tuple(units)


def plan_estimate(
    trainer: pl.Trainer, shapes: _Shapes, phases: Sequence[Any], options: Any, phase0: OptimizerSpec
) -> MemoryPlan | None:
    """The compile-time model run on the live configuration (None when it cannot be modelled)."""
    names = list(shapes.shapes)
    index = {name: position for position, name in enumerate(names)}
    strategy, orig = _strategy(trainer)
    module = _wrapped(trainer)
    replicated: frozenset[int] = frozenset()
    if strategy == "fsdp2":
        replicated = frozenset(
            index[canonical_name(n)] for n, p in module.named_parameters() if not hasattr(p, "to_local")
        )
    config = MemoryConfig(
        devices=trainer.world_size,
        strategy=strategy,
        precision=str(trainer.precision),
        optimizer=phase0,
        use_orig_params=orig,
        fsdp_units=_fsdp1_units(module, index) if strategy == "fsdp" else None,
        replicated=replicated,
        restore_best=bool(options.restore_best),
    )
    inputs = []
    for phase in phases:
        reinit = _optimizer_spec(phase.optimizer) or _optimizer_spec(options.optimizer)
        inputs.append(PhaseInput(phase.name, tuple(index[n] for n in phase.params if n in index), reinit))
    try:
        return estimate(
            [shapes.shapes[n][0] for n in names], [shapes.shapes[n][1] for n in names], inputs, config
        )
    except EstimateError as exc:
        log.warning("ftsc: no memory estimate for this run: %s", exc)
        return None


# -- the callback -------------------------------------------------------------------------------------


class FTSMemoryReport(pl.Callback):
    """Measure each phase's memory after its first optimizer step, beside the estimate; write the records of
    every rank to `path` (JSON, by rank zero) when the fit ends."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = path
        self.records: list[dict[str, Any]] = []
        self.plan: MemoryPlan | None = None
        self._shapes: _Shapes | None = None
        self._measured_depth = -1
        self._scheduler: Any = None

    @override
    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if any(True for _ in pl_module.parameters()):
            self._shapes = _Shapes(pl_module)  # before FSDP1 flattens it (FSDP2 shapes stay global)

    @override
    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        from ftsc.runtime.callback import FinetuningScheduler

        self._scheduler = next((c for c in trainer.callbacks if isinstance(c, FinetuningScheduler)), None)  # type: ignore[attr-defined]
        if self._scheduler is None:
            raise RuntimeConfigError("FTSMemoryReport reports the phases of a FinetuningScheduler; add one")
        if self._shapes is None:
            self._shapes = _Shapes(pl_module)
        phase0 = live_optimizer_spec(trainer.optimizers[0])
        self.plan = plan_estimate(
            trainer, self._shapes, self._scheduler.phases, self._scheduler._opts(), phase0
        )

    @override
    def on_train_batch_start(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        depth = self._scheduler.depth
        if depth != self._measured_depth and torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()

    @override
    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        depth = self._scheduler.depth
        if depth == self._measured_depth or (batch_idx + 1) % trainer.accumulate_grad_batches:
            return
        self._measured_depth = depth
        measured = measure(_wrapped(trainer), trainer.optimizers[0])
        rank = trainer.global_rank
        phase = self._scheduler.phases[depth]
        estimated = self.plan.phases[depth].ranks[rank] if self.plan is not None else None
        record = {
            "phase": depth,
            "name": phase.name,
            "rank": rank,
            "epoch": trainer.current_epoch,
            "measured": asdict(measured),
            "estimate": None if estimated is None else asdict(estimated),
        }
        self.records.append(record)
        log.info("ftsc memory: %s", memory_line(phase.label, rank, measured, self.plan, depth))

    @override
    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        records = self.records
        if dist.is_available() and dist.is_initialized() and trainer.world_size > 1:
            gathered: list[list[dict[str, Any]]] = [[] for _ in range(trainer.world_size)]
            dist.all_gather_object(gathered, records)
            records = [record for rank_records in gathered for record in rank_records]
        if self.path is None or trainer.global_rank != 0:
            return
        atomic_write_json(self.path, report_data(trainer, records))


def report_data(trainer: pl.Trainer, records: list[dict[str, Any]]) -> dict[str, Any]:
    strategy, _ = _strategy(trainer)
    phases: dict[int, dict[str, Any]] = {}
    for record in sorted(records, key=lambda r: (r["phase"], r["rank"])):
        entry = phases.setdefault(
            record["phase"], {"index": record["phase"], "name": record["name"], "ranks": []}
        )
        entry["ranks"].append({k: record[k] for k in ("rank", "epoch", "measured", "estimate")})
    for entry in phases.values():
        extra = [
            r["measured"]["cuda_max_allocated"]
            - (r["measured"]["params"] + r["measured"]["grads"] + r["measured"]["optimizer"])
            for r in entry["ranks"]
            if r["measured"]["cuda_max_allocated"] is not None
        ]
        entry["activations"] = max(extra) if extra else None
    return {
        "memory_version": MEMORY_VERSION,
        "strategy": strategy,
        "precision": str(trainer.precision),
        "devices": trainer.world_size,
        "phases": [phases[index] for index in sorted(phases)],
    }
