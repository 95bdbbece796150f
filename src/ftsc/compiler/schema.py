"""The JSON Schemas ftsc ships for namespace and plan files, and validation with readable messages.

The schemas are the contract editors and other tools see, so ftsc validates with the very same files.
jsonschema is imported only when something is validated: it costs about 0.1 s, which `ftsc check`
without a namespace and the language server's start must not pay.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator, ValidationError

__all__ = [
    "SCHEMA_IDS",
    "SchemaName",
    "check_schemas",
    "dotted_names_ok",
    "format_path",
    "load_schema",
    "plan_invariant_problems",
    "validate_namespace_data",
    "validate_plan_data",
]

SchemaName = Literal["namespace", "plan"]

_FILES: dict[SchemaName, str] = {"namespace": "namespace.schema.json", "plan": "plan.schema.json"}
SCHEMA_IDS: dict[SchemaName, str] = {
    "namespace": "https://ftsc.dev/schemas/namespace-1.json",
    "plan": "https://ftsc.dev/schemas/plan-2.json",
}
_MAX_VALUE_CHARS = 60
_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


@functools.cache
def _schema(name: SchemaName) -> dict[str, Any]:
    from importlib import resources  # pulls in zipfile, tempfile and more: only when a schema is used

    text = resources.files("ftsc.compiler").joinpath("schemas", _FILES[name]).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def load_schema(name: SchemaName) -> dict[str, Any]:
    """A copy of a shipped schema (e.g. for `ftsc` to print or an editor to fetch); mutate freely."""
    import copy

    return copy.deepcopy(_schema(name))


@functools.cache
def _validator(name: SchemaName) -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(_schema(name))


def validate_namespace_data(data: object) -> list[str]:
    """Problems of a parsed namespace file against the namespace schema; [] when it is valid.

    Only the shape is checked here; uniqueness of names is `Namespace.from_data`'s job. jsonschema
    needs about 0.1 ms per parameter (5 s for a 50,000-parameter MoE model), so a plain-Python check
    that accepts only documents the schema accepts answers first; jsonschema runs (and explains) only
    when that check finds something unusual. Tests hold the two in agreement.
    """
    if _namespace_surely_valid(data):
        return []
    return _validate("namespace", data)


def validate_plan_data(data: object) -> list[str]:
    """Problems of a parsed plan file against the plan schema; [] when it is valid.

    The parameter-name lists (`phases[].params`, `frozen`) are what make a plan large; they are
    checked here in bulk and left out of what jsonschema sees, unless something in them is wrong.
    """
    return _validate("plan", _without_good_name_lists(data)) or plan_invariant_problems(data)


def plan_invariant_problems(plan: object) -> list[str]:
    """What a plan that fits the schema may still get wrong, which a schema cannot say: each phase's
    `index` is its position (the runtime's depth), phase names are distinct, and every parameter is
    thawed by at most one phase and never also listed as frozen."""
    if type(plan) is not dict or type(plan.get("phases")) is not list:
        return []
    problems: list[str] = []
    names: dict[object, int] = {}
    owners: dict[str, int] = {}
    for position, phase in enumerate(plan["phases"]):
        if type(phase) is not dict:
            continue
        if phase.get("index") != position:
            problems.append(f"phases[{position}].index is {phase.get('index')}, not its position {position}")
        name = phase.get("name")
        if name is not None and name in names:
            problems.append(f"phases {names[name]} and {position} are both named `{name}`")
        names.setdefault(name, position)
        for param in phase.get("params") or ():
            first = owners.setdefault(param, position)
            if first != position:
                problems.append(f"`{param}` is thawed by phases {first} and {position}")
        if len(problems) > _MAX_INVARIANT_PROBLEMS:
            return problems
    frozen = plan.get("frozen")
    for param in frozen if type(frozen) is list else ():
        if param in owners:
            problems.append(f"`{param}` is listed as frozen and thawed by phase {owners[param]}")
            if len(problems) > _MAX_INVARIANT_PROBLEMS:
                break
    return problems


_MAX_INVARIANT_PROBLEMS = 10


def _without_good_name_lists(plan: object) -> object:
    """`plan` with each name list that satisfies the schema's item rules emptied (a shallow copy).

    Sound because no rule of the plan schema depends on those lists beyond their items and their
    uniqueness: an emptied list is valid exactly where the original's items were.
    """
    if type(plan) is not dict:
        return plan
    light = dict(plan)
    if _good_name_list(light.get("frozen")):
        light["frozen"] = []
    phases = light.get("phases")
    if type(phases) is list:
        light["phases"] = [
            {**phase, "params": []} if type(phase) is dict and _good_name_list(phase.get("params")) else phase
            for phase in phases
        ]
    return light


def _good_name_list(names: object) -> bool:
    return (
        type(names) is list
        and all(type(name) is str for name in names)
        and dotted_names_ok(names)
        and len(set(names)) == len(names)
    )


def _validate(name: SchemaName, data: object) -> list[str]:
    errors = sorted(_validator(name).iter_errors(data), key=_error_order)
    return list(dict.fromkeys(message for error in errors for message in _describe(error)))


_NAMESPACE_KEYS = frozenset(
    {"$schema", "namespace_version", "model", "adapter", "parameters", "modules", "aliases"}
)
_PARAMETER_KEYS = frozenset({"name", "shape", "dtype", "requires_grad"})
_MODULE_KEYS = frozenset({"name", "type"})
_ALIAS_KEYS = frozenset({"name", "target"})


def dotted_names_ok(names: Sequence[str]) -> bool:
    """Whether every name is a non-empty dotted name with no empty segment and no line break.

    The schema's `dottedName` rule over many names at once: a few C-speed passes over the names
    joined, instead of a regex call per name.
    """
    if not names:
        return True
    try:
        joined = "\n".join(names)
    except TypeError:
        return False  # a name that is not a string
    if joined.count("\n") != len(names) - 1 or "\r" in joined:
        return False  # some name holds a line break
    # With the separating newlines turned into dots, an empty name or segment shows as a dot at
    # either end or two dots in a row.
    dotted = joined.replace("\n", ".")
    return bool(dotted) and dotted[0] != "." and dotted[-1] != "." and ".." not in dotted


def _namespace_surely_valid(data: object) -> bool:
    """True only for documents the namespace schema accepts; False means "ask jsonschema".

    Deliberately narrow (exact JSON types, as `json.loads` makes them): anything unusual goes the
    slow way, where the messages come from.
    """
    if type(data) is not dict or not data.keys() <= _NAMESPACE_KEYS or "parameters" not in data:
        return False
    version = data.get("namespace_version", 1)
    adapter = data.get("adapter", "default")
    if (
        type(data.get("$schema", "")) is not str
        or type(version) is not int
        or version != 1
        or (data.get("model") is not None and type(data["model"]) is not str)
        or type(adapter) is not str
        or not adapter
    ):
        return False
    parameters, modules, aliases = data["parameters"], data.get("modules", []), data.get("aliases", [])
    if type(parameters) is not list or type(modules) is not list or type(aliases) is not list:
        return False
    names: list[str] = []
    for entry in parameters:
        if type(entry) is not dict or not entry.keys() <= _PARAMETER_KEYS:
            return False
        shape, dtype, requires_grad = entry.get("shape"), entry.get("dtype"), entry.get("requires_grad")
        if (
            (
                shape is not None
                and (type(shape) is not list or not all(type(d) is int and d >= 0 for d in shape))
            )
            or (dtype is not None and (type(dtype) is not str or not dtype))
            or (requires_grad is not None and type(requires_grad) is not bool)
        ):
            return False
        names.append(entry.get("name"))  # type: ignore[arg-type]  # a missing name fails the check below
    module_names: list[str] = []
    for entry in modules:
        if type(entry) is not dict or entry.keys() != _MODULE_KEYS:
            return False
        kind = entry["type"]
        if type(kind) is not str or not kind:
            return False
        if entry["name"] != "":  # the root module
            module_names.append(entry["name"])
    for entry in aliases:
        if type(entry) is not dict or entry.keys() != _ALIAS_KEYS:
            return False
        names.extend((entry["name"], entry["target"]))
    return all(type(n) is str for n in names) and dotted_names_ok(names) and dotted_names_ok(module_names)


def check_schemas() -> list[str]:
    """Problems of the shipped schemas themselves; [] when all is well (a test keeps it so).

    Beyond the draft 2020-12 metaschema this checks the `$id`s and that every property has a title and
    a description, which editors show on hover and in completion.
    """
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    problems: list[str] = []
    for name in _FILES:
        schema = _schema(name)
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            problems.append(f"{name}: {format_path(exc.absolute_path)}: {exc.message}")
        if schema.get("$id") != SCHEMA_IDS[name]:
            problems.append(f"{name}: $id is {schema.get('$id')!r}, expected {SCHEMA_IDS[name]!r}")
        if schema.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
            problems.append(f"{name}: $schema is not draft 2020-12")
        problems.extend(f"{name}: {problem}" for problem in _undocumented(schema, ()))
    return problems


def _undocumented(node: object, where: tuple[str | int, ...]) -> Iterator[str]:
    """Every `properties` entry lacking a title or a description, anywhere in a schema."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                for prop, sub in value.items():
                    missing = [
                        k for k in ("title", "description") if not (isinstance(sub, dict) and sub.get(k))
                    ]
                    if missing:
                        location = "/".join(map(str, (*where, key, prop)))
                        yield f"{location}: no {' or '.join(missing)}"
            yield from _undocumented(value, (*where, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _undocumented(item, (*where, index))


def format_path(parts: Iterable[str | int]) -> str:
    """`parameters[3].name` style path of a JSON value; "top level" for the document itself."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part, ensure_ascii=False)}]"
    return out or "top level"


def _error_order(error: ValidationError) -> tuple[tuple[tuple[int, int, str], ...], str]:
    """Document order (array items by index) so the first message is the first problem in the file."""
    path = tuple((0, part, "") if isinstance(part, int) else (1, 0, part) for part in error.absolute_path)
    return path, error.message


def _show(value: object) -> str:
    """A value as JSON, shortened: messages about a 50,000-item list must stay one line."""
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 3] + "..."


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Sequence):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


def _one_of_words(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _describe(error: ValidationError) -> Iterator[str]:
    """Human messages for one jsonschema error, each prefixed with the JSON path it is about."""
    where = format_path(error.absolute_path)
    keyword = error.validator
    expected: Any = error.validator_value
    value: Any = error.instance
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    if keyword in ("anyOf", "oneOf") and error.context:
        yield from _describe_alternatives(error, where)
    elif keyword == "type":
        types = [expected] if isinstance(expected, str) else list(expected)
        yield f"{where}: expected {_one_of_words(types)}, got {_json_type(value)} {_show(value)}"
    elif keyword == "required" and isinstance(value, dict):
        missing = [key for key in expected if key not in value]
        noun = "key" if len(missing) == 1 else "keys"
        yield f"{where}: missing required {noun} {', '.join(map(_show, missing))}"
    elif keyword == "additionalProperties" and isinstance(value, dict):
        known = list(schema.get("properties", {}))
        for key in (key for key in value if key not in known):
            yield f"{where}: unknown key {_show(key)}{_suggestion(key, known)}"
    elif keyword == "pattern" and "patternErrorMessage" in schema:
        # VS Code's JSON extension keyword: editors and ftsc show the same words.
        explanation = str(schema["patternErrorMessage"]).rstrip(".")
        yield f"{where}: {explanation[:1].lower()}{explanation[1:]}, got {_show(value)}"
    elif keyword == "const":
        yield f"{where}: expected {_show(expected)}, got {_show(value)}"
    elif keyword == "enum":
        yield f"{where}: {_show(value)} is not one of {', '.join(map(_show, expected))}"
    elif keyword == "minLength" and expected == 1:
        yield f"{where}: {_show(value)} must not be empty"
    elif keyword == "minimum":
        yield f"{where}: {_show(value)} is less than the minimum of {expected}"
    elif keyword == "exclusiveMinimum":
        yield f"{where}: {_show(value)} must be greater than {expected}"
    elif keyword == "minItems":
        yield f"{where}: must have at least {expected} item(s), has {len(value)}"
    elif keyword == "uniqueItems" and isinstance(value, list):
        yield f"{where}: {_duplicate_items(value)}"
    else:
        message = error.message
        yield f"{where}: {message if len(message) <= 200 else message[:197] + '...'}"


def _describe_alternatives(error: ValidationError, where: str) -> Iterator[str]:
    """For `null | {...}` style unions, report the branch the value was evidently meant for.

    jsonschema's own message repeats the whole value and says only that no branch matched.
    """
    branches: dict[int | str, list[ValidationError]] = {}
    for sub in error.context or ():
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    wrong_type = {
        branch: subs
        for branch, subs in branches.items()
        if all(sub.validator == "type" and not sub.relative_path for sub in subs)
    }
    meant = [subs for branch, subs in branches.items() if branch not in wrong_type]
    if len(meant) == 1:
        for sub in sorted(meant[0], key=_error_order):
            yield from _describe(sub)
        return
    if not meant:
        types: list[str] = []
        for subs in wrong_type.values():
            for sub in subs:
                expected: Any = sub.validator_value
                types.extend([expected] if isinstance(expected, str) else expected)
        value: Any = error.instance
        allowed = _one_of_words(list(dict.fromkeys(types)))
        yield f"{where}: expected {allowed}, got {_json_type(value)} {_show(value)}"
        return
    yield f"{where}: {_show(error.instance)} matches none of the allowed forms"


def _suggestion(key: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {_show(close[0])}?)"
    return f" (expected one of {', '.join(map(_show, known))})" if known else ""


def _duplicate_items(items: list[Any]) -> str:
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        key = json.dumps(item, sort_keys=True)
        if key in seen:
            return f"{_show(item)} is listed twice (at [{seen[key]}] and [{index}])"
        seen[key] = index
    return "items are not unique"
