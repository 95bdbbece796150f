"""Resolve the optimizer and lr scheduler classes a schedule names, and check their keyword arguments.

`ftsc check` must stay fast and must never run user code, so nothing here imports torch or the named
packages: modules are located with `importlib.machinery.PathFinder` (which only looks at the file system)
and read with `ast`. When torch is not installed at all (a light CI job), a snapshot of the torch.optim
signatures bundled with ftsc (`data/torch_optim_signatures.json`, made by `tools/gen_torch_signatures.py`)
stands in for the source.

A bare class name is looked up in `torch.optim` (optimizers) or `torch.optim.lr_scheduler` (lr
schedulers); a dotted name is `module.Class`, as the runtime imports it.
"""

from __future__ import annotations

import ast
import functools
import importlib.machinery
import importlib.util
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple, cast, get_args

Kind = Literal["optimizer", "lr_scheduler"]
ParameterKind = Literal[
    "positional_only", "positional_or_keyword", "var_positional", "keyword_only", "var_keyword"
]
Category = Literal["optimizer", "lr_scheduler", "unknown"]
Source = Literal["installed", "snapshot"]

HOME_MODULES: dict[Kind, str] = {"optimizer": "torch.optim", "lr_scheduler": "torch.optim.lr_scheduler"}
SNAPSHOT_PATH = Path(__file__).parent / "data" / "torch_optim_signatures.json"

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
_KIND_LABELS: dict[Category, str] = {
    "optimizer": "an optimizer",
    "lr_scheduler": "an lr scheduler",
    "unknown": "not an optimizer or lr scheduler",
}
_KEYWORD_KINDS = ("positional_or_keyword", "keyword_only")
_MAX_DEPTH = 64  # inheritance / re-export chains longer than this are treated as unresolvable


@dataclass(frozen=True)
class Parameter:
    """One constructor parameter, as `inspect.Parameter` would describe it."""

    name: str
    kind: ParameterKind
    has_default: bool


@dataclass(frozen=True)
class ClassInfo:
    """What the checker needs to know about a resolved class."""

    qualname: str
    parameters: tuple[Parameter, ...]  # excluding self
    category: Category
    source: Source

    @property
    def display_name(self) -> str:
        return self.qualname.rpartition(".")[2]


@dataclass(frozen=True)
class Lookup:
    """The outcome of `resolve_class`: `info` when it resolved, else `problem` and maybe suggestions."""

    info: ClassInfo | None
    problem: str | None
    suggestions: tuple[str, ...] = ()


@dataclass(frozen=True)
class ArgumentProblem:
    """A keyword argument that does not fit (or a required parameter that is missing: `argument` None)."""

    argument: str | None
    message: str
    suggestion: str | None = None


# --------------------------------------------------------------------------------------------------
# Locating modules without importing them


@functools.cache
def _module_spec(name: str) -> importlib.machinery.ModuleSpec | None:
    """Find a module's spec the way the import system would, but without importing any parent package."""
    parent, _, _ = name.rpartition(".")
    if not parent:
        return _top_level_spec(name)
    parent_spec = _module_spec(parent)
    if parent_spec is None or parent_spec.submodule_search_locations is None:
        return None
    return importlib.machinery.PathFinder.find_spec(name, list(parent_spec.submodule_search_locations))


def _top_level_spec(name: str) -> importlib.machinery.ModuleSpec | None:
    """PathFinder first; then setuptools' editable-install finders, whose lookups are static tables.

    Other meta path finders are not asked: some (e.g. meson-python's) rebuild or import on `find_spec`.
    """
    spec = importlib.machinery.PathFinder.find_spec(name)
    if spec is not None:
        return spec
    for finder in sys.meta_path:
        if not str(getattr(finder, "__module__", "")).startswith("__editable__"):
            continue
        try:
            spec = finder.find_spec(name, None)
        except Exception:  # a broken finder must not break `ftsc check`
            continue
        if spec is not None:
            return spec
    return None


# --------------------------------------------------------------------------------------------------
# Reading a module's top-level bindings


