"""Apply the `modelparallelstrategy` adapter's `fsdp_plan` (FSDP2 `fully_shard`) after `configure_model`.

Lightning calls the callback's `setup` before `configure_model` and wraps the model and builds the optimizer
right after it, so the only moment to shard by plan is the end of `configure_model` itself: `install`
replaces the LightningModule's `configure_model` (an instance attribute) with one that runs the user's body,
then the plan. A module the user already sharded is left as it is; entries are applied children first, as
`fully_shard` requires, whatever their order in the plan.

Plan entry keys besides `fully_shard`'s own keyword arguments (as Fine-Tuning Scheduler spells them):
`cpu_offload_policy = { pin_memory = false }` (or `true`) → `offload_policy=CPUOffloadPolicy(...)`, and
`act_ckpt = "composable" | "wrapped" | "wrapped_offload"` (or `[mode, { checkpoint keyword arguments }]`):
activation checkpointing applied to the module before it is sharded.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.utilities.model_helpers import is_overridden
from torch import nn
from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import checkpoint_wrapper, offload_wrapper
from torch.distributed.fsdp import CPUOffloadPolicy, FSDPModule, fully_shard

from ftsc.compiler.modules import ModuleTable
from ftsc.compiler.namespace import ModuleInfo, Namespace
from ftsc.runtime.errors import RuntimeConfigError
from ftsc.runtime.names import canonical_name

log = logging.getLogger("ftsc.runtime")

Entries = Sequence[tuple[str, Mapping[str, object]]]

CONTAINERS = (nn.ModuleList, nn.ModuleDict)  # no forward: `fully_shard` does not wrap them
ALIASES = ("cpu_offload_policy", "act_ckpt")
AC_MODES = ("composable", "wrapped", "wrapped_offload")
INSTALLED = "ftsc_fsdp_plan"  # marks an installed `configure_model`, so a second fit does not wrap it twice


def install(pl_module: pl.LightningModule, entries: Entries, defaults: Mapping[str, object]) -> None:
    """Make `pl_module.configure_model` apply the plan after the user's own body (if it has one)."""
    current = pl_module.configure_model
    if not entries or getattr(current, INSTALLED, False):
        return
    user = current if is_overridden("configure_model", pl_module) else None

    def configure_model() -> None:
        if user is not None:
            user()
        mesh = pl_module.device_mesh
        if mesh is None:
            raise RuntimeConfigError(
                "the modelparallelstrategy adapter's fsdp_plan needs ModelParallelStrategy's device mesh, "
                "and the LightningModule has none: train with strategy=ModelParallelStrategy(...)"
            )
        apply(pl_module, mesh["data_parallel"], entries, defaults)

    setattr(configure_model, INSTALLED, True)
    # the instance attribute is a new function, so Lightning sees `configure_model` overridden and calls it
    pl_module.configure_model = configure_model  # type: ignore[method-assign]


def apply(root: nn.Module, mesh: Any, entries: Entries, defaults: Mapping[str, object]) -> list[str]:
    """`fully_shard` the plan's modules of `root` on `mesh`; returns the canonical names sharded now."""
    actual = _canonical_modules(root)
    resolved = _resolve(actual, entries)
    done = []
    # deepest first (stable: plan order among equals): fully_shard needs children sharded before parents
    for name in sorted(resolved, key=lambda n: -n.count(".")):
        entry, kwargs = resolved[name]
        path, module = actual[name]
        if isinstance(module, FSDPModule):
            log.debug("ftsc: `%s` was sharded by configure_model; the fsdp_plan leaves it as it is", name)
            continue
        _refuse_sharded_ancestor(root, path, name, entry)
        options = {**defaults, **kwargs}
        module = _checkpoint_activations(root, path, module, options.pop("act_ckpt", None), entry)
        fully_shard(module, mesh=mesh, **fully_shard_kwargs(options, entry))
        done.append(name)
    log.info("ftsc: fsdp_plan sharded %d modules: %s", len(done), ", ".join(done) or "none")
    return done


