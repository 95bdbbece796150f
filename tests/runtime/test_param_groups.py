"""Phase groups and lr schedulers across a transition: every torch scheduler keeps stepping, and the new group's
lr is what the scheduler gives it (checked against a twin optimizer that had the group from the start, and
against Fine-Tuning Scheduler's own code where FTS supports the scheduler)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Literal

import pytest
import torch
from finetuning_scheduler.fts_supporters import ScheduleImplMixin, ScheduleParsingMixin
from torch import nn
from torch.optim import SGD, AdamW, Optimizer, lr_scheduler
from torch.optim.lr_scheduler import (
    ChainedScheduler,
    ConstantLR,
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    CyclicLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    LRScheduler,
    MultiplicativeLR,
    MultiStepLR,
    OneCycleLR,
    PolynomialLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)

from ftsc.compiler.classes import known_class_names
from ftsc.compiler.compile import compile_schedule
from ftsc.compiler.namespace import Namespace
from ftsc.compiler.optim import BASE_CLASSES, RUNTIME_LR_SCHEDULERS, TESTED_LR_SCHEDULERS
from ftsc.runtime.errors import RuntimeConfigError
from ftsc.runtime.param_groups import add_phase_groups, split_no_decay
from ftsc.runtime.reinit import build_lr_scheduler, build_optimizer
from ftsc.runtime.schedulers import CARRIED_SCHEDULERS, carry_scheduler

LR0 = 0.1  # phase 0's lr
PHASE_LR = 0.02  # the new phase's lr
BEFORE, AFTER = 3, 8  # scheduler steps before and after the transition

Follows = Literal["current", "base"]


@dataclass(frozen=True)
class Case:
    make: Callable[[Optimizer], LRScheduler]
    # How the new group goes on at scheduler step t: from its current lr (scaled like the other groups), or
    # from its base lr (like a group that had the phase lr from the start).
    follows: Callable[[int], Follows]


def current(_: int) -> Follows:
    return "current"


def base(_: int) -> Follows:
    return "base"


def _lrs(optimizer: Optimizer) -> list[float]:
    return [float(group["lr"]) for group in optimizer.param_groups]


def _cyclic(optimizer: Optimizer) -> LRScheduler:
    lrs = _lrs(optimizer)
    return CyclicLR(optimizer, base_lr=lrs, max_lr=[10 * lr for lr in lrs], step_size_up=3)


def _one_cycle(optimizer: Optimizer) -> LRScheduler:
    lrs = _lrs(optimizer)
    return OneCycleLR(optimizer, max_lr=[25 * lr for lr in lrs], div_factor=25.0, total_steps=20)


def _sequential(optimizer: Optimizer) -> LRScheduler:
    warmup = LinearLR(optimizer, start_factor=0.25, total_iters=4)
    return SequentialLR(optimizer, [warmup, ExponentialLR(optimizer, gamma=0.8)], milestones=[5])


CASES: dict[str, Case] = {
    "LambdaLR": Case(lambda o: LambdaLR(o, lambda epoch: 0.8**epoch), base),
    "MultiplicativeLR": Case(lambda o: MultiplicativeLR(o, lambda epoch: 0.8), current),
    "StepLR": Case(lambda o: StepLR(o, step_size=2, gamma=0.5), current),
    "MultiStepLR": Case(lambda o: MultiStepLR(o, milestones=[2, 5], gamma=0.5), current),
    "ConstantLR": Case(lambda o: ConstantLR(o, factor=0.5, total_iters=5), current),
    "LinearLR": Case(lambda o: LinearLR(o, start_factor=0.25, total_iters=5), current),
    "ExponentialLR": Case(lambda o: ExponentialLR(o, gamma=0.8), current),
    "PolynomialLR": Case(lambda o: PolynomialLR(o, total_iters=12, power=2.0), current),
    "CosineAnnealingLR": Case(lambda o: CosineAnnealingLR(o, T_max=20), current),
    "CosineAnnealingWarmRestarts": Case(lambda o: CosineAnnealingWarmRestarts(o, T_0=4), base),
    "CyclicLR": Case(_cyclic, base),
    "OneCycleLR": Case(_one_cycle, base),
    "ReduceLROnPlateau": Case(lambda o: ReduceLROnPlateau(o, factor=0.5, patience=1), current),
    # The warm-up carries the group from its lr; at the milestone ExponentialLR restarts it from its base.
    "SequentialLR": Case(_sequential, lambda step: "current" if step < 5 else "base"),
    "ChainedScheduler": Case(
        lambda o: ChainedScheduler([ConstantLR(o, factor=0.5, total_iters=5), ExponentialLR(o, gamma=0.8)]),
        current,
    ),
}


def _parameter() -> nn.Parameter:
    return nn.Parameter(torch.zeros(2))


def _step(optimizer: Optimizer, scheduler: LRScheduler) -> None:
    optimizer.step()
    if isinstance(scheduler, ReduceLROnPlateau):
        scheduler.step(1.0)  # a plateau: the lr is cut every `patience + 1` steps
    else:
        scheduler.step()


@dataclass
class Trace:
    lrs: list[list[float]]  # every group's lr after each scheduler step (index = steps taken)
    momenta: list[list[float]]


def _record(trace: Trace, optimizer: Optimizer) -> None:
    trace.lrs.append(_lrs(optimizer))
    trace.momenta.append([float(group["momentum"]) for group in optimizer.param_groups])


def _run_with_transition(case: Case, *, apply_lambdas: bool = False) -> Trace:
    """Phase 0 alone for BEFORE steps, then the phase group added, then AFTER steps."""
    optimizer = SGD([_parameter()], lr=LR0, momentum=0.9)
    scheduler = case.make(optimizer)
    trace = Trace([], [])
    _record(trace, optimizer)
    for _ in range(BEFORE):
        _step(optimizer, scheduler)
        _record(trace, optimizer)
    added = add_phase_groups(
        optimizer, scheduler, [("b", _parameter())], PHASE_LR, apply_lambdas=apply_lambdas
    )
    assert [(group.no_decay, group.group["initial_lr"]) for group in added] == [(False, PHASE_LR)]
    assert len(scheduler.get_last_lr()) == 2
    # step BEFORE is recorded as the transition left it
    trace.lrs.pop()
    trace.momenta.pop()
    _record(trace, optimizer)
    for _ in range(AFTER):
        _step(optimizer, scheduler)
        _record(trace, optimizer)
    return trace


def _run_twin(case: Case, second_lr: float) -> Trace:
    """The same scheduler over two groups from the start: phase 0's and one whose base lr is `second_lr`."""
    optimizer = SGD(
        [{"params": [_parameter()]}, {"params": [_parameter()], "lr": second_lr}], lr=LR0, momentum=0.9
    )
    scheduler = case.make(optimizer)
    trace = Trace([], [])
    _record(trace, optimizer)
    for _ in range(BEFORE + AFTER):
        _step(optimizer, scheduler)
        _record(trace, optimizer)
    return trace


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_scheduler_keeps_stepping_and_schedules_the_new_group(name: str) -> None:
    case = CASES[name]
    trace = _run_with_transition(case)
    at_transition = trace.lrs[BEFORE]
    assert at_transition[1] == PHASE_LR  # the phase lr is the new group's starting lr (FTS)
    assert trace.momenta[BEFORE][1] == trace.momenta[BEFORE][0]  # the schedule's momentum, not the default
    twins: dict[Follows, Trace] = {
        "base": _run_twin(case, PHASE_LR),
        # a group whose lr at the transition would have been the phase lr
        "current": _run_twin(case, PHASE_LR * LR0 / at_transition[0]),
    }
    for step in range(BEFORE + 1, BEFORE + AFTER + 1):
        twin = twins[case.follows(step)]
        assert trace.lrs[step][1] == pytest.approx(twin.lrs[step][1], rel=1e-9), f"lr after step {step}"
        assert trace.lrs[step][0] == pytest.approx(twin.lrs[step][0], rel=1e-9)  # phase 0's group undisturbed
        assert trace.momenta[step] == pytest.approx(twin.momenta[step], rel=1e-9)
    assert len({round(lrs[1], 12) for lrs in trace.lrs[BEFORE:]}) > 1  # the scheduler does move the group


