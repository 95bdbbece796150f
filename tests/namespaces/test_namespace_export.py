"""Exporting namespaces from real models on the meta device: names, shapes, dtypes, modules, aliases.

Every model here is built twice: by the export (meta device, nothing allocated) and live on the CPU;
the two namespaces must be equal, so the export records exactly what the model has.
"""

from __future__ import annotations

import itertools
import math
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("lightning")

import lightning.pytorch as pl  # noqa: E402
from torch import nn  # noqa: E402

from ftsc.compiler.namespace import Namespace, load_namespace  # noqa: E402
from ftsc.compiler.schema import validate_namespace_data  # noqa: E402
from ftsc.namespaces import (  # noqa: E402
    BuildError,
    ReturnTypeError,
    TargetError,
    TargetImportError,
    build_model,
    export_namespace,
    namespace_from_module,
    off_meta,
    resolve_target,
    write_namespace,
)
from ftsc.namespaces.target import lookup_target, split_target  # noqa: E402

_counter = itertools.count()

TOYS = '''
import torch
from torch import nn
import lightning.pytorch as pl

CALLS = {"configure_model": 0, "configure_sharded_model": 0}


class TinyLM(nn.Module):
    """A toy LM whose head shares the embedding's weight."""

    def __init__(self, vocab=11, hidden=4, layers=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, hidden)
        self.layers = nn.ModuleList(
            nn.Sequential(nn.Linear(hidden, hidden), nn.LayerNorm(hidden)) for _ in range(layers)
        )
        self.lm_head = nn.Linear(hidden, vocab, bias=False)
        self.lm_head.weight = self.embed.weight
        self.register_buffer("positions", torch.arange(8))


class SharedBlock(nn.Module):
    """The same submodule registered under two names: each of its parameters gets an alias."""

    def __init__(self):
        super().__init__()
        self.first = nn.Linear(3, 3)
        self.second = self.first
        self.out = nn.Linear(3, 1)


class Frozen(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Linear(4, 4)
        self.head = nn.Linear(4, 2)
        self.backbone.requires_grad_(False)


class LitWithConfigure(pl.LightningModule):
    """Layers made in configure_model (idempotent, as Lightning asks)."""

    def __init__(self):
        super().__init__()
        self.head = nn.Linear(8, 2)
        self.body = None

    def configure_model(self):
        CALLS["configure_model"] += 1
        if self.body is None:
            self.body = nn.Sequential(nn.Linear(5, 8), nn.GELU(), nn.Linear(8, 8))


class LitPlain(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(2, 2)


class LitLegacy(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(2, 2)

    def configure_sharded_model(self):
        CALLS["configure_sharded_model"] += 1
        self.b = nn.Linear(2, 3)


class ExplicitDevice(nn.Module):
    """Code that pins a device defeats the meta device; the export says so."""

    def __init__(self):
        super().__init__()
        self.ok = nn.Linear(2, 2)
        self.pinned = nn.Parameter(torch.zeros(3, device="cpu"))


def build_tiny():
    return TinyLM(vocab=13, hidden=6, layers=3)


def seven():
    return 7


def broken():
    raise ValueError("the factory is broken")


class Factories:
    @staticmethod
    def small():
        return TinyLM(vocab=5, hidden=2, layers=1)


NOT_CALLABLE = 42
INSTANCE = nn.Linear(2, 2)
'''


