"""The memory model without torch: the optimizer-state snapshot (and that it matches the installed torch),
and per-strategy placement worked out by hand for small cases. Exactness against live runs is in
tests/runtime/test_memory_exact.py."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from ftsc.compiler.memory.model import (
    EstimateError,
    MemoryConfig,
    OptimizerSpec,
    PhaseInput,
    estimate,
)
from ftsc.compiler.memory.state import StateLayout, Unmodelled, optimizer_state

TOOL = Path(__file__).resolve().parents[2] / "tools" / "gen_optimizer_state.py"


def keys(class_path: str, **arguments: object) -> list[str]:
    layout = optimizer_state(class_path, arguments)
    assert isinstance(layout, StateLayout), layout
    tensors = layout.tensors(2)
    assert not isinstance(tensors, str)
    return [t.key for t in tensors]


def test_the_snapshot_matches_the_installed_torch() -> None:
    pytest.importorskip("torch")
    spec = importlib.util.spec_from_file_location("gen_optimizer_state", TOOL)
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.main(["--check"]) == 0, "regenerate with tools/gen_optimizer_state.py"


def test_switches_choose_the_layout() -> None:
    assert keys("torch.optim.Adam") == ["exp_avg", "exp_avg_sq", "step"]
    assert keys("torch.optim.Adam", amsgrad=True) == ["exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"]
    assert keys("SGD") == []
    assert keys("SGD", momentum=0.9) == ["momentum_buffer"]
    assert keys("SGD", momentum=0) == []
    assert keys("RMSprop", momentum=0.5, centered=True) == [
        "grad_avg",
        "momentum_buffer",
        "square_avg",
        "step",
    ]


def test_adafactor_factors_matrices_only() -> None:
    layout = optimizer_state("Adafactor", {})
    assert isinstance(layout, StateLayout)
    matrix, vector = layout.tensors(2), layout.tensors(1)
    assert not isinstance(matrix, str) and not isinstance(vector, str)
    # a (6, 4) fp32 matrix: row_var (6, 1), col_var (1, 4), step: 6*4 + 4*4 + 4 bytes
    assert sum(t.nbytes((6, 4), 4) for t in matrix) == 24 + 16 + 4
    assert sum(t.nbytes((10,), 2) for t in vector) == 20 + 4  # variance in bf16, step fp32
    assert not layout.per_element


def test_what_cannot_be_modelled_is_said() -> None:
    lbfgs = optimizer_state("torch.optim.LBFGS", {})
    assert isinstance(lbfgs, Unmodelled) and "whole optimizer" in lbfgs.reason
    assert isinstance(optimizer_state("torch.optim.SparseAdam", {}), Unmodelled)
    assert isinstance(optimizer_state("mypkg.Lion", {}), Unmodelled)
    assert isinstance(optimizer_state("Adam", {"amsgrad": "yes"}), Unmodelled)


ADAM = OptimizerSpec("torch.optim.Adam")
SHAPES = [(7, 3), (7,), (1, 7), (1,)]


def plan(config: MemoryConfig, dtype: str = "float32", phases: list[PhaseInput] | None = None):  # type: ignore[no-untyped-def]
    phases = phases or [PhaseInput("head", (2, 3)), PhaseInput("rest", (0, 1))]
    return estimate(SHAPES, [dtype] * len(SHAPES), phases, config)


def test_single_device_counts_trainable_gradients_and_state() -> None:
    result = plan(MemoryConfig(optimizer=ADAM))
    head, rest = result.phases
    assert head.peak.params == (21 + 7 + 7 + 1) * 4
    assert head.peak.grads == 8 * 4
    assert head.peak.optimizer == 2 * 8 * 4 + 2 * 4  # exp_avg, exp_avg_sq; a 4-byte step per tensor
    assert rest.peak.grads == 36 * 4
    # restore_best loads the previous phase's weights and optimizer state beside the live ones
    assert rest.restore == (head.peak.states + head.peak.params + head.peak.optimizer,)


def test_precision_converts_floating_parameters_only_when_true() -> None:
    assert plan(MemoryConfig(precision="bf16-true")).param_bytes == 36 * 2
    assert plan(MemoryConfig(precision="bf16-mixed")).param_bytes == 36 * 4  # fp32 weights kept
    assert plan(MemoryConfig(precision="64-true")).param_bytes == 36 * 8
    with pytest.raises(EstimateError, match="transformer-engine"):
        plan(MemoryConfig(precision="transformer-engine"))


def test_fsdp2_pads_parameters_and_gradients_but_not_state() -> None:
    # 3 ranks: (7, 3) -> chunks of 3 rows: 3, 3, 1; (7,) -> 3, 3, 1; (1, 7) -> 1, 0, 0; (1,) -> 1, 0, 0
    result = plan(
        MemoryConfig(devices=3, strategy="fsdp2", optimizer=ADAM), phases=[PhaseInput(None, (0, 1, 2, 3))]
    )
    ranks = result.phases[0].ranks
    padded = 3 * 3 + 3 + 1 * 7 + 1
    assert [r.params for r in ranks] == [padded * 4] * 3
    assert [r.grads for r in ranks] == [padded * 4] * 3
    local = [9 + 3 + 7 + 1, 9 + 3, 3 + 1]
    assert [r.optimizer for r in ranks] == [n * 8 + 4 * 4 for n in local]


def test_fsdp1_aligns_original_parameters_and_pads_to_the_world() -> None:
    # use_orig_params: each start aligned to 16 bytes (4 fp32 elements): offsets 0, 24, 32, 40 -> 41
    # elements, padded to 42: 21 per rank
    config = MemoryConfig(devices=2, strategy="fsdp", optimizer=ADAM)
    ranks = plan(config, phases=[PhaseInput(None, (1, 2, 3))]).phases[0].ranks
    assert [r.params for r in ranks] == [21 * 4] * 2
    assert [r.grads for r in ranks] == [21 * 4] * 2
    # rank 0 holds none of the trainable parameters' elements (they start at 24); rank 1 holds all
    assert [r.optimizer for r in ranks] == [0, (7 + 7 + 1) * 8 + 3 * 4]
    flat = MemoryConfig(devices=2, strategy="fsdp", optimizer=ADAM, use_orig_params=False)
    ranks = plan(flat, phases=[PhaseInput(None, (0, 1, 2, 3))]).phases[0].ranks
    assert [r.params for r in ranks] == [18 * 4] * 2  # 36 elements, no alignment
    assert [r.optimizer for r in ranks] == [18 * 8 + 4] * 2  # one flat shard per rank


def test_ddp_adds_gradient_buckets() -> None:
    ranks = plan(MemoryConfig(devices=2, strategy="ddp", optimizer=ADAM)).phases[0].ranks
    assert len(ranks) == 2 and all(r.buckets == r.grads == 32 for r in ranks)


def test_an_unknown_optimizer_leaves_its_state_open() -> None:
    result = plan(MemoryConfig(optimizer=OptimizerSpec("torch.optim.LBFGS")))
    assert result.phases[0].peak.optimizer is None
    assert isinstance(result.phases[0].optimizer, Unmodelled)
    reinit = plan(MemoryConfig(), phases=[PhaseInput("a", (0,)), PhaseInput("b", (1,), ADAM)])
    assert reinit.phases[0].optimizer is None and reinit.phases[1].peak.optimizer == (21 + 7) * 8 + 8


@pytest.mark.parametrize(
    ("entry", "code"),
    [
        ("device_memory = 1e400", "E302"),
        ('device_memory = "1e400GiB"', "E302"),
        ("activations = 1e400", "E302"),
        ("devices = 100000000", "E302"),
        ("devices = 0", "E302"),
        ('precision = "fp8"', "E302"),
        ('strategy = "zero3"', "E302"),
        ('activations = "missing.json"', "E302"),
        ("optimizer = Nope()", "E303"),
        ("optimizer = AdamW(lrr = 1)", "E304"),
        ("devcies = 2", "E301"),
    ],
)
def test_bad_memory_settings_are_diagnostics_never_crashes(entry: str, code: str) -> None:
    from ftsc.compiler.compile import compile_schedule
    from ftsc.compiler.namespace import Namespace, ParameterInfo

    namespace = Namespace(
        [ParameterInfo("a.weight", (4, 2), "float32"), ParameterInfo("b.weight", (2,), "float32")]
    )
    text = f"defaults {{ memory = {{ {entry} }} }}\nphase a {{ thaw a.* }}\nphase b {{ thaw rest }}\n"
    result = compile_schedule(text, namespace)
    assert code in [d.code for d in result.diagnostics]