def test_apply_lambdas_starts_the_group_at_its_scheduled_lr() -> None:
    case = CASES["LambdaLR"]
    trace = _run_with_transition(case, apply_lambdas=True)
    twin = _run_twin(case, PHASE_LR)
    assert trace.lrs[BEFORE][1] == pytest.approx(PHASE_LR * 0.8**BEFORE)
    assert [lrs[1] for lrs in trace.lrs[BEFORE:]] == pytest.approx([lrs[1] for lrs in twin.lrs[BEFORE:]])


def test_apply_lambdas_uses_the_lambda_of_the_active_sequential_scheduler() -> None:
    optimizer = SGD([_parameter()], lr=LR0)
    first = LambdaLR(optimizer, lambda epoch: 0.5)
    second = LambdaLR(optimizer, lambda epoch: 0.9**epoch)
    scheduler = SequentialLR(optimizer, [first, second], milestones=[2])
    for _ in range(4):
        _step(optimizer, scheduler)
    add_phase_groups(optimizer, scheduler, [("b", _parameter())], PHASE_LR, apply_lambdas=True)
    assert optimizer.param_groups[1]["lr"] == pytest.approx(PHASE_LR * 0.9**second.last_epoch)
    _step(optimizer, scheduler)
    assert optimizer.param_groups[1]["lr"] == pytest.approx(PHASE_LR * 0.9**second.last_epoch)


