"""What the callback does across ranks: agree on the plan, agree on transitions, and keep DDP's reducer in
step with the thawed set.

torch DDP registers only the parameters that require grad when it wraps the model, so a parameter thawed
after the wrap would never be all-reduced and the replicas would silently diverge; wrapping everything and
freezing afterwards would instead need `find_unused_parameters=True` and all-reduce frozen gradients every
step. ftsc re-wraps the module whenever the thawed set changes: DDP then reduces exactly what trains.
"""

from __future__ import annotations

import lightning.pytorch as pl
from lightning.pytorch.strategies import DDPStrategy
from torch.nn.parallel import DistributedDataParallel

from ftsc.runtime.errors import PlanMismatchError, RuntimeConfigError


def strategy_flag(strategy: object) -> str:
    """The strategy's name as adapters are registered (`fsdp`, `single_device`, `modelparallelstrategy`,
    …)."""
    name = getattr(type(strategy), "strategy_name", None)
    return name if isinstance(name, str) and name else type(strategy).__name__.lower()


def agree_on_plan(trainer: pl.Trainer, fingerprint: str) -> None:
    """Raise on every rank when any rank holds another plan (never a hang on one rank)."""
    strategy = trainer.strategy
    if trainer.world_size <= 1:
        return
    reference = strategy.broadcast(fingerprint, src=0)
    differs = strategy.reduce_boolean_decision(reference != fingerprint, all=False)
    if differs:
        raise PlanMismatchError(
            f"ranks hold different plans (rank {trainer.global_rank}: {fingerprint}, rank 0: {reference}); "
            "give every rank the same plan file or schedule and model"
        )


def any_rank(trainer: pl.Trainer, decision: bool) -> bool:
    """True on every rank when it is true on at least one (a transition must happen everywhere at once)."""
    if trainer.world_size <= 1:
        return decision
    return bool(trainer.strategy.reduce_boolean_decision(decision, all=False))


def check_ddp_options(strategy: object) -> None:
    """`static_graph` assumes the graph never changes, which thawing breaks: refuse it before training."""
    if isinstance(strategy, DDPStrategy) and strategy._ddp_kwargs.get("static_graph"):
        raise RuntimeConfigError(
            "DDPStrategy(static_graph=True) cannot follow a fine-tuning schedule: each phase thaws "
            "parameters and changes the graph; drop `static_graph`"
        )


def rewrap_ddp(trainer: pl.Trainer) -> bool:
    """Wrap the LightningModule in a fresh DDP so its reducer holds exactly the parameters that now require
    grad; returns whether it did (no-op for other strategies)."""
    strategy = trainer.strategy
    if not isinstance(strategy, DDPStrategy) or not isinstance(strategy.model, DistributedDataParallel):
        return False
    module = strategy.lightning_module
    if module is None or not any(p.requires_grad for p in module.parameters()):
        return False  # DDP refuses a module with nothing to train; the previous wrap stays
    strategy.model = strategy.lightning_module
    strategy.configure_ddp()
    return True
