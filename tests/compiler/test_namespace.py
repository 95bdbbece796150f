"""Namespace files and plans against the shipped JSON Schemas; the Namespace type and its fingerprint."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftsc.compiler import schema
from ftsc.compiler.namespace import (
    ModuleInfo,
    Namespace,
    NamespaceError,
    ParameterInfo,
    load_namespace,
)
from ftsc.compiler.positions import Positions
from ftsc.compiler.schema import (
    check_schemas,
    dotted_names_ok,
    load_schema,
    plan_invariant_problems,
    validate_namespace_data,
    validate_plan_data,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "namespaces"
SHIPPED = ["bert-base", "gpt2", "llama-3-8b", "mixtral-8x7b"]
NAME_PATTERN = re.compile(load_schema("namespace")["$defs"]["dottedName"]["pattern"])


def raw(model: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{model}.json").read_text(encoding="utf-8"))
    return data


def jsonschema_only(kind: schema.SchemaName, data: object) -> list[str]:
    """Validation by jsonschema alone, bypassing the fast paths."""
    return schema._validate(kind, data)


def write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# --- the schemas themselves ---------------------------------------------------------------------------------


def test_shipped_schemas_are_valid_and_documented() -> None:
    assert check_schemas() == []


def test_undocumented_property_is_reported() -> None:
    sample = {"properties": {"a": {"title": "A", "description": "x"}, "b": {"title": "B"}}}
    assert list(schema._undocumented(sample, ())) == ["properties/b: no description"]


@pytest.mark.parametrize(
    ("kind", "identifier"),
    [
        ("namespace", "https://ftsc.dev/schemas/namespace-1.json"),
        ("plan", "https://ftsc.dev/schemas/plan-2.json"),
    ],
)
def test_schema_ids_and_copies(kind: schema.SchemaName, identifier: str) -> None:
    loaded = load_schema(kind)
    assert loaded["$id"] == identifier
    loaded["title"] = "mutated"
    assert load_schema(kind)["title"] != "mutated"  # callers get a copy


def test_importing_namespace_does_not_import_jsonschema() -> None:
    code = "import sys, ftsc.compiler.namespace; print('jsonschema' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- shipped namespaces -------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", SHIPPED)
def test_shipped_namespace_loads_in_order(model: str) -> None:
    data = raw(model)
    assert jsonschema_only("namespace", data) == []
    assert schema._namespace_surely_valid(data)  # the fast path serves real files
    namespace = load_namespace(EXAMPLES / f"{model}.json")
    assert namespace.model == model
    assert namespace.adapter == "default"
    assert namespace.path == str(EXAMPLES / f"{model}.json")
    assert len(namespace) == len(data["parameters"])
    assert list(namespace.names) == [entry["name"] for entry in data["parameters"]]
    assert all(namespace.index[name] == i for i, name in enumerate(namespace.names))
    assert [list(p.shape or ()) for p in namespace.parameters] == [e["shape"] for e in data["parameters"]]
    assert len(namespace.modules) == len(data["modules"])
    assert namespace.fingerprint() == Namespace.from_names(namespace.names).fingerprint()
    assert Namespace.from_data(namespace.to_data()) == namespace


def test_shipped_namespace_sizes() -> None:
    sizes = {model: len(load_namespace(EXAMPLES / f"{model}.json")) for model in SHIPPED}
    assert sizes == {"bert-base": 201, "gpt2": 148, "llama-3-8b": 291, "mixtral-8x7b": 291}
    llama = load_namespace(EXAMPLES / "llama-3-8b.json")
    assert llama.total_numel(llama.names) == 8_030_261_248


# --- Namespace ----------------------------------------------------------------------------------------------


def test_fingerprint_is_sha256_of_newline_joined_names() -> None:
    expected = "sha256:" + hashlib.sha256(b"a.weight\nb.bias").hexdigest()
    assert Namespace.from_names(["a.weight", "b.bias"]).fingerprint() == expected


def test_fingerprint_depends_on_names_and_order_only() -> None:
    base = Namespace.from_names(["a.w", "b.w", "c.w"])
    assert Namespace.from_names(["b.w", "a.w", "c.w"]).fingerprint() != base.fingerprint()
    assert Namespace.from_names(["a.w", "b.w", "c.x"]).fingerprint() != base.fingerprint()
    assert Namespace.from_names(["a.w", "b.w"]).fingerprint() != base.fingerprint()
    described = Namespace(
        [ParameterInfo("a.w", (2, 3), "float32", True), ParameterInfo("b.w", (4,)), ParameterInfo("c.w")],
        model="other",
        adapter="fsdp",
        modules=[ModuleInfo("a", "Linear")],
    )
    assert described.fingerprint() == base.fingerprint()
    assert described != base  # equality is about content, the fingerprint only about names


def test_empty_namespace() -> None:
    empty = Namespace.from_names([])
    assert len(empty) == 0
    assert empty.fingerprint() == "sha256:" + hashlib.sha256(b"").hexdigest()
    assert empty.total_numel([]) == 0
    assert Namespace.from_data(empty.to_data()) == empty


def test_container_protocol_and_repr() -> None:
    namespace = Namespace.from_names(["x.a", "x.b"], model="tiny")
    assert list(namespace) == ["x.a", "x.b"]
    assert "x.b" in namespace and "x.c" not in namespace
    assert namespace.index == {"x.a": 0, "x.b": 1}
    assert namespace.parameters == (ParameterInfo("x.a"), ParameterInfo("x.b"))
    assert repr(namespace) == "<Namespace tiny: 2 parameters>"
    assert hash(namespace) == hash(Namespace.from_names(["x.a", "x.b"], model="tiny"))


def test_numel() -> None:
    assert ParameterInfo("s", ()).numel == 1
    assert ParameterInfo("m", (2, 768)).numel == 1536
    assert ParameterInfo("u").numel is None
    namespace = Namespace([ParameterInfo("a", (2, 3)), ParameterInfo("b", (4,)), ParameterInfo("c")])
    assert namespace.total_numel(["a", "b"]) == 10
    assert namespace.total_numel(["a", "c"]) is None
    with pytest.raises(KeyError):
        namespace.total_numel(["zzz"])


def test_aliases() -> None:
    data = {
        "parameters": [
            {"name": "transformer.wte.weight", "shape": [10, 4]},
            {"name": "ln.bias", "shape": [4]},
        ],
        "aliases": [{"name": "lm_head.weight", "target": "transformer.wte.weight"}],
    }
    namespace = Namespace.from_data(data)
    assert namespace.aliases == {"lm_head.weight": "transformer.wte.weight"}
    assert namespace.canonical("lm_head.weight") == "transformer.wte.weight"
    assert namespace.canonical("ln.bias") == "ln.bias"
    assert "lm_head.weight" not in namespace  # aliases are not parameters
    assert namespace.total_numel(["lm_head.weight", "transformer.wte.weight"]) == 40  # counted once
    assert Namespace.from_data(namespace.to_data()) == namespace


@pytest.mark.parametrize(
    ("aliases", "message"),
    [
        ([{"name": "b", "target": "zzz"}], "aliases[0].target: alias target 'zzz' is not a parameter"),
        ([{"name": "a", "target": "a"}], "aliases[0].name: alias 'a' is also a parameter name"),
        (
            [{"name": "b", "target": "a"}, {"name": "b", "target": "a"}],
            "aliases[1].name: duplicate alias name 'b' (also aliases[0].name)",
        ),
    ],
)
def test_alias_problems(aliases: list[dict[str, str]], message: str) -> None:
    with pytest.raises(NamespaceError) as info:
        Namespace.from_data({"parameters": [{"name": "a"}], "aliases": aliases})
    assert message in info.value.message


def test_round_trip_keeps_everything() -> None:
    namespace = Namespace(
        [ParameterInfo("m.w", (3, 0), "bfloat16", False), ParameterInfo("m.b"), ParameterInfo("s", ())],
        model=None,
        adapter="fsdp",
        modules=[ModuleInfo("", "Root"), ModuleInfo("m", "Linear")],
        aliases={"t.w": "m.w"},
    )
    data = namespace.to_data()
    assert validate_namespace_data(data) == jsonschema_only("namespace", data) == []
    assert json.loads(json.dumps(data)) == data
    again = Namespace.from_data(json.loads(json.dumps(data)))
    assert again == namespace
    assert again.parameters[0] == ParameterInfo("m.w", (3, 0), "bfloat16", False)
    assert again.parameters[2].shape == ()


def test_from_data_accepts_integral_floats_in_shapes() -> None:
    namespace = Namespace.from_data({"parameters": [{"name": "a", "shape": [2.0, 3]}]})
    assert namespace.parameters[0].shape == (2, 3)
    assert all(type(d) is int for d in namespace.parameters[0].shape or ())


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["a", "b", "a"], "names[2]: duplicate parameter name 'a' (also names[0])"),
        (["a", ""], "names[1]: empty parameter name"),
        ([".a"], "names[0]: parameter name '.a' has an empty segment"),
        (["a."], "names[0]: parameter name 'a.' has an empty segment"),
        (["x", "a..b"], "names[1]: parameter name 'a..b' has an empty segment"),
        (["a\nb"], "names[0]: parameter name 'a\\nb' contains a line break"),
        (["a", 3], "names[1]: expected a string, got int"),
    ],
)
def test_from_names_rejects_bad_names(names: list[Any], message: str) -> None:
    with pytest.raises(NamespaceError) as info:
        Namespace.from_names(names)
    assert message in info.value.message
    assert info.value.path is None
    assert message in info.value.errors[0]


def test_from_names_rejects_a_single_string() -> None:
    with pytest.raises(TypeError):
        Namespace.from_names("model.weight")


# --- namespace file errors ----------------------------------------------------------------------------------


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "missing.json"
    with pytest.raises(NamespaceError) as info:
        load_namespace(path)
    error = info.value
    assert (error.path, error.line, error.column) == (str(path), None, None)
    assert "not found" in error.message and "ftsc namespace export" in error.message
    assert str(error).startswith(f"{path}: namespace file not found")


def test_invalid_json_has_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "ns.json"
    path.write_text('{"parameters": [\n  {"name": "a"}\n  {"name": "b"}\n]}\n', encoding="utf-8")
    with pytest.raises(NamespaceError) as info:
        load_namespace(path)
    error = info.value
    assert (error.line, error.column) == (3, 3)
    assert "not valid JSON" in error.message and "Expecting ',' delimiter" in error.message
    assert str(error).startswith(f"{path}:3:3: namespace file is not valid JSON")


def test_schema_violation_names_the_json_path(tmp_path: Path) -> None:
    data = {"parameters": [{"name": "a"}, {"name": "b"}, {"name": "c"}, {"name": ""}]}
    with pytest.raises(NamespaceError) as info:
        load_namespace(write(tmp_path / "ns.json", data))
    error = info.value
    assert error.errors == ('parameters[3].name: "" must not be empty',)
    assert "not a valid namespace file: parameters[3].name" in error.message
    assert "ftsc namespace export" in error.message
    assert error.line is None


def test_many_schema_violations_are_summarised(tmp_path: Path) -> None:
    data = {"parameters": [{"name": f"a..{i}"} for i in range(8)]}
    with pytest.raises(NamespaceError) as info:
        load_namespace(write(tmp_path / "ns.json", data))
    assert len(info.value.errors) == 8
    assert info.value.errors[0].startswith("parameters[0].name: must be a dotted name")
    assert "(and 3 more)" in info.value.message


def test_duplicate_name_in_file_names_both_indices(tmp_path: Path) -> None:
    data = {"parameters": [{"name": "x.w"}, {"name": "y.w"}, {"name": "x.w"}]}
    with pytest.raises(NamespaceError) as info:
        load_namespace(write(tmp_path / "ns.json", data))
    assert info.value.errors == (
        "parameters[2].name: duplicate parameter name 'x.w' (also parameters[0].name)",
    )


def test_duplicate_module_name(tmp_path: Path) -> None:
    data = {
        "parameters": [{"name": "a"}],
        "modules": [{"name": "m", "type": "A"}, {"name": "m", "type": "B"}],
    }
    with pytest.raises(NamespaceError, match=re.escape("modules[1].name: duplicate module name 'm'")):
        load_namespace(write(tmp_path / "ns.json", data))


def test_typo_key_gets_a_suggestion() -> None:
    with pytest.raises(NamespaceError) as info:
        Namespace.from_data({"parameters": [{"name": "a", "requires_gard": True}]})
    assert info.value.errors == (
        'parameters[0]: unknown key "requires_gard" (did you mean "requires_grad"?)',
    )


def test_newer_namespace_version() -> None:
    with pytest.raises(NamespaceError, match="namespace_version 2 is newer than this ftsc understands"):
        Namespace.from_data({"namespace_version": 2, "parameters": []})


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ([], "top level: expected object, got array []"),
        ({}, 'top level: missing required key "parameters"'),
        ({"parameters": {"a": 1}}, 'parameters: expected array, got object {"a": 1}'),
        ({"parameters": [{"name": "a", "shape": [2, -1]}]}, "parameters[0].shape[1]: -1 is less than"),
        ({"parameters": [{"name": "a", "dtype": 32}]}, "parameters[0].dtype: expected string or null"),
        (
            {"parameters": [{"name": "a"}], "modules": [{"name": "a"}]},
            'modules[0]: missing required key "type"',
        ),
        ({"namespace_version": 0, "parameters": []}, "namespace_version: expected 1, got 0"),
        ({"parameters": [], "adapter": ""}, 'adapter: "" must not be empty'),
    ],
)
def test_namespace_schema_messages(data: object, expected: str) -> None:
    messages = validate_namespace_data(data)
    assert any(message.startswith(expected) for message in messages), messages


def test_messages_stay_short_for_huge_values() -> None:
    messages = validate_namespace_data({"parameters": {"x": list(range(100_000))}})
    assert len(messages) == 1 and len(messages[0]) < 120


def test_schema_dollar_key_is_allowed() -> None:
    data = {"$schema": "https://ftsc.dev/schemas/namespace-1.json", "parameters": [{"name": "a"}]}
    assert jsonschema_only("namespace", data) == [] and schema._namespace_surely_valid(data)


# --- property tests -----------------------------------------------------------------------------------------

segment = st.text(st.characters(blacklist_characters=".\n\r"), min_size=1, max_size=6)
dotted_name = st.lists(segment, min_size=1, max_size=4).map(".".join)


@settings(max_examples=200, deadline=None)
@given(st.lists(dotted_name, unique=True, max_size=30), st.one_of(st.none(), st.text(max_size=10)))
def test_names_round_trip(names: list[str], model: str | None) -> None:
    namespace = Namespace.from_names(names, model=model)
    assert list(namespace.names) == names
    data = namespace.to_data()
    assert validate_namespace_data(data) == []
    again = Namespace.from_data(json.loads(json.dumps(data)))
    assert again == namespace
    assert again.fingerprint() == namespace.fingerprint()


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=8))
def test_fast_name_check_agrees_with_the_schema_pattern(name: str) -> None:
    assert dotted_names_ok([name]) == (name != "" and NAME_PATTERN.search(name) is not None)


json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-2, 3), st.floats(allow_nan=False), st.text(max_size=4)
)
near_names = st.one_of(
    dotted_name, st.sampled_from(["", ".", "a.", ".a", "a..b", "a\nb", "a\r"]), json_scalars
)


valid_parameter = st.fixed_dictionaries(
    {"name": dotted_name},
    optional={
        "shape": st.one_of(st.none(), st.lists(st.integers(0, 4), max_size=3)),
        "dtype": st.one_of(st.none(), st.text(min_size=1, max_size=3)),
        "requires_grad": st.one_of(st.none(), st.booleans()),
    },
)
valid_namespace_documents = st.fixed_dictionaries(
    {"parameters": st.lists(valid_parameter, max_size=4)},
    optional={
        "namespace_version": st.just(1),
        "model": st.one_of(st.none(), st.text(max_size=3)),
        "adapter": st.text(min_size=1, max_size=3),
        "modules": st.lists(
            st.fixed_dictionaries(
                {"name": st.one_of(st.just(""), dotted_name), "type": st.text(min_size=1, max_size=3)}
            ),
            max_size=3,
        ),
        "aliases": st.lists(st.fixed_dictionaries({"name": dotted_name, "target": dotted_name}), max_size=2),
        "$schema": st.text(max_size=3),
    },
)
junk = st.one_of(
    near_names, st.lists(json_scalars, max_size=2), st.dictionaries(st.text(max_size=2), json_scalars)
)


def locations(node: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) pair inside a JSON document, for mutating one place."""
    found: list[tuple[Any, Any]] = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        found.append((node, key))
        found.extend(locations(value))
    return found


