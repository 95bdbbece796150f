"""The settings of `defaults { }` and `phase { }` blocks: what each means, where it may stand, and
what values it takes (E301 unknown setting, E302 wrong value), plus conversion to plan values.

This table is also what the language server shows on hover and offers in completion.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from ftsc.compiler.memory.choices import PRECISIONS, STRATEGIES
from ftsc.diagnostics import Diagnostic, Fix, Span, error
from ftsc.grammar import ast

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")  # the grammar's NUMBER

Where = Literal["defaults", "phase"]
PlanValue = object


@dataclass(frozen=True)
class SettingSpec:
    name: str
    where: tuple[Where, ...]
    doc: str
    fts: str  # the Fine-Tuning Scheduler equivalent, for users coming from its YAML


# Keys of the table-valued settings (the arguments of the Lightning callbacks they configure).
LR_SCHEDULER_CONFIG_KEYS = ("interval", "frequency", "monitor", "name", "strict")
EARLY_STOPPING_KEYS = (
    "monitor", "min_delta", "patience", "verbose", "mode", "strict", "check_finite",
    "stopping_threshold", "divergence_threshold", "check_on_train_epoch_end", "log_rank_zero_only",
)  # fmt: skip
CHECKPOINT_KEYS = (
    "dirpath", "filename", "monitor", "verbose", "save_last", "save_top_k", "save_weights_only",
    "mode", "auto_insert_metric_name", "every_n_train_steps", "train_time_interval",
    "every_n_epochs", "save_on_train_epoch_end", "enable_version_counter",
)  # fmt: skip

SETTINGS: dict[str, SettingSpec] = {
    spec.name: spec
    for spec in (
        SettingSpec("lr", ("defaults", "phase"),
                    "Learning rate of the phase's new parameter group. In `defaults`: the lr of every phase "
                    "after the first that sets none (default 1e-5).", "lr / base_max_lr"),
        SettingSpec("optimizer", ("defaults", "phase"),
                    "Reinitialise the optimizer when this phase starts: `Class(arg = value, …)`; a bare "
                    "name is looked up in `torch.optim`. In `defaults`: reinitialise at every later phase.",
                    "new_optimizer / reinit_optim_cfg"),
        SettingSpec("lr_scheduler", ("defaults", "phase"),
                    "Reinitialise the lr scheduler when this phase starts: `Class(arg = value, …)`; a bare "
                    "name is looked up in `torch.optim.lr_scheduler`.",
                    "new_lr_scheduler.lr_scheduler_init / reinit_lr_cfg"),
        SettingSpec("lr_scheduler_config", ("defaults", "phase"),
                    "Lightning's lr scheduler configuration for the reinitialised scheduler: "
                    "`{interval, frequency, monitor, name, strict}`.", "pl_lrs_cfg"),
        SettingSpec("init_pg_lrs", ("phase",),
                    "Initial lrs of the existing parameter groups when the lr scheduler is reinitialised.",
                    "init_pg_lrs"),
        SettingSpec("use_current_optimizer_pg_lrs", ("phase",),
                    "Keep the optimizer's current group lrs when the lr scheduler is reinitialised.",
                    "use_current_optimizer_pg_lrs"),
        SettingSpec("restore_best", ("defaults",),
                    "Restore the best checkpoint of a phase before moving to the next (default true).",
                    "restore_best"),
        SettingSpec("epoch_transitions_only", ("defaults",),
                    "Move on only by `until epoch`, never by early stopping (default false).",
                    "epoch_transitions_only"),
        SettingSpec("max_depth", ("defaults",),
                    "Run the schedule only up to this phase index; -1 runs all of it (default -1).",
                    "max_depth"),
        SettingSpec("enforce_phase0_params", ("defaults",),
                    "Make the optimizer's parameters exactly phase 0's before training (default true).",
                    "enforce_phase0_params"),
        SettingSpec("apply_lambdas_new_pgs", ("defaults",),
                    "Apply the lr scheduler's lambdas to the groups each phase adds (default false).",
                    "apply_lambdas_new_pgs"),
        SettingSpec("frozen_bn_track_running_stats", ("defaults",),
                    "Whether frozen BatchNorm layers keep tracking running statistics (default true).",
                    "frozen_bn_track_running_stats"),
        SettingSpec("allow_untested", ("defaults",),
                    "Allow lr schedulers and strategies outside the tested set (default false).",
                    "allow_untested"),
        SettingSpec("early_stopping", ("defaults",),
                    "Arguments of the early-stopping callback that ends phases: `{monitor, patience, …}`.",
                    "FTSEarlyStopping(...)"),
        SettingSpec("checkpoint", ("defaults",),
                    "Arguments of the checkpoint callback that keeps each phase's best: `{monitor, …}`.",
                    "FTSCheckpoint(...)"),
        SettingSpec("memory", ("defaults",),
                    "Check that every phase fits the devices before the job starts: `{devices, "
                    'device_memory = "80GiB", precision = "bf16-mixed", strategy = "fsdp2", activations = '
                    '"12GiB", optimizer = AdamW(…)}` (phase 0\'s optimizer). Not written to the plan; see '
                    "docs/memory.md.",
                    "none (ftsc estimates memory per phase and rank)"),
    )
}  # fmt: skip

# FTS's own key names, and likely misspellings, pointing at the `.fts` way to say the same thing.
FTS_NAMES: dict[str, str] = {
    "max_transition_epoch": "`until epoch N` (a phase statement)",
    "max_transition_epochs": "`until epoch N` (a phase statement)",
    "base_max_lr": "`lr` in `defaults`",
    "new_optimizer": "`optimizer`",
    "optimizer_init": "`optimizer`",
    "new_lr_scheduler": "`lr_scheduler`",
    "lr_scheduler_init": "`lr_scheduler`",
    "pl_lrs_cfg": "`lr_scheduler_config`",
    "reinit_optim_cfg": "`optimizer` in `defaults`",
    "reinit_lr_cfg": "`lr_scheduler` in `defaults`",
    "params": "`thaw` (a phase statement)",
}

PLAN_DEFAULTS: dict[str, PlanValue] = {
    "lr": 1e-5,
    "restore_best": True,
    "epoch_transitions_only": False,
    "max_depth": -1,
    "enforce_phase0_params": True,
    "apply_lambdas_new_pgs": False,
    "frozen_bn_track_running_stats": True,
    "allow_untested": False,
    "optimizer": None,
    "lr_scheduler": None,
    "early_stopping": None,
    "checkpoint": None,
}


def unknown_setting(setting: ast.Setting, where: Where) -> Diagnostic:
    """E301 for a name that is not a setting here, with the most helpful did-you-mean we have."""
    name = setting.name
    spec = SETTINGS.get(name)
    if spec is not None:
        place = " and ".join(f"`{w}`" if w == "defaults" else "a phase" for w in spec.where)
        block = "`defaults`" if where == "defaults" else "a phase"
        return error(
            "E301", f"`{name}` is not a setting of {block}; it belongs in {place}", setting.name_span
        )
    for keyword in ("thaw", "until"):
        if name.startswith(keyword) and len(name) > len(keyword):
            glued = f"`{keyword} {name[len(keyword) :]}…`"
            return error("E301", f"unknown setting `{name}`; did you mean {glued} (a space is missing)?",
                         setting.name_span)  # fmt: skip
    if name in FTS_NAMES:
        return error(
            "E301", f"unknown setting `{name}` (an FTS key): write {FTS_NAMES[name]}", setting.name_span
        )
    return _unknown(name, setting.name_span, [n for n, s in SETTINGS.items() if where in s.where], "setting")


def unknown_key(entry: ast.Entry, keys: tuple[str, ...], what: str) -> Diagnostic:
    return _unknown(entry.key, entry.key_span, list(keys), f"key of `{what}`")


def _unknown(name: str, span: Span, known: list[str], what: str) -> Diagnostic:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        fix = Fix(f"Replace with `{close[0]}`", span, close[0])
        return error("E301", f"unknown {what} `{name}`; did you mean `{close[0]}`?", span, fixes=[fix])
    return error("E301", f"unknown {what} `{name}`; known: {', '.join(sorted(known))}", span)


# -- values ----------------------------------------------------------------------------------------


def to_plan(value: ast.Value) -> PlanValue:
    """The plain JSON value of a syntax-tree value (a call becomes {class_path, init_args})."""
    if isinstance(value, (ast.Number, ast.String, ast.Bool)):
        return value.value
    if isinstance(value, ast.NoneValue):
        return None
    if isinstance(value, ast.ListValue):
        return [to_plan(item) for item in value.items]
    if isinstance(value, ast.Table):
        return {entry.key: to_plan(entry.value) for entry in value.entries if entry.value is not None}
    arguments = value.arguments or ()
    return {
        "class_path": value.name,
        "init_args": {entry.key: to_plan(entry.value) for entry in arguments if entry.value is not None},
    }


Check = Callable[[ast.Value], str | None]  # returns what was expected, or None when the value fits


def describe(value: ast.Value) -> str:
    if isinstance(value, ast.Bool):
        return "`true`" if value.value else "`false`"
    if isinstance(value, ast.Number):
        return f"`{value.text}`"
    if isinstance(value, ast.String):
        return f'"{value.value}"'
    if isinstance(value, ast.NoneValue):
        return "`none`"
    if isinstance(value, ast.ListValue):
        return "a list"
    if isinstance(value, ast.Table):
        return "a table"
    return f"`{value.name}`" if value.arguments is None else f"a call of `{value.name}`"


def positive_number(value: ast.Value) -> str | None:
    if isinstance(value, ast.Number) and value.value > 0:
        return None
    return "a number greater than 0"


def boolean(value: ast.Value) -> str | None:
    return None if isinstance(value, ast.Bool) else "`true` or `false`"


def integer_at_least(minimum: int) -> Check:
    def check(value: ast.Value) -> str | None:
        if isinstance(value, ast.Number) and isinstance(value.value, int) and value.value >= minimum:
            return None
        return f"a whole number >= {minimum}"

    return check


def one_of(*choices: str) -> Check:
    def check(value: ast.Value) -> str | None:
        if isinstance(value, ast.String) and value.value in choices:
            return None
        return "one of " + ", ".join(f'"{choice}"' for choice in choices)

    return check


def string(value: ast.Value) -> str | None:
    return None if isinstance(value, ast.String) else "a string"


def number(value: ast.Value) -> str | None:
    return None if isinstance(value, ast.Number) else "a number"


def optional(check: Check) -> Check:
    def wrapped(value: ast.Value) -> str | None:
        if isinstance(value, ast.NoneValue):
            return None
        expected = check(value)
        return None if expected is None else f"{expected} or `none`"

    return wrapped


def list_of_positive_numbers(value: ast.Value) -> str | None:
    if isinstance(value, ast.ListValue) and all(positive_number(item) is None for item in value.items):
        return None
    return "a list of numbers greater than 0"


def table(value: ast.Value) -> str | None:
    return None if isinstance(value, ast.Table) else "a table `{key = value, …}`"


def call(value: ast.Value) -> str | None:
    return None if isinstance(value, ast.Call) else "a class, as `Name(arg = value, …)`"


def bool_or_link(value: ast.Value) -> str | None:
    """`checkpoint.save_last` takes Lightning's `"link"` as well as a bool."""
    if boolean(value) is None or one_of("link")(value) is None:
        return None
    return '`true`, `false` or "link"'


