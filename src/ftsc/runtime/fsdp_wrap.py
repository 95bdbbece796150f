"""The `fsdp` adapter's `auto_wrap` at run time: composed with the strategy's own `auto_wrap_policy`, so
FSDP1 wraps every module that either names — the units `ftsc check` (E403) reasoned about.

Lightning calls the callback's `setup` before `configure_model` and wraps the model in `strategy.setup`
after it, from `strategy.kwargs["auto_wrap_policy"]` (a set of module classes is already a
`ModuleWrapPolicy` there). So the composed policy is put into the kwargs at setup and resolves the
adapter's entries (module types, names or patterns, as the compiler does) against the model only when FSDP
asks, once the model is built.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Sequence
from typing import Any

from torch import nn
from torch.distributed.fsdp.wrap import _or_policy, _Policy
from typing_extensions import override

from ftsc.compiler.modules import ModuleTable
from ftsc.runtime.errors import RuntimeConfigError
from ftsc.runtime.names import canonical_name

POLICY = "auto_wrap_policy"


class AdapterModules:
    """The modules of `root` the adapter's `auto_wrap` entries select, resolved once, when first asked."""

    def __init__(self, entries: Sequence[str], root: nn.Module) -> None:
        self.entries = list(entries)
        self.root = root
        self._selected: set[nn.Module] | None = None

    @property
    def selected(self) -> set[nn.Module]:
        if self._selected is None:
            self._selected = self._resolve()
        return self._selected

    def _resolve(self) -> set[nn.Module]:
        from ftsc.namespaces.record import namespace_from_module  # its package loads the exporters: on use

        table = ModuleTable(namespace_from_module(self.root))
        modules = {canonical_name(name): module for name, module in self.root.named_modules()}
        selected: set[nn.Module] = set()
        for entry in self.entries:
            found, problem = table.by_type_or_name(entry)
            if problem is not None or not found:
                why = problem or table.no_match(entry, True)
                raise RuntimeConfigError(
                    f'E402: the `fsdp` adapter\'s `auto_wrap` entry "{entry}": {why}; fix the entry in '
                    "`use adapter fsdp { auto_wrap = [...] }` (or strategy_adapter_cfg)"
                )
            selected.update(modules[name] for name in found if name)
        return selected

    def wraps(self, module: nn.Module, recurse: bool, nonwrapped_numel: int) -> bool:
        """The callable-policy form (torch's `_recursive_wrap`): always recurse, wrap the selected."""
        return recurse or module in self.selected


class AdapterWrapPolicy(_Policy):
    """The user's `_Policy` (or none) plus the adapter's modules; the user's kwargs win where both wrap."""

    def __init__(self, user: _Policy | None, modules: AdapterModules) -> None:
        self.user = user
        self.modules = modules

    @override
    def _run_policy(
        self, root_module: nn.Module, ignored_modules: set[nn.Module], root_kwargs: dict[str, Any]
    ) -> dict[nn.Module, dict[str, Any]]:
        targets = self.user._run_policy(root_module, ignored_modules, root_kwargs) if self.user else {}
        for module in self.modules.selected - ignored_modules:
            targets.setdefault(module, copy.copy(root_kwargs))
        return targets


def compose(kwargs: dict[str, Any], entries: Sequence[str], root: nn.Module) -> None:
    """Set `kwargs["auto_wrap_policy"]` (the strategy's FSDP kwargs) to wrap what the user's policy wraps
    and what `entries` select in `root`; a policy composed by an earlier fit is replaced, not nested."""
    user = kwargs.get(POLICY)
    user = getattr(user, "ftsc_user_policy", user)
    modules = AdapterModules(entries, root)
    composed: Callable[..., bool] | _Policy
    if user is None or isinstance(user, _Policy):
        composed = AdapterWrapPolicy(user, modules)
    else:
        composed = functools.partial(_or_policy, policies=[user, modules.wraps])
    composed.ftsc_user_policy = user  # type: ignore[union-attr]
    kwargs[POLICY] = composed