@st.composite
def namespace_documents(draw: st.DrawFn) -> object:
    """A valid namespace document with up to two places changed to something probably invalid."""
    document: Any = draw(valid_namespace_documents)
    for _ in range(draw(st.integers(0, 2))):
        places = locations(document)
        action = draw(st.sampled_from(["replace", "delete", "add", "root"]))
        if action == "root":
            document = draw(junk)
        elif places:
            container, key = draw(st.sampled_from(places))
            if action == "replace":
                container[key] = draw(junk)
            elif action == "delete":
                del container[key]
            elif isinstance(container, dict):
                container[draw(st.sampled_from(["extra", "name", "shape", "type", "target"]))] = draw(junk)
    return document


@settings(max_examples=500, deadline=None)
@given(namespace_documents())
def test_fast_namespace_check_only_accepts_what_the_schema_accepts(data: object) -> None:
    if schema._namespace_surely_valid(data):
        assert jsonschema_only("namespace", data) == []
    assert validate_namespace_data(data) == jsonschema_only("namespace", data)


@settings(max_examples=100, deadline=None)
@given(valid_namespace_documents)
def test_fast_namespace_check_accepts_plain_valid_documents(data: dict[str, Any]) -> None:
    assert schema._namespace_surely_valid(data)
    assert jsonschema_only("namespace", data) == []


