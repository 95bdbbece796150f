"""Reading and writing plan files: every plan written or read is validated against the shipped schema."""

from __future__ import annotations

import json
import os

from ftsc.compiler.schema import plan_invariant_problems, validate_plan_data
from ftsc.io import JsonFileError, atomic_write_text, read_json
from ftsc.migrations import MigrationError, upgrade, warn_upgraded

Plan = dict[str, object]


class PlanError(Exception):
    """A plan that cannot be written or read: the message says which and why."""


def dumps(plan: Plan) -> str:
    """The plan as JSON text, after checking it against the plan schema."""
    problems = validate_plan_data(plan)
    if problems:
        raise PlanError("the plan does not fit the plan schema: " + "; ".join(problems[:3]))
    return json.dumps(plan, indent=2) + "\n"


def write_plan(plan: Plan, path: str | os.PathLike[str]) -> None:
    """Validate, then write atomically: a reader never sees a partial or invalid plan."""
    text = dumps(plan)
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise PlanError(f"{os.fspath(path)}: cannot write the plan ({exc.strerror or exc})") from None


def read_plan(path: str | os.PathLike[str]) -> Plan:
    """A plan file, validated. An older plan version is upgraded in memory (the one place this happens
    on read) with one FormatUpgradedWarning naming `ftsc upgrade`; the file is left as it is."""
    where = os.fspath(path)
    try:
        data = read_json(path)
    except JsonFileError as exc:
        raise PlanError(str(exc)) from None
    try:
        plan, steps = upgrade("plan", data)
    except MigrationError as exc:
        raise PlanError(f"{where}: {exc}") from None
    if steps:
        warn_upgraded(where, steps)
    problems = validate_plan_data(plan)
    if problems and problems == plan_invariant_problems(plan):
        listed = "; ".join(problems[:3])
        raise PlanError(f"{where}: an inconsistent plan: {listed}; compile the schedule again [E603]")
    if problems:
        raise PlanError(f"{where}: not a valid plan: " + "; ".join(problems[:3]))
    return plan


def plan_fingerprint(plan: Plan) -> str:
    """`sha256:` + hex SHA-256 of what the plan makes the runtime do: namespace, settings and phases.

    Where the plan came from (ftsc version, source path and hash, phase source lines) and what it only
    reports (element counts) do not count, so recompiling an unchanged schedule elsewhere gives the same
    fingerprint; checkpoints record it to refuse resuming under another plan. A `namespace.prefix` counts
    only when set, so a plan upgraded from version 1 keeps the fingerprint its checkpoints recorded.
    """
    import hashlib  # here, not at module level: its OpenSSL binding is slow to load

    namespace = plan.get("namespace")
    phases = plan.get("phases")
    essence: dict[str, object] = {
        "namespace": namespace.get("fingerprint") if isinstance(namespace, dict) else None,
        "settings": plan.get("settings"),
        "phases": [
            {key: value for key, value in phase.items() if key not in ("line", "elements")}
            for phase in (phases if isinstance(phases, list) else [])
            if isinstance(phase, dict)
        ],
        "frozen": plan.get("frozen"),
    }
    prefix = namespace.get("prefix") if isinstance(namespace, dict) else None
    if prefix:
        essence["prefix"] = prefix
    text = json.dumps(essence, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
