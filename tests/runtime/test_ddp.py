"""DDP with 2 CPU processes (gloo): replicas stay identical through every phase, every rank agrees on the
plan (a mismatch raises on all ranks, no hang), and early-stopping transitions happen on all ranks at once.

Each case runs tests/runtime/ddp_case.py as a script (Lightning's DDP launcher re-runs the script for rank 1,
which under pytest would re-run pytest)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from launch import run_case_script


def run_case(case: str, out: Path) -> list[dict[str, Any]]:
    done = run_case_script("ddp_case.py", case, str(out), timeout=240)
    results = [
        json.loads((out / f"rank{rank}.json").read_text())
        for rank in (0, 1)
        if (out / f"rank{rank}.json").exists()
    ]
    assert len(results) == 2, done.stderr[-3000:]
    return results


@pytest.mark.slow
def test_replicas_stay_identical_through_every_phase(tmp_path: Path) -> None:
    for result in run_case("phases", tmp_path):
        assert "error" not in result, result
        assert result["depths"] == [0, 1, 2, 2]
        assert all(result["identical"]), result["identical"]


@pytest.mark.slow
def test_without_rewrapping_ddp_refuses_the_frozen_parameters(tmp_path: Path) -> None:
    """The control: DDP wrapped every parameter before the callback froze them, and without a re-wrap its
    reducer waits for gradients that frozen parameters never get (it would need find_unused_parameters)."""
    for result in run_case("no-rewrap", tmp_path):
        assert "find_unused_parameters" in result.get("error", ""), result


@pytest.mark.slow
def test_ranks_with_different_plans_all_fail(tmp_path: Path) -> None:
    results = run_case("plan-differs", tmp_path)
    assert [r["rank"] for r in results] == [0, 1]
    for result in results:
        assert result.get("error", "").startswith("PlanMismatchError: ranks hold different plans"), result


@pytest.mark.slow
def test_early_stopping_on_one_rank_moves_every_rank(tmp_path: Path) -> None:
    results = run_case("early", tmp_path)
    for result in results:
        assert "error" not in result, result
        assert all(result["identical"])
    assert results[0]["depths"] == results[1]["depths"]
    assert 1 in results[0]["depths"]
