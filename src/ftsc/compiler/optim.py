"""Checks of `optimizer = …` and `lr_scheduler = …` (E303, E304, W305, E306).

Classes are resolved by reading their source, never by importing torch (see `classes`).
"""

from __future__ import annotations

from ftsc.compiler.classes import Kind, Lookup, check_arguments, resolve_class
from ftsc.diagnostics import Diagnostic, Fix, error, warning
from ftsc.grammar import ast

# The lr schedulers Fine-Tuning Scheduler tests across phase transitions (its `supported_lrs`).
TESTED_LR_SCHEDULERS = frozenset(
    {
        "LambdaLR",
        "MultiplicativeLR",
        "StepLR",
        "MultiStepLR",
        "ExponentialLR",
        "CosineAnnealingLR",
        "ReduceLROnPlateau",
        "CosineAnnealingWarmRestarts",
        "ConstantLR",
        "LinearLR",
    }
)


BASE_CLASSES = frozenset({"Optimizer", "LRScheduler", "_LRScheduler"})


def check_class(call: ast.Call, kind: Kind) -> tuple[str | None, list[Diagnostic]]:
    """Resolve the called class; returns its qualified name (None if unresolved) and any problems."""
    lookup: Lookup = resolve_class(call.name, kind)
    if lookup.info is None:
        return None, [_not_found(call, lookup)]
    if lookup.info.qualname.startswith("torch.optim") and lookup.info.display_name in BASE_CLASSES:
        message = f"`{call.name}` is the base class of every {kind.replace('_', ' ')}: name a concrete one"
        return None, [error("E303", message, call.name_span)]
    problems: list[Diagnostic] = []
    for problem in check_arguments(lookup.info, [entry.key for entry in call.arguments or ()], kind):
        entry = next((entry for entry in call.arguments or () if entry.key == problem.argument), None)
        span = entry.key_span if entry is not None else call.name_span
        fixes = (
            [Fix(f"Replace with `{problem.suggestion}`", span, problem.suggestion)]
            if (entry is not None and problem.suggestion)
            else []
        )
        message = problem.message + (f"; did you mean `{problem.suggestion}`?" if problem.suggestion else "")
        problems.append(error("E304", message, span, fixes=fixes))
    return lookup.info.qualname, problems


def _not_found(call: ast.Call, lookup: Lookup) -> Diagnostic:
    message = lookup.problem or f"cannot find `{call.name}`"
    fixes = [Fix(f"Replace with `{name}`", call.name_span, name) for name in lookup.suggestions[:3]]
    if lookup.suggestions:
        message += "; did you mean " + " or ".join(f"`{name}`" for name in lookup.suggestions[:3]) + "?"
    return error("E303", message, call.name_span, fixes=fixes)


def check_tested(call: ast.Call, qualname: str, allow_untested: bool) -> list[Diagnostic]:
    """W305 for a scheduler FTS does not test across phase transitions."""
    module, _, name = qualname.rpartition(".")
    if allow_untested or (module == "torch.optim.lr_scheduler" and name in TESTED_LR_SCHEDULERS):
        return []
    return [
        warning(
            "W305",
            f"`{call.name}` is outside the lr schedulers tested across phase transitions; "
            "set `allow_untested = true` in `defaults` to accept it",
            call.name_span,
        )
    ]


def check_monitor(call: ast.Call, qualname: str, config: ast.Table | None) -> list[Diagnostic]:
    """E306: Lightning steps `ReduceLROnPlateau` with a metric, so its config must name one."""
    if not qualname.endswith("ReduceLROnPlateau"):
        return []
    if config is not None and any(entry.key == "monitor" for entry in config.entries):
        return []
    return [
        error(
            "E306",
            f'`{call.name}` needs a metric to watch: add `lr_scheduler_config = {{ monitor = "val_loss" }}`',
            call.span,
        )
    ]