# --- plans --------------------------------------------------------------------------------------------------

SHA = "0123456789abcdef" * 4


def minimal_plan() -> dict[str, Any]:
    return {
        "plan_version": 2,
        "ftsc_version": "0.1.0",
        "source": {"path": "examples/bert.fts", "sha256": SHA},
        "namespace": {
            "model": "bert-base",
            "fingerprint": "sha256:" + SHA,
            "size": 3,
            "adapter": "default",
            "adapter_options": {},
            "prefix": "model",
        },
        "settings": {
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
            "early_stopping": {"monitor": "val_loss", "patience": 2},
            "checkpoint": None,
        },
        "phases": [
            {
                "index": 0,
                "name": "head",
                "params": ["classifier.weight", "classifier.bias"],
                "elements": 1538,
                "max_transition_epoch": 2,
                "lr": None,
                "optimizer": None,
                "lr_scheduler": None,
                "init_pg_lrs": None,
                "use_current_optimizer_pg_lrs": None,
                "line": 4,
            },
            {
                "index": 1,
                "name": None,
                "params": [],
                "elements": None,
                "max_transition_epoch": -1,
                "lr": 2e-5,
                "optimizer": {"class_path": "torch.optim.AdamW", "init_args": {"weight_decay": 0.01}},
                "lr_scheduler": {
                    "class_path": "torch.optim.lr_scheduler.ReduceLROnPlateau",
                    "init_args": {},
                    "config": {"interval": "epoch", "frequency": 1, "monitor": "val_loss", "name": None},
                },
                "init_pg_lrs": [1e-5],
                "use_current_optimizer_pg_lrs": True,
            },
        ],
        "frozen": ["embeddings.weight"],
        "frozen_elements": None,
    }


