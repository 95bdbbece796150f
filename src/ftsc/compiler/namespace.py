"""The parameter namespace a schedule is checked and compiled against.

A namespace is the ordered list of a model's parameter names (plus, where known, shapes, dtypes, module
types and tied-parameter aliases). It comes from a namespace JSON file, or from a live model through a
strategy adapter (`ftsc.namespaces.namespace_from_module`: torch lives there, never here). Plans
record its fingerprint so the runtime can tell that the model it trains is the one the plan was compiled
for.

Large models have tens of thousands of names, and the compiler, the CLI and the language server all
build namespaces, so construction does no per-name Python work beyond building the name index:
per-parameter records are made lazily and names are checked with a single regex scan.
"""

from __future__ import annotations

import math
import operator
import os
from array import array
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from ftsc.compiler import namespace_cache
from ftsc.compiler.bulk import collector_paused
from ftsc.compiler.positions import Positions
from ftsc.compiler.schema import dotted_names_ok, validate_namespace_data
from ftsc.io import JsonFileError, parse_json_bytes, read_file_bytes
from ftsc.wording import counted

if TYPE_CHECKING:
    from ftsc.compiler.namespace_cache import CacheEntry

__all__ = [
    "NAMESPACE_VERSION",
    "ModuleInfo",
    "Namespace",
    "NamespaceError",
    "ParameterInfo",
    "load_namespace",
]

NAMESPACE_VERSION = 1
_EXPORT_HINT = "export one with `ftsc namespace export` or check the path"
_FIX_HINT = "fix the file or export it again with `ftsc namespace export`"
_MAX_LISTED_ERRORS = 5
_MAX_SIZE_GROUPS = 64  # distinct parameter sizes past which a total is summed name by name
_ZEROS = b"0" * 256  # a translation of every byte to the digit "0"


@dataclass(frozen=True, slots=True)
class ParameterInfo:
    """One parameter of a namespace; shape, dtype and requires_grad are None where unknown."""

    name: str
    shape: tuple[int, ...] | None = None
    dtype: str | None = None
    requires_grad: bool | None = None

    @property
    def numel(self) -> int | None:
        """Number of elements (1 for a scalar), or None when the shape is unknown."""
        return None if self.shape is None else math.prod(self.shape)


@dataclass(frozen=True, slots=True)
class ModuleInfo:
    """One submodule of the model and its class name (what FSDP wrap policies name)."""

    name: str
    type: str


