"""LoRA models from their configs alone (the `peft` extra): `--peft-config` on the command line, or a TARGET
factory that calls `get_peft_model` itself; built on the meta device, with requires_grad as peft sets it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
peft = pytest.importorskip("peft")

from ftsc.cli import main  # noqa: E402
from ftsc.compiler.namespace import Namespace, load_namespace  # noqa: E402
from ftsc.namespaces import PeftError, export_namespace, namespace_from_module  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[2] / "examples"
ADAPTER = {
    "peft_type": "LORA",
    "task_type": "SEQ_CLS",
    "r": 4,
    "lora_alpha": 8,
    "target_modules": ["query", "value"],
    "layers_to_transform": [1, 2],
}


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def configs(tmp_path: Path) -> tuple[Path, Path]:
    """A 3-layer BERT classifier's config.json and a LoRA adapter_config.json (query/value of layers 1-2)."""
    config = transformers.BertConfig(
        vocab_size=50,
        hidden_size=8,
        num_hidden_layers=3,
        num_attention_heads=2,
        intermediate_size=16,
        max_position_embeddings=16,
        architectures=["BertForSequenceClassification"],
    )
    config.save_pretrained(tmp_path / "bert")
    adapter = tmp_path / "adapter_config.json"
    adapter.write_text(json.dumps(ADAPTER))
    return tmp_path / "bert" / "config.json", adapter


def live_lora_namespace(config_path: Path) -> Namespace:
    """The same model built for real on the CPU, as a training script builds it."""
    config = transformers.AutoConfig.from_pretrained(str(config_path), local_files_only=True)
    model = transformers.BertForSequenceClassification(config)
    return namespace_from_module(peft.get_peft_model(model, peft.LoraConfig(**ADAPTER)))


def test_peft_config_wraps_the_hf_model_on_the_meta_device(configs: tuple[Path, Path]) -> None:
    config, adapter = configs
    result = export_namespace(hf_config=config, peft_config=adapter)
    namespace = result.namespace
    assert result.allocated == ()  # adapters included: nothing left the meta device
    assert namespace == live_lora_namespace(config)  # names, order, shapes, dtypes, requires_grad
    assert namespace.model == "PeftModelForSequenceClassification"
    layer = "base_model.model.bert.encoder.layer"
    trainable = {p.name for p in namespace.parameters if p.requires_grad}
    assert trainable == {
        *(
            f"{layer}.{n}.attention.self.{module}.lora_{ab}.default.weight"
            for n in (1, 2)
            for module in ("query", "value")
            for ab in "AB"
        ),
        "base_model.model.classifier.modules_to_save.default.weight",
        "base_model.model.classifier.modules_to_save.default.bias",
    }
    assert f"{layer}.1.attention.self.query.base_layer.weight" in namespace.index  # frozen, wrapped
    assert f"{layer}.0.attention.self.query.weight" in namespace.index  # layer 0 is not transformed
    shape = {p.name: p.shape for p in namespace.parameters}
    assert shape[f"{layer}.1.attention.self.query.lora_A.default.weight"] == (4, 8)  # r x hidden


def test_a_target_factory_that_calls_get_peft_model(
    configs: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, _ = configs
    (tmp_path / "lora_models.py").write_text(
        "import peft, transformers\n"
        f"ADAPTER = {ADAPTER!r}\n"
        "def build():\n"
        f"    config = transformers.AutoConfig.from_pretrained({str(config)!r}, local_files_only=True)\n"
        "    model = transformers.BertForSequenceClassification(config)\n"
        "    return peft.get_peft_model(model, peft.LoraConfig(**ADAPTER))\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "lora_models", raising=False)
    result = export_namespace("lora_models:build")
    assert result.allocated == ()
    assert result.namespace == live_lora_namespace(config)


def test_the_command_line_writes_the_example_namespace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """examples/namespaces/bert-base-lora.json is what the command in examples/bert-lora.fts writes."""
    written = tmp_path / "ns.json"
    status = main(
        [
            "namespace",
            "export",
            "--hf-config",
            str(EXAMPLE / "lora" / "config.json"),
            "--peft-config",
            str(EXAMPLE / "lora" / "adapter_config.json"),
            "-o",
            str(written),
        ]
    )
    assert status == 0
    summary = capsys.readouterr().err
    assert "251 parameters (109,780,228 elements)" in summary
    assert "; 50 trainable as built (296,450 elements)" in summary
    assert load_namespace(written) == load_namespace(EXAMPLE / "namespaces" / "bert-base-lora.json")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("{", "not a readable JSON adapter config"),
        ('{"r": 4}', "not a PEFT adapter config (no `peft_type`"),
        ('{"peft_type": "NOPE"}', "not a usable PEFT adapter config"),
        (
            json.dumps({**ADAPTER, "target_modules": ["q_proj"]}),
            "does not fit BertForSequenceClassification: ",
        ),
    ],
    ids=["missing", "not-json", "no-peft-type", "unknown-type", "target-modules"],
)
def test_adapter_configs_that_cannot_be_used_are_usage_errors(
    configs: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    message: str,
) -> None:
    config, _ = configs
    adapter = tmp_path / "bad" / "adapter_config.json"
    if content is not None:
        adapter.parent.mkdir()
        adapter.write_text(content)
    output = tmp_path / "ns.json"
    argv = [
        "namespace",
        "export",
        "--hf-config",
        str(config),
        "--peft-config",
        str(adapter),
        "-o",
        str(output),
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    if "does not fit" in message:
        names = (
            "`classifier`, `dense`, `key`, `position_embeddings`, `query`, `token_type_embeddings`, `value`"
        )
        assert (
            f"fix `target_modules` (the model's layers that LoRA can wrap are named {names}, `word_embeddings`)"
            in err
        )
    assert "Traceback" not in err
    assert not output.exists()


def test_a_folder_holding_adapter_config_json(configs: tuple[Path, Path]) -> None:
    config, adapter = configs
    assert export_namespace(hf_config=config, peft_config=adapter.parent).namespace == live_lora_namespace(
        config
    )
    with pytest.raises(PeftError, match=r"the folder has no adapter_config\.json"):
        export_namespace(hf_config=config, peft_config=config.parent)


def test_peft_config_needs_hf_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["namespace", "export", "pkg:build", "--peft-config", "a.json", "-o", "ns.json"]) == 2
    assert "--peft-config is only used with --hf-config" in capsys.readouterr().err