SCALAR_CHECKS: dict[str, Check] = {
    "lr": positive_number,
    "restore_best": boolean,
    "epoch_transitions_only": boolean,
    "max_depth": integer_at_least(-1),
    "enforce_phase0_params": boolean,
    "apply_lambdas_new_pgs": boolean,
    "frozen_bn_track_running_stats": boolean,
    "allow_untested": boolean,
    "init_pg_lrs": list_of_positive_numbers,
    "use_current_optimizer_pg_lrs": boolean,
    "optimizer": call,
    "lr_scheduler": call,
    "lr_scheduler_config": table,
    "early_stopping": table,
    "checkpoint": table,
    "memory": table,
}

MEMORY_KEYS = ("devices", "device_memory", "precision", "strategy", "activations", "optimizer")

TABLE_KEYS: dict[str, tuple[tuple[str, ...], str]] = {
    "lr_scheduler_config": (LR_SCHEDULER_CONFIG_KEYS, "lr_scheduler_config"),
    "early_stopping": (EARLY_STOPPING_KEYS, "early_stopping"),
    "checkpoint": (CHECKPOINT_KEYS, "checkpoint"),
    "memory": (MEMORY_KEYS, "memory"),
}


def _devices_check(value: ast.Value) -> str | None:
    from ftsc.compiler.memory.budget import MAX_DEVICES

    if isinstance(value, ast.Number) and isinstance(value.value, int) and 1 <= value.value <= MAX_DEVICES:
        return None
    return f"a whole number from 1 to {MAX_DEVICES:,}"