class NamespaceError(Exception):
    """A namespace that cannot be used: missing or invalid file, or inconsistent names.

    `message` says what is wrong and what to do; `str()` adds `path:line:column:` where known.
    `errors` holds every schema problem found, of which `message` lists only the first few.
    """

    def __init__(
        self,
        message: str,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
        errors: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        self.errors = tuple(errors)

    def __str__(self) -> str:
        if self.path is None:
            return self.message
        location = self.path
        if self.line is not None:
            location += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        return f"{location}: {self.message}"


class Namespace:
    """An ordered, immutable set of parameter names with what is known about them.

    `names` keeps namespace (named_parameters()) order; `index` maps a name to its position. Names are
    unique, non-empty dotted names without a line break (so the fingerprint is unambiguous). `aliases`
    maps the other names of tied parameters to the name listed in `names`. Treat every attribute as
    read-only: the fingerprint is cached.
    """

    __slots__ = (
        "_columns",
        "_fingerprint",
        "_groups",
        "_numels",
        "_parameters",
        "adapter",
        "aliases",
        "index",
        "model",
        "modules",
        "names",
        "path",
    )

    model: str | None
    adapter: str
    modules: tuple[ModuleInfo, ...]
    aliases: dict[str, str]
    path: str | None
    names: tuple[str, ...]
    index: dict[str, int]
    _parameters: tuple[ParameterInfo, ...] | None
    _columns: CacheEntry | None  # a cached load: the parameters' shapes, dtypes and requires_grad
    _fingerprint: str | None
    _numels: tuple[int | None, ...] | None  # per position, built the first time a total is asked
    _groups: tuple[dict[int | None, int] | None] | None  # (see `_numel_groups`), once computed

    def __init__(
        self,
        parameters: Iterable[ParameterInfo],
        *,
        model: str | None = None,
        adapter: str = "default",
        modules: Iterable[ModuleInfo] = (),
        aliases: Mapping[str, str] | None = None,
        path: str | None = None,
    ) -> None:
        """Build from parameter records, e.g. taken from a live model; raises NamespaceError."""
        records = tuple(parameters)
        pairs = tuple((aliases or {}).items())
        self._setup(
            tuple(p.name for p in records),
            records,
            model=model,
            adapter=adapter,
            modules=modules,
            aliases=pairs,
            path=path,
        )

    @classmethod
    def from_names(
        cls, names: Iterable[str], model: str | None = None, adapter: str = "default"
    ) -> Namespace:
        """A namespace of bare names (no shapes); a few ms for 50,000 names. Raises NamespaceError."""
        if isinstance(names, str):
            raise TypeError("from_names takes an iterable of names, not one string")
        namespace = cls.__new__(cls)
        namespace._setup(tuple(names), None, model=model, adapter=adapter)
        return namespace

    @classmethod
    def from_data(cls, data: object, path: str | None = None) -> Namespace:
        """A namespace from a parsed namespace file, validated against the shipped schema."""
        if isinstance(data, dict):
            version = data.get("namespace_version", NAMESPACE_VERSION)
            if isinstance(version, int) and not isinstance(version, bool) and version > NAMESPACE_VERSION:
                raise NamespaceError(
                    f"namespace_version {version} is newer than this ftsc understands "
                    f"({NAMESPACE_VERSION}); upgrade ftsc or export the namespace with this version",
                    path,
                )
        problems = validate_namespace_data(data)
        if problems:
            raise NamespaceError(_summarise("not a valid namespace file", problems), path, errors=problems)
        assert isinstance(data, dict)  # the schema guarantees an object from here on
        entries: list[dict[str, Any]] = data["parameters"]
        parameters = tuple(
            ParameterInfo(
                entry["name"],
                None if entry.get("shape") is None else tuple(map(int, entry["shape"])),  # 768.0 -> 768
                entry.get("dtype"),
                entry.get("requires_grad"),
            )
            for entry in entries
        )
        namespace = cls.__new__(cls)
        namespace._setup(
            tuple(p.name for p in parameters),
            parameters,
            model=data.get("model"),
            adapter=data.get("adapter", "default"),
            modules=(ModuleInfo(m["name"], m["type"]) for m in data.get("modules", ())),
            aliases=tuple((a["name"], a["target"]) for a in data.get("aliases", ())),
            path=path,
            in_file=True,
        )
        return namespace

    def _setup(
        self,
        names: tuple[str, ...],
        parameters: tuple[ParameterInfo, ...] | None,
        *,
        model: str | None,
        adapter: str,
        modules: Iterable[ModuleInfo] = (),
        aliases: Sequence[tuple[str, str]] = (),
        path: str | None = None,
        in_file: bool = False,
    ) -> None:
        self.names = names
        self.index = dict(zip(names, range(len(names)), strict=True))
        self._parameters = parameters
        self._columns = None
        self._fingerprint = None
        self._numels = None
        self._groups = None
        self.model = model
        self.adapter = adapter
        self.modules = tuple(modules)
        self.aliases = dict(aliases)
        self.path = path
        problems = self._problems(aliases, in_file)
        if problems:
            what = "not a valid namespace file" if in_file else "invalid namespace"
            raise NamespaceError(_summarise(what, problems), path, errors=problems)

    @classmethod
    def _from_entry(cls, entry: CacheEntry, path: str | None) -> Namespace:
        """A namespace from a cache entry: a file that loaded and validated before, so no check runs
        again; parameter records are made on first use."""
        namespace = cls.__new__(cls)
        namespace.names = entry.names
        namespace.index = dict(zip(entry.names, range(len(entry.names)), strict=True))
        namespace._parameters = None
        namespace._columns = entry
        namespace._fingerprint = entry.fingerprint
        namespace._numels = None
        namespace._groups = None
        namespace.model = entry.model
        namespace.adapter = entry.adapter
        namespace.modules = tuple(ModuleInfo(name, kind) for name, kind in entry.modules)
        namespace.aliases = dict(entry.aliases)
        namespace.path = path
        return namespace

    @property
    def cached_order(self) -> Sequence[int] | None:
        """Positions in the order of their names, sorted, when this namespace was read from the persistent
        cache (which keeps that order, so matching's index need not sort again); else None."""
        return self._columns.sorted_positions if self._columns is not None else None

    def cache_entry(self) -> CacheEntry:
        """This namespace as the persistent cache keeps it, with its names' sorted order."""
        names = self.names
        shapes, shape_ids = namespace_cache.columns([parameter.shape for parameter in self.parameters])
        dtypes, dtype_ids = namespace_cache.columns([parameter.dtype for parameter in self.parameters])
        grads = {None: 0, True: 1, False: 2}
        return namespace_cache.CacheEntry(
            names=names,
            model=self.model,
            adapter=self.adapter,
            modules=tuple((module.name, module.type) for module in self.modules),
            aliases=tuple(self.aliases.items()),
            shapes=shapes,
            shape_ids=shape_ids,
            dtypes=dtypes,
            dtype_ids=dtype_ids,
            requires_grad=bytes(grads[parameter.requires_grad] for parameter in self.parameters),
            fingerprint=self.fingerprint(),
            sorted_positions=array("I", sorted(range(len(names)), key=names.__getitem__)),
        )

    def to_data(self) -> dict[str, object]:
        """The namespace-file form of this namespace; `from_data` gives back an equal namespace."""
        return {
            "namespace_version": NAMESPACE_VERSION,
            "model": self.model,
            "adapter": self.adapter,
            "parameters": [_parameter_data(p) for p in self.parameters],
            "modules": [{"name": m.name, "type": m.type} for m in self.modules],
            "aliases": [{"name": name, "target": target} for name, target in self.aliases.items()],
        }

    @property
    def parameters(self) -> tuple[ParameterInfo, ...]:
        """Per-parameter records in namespace order (made on first use for `from_names`)."""
        if self._parameters is None:
            entry = self._columns
            if entry is None:
                self._parameters = tuple(map(ParameterInfo, self.names))
            else:
                shapes, dtypes, grads = entry.shapes, entry.dtypes, (None, True, False)
                self._parameters = tuple(
                    ParameterInfo(name, shapes[shape], dtypes[dtype], grads[grad])
                    for name, shape, dtype, grad in zip(
                        self.names, entry.shape_ids, entry.dtype_ids, entry.requires_grad, strict=True
                    )
                )
                self._columns = None
        return self._parameters

    def requires_grad_codes(self) -> bytes:
        """Per position, how the model built the parameter: 0 unknown, 1 trainable, 2 frozen (read from a
        cached load's column without making 50,000 records)."""
        entry = self._columns
        if entry is not None:
            return entry.requires_grad
        codes = {None: 0, True: 1, False: 2}
        return bytes(codes[parameter.requires_grad] for parameter in self.parameters)

    def fingerprint(self) -> str:
        """`sha256:` + hex SHA-256 of the names joined by newlines: identifies names and their order.

        Only names count: hand-written namespaces may lack shapes, and a plan stays valid for a model
        whose names and order are the same.
        """
        if self._fingerprint is None:
            self._fingerprint = names_fingerprint(self.names)
        return self._fingerprint

    def total_numel(self, names: Iterable[str]) -> int | None:
        """Elements in the given parameters (an alias counts as its target; each parameter once).

        None when any of their shapes is unknown; KeyError for a name not in the namespace.
        """
        return self.total_numel_at({self.index[self.aliases.get(name, name)] for name in names})

    def total_numel_at(self, positions: Collection[int]) -> int | None:
        """Elements in the parameters at `positions` (distinct), None when a shape is unknown: summed in C
        from a per-position table, since a plan totals every phase of a namespace of 50,000 names."""
        if not positions:
            return 0
        numels = self._numel_table()
        if isinstance(positions, Positions):
            groups = self._numel_groups()
            if groups is not None:  # a few sizes: an AND and a bit count per size
                bits = positions.bits
                if bits & groups[None]:
                    return None
                return sum(
                    size * (bits & mask).bit_count() for size, mask in groups.items() if size is not None
                )
            chosen: Sequence[int | None] = positions.pick(numels)
        elif len(positions) > 1:
            chosen = operator.itemgetter(*positions)(numels)
        else:
            chosen = (numels[next(iter(positions))],)
        if None in chosen:
            return None
        return sum(cast(Sequence[int], chosen))  # no None: checked above

    def _numel_groups(self) -> dict[int | None, int] | None:
        """Each size (elements per parameter; None: unknown) with the bitset of the positions of that size,
        or None when sizes are too many to be worth it: a model repeats a few shapes over and over."""
        if self._groups is None:
            numels = self._numel_table()
            sizes = list(set(numels) | {None})
            if len(sizes) > _MAX_SIZE_GROUPS:
                self._groups = (None,)
            else:  # each position's size as one byte, then one translation per size: all in C
                codes = bytes(map({size: code for code, size in enumerate(sizes)}.__getitem__, numels))
                groups = {}
                for code, size in enumerate(sizes):
                    ones = _ZEROS[:code] + b"1" + _ZEROS[code + 1 :]  # the size's code -> "1", others -> "0"
                    digits = codes.translate(ones)[::-1]  # highest position first
                    groups[size] = int(digits, 2) if digits else 0
                self._groups = (groups,)
        return self._groups[0]

    def _numel_table(self) -> tuple[int | None, ...]:
        if self._numels is None:
            entry = self._columns
            if entry is not None:  # a cached load: from the shape table, without making 50,000 records
                by_shape = [None if shape is None else math.prod(shape) for shape in entry.shapes]
                self._numels = tuple(map(by_shape.__getitem__, entry.shape_ids))
            else:
                self._numels = tuple(parameter.numel for parameter in self.parameters)
        return self._numels

    def canonical(self, name: str) -> str:
        """The name in `names` that `name` refers to (itself unless it is an alias)."""
        return self.aliases.get(name, name)

    def __len__(self) -> int:
        return len(self.names)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __contains__(self, name: object) -> bool:
        return name in self.index

    def __eq__(self, other: object) -> bool:
        """Equal content; the file path does not count."""
        if not isinstance(other, Namespace):
            return NotImplemented
        return (
            self.names == other.names
            and self.model == other.model
            and self.adapter == other.adapter
            and self.parameters == other.parameters
            and self.modules == other.modules
            and self.aliases == other.aliases
        )

    def __hash__(self) -> int:
        return hash(self.fingerprint())

    def __repr__(self) -> str:
        origin = f" from {self.path!r}" if self.path else ""
        return f"<Namespace {self.model or '?'}: {counted(len(self.names), 'parameter')}{origin}>"

    def _problems(self, aliases: Sequence[tuple[str, str]], in_file: bool) -> list[str]:
        """Consistency problems the schema cannot express; [] for a valid namespace (the usual case)."""
        name_at = "parameters[{}].name" if in_file else "names[{}]"
        problems: list[str] = []
        if len(self.index) != len(self.names) or not dotted_names_ok(self.names):
            problems.extend(_name_problems(self.names, name_at))
        if self.modules:
            problems.extend(_duplicates([m.name for m in self.modules], "module", "modules[{}].name"))
        if aliases:
            alias_at = "aliases[{}]" if in_file else "aliases[{!r}]"
            keys: list[str | int] = list(range(len(aliases))) if in_file else [a for a, _ in aliases]
            problems.extend(_duplicates([a for a, _ in aliases], "alias", alias_at + ".name"))
            for key, (alias, target) in zip(keys, aliases, strict=True):
                where = alias_at.format(key)
                if alias in self.index:
                    problems.append(
                        f"{where}.name: alias {alias!r} is also a parameter name; list a tied parameter "
                        "once, under its first name, and its other names as aliases"
                    )
                if target not in self.index:
                    problems.append(
                        f"{where}.target: alias target {target!r} is not a parameter of this namespace"
                    )
        return problems


def _name_problems(names: tuple[str, ...], name_at: str) -> list[str]:
    """The slow, precise check, run only once the fast one has found something wrong."""
    problems: list[str] = []
    first: dict[str, int] = {}
    for position, name in enumerate(names):
        where = name_at.format(position)
        if not isinstance(name, str):
            problems.append(f"{where}: expected a string, got {type(name).__name__}")
            continue
        earlier = first.setdefault(name, position)
        if earlier != position:
            problems.append(f"{where}: duplicate parameter name {name!r} (also {name_at.format(earlier)})")
        elif not name:
            problems.append(f"{where}: empty parameter name")
        elif "\n" in name or "\r" in name:
            problems.append(f"{where}: parameter name {name!r} contains a line break")
        elif name.startswith(".") or name.endswith(".") or ".." in name:
            problems.append(
                f"{where}: parameter name {name!r} has an empty segment (leading, trailing or doubled dot)"
            )
    return problems


def _duplicates(names: Sequence[str], kind: str, name_at: str) -> list[str]:
    if len(set(names)) == len(names):
        return []
    first: dict[str, int] = {}
    problems: list[str] = []
    for position, name in enumerate(names):
        earlier = first.setdefault(name, position)
        if earlier != position:
            problems.append(
                f"{name_at.format(position)}: duplicate {kind} name {name!r} (also {name_at.format(earlier)})"
            )
    return problems


def _summarise(what: str, problems: Sequence[str]) -> str:
    shown = "; ".join(problems[:_MAX_LISTED_ERRORS])
    more = len(problems) - _MAX_LISTED_ERRORS
    return f"{what}: {shown}" + (f" (and {more} more)" if more > 0 else "")


def _parameter_data(parameter: ParameterInfo) -> dict[str, object]:
    data: dict[str, object] = {"name": parameter.name}
    if parameter.shape is not None:
        data["shape"] = list(parameter.shape)
    if parameter.dtype is not None:
        data["dtype"] = parameter.dtype
    if parameter.requires_grad is not None:
        data["requires_grad"] = parameter.requires_grad
    return data


def load_namespace(path: str | os.PathLike[str], *, cache: bool = True) -> Namespace:
    """Read and validate a namespace file; every failure is a NamespaceError that says what to do.

    With `cache`, a file whose bytes loaded before comes from the persistent cache
    (`ftsc.compiler.namespace_cache`), its sorted name order with it, and a new one is stored there;
    files under `namespace_cache.MIN_BYTES` are always read as they are.
    """
    with collector_paused():  # some 150,000 new acyclic objects: no cycle hunting meanwhile
        return _load_namespace(os.fspath(path), cache)


def _load_namespace(where: str, cache: bool) -> Namespace:
    try:
        content = read_file_bytes(where)
        cache = cache and len(content) >= namespace_cache.MIN_BYTES
        if cache:
            key, entry = namespace_cache.read_entry(content)
            if entry is not None:
                return Namespace._from_entry(entry, where)
        data = parse_json_bytes(content, where)
    except JsonFileError as exc:
        if exc.reason == "not_found":
            message = f"namespace file not found; {_EXPORT_HINT}"
        elif exc.reason == "unreadable":
            message = f"cannot read namespace file ({exc.message}); {_EXPORT_HINT}"
        else:
            message = f"namespace file is not valid JSON ({exc.message}); {_FIX_HINT}"
        raise NamespaceError(message, where, exc.line, exc.column) from None
    try:
        namespace = Namespace.from_data(data, where)
    except NamespaceError as exc:
        raise NamespaceError(f"{exc.message}; {_FIX_HINT}", where, errors=exc.errors) from None
    if cache and namespace_cache.cache_folder() is not None:  # else no entry is worth building
        stored = namespace_cache.store(key, namespace.cache_entry())
        if stored is not None:  # the same namespace, as the cache gives it back: packed in memory
            return Namespace._from_entry(stored, where)
    return namespace


def names_fingerprint(names: Iterable[str]) -> str:
    """`sha256:` + hex SHA-256 of `names` joined by newlines: a namespace's fingerprint, also computed by
    the runtime on a live model's names without building a Namespace."""
    import hashlib  # here, not at module level: its OpenSSL binding is slow to load

    joined = "\n".join(names).encode("utf-8", "surrogatepass")
    return "sha256:" + hashlib.sha256(joined).hexdigest()
