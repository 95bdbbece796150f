"""The strategy adapter base class: what a schedule is written against, and how its names map to the model's.

A strategy adapter has two faces.

- **Compile time** (here, no torch): the options it accepts, the namespace a schedule is written against
  (`schedule_namespace`), the translation of those names to the model's own ("canonical") parameter names
  (`to_canonical` / `to_schedule`), and static checks of a compiled schedule (`validate`, e.g. FSDP's
  E403). The compiler resolves selectors against `schedule_namespace(namespace)`; the plan holds
  canonical names, the adapter's name and its options.
- **Run time**: hooks the ftsc Lightning callback calls around setup, phase transitions and checkpoints.
  They are documented no-ops here; the runtime fills in what they mean.

Write an adapter by subclassing `StrategyAdapter`, declaring `options`, and overriding what differs from
the identity; register it under the entry-point group `ftsc.strategy_adapters` (see docs/adapters.md).
"""

from __future__ import annotations

import copy
import difflib
import math
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    from ftsc.compiler.namespace import Namespace
    from ftsc.diagnostics import Diagnostic, Span
    from ftsc.grammar import ast

__all__ = [
    "OPTION_TYPES",
    "AdapterError",
    "CompiledSchedule",
    "DefaultAdapter",
    "Option",
    "OptionError",
    "OptionSyntax",
    "StrategyAdapter",
]


class AdapterError(Exception):
    """A strategy adapter that cannot be found, loaded, or is not a StrategyAdapter (Python API).

    In a `.fts` file the same problems are E402 diagnostics; the Python API raises this instead.
    """


class OptionError(AdapterError):
    """Options an adapter does not accept: an unknown option, or a value of the wrong type."""

    def __init__(self, message: str, option: str | None = None) -> None:
        super().__init__(message)
        self.option = option


# What each option type accepts, and how a message says it. Values are JSON values, since options are
# written into the plan unchanged (`namespace.adapter_options`).
OPTION_TYPES: dict[str, str] = {
    "bool": "a bool (`true` or `false`)",
    "int": "a whole number",
    "float": "a number",
    "str": "a string",
    "list[str]": "a list of strings",
    "table": "a table (`{ key = value, … }`)",
    "list[table]": "a list of tables",
    "any": "a value",
}


@dataclass(frozen=True)
class Option:
    """One option an adapter accepts: `use adapter NAME { name = value }` or `strategy_adapter_cfg`.

    `type` is one of OPTION_TYPES, or several joined by ` | ` (`"table | list[table]"`). `default` is what
    the adapter sees when the option is not given (copied, so a list or table default is never shared).
    """

    name: str
    type: str
    default: object = None
    help: str = ""

    def __post_init__(self) -> None:
        unknown = [part for part in self.types if part not in OPTION_TYPES]
        if unknown:
            known = ", ".join(OPTION_TYPES)
            raise ValueError(f"option `{self.name}`: unknown option type {unknown[0]!r} (known: {known})")

    @property
    def types(self) -> tuple[str, ...]:
        return tuple(part.strip() for part in self.type.split("|"))

    @property
    def expected(self) -> str:
        """What the option takes, in words: `a table or a list of tables`."""
        return " or ".join(OPTION_TYPES[part] for part in self.types)

    def check(self, value: object) -> str | None:
        """None when `value` fits; otherwise what was expected (`a list of strings`)."""
        if not _is_json(value):
            return f"{self.expected} (a JSON value: options are written into the plan)"
        return None if any(_fits(part, value) for part in self.types) else self.expected


def _fits(kind: str, value: object) -> bool:
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "str":
        return isinstance(value, str)
    if kind == "list[str]":
        return isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value)
    if kind == "table":
        return isinstance(value, dict)
    if kind == "list[table]":
        return isinstance(value, (list, tuple)) and all(isinstance(item, dict) for item in value)
    return True  # "any"


