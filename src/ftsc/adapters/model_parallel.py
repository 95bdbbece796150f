"""`modelparallelstrategy`: Lightning's ModelParallelStrategy (FSDP2 `fully_shard`, tensor parallelism).

Its option `fsdp_plan` says which modules `fully_shard` wraps and with what keyword arguments, as
Fine-Tuning Scheduler's ModelParallelStrategyAdapter does. A plan entry that matches no module is E402 at
the entry. There is no unit-split check (E403) here: FSDP2 shards each parameter on its own as a DTensor
instead of flattening a unit's parameters into one FlatParameter, so parameters of one `fully_shard` unit
may differ in `requires_grad`, and a phase may thaw part of a unit.

In `.fts`, table keys are names, so a plan keyed by dotted module names is written as a list of tables,
each with a `module` (a module name or a pattern) and the `fully_shard` arguments:

    use adapter modelparallelstrategy {
        fsdp_plan = [{ module = "model.layers.*", reshard_after_forward = true }, { module = "model" }]
    }

A table keyed by module names (`fsdp_plan = { model = { … } }`, or any string key from Python's
`strategy_adapter_cfg`) means the same. Patterns use the `.fts` pattern syntax and match whole module names;
unlike FTS, they are not regular expressions.

At run time (`on_setup`) the plan is applied right after the LightningModule's `configure_model`, children
before parents, skipping modules `configure_model` sharded itself (see `ftsc.runtime.fsdp2_plan`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ftsc import codes
from ftsc.adapters.base import CompiledSchedule, Option, OptionError, StrategyAdapter
from ftsc.compiler.modules import ModuleTable
from ftsc.diagnostics import Diagnostic, Span, diagnose
from ftsc.grammar import ast

if TYPE_CHECKING:
    from ftsc.compiler.namespace import Namespace

__all__ = ["ModelParallelAdapter"]

CONTAINERS = ("ModuleList", "ModuleDict")  # fully_shard does not wrap these (FTS prunes them with a warning)


class ModelParallelAdapter(StrategyAdapter):
    """`modelparallelstrategy`: FSDP2 / DTensor. Schedule names are the model's; `fsdp_plan` is checked."""

    name = "modelparallelstrategy"
    description = "ModelParallelStrategy (FSDP2 fully_shard, DTensor): `fsdp_plan` entries are checked"
    options = (
        Option(
            "fsdp_plan",
            "table | list[table]",
            default={},
            help="Modules to `fully_shard`, with its keyword arguments: a list of tables "
            '`{ module = "NAME or PATTERN", reshard_after_forward = true, … }`, or a table keyed by module '
            "names.",
        ),
        Option(
            "fsdp_default_kwargs",
            "table",
            default={},
            help="`fully_shard` keyword arguments for every `fsdp_plan` entry (an entry's own win).",
        ),
    )

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        self.plan_entries: list[tuple[str, dict[str, object]]] = _entries(self.config["fsdp_plan"])

    def on_setup(self, trainer: object, pl_module: object, plan: Mapping[str, Any]) -> None:
        """Make `configure_model` apply `fsdp_plan` after the user's own body (Lightning calls `setup`
        before `configure_model`, and wraps the model and builds the optimizer right after it)."""
        if not self.plan_entries:
            return
        from ftsc.runtime.fsdp2_plan import install  # run time only: the compiler stays torch-free

        defaults = self.config["fsdp_default_kwargs"]
        assert isinstance(defaults, dict)
        install(pl_module, self.plan_entries, defaults)  # type: ignore[arg-type]

    def live_parameters(self, module: Any) -> Mapping[str, Any]:
        """The sharded parameters. A `fully_shard` unit that does not reshard after forward (the root, by
        default) leaves its modules pointing at the unsharded parameters after validation; thawing those
        would leave the sharded parameters, which the optimizer must hold, frozen. So reshard first."""
        from torch.distributed.fsdp import FSDPModule  # run time only: the compiler stays torch-free

        for submodule in module.modules():
            if isinstance(submodule, FSDPModule):
                submodule.reshard()
        return super().live_parameters(module)

    def validate(self, result: CompiledSchedule, namespace: Namespace) -> list[Diagnostic]:
        use = result.adapter_use
        fallback = use.span_of("fsdp_plan") if use is not None else Span(0, 0)
        spans = _entry_spans(use.syntax.get("fsdp_plan") if use is not None else None, len(self.plan_entries))
        modules = ModuleTable(namespace)
        problems: list[Diagnostic] = []
        for index, (pattern, _) in enumerate(self.plan_entries):
            span = spans[index] or fallback
            found, problem = modules.by_name(pattern)
            if problem is not None:
                problems.append(
                    diagnose(codes.BAD_ADAPTER, f'`fsdp_plan` entry "{pattern}": {problem}', span)
                )
            elif not found:
                problems.append(
                    diagnose(codes.BAD_ADAPTER, f"`fsdp_plan` entry {modules.no_match(pattern, False)}", span)
                )
            elif modules.listed and all(modules.types.get(name) in CONTAINERS for name in found):
                kinds = "/".join(sorted({modules.types[name] for name in found}))
                problems.append(
                    diagnose(
                        codes.BAD_ADAPTER,
                        f'`fsdp_plan` entry "{pattern}" matches only {kinds} containers, which `fully_shard` '
                        f'does not wrap; name the modules inside (e.g. "{found[0]}.*")',
                        span,
                    )
                )
        return problems


def _entries(plan: object) -> list[tuple[str, dict[str, object]]]:
    """`fsdp_plan` as (module name or pattern, fully_shard kwargs) in order; OptionError when malformed."""
    if isinstance(plan, dict):
        found = []
        for key, kwargs in plan.items():
            if not isinstance(kwargs, dict):
                raise OptionError(
                    f'`fsdp_plan` entry "{key}" must be a table of `fully_shard` arguments, not {kwargs!r}',
                    "fsdp_plan",
                )
            found.append((key, dict(kwargs)))
        return found
    assert isinstance(plan, list)
    found = []
    for index, item in enumerate(plan):
        assert isinstance(item, dict)
        module = item.get("module")
        if not isinstance(module, str) or not module:
            raise OptionError(
                f'`fsdp_plan` entry {index + 1} needs `module = "NAME or PATTERN"` (the modules to '
                "`fully_shard`) next to the `fully_shard` arguments",
                "fsdp_plan",
            )
        found.append((module, {key: value for key, value in item.items() if key != "module"}))
    return found


def _entry_spans(value: ast.Value | None, count: int) -> list[Span | None]:
    """Where each plan entry names its modules: the key of a table entry, or the `module` string."""
    spans: list[Span | None] = [None] * count
    if isinstance(value, ast.Table):
        for index, entry in enumerate(value.entries[:count]):
            spans[index] = entry.key_span
    elif isinstance(value, ast.ListValue):
        for index, item in enumerate(value.items[:count]):
            if isinstance(item, ast.Table):
                module = next((entry for entry in item.entries if entry.key == "module"), None)
                spans[index] = module.value.span if module is not None and module.value else item.span
            else:
                spans[index] = item.span
    return spans
