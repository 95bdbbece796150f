"""Finding the class a schedule names: bare in torch's home module for its kind, dotted as written."""

from __future__ import annotations

import functools

from ftsc.compiler.classes.bindings import ClassSource, Module, Other, parse_module
from ftsc.compiler.classes.follow import ClassRef, ModuleRef, SnapshotRef, lookup
from ftsc.compiler.classes.info import HOME_MODULES, Category, ClassInfo, Kind, Lookup
from ftsc.compiler.classes.locate import module_spec
from ftsc.compiler.classes.signature import class_category, class_info
from ftsc.compiler.classes.snapshot import load_snapshot, snapshot_entry
from ftsc.compiler.classes.suggest import close_matches

_KIND_LABELS: dict[Category, str] = {
    "optimizer": "an optimizer",
    "lr_scheduler": "an lr scheduler",
    "unknown": "not an optimizer or lr scheduler",
}


def resolve_class(name: str, kind: Kind) -> Lookup:
    """Find the class a schedule names for `kind` (bare: in torch's home module; dotted: as written)."""
    return _resolve_class(name, kind)


@functools.cache  # a plain wrapper above keeps the typed signature for callers
def _resolve_class(name: str, kind: Kind) -> Lookup:
    parts = name.split(".")
    if not all(part.isidentifier() for part in parts):
        return Lookup(None, f"`{name}` is not a class name")
    if len(parts) == 1:
        return _resolve_bare(name, kind)
    return _resolve_dotted(name, kind)


def known_class_names(kind: Kind) -> tuple[str, ...]:
    """Public class names of torch.optim / torch.optim.lr_scheduler of `kind` (completion, did-you-mean)."""
    return _known_class_names(kind)


@functools.cache
def _known_class_names(kind: Kind) -> tuple[str, ...]:
    home = HOME_MODULES[kind]
    parsed = parse_module(home)
    if parsed is None:
        return tuple(sorted(load_snapshot().classes[kind]))
    names = set()
    for candidate in parsed.public_names():
        target = lookup(home, candidate)
        if isinstance(target, ClassRef | SnapshotRef) and class_category(target, 0) == kind:
            names.add(candidate)
    return tuple(sorted(names))


def clear_caches() -> None:
    """Forget everything read so far (tests; a language server after the environment changed)."""
    for cached in (module_spec, parse_module, lookup, load_snapshot, _resolve_class, _known_class_names):
        cached.cache_clear()


def _resolve_bare(name: str, kind: Kind) -> Lookup:
    home = HOME_MODULES[kind]
    target = _home_class(name, kind)
    if target is None:
        return _not_found(name, kind)
    info = class_info(target, f"{home}.{name}")
    if info.category == "unknown":
        return Lookup(None, f"`{name}` in {home} is not {_KIND_LABELS[kind]}")
    return _checked_kind(info, kind)


def _home_class(name: str, kind: Kind) -> ClassRef | SnapshotRef | None:
    """A public class of torch's home module for `kind` (the snapshot's, when torch is not installed)."""
    home = HOME_MODULES[kind]
    parsed = parse_module(home)
    if parsed is None:
        entry = load_snapshot().classes[kind].get(name)
        return SnapshotRef(entry) if entry is not None else None
    if name not in parsed.public_names() and not isinstance(parsed.names.get(name), ClassSource):
        return None  # `torch.optim.lr_scheduler.Tensor` exists, but is nothing a schedule means
    target = lookup(home, name)
    return target if isinstance(target, ClassRef | SnapshotRef) else None


def _not_found(name: str, kind: Kind) -> Lookup:
    """A bare name that is not in the home module: maybe the other kind, maybe a typo."""
    other: Kind = "lr_scheduler" if kind == "optimizer" else "optimizer"
    elsewhere = _home_class(name, other)
    if elsewhere is not None and class_category(elsewhere, 0) == other:
        return Lookup(None, f"`{name}` is {_KIND_LABELS[other]}, not {_KIND_LABELS[kind]}")
    suggestions = close_matches(name, known_class_names(kind))
    return Lookup(None, f"no class `{name}` in {HOME_MODULES[kind]}", suggestions)


def _resolve_dotted(name: str, kind: Kind) -> Lookup:
    module, _, attr = name.rpartition(".")
    parsed = parse_module(module)
    if parsed is None:
        snapshot = snapshot_entry(module, attr) if module_spec(module) is None else None
        if snapshot is not None:
            return _checked_kind(ClassInfo(name, snapshot.parameters, snapshot.category, "snapshot"), kind)
        return Lookup(None, _missing_module_problem(module))
    target = lookup(module, attr)
    if isinstance(target, ModuleRef):
        return Lookup(None, f"`{name}` is a module, not a class")
    if not isinstance(target, ClassRef | SnapshotRef):
        suggestions = tuple(f"{module}.{s}" for s in close_matches(attr, _class_like_names(parsed, attr)))
        return Lookup(None, f"no class `{attr}` in {module}", suggestions)
    return _checked_kind(class_info(target, name), kind)


def _missing_module_problem(module: str) -> str:
    top = module.partition(".")[0]
    if module_spec(top) is None:
        return f"module `{top}` is not installed"
    if module_spec(module) is None:
        return f"module `{module}` cannot be found"
    return f"module `{module}` has no Python source to read"


def _class_like_names(parsed: Module, typed: str) -> list[str]:
    """Names in a module that could be a class (for did-you-mean); private ones only if asked for."""
    names = [n for n, b in parsed.names.items() if not isinstance(b, Other)] + (parsed.all_names or [])
    return [n for n in dict.fromkeys(names) if typed.startswith("_") or not n.startswith("_")]


def _checked_kind(info: ClassInfo, kind: Kind) -> Lookup:
    """The class is there; is it the right kind? (`unknown`: a user class we cannot tell; accept it.)"""
    if info.category in (kind, "unknown"):
        return Lookup(info, None)
    return Lookup(None, f"`{info.display_name}` is {_KIND_LABELS[info.category]}, not {_KIND_LABELS[kind]}")
