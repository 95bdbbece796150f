"""Reading and writing plan files: every plan written or read is validated against the shipped schema."""

from __future__ import annotations

import json
import os

from ftsc.compiler.schema import validate_plan_data
from ftsc.io import JsonFileError, atomic_write_text, read_json

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
    try:
        data = read_json(path)
    except JsonFileError as exc:
        raise PlanError(str(exc)) from None
    problems = validate_plan_data(data)
    if problems:
        raise PlanError(f"{os.fspath(path)}: not a valid plan: " + "; ".join(problems[:3]))
    assert isinstance(data, dict)
    return data
