"""The LightningModule seam: a Hugging Face model exported from its config, scheduled in its own names,
trained inside a LightningModule that holds it as `self.model` (names `model.bert.…`)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from runtime_support import Probe, trainer
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from ftsc.cli import main
from ftsc.compiler.namespace import names_fingerprint
from ftsc.compiler.plan import read_plan
from ftsc.runtime import FinetuningScheduler
from ftsc.runtime.errors import NamespaceMismatchError, PlanMismatchError

transformers = pytest.importorskip("transformers")

SCHEDULE = """fts 1
use namespace "bert.json"{at}
defaults {{ epoch_transitions_only = true }}
phase head {{ thaw classifier.*, bert.pooler.** until epoch 1 }}
phase top {{ thaw bert.encoder.layer.1.** lr = 0.01 until epoch 2 }}
phase rest {{ thaw rest lr = 0.001 }}
"""


def tiny_config() -> Any:
    return transformers.BertConfig(
        vocab_size=30,
        hidden_size=8,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=16,
        max_position_embeddings=16,
        num_labels=2,
        architectures=["BertForSequenceClassification"],
    )


class Classifier(pl.LightningModule):
    """A LightningModule that holds the model as `self.model` (and, with `extra`, a parameter of its own)."""

    def __init__(self, extra: bool = False) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.model = transformers.BertForSequenceClassification(tiny_config())
        if extra:
            self.temperature = nn.Parameter(torch.ones(1))

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        ids, labels = batch
        loss: torch.Tensor = self.model(input_ids=ids, labels=labels).loss
        return loss

    def configure_optimizers(self) -> Any:
        return torch.optim.SGD([p for p in self.parameters() if p.requires_grad], lr=0.1)


def data() -> DataLoader[Any]:
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 30, (8, 6), generator=generator)
    return DataLoader(TensorDataset(ids, ids[:, 0] % 2), batch_size=4)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`ftsc namespace export --hf-config` of the tiny BERT: the model's own names."""
    folder = tmp_path_factory.mktemp("bert")
    tiny_config().save_pretrained(folder)
    namespace = folder / "bert.json"
    argv = ["namespace", "export", "--hf-config", str(folder / "config.json"), "-o", str(namespace)]
    assert main(argv) == 0
    names = [entry["name"] for entry in json.loads(namespace.read_text())["parameters"]]
    assert names[0].startswith("bert.") and "classifier.weight" in names
    return folder


def compiled(folder: Path, at: str) -> Path:
    schedule = folder / f"prefix{len(at)}.fts"
    schedule.write_text(SCHEDULE.format(at=at))
    plan = folder / f"prefix{len(at)}.json"
    assert main(["compile", str(schedule), "-o", str(plan)]) == 0
    return plan


def fit(
    tmp_path: Path, plan: Path, module: pl.LightningModule, probe: Probe | None = None
) -> FinetuningScheduler:
    scheduler = FinetuningScheduler(plan=plan)
    callbacks: list[pl.Callback] = [scheduler, *([probe] if probe else [])]
    trainer(tmp_path, 3, callbacks, limit_train_batches=2).fit(module, train_dataloaders=data())
    return scheduler


def test_a_schedule_in_the_models_own_names_trains_inside_self_model(exported: Path, tmp_path: Path) -> None:
    plan_path = compiled(exported, " at model")
    plan = read_plan(plan_path)
    assert plan["namespace"]["prefix"] == "model"
    assert plan["phases"][0]["params"][0].startswith(("bert.", "classifier."))  # the model's own names
    probe = Probe()
    scheduler = fit(tmp_path, plan_path, Classifier(), probe)
    assert [record.depth for record in probe.records] == [0, 1, 2]
    for record, depth in zip(probe.records, range(3), strict=True):
        expected = {f"model.{name}" for phase in plan["phases"][: depth + 1] for name in phase["params"]}
        assert record.trainable == expected  # what is trainable is exactly the plan's, under `model.`
    assert scheduler.state_dict()["names"] == {"drop": "", "add": "model."}