def test_minimal_plan_is_valid() -> None:
    plan = minimal_plan()
    assert validate_plan_data(plan) == jsonschema_only("plan", plan) == []
    plan["$schema"] = "https://ftsc.dev/schemas/plan-2.json"
    assert validate_plan_data(plan) == []


def mutated(path: str, value: Any) -> dict[str, Any]:
    """minimal_plan() with the dotted `path` set to `value` (or deleted when value is DELETE)."""
    plan = minimal_plan()
    *parents, last = path.split("/")
    node: Any = plan
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is DELETE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return plan


DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            "phases/0/max_transition_epochs",
            3,
            'phases[0]: unknown key "max_transition_epochs" (did you mean "max_transition_epoch"?)',
        ),
        (
            "phases/0/max_transition_epoch",
            -2,
            "phases[0].max_transition_epoch: -2 is less than the minimum of -1",
        ),
        (
            "namespace/fingerprint",
            "sha256:xyz",
            'namespace.fingerprint: must be "sha256:" followed by 64 lower-case hexadecimal digits, '
            'got "sha256:xyz"',
        ),
        ("namespace/fingerprint", SHA, "namespace.fingerprint: must be"),
        ("settings/lr", 0, "settings.lr: 0 must be greater than 0"),
        ("settings/max_depth", 1.5, "settings.max_depth: expected integer, got number 1.5"),
        ("settings/restore_best", "yes", 'settings.restore_best: expected boolean, got string "yes"'),
        ("settings/early_stopping", [], "settings.early_stopping: expected object or null, got array []"),
        ("settings/base_max_lr", 1e-3, 'settings: unknown key "base_max_lr"'),
        ("plan_version", 1, "plan_version: expected 2, got 1"),
        ("namespace/prefix", "model.", 'namespace.prefix: must be "" or a dotted module path'),
        ("phases/0/elements", -1, "phases[0].elements: -1 is less than the minimum of 0"),
        ("frozen", DELETE, 'top level: missing required key "frozen"'),
        ("source/sha256", "ABC", "source.sha256: must be 64 lower-case hexadecimal digits"),
        ("namespace/size", -1, "namespace.size: -1 is less than the minimum of 0"),
        ("phases/0/params/1", "classifier.weight", 'phases[0].params: "classifier.weight" is listed twice'),
        ("phases/0/params/1", "a..b", "phases[0].params[1]: must be a dotted name"),
        ("frozen/0", "", 'frozen[0]: "" must not be empty'),
        ("phases/0/line", 0, "phases[0].line: 0 is less than the minimum of 1"),
        ("phases/1/lr", -1e-3, "phases[1].lr: -0.001 must be greater than 0"),
        ("phases/1/optimizer", "AdamW", 'phases[1].optimizer: expected null or object, got string "AdamW"'),
        (
            "phases/1/optimizer/class_path",
            "torch optim",
            "phases[1].optimizer.class_path: must be a dotted Python",
        ),
        ("phases/1/optimizer/init_args", DELETE, 'phases[1].optimizer: missing required key "init_args"'),
        (
            "phases/1/lr_scheduler/config/interval",
            "epochs",
            'lr_scheduler.config.interval: "epochs" is not one of',
        ),
        (
            "phases/1/lr_scheduler/config/frequency",
            0,
            "lr_scheduler.config.frequency: 0 is less than the minimum",
        ),
        ("phases/1/lr_scheduler/config/strict", 1, "lr_scheduler.config.strict: expected boolean"),
        ("phases/1/lr_scheduler/config", DELETE, 'phases[1].lr_scheduler: missing required key "config"'),
        ("phases/1/init_pg_lrs", [0], "phases[1].init_pg_lrs[0]: 0 must be greater than 0"),
        ("phases", [], "phases: must have at least 1 item(s), has 0"),
    ],
)
def test_invalid_plans(path: str, value: Any, expected: str) -> None:
    plan = mutated(path, value)
    messages = validate_plan_data(plan)
    assert any(expected in message for message in messages), messages
    assert messages == jsonschema_only("plan", plan)


