"""The compiler: a `.fts` schedule and a parameter namespace in, a phase plan and diagnostics out.

`compile_schedule(text, namespace)` is the one compiler the CLI, the language server and the runtime
share; it never raises on user input. `compile_file` adds the namespace a file names (`namespace = "…"`).
A `Namespace` is a model's parameter names, read with `load_namespace` (a namespace JSON file);
`ftsc.namespaces.namespace_from_module` makes one from a live model. The rest (selectors, phases,
settings, patterns, memory) are inner rooms that may move; callers use the names here.

The names load on first use (PEP 562): importing one inner module (`ftsc.compiler.namespace`, as the
namespaces package and the adapters do) does not load the whole compiler.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ftsc.compiler.compile import CompileResult, compile_schedule
    from ftsc.compiler.files import compile_file
    from ftsc.compiler.namespace import Namespace, NamespaceError, load_namespace

__all__ = [
    "CompileResult",
    "Namespace",
    "NamespaceError",
    "compile_file",
    "compile_schedule",
    "load_namespace",
]

_HOMES = {
    "CompileResult": "ftsc.compiler.compile",
    "compile_schedule": "ftsc.compiler.compile",
    "compile_file": "ftsc.compiler.files",
    "Namespace": "ftsc.compiler.namespace",
    "NamespaceError": "ftsc.compiler.namespace",
    "load_namespace": "ftsc.compiler.namespace",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