class _ImportModule(NamedTuple):
    """`import a.b as c` binds `c` to `a.b`; `import a.b` binds `a` to `a`."""

    module: str


class _ImportFrom(NamedTuple):
    """`from m import x` (relative imports already made absolute)."""

    module: str
    name: str


class _Alias(NamedTuple):
    """`X = a.b.C`: a name bound to another dotted name."""

    parts: tuple[str, ...]


class _Other(NamedTuple):
    """A function, a computed value: bound, but not something we can follow."""


class _ClassSource:
    """A top-level class whose text is parsed only when the class is asked for.

    Most of a module's source is function bodies and docstrings the checker never needs; parsing just the
    class asked for keeps a cold lookup in `torch.optim.lr_scheduler` cheap.
    """

    __slots__ = ("_header", "_node", "_parsed", "module", "name", "text")

    def __init__(
        self, module: _Module | None, name: str, text: str | None, node: ast.ClassDef | None = None
    ) -> None:
        self.module, self.name, self.text = module, name, text
        self._node, self._parsed = node, node is not None
        self._header: ast.ClassDef | None = node

    def node(self) -> ast.ClassDef | None:
        """The whole class (for its `__init__`)."""
        if not self._parsed:
            self._parsed = True
            own = _first_class(_parse_text(self.text or ""), self.name)
            self._node = own or (self.module.full_class(self.name) if self.module else None)
        return self._node

    def header(self) -> ast.ClassDef | None:
        """Only decorators and `class X(bases):`: all the category needs, and far cheaper to parse."""
        if self._header is None:
            text = self.text or ""
            end = _header_end(text)
            header = _parse_text(f"{text[:end]} pass\n") if end is not None else None
            self._header = _first_class(header, self.name) or self.node()
        return self._header


_Binding = _ClassSource | _ImportModule | _ImportFrom | _Alias | _Other


class _Module:
    """A module's top-level bindings, `from ... import *` sources and `__all__`."""

    __slots__ = ("all_names", "is_package", "name", "names", "source", "star_imports")

    def __init__(self, name: str, is_package: bool, source: str = "") -> None:
        self.name, self.is_package, self.source = name, is_package, source
        self.names: dict[str, _Binding] = {}
        self.star_imports: list[str] = []
        self.all_names: list[str] | None = None

    def exports(self, name: str) -> bool:
        """Whether `from module import *` would bring `name`."""
        return name in self.all_names if self.all_names is not None else not name.startswith("_")

    def public_names(self) -> list[str]:
        return self.all_names if self.all_names is not None else [n for n in self.names if self.exports(n)]

    def full_class(self, name: str) -> ast.ClassDef | None:
        """Fallback when a class's own text did not parse: read the whole module."""
        found = [s for s in _parse_text(self.source) or [] if isinstance(s, ast.ClassDef) and s.name == name]
        return found[-1] if found else None


@functools.cache
def _parse_module(name: str) -> _Module | None:
    """Read a module's top-level bindings; None when it cannot be found or has no Python source."""
    spec = _module_spec(name)
    if spec is None:
        return None
    is_package = spec.submodule_search_locations is not None
    origin = spec.origin
    if origin is None or not spec.has_location:
        return _Module(name, is_package) if is_package else None  # a namespace package: only children
    if not origin.endswith(".py"):
        return None  # an extension module: nothing to read
    source = _read_source(Path(origin))
    if source is None:
        return None
    module = _Module(name, is_package, source)
    if _collect_chunks(source, module):
        return module
    module = _Module(name, is_package, source)  # the chunking was fooled: read the module whole
    tree = _parse_text(source)
    if tree is None:
        return None
    _collect(tree, module, nested=False)
    return module