def test_plan_validation_of_large_name_lists_is_exact_and_short() -> None:
    names = [f"layers.{i}.w" for i in range(20_000)]
    plan = minimal_plan()
    plan["phases"][0]["params"] = names[:10_000]
    plan["frozen"] = names[10_000:]
    assert validate_plan_data(plan) == []
    plan["frozen"] = [*names[10_000:], "layers.10003.w", "bad..name"]
    messages = validate_plan_data(plan)
    assert messages == [
        'frozen: "layers.10003.w" is listed twice (at [3] and [10000])',
        "frozen[10001]: must be a dotted name: non-empty segments separated by single dots, no leading or "
        'trailing dot, no line break, got "bad..name"',
    ]
    assert max(map(len, messages)) < 200
    plan["frozen"].pop()
    assert validate_plan_data(plan) == ['frozen: "layers.10003.w" is listed twice (at [3] and [10000])']


plan_name_lists = st.lists(st.one_of(dotted_name, near_names), max_size=5)


@settings(max_examples=300, deadline=None)
@given(plan_name_lists, plan_name_lists, st.one_of(st.just(minimal_plan()), json_scalars))
def test_plan_fast_path_matches_jsonschema(params: list[Any], frozen: list[Any], base: Any) -> None:
    plan = copy.deepcopy(base)
    if isinstance(plan, dict):
        plan["phases"][0]["params"] = params
        plan["frozen"] = frozen
    # the schema's problems, else what a schema cannot see (phase indexes, names, parameters owned twice)
    assert validate_plan_data(plan) == (jsonschema_only("plan", plan) or plan_invariant_problems(plan))


@given(
    st.lists(st.one_of(st.none(), st.integers(0, 7), st.integers(0, 200)), min_size=1, max_size=120),
    st.data(),
)
def test_a_set_of_positions_totals_what_its_names_total(sizes: list[int | None], data: st.DataObject) -> None:
    """A selection's elements come from per-size bitsets when the sizes are few (up to 64) and name by
    name when they are many; either way the total is the sum, or None when a chosen size is unknown."""
    namespace = Namespace(
        [ParameterInfo(f"p{index}", None if size is None else (size,)) for index, size in enumerate(sizes)]
    )
    chosen = data.draw(st.sets(st.integers(0, len(sizes) - 1)))
    picked = [sizes[position] for position in chosen]
    expected = None if None in picked else sum(size for size in picked if size is not None)
    assert namespace.total_numel_at(Positions.of(chosen)) == expected
    assert namespace.total_numel_at(chosen) == expected
