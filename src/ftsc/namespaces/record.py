"""A live (or meta-device) module → its Namespace: names, shapes, dtypes, requires_grad, modules, aliases.

- `parameters`: `named_parameters()` (each shared tensor once, under its first name), in that order;
  dtype without the `torch.` prefix (`"bfloat16"`), shape as a tuple of ints.
- `aliases`: every other name of a shared tensor, from `named_parameters(remove_duplicate=False)`
  (tied weights such as `lm_head.weight = embed.weight`, and the parameters of a submodule that is
  registered under two names), each pointing at the name listed in `parameters`.
- `modules`: `named_modules()` in order (the root is `""`), with the class `__name__` (what FSDP
  auto-wrap policies name).

Nothing is read from tensor data, so a meta-device model records exactly like a materialised one.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch
from torch import nn

from ftsc.compiler.namespace import ModuleInfo, Namespace, ParameterInfo

__all__ = ["ScheduleNamespaceAdapter", "dtype_name", "namespace_from_module"]


@runtime_checkable
class ScheduleNamespaceAdapter(Protocol):
    """What `namespace_from_module` needs of a strategy adapter: the names a schedule is written against."""

    def schedule_namespace(self, namespace: Namespace) -> Namespace: ...


def dtype_name(dtype: torch.dtype) -> str:
    """`torch.bfloat16` → `"bfloat16"` (the namespace file's spelling)."""
    return str(dtype).removeprefix("torch.")


def namespace_from_module(
    module: nn.Module,
    *,
    adapter: ScheduleNamespaceAdapter | None = None,
    model: str | None = None,
) -> Namespace:
    """The namespace of `module` (any device, meta included), through `adapter` when given.

    `model` is the namespace's informational model name (default: the module's class name).
    `adapter`, when given, is any object with `schedule_namespace(namespace) -> Namespace`; its result is
    returned. Raises TypeError for a non-module or an adapter that does not fit, NamespaceError for
    parameter names a namespace cannot hold.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"namespace_from_module takes a torch.nn.Module, not {type(module).__name__}")
    canonical: dict[int, str] = {}
    parameters: list[ParameterInfo] = []
    for name, parameter in module.named_parameters():
        canonical[id(parameter)] = name
        parameters.append(
            ParameterInfo(
                name,
                tuple(int(size) for size in parameter.shape),
                dtype_name(parameter.dtype),
                bool(parameter.requires_grad),
            )
        )
    aliases: dict[str, str] = {}
    for name, parameter in module.named_parameters(remove_duplicate=False):
        target = canonical[id(parameter)]
        if target != name:
            aliases[name] = target
    modules = [ModuleInfo(name, type(submodule).__name__) for name, submodule in module.named_modules()]
    namespace = Namespace(
        parameters,
        model=type(module).__name__ if model is None else model,
        modules=modules,
        aliases=aliases,
    )
    if adapter is None:
        return namespace
    schedule_namespace = getattr(adapter, "schedule_namespace", None)
    if not callable(schedule_namespace):
        raise TypeError(
            f"adapter {type(adapter).__name__} has no schedule_namespace(namespace) method; pass a strategy "
            "adapter or None"
        )
    result = schedule_namespace(namespace)
    if not isinstance(result, Namespace):
        raise TypeError(
            f"{type(adapter).__name__}.schedule_namespace returned {type(result).__name__}, not a Namespace"
        )
    return result