# -- Fine-Tuning Scheduler's own code as the reference ------------------------------------------------------

FTS_MAKERS: dict[str, Callable[[Optimizer], LRScheduler]] = {
    **{name: CASES[name].make for name in TESTED_LR_SCHEDULERS | {"PolynomialLR"}},
    # short enough to pass the restart branch, which reads `base_lrs`
    "CosineAnnealingLR": lambda o: CosineAnnealingLR(o, T_max=3, eta_min=0.001),
}


class _Module(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = _parameter()
        self.b = _parameter()


def _fts_run(
    make: Callable[[Optimizer], LRScheduler], apply_lambdas: bool, *, ours: bool
) -> list[list[float]]:
    module = _Module()
    optimizer = SGD([module.a], lr=LR0, momentum=0.9)
    scheduler = make(optimizer)
    for _ in range(BEFORE):
        _step(optimizer, scheduler)
    if ours:
        add_phase_groups(optimizer, scheduler, [("b", module.b)], PHASE_LR, apply_lambdas=apply_lambdas)
    else:
        module.trainer = SimpleNamespace(lr_scheduler_configs=[SimpleNamespace(scheduler=scheduler)])
        ScheduleImplMixin.add_optimizer_groups(
            module=module, optimizer=optimizer, thawed_pl=["b"], lr=PHASE_LR, apply_lambdas=apply_lambdas
        )
    lrs = [_lrs(optimizer)]
    for _ in range(AFTER):
        _step(optimizer, scheduler)
        lrs.append(_lrs(optimizer))
    return lrs


@pytest.mark.parametrize("apply_lambdas", [False, True])
@pytest.mark.parametrize("name", sorted(FTS_MAKERS))
def test_the_lrs_are_those_fts_gives(name: str, apply_lambdas: bool) -> None:
    make = FTS_MAKERS[name]
    ours = _fts_run(make, apply_lambdas, ours=True)
    theirs = _fts_run(make, apply_lambdas, ours=False)
    assert len(ours) == len(theirs) == AFTER + 1
    for step, (our_lrs, their_lrs) in enumerate(zip(ours, theirs, strict=True)):
        assert our_lrs == pytest.approx(their_lrs, rel=1e-12), f"after {step} steps past the transition"


def test_no_decay_split_is_the_one_fts_makes() -> None:
    module = nn.Module()
    module.layer, module.norm = nn.Module(), nn.Module()
    module.layer.weight, module.layer.bias, module.norm.weight = _parameter(), _parameter(), _parameter()
    named = list(module.named_parameters())
    no_decay = ["bias", "norm.weight"]
    optimizer = AdamW([_parameter()], lr=LR0, weight_decay=0.01)
    added = add_phase_groups(optimizer, None, named, PHASE_LR, no_decay=no_decay)
    fts_optimizer = AdamW([_parameter()], lr=LR0, weight_decay=0.01)
    ScheduleImplMixin._add_groups(no_decay, fts_optimizer, module, [name for name, _ in named], PHASE_LR)

    def layout(groups: list[dict[str, Any]]) -> list[tuple[list[int], float, float, float]]:
        return [([id(p) for p in g["params"]], g["weight_decay"], g["lr"], g["initial_lr"]) for g in groups]

    assert layout([group.group for group in added]) == layout(fts_optimizer.param_groups[1:])
    assert [(len(group.group["params"]), group.no_decay) for group in added] == [(1, False), (2, True)]


def test_no_decay_keeps_an_empty_half_so_every_phase_adds_two_groups() -> None:
    optimizer = SGD([_parameter()], lr=LR0)
    added = add_phase_groups(optimizer, None, [("x.bias", _parameter())], PHASE_LR, no_decay=["bias"])
    assert [(len(group.group["params"]), group.no_decay) for group in added] == [(0, False), (1, True)]


def test_held_frozen_and_tied_parameters_are_left_out() -> None:
    held, frozen, tied = _parameter(), _parameter(), _parameter()
    frozen.requires_grad_(False)
    optimizer = SGD([held], lr=LR0)
    scheduler = LambdaLR(optimizer, lambda epoch: 1.0)
    named = [("held", held), ("frozen", frozen), ("tied.a", tied), ("tied.b", tied)]
    added = add_phase_groups(optimizer, scheduler, named, PHASE_LR)
    assert [[id(p) for p in group.group["params"]] for group in added] == [[id(tied)]]
    again = add_phase_groups(optimizer, scheduler, named, PHASE_LR)  # a resumed run replaying the phase
    assert again == []
    assert len(optimizer.param_groups) == len(scheduler.base_lrs) == len(scheduler.lr_lambdas) == 2


def test_split_no_decay_without_names_is_one_group_in_order() -> None:
    first, second = _parameter(), _parameter()
    split = split_no_decay([("b.bias", second), ("a.weight", first)], None)
    assert [([id(p) for p in parameters], free) for parameters, free in split] == [
        ([id(second), id(first)], False)
    ]


# -- schedulers outside torch -------------------------------------------------------------------------------


class Halving(LRScheduler):
    """A user scheduler computed from its base lrs, which the runtime carries as FTS does."""

    def get_lr(self) -> list[float | torch.Tensor]:
        return [base_lr * 0.5**self.last_epoch for base_lr in self.base_lrs]


def test_a_user_scheduler_gets_the_generic_treatment() -> None:
    optimizer = SGD([_parameter()], lr=LR0)
    scheduler = Halving(optimizer)
    for _ in range(BEFORE):
        _step(optimizer, scheduler)
    add_phase_groups(optimizer, scheduler, [("b", _parameter())], PHASE_LR)
    _step(optimizer, scheduler)
    assert _lrs(optimizer) == pytest.approx([LR0 * 0.5 ** (BEFORE + 1), PHASE_LR * 0.5 ** (BEFORE + 1)])


def test_a_scheduler_that_is_no_lr_scheduler_is_a_clear_error() -> None:
    optimizer = SGD([_parameter()], lr=LR0)
    with pytest.raises(RuntimeConfigError, match="not a torch `LRScheduler`"):
        carry_scheduler(SimpleNamespace(optimizer=optimizer), optimizer.param_groups, PHASE_LR)  # type: ignore[arg-type]


# -- the compiler's table, the runtime and torch agree ------------------------------------------------------


def test_the_compiler_accepts_exactly_the_schedulers_the_runtime_carries_and_tests() -> None:
    in_torch = {
        name
        for name, value in vars(lr_scheduler).items()
        if isinstance(value, type)
        and issubclass(value, LRScheduler)
        and value.__module__ == lr_scheduler.__name__
    } - BASE_CLASSES
    carried = {cls.__name__ for cls in CARRIED_SCHEDULERS}
    assert set(RUNTIME_LR_SCHEDULERS) == carried == set(CASES) == in_torch
    assert (
        set(known_class_names("lr_scheduler")) - BASE_CLASSES == in_torch
    )  # what the compiler reads of torch


# -- new optimizers and lr schedulers -----------------------------------------------------------------------


def test_build_optimizer_holds_every_phase_with_its_lr_and_split() -> None:
    phases = [
        ([("head.weight", _parameter()), ("head.bias", _parameter())], None),
        ([("body.weight", _parameter())], PHASE_LR),
        ([("stem.weight", _parameter()), ("stem.bias", _parameter())], None),
    ]
    spec = {"class_path": "AdamW", "init_args": {"lr": 1e-3, "weight_decay": 0.01}}
    optimizer, layout = build_optimizer(spec, phases, no_decay=["bias"])
    assert isinstance(optimizer, AdamW)
    assert layout == [(0, False), (0, True), (1, False), (1, True), (2, False), (2, True)]
    groups = optimizer.param_groups
    assert [g["lr"] for g in groups] == [1e-3, 1e-3, PHASE_LR, PHASE_LR, 1e-3, 1e-3]
    assert [g["initial_lr"] for g in groups] == [g["lr"] for g in groups]
    assert [g["weight_decay"] for g in groups] == [0.01, 0.0, 0.01, 0.0, 0.01, 0.0]
    assert [[id(p) for p in g["params"]] for g in groups] == [
        [id(phases[0][0][0][1])],
        [id(phases[0][0][1][1])],
        [id(phases[1][0][0][1])],
        [],
        [id(phases[2][0][0][1])],
        [id(phases[2][0][1][1])],
    ]


def _fts_reinit(optimizer: Optimizer, config: dict[str, Any]) -> LRScheduler:
    """FTS's `reinit_lr_scheduler`, run on a stand-in for the callback and the trainer."""
    fake = SimpleNamespace(_maybe_trace_reinit=lambda *args: None)
    fake._is_supported_lr = functools.partial(ScheduleParsingMixin._is_supported_lr, fake)
    fake._import_reinit_class = functools.partial(ScheduleParsingMixin._import_reinit_class, fake)
    trainer = SimpleNamespace(lr_scheduler_configs=[None], strategy=SimpleNamespace())
    ScheduleParsingMixin.reinit_lr_scheduler(fake, config, trainer, optimizer)  # type: ignore[arg-type]
    scheduler: LRScheduler = trainer.strategy.lr_scheduler_configs[0].scheduler
    return scheduler


def _mid_run_optimizer() -> Optimizer:
    """Three groups mid-run: two with an `initial_lr` their current lr has moved from, one without."""
    return SGD(
        [
            {"params": [_parameter()], "lr": 0.05, "initial_lr": 0.1},
            {"params": [_parameter()], "lr": 0.01, "initial_lr": 0.02},
            {"params": [_parameter()], "lr": 0.03},
        ],
        lr=LR0,
    )


SCHEDULER_SPECS = {
    "StepLR": {"step_size": 1, "gamma": 0.5},
    "CosineAnnealingWarmRestarts": {"T_0": 3},
}
STEP_LR_START = {
    "init_pg_lrs": [0.3, 0.4, 0.5],
    "use_current_optimizer_pg_lrs": [0.05, 0.01, 0.03],
    "initial_lr": [0.1, 0.02, 0.03],
}
PRECEDENCE = {
    "init_pg_lrs": {"init_pg_lrs": [0.3, 0.4, 0.5]},
    "use_current_optimizer_pg_lrs": {"use_current_optimizer_pg_lrs": True},
    "initial_lr": {},
}


@pytest.mark.parametrize("precedence", sorted(PRECEDENCE))
@pytest.mark.parametrize("name", sorted(SCHEDULER_SPECS))
def test_a_new_lr_scheduler_starts_from_the_lrs_fts_gives(name: str, precedence: str) -> None:
    directives = PRECEDENCE[precedence]
    init_args = SCHEDULER_SPECS[name]
    ours_optimizer, fts_optimizer = _mid_run_optimizer(), _mid_run_optimizer()
    spec = {"class_path": f"torch.optim.lr_scheduler.{name}", "init_args": init_args, "config": {}}
    ours, config = build_lr_scheduler(spec, ours_optimizer, **directives)  # type: ignore[arg-type]
    fts_config = {
        "lr_scheduler_init": {"class_path": spec["class_path"], "init_args": init_args},
        **directives,
    }
    theirs = _fts_reinit(fts_optimizer, fts_config)
    assert type(ours) is type(theirs)
    assert config == {"reduce_on_plateau": False}
    trace: list[tuple[list[float], list[Any]]] = []
    for optimizer, scheduler in ((ours_optimizer, ours), (fts_optimizer, theirs)):
        lrs = [_lrs(optimizer)]
        for _ in range(3):
            _step(optimizer, scheduler)
            lrs.append(_lrs(optimizer))
        trace.append((lrs, [g["initial_lr"] for g in optimizer.param_groups]))
    assert trace[0] == trace[1]
    if name == "StepLR":  # which creates without moving the lrs: they are the ones the precedence chose
        assert trace[0][0][0] == STEP_LR_START[precedence]


def test_init_pg_lrs_of_another_length_is_an_error() -> None:
    spec = {"class_path": "StepLR", "init_args": {"step_size": 1}, "config": {}}
    with pytest.raises(RuntimeConfigError, match=r"gives 2 lrs .* has 3 parameter groups"):
        build_lr_scheduler(spec, _mid_run_optimizer(), init_pg_lrs=[0.1, 0.2])


def test_reduce_on_plateau_gets_lightnings_flag_and_its_config() -> None:
    spec = {
        "class_path": "ReduceLROnPlateau",
        "init_args": {"patience": 2},
        "config": {"monitor": "val_loss"},
    }
    scheduler, config = build_lr_scheduler(spec, _mid_run_optimizer())
    assert isinstance(scheduler, ReduceLROnPlateau)
    assert scheduler.patience == 2
    assert config == {"monitor": "val_loss", "reduce_on_plateau": True}


def test_a_compiled_sequential_scheduler_is_built_and_carried() -> None:
    text = (
        "phase head { thaw head.* }\n"
        "phase body { thaw body.*\n"
        "  lr_scheduler = SequentialLR(schedulers = [LinearLR(total_iters = 2), ExponentialLR(gamma = 0.5)],"
        " milestones = [2])\n}\n"
        "phase stem { thaw stem.* }\n"
    )
    result = compile_schedule(text, Namespace.from_names(["head.weight", "body.weight", "stem.weight"]))
    assert [d.code for d in result.diagnostics] == ["W305"]  # SequentialLR is outside FTS's tested set
    assert result.plan is not None
    spec = result.plan["phases"][1]["lr_scheduler"]  # type: ignore[index]
    optimizer = SGD([_parameter(), _parameter()], lr=LR0)
    scheduler, _ = build_lr_scheduler(spec, optimizer)
    assert isinstance(scheduler, SequentialLR)
    assert [type(child) for child in scheduler._schedulers] == [LinearLR, ExponentialLR]
    add_phase_groups(optimizer, scheduler, [("stem.weight", _parameter())], PHASE_LR)
    for _ in range(3):
        _step(optimizer, scheduler)
    assert _lrs(optimizer) == pytest.approx([LR0 * 0.5, PHASE_LR * 0.5])  # one ExponentialLR step past 2


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"class_path": "NoSuchLR", "init_args": {}}, "`torch.optim.lr_scheduler` has no class `NoSuchLR`"),
        ({"class_path": "no_such_package.LR", "init_args": {}}, "cannot import `no_such_package`"),
        ({"class_path": "StepLR", "init_args": {"step_sise": 1}}, "cannot create `StepLR`"),
        ({"class_path": "torch.optim.SGD", "init_args": {}}, "cannot create `torch.optim.SGD`"),
    ],
)
def test_a_scheduler_that_cannot_be_created_is_a_clear_error(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(RuntimeConfigError, match=message):
        build_lr_scheduler({**spec, "config": {}}, _mid_run_optimizer())
