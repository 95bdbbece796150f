"""Round trips checked by Fine-Tuning Scheduler itself.

FTS YAML -> `ftsc import-fts` -> `.fts` -> `ftsc compile` -> plan: each phase thaws what FTS's own schedule
validation (`FinetuningScheduler.setup`, which loads, resolves and validates the schedule) resolves on a
real torch module whose `named_parameters()` are the namespace. And plan -> `ftsc export-fts` -> YAML ->
FTS: FTS resolves the plan's phases, epochs, lrs and reinitialisations back.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("finetuning_scheduler")

import lightning.pytorch as pl
import torch
from finetuning_scheduler import FinetuningScheduler, FTSCheckpoint, FTSEarlyStopping
from finetuning_scheduler.fts_supporters import ScheduleImplMixin
from lightning.fabric.utilities.exceptions import MisconfigurationException

from ftsc.compiler.compile import compile_schedule
from ftsc.compiler.namespace import Namespace, load_namespace
from ftsc.fts import regex_text
from ftsc.fts.exporter import export_fts
from ftsc.fts.importer import import_fts

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FTS_EXAMPLES = {
    "RteBoolqModule_ft_schedule_deberta_base.yaml": "deberta-v3-base",
    "RteBoolqModule_ft_schedule_deberta_base_fsdp.yaml": "deberta-v3-base",
    "explicit_reinit_lr.yaml": "deberta-v3-base",
    "explicit_reinit_optim_lr.yaml": "deberta-v3-base",
    "llama_ft_schedule.yaml": "torchtitan-llama",
}
OWN = {"toy_traps.yaml": "toy"}


# -- FTS itself ----------------------------------------------------------------------------------------


class _Module(pl.LightningModule):
    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)


def build_module(namespace: Namespace) -> pl.LightningModule:
    """A LightningModule whose named_parameters() are exactly the namespace (aliases tied to their target)."""
    root = _Module()

    def place(name: str, parameter: torch.nn.Parameter) -> None:
        *path, leaf = name.split(".")
        module: torch.nn.Module = root
        for segment in path:
            if segment not in module._modules:
                module.add_module(segment, torch.nn.Module())
            child = module._modules[segment]
            assert child is not None
            module = child
        module.register_parameter(leaf, parameter)

    parameters = {name: torch.nn.Parameter(torch.zeros(1)) for name in namespace.names}
    for name, parameter in parameters.items():
        place(name, parameter)
    for alias, target in namespace.aliases.items():
        place(alias, parameters[target])
    assert [name for name, _ in root.named_parameters()] == list(namespace.names)
    return root


def fts_schedule(
    schedule: Path, namespace: Namespace, tmp_path: Path, **callback_args: Any
) -> dict[int, Any]:
    """The schedule as FTS loads, resolves and validates it (`FinetuningScheduler.setup`)."""
    module = build_module(namespace)
    fts = FinetuningScheduler(ft_schedule=str(schedule), **callback_args)
    callbacks: list[pl.Callback] = [fts, FTSCheckpoint(monitor="val_loss")]
    if not callback_args.get("epoch_transitions_only"):
        callbacks.append(FTSEarlyStopping(monitor="val_loss"))
    trainer = pl.Trainer(
        callbacks=callbacks,
        logger=False,
        default_root_dir=str(tmp_path / "run"),
        accelerator="cpu",
        enable_progress_bar=False,
        enable_model_summary=False,
        max_epochs=10,
    )
    trainer.strategy.connect(module)
    module.trainer = trainer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fts.setup(trainer, module, "fit")
    assert isinstance(fts.ft_schedule, dict)
    return fts.ft_schedule


def namespace_of(name: str) -> Namespace:
    if name == "bert-base":
        return load_namespace(EXAMPLES / "namespaces" / "bert-base.json")
    return load_namespace(DATA / "namespaces" / f"{name}.json")


def plan_of(fts_text: str, namespace: Namespace) -> dict[str, Any]:
    result = compile_schedule(fts_text, namespace)
    assert not result.has_errors, [(d.code, d.message) for d in result.diagnostics]
    assert result.plan is not None
    return result.plan


def assert_same_phases(plan: dict[str, Any], fts: dict[int, Any]) -> None:
    """Per phase: the same parameters, epochs, lrs and reinitialisations."""
    phases = plan["phases"]
    assert sorted(fts) == list(range(len(phases)))
    settings = plan["settings"]
    for phase in phases:
        theirs = fts[phase["index"]]
        assert set(phase["params"]) == set(theirs["params"]), phase["index"]
        assert len(theirs["params"]) == len(set(theirs["params"]))
        if phase is phases[-1] and settings["epoch_transitions_only"] and phase["max_transition_epoch"] < 0:
            # FTS wants an epoch on the last phase too, and runs the last phase to max_epochs whatever it is
            assert theirs["max_transition_epoch"] >= 0
        else:
            assert phase["max_transition_epoch"] == theirs["max_transition_epoch"]
        if phase["index"] > 0:
            lr = phase["lr"] if phase["lr"] is not None else settings["lr"]
            assert lr == pytest.approx(float(theirs["lr"]))
        optimizer = phase["optimizer"] or (settings["optimizer"] if phase["index"] else None)
        new_optimizer = theirs.get("new_optimizer")
        if optimizer is None:
            assert not new_optimizer
        else:
            init = new_optimizer["optimizer_init"]
            assert init["class_path"] == optimizer["class_path"]
            assert init.get("init_args", {}) == optimizer["init_args"]
        scheduler = phase["lr_scheduler"] or (settings["lr_scheduler"] if phase["index"] else None)
        new_scheduler = theirs.get("new_lr_scheduler")
        if scheduler is None:
            assert not new_scheduler
            continue
        init = new_scheduler["lr_scheduler_init"]
        assert init["class_path"] == scheduler["class_path"]
        assert init.get("init_args", {}) == scheduler["init_args"]
        assert new_scheduler.get("pl_lrs_cfg", {}) == scheduler["config"]
        assert new_scheduler.get("init_pg_lrs") == phase["init_pg_lrs"]
        assert new_scheduler.get("use_current_optimizer_pg_lrs") == phase["use_current_optimizer_pg_lrs"]


# -- FTS YAML -> .fts -> plan ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def namespaces() -> dict[str, Namespace]:
    return {name: namespace_of(name) for name in ("deberta-v3-base", "torchtitan-llama", "toy", "bert-base")}


CASES = [(DATA / "fts_examples" / file, ns) for file, ns in FTS_EXAMPLES.items()] + [
    (DATA / "schedules" / file, ns) for file, ns in OWN.items()
]


@pytest.mark.parametrize(("schedule", "namespace_name"), CASES, ids=[case[0].name for case in CASES])
def test_import_thaws_what_fts_thaws(
    schedule: Path, namespace_name: str, namespaces: dict[str, Namespace], tmp_path: Path
) -> None:
    namespace = namespaces[namespace_name]
    theirs = fts_schedule(schedule, namespace, tmp_path)
    result = import_fts(schedule.read_text(), namespace)
    assert result.text is not None, [(d.code, d.message) for d in result.diagnostics]
    assert not result.has_errors
    plan = plan_of(result.text, namespace)
    assert_same_phases(plan, theirs)
    assert result.fts_phases == [phase["params"] for phase in plan["phases"]]


@pytest.mark.parametrize(("schedule", "namespace_name"), CASES[: len(FTS_EXAMPLES)], ids=list(FTS_EXAMPLES))
def test_import_without_a_namespace_thaws_what_fts_thaws(
    schedule: Path, namespace_name: str, namespaces: dict[str, Namespace], tmp_path: Path
) -> None:
    """Regexes kept in full-match form, dotted names taken as parameter names: still FTS's phases."""
    namespace = namespaces[namespace_name]
    theirs = fts_schedule(schedule, namespace, tmp_path)
    result = import_fts(schedule.read_text())
    assert result.text is not None and not result.has_errors
    assert_same_phases(plan_of(result.text, namespace), theirs)


