"""Reading a module's top-level bindings: what each name is bound to, `from ... import *`, `__all__`."""

from __future__ import annotations

import ast
import functools
import importlib.util
import re
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from ftsc.compiler.classes.locate import module_spec
from ftsc.compiler.classes.scan import HEAD, header_end, statement_starts

# A PEP 263 coding cookie in the first two lines.
_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=]", re.MULTILINE)
EMPTY_CLASS = ast.ClassDef(name="", bases=[], keywords=[], body=[], decorator_list=[])


class ImportModule(NamedTuple):
    """`import a.b as c` binds `c` to `a.b`; `import a.b` binds `a` to `a`."""

    module: str


class ImportFrom(NamedTuple):
    """`from m import x` (relative imports already made absolute)."""

    module: str
    name: str


class Alias(NamedTuple):
    """`X = a.b.C`: a name bound to another dotted name."""

    parts: tuple[str, ...]


class Other(NamedTuple):
    """A function, a computed value: bound, but not something we can follow."""


class ClassSource:
    """A top-level class whose text is parsed only when the class is asked for.

    Most of a module's source is function bodies and docstrings the checker never needs; parsing just the
    class asked for keeps a cold lookup in `torch.optim.lr_scheduler` cheap.
    """

    __slots__ = ("_header", "_node", "_parsed", "module", "name", "text")

    def __init__(
        self, module: Module | None, name: str, text: str | None, node: ast.ClassDef | None = None
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
            end = header_end(text)
            header = _parse_text(f"{text[:end]} pass\n") if end is not None else None
            self._header = _first_class(header, self.name) or self.node()
        return self._header


Binding = ClassSource | ImportModule | ImportFrom | Alias | Other


class Module:
    """A module's top-level bindings, `from ... import *` sources and `__all__`."""

    __slots__ = ("all_names", "is_package", "name", "names", "source", "star_imports")

    def __init__(self, name: str, is_package: bool, source: str = "") -> None:
        self.name, self.is_package, self.source = name, is_package, source
        self.names: dict[str, Binding] = {}
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
def parse_module(name: str) -> Module | None:
    """Read a module's top-level bindings; None when it cannot be found or has no Python source."""
    spec = module_spec(name)
    if spec is None:
        return None
    is_package = spec.submodule_search_locations is not None
    origin = spec.origin
    if origin is None or not spec.has_location:
        return Module(name, is_package) if is_package else None  # a namespace package: only children
    if not origin.endswith(".py"):
        return None  # an extension module: nothing to read
    source = _read_source(Path(origin))
    if source is None:
        return None
    module = Module(name, is_package, source)
    if _collect_chunks(source, module):
        return module
    module = Module(name, is_package, source)  # the chunking was fooled: read the module whole
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


def _collect_chunks(source: str, module: Module) -> bool:
    """Record bindings statement by statement, leaving class and function bodies unparsed."""
    starts = statement_starts(source)
    if starts is None:
        return False
    for begin, end in zip(starts, [*starts[1:], len(source)], strict=True):
        text = source[begin:end]
        head = HEAD.match(text)
        if head is not None and head.group(1):
            module.names[head.group(2)] = ClassSource(module, head.group(2), text)
        elif head is not None:
            module.names[head.group(2)] = Other()
        else:
            body = _parse_text(text)
            if body is None:
                return False
            _collect(body, module, nested=False)
    return True


def _collect(body: Iterable[ast.stmt], module: Module, nested: bool) -> None:
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


def _bindings(stmt: ast.stmt, module: Module) -> list[tuple[str, Binding]]:
    if isinstance(stmt, ast.ClassDef):
        return [(stmt.name, ClassSource(module, stmt.name, None, stmt))]
    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
        return [(stmt.name, Other())]
    if isinstance(stmt, ast.Import):
        return [
            (alias.asname, ImportModule(alias.name))
            if alias.asname
            else (alias.name.partition(".")[0], ImportModule(alias.name.partition(".")[0]))
            for alias in stmt.names
        ]
    if isinstance(stmt, ast.ImportFrom):
        source = _absolute_module(module, stmt.level, stmt.module)
        if source is None:
            return []
        if any(alias.name == "*" for alias in stmt.names):
            module.star_imports.append(source)
            return []
        return [(alias.asname or alias.name, ImportFrom(source, alias.name)) for alias in stmt.names]
    if isinstance(stmt, ast.Assign | ast.AnnAssign):
        parts = dotted_parts(stmt.value) if stmt.value is not None else None
        binding: Binding = Alias(parts) if parts else Other()
        return [(name, binding) for name in _assigned_names(stmt)]
    return []


def _target_names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Tuple | ast.List):
        return [name for element in target.elts for name in _target_names(element)]
    return []


def _collect_all(stmt: ast.stmt, module: Module) -> None:
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


def _absolute_module(module: Module, level: int, target: str | None) -> str | None:
    """Make a `from ... import` module absolute, as the import system would for `module`."""
    if level == 0:
        return target
    package = module.name if module.is_package else module.name.rpartition(".")[0]
    parts = package.split(".") if package else []
    if level - 1 > len(parts) or (level - 1 == len(parts) and not target):
        return None
    base = ".".join(parts[: len(parts) - (level - 1)])
    return ".".join(p for p in (base, target) if p)


def dotted_parts(node: ast.expr) -> tuple[str, ...] | None:
    """`a.b.C` -> ("a", "b", "C"); `Base[T]` reads as `Base`; anything else is not a name."""
    if isinstance(node, ast.Subscript):
        return dotted_parts(node.value)
    if isinstance(node, ast.Name):
        return (node.id,)
    if isinstance(node, ast.Attribute):
        head = dotted_parts(node.value)
        return (*head, node.attr) if head else None
    return None
