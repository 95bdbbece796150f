"""Reading a class: its category (optimizer, lr scheduler) and the constructor it would run."""

from __future__ import annotations

import ast
from typing import NamedTuple

from ftsc.compiler.classes.bindings import EMPTY_CLASS, dotted_parts
from ftsc.compiler.classes.follow import ClassRef, SnapshotRef, resolve_parts
from ftsc.compiler.classes.info import MAX_DEPTH, Category, ClassInfo, Kind, Parameter, ParameterKind, Source

# Deriving from one of these (by name, as torch's own classes and most user classes write it) decides the
# category without reading further source.
_CATEGORY_BASES: dict[str, Kind] = {
    "Optimizer": "optimizer",
    "LRScheduler": "lr_scheduler",
    "_LRScheduler": "lr_scheduler",
    "ReduceLROnPlateau": "lr_scheduler",
}
# Bases that contribute no `__init__` worth reading (object's takes no arguments).
_INERT_BASES = frozenset({"object", "Generic", "Protocol", "ABC"})
_PERMISSIVE = (Parameter("args", "var_positional", False), Parameter("kwargs", "var_keyword", False))


class _Init(NamedTuple):
    """An `__init__` search result: `parameters` None when the chain ended at `object` (no `__init__`)."""

    parameters: tuple[Parameter, ...] | None
    source: Source
    known: bool = True  # False: a base could not be read, so the signature is unknown


def class_info(target: ClassRef | SnapshotRef, qualname: str) -> ClassInfo:
    if isinstance(target, SnapshotRef):
        return ClassInfo(qualname, target.info.parameters, target.info.category, "snapshot")
    init = _find_init(target, 0)
    if not init.known:
        parameters: tuple[Parameter, ...] = _PERMISSIVE  # accept anything rather than report falsely
    else:
        parameters = init.parameters if init.parameters is not None else ()
    return ClassInfo(qualname, parameters, class_category(target, 0), init.source)


def class_category(target: ClassRef | SnapshotRef, depth: int) -> Category:
    """Optimizer / lr scheduler by (transitive, by-name) derivation from torch's base classes."""
    if isinstance(target, SnapshotRef):
        return target.info.category
    if target.source.name in _CATEGORY_BASES:
        return _CATEGORY_BASES[target.source.name]
    if depth > MAX_DEPTH:
        return "unknown"
    for base in _bases(target):
        if base in _CATEGORY_BASES:
            return _CATEGORY_BASES[base]
    for base_target in _base_targets(target):
        if base_target is not None:
            category = class_category(base_target, depth + 1)
            if category != "unknown":
                return category
    return "unknown"


def _bases(target: ClassRef) -> list[str]:
    """Last name of each base expression (`torch.optim.Optimizer` -> `Optimizer`)."""
    parts = [dotted_parts(base) for base in (target.source.header() or EMPTY_CLASS).bases]
    return [p[-1] if p else "" for p in parts]


def _base_targets(target: ClassRef) -> list[ClassRef | SnapshotRef | None]:
    """Resolve the bases in the class's own module; inert bases (`object`, `Generic`) are left out."""
    resolved: list[ClassRef | SnapshotRef | None] = []
    for base in (target.source.header() or EMPTY_CLASS).bases:
        parts = dotted_parts(base)
        if parts and parts[-1] in _INERT_BASES:
            continue
        found = resolve_parts(target.module, parts, frozenset()) if parts else None
        resolved.append(found if isinstance(found, ClassRef | SnapshotRef) else None)
    return resolved


def _find_init(target: ClassRef | SnapshotRef, depth: int) -> _Init:
    """The `__init__` the class would run: its own, else the first found along its bases (MRO order)."""
    if isinstance(target, SnapshotRef):
        return _Init(target.info.parameters, "snapshot")
    node = target.source.node()
    own = _own_init(node) if node is not None else None
    if own is not None:
        return _Init(_parameters(own), "installed")
    if node is None or node.decorator_list or depth > MAX_DEPTH:
        return _Init(None, "installed", known=False)  # e.g. @dataclass writes an __init__ we cannot see
    for base_target in _base_targets(target):
        if base_target is None:
            return _Init(None, "installed", known=False)
        init = _find_init(base_target, depth + 1)
        if not init.known or init.parameters is not None:
            return init
    return _Init(None, "installed")


def _own_init(node: ast.ClassDef) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The class body's `__init__`; with `@overload`s, the implementation (the last one)."""
    functions = (s for s in node.body if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef))
    inits = [s for s in functions if s.name == "__init__"]
    implementations = [s for s in inits if not any(_is_overload(d) for d in s.decorator_list)]
    chosen = implementations or inits
    return chosen[-1] if chosen else None


def _is_overload(decorator: ast.expr) -> bool:
    parts = dotted_parts(decorator)
    return parts is not None and parts[-1] == "overload"


def _parameters(function: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[Parameter, ...]:
    """The signature as `inspect.signature(cls)` shows it: without the leading `self`."""
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    first_default = len(positional) - len(args.defaults)
    kinds: list[ParameterKind] = ["positional_only"] * len(args.posonlyargs)
    kinds += ["positional_or_keyword"] * len(args.args)
    parameters = [
        Parameter(arg.arg, kind, i >= first_default)
        for i, (arg, kind) in enumerate(zip(positional, kinds, strict=True))
    ]
    if args.vararg is not None:
        parameters.append(Parameter(args.vararg.arg, "var_positional", False))
    parameters += [
        Parameter(arg.arg, "keyword_only", default is not None)
        for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True)
    ]
    if args.kwarg is not None:
        parameters.append(Parameter(args.kwarg.arg, "var_keyword", False))
    return tuple(parameters[1:] if positional else parameters)