@pytest.fixture
def toys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The toy models as a freshly named, importable module (so every test gets its own copy)."""
    name = f"ftsc_export_toys_{next(_counter)}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(TOYS))
    monkeypatch.syspath_prepend(str(tmp_path))
    __import__(name)
    yield sys.modules[name]
    sys.modules.pop(name, None)


def all_on_meta(model: nn.Module) -> bool:
    tensors = [*model.parameters(), *model.buffers()]
    return bool(tensors) and all(tensor.device.type == "meta" for tensor in tensors)


def live(factory: Callable[[], object]) -> nn.Module:
    """The same model built normally on the CPU, configure_model included."""
    model = factory()
    assert isinstance(model, nn.Module)
    if isinstance(model, pl.LightningModule):
        model.configure_model()
    return model


# --- LightningModule and configure_model -------------------------------------------------------------


def test_configure_model_layers_are_exported_and_nothing_is_allocated(toys: ModuleType) -> None:
    result = export_namespace(f"{toys.__name__}:LitWithConfigure")
    assert result.namespace.names == (
        "head.weight",
        "head.bias",
        "body.0.weight",
        "body.0.bias",
        "body.2.weight",
        "body.2.bias",
    )
    assert ("body.1", "GELU") in [(m.name, m.type) for m in result.namespace.modules]
    assert toys.CALLS["configure_model"] == 1
    model = result.model
    assert all(parameter.device.type == "meta" for parameter in model.parameters())
    assert all_on_meta(model) and off_meta(model) == [] and result.allocated == ()
    assert result.namespace == namespace_from_module(live(toys.LitWithConfigure))


def test_lightning_module_without_configure_model_and_legacy_hook(toys: ModuleType) -> None:
    plain = export_namespace(toys.LitPlain)  # a factory object works as well as a TARGET string
    assert plain.namespace.names == ("net.weight", "net.bias")
    assert plain.namespace.model == "LitPlain"
    legacy = export_namespace(f"{toys.__name__}.LitLegacy")
    assert toys.CALLS["configure_sharded_model"] == 1
    assert legacy.namespace.names == ("a.weight", "a.bias", "b.weight", "b.bias")
    assert all_on_meta(legacy.model)


# --- precision dtypes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("precision", "dtype"),
    [
        (None, "float32"),
        ("32-true", "float32"),
        ("32", "float32"),
        ("bf16-mixed", "float32"),
        ("16-mixed", "float32"),
        ("bf16-true", "bfloat16"),
        ("16-true", "float16"),
        ("64-true", "float64"),
    ],
)
def test_precision_sets_the_recorded_dtype(toys: ModuleType, precision: str | None, dtype: str) -> None:
    before = torch.get_default_dtype()
    result = export_namespace(f"{toys.__name__}:LitWithConfigure", precision=precision)
    assert {p.dtype for p in result.namespace.parameters} == {dtype}  # configure_model's layers too
    assert torch.get_default_dtype() == before
    assert all_on_meta(result.model)


# --- tied and shared parameters ---------------------------------------------------------------------


def test_tied_weights_are_aliases_and_round_trip(toys: ModuleType, tmp_path: Path) -> None:
    result = export_namespace(f"{toys.__name__}:build_tiny", model_name="tiny-lm")
    namespace = result.namespace
    assert namespace.aliases == {"lm_head.weight": "embed.weight"}
    assert "lm_head.weight" not in namespace and namespace.canonical("lm_head.weight") == "embed.weight"
    assert namespace.names[0] == "embed.weight" and namespace.parameters[0].shape == (13, 6)
    assert namespace.total_numel(["embed.weight", "lm_head.weight"]) == 13 * 6  # shared storage once
    assert namespace.model == "tiny-lm"
    assert validate_namespace_data(namespace.to_data()) == []
    path = tmp_path / "tiny.json"
    write_namespace(namespace, path)
    loaded = load_namespace(path)
    assert loaded == namespace and loaded.fingerprint() == namespace.fingerprint()
    assert Namespace.from_data(namespace.to_data()) == namespace
    assert loaded == namespace_from_module(live(toys.build_tiny), model="tiny-lm")


def test_a_shared_submodule_gives_an_alias_per_parameter(toys: ModuleType) -> None:
    namespace = export_namespace(toys.SharedBlock).namespace
    assert namespace.names == ("first.weight", "first.bias", "out.weight", "out.bias")
    assert namespace.aliases == {"second.weight": "first.weight", "second.bias": "first.bias"}
    assert [m.name for m in namespace.modules] == ["", "first", "out"]  # named_modules() lists it once


def test_shapes_dtypes_requires_grad_and_module_types(toys: ModuleType) -> None:
    namespace = export_namespace(toys.Frozen).namespace
    by_name = {p.name: p for p in namespace.parameters}
    assert by_name["backbone.weight"].requires_grad is False
    assert by_name["head.weight"].requires_grad is True
    assert by_name["head.weight"].shape == (2, 4) and by_name["head.bias"].shape == (2,)
    assert [(m.name, m.type) for m in namespace.modules] == [
        ("", "Frozen"),
        ("backbone", "Linear"),
        ("head", "Linear"),
    ]


def test_a_parameter_created_on_an_explicit_device_is_reported(toys: ModuleType) -> None:
    result = export_namespace(toys.ExplicitDevice)
    assert result.allocated == ("pinned",)
    assert result.namespace.names == ("pinned", "ok.weight", "ok.bias")  # own parameters come first


# --- a 70B Llama-shaped model in a few lines of torch -------------------------------------------------


class _Attention(nn.Module):
    def __init__(self, hidden: int, heads: int, kv_heads: int) -> None:
        super().__init__()
        head_dim = hidden // heads
        self.q_proj = nn.Linear(hidden, heads * head_dim, bias=False)
        self.k_proj = nn.Linear(hidden, kv_heads * head_dim, bias=False)
        self.v_proj = nn.Linear(hidden, kv_heads * head_dim, bias=False)
        self.o_proj = nn.Linear(heads * head_dim, hidden, bias=False)


class _MLP(nn.Module):
    def __init__(self, hidden: int, ffn: int) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(hidden, ffn, bias=False)
        self.up_proj = nn.Linear(hidden, ffn, bias=False)
        self.down_proj = nn.Linear(ffn, hidden, bias=False)


class _Layer(nn.Module):
    def __init__(self, hidden: int, ffn: int, heads: int, kv_heads: int) -> None:
        super().__init__()
        self.self_attn = _Attention(hidden, heads, kv_heads)
        self.mlp = _MLP(hidden, ffn)
        self.input_layernorm = nn.RMSNorm(hidden)
        self.post_attention_layernorm = nn.RMSNorm(hidden)


class _Llama(nn.Module):
    def __init__(self, hidden: int, layers: int, ffn: int, heads: int, kv_heads: int, vocab: int) -> None:
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, hidden)
        self.layers = nn.ModuleList(_Layer(hidden, ffn, heads, kv_heads) for _ in range(layers))
        self.norm = nn.RMSNorm(hidden)
        self.lm_head = nn.Linear(hidden, vocab, bias=False)


def test_a_70b_llama_shaped_model_exports_on_the_meta_device() -> None:
    result = export_namespace(
        lambda: _Llama(hidden=8192, layers=80, ffn=28672, heads=64, kv_heads=8, vocab=128256),
        precision="bf16-true",
    )
    namespace = result.namespace
    assert len(namespace) == 2 + 80 * 9 + 1
    assert namespace.names[-1] == "lm_head.weight"
    total = namespace.total_numel(namespace.names)
    assert total is not None and math.isclose(total / 1e9, 70.55, abs_tol=0.01)
    assert {p.dtype for p in namespace.parameters} == {"bfloat16"}
    assert all_on_meta(result.model)


# --- errors: the factory's result, the factory's own exceptions -----------------------------------------


def test_a_factory_that_returns_no_module_is_refused(toys: ModuleType) -> None:
    with pytest.raises(ReturnTypeError, match=r"returned a builtins\.int, not a torch\.nn\.Module"):
        export_namespace(f"{toys.__name__}:seven")


def test_an_exception_in_the_model_code_is_a_build_error_with_its_cause(toys: ModuleType) -> None:
    before = torch.get_default_dtype()
    with pytest.raises(BuildError, match="the factory is broken") as caught:
        export_namespace(f"{toys.__name__}:broken", precision="bf16-true")
    assert isinstance(caught.value.__cause__, ValueError)
    assert torch.get_default_dtype() == before  # the precision's dtype context was left


def test_build_model_returns_the_meta_model(toys: ModuleType) -> None:
    model = build_model(toys.build_tiny, precision="16-true")
    assert isinstance(model, toys.TinyLM)
    assert model.embed.weight.dtype == torch.float16 and model.positions.device.type == "meta"


# --- namespace_from_module --------------------------------------------------------------------------------


def test_namespace_from_module_of_a_live_module_and_an_adapter(toys: ModuleType) -> None:
    module = toys.build_tiny()
    namespace = namespace_from_module(module)
    assert namespace.model == "TinyLM" and namespace.adapter == "default"
    assert namespace.aliases == {"lm_head.weight": "embed.weight"}

    seen: list[Namespace] = []

    class Renaming:
        def schedule_namespace(self, namespace: Namespace) -> Namespace:
            seen.append(namespace)
            return Namespace.from_names([f"model.{n}" for n in namespace.names], adapter="renaming")

    adapted = namespace_from_module(module, adapter=Renaming(), model="m")
    assert seen == [namespace_from_module(module, model="m")]
    assert adapted.adapter == "renaming" and adapted.names[0] == "model.embed.weight"


def test_namespace_from_module_refuses_what_does_not_fit(toys: ModuleType) -> None:
    with pytest.raises(TypeError, match=r"takes a torch\.nn\.Module, not int"):
        namespace_from_module(3)  # type: ignore[arg-type]

    class NoMethod:
        pass

    class WrongResult:
        def schedule_namespace(self, namespace: Namespace) -> object:
            return list(namespace.names)

    with pytest.raises(TypeError, match="has no schedule_namespace"):
        namespace_from_module(toys.Frozen(), adapter=NoMethod())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="returned list, not a Namespace"):
        namespace_from_module(toys.Frozen(), adapter=WrongResult())  # type: ignore[arg-type]


# --- TARGET resolution ------------------------------------------------------------------------------------


def test_target_forms_resolve_to_the_same_callable(toys: ModuleType) -> None:
    name = toys.__name__
    assert resolve_target(f"{name}:build_tiny") is toys.build_tiny
    assert resolve_target(f"{name}.build_tiny") is toys.build_tiny
    assert resolve_target(f"{name}:Factories.small") is toys.Factories.small
    assert resolve_target(f"{name}.Factories.small") is toys.Factories.small
    assert resolve_target(f"{name}:TinyLM") is toys.TinyLM
    assert resolve_target("collections.OrderedDict") is __import__("collections").OrderedDict
    assert lookup_target(f"{name}:NOT_CALLABLE") == 42


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty TARGET"),
        (" mod:f", "leading or trailing spaces"),
        ("a:b:c", "more than one `:`"),
        (":f", "no module before `:`"),
        ("mod:", "nothing after `:`"),
        ("pkg..mod:f", "has an empty part"),
        ("mod:f.", "has an empty part"),
        ("1mod:f", "'1mod' in the module is not a Python identifier"),
        ("models/tiny.py:build", "a file path is not accepted"),
        ("justamodule", "names a module but not the callable"),
    ],
)
def test_malformed_targets(spec: str, message: str) -> None:
    with pytest.raises(TargetError, match=message):
        split_target(spec)


def test_targets_that_name_nothing_usable(toys: ModuleType) -> None:
    name = toys.__name__
    with pytest.raises(TargetError, match=r"no module named 'ftsc_no_such_module_xyz'"):
        resolve_target("ftsc_no_such_module_xyz:build")
    with pytest.raises(TargetError, match=r"no module named 'ftsc_no_such_module_xyz'"):
        resolve_target("ftsc_no_such_module_xyz.sub.build")
    with pytest.raises(
        TargetError, match=rf"'{name}' has no attribute 'build_tine'; did you mean 'build_tiny'\?"
    ):
        resolve_target(f"{name}:build_tine")
    with pytest.raises(
        TargetError, match=rf"'{name}' has no attribute 'nope' \(and there is no module named '{name}.nope'\)"
    ):
        resolve_target(f"{name}.nope.build")
    with pytest.raises(TargetError, match=r"is a module, not a callable"):
        resolve_target(f"{name}:torch")
    with pytest.raises(TargetError, match=r"is a int value, not a callable"):
        resolve_target(f"{name}:NOT_CALLABLE")
    with pytest.raises(TargetError, match=r"already built model \(Linear instance\)"):
        resolve_target(f"{name}:INSTANCE")


def test_a_module_that_fails_to_import_is_reported_as_such(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = next(_counter)
    (tmp_path / f"ftsc_raises_{index}.py").write_text("raise RuntimeError('boom at import')\n")
    (tmp_path / f"ftsc_needs_{index}.py").write_text("import ftsc_missing_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(TargetImportError, match="RuntimeError: boom at import") as caught:
        resolve_target(f"ftsc_raises_{index}:build")
    assert isinstance(caught.value.__cause__, RuntimeError)
    # the module exists: its missing dependency is the problem, not a shorter prefix to try
    with pytest.raises(
        TargetImportError, match="it imports 'ftsc_missing_dependency_xyz', which is not installed"
    ):
        resolve_target(f"ftsc_needs_{index}.build")


def test_a_lookup_that_raises_is_an_import_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"ftsc_lazy_{next(_counter)}"
    lazy = "def __getattr__(name):\n    raise RuntimeError(f'{name} needs an optional backend')\n"
    (tmp_path / f"{name}.py").write_text(lazy)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(
        TargetImportError, match=r"looking up 'Model' in .* RuntimeError: Model needs an optional"
    ):
        resolve_target(f"{name}:Model")
    sys.modules.pop(name, None)


def test_the_current_folder_is_searched_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"ftsc_cwd_models_{next(_counter)}"
    (tmp_path / f"{name}.py").write_text("from torch import nn\n\ndef build():\n    return nn.Linear(2, 3)\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    path_before = list(sys.path)
    try:
        namespace = export_namespace(f"{name}:build").namespace
    finally:
        sys.modules.pop(name, None)
    assert namespace.names == ("weight", "bias")
    assert sys.path == path_before
