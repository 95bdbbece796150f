"""The `fsdp` adapter's `auto_wrap` composed with the strategy's own `auto_wrap_policy` at run time: FSDP1
wraps what either selects, and the units are the ones `ftsc check` (E403) reasoned about for the same
options. The end-to-end run is tests/runtime/fsdp_case.py's `wrap` mode (2 CPU processes, gloo)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest
import torch.distributed as dist
from fsdp_case import WRAP, Head
from launch import run_case_script
from runtime_support import ToyModel
from torch import nn
from torch.distributed.fsdp.wrap import ModuleWrapPolicy, lambda_auto_wrap_policy

from ftsc.compiler.files import compile_file
from ftsc.compiler.modules import ModuleTable, units_of
from ftsc.namespaces.record import namespace_from_module
from ftsc.runtime.errors import RuntimeConfigError
from ftsc.runtime.fsdp_wrap import POLICY, AdapterWrapPolicy, compose


def toy_with_head() -> ToyModel:
    model = ToyModel()
    model.head = Head(16, 2)
    return model


def wrapped_by(policy: Any, model: nn.Module) -> set[str]:
    """The module names `policy` selects, in whichever form FSDP would run it."""
    names = {module: name for name, module in model.named_modules()}
    if isinstance(policy, AdapterWrapPolicy):
        return {names[module] for module in policy._run_policy(model, set(), {})}
    return {
        name for module, name in names.items() if policy(module=module, recurse=False, nonwrapped_numel=0)
    }


@pytest.mark.parametrize(
    "user",
    [
        ModuleWrapPolicy({Head}),  # what Lightning makes of `auto_wrap_policy={Head}`
        functools.partial(lambda_auto_wrap_policy, lambda_fn=lambda module: isinstance(module, Head)),
    ],
    ids=["policy-object", "callable"],
)
def test_the_adapter_adds_its_modules_to_the_users_policy(user: Any) -> None:
    model = toy_with_head()
    kwargs: dict[str, Any] = {POLICY: user}
    compose(kwargs, ["backbone.2"], model)
    assert wrapped_by(kwargs[POLICY], model) == {"head", "backbone.2"}
    compose(kwargs, ["backbone.0"], model)  # a second fit composes with the user's policy again
    assert wrapped_by(kwargs[POLICY], model) == {"head", "backbone.0"}


def test_types_and_patterns_select_without_a_user_policy() -> None:
    model = toy_with_head()
    kwargs: dict[str, Any] = {}
    compose(kwargs, ["Head", "backbone.{0..1}"], model)
    # `backbone.1` is the ReLU: a unit without parameters, as the compiler's module table has it too
    assert wrapped_by(kwargs[POLICY], model) == {"head", "backbone.0", "backbone.1"}


def test_an_entry_that_matches_no_module_is_refused_when_fsdp_wraps() -> None:
    model = toy_with_head()
    kwargs: dict[str, Any] = {}
    compose(kwargs, ["backbone.9"], model)
    with pytest.raises(
        RuntimeConfigError, match=r'E402: .*"backbone.9" matches no module type or module name'
    ):
        wrapped_by(kwargs[POLICY], model)


def compile_time_units(text: str, entries: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """The FSDP units E403 derives from `auto_wrap = entries` (the schedule's), and the error codes."""
    namespace = namespace_from_module(toy_with_head())
    result = compile_file(text, None, namespace=namespace)
    assert f"auto_wrap = {json.dumps(entries)}" in text  # the entries are the schedule's own
    table = ModuleTable(namespace)
    wrapped = {name for entry in entries for name in table.by_type_or_name(entry)[0]}
    units = {
        unit: [namespace.names[p] for p in members] for unit, members in units_of(namespace, wrapped).items()
    }
    return units, [d.code for d in result.diagnostics if d.is_error]


@pytest.mark.slow
@pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(), reason="needs gloo")
def test_a_unit_of_the_adapters_auto_wrap_is_an_fsdp_unit_at_run_time(tmp_path: Path) -> None:
    done = run_case_script("fsdp_case.py", "wrap", "flat", str(tmp_path))
    files = [tmp_path / f"wrap-rank{rank}.json" for rank in (0, 1)]
    assert all(f.exists() for f in files), done.stderr[-4000:]
    expected, codes = compile_time_units(WRAP, ["backbone.2", "head"])
    assert codes == []
    for file in files:
        live = json.loads(file.read_text())
        # `backbone.2` is a unit only because of the adapter: the user's policy names `Head`
        assert live["backbone.2"] == ["backbone.2.weight", "backbone.2.bias"]
        assert live == expected
    # without the adapter's `backbone.2`, the phases would split the root unit: E403 at compile time
    _, codes = compile_time_units(WRAP.replace('"backbone.2", ', ""), ["head"])
    assert codes == ["E403"]
