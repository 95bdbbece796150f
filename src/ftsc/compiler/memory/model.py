"""Per phase and per rank: the bytes of parameters, gradients and optimizer state a schedule keeps on each
device, from the namespace's shapes and dtypes (no torch import).

What each strategy keeps on a rank, as torch 2.x allocates it (checked exactly against live runs in
tests/runtime/test_memory_exact.py):

- `single`, `ddp`: every rank holds every parameter, a gradient per trainable parameter and the optimizer's
  state per trainable parameter. DDP also keeps gradient buckets as large as the trainable gradients.
- `fsdp2` (ModelParallelStrategy, `fully_shard`): each parameter is sharded on dim 0 over the ranks in chunks
  of `ceil(rows / world)` rows (torch.chunk). Parameters and gradients are stored padded to a whole chunk on
  every rank; optimizer state follows the unpadded local shard (`zeros_like` of the DTensor), so it differs
  between ranks when rows do not divide evenly.
- `fsdp` (FSDP1): each wrapped unit's parameters are flattened into one FlatParameter (namespace order; with
  `use_orig_params` each parameter starts on a 16-byte boundary), padded to a multiple of the world size;
  every rank holds one shard of it, and of its gradient once any member is trainable. With
  `use_orig_params` the optimizer sees each parameter's 1-D slice on the rank (state only where the slice
  is not empty), otherwise the FlatParameter's shard.

Parameter dtypes come from the namespace, converted as Lightning's precision plugin does (`bf16-true`,
`16-true`, `64-true` convert floating-point parameters; `32-true` and the `-mixed` precisions keep the
model's own dtypes, so mixed precision trains fp32 weights). Gradients have their parameter's dtype.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ftsc.compiler.memory.choices import PRECISIONS, STRATEGIES
from ftsc.compiler.memory.state import StateLayout, Unmodelled, dtype_bytes, optimizer_state

__all__ = [
    "FLOAT_DTYPES",
    "PRECISIONS",
    "STRATEGIES",
    "MemoryConfig",
    "MemoryPlan",
    "OptimizerSpec",
    "PhaseInput",
    "PhaseMemory",
    "RankMemory",
    "estimate",
]

FLOAT_DTYPES = frozenset({"float64", "float32", "float16", "bfloat16"})
FSDP1_ALIGNMENT = 16  # bytes: FSDP1 aligns each original parameter in a flat parameter (use_orig_params)


@dataclass(frozen=True)
class OptimizerSpec:
    class_path: str
    init_args: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class MemoryConfig:
    """Where and how the schedule runs. `activations`: bytes per rank the user allows for everything but the
    model states (activations, temporaries, allocator slack); `device_memory`: bytes per device."""

    devices: int = 1
    strategy: str = "single"
    precision: str = "32-true"
    device_memory: int | None = None
    activations: int = 0
    optimizer: OptimizerSpec | None = None  # phase 0's: the LightningModule's configure_optimizers
    use_orig_params: bool = True  # fsdp
    fsdp_units: tuple[tuple[int, ...], ...] | None = None  # fsdp: positions per flat unit; None: one unit
    replicated: frozenset[int] = frozenset()  # fsdp2: positions outside every fully_shard unit
    restore_best: bool = True


@dataclass(frozen=True)
class PhaseInput:
    name: str | None
    thaws: tuple[int, ...]  # the positions this phase thaws
    optimizer: OptimizerSpec | None = None  # set when this phase reinitialises the optimizer


@dataclass(frozen=True)
class RankMemory:
    params: int
    grads: int
    optimizer: int | None  # None: not modelled (see the phase's `optimizer`)
    buckets: int = 0  # DDP's gradient buckets

    @property
    def states(self) -> int:
        """The model states (a lower bound when the optimizer state is not modelled)."""
        return self.params + self.grads + (self.optimizer or 0) + self.buckets


@dataclass(frozen=True)
class PhaseMemory:
    index: int
    name: str | None
    trainable_tensors: int
    trainable_numel: int
    optimizer: StateLayout | Unmodelled | None  # None: phase 0 with no `optimizer` in `memory`
    ranks: tuple[RankMemory, ...]
    restore: tuple[int, ...] | None  # per rank: model states while restore_best loads the last checkpoint

    @property
    def peak_rank(self) -> int:
        return max(range(len(self.ranks)), key=lambda rank: self.ranks[rank].states)

    @property
    def peak(self) -> RankMemory:
        return self.ranks[self.peak_rank]

    @property
    def peak_states(self) -> int:
        """The most model-state bytes any rank holds during this phase, restore_best's load included."""
        restore = max(self.restore) if self.restore else 0
        return max(self.peak.states, restore)

    @property
    def label(self) -> str:
        return f"phase {self.index}" + (f" `{self.name}`" if self.name else "")


