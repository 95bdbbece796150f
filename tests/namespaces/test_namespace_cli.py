"""`ftsc namespace export`: the file it writes, atomically; exit statuses; and `ftsc check` agreeing with
a compile against the live model in-process."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("torch")
pytest.importorskip("lightning")

import ftsc.namespaces
from ftsc.cli import main
from ftsc.cli.report import FileReport, render
from ftsc.compiler.compile import compile_schedule
from ftsc.compiler.namespace import load_namespace
from ftsc.compiler.schema import validate_namespace_data
from ftsc.diagnostics import SourceText
from ftsc.io import atomic_write_text
from ftsc.namespaces import namespace_from_module

_counter = itertools.count()

MODELS = """
from torch import nn
import lightning.pytorch as pl

CALLS = {"build": 0}


class Block(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.attn = nn.Linear(hidden, hidden)
        self.mlp = nn.Sequential(nn.Linear(hidden, 2 * hidden), nn.GELU(), nn.Linear(2 * hidden, hidden))
        self.norm = nn.LayerNorm(hidden)


class ToyLM(pl.LightningModule):
    def __init__(self, vocab=17, hidden=8, layers=4):
        super().__init__()
        self.vocab, self.hidden, self.n_layers = vocab, hidden, layers
        self.embed = nn.Embedding(vocab, hidden)
        self.layers = None
        self.norm = nn.LayerNorm(hidden)
        self.lm_head = nn.Linear(hidden, vocab, bias=False)
        self.lm_head.weight = self.embed.weight

    def configure_model(self):
        if self.layers is None:
            self.layers = nn.ModuleList(Block(self.hidden) for _ in range(self.n_layers))


def build():
    CALLS["build"] += 1
    return ToyLM()


def broken():
    raise KeyError("no such layer size")


def returns_dict():
    return {"model": None}


NOT_CALLABLE = 1.5
"""

CLEAN = """use namespace "ns.json"
let layers = layers
phase head {
    thaw embed.weight, norm.*
    until epoch 1
}
phase top {
    thaw $layers.{2..3}.**
    lr = 2e-5
    until epoch 3
}
phase rest_of_model { thaw rest }
"""

PROBLEMS = """use namespace "ns.json"
phase head { thaw lm_head.weight, norm.* }
phase typo { thaw layer.{0..1}.** }
phase twice { thaw layers.3.**, norm.weight }
phase attn { thaw layers.{0..1}.attn.*, embed.weight }
"""


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    name = f"ftsc_cli_models_{next(_counter)}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(MODELS))
    monkeypatch.syspath_prepend(str(tmp_path))
    __import__(name)
    yield sys.modules[name]
    sys.modules.pop(name, None)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def live(models: ModuleType) -> object:
    model = models.ToyLM()
    model.configure_model()
    return model


# --- writing --------------------------------------------------------------------------------------------


def test_export_writes_the_live_models_namespace(
    models: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ns.json"
    status, stdout, err = run(["namespace", "export", f"{models.__name__}:build", "-o", str(out)], capsys)
    assert status == 0 and stdout == ""
    assert err == f"wrote {out}: 35 parameters (1,624 elements), 1 alias, 33 modules\n"
    namespace = load_namespace(out)
    assert namespace == namespace_from_module(live(models))  # type: ignore[arg-type]
    assert namespace.aliases == {"lm_head.weight": "embed.weight"}
    data = json.loads(out.read_text())
    assert validate_namespace_data(data) == []
    assert data["parameters"][0] == {
        "name": "embed.weight",
        "shape": [17, 8],
        "dtype": "float32",
        "requires_grad": True,
    }
    assert out.read_text().count("\n") == 1 + 3 + (2 + 35) + (2 + 33) + (2 + 1) + 1  # a record a line


def test_standard_output_and_options(models: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["namespace", "export", f"{models.__name__}.build", "-o", "-", "--precision", "bf16-true"]
    status, stdout, err = run([*argv, "--model-name", "toy-lm"], capsys)
    assert status == 0 and err == ""
    data = json.loads(stdout)
    assert data["model"] == "toy-lm" and {p["dtype"] for p in data["parameters"]} == {"bfloat16"}


def test_the_output_is_written_atomically(
    models: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ns.json"
    out.write_text("old\n")
    calls: list[Path] = []

    def spy(path: Path, text: str) -> None:
        calls.append(Path(path))
        atomic_write_text(path, text)

    monkeypatch.setattr(ftsc.namespaces, "atomic_write_text", spy)
    assert run(["namespace", "export", f"{models.__name__}:build", "-o", str(out)], capsys)[0] == 0
    assert calls == [out] and load_namespace(out).names[0] == "embed.weight"

    # a write that dies after the temporary file is made leaves the old file, and no temporary file
    out.write_text("old\n")
    monkeypatch.setattr(ftsc.namespaces, "atomic_write_text", atomic_write_text)

    def failing_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("ftsc.io.os.fsync", failing_fsync)
    status, _, err = run(["namespace", "export", f"{models.__name__}:build", "-o", str(out)], capsys)
    assert status == 2 and "cannot write the namespace (No space left on device)" in err
    assert out.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix in (".json", ".tmp")) == ["ns.json"]


def test_a_failing_model_writes_nothing_and_shows_its_traceback(
    models: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ns.json"
    out.write_text("old\n")
    status, _, err = run(["namespace", "export", f"{models.__name__}:broken", "-o", str(out)], capsys)
    assert status == 1
    assert "Traceback (most recent call last)" in err and 'raise KeyError("no such layer size")' in err
    assert err.rstrip().endswith("KeyError: 'no such layer size'; no namespace written")
    assert out.read_text() == "old\n"


def test_output_problems_are_found_before_the_model_is_built(
    models: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = f"{models.__name__}:build"
    status, _, err = run(["namespace", "export", target, "-o", str(tmp_path / "no" / "ns.json")], capsys)
    assert status == 2 and "does not exist" in err
    status, _, err = run(["namespace", "export", target, "-o", str(tmp_path)], capsys)
    assert status == 2 and "is a folder" in err
    assert models.CALLS["build"] == 0


# --- usage errors: exit 2 with a message that says what is wrong ------------------------------------------


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("a:b:c", "has more than one `:`"),
        ("{models}:", "has nothing after `:`"),
        ("{models}", "names a module but not the callable in it; write `{models}:build_model`"),
        ("models/toy.py:build", "a file path is not accepted"),
        ("ftsc_no_such_models:build", "no module named 'ftsc_no_such_models'"),
        ("{models}:biuld", "has no attribute 'biuld'; did you mean 'build'?"),
        ("{models}:NOT_CALLABLE", "is a float value, not a callable"),
        ("{models}:nn", "is a module, not a callable"),
        ("{models}:returns_dict", "returned a builtins.dict, not a torch.nn.Module or LightningModule"),
    ],
)
def test_bad_targets_exit_2(
    models: ModuleType, tmp_path: Path, target: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    target = target.format(models=models.__name__)
    out = tmp_path / "ns.json"
    status, stdout, err = run(["namespace", "export", target, "-o", str(out)], capsys)
    assert status == 2 and stdout == ""
    assert err.startswith("ftsc: error: ") and message.format(models=models.__name__) in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "give a TARGET (`pkg.module:callable`) or --hf-config CONFIG"),
        (["{models}:build", "--hf-config", "config.json"], "give a TARGET or --hf-config, not both"),
        (["{models}:build", "--auto-class", "AutoModel"], "--auto-class is only used with --hf-config"),
        (["{models}:build", "--precision", "bf17-true"], "unknown precision 'bf17-true'; Lightning accepts"),
        (["{models}:build", "--precision", "{models}:build"], "not a Lightning Precision plugin"),
    ],
)
def test_bad_options_exit_2(
    models: ModuleType, tmp_path: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [arg.format(models=models.__name__) for arg in argv]
    status, _, err = run(["namespace", "export", *argv, "-o", str(tmp_path / "ns.json")], capsys)
    assert status == 2 and message in err


def test_argparse_level_errors(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["namespace"], ["namespace", "import"], ["namespace", "export", "x:y"]):  # no -o
        with pytest.raises(SystemExit) as caught:
            main(argv)
        assert caught.value.code == 2
    capsys.readouterr()


def test_hf_config_without_transformers_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "transformers", None)  # import transformers -> ImportError
    config = tmp_path / "config.json"
    config.write_text('{"model_type": "gpt2"}')
    status, _, err = run(
        ["namespace", "export", "--hf-config", str(config), "-o", str(tmp_path / "n.json")], capsys
    )
    assert status == 2 and "--hf-config needs transformers: install the `hf` extra" in err


def test_the_command_imports_torch_only_when_it_runs(tmp_path: Path) -> None:
    code = (
        "import sys\nimport ftsc.cli as cli\n"
        "cli.COMMANDS.setdefault('namespace', ('ftsc.cli.namespace', 'namespaces'))\n"
        "try:\n    cli.main(['namespace', 'export', '--help'])\nexcept SystemExit as exit:\n    assert exit.code == 0\n"
        "assert 'torch' not in sys.modules, 'parsing imported torch'\n"
        "assert cli.main(['namespace', 'export', 'torch.nn:Linear', '-o', '-']) == 1\n"  # Linear() needs sizes
        "assert 'torch' in sys.modules\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert completed.returncode == 0, completed.stderr
    assert "--precision P" in completed.stdout and "--hf-config CONFIG" in completed.stdout
    assert "missing 2 required positional arguments" in completed.stderr


# --- `ftsc check` against the exported file == compiling against the live model ---------------------------


@pytest.mark.parametrize("schedule", [CLEAN, PROBLEMS], ids=["clean", "problems"])
def test_check_with_the_exported_namespace_matches_the_live_model(
    models: ModuleType, tmp_path: Path, schedule: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        run(["namespace", "export", f"{models.__name__}:build", "-o", str(tmp_path / "ns.json")], capsys)[0]
        == 0
    )
    path = tmp_path / "toy.fts"
    path.write_text(schedule)
    in_process = compile_schedule(schedule, namespace_from_module(live(models)), path=str(path))  # type: ignore[arg-type]
    expected = render([FileReport(SourceText(schedule, str(path)), tuple(in_process.diagnostics))], "json")

    for extra in ([], ["--namespace", str(tmp_path / "ns.json")]):  # `use namespace`, then the option
        status, stdout, _ = run(["check", str(path), "--format", "json", *extra], capsys)
        assert stdout == expected
        assert status == (1 if in_process.has_errors else 0)

    codes = sorted({d.code for d in in_process.diagnostics})
    if schedule is CLEAN:
        assert codes == [] and in_process.plan is not None
        status, _, _ = run(["compile", str(path), "-o", str(tmp_path / "plan.json")], capsys)
        assert status == 0
        plan = json.loads((tmp_path / "plan.json").read_text())
        assert (
            plan["phases"] == in_process.plan["phases"] and plan["namespace"] == in_process.plan["namespace"]
        )
        assert plan["phases"][0]["params"] == ["embed.weight", "norm.weight", "norm.bias"]
    else:
        assert {"E101", "E201", "W208"} <= set(codes)
        assert "did you mean" in stdout
