"""The precision plugin: Lightning's names, one's own plugins, and the module / tensor init-context split.

The export must build modules under the plugin's *module* init context (where plugins such as
Transformer Engine replace layer classes) and never under its *tensor* init context. A plugin of our
own makes that visible: both contexts replace `nn.Linear`, each with a class of its own, and the
tensor context also counts its uses.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("lightning")

from lightning.fabric.plugins.precision import HalfPrecision as FabricHalfPrecision  # noqa: E402
from lightning.pytorch.plugins.precision import (  # noqa: E402
    DoublePrecision,
    HalfPrecision,
    MixedPrecision,
    Precision,
)
from torch import nn  # noqa: E402

from ftsc.cli import main  # noqa: E402
from ftsc.compiler.namespace import load_namespace  # noqa: E402
from ftsc.namespaces import (  # noqa: E402
    PrecisionError,
    export_namespace,
    module_init_context,
    precision_names,
    resolve_precision,
    tensor_init_context,
)

_counter = itertools.count()

PLUGINS = '''
import contextlib

import torch
from torch import nn
import lightning.pytorch as pl
from lightning.pytorch.plugins.precision import Precision


class ModuleLinear(nn.Linear):
    """What the module init context puts in place of nn.Linear."""


class TensorLinear(nn.Linear):
    """What the tensor init context would put in place of nn.Linear, if it were (wrongly) used."""


@contextlib.contextmanager
def replacing(replacement, counter, key):
    counter[key] += 1
    original = nn.Linear
    nn.Linear = replacement
    try:
        yield
    finally:
        nn.Linear = original


class ReplacingPrecision(Precision):
    precision = "32-true"

    def __init__(self):
        self.entered = {"module": 0, "tensor": 0}

    def module_init_context(self):
        return replacing(ModuleLinear, self.entered, "module")

    def tensor_init_context(self):
        return replacing(TensorLinear, self.entered, "tensor")


class RaisingTensorPrecision(ReplacingPrecision):
    def tensor_init_context(self):
        raise AssertionError("tensor_init_context must not be used to build modules")


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 4)
        self.norm = nn.LayerNorm(4)
        self.out = nn.Linear(4, 2)


class LitModel(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.head = nn.Linear(3, 1)
        self.body = None

    def configure_model(self):
        if self.body is None:
            self.body = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 3))


PLUGIN_INSTANCE = ReplacingPrecision()


def make_plugin():
    return ReplacingPrecision()


def not_a_plugin():
    return "bf16-true"
'''


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    name = f"ftsc_precision_toys_{next(_counter)}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(PLUGINS))
    monkeypatch.syspath_prepend(str(tmp_path))
    __import__(name)
    yield sys.modules[name]
    sys.modules.pop(name, None)


def types_of(namespace_modules: object) -> dict[str, str]:
    return {m.name: m.type for m in namespace_modules}  # type: ignore[attr-defined]


# --- the module / tensor split -----------------------------------------------------------------------


def test_modules_are_built_under_the_module_context_only(plugins: ModuleType) -> None:
    plugin = plugins.ReplacingPrecision()
    result = export_namespace(plugins.Model, precision=plugin)
    assert types_of(result.namespace.modules) == {
        "": "Model",
        "proj": "ModuleLinear",  # replaced: module_init_context was used
        "norm": "LayerNorm",
        "out": "ModuleLinear",
    }
    assert plugin.entered == {"module": 1, "tensor": 0}  # the tensor context was never entered
    assert nn.Linear is torch.nn.modules.linear.Linear  # the replacement was undone
    assert all(p.device.type == "meta" for p in result.model.parameters())


def test_a_tensor_context_that_raises_does_not_disturb_the_build(plugins: ModuleType) -> None:
    plugin = plugins.RaisingTensorPrecision()
    result = export_namespace(plugins.Model, precision=plugin)
    assert types_of(result.namespace.modules)["proj"] == "ModuleLinear"
    with pytest.raises(AssertionError, match="must not be used to build modules"):
        plugin.tensor_init_context()  # it does raise when used


def test_configure_model_runs_under_a_fresh_module_context(plugins: ModuleType) -> None:
    plugin = plugins.RaisingTensorPrecision()
    result = export_namespace(plugins.LitModel, precision=plugin)
    assert types_of(result.namespace.modules) == {
        "": "LitModel",
        "head": "ModuleLinear",
        "body": "Sequential",
        "body.0": "ModuleLinear",
        "body.1": "ModuleLinear",
    }
    assert plugin.entered == {"module": 2, "tensor": 0}  # construction, then configure_model
    assert result.allocated == ()


def test_the_tensor_context_helper_is_for_tensors(plugins: ModuleType) -> None:
    plugin = plugins.ReplacingPrecision()
    with tensor_init_context(plugin, "meta"):
        tensor = torch.empty(3)
        built_here = nn.Linear(2, 2)
    assert tensor.device.type == "meta"
    assert plugin.entered == {"module": 0, "tensor": 1}
    assert type(built_here).__name__ == "TensorLinear"  # why export never builds modules under it
    with module_init_context(plugin):
        assert nn.Linear is plugins.ModuleLinear
    with module_init_context(None), tensor_init_context(None):
        assert nn.Linear is torch.nn.modules.linear.Linear


def test_a_plugin_from_a_target_string(plugins: ModuleType) -> None:
    for spec in (f"{plugins.__name__}:make_plugin", f"{plugins.__name__}.ReplacingPrecision"):
        result = export_namespace(plugins.Model, precision=spec)
        assert types_of(result.namespace.modules)["out"] == "ModuleLinear"
        assert isinstance(result.precision, plugins.ReplacingPrecision)
    assert resolve_precision(f"{plugins.__name__}:PLUGIN_INSTANCE") is plugins.PLUGIN_INSTANCE


def test_the_cli_takes_a_plugin_target(
    plugins: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ns.json"
    status = main(
        [
            "namespace",
            "export",
            f"{plugins.__name__}:Model",
            "-o",
            str(out),
            "--precision",
            f"{plugins.__name__}:make_plugin",
        ]
    )
    assert status == 0, capsys.readouterr().err
    assert types_of(load_namespace(out).modules)["proj"] == "ModuleLinear"


# --- Lightning's names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "plugin_class", "plugin_precision", "dtype"),
    [
        ("32-true", Precision, "32-true", torch.float32),
        ("32", Precision, "32-true", torch.float32),
        (32, Precision, "32-true", torch.float32),
        ("64-true", DoublePrecision, "64-true", torch.float64),
        ("64", DoublePrecision, "64-true", torch.float64),
        ("bf16-true", HalfPrecision, "bf16-true", torch.bfloat16),
        ("16-true", HalfPrecision, "16-true", torch.float16),
        ("bf16-mixed", MixedPrecision, "bf16-mixed", torch.float32),
        ("bf16", MixedPrecision, "bf16-mixed", torch.float32),
        # on the CPU accelerator Lightning turns fp16 AMP into bf16 AMP; weights stay float32 either way
        ("16-mixed", MixedPrecision, "bf16-mixed", torch.float32),
    ],
)
def test_lightning_names_resolve_as_the_trainer_does(
    name: str | int, plugin_class: type, plugin_precision: str, dtype: torch.dtype
) -> None:
    plugin = resolve_precision(name)
    assert type(plugin) is plugin_class
    assert plugin is not None and plugin.precision == plugin_precision
    with torch.device("meta"), module_init_context(plugin):
        assert nn.Linear(2, 2).weight.dtype == dtype


def test_every_lightning_name_is_known() -> None:
    names = precision_names()
    assert {
        "32-true",
        "bf16-mixed",
        "16-mixed",
        "bf16-true",
        "16-true",
        "64-true",
        "transformer-engine",
    } <= set(names)
    assert {"16", "32", "64", "bf16"} <= set(names)


@pytest.mark.skipif(
    importlib.util.find_spec("transformer_engine") is not None, reason="transformer_engine is installed"
)
def test_transformer_engine_without_the_package_says_so() -> None:
    with pytest.raises(
        PrecisionError, match=r"precision 'transformer-engine' cannot be used here: .*transformer_engine"
    ):
        resolve_precision("transformer-engine")


def test_unknown_names_and_wrong_plugins_are_refused(plugins: ModuleType) -> None:
    with pytest.raises(PrecisionError, match=r"unknown precision 'fp8'; Lightning accepts .*bf16-true.*"):
        resolve_precision("fp8")
    with pytest.raises(PrecisionError, match=r"unknown precision 'BF16-TRUE'"):
        resolve_precision("BF16-TRUE")
    with pytest.raises(PrecisionError, match=r"returned str, not a Lightning Precision plugin"):
        resolve_precision(f"{plugins.__name__}:not_a_plugin")
    with pytest.raises(PrecisionError, match=r"no module named 'ftsc_no_such_plugins'"):
        resolve_precision("ftsc_no_such_plugins:Plugin")
    with pytest.raises(PrecisionError, match=r"must be a name or a Lightning Precision plugin, not float"):
        resolve_precision(16.0)  # type: ignore[arg-type]


def test_plugin_instances_pass_through_fabric_ones_too() -> None:
    plugin = FabricHalfPrecision("bf16-true")
    assert resolve_precision(plugin) is plugin
    assert resolve_precision(None) is None
    model = export_namespace(lambda: nn.Linear(2, 2), precision=plugin)
    assert {p.dtype for p in model.namespace.parameters} == {"bfloat16"}