def fully_shard_kwargs(options: Mapping[str, object], entry: str) -> dict[str, Any]:
    """An entry's options as `fully_shard` keyword arguments (aliases resolved); unknown keys refused."""
    accepted = [p for p in inspect.signature(fully_shard).parameters if p not in ("module", "mesh")]
    kwargs: dict[str, Any] = {}
    for key, value in options.items():
        if key == "cpu_offload_policy":
            if value is False:
                continue
            policy = {} if value is True else value
            if not isinstance(policy, dict):
                raise RuntimeConfigError(
                    f'`fsdp_plan` entry "{entry}": `cpu_offload_policy` takes true or a table of '
                    f"CPUOffloadPolicy arguments (`{{ pin_memory = false }}`), not {value!r}"
                )
            kwargs["offload_policy"] = CPUOffloadPolicy(**policy)
        elif key in accepted:
            kwargs[key] = value
        else:
            known = ", ".join(f"`{k}`" for k in [*accepted, *ALIASES])
            raise RuntimeConfigError(
                f'`fsdp_plan` entry "{entry}": `{key}` is not a `fully_shard` argument (it takes {known})'
            )
    return kwargs


def _canonical_modules(root: nn.Module) -> dict[str, tuple[str, nn.Module]]:
    """Canonical module name → (its name in `root`, the module); a wrapper stands for what it wraps."""
    found: dict[str, tuple[str, nn.Module]] = {}
    for path, module in root.named_modules():
        found.setdefault(canonical_name(path), (path, module))
    return found


def _resolve(
    actual: Mapping[str, tuple[str, nn.Module]], entries: Entries
) -> dict[str, tuple[str, Mapping[str, object]]]:
    """Each module the plan names → (the entry naming it, its options); a later entry wins for a module.
    Containers and modules without parameters are passed over: there is nothing for `fully_shard` there."""
    table = ModuleTable(
        Namespace((), modules=[ModuleInfo(name, type(m).__name__) for name, (_, m) in actual.items()])
    )
    resolved: dict[str, tuple[str, Mapping[str, object]]] = {}
    for entry, kwargs in entries:
        names, problem = table.by_name(entry)
        if problem is not None:
            raise RuntimeConfigError(f'`fsdp_plan` entry "{entry}": {problem}')
        if not names:
            raise RuntimeConfigError(
                f"`fsdp_plan` entry {table.no_match(entry, False)} (the live model); fix the entry, and "
                "check the schedule with `ftsc check --adapter modelparallelstrategy`"
            )
        for name in names:
            module = actual[name][1]
            if isinstance(module, CONTAINERS) or not any(True for _ in module.parameters()):
                continue
            resolved[name] = (entry, kwargs)
    return resolved


def _refuse_sharded_ancestor(root: nn.Module, path: str, name: str, entry: str) -> None:
    parts = path.split(".")
    for end in range(len(parts) - 1, 0, -1):
        ancestor = ".".join(parts[:end])
        if isinstance(root.get_submodule(ancestor), FSDPModule):
            raise RuntimeConfigError(
                f'`fsdp_plan` entry "{entry}": `{name}` lies inside `{canonical_name(ancestor)}`, which '
                "configure_model already sharded, and fully_shard shards children before their parents: "
                f"shard `{name}` in configure_model before `{canonical_name(ancestor)}`, or leave "
                f"`{canonical_name(ancestor)}` to the fsdp_plan"
            )


def _checkpoint_activations(
    root: nn.Module, path: str, module: nn.Module, setting: object, entry: str
) -> nn.Module:
    """Apply the entry's `act_ckpt` to `module`; returns the module to shard (the wrapper, if wrapped)."""
    if setting is None:
        return module
    mode, config = (setting[0], setting[1] if len(setting) > 1 else {}) if isinstance(setting, list) else (
        setting, {}
    )  # fmt: skip
    if mode not in AC_MODES or not isinstance(config, dict):
        raise RuntimeConfigError(
            f'`fsdp_plan` entry "{entry}": `act_ckpt` takes a mode ({", ".join(map(repr, AC_MODES))}) or '
            f"[mode, {{ checkpoint arguments }}], not {setting!r}"
        )
    if mode == "composable":
        from torch.distributed._composable.checkpoint_activation import checkpoint

        checkpoint(module, **config)
        return module
    wrap: Callable[..., nn.Module] = checkpoint_wrapper if mode == "wrapped" else offload_wrapper
    wrapper = wrap(module, **config)
    parent, _, attribute = path.rpartition(".")
    setattr(root.get_submodule(parent), attribute, wrapper)
    return wrapper