def test_a_plan_that_does_not_say_where_runs_with_one_info_line(
    exported: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    plan_path = compiled(exported, "")
    probe = Probe()
    with caplog.at_level(logging.INFO, logger="ftsc.runtime"):
        fit(tmp_path, plan_path, Classifier(), probe)
    notes = [r.getMessage() for r in caplog.records if "sit under `model.`" in r.getMessage()]
    assert len(notes) == 1 and 'use namespace "…" at model' in notes[0]
    assert [record.depth for record in probe.records] == [0, 1, 2]
    assert all(name.startswith("model.") for name in probe.records[0].trainable)


def test_a_stated_prefix_the_module_lacks_is_one_line_with_the_fix(exported: Path, tmp_path: Path) -> None:
    plan_path = compiled(exported, " at model")
    bare = Classifier()
    module = _Bare(bare.model)
    with pytest.raises(NamespaceMismatchError) as caught:
        fit(tmp_path, plan_path, module)
    message = str(caught.value)
    assert "\n" not in message
    assert "sit at its root in this module, but its schedule says `at model`" in message
    assert "drop `at …` from `use namespace`" in message


def test_names_outside_the_prefix_are_one_line_naming_them(exported: Path, tmp_path: Path) -> None:
    plan_path = compiled(exported, " at model")
    with pytest.raises(NamespaceMismatchError) as caught:
        fit(tmp_path, plan_path, Classifier(extra=True))
    message = str(caught.value)
    assert "\n" not in message
    assert (
        "the model's names are the plan's under `model.`, except that 1 live parameter not in the plan"
        in message
    )
    assert "`temperature`" in message


def test_a_plan_of_the_lightning_modules_names_runs_on_the_bare_model(exported: Path, tmp_path: Path) -> None:
    """Removed rather than added: the plan lists `model.…`, the trained module is the model itself."""
    plan = read_plan(compiled(exported, " at model"))
    for phase in plan["phases"]:
        phase["params"] = [f"model.{name}" for name in phase["params"]]
    plan["frozen"] = [f"model.{name}" for name in plan["frozen"]]
    own = [entry["name"] for entry in json.loads((exported / "bert.json").read_text())["parameters"]]
    plan["namespace"]["fingerprint"] = names_fingerprint(f"model.{name}" for name in own)
    plan["namespace"]["prefix"] = ""
    path = tmp_path / "lightning-names.json"
    path.write_text(json.dumps(plan))
    probe = Probe()
    fit(tmp_path, path, _Bare(Classifier().model), probe)
    assert [record.depth for record in probe.records] == [0, 1, 2]
    assert all(not name.startswith("model.") for name in probe.records[0].trainable)


class _Bare(pl.LightningModule):
    """The model's parameters at the LightningModule's root (as when it subclasses the model)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.bert = model.bert  # type: ignore[union-attr]
        self.dropout = model.dropout  # type: ignore[union-attr]
        self.classifier = model.classifier  # type: ignore[union-attr]

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        ids, labels = batch
        pooled = self.bert(input_ids=ids).pooler_output
        return nn.functional.cross_entropy(self.classifier(self.dropout(pooled)), labels)

    def configure_optimizers(self) -> Any:
        return torch.optim.SGD([p for p in self.parameters() if p.requires_grad], lr=0.1)


def test_a_schedule_compiled_at_setup_is_checked_inside_self_model(exported: Path, tmp_path: Path) -> None:
    """`schedule=`: the `.fts` compiles against the live names under `model.`, in the model's own names."""
    schedule = exported / "at-setup.fts"
    schedule.write_text(SCHEDULE.format(at=" at model"))
    probe = Probe()
    scheduler = FinetuningScheduler(schedule=schedule)
    trainer(tmp_path, 3, [scheduler, probe], limit_train_batches=2).fit(
        Classifier(), train_dataloaders=data()
    )
    assert scheduler.plan is not None and scheduler.plan["namespace"]["prefix"] == "model"
    assert [record.depth for record in probe.records] == [0, 1, 2]
    assert "model.classifier.weight" in probe.records[0].trainable


def test_a_resume_continues_under_the_prefix_and_the_checkpoint_keeps_it(
    exported: Path, tmp_path: Path
) -> None:
    plan_path = compiled(exported, " at model")
    saver = ModelCheckpoint(dirpath=tmp_path / "ckpt", filename="{epoch}", save_top_k=-1, every_n_epochs=1)
    first = trainer(tmp_path, 2, [FinetuningScheduler(plan=plan_path), saver], limit_train_batches=2,
                    enable_checkpointing=True)  # fmt: skip
    first.fit(Classifier(), train_dataloaders=data())
    checkpoint = tmp_path / "ckpt" / "epoch=1.ckpt"
    saved = torch.load(checkpoint, weights_only=False)["callbacks"]
    (state,) = [value for key, value in saved.items() if "FinetuningScheduler" in key]
    assert state["names"] == {"drop": "", "add": "model."} and state["state_version"] == 2
    probe = Probe()
    resumed = trainer(tmp_path, 3, [FinetuningScheduler(plan=plan_path), probe], limit_train_batches=2)
    resumed.fit(Classifier(), train_dataloaders=data(), ckpt_path=checkpoint)
    assert [record.depth for record in probe.records] == [2]
    other = FinetuningScheduler(plan=plan_path)
    other.load_state_dict({**state, "names": {"drop": "", "add": ""}})
    with pytest.raises(
        PlanMismatchError, match=r"^the checkpoint was written with the plan's names at its root"
    ):
        trainer(tmp_path, 3, [other], limit_train_batches=2).fit(Classifier(), train_dataloaders=data())