def test_without_a_namespace_a_module_prefix_entry_fails_loudly(namespaces: dict[str, Namespace]) -> None:
    """`model.head` is a prefix to FTS; without a namespace it reads as a name, and `ftsc check` says so."""
    result = import_fts((DATA / "schedules" / "toy_traps.yaml").read_text())
    assert result.text is not None
    assert "I509" in {d.code for d in result.diagnostics}
    compiled = compile_schedule(result.text, namespaces["toy"])
    missing = {d.message.split("`")[1] for d in compiled.diagnostics if d.code == "E101"}
    assert missing == {"model.head", "model.lm_head.weight"}


TRICKY = [
    "model.layers.1.*",
    "model.head",
    "model.layers.1",
    "model.e",
    "model.out.proj.*",
    "model.layers.{0,11}.attn.*",
    r"model\.layers\.(1[0-1])\..*",
    "(?i)MODEL.HEAD",
    "model.layers.[0-9]+.(mlp.up|attn.q).weight",
    ".*bias",
    r"model.layers.\d.attn.q.weight$",
    "model.layers.(0.attn.q|1.attn.k|2.mlp.up|3.attn.q|4.attn.k|5.mlp.up|6.attn.q|7.attn.k|8.mlp.up).weight",
]


@pytest.mark.parametrize("entry", TRICKY)
def test_tricky_entries_thaw_what_fts_thaws(
    entry: str, namespaces: dict[str, Namespace], tmp_path: Path
) -> None:
    namespace = namespaces["toy"]
    text = f"0:\n  params:\n  - '{entry}'\n"
    theirs = fts_schedule(_write(tmp_path, text), namespace, tmp_path)
    for with_namespace in (True, False):
        if not with_namespace and regex_text.is_plain_name(entry):
            continue  # a module prefix needs the namespace (see test_without_a_namespace_…)
        result = import_fts(text, namespace if with_namespace else None)
        assert result.text is not None, [(d.code, d.message) for d in result.diagnostics]
        assert_same_phases(plan_of(result.text, namespace), theirs)