def _size_check(key: str, value: ast.Value) -> str | None:
    from ftsc.compiler.memory import budget  # the size syntax lives with the memory model

    return budget.size(value) if key == "device_memory" else budget.size_or_path(value)


ENTRY_CHECKS: dict[str, Check] = {
    "interval": one_of("epoch", "step"),
    "frequency": integer_at_least(1),
    "monitor": string,
    "name": optional(string),
    "strict": boolean,
    "patience": integer_at_least(0),
    "min_delta": number,
    "mode": one_of("min", "max"),
    "verbose": boolean,
    "check_finite": boolean,
    "save_top_k": integer_at_least(-1),
    "save_last": bool_or_link,
    "save_weights_only": boolean,
    "every_n_epochs": integer_at_least(0),
    "every_n_train_steps": integer_at_least(0),
    "dirpath": string,
    "filename": string,
    "devices": _devices_check,
    "device_memory": lambda value: _size_check("device_memory", value),
    "precision": one_of(*PRECISIONS),
    "strategy": one_of(*STRATEGIES),
    "activations": lambda value: _size_check("activations", value),
    "optimizer": call,
}


def check_value(setting: ast.Setting) -> list[Diagnostic]:
    """E302 for a value of the wrong type or out of range; E301 for unknown keys of a table."""
    value = setting.value
    if value is None:
        return []
    expected = SCALAR_CHECKS[setting.name](value)
    if expected is not None:
        return [_wrong(setting.name, value, expected)]
    if setting.name not in TABLE_KEYS:
        return []
    assert isinstance(value, ast.Table)
    keys, what = TABLE_KEYS[setting.name]
    return check_entries(value.entries, keys, what)


