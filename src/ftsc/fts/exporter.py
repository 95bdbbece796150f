"""`ftsc export-fts`: a compiled plan as an explicit Fine-Tuning Scheduler schedule (YAML).

Every phase lists its parameters by exact name, in namespace order. FTS takes an entry that is a
parameter name as exactly that parameter, so FTS thaws exactly the plan's phases. Per phase:
`max_transition_epoch`, `lr` (phases after 0 get their effective lr: the phase's own, else
`settings.lr`, so the file does not depend on `base_max_lr`), `new_optimizer` and `new_lr_scheduler`.

`defaults.optimizer` / `defaults.lr_scheduler` (reinitialise at every phase after 0) are written into each
such phase that has none of its own: FTS refuses `reinit_lr_cfg` next to an explicit schedule, and its
`reinit_optim_cfg` would override every phase's own `new_optimizer`. The other settings are arguments of
the FTS callbacks; a comment block at the top of the file says what to pass.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any

from ftsc.compiler.plan import Plan

# plan setting -> FinetuningScheduler argument
CALLBACK_ARGUMENTS = {
    "lr": "base_max_lr",
    "restore_best": "restore_best",
    "epoch_transitions_only": "epoch_transitions_only",
    "max_depth": "max_depth",
    "enforce_phase0_params": "enforce_phase0_params",
    "apply_lambdas_new_pgs": "apply_lambdas_new_pgs",
    "frozen_bn_track_running_stats": "frozen_bn_track_running_stats",
    "allow_untested": "allow_untested",
}


@dataclass
class ExportResult:
    text: str  # the YAML file, comment block included
    schedule: dict[int, dict[str, Any]]  # what FTS loads from it
    callback_args: dict[str, object]  # FinetuningScheduler(ft_schedule=…, **callback_args)
    early_stopping: dict[str, object] | None = None  # FTSEarlyStopping(**early_stopping)
    checkpoint: dict[str, object] | None = None  # FTSCheckpoint(**checkpoint)
    notes: list[str] = field(default_factory=list)  # what the YAML could not carry, or changed


def export_fts(plan: Plan, *, plan_path: str | None = None, schedule_path: str | None = None) -> ExportResult:
    """The FTS schedule of a (validated) plan; `schedule_path` is shown as `ft_schedule=` in the comment."""
    settings: dict[str, Any] = plan["settings"]  # type: ignore[assignment]
    phases: list[dict[str, Any]] = plan["phases"]  # type: ignore[assignment]
    notes: list[str] = []
    namespace: dict[str, Any] = plan["namespace"]  # type: ignore[assignment]
    prefix = str(namespace.get("prefix") or "")
    schedule = {
        phase["index"]: _phase({**phase, "params": _live(prefix, phase["params"])}, settings,
                               earlier=phases[:position], last=position == len(phases) - 1, notes=notes)
        for position, phase in enumerate(phases)
    }  # fmt: skip
    if prefix:
        notes.append(
            f"the plan's names sit under `{prefix}.` in the trained module (`use namespace … at {prefix}`); "
            f"FTS reads the LightningModule's names, so every entry starts with `{prefix}.`"
        )
    callback_args = {argument: settings[key] for key, argument in CALLBACK_ARGUMENTS.items()}
    result = ExportResult(
        "", schedule, callback_args, settings.get("early_stopping"), settings.get("checkpoint"), notes
    )
    result.text = _header(plan, result, plan_path, schedule_path) + _body(schedule, phases)
    return result


def _live(prefix: str, names: list[str]) -> list[str]:
    """Plan names as the trained module spells them (`use namespace … at model`): FTS reads the
    LightningModule's own names."""
    return [f"{prefix}.{name}" for name in names] if prefix else list(names)


def _phase(
    phase: dict[str, Any],
    settings: dict[str, Any],
    *,
    last: bool,
    earlier: list[dict[str, Any]],
    notes: list[str],
) -> dict[str, Any]:
    index = phase["index"]
    body: dict[str, Any] = {"params": list(phase["params"])}
    epoch = phase["max_transition_epoch"]
    if epoch < 0 and last and settings["epoch_transitions_only"]:
        # FTS wants an epoch on every phase with epoch_transitions_only, the last one included, and replaces
        # the last one's by max(max_epochs, the largest phase epoch): the earlier largest changes nothing.
        epoch = max([0, *(p["max_transition_epoch"] for p in earlier)])
        notes.append(
            f"phase {index}: FTS needs `max_transition_epoch` on the last phase too with "
            f"epoch_transitions_only; {epoch} is written (FTS replaces it with the larger of max_epochs "
            "and the largest phase epoch)"
        )
    if epoch >= 0:
        body["max_transition_epoch"] = epoch
    if index == 0:
        return body
    body["lr"] = phase["lr"] if phase["lr"] is not None else settings["lr"]
    optimizer = phase["optimizer"] or settings["optimizer"]
    if optimizer is not None:
        body["new_optimizer"] = {"optimizer_init": _class_init(optimizer)}
    scheduler = phase["lr_scheduler"] or settings["lr_scheduler"]
    extras = {
        key: phase[key]
        for key in ("init_pg_lrs", "use_current_optimizer_pg_lrs")
        if phase.get(key) is not None
    }
    if scheduler is not None:
        new_lr_scheduler: dict[str, Any] = {"lr_scheduler_init": _class_init(scheduler)}
        if scheduler.get("config"):
            new_lr_scheduler["pl_lrs_cfg"] = dict(scheduler["config"])
        new_lr_scheduler.update(extras)
        body["new_lr_scheduler"] = new_lr_scheduler
    elif extras:
        notes.append(
            f"phase {index}: {' and '.join(f'`{key}`' for key in extras)} left out: FTS reads them only "
            "inside `new_lr_scheduler`, and this phase reinitialises no lr scheduler"
        )
    return body


