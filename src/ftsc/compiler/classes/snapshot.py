"""The bundled torch.optim signatures, which stand in for torch's source when torch is not installed.

`data/torch_optim_signatures.json` is made by `tools/gen_torch_signatures.py`.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, NamedTuple, cast, get_args

from ftsc.compiler.classes.info import HOME_MODULES, Category, ClassInfo, Kind, Parameter, ParameterKind

SNAPSHOT_PATH = Path(__file__).parents[1] / "data" / "torch_optim_signatures.json"


class _Snapshot(NamedTuple):
    torch_version: str
    classes: dict[Kind, dict[str, ClassInfo]]


@functools.cache
def load_snapshot() -> _Snapshot:
    """Load the bundled signatures (only reached when torch's source is not installed)."""
    import json  # only when torch's source is not installed

    try:
        data = json.loads(SNAPSHOT_PATH.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return _Snapshot("", {"optimizer": {}, "lr_scheduler": {}})
    classes: dict[Kind, dict[str, ClassInfo]] = {
        kind: {name: _snapshot_info(entry) for name, entry in data.get(kind, {}).items()}
        for kind in get_args(Kind)
    }
    return _Snapshot(str(data.get("torch_version", "")), classes)


def _snapshot_info(entry: dict[str, Any]) -> ClassInfo:
    parameters = tuple(
        Parameter(str(p["name"]), cast(ParameterKind, p["kind"]), bool(p["has_default"]))
        for p in entry["parameters"]
    )
    return ClassInfo(str(entry["qualname"]), parameters, cast(Category, entry["category"]), "snapshot")


def snapshot_entry(module: str, name: str) -> ClassInfo | None:
    """Stand-in for a class of a torch.optim module that is not installed."""
    if module != "torch.optim" and not module.startswith("torch.optim."):
        return None
    tables = load_snapshot().classes
    if module == HOME_MODULES["lr_scheduler"]:
        return tables["lr_scheduler"].get(name)
    return tables["optimizer"].get(name) or tables["lr_scheduler"].get(name)


def snapshot_torch_version() -> str:
    """The torch version the bundled snapshot was generated from."""
    return load_snapshot().torch_version
