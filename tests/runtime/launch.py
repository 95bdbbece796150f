"""Running a multi-process case script: Lightning's launcher re-runs the script for the other ranks (under
pytest it would re-run pytest), so each distributed case is a script run in a clean environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# Set by an enclosing distributed run; a case must start its own world.
LAUNCH_VARIABLES = ("LOCAL_RANK", "NODE_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


def run_case_script(script: str, *arguments: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run tests/runtime/<script> with `arguments`, with this folder importable; never raises on failure
    (the caller checks the files the ranks wrote and shows stderr when they are missing)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    for key in LAUNCH_VARIABLES:
        env.pop(key, None)
    return subprocess.run(
        [sys.executable, str(HERE / script), *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def assert_same_rank_states(expected: list[dict[str, Any]], got: list[dict[str, Any]]) -> None:
    """Per rank, the same keys and exactly the same values: every tensor `torch.equal`, everything else `==`."""
    import torch

    for expected_rank, got_rank in zip(expected, got, strict=True):
        assert sorted(got_rank) == sorted(expected_rank)
        for key, value in expected_rank.items():
            if isinstance(value, torch.Tensor):
                assert torch.equal(got_rank[key], value), key
            else:
                assert got_rank[key] == value, key
