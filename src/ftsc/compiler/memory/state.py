"""What a torch optimizer keeps per parameter, read from the snapshot `tools/gen_optimizer_state.py` made by
stepping each class (never a rule of thumb, never an import of torch).

A layout is a list of state tensors, each with a shape rule relative to its parameter (`param`, `scalar`,
`param[-1]=1`, `param[-2]=1`) and a dtype (`param`: the parameter's own, or a fixed one such as the fp32
`step`). Which layout applies depends on the class's switches: arguments that add state (`amsgrad`,
`momentum`, `centered`). A class the snapshot could not model, or one outside `torch.optim`, is `Unmodelled`
with the reason, so callers can say so instead of guessing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["DTYPE_BYTES", "StateLayout", "StateTensor", "Unmodelled", "dtype_bytes", "optimizer_state"]

DTYPE_BYTES = {
    "float64": 8, "double": 8, "float32": 4, "float": 4, "float16": 2, "half": 2, "bfloat16": 2,
    "float8_e4m3fn": 1, "float8_e5m2": 1, "float8_e4m3fnuz": 1, "float8_e5m2fnuz": 1,
    "complex128": 16, "complex64": 8, "int64": 8, "long": 8, "int32": 4, "int": 4, "int16": 2,
    "int8": 1, "uint8": 1, "bool": 1,
}  # fmt: skip
TORCH_OPTIM = "torch.optim."


def dtype_bytes(dtype: str) -> int | None:
    """Bytes per element of a dtype name as namespaces write it (`float32`, `torch.bfloat16`)."""
    return DTYPE_BYTES.get(dtype.removeprefix("torch."))


@dataclass(frozen=True)
class StateTensor:
    key: str
    shape: str  # a rule of SHAPE_RULES
    dtype: str  # "param" or a dtype name

    def numel(self, shape: Sequence[int]) -> int:
        if self.shape == "scalar":
            return 1
        if self.shape == "param":
            return math.prod(shape)
        axis = -1 if self.shape == "param[-1]=1" else -2
        changed = list(shape)
        changed[axis] = 1
        return math.prod(changed)

    def nbytes(self, shape: Sequence[int], param_bytes: int) -> int:
        size = param_bytes if self.dtype == "param" else DTYPE_BYTES[self.dtype]
        return self.numel(shape) * size


@dataclass(frozen=True)
class StateLayout:
    """The state one optimizer configuration keeps, by parameter rank ("1" also covers 0-d parameters)."""

    optimizer: str  # the class's short name (`AdamW`)
    switches: tuple[str, ...]  # the switches on (`amsgrad`)
    by_rank: Mapping[str, tuple[StateTensor, ...] | str]

    def tensors(self, ndim: int) -> tuple[StateTensor, ...] | str:
        """The state of a parameter of `ndim` dimensions, or why this class refuses such a parameter."""
        key = "1" if ndim <= 1 else "2" if ndim == 2 or "3" not in self.by_rank else "3"
        return self.by_rank[key]

    @property
    def per_element(self) -> bool:
        """Every state tensor is a scalar or the parameter's own shape (so it follows a sharded view)."""
        return all(
            not isinstance(tensors, str) and all(t.shape in ("param", "scalar") for t in tensors)
            for tensors in self.by_rank.values()
        )

    def describe(self) -> str:
        tensors = self.by_rank.get("2", self.by_rank.get("1", ()))
        keys = [t.key for t in tensors] if not isinstance(tensors, str) else []
        return f"{self.optimizer}: " + (", ".join(keys) if keys else "no state")


@dataclass(frozen=True)
class Unmodelled:
    optimizer: str
    reason: str

    def describe(self) -> str:
        return f"the optimizer state of `{self.optimizer}` is not modelled: {self.reason}"


@cache
def _snapshot() -> dict[str, Any]:
    text = resources.files("ftsc.compiler").joinpath("data/torch_optimizer_state.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def snapshot_torch_version() -> str:
    return str(_snapshot()["torch_version"])


def optimizer_state(class_path: str, init_args: Mapping[str, object]) -> StateLayout | Unmodelled:
    """The layout `class_path(**init_args)` keeps per parameter (`torch.optim.AdamW` or `AdamW`)."""
    short = class_path.removeprefix(TORCH_OPTIM)
    entry = _snapshot()["optimizers"].get(short) if "." not in short else None
    if entry is None:
        return Unmodelled(class_path, "only the classes of torch.optim are modelled (measure it at run time)")
    if "unmodelled" in entry:
        return Unmodelled(short, entry["unmodelled"])
    on: list[str] = []
    for name, switch in entry["switches"].items():
        value = init_args.get(name, switch["default"])
        if switch["kind"] == "bool":
            if not isinstance(value, bool):
                return Unmodelled(short, f"`{name}` = {value!r} is not true or false")
            flipped = value != switch["default"]
        else:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return Unmodelled(short, f"`{name}` = {value!r} is not a number")
            flipped = value != 0
        if flipped:
            on.append(name)
    for layout in entry["layouts"]:
        if sorted(layout["switches"]) == sorted(on):
            by_rank = {
                rank: rules if isinstance(rules, str) else tuple(StateTensor(**rule) for rule in rules)
                for rank, rules in layout["state"].items()
            }
            return StateLayout(short, tuple(sorted(on)), by_rank)
    return Unmodelled(short, f"torch refused the combination {', '.join(on)} when the snapshot was made")