def _is_json(value: object) -> bool:
    if value is None or isinstance(value, (bool, int, str)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, (list, tuple)):
        return all(_is_json(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and _is_json(item) for key, item in value.items())
    return False


def _plain(value: object) -> object:
    """A JSON copy of an option value (tuples become lists), so the plan schema accepts it."""
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


class OptionSyntax(Protocol):
    """Where the options of `use adapter NAME { … }` were written: for diagnostics at an option's value."""

    @property
    def syntax(self) -> Mapping[str, ast.Value]:
        """Each option given in the file -> its value as written."""
        ...

    def span_of(self, option: str) -> Span:
        """Where `option`'s value was written; else the adapter's name; else the start of the file."""
        ...


class CompiledSchedule(Protocol):
    """What an adapter's `validate` reads of a compiled schedule.

    The compiler's `CompileResult` is one. It is described here, not imported, because the compiler
    imports the adapters: the arrow between the two goes one way (docs/architecture.md).
    """

    @property
    def schedule(self) -> ast.Schedule: ...

    @property
    def adapter_use(self) -> OptionSyntax | None: ...

    @property
    def canonical_params(self) -> Sequence[AbstractSet[int]]: ...

    @property
    def canonical_frozen(self) -> AbstractSet[int]: ...

    def canonical_sites(self, phase: int) -> Sequence[tuple[ast.Selector, AbstractSet[int]]]: ...


class StrategyAdapter:
    """Base class of every strategy adapter; on its own it is the identity (`default`: single device, DDP).

    Class attributes a subclass sets:

    - `name`: the name it is known by (`use adapter NAME`); entry points register it under their own name.
    - `options`: the options it accepts, with types and defaults.
    - `description`: one line for listings.

    The constructor takes the options as keyword arguments (`strategy_adapter_cfg` is passed to it, as in
    Fine-Tuning Scheduler) and raises OptionError for an unknown option or a value of the wrong type.
    `self.config` holds every option (defaults filled in), `self.given` the options given (what the
    plan records), and `self.reference` how the adapter was asked for (`fsdp`, `pkg.mod:Class`).
    """

    name: ClassVar[str] = "default"
    options: ClassVar[tuple[Option, ...]] = ()
    description: ClassVar[str] = "single device and DDP: schedule names are the model's parameter names"

    def __init__(self, **options: object) -> None:
        self.given: dict[str, object] = {}
        self.config: dict[str, object] = {}
        declared = {option.name: option for option in self.options}
        for key, value in options.items():
            option = declared.get(key)
            if option is None:
                raise OptionError(self.unknown_option_message(key), key)
            expected = option.check(value)
            if expected is not None:
                raise OptionError(
                    f"option `{key}` of adapter `{self.name}` must be {expected}, not {value!r}", key
                )
            self.given[key] = _plain(value)
        for option in self.options:
            self.config[option.name] = copy.deepcopy(self.given.get(option.name, option.default))
        self.reference: str = self.name
        self.callback: object | None = None

    # -- options ------------------------------------------------------------------------------------

    @classmethod
    def option(cls, name: str) -> Option | None:
        return next((option for option in cls.options if option.name == name), None)

    @classmethod
    def unknown_option_message(cls, key: str, reference: str | None = None) -> str:
        """`adapter `fsdp` has no option `x`; did you mean `y`? (it accepts …)`."""
        accepted = ", ".join(f"`{option.name}`" for option in cls.options) or "no options"
        close = difflib.get_close_matches(key, [option.name for option in cls.options], n=1)
        hint = f"; did you mean `{close[0]}`?" if close else ""
        return f"adapter `{reference or cls.name}` has no option `{key}`{hint} (it accepts {accepted})"

    def cache_key(self) -> tuple[object, ...]:
        """What `schedule_namespace` and `to_canonical` depend on besides the namespace.

        The compiler keeps their results per (cache key, namespace), since the language server compiles
        on every edit. The default, the class and its options, is right for an adapter whose translation
        depends only on its options; override it if yours depends on anything else.
        """
        return (type(self), repr(sorted(self.config.items())))

    # -- compile time -------------------------------------------------------------------------------

    def schedule_namespace(self, namespace: Namespace) -> Namespace:
        """The names a schedule is written against, for the model whose parameters are `namespace`.

        The default is `namespace` itself. An adapter that renames (TransformerLens-style names, say)
        returns a new Namespace, in a sensible order (selectors list what they match in that order). The
        compiler calls this before `to_canonical` for a namespace, so an adapter may remember what it
        saw here.
        """
        return namespace

    def to_canonical(self, schedule_name: str) -> tuple[str, ...]:
        """The model's ("canonical") parameter names that `schedule_name` stands for.

        Usually one. Several when one schedule name stands for several tensors; and several schedule
        names may share one canonical name (a fused qkv weight): thawing one of them thaws the tensor.
        Every name returned must be in the canonical namespace.
        """
        return (schedule_name,)

    def to_schedule(self, canonical: str) -> tuple[str, ...]:
        """The schedule names that stand for canonical parameter `canonical` (the inverse of to_canonical).

        Used to speak about parameters in the names the schedule was written in (messages, logs).
        """
        return (canonical,)

    def validate(self, result: CompiledSchedule, namespace: Namespace) -> list[Diagnostic]:
        """Static checks of a compiled schedule; returns diagnostics to add (E403 for flat-parameter FSDP).

        `namespace` is the canonical namespace. `result.canonical_params[i]` is the set of positions in it
        that phase i thaws (ascending when iterated), `result.canonical_frozen` those no phase thaws;
        `result.canonical_sites(i)` gives each selector of phase i with the canonical positions it thaws
        (to point diagnostics at), and `result.adapter_use` the `use adapter` statement with the syntax of
        each option (for spans).
        Called only when a namespace is known.
        """
        return []

    # -- run time (documented no-ops: the runtime issue gives them their meaning) -------------------

    def connect(self, callback: object) -> None:
        """Run time: remember the ftsc Lightning callback this adapter serves (before setup)."""
        self.callback = callback

    def on_setup(self, trainer: object, pl_module: object, plan: Mapping[str, Any]) -> None:
        """Run time: the callback's `setup`, before the plan's fingerprint is checked and phase 0 thawed.

        An adapter that must change how the model is wrapped or sharded does it here. No-op by default.
        """

    def live_parameters(self, module: Any) -> Mapping[str, Any]:
        """Run time: each plan name → the tensor that thawing it makes trainable and its optimizer group
        holds. By default the module's own parameters under their canonical names (wrapper segments
        removed); `fsdp` maps names to the FlatParameters holding them under `use_orig_params=False`."""
        from ftsc.runtime.names import canonical_parameters  # run time only: the compiler stays torch-free

        return canonical_parameters(module)

    def on_phase_start(self, phase: int, params: Sequence[str]) -> None:
        """Run time: phase `phase` starts and thaws `params` (canonical names); called after they are
        thawed and before their parameter group is added to the optimizer. No-op by default."""

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> dict[str, Any]:
        """Run time: translate or extend a checkpoint before it is written; unchanged by default."""
        return checkpoint

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> dict[str, Any]:
        """Run time: translate a checkpoint before the model and optimizer are restored from it.

        The inverse of `on_save_checkpoint`; returns it unchanged by default."""
        return checkpoint

    def state_dict(self) -> dict[str, Any]:
        """Run time: adapter state saved with the callback's (the `Stateful` protocol). Empty by default."""
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Run time: restore what `state_dict` returned. No-op by default."""

    def __repr__(self) -> str:
        options = ", ".join(f"{key}={value!r}" for key, value in self.given.items())
        return f"<{type(self).__name__} {self.reference!r}({options})>"


class DefaultAdapter(StrategyAdapter):
    """`default`: single device and DDP. Schedule names are the model's names; no options, no checks."""

    name = "default"
