"""`ftsc export-fts`: the YAML's structure, its comment block, and the command line (FTS itself reading the
result is in test_roundtrip.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from ftsc.cli import main
from ftsc.compiler.compile import compile_schedule
from ftsc.compiler.namespace import Namespace, load_namespace
from ftsc.compiler.plan import write_plan
from ftsc.fts.exporter import export_fts

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def bert() -> Namespace:
    return load_namespace(EXAMPLES / "namespaces" / "bert-base.json")


@pytest.fixture(scope="module")
def toy() -> Namespace:
    return load_namespace(DATA / "namespaces" / "toy.json")


def plan_of(text: str, namespace: Namespace, path: str | None = None) -> dict[str, Any]:
    result = compile_schedule(text, namespace, path=path)
    assert result.plan is not None, [(d.code, d.message) for d in result.diagnostics]
    return result.plan


@pytest.fixture(scope="module")
def bert_plan(bert: Namespace) -> dict[str, Any]:
    return plan_of((EXAMPLES / "bert.fts").read_text(), bert, "examples/bert.fts")


def test_phases_list_exact_names_in_namespace_order(bert_plan: dict[str, Any]) -> None:
    result = export_fts(bert_plan)
    assert list(result.schedule) == [0, 1, 2]
    for phase in bert_plan["phases"]:
        assert result.schedule[phase["index"]]["params"] == phase["params"]
    assert yaml.safe_load(result.text) == result.schedule


def test_epochs_lrs_and_reinitialisation(bert_plan: dict[str, Any]) -> None:
    schedule = export_fts(bert_plan).schedule
    assert schedule[0].keys() == {"params", "max_transition_epoch"}  # phase 0: the module's lr
    assert schedule[0]["max_transition_epoch"] == 2
    assert schedule[1]["max_transition_epoch"] == 5 and schedule[1]["lr"] == 2e-5
    assert "max_transition_epoch" not in schedule[2]  # -1: FTS's default
    assert schedule[2]["lr"] == 1e-5  # the default lr, written out
    assert schedule[2]["new_optimizer"] == {
        "optimizer_init": {
            "class_path": "torch.optim.AdamW",
            "init_args": {"lr": 1e-05, "weight_decay": 0.01},
        }
    }
    assert schedule[2]["new_lr_scheduler"] == {
        "lr_scheduler_init": {
            "class_path": "torch.optim.lr_scheduler.CosineAnnealingLR",
            "init_args": {"T_max": 10},
        },
        "pl_lrs_cfg": {"interval": "epoch", "frequency": 1},
    }


def test_the_comment_block_says_what_to_pass(bert_plan: dict[str, Any]) -> None:
    result = export_fts(bert_plan, plan_path="bert.plan.json", schedule_path="bert_ft_schedule.yaml")
    header = result.text[: result.text.index("\n0:")]
    assert all(line.startswith("#") for line in header.strip().splitlines())
    assert '#   FinetuningScheduler(\n#       ft_schedule="bert_ft_schedule.yaml",\n' in header
    assert "#       base_max_lr=1e-05,\n" in header
    assert "#       restore_best=True,\n" in header
    assert '#   FTSEarlyStopping(monitor="val_loss", patience=2, min_delta=0.001)\n' in header
    assert "1 parameter is never thawed" in header and "bert.embeddings.word_embeddings.weight" in header
    assert "from plan bert.plan.json, schedule examples/bert.fts, model bert-base" in header
    assert result.callback_args == {
        "base_max_lr": 1e-05,
        "restore_best": True,
        "epoch_transitions_only": False,
        "max_depth": -1,
        "enforce_phase0_params": True,
        "apply_lambdas_new_pgs": False,
        "frozen_bn_track_running_stats": True,
        "allow_untested": False,
    }
    assert result.early_stopping == {"monitor": "val_loss", "patience": 2, "min_delta": 0.001}
    assert "0:  # phase 0 `head` (line 14)\n" in result.text


def test_defaults_reinitialisation_goes_into_each_later_phase(toy: Namespace) -> None:
    text = """
    defaults {
        optimizer = SGD(lr = 0.1)
        lr_scheduler = StepLR(step_size = 1)
        lr_scheduler_config = { interval = "step" }
        checkpoint = { monitor = "val_acc", mode = "max" }
    }
    phase { thaw model.head.** }
    phase { thaw model.norm.weight  optimizer = AdamW() }
    phase { thaw model.layers.0.**  lr_scheduler = ConstantLR()  init_pg_lrs = [1e-3, 1e-3] }
    """
    result = export_fts(plan_of(text, toy))
    schedule = result.schedule
    assert "new_optimizer" not in schedule[0] and "new_lr_scheduler" not in schedule[0]
    assert schedule[1]["new_optimizer"]["optimizer_init"]["class_path"] == "torch.optim.AdamW"
    assert schedule[2]["new_optimizer"]["optimizer_init"] == {
        "class_path": "torch.optim.SGD",
        "init_args": {"lr": 0.1},
    }
    assert schedule[1]["new_lr_scheduler"] == {
        "lr_scheduler_init": {"class_path": "torch.optim.lr_scheduler.StepLR", "init_args": {"step_size": 1}},
        "pl_lrs_cfg": {"interval": "step"},
    }
    assert schedule[2]["new_lr_scheduler"]["lr_scheduler_init"]["class_path"].endswith("ConstantLR")
    assert schedule[2]["new_lr_scheduler"]["init_pg_lrs"] == [1e-3, 1e-3]
    assert "Do not pass `reinit_optim_cfg` or `reinit_lr_cfg`." in result.text
    assert '#   FTSCheckpoint(monitor="val_acc", mode="max")' in result.text


def test_what_fts_cannot_carry_is_noted(toy: Namespace) -> None:
    text = """
    defaults { epoch_transitions_only = true }
    phase { thaw model.head.**  until epoch 2 }
    phase { thaw model.norm.weight  until epoch 4  init_pg_lrs = [1e-3] }
    phase { thaw rest }
    """
    result = export_fts(plan_of(text, toy))
    assert "init_pg_lrs" not in result.schedule[1]
    assert result.schedule[2]["max_transition_epoch"] == 4
    assert len(result.notes) == 2
    assert "`init_pg_lrs` left out" in result.notes[0]
    assert "last phase too" in result.notes[1]
    assert all(note in result.text for note in result.notes)


def test_names_yaml_would_misread_stay_strings() -> None:
    namespace = Namespace.from_names(["yes", "null", "1.5", "0x1F", "a: b"])
    plan = plan_of('phase { thaw "yes", "null", "1.5" }\nphase { thaw "0x1F", "a: b" }\n', namespace)
    loaded = yaml.safe_load(export_fts(plan).text)
    assert loaded == {0: {"params": ["yes", "null", "1.5"]}, 1: {"params": ["0x1F", "a: b"], "lr": 1e-05}}


# -- the command line -------------------------------------------------------------------------------


def test_cli(bert_plan: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan_path = tmp_path / "bert.plan.json"
    write_plan(bert_plan, plan_path)
    assert main(["export-fts", str(plan_path)]) == 0
    out = capsys.readouterr().out
    assert yaml.safe_load(out) == export_fts(bert_plan).schedule
    assert 'ft_schedule="<this file>"' in out
    target = tmp_path / "out.yaml"
    assert main(["export-fts", str(plan_path), "-o", str(target)]) == 0
    assert "wrote" in capsys.readouterr().err
    assert f'ft_schedule="{target}"' in target.read_text()


def test_cli_refuses_a_bad_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"plan_version": 2}))
    assert main(["export-fts", str(bad)]) == 2
    assert "not a valid plan" in capsys.readouterr().err
    assert main(["export-fts", str(tmp_path / "missing.json")]) == 2


def test_a_plan_under_a_prefix_exports_the_lightning_modules_names(bert: Namespace) -> None:
    """FTS matches the LightningModule's own names, so `use namespace … at model` puts `model.` in front."""
    text = (EXAMPLES / "bert.fts").read_text().replace('bert-base.json"', 'bert-base.json" at model')
    plan = plan_of(text, bert)
    result = export_fts(plan)
    own = export_fts(plan_of((EXAMPLES / "bert.fts").read_text(), bert))
    assert result.schedule[0]["params"] == [f"model.{name}" for name in own.schedule[0]["params"]]
    assert any("every entry starts with `model.`" in note for note in result.notes)
