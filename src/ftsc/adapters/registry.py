"""Finding strategy adapters: the built-ins, plugins under the entry-point group `ftsc.strategy_adapters`,
and classes named by `module:Class` or `module.Class`.

Discovery is lazy: nothing here runs until an adapter other than a built-in is asked for (or the list of
adapters is). It then loads every plugin of the group once per process, as Fine-Tuning Scheduler does; a
plugin that fails to load, or is not a StrategyAdapter, is an `AdapterLoadWarning` naming the entry point
and its error, and the other adapters still work. Asking for that plugin by name is an AdapterError.

A reference to an adapter is, as in FTS's `custom_strategy_adapters`:

- a name: a built-in (`default`, `fsdp`, `modelparallelstrategy`) or an entry-point name, case-insensitive;
- `module:Class`, or
- `module.Class` (a dotted name that is not an entry-point name).
"""

from __future__ import annotations

import difflib
import importlib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ftsc.adapters.base import AdapterError, StrategyAdapter

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

__all__ = [
    "BUILTINS",
    "GROUP",
    "AdapterInfo",
    "AdapterLoadWarning",
    "adapter_class",
    "adapter_for_strategy",
    "available_adapters",
    "refresh",
    "resolve_adapter",
]

GROUP = "ftsc.strategy_adapters"

# name -> where the class is; ftsc also registers these as entry points of its own distribution.
BUILTINS: dict[str, str] = {
    "default": "ftsc.adapters.base:DefaultAdapter",
    "fsdp": "ftsc.adapters.fsdp:FSDPAdapter",
    "modelparallelstrategy": "ftsc.adapters.model_parallel:ModelParallelAdapter",
}


class AdapterLoadWarning(UserWarning):
    """A plugin under `ftsc.strategy_adapters` that could not be loaded or is not a StrategyAdapter."""


@dataclass(frozen=True)
class AdapterInfo:
    """One adapter known by name: a built-in, or an entry point (loaded, or with the error it gave)."""

    name: str
    value: str  # `module:Class`
    origin: str  # "built-in", or the distribution that registers the entry point
    error: str | None = None  # why it cannot be used; None when it loaded
    adapter: type[StrategyAdapter] | None = None  # None for a built-in not imported yet, or an error

    @property
    def builtin(self) -> bool:
        return self.origin == "built-in"


_DISCOVERED: dict[str, dict[str, AdapterInfo]] = {}  # "plugins" -> what discovery found (once per process)


def refresh() -> None:
    """Forget what discovery found (after installing or removing a plugin in a running process)."""
    _DISCOVERED.clear()
    importlib.invalidate_caches()


def available_adapters() -> dict[str, AdapterInfo]:
    """Every adapter known by name: the built-ins, then the plugins (broken ones with their `error`)."""
    known = {name: AdapterInfo(name, value, "built-in") for name, value in BUILTINS.items()}
    known.update(_discover())
    return known


def adapter_class(reference: str) -> tuple[type[StrategyAdapter], str]:
    """The class a reference names, and the reference as the plan records it (names lowercased).

    Raises AdapterError with a message that says what is wrong (unknown name with a did-you-mean, a plugin
    that failed to load, a module that cannot be imported, a class that is not a StrategyAdapter).
    """
    text = reference.strip()
    if not text:
        raise AdapterError(
            "an adapter reference cannot be empty: give a name, `module:Class` or `module.Class`"
        )
    name = text.lower()
    if name in BUILTINS:
        return _import(BUILTINS[name], f"built-in adapter `{name}`"), name
    if ":" not in text:
        info = _discover().get(name)
        if info is not None:
            if info.adapter is None:
                raise AdapterError(
                    f"adapter `{name}` (entry point `{info.name} = {info.value}` of {info.origin}) "
                    f"cannot be used: {info.error}"
                )
            return info.adapter, name
        if "." not in text:
            raise AdapterError(unknown_message(text))
    return _import(text, f"adapter `{text}`"), text


def resolve_adapter(name_or_path: str, options: Mapping[str, object] | None = None) -> StrategyAdapter:
    """An adapter instance: `name_or_path` resolved (see `adapter_class`), constructed with `options`.

    Raises AdapterError (OptionError for an unknown option or a value of the wrong type).
    """
    adapter_type, reference = adapter_class(name_or_path)
    try:
        adapter = adapter_type(**dict(options or {}))
    except AdapterError:
        raise
    except Exception as exc:  # a plugin's own constructor: say whose it is
        raise AdapterError(f"adapter `{reference}` could not be created: {_describe(exc)}") from exc
    adapter.reference = reference
    return adapter


