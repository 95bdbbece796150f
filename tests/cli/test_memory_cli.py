"""`ftsc explain --memory` (table, --all-ranks, --memory-png, plan files) and the memory flags of `ftsc check`,
including a run's memory report fed back as the activation allowance."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ftsc.cli import main
from ftsc.compiler.memory.budget import format_bytes

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCHEDULE = """fts 1
use namespace "ns.json"
defaults {{ memory = {{ devices = 4, strategy = "fsdp2", device_memory = "{limit}", optimizer = AdamW() }} }}
phase top {{ thaw transformer.ln_f.*, transformer.h.11.** until epoch 1 }}
phase rest {{ thaw rest }}
"""
GPT2_ELEMENTS = 124_439_808


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(EXAMPLES / "namespaces" / "gpt2.json", tmp_path / "ns.json")
    (tmp_path / "gpt2.fts").write_text(SCHEDULE.format(limit="80GiB"))
    return tmp_path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_the_table_shows_each_phase_on_its_fullest_rank(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(["explain", str(project / "gpt2.fts"), "--memory"], capsys)
    assert status == 0
    assert out.startswith("memory per device: 4 devices, fsdp2, 32-true, device memory 80.00 GiB")
    lines = out.splitlines()
    rest = next(line for line in lines if line.startswith("1  rest"))
    assert f"{GPT2_ELEMENTS:,}" in rest
    # every rank: a row each, the same padded weights on each
    status, out, _ = run(["explain", str(project / "gpt2.fts"), "--memory", "--all-ranks"], capsys)
    rows = [line for line in out.splitlines() if line.startswith(("0  top", "1  rest"))]
    assert len(rows) == 8 and len({row.split()[4] for row in rows}) == 1


def test_flags_win_over_the_schedule(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(project / "gpt2.fts")
    assert run(["check", path], capsys)[0] == 0
    status, out, _ = run(
        ["check", path, "--devices", "1", "--strategy", "single", "--device-memory", "1GiB"], capsys
    )
    assert status == 1 and "error[E701]: phase 1 `rest` needs" in out
    status, out, _ = run(["check", path, "--device-memory", "lots"], capsys)
    assert status == 2


def test_a_memory_report_becomes_the_activation_allowance(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # single device, fp32, AdamW: phase `rest` holds 4 x the weights (+ 4-byte steps); measured activations
    # of phase 1 tip it over a budget its states alone fit
    states = 4 * GPT2_ELEMENTS * 4 + 4 * 148
    report = {
        "memory_version": 1,
        "phases": [{"index": 0, "activations": 1}, {"index": 1, "activations": 2**30}],
    }
    (project / "run.json").write_text(json.dumps(report))
    limit = states + 2**29
    (project / "gpt2.fts").write_text(SCHEDULE.format(limit=limit).replace("devices = 4,", "devices = 1,"))
    path = str(project / "gpt2.fts")
    status, out, _ = run(
        ["check", path, "--strategy", "single", "--activations", str(project / "run.json")], capsys
    )
    assert status == 0 and "warning[W702]: phase 1 `rest`" in out
    assert f"activation allowance measured in {project / 'run.json'} of 1.00 GiB" in out
    assert f"needs {format_bytes(states)} of model states" in out


def test_the_picture(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    png = project / "memory.png"
    status, _, err = run(["explain", str(project / "gpt2.fts"), "--memory-png", str(png)], capsys)
    assert status == 0 and f"wrote {png}" in err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_plan_file_needs_the_namespace_and_takes_the_flags(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = project / "plan.json"
    assert run(["compile", str(project / "gpt2.fts"), "-o", str(plan)], capsys)[0] == 0
    assert run(["explain", str(plan), "--memory"], capsys)[0] == 2
    status, out, _ = run(
        ["explain", str(plan), "--memory", "--namespace", str(project / "ns.json"), "--optimizer", "SGD"],
        capsys,
    )
    assert status == 0 and out.startswith("memory per device: 1 device, single, 32-true")
    rest = next(line for line in out.splitlines() if line.startswith("1  rest"))
    assert "  0 B  " in rest  # SGD without momentum keeps no state
    assert format_bytes(GPT2_ELEMENTS * 4 * 2) in rest  # weights + gradients
