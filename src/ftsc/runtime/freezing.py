"""Freezing and thawing parameters: what "a phase thaws these names" does to the model itself.

Kept apart from the callback's decisions (when a phase starts) and from the optimizer's side of a phase
(`transitions.py`), as Lightning keeps `BaseFinetuning.freeze` / `make_trainable` apart from its hooks.
"""

from __future__ import annotations

from collections.abc import Mapping

from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm


def freeze(module: nn.Module, track_running_stats: bool) -> None:
    """Every parameter frozen; BatchNorm layers stop tracking statistics unless `track_running_stats`."""
    for submodule in module.modules():
        if isinstance(submodule, _BatchNorm):
            submodule.track_running_stats = track_running_stats
    for parameter in module.parameters():
        parameter.requires_grad_(False)


def thaw(
    module: nn.Module,
    parameters: Mapping[str, nn.Parameter],
    names: tuple[str, ...],
    track_running_stats: bool,
) -> int:
    """Thaw `names`; a BatchNorm layer whose parameters thaw tracks statistics again. Returns the count."""
    targets = {id(parameters[name]) for name in names}
    for parameter in (parameters[name] for name in names):
        parameter.requires_grad_(True)
    if not track_running_stats:
        for submodule in module.modules():
            if isinstance(submodule, _BatchNorm) and any(
                id(p) in targets for p in submodule.parameters(recurse=False)
            ):
                submodule.track_running_stats = True
    return len(targets)