@dataclass(frozen=True)
class MemoryPlan:
    config: MemoryConfig
    phases: tuple[PhaseMemory, ...]
    param_bytes: int  # bytes of the whole model in the run's precision (one replica)

    def headroom(self, phase: PhaseMemory) -> int | None:
        if self.config.device_memory is None:
            return None
        return self.config.device_memory - phase.peak_states - self.config.activations


class EstimateError(Exception):
    """The namespace lacks what the model needs (shapes, dtypes) or the configuration is not modelled."""


@dataclass
class _Param:
    shape: tuple[int, ...]
    itemsize: int

    @property
    def numel(self) -> int:
        return math.prod(self.shape)


def estimate(
    shapes: Sequence[tuple[int, ...] | None],
    dtypes: Sequence[str | None],
    phases: Sequence[PhaseInput],
    config: MemoryConfig,
) -> MemoryPlan:
    """The memory of every phase on every rank; `shapes`/`dtypes` per namespace position. Raises
    EstimateError when a shape or dtype is unknown or the precision or strategy is not modelled."""
    params = _params(shapes, dtypes, config.precision)
    if config.strategy not in STRATEGIES:
        raise EstimateError(f"strategy {config.strategy!r} is not modelled ({', '.join(STRATEGIES)})")
    placement = _Placement(params, config)
    trainable: list[int] = []
    optimizer = config.optimizer
    results: list[PhaseMemory] = []
    previous: PhaseMemory | None = None
    for index, phase in enumerate(phases):
        trainable.extend(phase.thaws)
        if index > 0 and phase.optimizer is not None:
            optimizer = phase.optimizer
        layout = optimizer_state(optimizer.class_path, optimizer.init_args) if optimizer else None
        ranks = placement.ranks(sorted(set(trainable)), layout)
        restore = None
        if previous is not None and config.restore_best:
            restore = tuple(r.states + r.params + (r.optimizer or 0) for r in previous.ranks)
        current = PhaseMemory(
            index=index,
            name=phase.name,
            trainable_tensors=len(set(trainable)),
            trainable_numel=sum(params[p].numel for p in set(trainable)),
            optimizer=layout,
            ranks=ranks,
            restore=restore,
        )
        results.append(current)
        previous = current
    return MemoryPlan(config, tuple(results), sum(p.numel * p.itemsize for p in params))


def _params(
    shapes: Sequence[tuple[int, ...] | None], dtypes: Sequence[str | None], precision: str
) -> list[_Param]:
    if precision not in PRECISIONS:
        raise EstimateError(f"precision {precision!r} is not modelled; modelled: {', '.join(PRECISIONS)}")
    convert = PRECISIONS[precision]
    params: list[_Param] = []
    for position, (shape, given) in enumerate(zip(shapes, dtypes, strict=True)):
        if shape is None or given is None:
            raise EstimateError(f"the namespace has no shape or dtype for parameter #{position}")
        dtype = given.removeprefix("torch.")
        stored = convert if convert is not None and dtype in FLOAT_DTYPES else dtype
        size = dtype_bytes(stored)
        if size is None:
            raise EstimateError(f"dtype {stored!r} of parameter #{position} is not modelled")
        params.append(_Param(tuple(shape), size))
    return params


def _state_bytes(layout: StateLayout, shape: tuple[int, ...], itemsize: int) -> int:
    tensors = layout.tensors(len(shape))
    if isinstance(tensors, str):
        raise _Refused(tensors)
    return sum(t.nbytes(shape, itemsize) for t in tensors)


class _Refused(Exception):
    """The optimizer refuses a parameter of this rank (Muon: matrices only)."""


