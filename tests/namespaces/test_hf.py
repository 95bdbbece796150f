"""Hugging Face models from a config.json alone (the `hf` extra): no download, nothing allocated.

Configs are written by the tests (2-layer GPT-2 and BERT, a 70B Llama); the exported namespace must
equal the one of the same model built live on the CPU with `from_config`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from torch import nn  # noqa: E402

from ftsc.cli import COMMANDS, main  # noqa: E402
from ftsc.compiler.namespace import load_namespace  # noqa: E402
from ftsc.namespaces import HFError, export_namespace, namespace_from_module  # noqa: E402
from ftsc.namespaces.hf import default_auto_class, load_hf_config  # noqa: E402


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to reach the Hub fails loudly instead of hanging."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def gpt2(tmp_path: Path) -> Path:
    folder = tmp_path / "gpt2-tiny"
    folder.mkdir()
    config = {
        "model_type": "gpt2",
        "architectures": ["GPT2LMHeadModel"],
        "n_layer": 2,
        "n_embd": 16,
        "n_head": 2,
        "n_positions": 32,
        "vocab_size": 64,
        "bos_token_id": 0,
        "eos_token_id": 0,
    }
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.fixture
def bert(tmp_path: Path) -> Path:
    folder = tmp_path / "bert-tiny"
    config = transformers.BertConfig(
        vocab_size=50,
        hidden_size=8,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=16,
        max_position_embeddings=16,
        architectures=["BertForMaskedLM"],
    )
    config.save_pretrained(folder)
    return folder / "config.json"


def live_namespace(config_path: Path, auto_class: str) -> object:
    config = transformers.AutoConfig.from_pretrained(str(config_path), local_files_only=True)
    model = getattr(transformers, auto_class).from_config(config)
    return namespace_from_module(model)


def test_gpt2_from_its_config_folder(gpt2: Path) -> None:
    result = export_namespace(hf_config=gpt2)  # architectures: GPT2LMHeadModel
    namespace = result.namespace
    assert namespace.model == "GPT2LMHeadModel"
    assert namespace.names[:2] == ("transformer.wte.weight", "transformer.wpe.weight")
    assert namespace.names[-1] == "transformer.ln_f.bias"
    assert namespace.aliases == {"lm_head.weight": "transformer.wte.weight"}
    assert ("transformer.h.1", "GPT2Block") in [(m.name, m.type) for m in namespace.modules]
    assert all(p.device.type == "meta" for p in result.model.parameters()) and result.allocated == ()
    assert namespace == live_namespace(gpt2, "AutoModelForCausalLM")


@pytest.mark.parametrize(
    ("auto_class", "model", "last"),
    [
        ("AutoModel", "BertModel", "pooler.dense.bias"),
        ("AutoModelForSequenceClassification", "BertForSequenceClassification", "classifier.bias"),
        ("AutoModelForMaskedLM", "BertForMaskedLM", "cls.predictions.transform.LayerNorm.bias"),
        ("BertForTokenClassification", "BertForTokenClassification", "classifier.bias"),
    ],
)
def test_bert_with_each_auto_class(bert: Path, auto_class: str, model: str, last: str) -> None:
    namespace = export_namespace(hf_config=bert, auto_class=auto_class).namespace
    assert namespace.model == model and namespace.names[-1] == last
    if not auto_class.startswith("Auto"):
        auto_class = "AutoModelForTokenClassification"
    assert namespace == live_namespace(bert, auto_class)


def test_default_auto_class_is_the_configs_architecture(bert: Path, gpt2: Path, tmp_path: Path) -> None:
    assert default_auto_class(load_hf_config(bert)) == "BertForMaskedLM"
    assert default_auto_class(load_hf_config(gpt2)) == "GPT2LMHeadModel"
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({"model_type": "bert", "hidden_size": 8, "num_attention_heads": 2}))
    assert default_auto_class(load_hf_config(plain)) == "AutoModel"
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps({"model_type": "gpt2", "architectures": ["NotInTransformers"]}))
    assert default_auto_class(load_hf_config(unknown)) == "AutoModel"


def test_precision_applies_to_hf_models(gpt2: Path) -> None:
    namespace = export_namespace(hf_config=gpt2, precision="bf16-true").namespace
    assert {p.dtype for p in namespace.parameters} == {"bfloat16"}


def test_a_70b_llama_config_builds_in_seconds_on_the_meta_device(tmp_path: Path) -> None:
    config = transformers.LlamaConfig(
        hidden_size=8192,
        num_hidden_layers=80,
        intermediate_size=28672,
        num_attention_heads=64,
        num_key_value_heads=8,
        vocab_size=128256,
        architectures=["LlamaForCausalLM"],
    )
    config.save_pretrained(tmp_path)
    result = export_namespace(hf_config=tmp_path / "config.json")
    namespace = result.namespace
    assert namespace.model == "LlamaForCausalLM" and len(namespace) == 80 * 9 + 3
    total = namespace.total_numel(namespace.names)
    assert total is not None and math.isclose(total / 1e9, 70.55, abs_tol=0.01)
    assert all(p.device.type == "meta" for p in result.model.parameters())


@pytest.mark.parametrize(
    ("config", "auto_class", "message"),
    [
        (None, "AutoModelForImageClassification", "has no model for a BertConfig"),
        (None, "AutoModelForNothing", "is not a class of transformers"),
        (None, "AutoModelForSequenceClasification", "did you mean AutoModelForSequenceClassification[?]"),
        (None, "BertForMaskdLM", "did you mean BertForMaskedLM[?]"),
        (None, "GPT2LMHeadModel", "GPT2LMHeadModel takes a GPT2Config"),
        (None, "PretrainedConfig", "neither an AutoModel"),
        ({"hidden_size": 8}, None, "not a usable Hugging Face config"),
        ("{not json", None, "not a usable Hugging Face config"),
    ],
)
def test_configs_and_classes_that_do_not_fit(
    bert: Path, tmp_path: Path, config: object, auto_class: str | None, message: str
) -> None:
    path = bert
    if config is not None:
        path = tmp_path / "bad.json"
        path.write_text(config if isinstance(config, str) else json.dumps(config))
    with pytest.raises(HFError, match=message):
        export_namespace(hf_config=path, auto_class=auto_class)


def test_a_missing_path_is_not_taken_for_a_hub_id(tmp_path: Path) -> None:
    with pytest.raises(HFError, match=r"no such file .*nothing is downloaded"):
        export_namespace(hf_config="bert-base-uncased")
    with pytest.raises(HFError, match=r"the folder has no config\.json"):
        export_namespace(hf_config=tmp_path)


def test_remote_code_is_refused_without_a_prompt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    prompts: list[object] = []

    def answer_no(*args: object) -> str:
        prompts.append(args)
        return "n"

    monkeypatch.setattr("builtins.input", answer_no)
    config = {"model_type": "ftsc-custom", "auto_map": {"AutoConfig": "configuration_x.XConfig"}}
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(HFError, match=r"not a usable Hugging Face config: .*custom code"):
        export_namespace(hf_config=tmp_path)
    assert prompts == []  # transformers would otherwise ask on the terminal, and wait


def test_the_cli_exports_from_a_config(
    gpt2: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(COMMANDS, "namespace", ("ftsc.cli.namespace", "namespace files"))
    out = tmp_path / "gpt2.json"
    argv = ["namespace", "export", "--hf-config", str(gpt2 / "config.json"), "-o", str(out)]
    assert main([*argv, "--auto-class", "AutoModel", "--model-name", "gpt2-tiny"]) == 0
    assert capsys.readouterr().err.startswith(f"wrote {out}: ")
    namespace = load_namespace(out)
    assert namespace.model == "gpt2-tiny" and namespace.names[0] == "wte.weight"
    assert main([*argv, "--auto-class", "AutoModelForAudioClassification"]) == 2
    assert "has no model for a GPT2Config" in capsys.readouterr().err
    assert isinstance(export_namespace(hf_config=gpt2).model, nn.Module)
