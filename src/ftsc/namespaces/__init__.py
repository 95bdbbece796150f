"""Namespaces from real models, without a GPU and without allocating weights.

`export_namespace(TARGET | factory, precision=…)` or `export_namespace(hf_config=…[, peft_config=…])`
builds the model
on the meta device under the precision plugin's *module* init context (`build.py`), calling a
LightningModule's `configure_model()` as Lightning does, and records its namespace (`record.py`).
`namespace_from_module(module)` records a live module in-process (the runtime's path).
`write_namespace` validates against the shipped schema and writes atomically.

This package imports torch (and, for precisions and LightningModules, lightning); the compiler and the
CLI's other commands never import it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from torch import nn

from ftsc.compiler import Namespace
from ftsc.compiler.schema import validate_namespace_data
from ftsc.io import atomic_write_text
from ftsc.namespaces.build import BuildError, ReturnTypeError, build_model, lightning_module_base, off_meta
from ftsc.namespaces.hf import HFError, hf_factory
from ftsc.namespaces.peft_model import PeftError, load_peft_config, peft_factory
from ftsc.namespaces.precision import (
    PrecisionError,
    module_init_context,
    precision_names,
    resolve_precision,
    tensor_init_context,
)
from ftsc.namespaces.record import ScheduleNamespaceAdapter, dtype_name, namespace_from_module
from ftsc.namespaces.target import TargetError, TargetImportError, lookup_target, resolve_target

if TYPE_CHECKING:
    from lightning.fabric.plugins.precision.precision import Precision

__all__ = [
    "BuildError",
    "Export",
    "HFError",
    "PeftError",
    "PrecisionError",
    "ReturnTypeError",
    "ScheduleNamespaceAdapter",
    "TargetError",
    "TargetImportError",
    "build_model",
    "dtype_name",
    "export_namespace",
    "hf_factory",
    "lightning_module_base",
    "load_peft_config",
    "lookup_target",
    "module_init_context",
    "namespace_from_module",
    "namespace_json",
    "off_meta",
    "peft_factory",
    "precision_names",
    "resolve_precision",
    "resolve_target",
    "tensor_init_context",
    "write_namespace",
]


@dataclass(frozen=True)
class Export:
    """What `export_namespace` made: the namespace, the meta-device model, and what was allocated."""

    namespace: Namespace
    model: nn.Module
    precision: Precision | None
    # parameters and buffers not on the meta device: the model's code gave them an explicit device
    allocated: tuple[str, ...]


def export_namespace(
    target: str | Callable[[], object] | None = None,
    *,
    hf_config: str | os.PathLike[str] | None = None,
    auto_class: str | None = None,
    peft_config: str | os.PathLike[str] | None = None,
    precision: str | int | Precision | None = None,
    model_name: str | None = None,
    adapter: ScheduleNamespaceAdapter | None = None,
) -> Export:
    """Build the model named by `target` (a TARGET string or a factory) or by `hf_config`, and record it.

    Exactly one of `target` and `hf_config` is given; `peft_config` (an `adapter_config.json`) wraps the
    `hf_config` model with `peft.get_peft_model`. `precision`: see `resolve_precision`. Raises
    TargetError / PrecisionError / ReturnTypeError / HFError / PeftError for what the caller named wrongly,
    and BuildError (or TargetImportError) when the model's own code raised.
    """
    if (target is None) == (hf_config is None):
        raise TypeError("export_namespace takes a target or hf_config (exactly one)")
    if auto_class is not None and hf_config is None:
        raise TypeError("auto_class is only used with hf_config")
    if peft_config is not None and hf_config is None:
        raise TypeError("peft_config is only used with hf_config (a factory calls get_peft_model itself)")
    plugin = resolve_precision(precision)
    if hf_config is not None:
        factory: Callable[[], object] = hf_factory(hf_config, auto_class)
        what = f"the model of {os.fspath(hf_config)}"
        if peft_config is not None:
            factory = peft_factory(factory, peft_config)
            what += f" with the adapters of {os.fspath(peft_config)}"
    elif isinstance(target, str):
        factory = resolve_target(target)
        what = f"TARGET {target!r}"
    else:
        assert target is not None
        factory = target
        what = f"{getattr(target, '__qualname__', type(target).__name__)}()"
    model = build_model(factory, precision=plugin, what=what)
    namespace = namespace_from_module(model, adapter=adapter, model=model_name)
    return Export(namespace, model, plugin, tuple(off_meta(model)))


def namespace_json(namespace: Namespace) -> str:
    """The namespace file's text, validated against the shipped schema: one record per line.

    A line per parameter, module and alias keeps 50,000-parameter files readable and their diffs
    small; the text is plain JSON (`load_namespace` reads it back equal).
    """
    data = namespace.to_data()
    problems = validate_namespace_data(data)
    if problems:  # Namespace() checks what the schema does and more: this would be a bug
        raise ValueError("the namespace does not validate against the schema: " + "; ".join(problems[:5]))
    lines = ["{"]
    items = list(data.items())
    for position, (key, value) in enumerate(items):
        comma = "," if position < len(items) - 1 else ""
        if isinstance(value, list) and value:
            records = [f"    {_compact(record)}" for record in value]
            lines.append(f"  {_compact(key)}: [")
            lines.append(",\n".join(records))
            lines.append(f"  ]{comma}")
        else:
            lines.append(f"  {_compact(key)}: {_compact(value)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_namespace(namespace: Namespace, path: str | os.PathLike[str]) -> None:
    """Validate `namespace` against the shipped schema, then write it atomically (all or nothing)."""
    atomic_write_text(path, namespace_json(namespace))


def _compact(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(", ", ": "))
