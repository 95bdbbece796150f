"""Faults at run time: a training process killed (SIGKILL) at a random step or in the middle of a checkpoint
save resumes from its last checkpoint to exactly the uninterrupted run's final weights and optimizer state;
a damaged checkpoint is refused, naming the file, before anything is loaded; in DDP, a rank that dies makes
the other end with an error in bounded time instead of hanging.

The processes are real (tests/runtime/kill_case.py, ddp_case.py run as scripts); the kill points are seeded.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from pathlib import Path

import pytest
import torch
from launch import run_case_script

SEED = 16
STEPS = 5 * 4  # kill_case.EPOCHS epochs of 64 samples in batches of 16


def fit(out: Path, *arguments: str) -> int:
    done = run_case_script("kill_case.py", str(out), *arguments, timeout=600)
    return done.returncode


def final_state(out: Path) -> dict[str, torch.Tensor]:
    state: dict[str, torch.Tensor] = torch.load(out / "final.pt")
    return state


def last_checkpoint(out: Path) -> Path:
    saved = sorted((out / "ckpt").glob("epoch=*.ckpt"), key=lambda path: int(path.stem.split("=")[1]))
    assert saved, "the killed run saved no checkpoint before it died"
    return saved[-1]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, torch.Tensor]]:
    out = tmp_path_factory.mktemp("whole")
    assert fit(out) == 0
    return out, final_state(out)


def assert_same(resumed: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]) -> None:
    assert sorted(resumed) == sorted(expected)
    assert [key for key in expected if not torch.equal(resumed[key], expected[key])] == []


@pytest.mark.slow
def test_killed_at_a_random_step_resumes_exactly(
    uninterrupted: tuple[Path, dict[str, torch.Tensor]], tmp_path: Path
) -> None:
    step = random.Random(SEED).randrange(6, STEPS - 2)  # after the first checkpoints, before the end
    assert fit(tmp_path, "--kill-at-step", str(step)) == -9  # SIGKILL
    assert not (tmp_path / "final.pt").exists()
    assert fit(tmp_path, "--resume", str(last_checkpoint(tmp_path))) == 0
    assert_same(final_state(tmp_path), uninterrupted[1])


@pytest.mark.slow
def test_killed_during_a_checkpoint_save_leaves_no_half_checkpoint_and_resumes_exactly(
    uninterrupted: tuple[Path, dict[str, torch.Tensor]], tmp_path: Path
) -> None:
    assert fit(tmp_path, "--kill-in-save", "2") == -9
    assert sorted(path.name for path in (tmp_path / "ckpt").glob("*.ckpt")) == [
        "epoch=0.ckpt",
        "epoch=1.ckpt",
    ]
    assert fit(tmp_path, "--resume", str(last_checkpoint(tmp_path))) == 0
    assert_same(final_state(tmp_path), uninterrupted[1])


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["truncated", "flipped-byte", "empty"])
def test_a_damaged_checkpoint_is_refused_naming_the_file(
    uninterrupted: tuple[Path, dict[str, torch.Tensor]], tmp_path: Path, damage: str
) -> None:
    import lightning.pytorch as pl
    from runtime_support import ToyModel, loaders, three_phase_plan, trainer

    from ftsc.runtime import CheckpointFileError, FinetuningScheduler

    checkpoint = tmp_path / "epoch=2.ckpt"
    shutil.copy(uninterrupted[0] / "ckpt" / "epoch=2.ckpt", checkpoint)
    data = checkpoint.read_bytes()
    if damage == "truncated":
        checkpoint.write_bytes(data[: len(data) * 2 // 3])
    elif damage == "flipped-byte":
        middle = len(data) // 2
        checkpoint.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :])
    else:
        checkpoint.write_bytes(b"")
    model = ToyModel(lr=0.1, scheduler="step")
    before = {name: parameter.detach().clone() for name, parameter in model.named_parameters()}
    scheduler = FinetuningScheduler(plan=three_phase_plan(first=1, second=3))
    fit_ = trainer(tmp_path, 5, [scheduler])
    with pytest.raises(CheckpointFileError) as caught:
        fit_.fit(model, *loaders(), ckpt_path=checkpoint)
    assert str(caught.value).startswith(f"{checkpoint}: this checkpoint is damaged and was not loaded")
    assert "resume from an earlier checkpoint" in str(caught.value)
    assert all(torch.equal(parameter, before[name]) for name, parameter in model.named_parameters())
    assert isinstance(fit_, pl.Trainer)


@pytest.mark.slow
def test_a_ddp_rank_that_dies_ends_the_other_with_an_error_in_bounded_time(tmp_path: Path) -> None:
    started = time.monotonic()
    done = run_case_script("ddp_case.py", "rank-dies", str(tmp_path), timeout=240)
    elapsed = time.monotonic() - started
    assert not (tmp_path / "rank1.json").exists()  # rank 1 was killed
    result = json.loads((tmp_path / "rank0.json").read_text()) if (tmp_path / "rank0.json").exists() else {}
    assert result.get("error", "").startswith("RuntimeError: "), done.stderr[-2000:]
    assert elapsed < 240


@pytest.mark.parametrize("as_file", [False, True])
def test_the_runtime_refuses_an_inconsistent_plan(tmp_path: Path, as_file: bool) -> None:
    from runtime_support import three_phase_plan

    from ftsc.runtime.errors import RuntimeConfigError
    from ftsc.runtime.plan_source import load_plan

    plan = three_phase_plan()
    plan["phases"][2]["index"] = 1  # the runtime uses `index` as the phase's depth
    source: object = plan
    if as_file:
        (tmp_path / "plan.json").write_text(json.dumps(plan))
        source = tmp_path / "plan.json"
    with pytest.raises(RuntimeConfigError, match=r"phases\[2\]\.index is 1, not its position 2"):
        load_plan(source)  # type: ignore[arg-type]
