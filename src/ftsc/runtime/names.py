"""The live model's canonical parameter names: the names a plan lists, whatever wraps the model.

Wrappers insert segments into `named_parameters()` names (FSDP1 `_fsdp_wrapped_module`, activation
checkpointing `_checkpoint_wrapped_module`, `torch.compile` `_orig_mod`); they are removed here so a plan
compiled on the meta device fits the model on single device, DDP, FSDP and ModelParallel alike.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

WRAPPER_SEGMENTS = frozenset({"_fsdp_wrapped_module", "_checkpoint_wrapped_module", "_orig_mod"})


def canonical_name(name: str) -> str:
    """`name` without the segments wrappers insert."""
    if not any(segment in name for segment in WRAPPER_SEGMENTS):
        return name
    return ".".join(part for part in name.split(".") if part not in WRAPPER_SEGMENTS)


def canonical_parameters(module: nn.Module) -> dict[str, nn.Parameter]:
    """Canonical name → parameter, in `named_parameters()` order (shared parameters once)."""
    return {canonical_name(name): parameter for name, parameter in module.named_parameters()}


def mismatch_report(expected: Sequence[str], live: Sequence[str], shown: int = 5) -> str:
    """Which names the plan expects but the model lacks and which the model has that the plan does not
    know."""
    expected_set, live_set = set(expected), set(live)
    missing = [name for name in expected if name not in live_set]
    unexpected = [name for name in live if name not in expected_set]
    lines: list[str] = []
    for label, names in (("missing from the model", missing), ("not in the plan", unexpected)):
        if names:
            listed = ", ".join(f"`{name}`" for name in names[:shown])
            more = f" … and {len(names) - shown} more" if len(names) > shown else ""
            lines.append(f"{len(names)} {label}: {listed}{more}")
    if not lines:
        lines.append("the same names in another order")
    return "; ".join(lines)