def _read_source(path: Path) -> str | None:
    """UTF-8 (PEP 3120) unless a coding cookie says otherwise; then let importlib decode it."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    try:
        if _CODING.search(b"\n".join(raw.split(b"\n", 2)[:2])):
            return importlib.util.decode_source(raw)
        return raw.decode("utf-8").removeprefix("\ufeff")
    except (UnicodeDecodeError, SyntaxError, LookupError):
        return None


def _parse_text(text: str) -> list[ast.stmt] | None:
    try:
        return ast.parse(text).body
    except (SyntaxError, ValueError):
        return None


def _first_class(body: list[ast.stmt] | None, name: str) -> ast.ClassDef | None:
    return next((s for s in body or [] if isinstance(s, ast.ClassDef) and s.name == name), None)


# Scanning for top-level statements: strings and comments are skipped whole, so a column-0 line inside a
# docstring is not taken for a statement. Whatever this misjudges makes a chunk fail to parse, and then
# the module is parsed whole.
_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=]", re.MULTILINE)
# `_SCAN` skips code, one-line strings, comments and indented lines in one go, and stops at a triple
# quote (its end is found with `_STRING_END`), at a line starting in column 0, or at an unclosed string.
_SCAN = re.compile(
    r"""(?:[^"'#\n]+|"(?!"")(?:[^"\\\n]|\\.)*"|'(?!'')(?:[^'\\\n]|\\.)*'|\#[^\n]*|\n(?=[\s#]))*"""
    r"""(?:(?P<quote>\"\"\"|''')|(?P<unclosed>["'])|\n|\Z)""",
    re.DOTALL,
)
_STRING_END = {
    '"""': re.compile(r'[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""', re.DOTALL),
    "'''": re.compile(r"[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''", re.DOTALL),
    '"': re.compile(r'[^"\\\n]*(?:\\.[^"\\\n]*)*"', re.DOTALL),
    "'": re.compile(r"[^'\\\n]*(?:\\.[^'\\\n]*)*'", re.DOTALL),
}
_CONTINUATION = re.compile(r"[)\]}]|(?:else|elif|except|finally)\b")
_HEAD = re.compile(r"(?:@[^\n]*\n)*(?:(class)|(?:async[ \t]+)?def)[ \t]+(\w+)")


_EMPTY_CLASS = ast.ClassDef(name="", bases=[], keywords=[], body=[], decorator_list=[])
_HEADER_SCAN = re.compile(r"""(?P<quote>\"\"\"|'''|"|')|#[^\n]*|[()\[\]{}:]""")


def _header_end(text: str) -> int | None:
    """Offset just past the colon that ends a class statement's header (brackets and strings skipped)."""
    head = _HEAD.match(text)
    if head is None:
        return None
    position, depth = head.end(), 0
    while (match := _HEADER_SCAN.search(text, position)) is not None:
        quote = match.group("quote")
        if quote:
            end = _STRING_END[quote].match(text, match.end())
            if end is None:
                return None
            position = end.end()
            continue
        position, token = match.end(), match.group()
        if token in "([{":
            depth += 1
        elif token in ")]}":
            depth -= 1
        elif token == ":" and depth == 0:
            return position
    return None


def _statement_starts(source: str) -> list[int] | None:
    """Offsets where top-level statements (with their decorators) begin; None on an unclosed string."""
    starts, previous, position = [0], 0, 0
    while position < len(source):
        match = _SCAN.match(source, position)
        if match is None or match.group("unclosed") is not None:
            return None
        quote = match.group("quote")
        if quote:
            end = _STRING_END[quote].match(source, match.end())
            if end is None:
                return None
            position = end.end()
            continue
        position = match.end()
        if not source.endswith("\n", 0, position) or source.endswith("\\\n", 0, position):
            continue  # end of file, or a backslash continuation
        if position == len(source) or _CONTINUATION.match(source, position):
            continue
        if not source.startswith("@", previous):
            starts.append(position)
        previous = position
    return starts


def _collect_chunks(source: str, module: _Module) -> bool:
    """Record bindings statement by statement, leaving class and function bodies unparsed."""
    starts = _statement_starts(source)
    if starts is None:
        return False
    for begin, end in zip(starts, [*starts[1:], len(source)], strict=True):
        text = source[begin:end]
        head = _HEAD.match(text)
        if head is not None and head.group(1):
            module.names[head.group(2)] = _ClassSource(module, head.group(2), text)
        elif head is not None:
            module.names[head.group(2)] = _Other()
        else:
            body = _parse_text(text)
            if body is None:
                return False
            _collect(body, module, nested=False)
    return True


def _collect(body: Iterable[ast.stmt], module: _Module, nested: bool) -> None:
    """Record top-level bindings; inside `if` / `try` the first binding wins (the likely-taken branch)."""
    for stmt in body:
        if isinstance(stmt, ast.If | ast.Try | ast.With):
            for block in _blocks(stmt):
                _collect(block, module, nested=True)
            continue
        for name, binding in _bindings(stmt, module):
            if name == "__all__":
                continue
            if nested:
                module.names.setdefault(name, binding)
            else:
                module.names[name] = binding
        _collect_all(stmt, module)


def _blocks(stmt: ast.If | ast.Try | ast.With) -> list[list[ast.stmt]]:
    if isinstance(stmt, ast.If):
        return [stmt.body, stmt.orelse]
    if isinstance(stmt, ast.Try):
        return [stmt.body, *(handler.body for handler in stmt.handlers), stmt.orelse, stmt.finalbody]
    return [stmt.body]


def _bindings(stmt: ast.stmt, module: _Module) -> list[tuple[str, _Binding]]:
    if isinstance(stmt, ast.ClassDef):
        return [(stmt.name, _ClassSource(module, stmt.name, None, stmt))]
    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
        return [(stmt.name, _Other())]
    if isinstance(stmt, ast.Import):
        return [
            (alias.asname, _ImportModule(alias.name))
            if alias.asname
            else (alias.name.partition(".")[0], _ImportModule(alias.name.partition(".")[0]))
            for alias in stmt.names
        ]
    if isinstance(stmt, ast.ImportFrom):
        source = _absolute_module(module, stmt.level, stmt.module)
        if source is None:
            return []
        if any(alias.name == "*" for alias in stmt.names):
            module.star_imports.append(source)
            return []
        return [(alias.asname or alias.name, _ImportFrom(source, alias.name)) for alias in stmt.names]
    if isinstance(stmt, ast.Assign | ast.AnnAssign):
        parts = _dotted_parts(stmt.value) if stmt.value is not None else None
        binding: _Binding = _Alias(parts) if parts else _Other()
        return [(name, binding) for name in _assigned_names(stmt)]
    return []


def _target_names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Tuple | ast.List):
        return [name for element in target.elts for name in _target_names(element)]
    return []