def check_entries(entries: tuple[ast.Entry, ...], keys: tuple[str, ...], what: str) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    seen: dict[str, ast.Entry] = {}
    for entry in entries:
        if entry.key not in keys:
            problems.append(unknown_key(entry, keys, what))
            continue
        if entry.key in seen:
            problems.append(error("E302", f"`{entry.key}` is given twice in `{what}`", entry.key_span))
        seen[entry.key] = entry
        check = ENTRY_CHECKS.get(entry.key)
        if check is not None and entry.value is not None:
            expected = check(entry.value)
            if expected is not None:
                problems.append(_wrong(f"{what}.{entry.key}", entry.value, expected))
    return problems


def _wrong(name: str, value: ast.Value, expected: str) -> Diagnostic:
    hint = ""
    fixes: list[Fix] = []
    if isinstance(value, ast.Call) and value.arguments is None and "string" in expected:
        hint = f' (strings need quotes: "{value.name}")'
    bare = _number_text(value) if "number" in expected else None
    if bare is not None:
        key = name.rpartition(".")[2]
        hint = f"; drop the quotes: `{key} = {bare}` (YAML habits quote numbers; `.fts` does not)"
        fixes = [Fix("Drop the quotes", value.span, bare)]
    return error("E302", f"`{name}` must be {expected}, not {describe(value)}{hint}", value.span, fixes=fixes)


def _number_text(value: ast.Value) -> str | None:
    """The text of a quoted number (`"2e-4"` gives `2e-4`), or None when `value` is no such string."""
    if not isinstance(value, ast.String):
        return None
    text = value.value.strip()
    try:
        number = float(text)
    except ValueError:
        return None
    return text if math.isfinite(number) and _NUMBER.fullmatch(text) else None
