"""Build a model on the meta device, under the precision plugin's *module* init context.

`build_model(factory, precision=...)` does what Lightning does when it builds a model, with the meta
device in place of the accelerator, so nothing is allocated and plugins that replace layer classes
at init (Transformer Engine, bitsandbytes, one's own) apply:

1. under `torch.device("meta")` and `plugin.module_init_context()`: `model = factory()`;
2. for a LightningModule, as `lightning.pytorch.trainer.call._call_configure_model` does: the legacy
   `configure_sharded_model()` hook if overridden (meta device only, as Lightning gives it no
   precision context), then `configure_model()` if overridden, under the meta device and a fresh
   `plugin.module_init_context()`.

Lightning enters the strategy's `tensor_init_context()` around `configure_model` for the device and
dtype; here the meta device stands for the device, and the dtype comes from `module_init_context()`
(which, for every built-in plugin, sets the same dtype as the tensor context). The plugin's
`tensor_init_context()` is never entered to build modules: it is for tensors, and must not replace
classes.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import torch
from torch import nn

from ftsc.namespaces.precision import module_init_context, resolve_precision

if TYPE_CHECKING:
    from lightning.fabric.plugins.precision.precision import Precision

__all__ = [
    "BuildError",
    "NamedWrongly",
    "ReturnTypeError",
    "build_model",
    "lightning_module_base",
    "off_meta",
]

_LIGHTNING_PACKAGES = ("lightning.pytorch", "pytorch_lightning")


class BuildError(Exception):
    """The model's own code raised while it was built; `__cause__` is that exception (for a traceback)."""


class NamedWrongly(Exception):
    """Raised inside a factory ftsc made (`--peft-config`) for a mistake in what the user named, not a
    failure of the model's code: `build_model` lets it through, for a usage error without a traceback."""


class ReturnTypeError(TypeError):
    """The factory returned something that is not a torch.nn.Module (LightningModules are Modules)."""


def build_model(
    factory: Callable[[], object],
    *,
    precision: str | int | Precision | None = None,
    what: str = "the model factory",
) -> nn.Module:
    """`factory()` built on the meta device under the precision plugin's module init context.

    For a LightningModule, `configure_model()` is called afterwards the way Lightning's Trainer does.
    `precision` is a Lightning name, a plugin, a TARGET naming one, or None (no plugin). `what` names
    the factory in error messages. Raises PrecisionError, ReturnTypeError, or BuildError when the
    model's code raises.
    """
    plugin = resolve_precision(precision)
    with torch.device("meta"):
        with module_init_context(plugin):
            model = _call(factory, what, "building the model")
        if not isinstance(model, nn.Module):
            raise ReturnTypeError(
                f"{what} returned {_describe(model)}, not a torch.nn.Module or LightningModule"
            )
        base = lightning_module_base(model)
        if base is not None:
            if _overridden(model, base, "configure_sharded_model"):
                _call(getattr(model, "configure_sharded_model"), what, "configure_sharded_model()")  # noqa: B009
            if _overridden(model, base, "configure_model"):
                with module_init_context(plugin):
                    _call(getattr(model, "configure_model"), what, "configure_model()")  # noqa: B009
    return model


def lightning_module_base(model: object) -> type | None:
    """The LightningModule class `model` is an instance of (lightning.pytorch or pytorch_lightning)."""
    for package in _LIGHTNING_PACKAGES:
        module = sys.modules.get(package)  # only loaded packages: a model of the other one never is
        base = getattr(module, "LightningModule", None)
        if isinstance(base, type) and isinstance(model, base):
            return base
    return None


def off_meta(model: nn.Module) -> list[str]:
    """Names of the parameters and buffers that are *not* on the meta device (i.e. were allocated)."""
    named = [*model.named_parameters(remove_duplicate=False), *model.named_buffers(remove_duplicate=False)]
    return [name for name, tensor in named if tensor.device.type != "meta"]


def _overridden(model: object, base: type, hook: str) -> bool:
    own = getattr(type(model), hook, None)
    return own is not None and own is not getattr(base, hook, None)


def _call(function: Callable[[], object], what: str, doing: str) -> object:
    try:
        return function()
    except NamedWrongly:
        raise
    except Exception as exc:
        raise BuildError(f"{doing} failed in {what}: {type(exc).__name__}: {exc}") from exc


def _describe(value: object) -> str:
    return "None" if value is None else f"a {type(value).__module__}.{type(value).__qualname__}"