def _class_init(value: dict[str, Any]) -> dict[str, Any]:
    return {"class_path": value["class_path"], "init_args": dict(value.get("init_args") or {})}


def _body(schedule: dict[int, dict[str, Any]], phases: list[dict[str, Any]]) -> str:
    import yaml

    chunks = []
    for phase in phases:
        text = yaml.dump(
            {phase["index"]: schedule[phase["index"]]},
            Dumper=_dumper(),
            sort_keys=False,
            default_flow_style=False,
            allow_unicode=True,
            width=4096,
        )
        first, _, rest = text.partition("\n")
        label = f"phase {phase['index']}" + (f" `{phase['name']}`" if phase.get("name") else "")
        if phase.get("line"):
            label += f" (line {phase['line']})"
        chunks.append(f"{first}  # {_one_line(label)}\n{rest}")
    return "".join(chunks)


_YAML_LINE_BREAKS = ("\x85", "\u2028", "\u2029")  # line breaks to YAML 1.1 beyond \r and \n


@functools.cache
def _dumper() -> type:
    """PyYAML's safe dumper, writing a string that holds a YAML line break double-quoted, where the break
    is escaped (`\\N`, `\\L`, `\\P`): plain or single-quoted, a reader folds it into a space, and the name
    would no longer match its parameter."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        style = '"' if any(mark in value for mark in _YAML_LINE_BREAKS) else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, represent_str)
    return Dumper


def _header(plan: Plan, result: ExportResult, plan_path: str | None, schedule_path: str | None) -> str:
    source: dict[str, Any] = plan["source"]  # type: ignore[assignment]
    namespace: dict[str, Any] = plan["namespace"]  # type: ignore[assignment]
    origin = [f"plan {plan_path}" if plan_path else "a plan"]
    if source.get("path"):
        origin.append(f"schedule {source['path']}")
    if namespace.get("model"):
        origin.append(f"model {namespace['model']}")
    lines = [
        f"Fine-Tuning Scheduler schedule written by `ftsc export-fts` from {', '.join(origin)}.",
        "Every phase lists its parameters by exact name, so FTS thaws exactly the plan's phases.",
        "",
        "Pass the plan's settings to the callbacks:",
        "",
        "  FinetuningScheduler(",
        f"      ft_schedule={_python(schedule_path or '<this file>')},",
        *(f"      {key}={_python(value)}," for key, value in result.callback_args.items()),
        "  )",
    ]
    for name, arguments in (
        ("FTSEarlyStopping", result.early_stopping),
        ("FTSCheckpoint", result.checkpoint),
    ):
        if arguments is not None:
            lines.append(f"  {name}(" + ", ".join(f"{k}={_python(v)}" for k, v in arguments.items()) + ")")
    settings: dict[str, Any] = plan["settings"]  # type: ignore[assignment]
    if settings.get("optimizer") or settings.get("lr_scheduler"):
        lines += [
            "",
            "`defaults` reinitialises the optimizer or lr scheduler at every phase: that is written into",
            "each phase after phase 0 as `new_optimizer` / `new_lr_scheduler`, since FTS refuses",
            "`reinit_lr_cfg` with an explicit schedule and its `reinit_optim_cfg` would override each",
            "phase's own optimizer.",
            "Do not pass `reinit_optim_cfg` or `reinit_lr_cfg`.",
        ]
    if namespace.get("adapter", "default") != "default":
        lines += [
            "",
            f"The plan is for the `{namespace['adapter']}` strategy adapter: use the matching FTS strategy.",
        ]
    frozen: list[str] = plan["frozen"]  # type: ignore[assignment]
    if frozen:
        count = f"{len(frozen)} parameter{'s are' if len(frozen) != 1 else ' is'}"
        lines += ["", f"{count} never thawed (in no phase), e.g. {frozen[0]}."]
    if result.notes:
        lines += ["", *result.notes]
    return "".join(f"# {line}".rstrip() + "\n" for line in lines) + "\n"


def _python(value: object) -> str:
    """A value as Python source, for the callback arguments in the comment."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_python(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_python(k)}: {_python(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _one_line(text: str) -> str:
    return " ".join(text.split())
