"""Regenerate `src/ftsc/compiler/data/torch_optim_signatures.json` from the installed torch.

`ftsc check` reads torch's source statically; this snapshot stands in when torch is not installed (a light
CI job). Unlike the checker, this script imports torch and asks `inspect.signature`, so the snapshot is the
ground truth for the torch version it was made with. `--check` exits 1 when the file is stale.

    python tools/gen_torch_signatures.py [--check]
"""

from __future__ import annotations

import argparse
import inspect
import json
import re
import sys
from pathlib import Path
from typing import Any

import torch
import torch.optim
import torch.optim.lr_scheduler

OUTPUT = (
    Path(__file__).resolve().parents[1] / "src" / "ftsc" / "compiler" / "data" / "torch_optim_signatures.json"
)
SCHEDULER_BASES: tuple[type, ...] = (
    torch.optim.lr_scheduler.LRScheduler,
    torch.optim.lr_scheduler.ReduceLROnPlateau,
)


def public_classes(module: Any, bases: tuple[type, ...]) -> dict[str, type]:
    """The classes a module lists in `__all__` that derive from one of `bases`."""
    found = {name: getattr(module, name) for name in module.__all__}
    return {name: obj for name, obj in found.items() if isinstance(obj, type) and issubclass(obj, bases)}


def describe(qualname: str, cls: type, category: str) -> dict[str, Any]:
    parameters = [
        {"name": p.name, "kind": p.kind.name.lower(), "has_default": p.default is not inspect.Parameter.empty}
        for p in inspect.signature(cls).parameters.values()
    ]
    return {"qualname": qualname, "category": category, "parameters": parameters}


def snapshot() -> dict[str, Any]:
    optimizers = public_classes(torch.optim, (torch.optim.Optimizer,))
    schedulers = public_classes(torch.optim.lr_scheduler, SCHEDULER_BASES)
    return {
        "torch_version": torch.__version__,
        "generated_by": "tools/gen_torch_signatures.py (inspect.signature); do not edit",
        "optimizer": {n: describe(f"torch.optim.{n}", c, "optimizer") for n, c in sorted(optimizers.items())},
        "lr_scheduler": {
            n: describe(f"torch.optim.lr_scheduler.{n}", c, "lr_scheduler")
            for n, c in sorted(schedulers.items())
        },
    }


def render() -> str:
    """Indented JSON with one line per parameter, so a diff shows which parameter changed."""
    text = json.dumps(snapshot(), indent=2)
    return re.sub(r"\{\n\s+(\"name\"[^{}]*?)\n\s+\}", _one_line, text) + "\n"


def _one_line(match: re.Match[str]) -> str:
    return "{" + re.sub(r",\n\s+", ", ", match.group(1)) + "}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the snapshot differs from torch")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT} is stale; run tools/gen_torch_signatures.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT} (torch {torch.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
