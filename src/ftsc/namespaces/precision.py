"""The Lightning precision plugin for `--precision`, and its two init contexts kept apart.

A precision is a Lightning name (`"32-true"`, `"bf16-mixed"`, `"16-true"`, `"transformer-engine"`, the
legacy `"16"`, `"bf16"` …), a `Precision` instance, or a TARGET (`pkg.mod:factory`) naming a
`Precision` subclass or a function that returns an instance (for plugins that take arguments, e.g.
bitsandbytes). Names are resolved by Lightning itself: the plugin is the one `Trainer(precision=NAME,
accelerator="cpu")` would use, so aliases, deprecations and the choice of plugin class stay Lightning's.

Lightning's `Precision` has two init contexts, and this module keeps them apart:

- `module_init_context()`: the context to *build modules* in. It may replace layer classes (Transformer
  Engine swaps `nn.Linear` for `te.Linear`, bitsandbytes for its quantized linears) and sets the
  default dtype. The namespace export builds every model under it (and the meta device).
- `tensor_init_context()`: the context to *create tensors* in (device and dtype only); it must not be
  used to build modules, since a plugin may not expect class replacement there, or may do it
  differently. Export never enters it; `tensor_init_context` below is for the runtime's tensors.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, nullcontext
from typing import TYPE_CHECKING, get_args

from ftsc.namespaces.target import TargetError, lookup_target

if TYPE_CHECKING:
    import torch
    from lightning.fabric.plugins.precision.precision import Precision

__all__ = [
    "PrecisionError",
    "module_init_context",
    "precision_names",
    "resolve_precision",
    "tensor_init_context",
]

_LIGHTNING_LOGGERS = ("lightning.pytorch", "lightning.fabric", "pytorch_lightning", "lightning_fabric")


class PrecisionError(Exception):
    """An unknown precision name, a TARGET that is not a precision plugin, or a plugin that cannot load."""


def precision_names() -> tuple[str, ...]:
    """The precision names Lightning accepts, as strings, in Lightning's order (needs lightning)."""
    from lightning.fabric.plugins.precision import precision as lightning_precision

    names: list[str] = []
    for literal in (
        lightning_precision._PRECISION_INPUT_STR,
        lightning_precision._PRECISION_INPUT_STR_ALIAS,
        lightning_precision._PRECISION_INPUT_INT,
    ):
        for value in get_args(literal):
            if str(value) not in names:
                names.append(str(value))
    return tuple(names)


def resolve_precision(precision: str | int | Precision | None) -> Precision | None:
    """The plugin for a precision name, TARGET or instance; None stays None (no plugin: plain float32).

    Raises PrecisionError (with the accepted names) for anything else.
    """
    if precision is None:
        return None
    base = _precision_base()
    if isinstance(precision, base):
        return precision
    if isinstance(precision, int) and not isinstance(precision, bool):
        precision = str(precision)  # Lightning's 64 / 32 / 16
    if not isinstance(precision, str):
        raise PrecisionError(
            f"precision must be a name or a Lightning Precision plugin, not {type(precision).__name__}"
        )
    names = precision_names()
    if precision in names:
        return _plugin_from_name(precision)
    if ":" in precision or "." in precision:
        return _plugin_from_target(precision, base)
    raise PrecisionError(
        f"unknown precision {precision!r}; Lightning accepts {', '.join(names)}, or give a TARGET "
        "(`pkg.module:factory`) that returns a Precision plugin"
    )


def module_init_context(plugin: Precision | None) -> AbstractContextManager[object]:
    """The plugin's context for building modules (class replacement, default dtype); no-op for None."""
    if plugin is None:
        return nullcontext()
    context: AbstractContextManager[object] = plugin.module_init_context()
    return context


def tensor_init_context(
    plugin: Precision | None, device: torch.device | str | None = None
) -> AbstractContextManager[object]:
    """The context for creating *tensors* (device, dtype): the plugin's tensor init context.

    Never build modules under it: the plugin's class replacement belongs to `module_init_context`.
    """
    stack = ExitStack()
    if device is not None:
        import torch

        stack.enter_context(torch.device(device))
    if plugin is not None:
        stack.enter_context(plugin.tensor_init_context())
    return stack


def _precision_base() -> type[Precision]:
    try:
        from lightning.fabric.plugins.precision.precision import Precision
    except ImportError as exc:  # pragma: no cover - lightning is a dependency of the export extra
        raise PrecisionError(f"--precision needs Lightning (`pip install lightning`): {exc}") from None
    return Precision


def _plugin_from_name(name: str) -> Precision:
    """The plugin Lightning's Trainer picks for `precision=name` on the CPU, built quietly."""
    from lightning.fabric.plugins.environments.lightning import LightningEnvironment
    from lightning.pytorch import Trainer

    try:
        with quiet_lightning():
            trainer = Trainer(
                accelerator="cpu",
                devices=1,
                precision=name,  # type: ignore[arg-type]  # validated against Lightning's own names
                plugins=[LightningEnvironment()],  # no cluster detection (SLURM, torchelastic …)
                logger=False,
                enable_checkpointing=False,
                enable_progress_bar=False,
                enable_model_summary=False,
            )
    except (ImportError, RuntimeError, ValueError) as exc:
        raise PrecisionError(f"precision {name!r} cannot be used here: {exc}") from None
    plugin: Precision = trainer.precision_plugin
    return plugin


def _plugin_from_target(spec: str, base: type[Precision]) -> Precision:
    try:
        found = lookup_target(spec)
    except TargetError as exc:
        raise PrecisionError(f"precision: {exc}") from exc
    if isinstance(found, base):
        return found
    if not callable(found):
        raise PrecisionError(
            f"precision {spec!r} is a {type(found).__name__}, not a Precision plugin or a callable that "
            "returns one"
        )
    plugin = found()
    if not isinstance(plugin, base):
        raise PrecisionError(
            f"precision {spec!r} returned {type(plugin).__name__}, not a Lightning Precision plugin "
            "(lightning.fabric.plugins.Precision or lightning.pytorch.plugins.Precision)"
        )
    return plugin


@contextlib.contextmanager
def quiet_lightning(*more_loggers: str) -> Iterator[None]:
    """Silence the Trainer's start-up chatter ("GPU available…", tips, CPU-AMP warnings): Lightning's
    loggers, `more_loggers`, and warnings, for the block."""
    loggers = [logging.getLogger(name) for name in (*_LIGHTNING_LOGGERS, *more_loggers)]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
