"""Following names to classes: what `module.name` is at run time, through imports, aliases and `*`."""

from __future__ import annotations

import ast
import functools
from collections.abc import Sequence
from typing import NamedTuple

from ftsc.compiler.classes.bindings import (
    EMPTY_CLASS,
    Alias,
    ClassSource,
    ImportFrom,
    ImportModule,
    Module,
    parse_module,
)
from ftsc.compiler.classes.info import MAX_DEPTH, ClassInfo
from ftsc.compiler.classes.locate import module_spec
from ftsc.compiler.classes.snapshot import snapshot_entry


class ModuleRef(NamedTuple):
    name: str


class ClassRef(NamedTuple):
    module: str
    source: ClassSource


class SnapshotRef(NamedTuple):
    info: ClassInfo


Target = ModuleRef | ClassRef | SnapshotRef
_Seen = frozenset[tuple[str, str]]


@functools.cache
def lookup(module: str, name: str) -> Target | None:
    """What `module.name` is at run time, as far as static reading can tell."""
    return _lookup_in(module, name, frozenset())


def _lookup_in(module: str, name: str, seen: _Seen) -> Target | None:
    if (module, name) in seen or len(seen) > MAX_DEPTH:
        return None  # a re-export cycle (`from pkg import sub as sub` inside pkg) or a runaway chain
    seen = seen | {(module, name)}
    parsed = parse_module(module)
    if parsed is None:
        snapshot = snapshot_entry(module, name)
        return SnapshotRef(snapshot) if snapshot else ModuleRef(f"{module}.{name}")
    binding = parsed.names.get(name)
    if binding is None:
        return _from_star_imports(parsed, name, seen) or _submodule(parsed, name)
    if isinstance(binding, ClassSource):
        return ClassRef(module, binding)
    if isinstance(binding, ImportModule):
        return ModuleRef(binding.module)
    if isinstance(binding, ImportFrom):
        found = _lookup_in(binding.module, binding.name, seen)
        return found or _submodule(parse_module(binding.module), binding.name)
    if isinstance(binding, Alias):
        return resolve_parts(module, binding.parts, seen)
    return None


def _from_star_imports(parsed: Module, name: str, seen: _Seen) -> Target | None:
    for star in parsed.star_imports:
        source = parse_module(star)
        if source is not None and source.exports(name):
            found = _lookup_in(star, name, seen)
            if found is not None:
                return found
    return None


def _submodule(parsed: Module | None, name: str) -> ModuleRef | None:
    if parsed is None or not parsed.is_package:
        return None
    full = f"{parsed.name}.{name}"
    return ModuleRef(full) if module_spec(full) is not None else None


def resolve_parts(module: str, parts: Sequence[str], seen: _Seen) -> Target | None:
    """Resolve a dotted expression (`optim.Optimizer`) written in `module`."""
    target = _lookup_in(module, parts[0], seen)
    for part in parts[1:]:
        if isinstance(target, ModuleRef):
            target = _lookup_in(target.name, part, seen)
        elif isinstance(target, ClassRef):
            body = target.source.node() or EMPTY_CLASS
            nested = [s for s in body.body if isinstance(s, ast.ClassDef) and s.name == part]
            target = ClassRef(target.module, ClassSource(None, part, None, nested[-1])) if nested else None
        else:
            return None
    return target
