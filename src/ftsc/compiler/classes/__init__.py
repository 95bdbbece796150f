"""Resolve the optimizer and lr scheduler classes a schedule names, and check their keyword arguments.

`ftsc check` must stay fast and must never run user code, so nothing here imports torch or the named
packages: modules are located with `importlib.machinery.PathFinder` (which only looks at the file system)
and read with `ast`. When torch is not installed at all (a light CI job), a snapshot of the torch.optim
signatures bundled with ftsc (`data/torch_optim_signatures.json`, made by `tools/gen_torch_signatures.py`)
stands in for the source.

A bare class name is looked up in `torch.optim` (optimizers) or `torch.optim.lr_scheduler` (lr
schedulers); a dotted name is `module.Class`, as the runtime imports it.

One room per step: `locate` finds a module's file, `scan` and `bindings` read what its top-level names
are bound to, `follow` chases a name through imports to a class, `signature` reads that class's
category and constructor, `snapshot` stands in for torch when its source is absent, `resolve` turns a
schedule's class name into a `Lookup`, and `arguments` checks keyword arguments against the
constructor (`info` holds the types they share).
"""

from ftsc.compiler.classes.arguments import check_arguments
from ftsc.compiler.classes.info import (
    HOME_MODULES,
    ArgumentProblem,
    ClassInfo,
    Kind,
    Lookup,
    Parameter,
)
from ftsc.compiler.classes.resolve import clear_caches, known_class_names, resolve_class
from ftsc.compiler.classes.snapshot import SNAPSHOT_PATH, snapshot_torch_version

__all__ = [
    "HOME_MODULES",
    "SNAPSHOT_PATH",
    "ArgumentProblem",
    "ClassInfo",
    "Kind",
    "Lookup",
    "Parameter",
    "check_arguments",
    "clear_caches",
    "known_class_names",
    "resolve_class",
    "snapshot_torch_version",
]
