"""Strategy adapters: the names a schedule is written against, their translation to the model's own
parameter names, static checks (FSDP's E403), and the runtime hooks around Lightning strategies.

- `StrategyAdapter`, `Option`: the base class and its option declarations; `CompiledSchedule`: what its
  `validate` reads of a compiled schedule (`ftsc.adapters.base`).
- `resolve_adapter`, `adapter_for_strategy`, `available_adapters`: finding adapters, built-in or plugins
  under the entry-point group `ftsc.strategy_adapters` (`ftsc.adapters.registry`).

Nothing here imports torch or lightning; plugins are loaded only when first needed.
"""

from ftsc.adapters.base import (
    AdapterError,
    CompiledSchedule,
    DefaultAdapter,
    Option,
    OptionError,
    StrategyAdapter,
)
from ftsc.adapters.registry import (
    GROUP,
    AdapterInfo,
    AdapterLoadWarning,
    adapter_for_strategy,
    available_adapters,
    resolve_adapter,
)

__all__ = [
    "GROUP",
    "AdapterError",
    "AdapterInfo",
    "AdapterLoadWarning",
    "CompiledSchedule",
    "DefaultAdapter",
    "Option",
    "OptionError",
    "StrategyAdapter",
    "adapter_for_strategy",
    "available_adapters",
    "resolve_adapter",
]
