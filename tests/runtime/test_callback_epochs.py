"""The callback on one device: epoch-driven phases thaw exactly the plan's parameters with the plan's lrs."""

from __future__ import annotations

from pathlib import Path

import pytest
from runtime_support import Probe, ToyModel, loaders, three_phase_plan, trainer

from ftsc.runtime import FinetuningScheduler, NamespaceMismatchError, RuntimeConfigError

HEAD = frozenset({"head.weight", "head.bias"})
UPPER = HEAD | {"backbone.2.weight", "backbone.2.bias"}
ALL = UPPER | {"backbone.0.weight", "backbone.0.bias"}


def test_phases_thaw_the_plan_at_their_epochs(tmp_path: Path) -> None:
    probe = Probe()
    scheduler = FinetuningScheduler(plan=three_phase_plan(first=1, second=3))
    fit = trainer(tmp_path, 5, [scheduler, probe])
    fit.fit(ToyModel(lr=0.1), *loaders())
    assert [r.depth for r in probe.records] == [0, 1, 1, 2, 2]
    assert [r.trainable for r in probe.records] == [HEAD, UPPER, UPPER, ALL, ALL]
    # phase 0 keeps the optimizer's lr; each later phase adds one group with its own lr
    assert probe.records[0].lrs == (0.1,)
    assert probe.records[1].lrs == (0.1, 0.05)
    assert probe.records[3].lrs == (0.1, 0.05, 0.01)
    assert probe.records[3].group_sizes == (2, 2, 2)
    assert [t.depth for t in scheduler.history] == [0, 1, 2]
    assert [t.epoch for t in scheduler.history] == [0, 1, 3]


def test_max_depth_stops_at_that_phase(tmp_path: Path) -> None:
    probe = Probe()
    scheduler = FinetuningScheduler(plan=three_phase_plan(first=1, second=2), max_depth=1)
    trainer(tmp_path, 4, [scheduler, probe]).fit(ToyModel(), *loaders())
    assert [r.depth for r in probe.records] == [0, 1, 1, 1]
    assert probe.records[-1].trainable == UPPER


def test_frozen_parameters_do_not_change(tmp_path: Path) -> None:
    model = ToyModel()
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    scheduler = FinetuningScheduler(plan=three_phase_plan(first=2, second=4))
    trainer(tmp_path, 2, [scheduler]).fit(model, *loaders())
    after = dict(model.named_parameters())
    for name in ALL - HEAD:
        assert after[name].equal(before[name]), name
    assert not after["head.weight"].equal(before["head.weight"])


def test_a_model_that_does_not_fit_the_plan_is_refused_before_training(tmp_path: Path) -> None:
    plan = three_phase_plan()
    model = ToyModel()
    model.extra = __import__("torch").nn.Linear(2, 2)  # names the plan does not know
    with pytest.raises(NamespaceMismatchError) as caught:
        trainer(tmp_path, 1, [FinetuningScheduler(plan=plan)]).fit(model, *loaders())
    message = str(caught.value)
    assert "2 not in the plan" in message and "`extra.weight`" in message
    assert "ftsc compile" in message


def test_plan_or_schedule_exactly_one() -> None:
    with pytest.raises(RuntimeConfigError, match="exactly one"):
        FinetuningScheduler()


@pytest.mark.parametrize("track", [False, True])
def test_batchnorm_statistics_follow_frozen_bn_track_running_stats(track: bool) -> None:
    import torch

    from ftsc.runtime.freezing import freeze, thaw
    from ftsc.runtime.names import canonical_parameters

    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.BatchNorm1d(4), torch.nn.BatchNorm1d(4))
    freeze(model, track_running_stats=track)
    assert not any(p.requires_grad for p in model.parameters())
    assert [model[1].track_running_stats, model[2].track_running_stats] == [track, track]
    parameters = canonical_parameters(model)
    assert thaw(model, parameters, ("1.weight", "1.bias"), track_running_stats=track) == 2
    assert model[1].track_running_stats  # a thawed BatchNorm tracks its statistics again
    assert model[2].track_running_stats is track
    assert [n for n, p in model.named_parameters() if p.requires_grad] == ["1.weight", "1.bias"]


def test_every_stateful_part_speaks_the_stateful_protocol() -> None:
    from ftsc.adapters.registry import resolve_adapter
    from ftsc.runtime import FTSCheckpoint, FTSEarlyStopping, Stateful

    parts = [
        FinetuningScheduler(plan=three_phase_plan()),
        FTSCheckpoint(monitor="val_loss"),
        FTSEarlyStopping(monitor="val_loss"),
        resolve_adapter("default"),
    ]
    assert all(isinstance(part, Stateful) for part in parts)
    assert not isinstance(object(), Stateful)
    stopping = FTSEarlyStopping(monitor="val_loss")
    stopping.phase_complete, stopping.final_phase = True, False
    restored = FTSEarlyStopping(monitor="val_loss")
    restored.load_state_dict(stopping.state_dict())
    assert (restored.phase_complete, restored.final_phase) == (True, False)
