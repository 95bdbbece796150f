"""`--adapter` on `ftsc check`, `compile` and `explain`; plugin warnings on stderr; `check` stays torch-free."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from adapters_support import GPT2, PluginSite

from ftsc.adapters import registry
from ftsc.cli import main

LENS_BODY = "phase top { thaw ln_final.*, blocks.11.** }\nphase rest { thaw rest }\n"
SPLIT_BODY = "phase head { thaw transformer.h.11.mlp.** }\nphase body { thaw rest }\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "lens.fts").write_text(f'use namespace "{GPT2}"\n' + LENS_BODY)
    (tmp_path / "split.fts").write_text(f'use namespace "{GPT2}"\n' + SPLIT_BODY)
    (tmp_path / "flat.fts").write_text(
        f'use namespace "{GPT2}"\n'
        'use adapter default { auto_wrap = ["GPT2Block"], use_orig_params = false }\n' + SPLIT_BODY
    )
    return tmp_path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_adapter_option_selects_the_names_a_schedule_is_written_in(
    plugin_site: PluginSite, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(["check", "--color", "never", str(project / "lens.fts")], capsys)
    assert status == 1 and "error[E101]" in out  # without an adapter, lens names are unknown
    status, out, _ = run(["check", "--adapter", "lens", str(project / "lens.fts")], capsys)
    assert (status, out) == (0, "no problems in 1 file\n")


def test_adapter_option_wins_over_use_adapter_and_takes_the_files_options(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flat = str(project / "flat.fts")
    status, out, _ = run(["check", "--color", "never", flat], capsys)
    assert status == 1 and "adapter `default` has no option `auto_wrap`" in out
    status, out, _ = run(["check", "--color", "never", "--adapter", "fsdp", flat], capsys)
    assert status == 1
    assert out.count("error[E403]") == 2 and "E402" not in out  # fsdp, configured by the file's options
    status, out, _ = run(["check", "--adapter", "fsdp", str(project / "split.fts")], capsys)
    assert (status, out) == (0, "no problems in 1 file\n")  # no options: use_orig_params = true, as Lightning


def test_an_unknown_adapter_option_is_a_usage_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in (["check"], ["compile", "-o", str(project / "p.json")], ["explain"]):
        status, _, err = run([*command, "--adapter", "fsdpp", str(project / "split.fts")], capsys)
        assert status == 2
        assert "--adapter: unknown adapter `fsdpp`; did you mean `fsdp`?" in err
    assert not (project / "p.json").exists()


def test_compile_and_explain_with_a_plugin_by_module_reference(
    plugin_site: PluginSite, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan_path = project / "lens.plan.json"
    argv = [
        "compile",
        "--adapter",
        "ftsc_lens_adapter.LensAdapter",
        str(project / "lens.fts"),
        "-o",
        str(plan_path),
    ]
    status, _, err = run(argv, capsys)
    assert status == 0, err
    plan = json.loads(plan_path.read_text())
    assert plan["namespace"]["adapter"] == "ftsc_lens_adapter.LensAdapter"
    assert plan["phases"][0]["params"][-2:] == ["transformer.ln_f.weight", "transformer.ln_f.bias"]
    status, from_schedule, _ = run(["explain", "--adapter", "lens", str(project / "lens.fts")], capsys)
    assert status == 0
    rows = from_schedule.splitlines()
    assert rows[2].split()[:3] == ["0", "top", "14"]  # 12 of block 11 + ln_f weight and bias
    status, from_plan, _ = run(["explain", str(plan_path), "--namespace", str(GPT2)], capsys)
    assert (status, from_plan) == (0, from_schedule)


def test_a_broken_plugin_is_a_warning_line_and_changes_no_exit_status(
    plugin_site: PluginSite, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry.refresh()  # discover again, inside the command
    status, out, err = run(["check", "--adapter", "lens", str(project / "lens.fts")], capsys)
    assert (status, out) == (0, "no problems in 1 file\n")
    lines = err.splitlines()
    assert any(
        line.startswith(
            "ftsc: warning: strategy adapter entry point `broken = ftsc_broken_adapter:BrokenAdapter`"
        )
        and "ImportError" in line
        for line in lines
    )
    assert len(lines) == 3  # broken, notanadapter and the one taking `fsdp`, once each


def test_check_with_adapters_imports_neither_torch_nor_lightning(
    plugin_site: PluginSite, project: Path
) -> None:
    (project / "lens-in-file.fts").write_text(f'use namespace "{GPT2}"\nuse adapter lens\n' + LENS_BODY)
    (project / "fsdp.fts").write_text(
        f'use namespace "{GPT2}"\nuse adapter fsdp {{ auto_wrap = ["GPT2Block"], use_orig_params = true }}\n'
        + SPLIT_BODY
    )
    code = (
        "import sys\nfrom ftsc.cli import main\n"
        f"status = main(['check', {str(project / 'fsdp.fts')!r}])\n"
        "assert 'ftsc_lens_adapter' not in sys.modules, 'a built-in adapter loaded the plugins'\n"
        f"status |= main(['check', {str(project / 'lens-in-file.fts')!r}])\n"
        "heavy = sorted(m for m in ('torch', 'lightning', 'pytorch_lightning') if m in sys.modules)\n"
        "assert not heavy, f'ftsc check imported {heavy}'\n"
        "assert 'ftsc_lens_adapter' in sys.modules\n"
        "sys.exit(status)\n"
    )
    environment = {**os.environ, "PYTHONPATH": str(plugin_site.path)}
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=environment
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