def test_the_llama_fixture_is_the_fts_example_model() -> None:
    llama = pytest.importorskip("fts_examples.model_parallel.torchtitan_llama")
    model = llama.Transformer(llama.ModelCfg(dim=16, n_layers=4, n_heads=2, vocab_size=32, multiple_of=8))
    names = ["model." + name for name, _ in model.named_parameters()]
    assert list(namespace_of("torchtitan-llama").names) == names


def test_fts_generated_default_schedule(namespaces: dict[str, Namespace], tmp_path: Path) -> None:
    """FTS's own default schedule (two names per phase, last layers first) imports, merged where whole."""
    namespace = namespaces["toy"]
    schedule = Path(ScheduleImplMixin._gen_ft_schedule_impl(build_module(namespace), tmp_path))
    theirs = fts_schedule(schedule, namespace, tmp_path)
    result = import_fts(schedule.read_text(), namespace)
    assert result.text is not None and not result.diagnostics
    assert_same_phases(plan_of(result.text, namespace), theirs)
    assert "thaw model.layers.11.mlp.up.**" in result.text  # bias + weight, a whole module


# -- plan -> FTS YAML -> FTS -----------------------------------------------------------------------------

TOY_FTS = """
use namespace "ns.json"
defaults {
    lr = 2e-5
    epoch_transitions_only = true
    restore_best = false
    optimizer = AdamW(lr = 1e-4, weight_decay = 0.01)
    lr_scheduler = StepLR(step_size = 2, gamma = 0.5)
    lr_scheduler_config = { interval = "epoch", frequency = 1 }
}
phase head { thaw model.head.**, model.head2.weight  until epoch 1 }
phase top {
    thaw model.layers.{8..11}.**
    until epoch 3
    lr = 5e-5
    lr_scheduler = CosineAnnealingLR(T_max = 4)
    init_pg_lrs = [1e-5, 5e-5]
}
phase rest { thaw rest except model.embed.weight }
"""


def _export_cases() -> list[tuple[str, str]]:
    return [((EXAMPLES / "bert.fts").read_text(), "bert-base"), (TOY_FTS, "toy")]


@pytest.mark.parametrize(("source", "namespace_name"), _export_cases(), ids=["examples-bert", "toy-defaults"])
def test_export_gives_the_plan_back_through_fts(
    source: str, namespace_name: str, namespaces: dict[str, Namespace], tmp_path: Path
) -> None:
    namespace = namespaces[namespace_name]
    plan = plan_of(source, namespace)
    path = tmp_path / "exported.yaml"
    result = export_fts(plan, schedule_path=str(path))
    path.write_text(result.text)
    theirs = fts_schedule(path, namespace, tmp_path, **result.callback_args)
    assert_same_phases(plan, theirs)
    # the explicit names come back in namespace order, phase by phase
    assert [theirs[phase["index"]]["params"] for phase in plan["phases"]] == [
        phase["params"] for phase in plan["phases"]
    ]