def adapter_for_strategy(
    flag: str,
    custom_strategy_adapters: Mapping[str, str] | None = None,
    strategy_adapter_cfg: Mapping[str, object] | None = None,
) -> StrategyAdapter:
    """The adapter for a Lightning strategy flag (`single_device`, `ddp`, `fsdp`, `modelparallelstrategy`, …).

    As in Fine-Tuning Scheduler: with `custom_strategy_adapters`, the flag must be one of its keys, and its
    value is a reference (entry-point name, `module:Class` or `module.Class`). Without it, a built-in or a
    plugin whose name is the flag is used, and otherwise `default`. `strategy_adapter_cfg` is passed to the
    adapter's constructor. Raises AdapterError.
    """
    key = flag.strip().lower()
    if custom_strategy_adapters:
        mapping = {
            str(name).strip().lower(): reference for name, reference in custom_strategy_adapters.items()
        }
        found = mapping.get(key)
        if found is None:
            mapped = ", ".join(f"`{name}`" for name in mapping)
            raise AdapterError(
                f"strategy `{flag}` has no adapter in `custom_strategy_adapters` (it maps {mapped}); add "
                f'"{key}": "<entry point name | module:Class | module.Class>"'
            )
        reference = found
    elif key in BUILTINS:
        reference = key
    else:
        plugin = _discover().get(key)
        reference = key if plugin is not None and plugin.adapter is not None else "default"
    return resolve_adapter(reference, strategy_adapter_cfg)


def unknown_message(name: str) -> str:
    """`unknown adapter `x`; did you mean `y`?` or `unknown adapter `x` (known: …)`."""
    known = list(available_adapters())
    close = difflib.get_close_matches(name.lower(), known, n=1)
    if close:
        return f"unknown adapter `{name}`; did you mean `{close[0]}`?"
    listed = ", ".join(f"`{known_name}`" for known_name in known)
    return (
        f"unknown adapter `{name}` (known: {listed}); a plugin registers one under the entry-point group "
        f"`{GROUP}`"
    )


# -- discovery -------------------------------------------------------------------------------------


def _discover() -> dict[str, AdapterInfo]:
    found = _DISCOVERED.get("plugins")
    if found is None:
        found = _DISCOVERED["plugins"] = _load_plugins()
    return found


def _load_plugins() -> dict[str, AdapterInfo]:
    from importlib.metadata import entry_points

    found: dict[str, AdapterInfo] = {}
    for entry_point in entry_points(group=GROUP):
        name = entry_point.name.lower()
        origin = _origin(entry_point)
        where = f"strategy adapter entry point `{entry_point.name} = {entry_point.value}` ({origin})"
        if name in BUILTINS:
            if entry_point.value.replace(" ", "") != BUILTINS[name]:
                _warn(f"{where} is ignored: `{name}` is a built-in adapter")
            continue
        if name in found:
            _warn(f"{where} is ignored: `{name}` is already registered by {found[name].origin}")
            continue
        try:
            loaded = _import(entry_point.value, where)
        except AdapterError as exc:
            _warn(f"{exc}; the other adapters still work")
            found[name] = AdapterInfo(name, entry_point.value, origin, str(exc))
            continue
        found[name] = AdapterInfo(name, entry_point.value, origin, adapter=loaded)
    return found


def _origin(entry_point: EntryPoint) -> str:
    distribution = getattr(entry_point, "dist", None)
    if distribution is None:
        return "an unknown distribution"
    return f"distribution `{distribution.name} {distribution.version}`"


def _import(value: str, what: str) -> type[StrategyAdapter]:
    """Import `module:Class` or `module.Class`; AdapterError when that fails or is no StrategyAdapter."""
    if ":" in value:
        module_name, _, attribute = value.partition(":")
    else:
        module_name, _, attribute = value.rpartition(".")
    module_name, attribute = module_name.strip(), attribute.strip()
    if not module_name or not attribute:
        raise AdapterError(f"{what}: `{value}` is not `module:Class` or `module.Class`")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # anything a plugin's import raises is its failure, not ours
        raise AdapterError(
            f"{what} failed to load: importing `{module_name}` raised {_describe(exc)}"
        ) from exc
    target: object = module
    try:
        for part in attribute.split("."):
            target = getattr(target, part)
    except AttributeError:
        raise AdapterError(f"{what} failed to load: module `{module_name}` has no `{attribute}`") from None
    if not (isinstance(target, type) and issubclass(target, StrategyAdapter)):
        kind = f"class `{target.__qualname__}`" if isinstance(target, type) else f"a {type(target).__name__}"
        raise AdapterError(
            f"{what} is not a StrategyAdapter: `{value}` is {kind}, which does not subclass "
            "`ftsc.adapters.StrategyAdapter`"
        )
    return target


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _warn(message: str) -> None:
    warnings.warn(message, AdapterLoadWarning, stacklevel=3)