def _collect_all(stmt: ast.stmt, module: _Module) -> None:
    """`__all__ = [...]`, `__all__ += [...]` and `__all__.extend([...])` with literal strings."""
    value: ast.expr | None = None
    extend = False
    if isinstance(stmt, ast.Assign | ast.AnnAssign) and "__all__" in _assigned_names(stmt):
        value = stmt.value
    elif isinstance(stmt, ast.AugAssign) and _is_name(stmt.target, "__all__"):
        value, extend = stmt.value, True
    elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and len(stmt.value.args) == 1:
        func, argument = stmt.value.func, stmt.value.args[0]
        if isinstance(func, ast.Attribute) and _is_name(func.value, "__all__"):
            extend = func.attr in {"extend", "append"}
            value = argument if func.attr == "extend" else ast.List(elts=[argument]) if extend else None
    strings = _literal_strings(value)
    if strings is None:
        return
    module.all_names = [*(module.all_names or []), *strings] if extend else strings


def _assigned_names(stmt: ast.Assign | ast.AnnAssign) -> list[str]:
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
    return [name for target in targets for name in _target_names(target)]


def _is_name(node: ast.expr, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _literal_strings(node: ast.expr | None) -> list[str] | None:
    if not isinstance(node, ast.List | ast.Tuple):
        return None
    strings = [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return strings if len(strings) == len(node.elts) else None


def _absolute_module(module: _Module, level: int, target: str | None) -> str | None:
    """Make a `from ... import` module absolute, as the import system would for `module`."""
    if level == 0:
        return target
    package = module.name if module.is_package else module.name.rpartition(".")[0]
    parts = package.split(".") if package else []
    if level - 1 > len(parts) or (level - 1 == len(parts) and not target):
        return None
    base = ".".join(parts[: len(parts) - (level - 1)])
    return ".".join(p for p in (base, target) if p)


def _dotted_parts(node: ast.expr) -> tuple[str, ...] | None:
    """`a.b.C` -> ("a", "b", "C"); `Base[T]` reads as `Base`; anything else is not a name."""
    if isinstance(node, ast.Subscript):
        return _dotted_parts(node.value)
    if isinstance(node, ast.Name):
        return (node.id,)
    if isinstance(node, ast.Attribute):
        head = _dotted_parts(node.value)
        return (*head, node.attr) if head else None
    return None


# --------------------------------------------------------------------------------------------------
# Following names to classes


class _ModuleRef(NamedTuple):
    name: str


class _ClassRef(NamedTuple):
    module: str
    source: _ClassSource


class _SnapshotRef(NamedTuple):
    info: ClassInfo


_Target = _ModuleRef | _ClassRef | _SnapshotRef
_Seen = frozenset[tuple[str, str]]


@functools.cache
def _lookup(module: str, name: str) -> _Target | None:
    """What `module.name` is at run time, as far as static reading can tell."""
    return _lookup_in(module, name, frozenset())


def _lookup_in(module: str, name: str, seen: _Seen) -> _Target | None:
    if (module, name) in seen or len(seen) > _MAX_DEPTH:
        return None  # a re-export cycle (`from pkg import sub as sub` inside pkg) or a runaway chain
    seen = seen | {(module, name)}
    parsed = _parse_module(module)
    if parsed is None:
        snapshot = _snapshot_entry(module, name)
        return _SnapshotRef(snapshot) if snapshot else _ModuleRef(f"{module}.{name}")
    binding = parsed.names.get(name)
    if binding is None:
        return _from_star_imports(parsed, name, seen) or _submodule(parsed, name)
    if isinstance(binding, _ClassSource):
        return _ClassRef(module, binding)
    if isinstance(binding, _ImportModule):
        return _ModuleRef(binding.module)
    if isinstance(binding, _ImportFrom):
        found = _lookup_in(binding.module, binding.name, seen)
        return found or _submodule(_parse_module(binding.module), binding.name)
    if isinstance(binding, _Alias):
        return _resolve_parts(module, binding.parts, seen)
    return None


def _from_star_imports(parsed: _Module, name: str, seen: _Seen) -> _Target | None:
    for star in parsed.star_imports:
        source = _parse_module(star)
        if source is not None and source.exports(name):
            found = _lookup_in(star, name, seen)
            if found is not None:
                return found
    return None


def _submodule(parsed: _Module | None, name: str) -> _ModuleRef | None:
    if parsed is None or not parsed.is_package:
        return None
    full = f"{parsed.name}.{name}"
    return _ModuleRef(full) if _module_spec(full) is not None else None


def _resolve_parts(module: str, parts: Sequence[str], seen: _Seen) -> _Target | None:
    """Resolve a dotted expression (`optim.Optimizer`) written in `module`."""
    target = _lookup_in(module, parts[0], seen)
    for part in parts[1:]:
        if isinstance(target, _ModuleRef):
            target = _lookup_in(target.name, part, seen)
        elif isinstance(target, _ClassRef):
            body = target.source.node() or _EMPTY_CLASS
            nested = [s for s in body.body if isinstance(s, ast.ClassDef) and s.name == part]
            target = _ClassRef(target.module, _ClassSource(None, part, None, nested[-1])) if nested else None
        else:
            return None
    return target


# --------------------------------------------------------------------------------------------------
# Reading a class: its category and its constructor


_PERMISSIVE = (Parameter("args", "var_positional", False), Parameter("kwargs", "var_keyword", False))


class _Init(NamedTuple):
    """An `__init__` search result: `parameters` None when the chain ended at `object` (no `__init__`)."""

    parameters: tuple[Parameter, ...] | None
    source: Source
    known: bool = True  # False: a base could not be read, so the signature is unknown


def _class_info(target: _ClassRef | _SnapshotRef, qualname: str) -> ClassInfo:
    if isinstance(target, _SnapshotRef):
        return ClassInfo(qualname, target.info.parameters, target.info.category, "snapshot")
    init = _find_init(target, 0)
    if not init.known:
        parameters: tuple[Parameter, ...] = _PERMISSIVE  # accept anything rather than report falsely
    else:
        parameters = init.parameters if init.parameters is not None else ()
    return ClassInfo(qualname, parameters, _category(target, 0), init.source)


def _category(target: _ClassRef | _SnapshotRef, depth: int) -> Category:
    """Optimizer / lr scheduler by (transitive, by-name) derivation from torch's base classes."""
    if isinstance(target, _SnapshotRef):
        return target.info.category
    if target.source.name in _CATEGORY_BASES:
        return _CATEGORY_BASES[target.source.name]
    if depth > _MAX_DEPTH:
        return "unknown"
    for base in _bases(target):
        if base in _CATEGORY_BASES:
            return _CATEGORY_BASES[base]
    for base_target in _base_targets(target):
        if base_target is not None:
            category = _category(base_target, depth + 1)
            if category != "unknown":
                return category
    return "unknown"


def _bases(target: _ClassRef) -> list[str]:
    """Last name of each base expression (`torch.optim.Optimizer` -> `Optimizer`)."""
    parts = [_dotted_parts(base) for base in (target.source.header() or _EMPTY_CLASS).bases]
    return [p[-1] if p else "" for p in parts]


def _base_targets(target: _ClassRef) -> list[_ClassRef | _SnapshotRef | None]:
    """Resolve the bases in the class's own module; inert bases (`object`, `Generic`) are left out."""
    resolved: list[_ClassRef | _SnapshotRef | None] = []
    for base in (target.source.header() or _EMPTY_CLASS).bases:
        parts = _dotted_parts(base)
        if parts and parts[-1] in _INERT_BASES:
            continue
        found = _resolve_parts(target.module, parts, frozenset()) if parts else None
        resolved.append(found if isinstance(found, _ClassRef | _SnapshotRef) else None)
    return resolved


def _find_init(target: _ClassRef | _SnapshotRef, depth: int) -> _Init:
    """The `__init__` the class would run: its own, else the first found along its bases (MRO order)."""
    if isinstance(target, _SnapshotRef):
        return _Init(target.info.parameters, "snapshot")
    node = target.source.node()
    own = _own_init(node) if node is not None else None
    if own is not None:
        return _Init(_parameters(own), "installed")
    if node is None or node.decorator_list or depth > _MAX_DEPTH:
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
    parts = _dotted_parts(decorator)
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


# --------------------------------------------------------------------------------------------------
# The bundled snapshot


class _Snapshot(NamedTuple):
    torch_version: str
    classes: dict[Kind, dict[str, ClassInfo]]


@functools.cache
def _snapshot() -> _Snapshot:
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


def _snapshot_entry(module: str, name: str) -> ClassInfo | None:
    """Stand-in for a class of a torch.optim module that is not installed."""
    if module != "torch.optim" and not module.startswith("torch.optim."):
        return None
    tables = _snapshot().classes
    if module == HOME_MODULES["lr_scheduler"]:
        return tables["lr_scheduler"].get(name)
    return tables["optimizer"].get(name) or tables["lr_scheduler"].get(name)


def snapshot_torch_version() -> str:
    """The torch version the bundled snapshot was generated from."""
    return _snapshot().torch_version


# --------------------------------------------------------------------------------------------------
# Public API


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
    parsed = _parse_module(home)
    if parsed is None:
        return tuple(sorted(_snapshot().classes[kind]))
    names = set()
    for candidate in parsed.public_names():
        target = _lookup(home, candidate)
        if isinstance(target, _ClassRef | _SnapshotRef) and _category(target, 0) == kind:
            names.add(candidate)
    return tuple(sorted(names))


def check_arguments(info: ClassInfo, keywords: Sequence[str], kind: Kind) -> list[ArgumentProblem]:
    """Keyword arguments against the constructor; the runtime passes the first parameter itself."""
    injected = _injected_parameter(info.parameters, kind)
    problems: list[ArgumentProblem] = []
    seen: set[str] = set()
    for keyword in keywords:
        if keyword not in seen:
            seen.add(keyword)
            problem = _check_keyword(info, keyword, injected)
            if problem is not None:
                problems.append(problem)
    problems += _missing_arguments(info, seen, injected, kind)
    return problems


def clear_caches() -> None:
    """Forget everything read so far (tests; a language server after the environment changed)."""
    for cached in (_module_spec, _parse_module, _lookup, _snapshot, _resolve_class, _known_class_names):
        cached.cache_clear()


# --------------------------------------------------------------------------------------------------
# Resolution helpers


def _resolve_bare(name: str, kind: Kind) -> Lookup:
    home = HOME_MODULES[kind]
    target = _home_class(name, kind)
    if target is None:
        return _not_found(name, kind)
    info = _class_info(target, f"{home}.{name}")
    if info.category == "unknown":
        return Lookup(None, f"`{name}` in {home} is not {_KIND_LABELS[kind]}")
    return _checked_kind(info, kind)


def _home_class(name: str, kind: Kind) -> _ClassRef | _SnapshotRef | None:
    """A public class of torch's home module for `kind` (the snapshot's, when torch is not installed)."""
    home = HOME_MODULES[kind]
    parsed = _parse_module(home)
    if parsed is None:
        entry = _snapshot().classes[kind].get(name)
        return _SnapshotRef(entry) if entry is not None else None
    if name not in parsed.public_names() and not isinstance(parsed.names.get(name), _ClassSource):
        return None  # `torch.optim.lr_scheduler.Tensor` exists, but is nothing a schedule means
    target = _lookup(home, name)
    return target if isinstance(target, _ClassRef | _SnapshotRef) else None


def _not_found(name: str, kind: Kind) -> Lookup:
    """A bare name that is not in the home module: maybe the other kind, maybe a typo."""
    other: Kind = "lr_scheduler" if kind == "optimizer" else "optimizer"
    elsewhere = _home_class(name, other)
    if elsewhere is not None and _category(elsewhere, 0) == other:
        return Lookup(None, f"`{name}` is {_KIND_LABELS[other]}, not {_KIND_LABELS[kind]}")
    suggestions = _close_matches(name, known_class_names(kind))
    return Lookup(None, f"no class `{name}` in {HOME_MODULES[kind]}", suggestions)


def _resolve_dotted(name: str, kind: Kind) -> Lookup:
    module, _, attr = name.rpartition(".")
    parsed = _parse_module(module)
    if parsed is None:
        snapshot = _snapshot_entry(module, attr) if _module_spec(module) is None else None
        if snapshot is not None:
            return _checked_kind(ClassInfo(name, snapshot.parameters, snapshot.category, "snapshot"), kind)
        return Lookup(None, _missing_module_problem(module))
    target = _lookup(module, attr)
    if isinstance(target, _ModuleRef):
        return Lookup(None, f"`{name}` is a module, not a class")
    if not isinstance(target, _ClassRef | _SnapshotRef):
        suggestions = tuple(f"{module}.{s}" for s in _close_matches(attr, _class_like_names(parsed, attr)))
        return Lookup(None, f"no class `{attr}` in {module}", suggestions)
    return _checked_kind(_class_info(target, name), kind)


def _missing_module_problem(module: str) -> str:
    top = module.partition(".")[0]
    if _module_spec(top) is None:
        return f"module `{top}` is not installed"
    if _module_spec(module) is None:
        return f"module `{module}` cannot be found"
    return f"module `{module}` has no Python source to read"


def _class_like_names(parsed: _Module, typed: str) -> list[str]:
    """Names in a module that could be a class (for did-you-mean); private ones only if asked for."""
    names = [n for n, b in parsed.names.items() if not isinstance(b, _Other)] + (parsed.all_names or [])
    return [n for n in dict.fromkeys(names) if typed.startswith("_") or not n.startswith("_")]


def _checked_kind(info: ClassInfo, kind: Kind) -> Lookup:
    """The class is there; is it the right kind? (`unknown`: a user class we cannot tell; accept it.)"""
    if info.category in (kind, "unknown"):
        return Lookup(info, None)
    return Lookup(None, f"`{info.display_name}` is {_KIND_LABELS[info.category]}, not {_KIND_LABELS[kind]}")


def _close_matches(word: str, candidates: Iterable[str], n: int = 3) -> tuple[str, ...]:
    """Did-you-mean: case-insensitive equals first, then difflib's close matches (also case-insensitive)."""
    import difflib  # only on the error path

    folded: dict[str, str] = {}
    for candidate in candidates:
        folded.setdefault(candidate.casefold(), candidate)
    exact = [c for f, c in folded.items() if f == word.casefold() and c != word]
    fuzzy = [folded[f] for f in difflib.get_close_matches(word.casefold(), list(folded), n=n, cutoff=0.6)]
    return tuple(dict.fromkeys(c for c in [*exact, *fuzzy] if c != word))[:n]


# --------------------------------------------------------------------------------------------------
# Argument helpers


def _injected_parameter(parameters: Sequence[Parameter], kind: Kind) -> Parameter | None:
    """The parameter the runtime fills: an optimizer's first positional one (the parameter groups);
    an lr scheduler's `optimizer` (passed by keyword), else its first positional one."""
    if kind == "lr_scheduler":
        named = [p for p in parameters if p.name == "optimizer" and p.kind in _KEYWORD_KINDS]
        if named:
            return named[0]
    if parameters and parameters[0].kind in ("positional_only", "positional_or_keyword"):
        return parameters[0]
    return None


def _check_keyword(info: ClassInfo, keyword: str, injected: Parameter | None) -> ArgumentProblem | None:
    name = info.display_name
    if injected is not None and keyword == injected.name:
        return ArgumentProblem(keyword, f"`{keyword}` of `{name}` is supplied by the runtime; do not give it")
    by_name = {p.name: p for p in info.parameters}
    parameter = by_name.get(keyword)
    accepts_any = any(p.kind == "var_keyword" for p in info.parameters)
    if parameter is not None and parameter.kind in _KEYWORD_KINDS:
        return None
    if accepts_any:
        return None
    if parameter is not None and parameter.kind == "positional_only":
        message = f"`{keyword}` of `{name}` is positional-only and cannot be given by name"
        return ArgumentProblem(keyword, message)
    candidates = [
        p.name
        for p in info.parameters
        if p.kind in _KEYWORD_KINDS and (injected is None or p.name != injected.name)
    ]
    matches = _close_matches(keyword, candidates, n=1)
    return ArgumentProblem(keyword, f"`{name}` has no parameter `{keyword}`", matches[0] if matches else None)


def _missing_arguments(
    info: ClassInfo, given: set[str], injected: Parameter | None, kind: Kind
) -> list[ArgumentProblem]:
    name = info.display_name
    problems: list[ArgumentProblem] = []
    if injected is None and not _can_take_injected(info.parameters, kind):
        what = "parameter groups as its first argument" if kind == "optimizer" else "`optimizer`"
        problems.append(ArgumentProblem(None, f"`{name}` cannot take the {what} the runtime passes"))
    for parameter in info.parameters:
        if parameter is injected or parameter.has_default:
            continue
        if parameter.kind in _KEYWORD_KINDS and parameter.name not in given:
            problems.append(ArgumentProblem(None, f"`{name}` requires `{parameter.name}`"))
        elif parameter.kind == "positional_only":
            message = f"`{name}` requires positional argument `{parameter.name}`, which schedules cannot give"
            problems.append(ArgumentProblem(None, message))
    return problems


def _can_take_injected(parameters: Sequence[Parameter], kind: Kind) -> bool:
    """Without a parameter to fill, the runtime's value lands in *args / **kwargs, if there are any."""
    wanted = "var_positional" if kind == "optimizer" else "var_keyword"
    return any(p.kind == wanted for p in parameters)