def test_fts_yaml_to_fts_to_plan_to_fts_yaml(namespaces: dict[str, Namespace], tmp_path: Path) -> None:
    """The whole loop: an FTS example, imported, compiled and exported, is the same schedule to FTS."""
    namespace = namespaces["deberta-v3-base"]
    original = DATA / "fts_examples" / "explicit_reinit_optim_lr.yaml"
    imported = import_fts(original.read_text(), namespace)
    assert imported.text is not None
    exported = tmp_path / "again.yaml"
    exported.write_text(export_fts(plan_of(imported.text, namespace)).text)
    before = fts_schedule(original, namespace, tmp_path / "a")
    after = fts_schedule(exported, namespace, tmp_path / "b")
    assert {d: set(p["params"]) for d, p in before.items()} == {d: set(p["params"]) for d, p in after.items()}
    for depth in before:
        for key in ("max_transition_epoch", "new_optimizer", "new_lr_scheduler"):
            assert before[depth].get(key) == after[depth].get(key)


# -- what FTS does with the traps the importer reports -------------------------------------------------


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "schedule.yaml"
    path.write_text(text)
    return path


def test_fts_refuses_what_the_importer_calls_errors(namespaces: dict[str, Namespace], tmp_path: Path) -> None:
    namespace = namespaces["toy"]
    refused = {
        # two entries of one phase that select the same parameter (E514)
        "E514": "0:\n  params:\n  - model.head.weight\n  - model.head.*\n",
        # an entry that matches nothing (E513)
        "E513": "0:\n  params:\n  - model.nothing\n",
        # a phase key that is not a number (E511)
        "E511": "head:\n  params:\n  - model.head.weight\n",
    }
    for code, text in refused.items():
        with pytest.raises(MisconfigurationException):
            fts_schedule(_write(tmp_path, text), namespace, tmp_path)
        result = import_fts(text, namespace)
        assert result.text is None and code in {d.code for d in result.diagnostics}, code


def test_fts_refuses_duplicate_keys_and_gaps(namespaces: dict[str, Namespace], tmp_path: Path) -> None:
    namespace = namespaces["toy"]
    for code, text in {
        "W504": "0:\n  params: [model.head.weight]\n0:\n  params: [model.head.bias]\n",
        "W506": "0:\n  params: [model.head.weight]\n2:\n  params: [model.head.bias]\n",
    }.items():
        with pytest.raises(MisconfigurationException):
            fts_schedule(_write(tmp_path, text), namespace, tmp_path)
        assert code in {d.code for d in import_fts(text, namespace).diagnostics}


def test_fts_ignores_unknown_keys_and_keeps_string_lrs(
    namespaces: dict[str, Namespace], tmp_path: Path
) -> None:
    text = (
        "0:\n  params: [model.head.weight]\n"
        "1:\n  params: [model.head.bias]\n  lr: 1e-4\n  max_transition_epochs: 3\n"
    )
    theirs = fts_schedule(_write(tmp_path, text), namespaces["toy"], tmp_path)
    assert theirs[1]["lr"] == "1e-4"  # validated with float(), kept a string
    assert theirs[1]["max_transition_epoch"] == -1  # the misspelt key changed nothing
    codes = {d.code for d in import_fts(text, namespaces["toy"]).diagnostics}
    assert codes == {"W505", "W507", "W208"}  # W208: the toy's other parameters are never thawed


def test_fts_refuses_reinit_lr_cfg_next_to_an_explicit_schedule(
    namespaces: dict[str, Namespace], tmp_path: Path
) -> None:
    """Why export writes `defaults.lr_scheduler` into each phase instead of a `reinit_lr_cfg` argument."""
    plan = plan_of(TOY_FTS, namespaces["toy"])
    path = _write(tmp_path, export_fts(plan).text)
    reinit = {
        "lr_scheduler_init": {"class_path": "torch.optim.lr_scheduler.StepLR", "init_args": {"step_size": 2}}
    }
    with pytest.raises(MisconfigurationException, match="reinit_lr_cfg"):
        fts_schedule(path, namespaces["toy"], tmp_path, epoch_transitions_only=True, reinit_lr_cfg=reinit)


def test_exported_yaml_reloads_identically(namespaces: dict[str, Namespace]) -> None:
    """FTS's own loader (duplicate keys refused) reads the file back as the schedule we meant."""
    import yaml
    from finetuning_scheduler.fts_supporters import UniqueKeyLoader

    plan = plan_of(TOY_FTS, namespaces["toy"])
    result = export_fts(plan)
    assert yaml.load(result.text, Loader=UniqueKeyLoader) == result.schedule
    assert json.loads(json.dumps(result.schedule)) is not None