class _Placement:
    """Where each parameter's bytes live on each rank, for one strategy."""

    def __init__(self, params: list[_Param], config: MemoryConfig) -> None:
        self.params = params
        self.config = config
        self.world = config.devices if config.strategy != "single" else 1
        self.param_bytes = self._param_bytes()

    def _param_bytes(self) -> list[int]:
        strategy, world = self.config.strategy, self.world
        if strategy in ("single", "ddp"):
            return [sum(p.numel * p.itemsize for p in self.params)] * world
        if strategy == "fsdp2":
            return [sum(self._fsdp2_padded(i) * p.itemsize for i, p in enumerate(self.params))] * world
        return [sum(unit.shard * unit.itemsize for unit in self._units())] * world

    def ranks(self, trainable: list[int], layout: StateLayout | Unmodelled | None) -> tuple[RankMemory, ...]:
        strategy = self.config.strategy
        optimizer = layout if isinstance(layout, StateLayout) else None
        if strategy in ("single", "ddp"):
            grads = sum(self.params[i].numel * self.params[i].itemsize for i in trainable)
            state = self._state(
                optimizer, [(self.params[i].shape, self.params[i].itemsize) for i in trainable]
            )
            buckets = grads if strategy == "ddp" and self.world > 1 else 0
            return (RankMemory(self.param_bytes[0], grads, state, buckets),) * self.world
        if strategy == "fsdp2":
            return self._fsdp2_ranks(trainable, optimizer)
        return tuple(self._fsdp1_rank(rank, trainable, optimizer) for rank in range(self.world))

    @staticmethod
    def _state(layout: StateLayout | None, tensors: list[tuple[tuple[int, ...], int]]) -> int | None:
        if layout is None:
            return None
        try:
            return sum(_state_bytes(layout, shape, itemsize) for shape, itemsize in tensors)
        except _Refused:
            return None

    # -- FSDP2 ---------------------------------------------------------------------------------------

    def _sharded(self, position: int) -> bool:
        return bool(self.params[position].shape) and position not in self.config.replicated

    def _fsdp2_padded(self, position: int) -> int:
        param = self.params[position]
        if not self._sharded(position):
            return param.numel
        rows = param.shape[0]
        return -(-rows // self.world) * (param.numel // rows if rows else 0)

    def _fsdp2_ranks(self, trainable: list[int], layout: StateLayout | None) -> tuple[RankMemory, ...]:
        """Every rank at once: parameters of one shape shard alike, so each distinct (shape, dtype, sharded)
        is worked out once per rank and multiplied (DeepSeek-V3 has 45k tensors but a few dozen shapes)."""
        grads = sum(self._fsdp2_padded(i) * self.params[i].itemsize for i in trainable)
        if layout is not None and not layout.per_element and any(self._sharded(i) for i in trainable):
            layout = None  # factored state (Adafactor) of a DTensor shard: not modelled
        kinds = Counter((self._sharded(i), self.params[i].shape, self.params[i].itemsize) for i in trainable)
        ranks = []
        for rank in range(self.world):
            state: int | None = 0
            for (sharded, shape, itemsize), count in kinds.items():
                local = _local_rows(shape, rank, self.world) if sharded else shape
                one = self._state(layout, [(local, itemsize)])
                state = None if one is None or state is None else state + one * count
            ranks.append(RankMemory(self.param_bytes[rank], grads, state))
        return tuple(ranks)

    # -- FSDP1 ---------------------------------------------------------------------------------------

    def _units(self) -> list[_Unit]:
        if not hasattr(self, "_unit_cache"):
            groups = self.config.fsdp_units or (tuple(range(len(self.params))),)
            self._unit_cache = [
                _Unit.layout(self.params, members, self.world, self.config.use_orig_params)
                for members in groups
                if members
            ]
        return self._unit_cache

    def _fsdp1_rank(self, rank: int, trainable: list[int], layout: StateLayout | None) -> RankMemory:
        training = set(trainable)
        grads = 0
        tensors: list[tuple[tuple[int, ...], int]] = []
        for unit in self._units():
            if not training.intersection(unit.members):
                continue
            grads += unit.shard * unit.itemsize
            if not self.config.use_orig_params:
                tensors.append(((unit.shard,), unit.itemsize))
                continue
            start, end = rank * unit.shard, (rank + 1) * unit.shard
            for member, offset in zip(unit.members, unit.offsets, strict=True):
                local = max(0, min(end, offset + self.params[member].numel) - max(start, offset))
                if member in training and local:
                    tensors.append(((local,), unit.itemsize))
        return RankMemory(self.param_bytes[rank], grads, self._state(layout, tensors))


def _local_rows(shape: tuple[int, ...], rank: int, world: int) -> tuple[int, ...]:
    """A rank's dim-0 shard as torch.chunk cuts it: chunks of ceil(rows / world) rows, the last short or
    empty."""
    chunk = -(-shape[0] // world)
    return (max(0, min(chunk, shape[0] - rank * chunk)), *shape[1:])


@dataclass
class _Unit:
    members: tuple[int, ...]
    offsets: tuple[int, ...]
    shard: int  # elements per rank, padding included
    itemsize: int

    @classmethod
    def layout(cls, params: list[_Param], members: tuple[int, ...], world: int, aligned: bool) -> _Unit:
        itemsize = params[members[0]].itemsize
        alignment = FSDP1_ALIGNMENT // itemsize if aligned else 1
        total = 0
        offsets = []
        for member in members:
            total += -total % alignment
            offsets.append(total)
            total += params[member].numel
        return cls(members, tuple(offsets), -(-total // world), itemsize)
