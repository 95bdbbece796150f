"""The memory model is exact: for every phase and every rank, the bytes of parameters, gradients and optimizer
state the compile-time estimate gives equal what FTSMemoryReport measures on the live run (each storage once,
DTensor local shards, FSDP1 flat parameters and their gradients) — on one process, DDP, FSDP1 (flat units
and use_orig_params) and ModelParallel/FSDP2 with uneven shards, for optimizer configurations whose state
differs (none, momentum, amsgrad, centered + momentum, factored, a reinitialised optimizer) and precisions
that change the stored dtype (32-true, bf16-true, bf16-mixed, 64-true); and for a Hugging Face GPT-2 built
from a tiny config. Multi-process cases run tests/runtime/memory_case.py as a script, several
configurations per launch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch.distributed as dist
from launch import run_case_script
from memory_case import CONFIGS, main, run_hf

FIELDS = ("params", "grads", "optimizer")
PHASES = 3


def mismatches(report: dict[str, Any], world: int) -> list[str]:
    """Every (phase, rank, field) where estimate and measurement differ, and any phase or rank missing."""
    problems = []
    assert [phase["index"] for phase in report["phases"]] == list(range(PHASES)), report
    for phase in report["phases"]:
        assert [rank["rank"] for rank in phase["ranks"]] == list(range(world)), phase
        for rank in phase["ranks"]:
            measured, estimate = rank["measured"], rank["estimate"]
            assert estimate is not None, f"phase {phase['index']}: no estimate"
            for field in FIELDS:
                if measured[field] != estimate[field]:
                    problems.append(
                        f"phase {phase['index']} rank {rank['rank']} {field}: "
                        f"measured {measured[field]}, estimated {estimate[field]}"
                    )
    return problems


def check_reports(out: Path, configs: list[str], world: int, stderr: str = "") -> None:
    problems: dict[str, list[str]] = {}
    for config in configs:
        errors = sorted(out.glob(f"{config}-error-rank*.txt"))
        assert not errors, errors[0].read_text()[-3000:]
        path = out / f"{config}.json"
        assert path.exists(), f"{config}: no report\n{stderr[-3000:]}"
        report = json.loads(path.read_text())
        assert report["devices"] == world
        # no CUDA counters on CPU, so no measured activations to feed back
        assert all(phase["activations"] is None for phase in report["phases"])
        found = mismatches(report, world)
        if found:
            problems[config] = found
        # the run trained: each phase's gradients grow as it thaws more
        grads = [phase["ranks"][0]["measured"]["grads"] for phase in report["phases"]]
        assert grads == sorted(grads) and grads[0] < grads[-1], (config, grads)
    assert not problems, problems


def test_single_process_every_optimizer_and_precision(tmp_path: Path) -> None:
    configs = [*CONFIGS, "adamw@bf16-true", "rmsprop-centered-momentum@bf16-true", "sgd-then-adam@bf16-true",
               "adam-amsgrad@bf16-mixed", "sgd-momentum@64-true"]  # fmt: skip
    main("single", tmp_path, configs)
    check_reports(tmp_path, configs, world=1)


@pytest.mark.parametrize("precision", ["32-true", "bf16-true"])
def test_a_hugging_face_model_from_its_config(tmp_path: Path, precision: str) -> None:
    pytest.importorskip("transformers")
    run_hf(precision, tmp_path)
    report = json.loads((tmp_path / f"gpt2@{precision}.json").read_text())
    assert mismatches(report, 1) == []


def test_the_report_line_puts_the_estimate_beside_each_measurement() -> None:
    from ftsc.compiler.memory.model import MemoryConfig, OptimizerSpec, PhaseInput, estimate
    from ftsc.runtime.memory_report import Measured, memory_line

    plan = estimate(
        [(4, 2)], ["float32"], [PhaseInput("all", (0,))], MemoryConfig(optimizer=OptimizerSpec("SGD"))
    )
    line = memory_line("phase 0 `all`", 0, Measured(params=32, grads=32, optimizer=8), plan, 0)
    assert line.startswith("phase 0 `all` on rank 0: params 32 B (= estimate), grads 32 B (= estimate)")
    assert "optimizer 8 B (estimate 0 B)" in line  # SGD without momentum keeps nothing
    assert "CUDA" not in line


MULTI = ["sgd", "sgd-momentum@bf16-true", "adam-amsgrad", "rmsprop-centered-momentum@bf16-true", "nadam",
         "sgd-then-adam"]  # fmt: skip


@pytest.mark.slow
@pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(), reason="needs gloo")
@pytest.mark.parametrize(
    ("strategy", "configs"),
    [
        ("ddp", MULTI),
        ("fsdp2", MULTI),
        ("fsdp", MULTI),
        ("fsdp-flat", ["adamw", "adagrad@bf16-true"]),
    ],
)
def test_two_processes(tmp_path: Path, strategy: str, configs: list[str]) -> None:
    done = run_case_script("memory_case.py", strategy, str(tmp_path), *configs, timeout=400)
    check_reports(tmp_path, configs, world=2, stderr=done.stderr)
