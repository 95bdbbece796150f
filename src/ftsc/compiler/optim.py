"""Checks of `optimizer = …` and `lr_scheduler = …` (E303, E304, W305, E306, E307).

Classes are resolved by reading their source, never by importing torch (see `classes`).
"""

from __future__ import annotations

from ftsc import codes
from ftsc.compiler.classes import Kind, Lookup, check_arguments, resolve_class
from ftsc.diagnostics import Diagnostic, Fix, diagnose
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

# What ftsc's runtime carries across phase transitions: the classes of torch.optim.lr_scheduler whose
# per-group state it extends for the groups a phase adds (`ftsc.runtime.schedulers.CARRIED_SCHEDULERS`, kept
# equal by tests/runtime/test_param_groups.py). Any other class of that module is E307; a user class gets
# W305 (the runtime treats it as FTS does: `base_lrs`, `lr_lambdas`), or is carried as its torch base is.
RUNTIME_LR_SCHEDULERS = TESTED_LR_SCHEDULERS | {
    "PolynomialLR",
    "CyclicLR",
    "OneCycleLR",
    "SequentialLR",
    "ChainedScheduler",
}
# Schedulers made of the schedulers in their `schedulers` argument, each checked as a scheduler of its own.
COMPOSITE_LR_SCHEDULERS = frozenset({"SequentialLR", "ChainedScheduler"})

BASE_CLASSES = frozenset({"Optimizer", "LRScheduler", "_LRScheduler"})


def check_class(call: ast.Call, kind: Kind) -> tuple[str | None, list[Diagnostic]]:
    """Resolve the called class; returns its qualified name (None if unresolved) and any problems."""
    lookup: Lookup = resolve_class(call.name, kind)
    if lookup.info is None:
        return None, [_not_found(call, lookup)]
    if lookup.info.qualname.startswith("torch.optim") and lookup.info.display_name in BASE_CLASSES:
        message = f"`{call.name}` is the base class of every {kind.replace('_', ' ')}: name a concrete one"
        return None, [diagnose(codes.CLASS_NOT_FOUND, message, call.name_span)]
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
        problems.append(diagnose(codes.BAD_ARGUMENTS, message, span, fixes=fixes))
    return lookup.info.qualname, problems


def _not_found(call: ast.Call, lookup: Lookup) -> Diagnostic:
    message = lookup.problem or f"cannot find `{call.name}`"
    fixes = [Fix(f"Replace with `{name}`", call.name_span, name) for name in lookup.suggestions[:3]]
    if lookup.suggestions:
        message += "; did you mean " + " or ".join(f"`{name}`" for name in lookup.suggestions[:3]) + "?"
    return diagnose(codes.CLASS_NOT_FOUND, message, call.name_span, fixes=fixes)


def check_tested(call: ast.Call, qualname: str, allow_untested: bool) -> list[Diagnostic]:
    """E307 for a scheduler the runtime cannot carry across phase transitions (`check_carried`); W305 for one
    FTS does not test across them."""
    carried = check_carried(call, qualname)
    module, _, name = qualname.rpartition(".")
    if allow_untested or (module == "torch.optim.lr_scheduler" and name in TESTED_LR_SCHEDULERS):
        return carried
    return [
        *carried,
        diagnose(
            codes.UNTESTED_SCHEDULER,
            f"`{call.name}` is outside the lr schedulers tested across phase transitions; "
            "set `allow_untested = true` in `defaults` to accept it",
            call.name_span,
        ),
    ]


def check_carried(call: ast.Call, qualname: str) -> list[Diagnostic]:
    """E307 for a torch lr scheduler the runtime cannot give the groups a phase adds; the schedulers inside a
    `SequentialLR` / `ChainedScheduler` are resolved and checked like the scheduler itself."""
    module, _, name = qualname.rpartition(".")
    if module != "torch.optim.lr_scheduler":
        return []
    if name not in RUNTIME_LR_SCHEDULERS:
        known = ", ".join(f"`{known}`" for known in sorted(RUNTIME_LR_SCHEDULERS))
        message = (
            f"`{call.name}` cannot continue across phase transitions: ftsc does not know how to give the "
            f"parameter groups a phase adds their part of its state; use one of {known}"
        )
        return [diagnose(codes.SCHEDULER_CANNOT_CONTINUE, message, call.name_span)]
    if name in COMPOSITE_LR_SCHEDULERS:
        return _check_children(call)
    return []


def _check_children(call: ast.Call) -> list[Diagnostic]:
    """The `schedulers` of a composite are created by the runtime on the same optimizer: each must be a class
    call (`Name(…)`) of a scheduler that steps without a metric."""
    entry = next((entry for entry in call.arguments or () if entry.key == "schedulers"), None)
    if entry is None or entry.value is None:
        return []  # E304 reports a missing `schedulers`
    items = entry.value.items if isinstance(entry.value, ast.ListValue) else (entry.value,)
    problems: list[Diagnostic] = []
    for item in items:
        if not isinstance(item, ast.Call):
            message = (
                f"`schedulers` of `{call.name}` takes lr schedulers, each written `Name(arg = value, …)`"
            )
            problems.append(diagnose(codes.BAD_ARGUMENTS, message, item.span))
            continue
        qualname, found = check_class(item, "lr_scheduler")
        problems += found
        if qualname is None:
            continue
        if qualname.endswith(".ReduceLROnPlateau"):
            message = f"`{call.name}` cannot step `{item.name}`, which needs a metric; use it on its own"
            problems.append(diagnose(codes.BAD_ARGUMENTS, message, item.name_span))
        problems += check_carried(item, qualname)
    return problems


def check_monitor(call: ast.Call, qualname: str, config: ast.Table | None) -> list[Diagnostic]:
    """E306: Lightning steps `ReduceLROnPlateau` with a metric, so its config must name one."""
    if not qualname.endswith("ReduceLROnPlateau"):
        return []
    if config is not None and any(entry.key == "monitor" for entry in config.entries):
        return []
    return [
        diagnose(
            codes.PLATEAU_WITHOUT_MONITOR,
            f'`{call.name}` needs a metric to watch: add `lr_scheduler_config = {{ monitor = "val_loss" }}`',
            call.span,
        )
    ]
