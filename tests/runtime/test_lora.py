"""A LoRA model (peft on a tiny BERT classifier, built from its config) trained through a schedule that thaws
the adapters of the top layers first, then those of the lower layers, then the norms: every phase's
trainable set is exactly the plan's, peft's frozen base weights never change, and a resume continues
exactly as the uninterrupted run.

The LightningModule holds the peft model as `self.model`, so the plan is compiled against the
LightningModule's names (`model.base_model.model.…`), as `ftsc namespace export` of this module gives them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from runtime_support import Probe, compile_plan, flat_state, trainer
from torch.utils.data import DataLoader, TensorDataset

from ftsc.runtime import FinetuningScheduler

transformers = pytest.importorskip("transformers")
peft = pytest.importorskip("peft")

LAYERS = "model.base_model.model.bert.encoder.layer"
SCHEDULE = f"""fts 1
let layers = {LAYERS}
defaults {{ epoch_transitions_only = true restore_best = false }}
phase top {{ thaw model.base_model.model.classifier.modules_to_save.**, $layers.{{2..3}}.**.lora_*.** until epoch 1 }}
phase lower {{ thaw $layers.{{0..1}}.**.lora_*.** lr = 0.005 until epoch 3 }}
phase norms {{ thaw $layers.*.**.LayerNorm.* lr = 0.001 }}
"""
EPOCHS = 5


class LoraClassifier(pl.LightningModule):
    """BERT (4 layers of width 8) with LoRA on query and value, r = 4, classifying token sequences."""

    def __init__(self) -> None:
        super().__init__()
        config = transformers.BertConfig(
            vocab_size=40,
            hidden_size=8,
            num_hidden_layers=4,
            num_attention_heads=2,
            intermediate_size=16,
            max_position_embeddings=16,
            hidden_dropout_prob=0.0,
            attention_probs_dropout_prob=0.0,
            num_labels=2,
        )
        lora = peft.LoraConfig(task_type="SEQ_CLS", r=4, lora_alpha=8, target_modules=["query", "value"])
        self.model = peft.get_peft_model(transformers.BertForSequenceClassification(config), lora)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        tokens, labels = batch
        loss: torch.Tensor = self.model(input_ids=tokens, labels=labels).loss
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        tokens, labels = batch
        self.log("val_loss", self.model(input_ids=tokens, labels=labels).loss)

    def configure_optimizers(self) -> Any:
        optimizer = torch.optim.AdamW([p for p in self.parameters() if p.requires_grad], lr=0.01)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"}}


def token_loaders() -> tuple[DataLoader[Any], DataLoader[Any]]:
    generator = torch.Generator().manual_seed(0)
    tokens = torch.randint(1, 40, (48, 6), generator=generator)
    labels = (tokens[:, 0] > 20).long()
    data = TensorDataset(tokens, labels)
    return DataLoader(data, batch_size=16), DataLoader(data, batch_size=24)


@pytest.fixture(scope="module")
def plan() -> dict[str, Any]:
    pl.seed_everything(0, verbose=False)
    return compile_plan(SCHEDULE, LoraClassifier())


def fit(
    folder: Path, plan: dict[str, Any], epochs: int = EPOCHS, ckpt_path: Path | None = None
) -> tuple[pl.Trainer, Probe, LoraClassifier]:
    pl.seed_everything(3, verbose=False)
    model, probe = LoraClassifier(), Probe()
    saver = ModelCheckpoint(
        dirpath=folder / "ckpt", filename="{epoch}", save_top_k=-1, save_on_train_epoch_end=True
    )
    run = trainer(folder, epochs, [FinetuningScheduler(plan=plan), probe, saver], enable_checkpointing=True)
    run.fit(model, *token_loaders(), ckpt_path=ckpt_path)
    return run, probe, model


@pytest.fixture(scope="module")
def uninterrupted(
    plan: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Probe, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    folder = tmp_path_factory.mktemp("lora")
    pl.seed_everything(3, verbose=False)
    before = {n: p.detach().clone() for n, p in LoraClassifier().named_parameters()}
    run, probe, _ = fit(folder, plan)
    return folder, probe, before, flat_state(run)


def test_the_plan_thaws_only_what_peft_made_trainable_then_the_norms(plan: dict[str, Any]) -> None:
    top, lower, norms = (set(phase["params"]) for phase in plan["phases"])
    assert len(top) == 2 * 2 * 2 + 2 and len(lower) == 2 * 2 * 2  # (A, B) x (query, value) x layers; head
    assert all(".lora_" in name for name in lower)
    assert len(norms) == 4 * 2 * 2 and all(".LayerNorm." in name for name in norms)
    assert all(".base_layer." in name or ".lora_" not in name for name in plan["frozen"])


def test_every_phase_trains_exactly_the_plan_s_parameters(
    plan: dict[str, Any], uninterrupted: tuple[Path, Probe, dict[str, torch.Tensor], dict[str, torch.Tensor]]
) -> None:
    _, probe, before, after = uninterrupted
    phases = [frozenset(phase["params"]) for phase in plan["phases"]]
    expected_depths = [0, 1, 1, 2, 2]  # `until epoch 1`, then `until epoch 3`
    assert [record.depth for record in probe.records] == expected_depths
    for record in probe.records:
        assert record.trainable == frozenset().union(*phases[: record.depth + 1])
    # a group per phase, in phase order, each holding that phase's tensors
    assert probe.records[-1].group_sizes == tuple(len(phase) for phase in phases)
    changed = {name for name, value in before.items() if not torch.equal(after[f"param.{name}"], value)}
    assert changed == set().union(*phases)  # every thawed tensor trained; every frozen one kept its values


@pytest.mark.parametrize("split_after", [0, 2])  # at a phase boundary, and in the middle of a phase
def test_resume_continues_exactly(
    plan: dict[str, Any],
    uninterrupted: tuple[Path, Probe, dict[str, torch.Tensor], dict[str, torch.Tensor]],
    tmp_path: Path,
    split_after: int,
) -> None:
    _, probe, _, expected = uninterrupted
    fit(tmp_path, plan, epochs=split_after + 1)
    run, resumed_probe, _ = fit(tmp_path, plan, ckpt_path=tmp_path / "ckpt" / f"epoch={split_after}.ckpt")
    resumed = flat_state(run)
    assert sorted(resumed) == sorted(expected)
    assert [key for key in expected if not torch.equal(resumed[key], expected[key])] == []
    assert resumed_probe.records == probe.records[split_after + 1 :]
