"""`make demo` in its fast mode: it checks and compiles the example schedule, trains through every phase of
the plan, and writes the plan, a summary table and a PNG plot."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from ftsc.compiler.namespace import load_namespace
from ftsc.compiler.plan import read_plan

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def demo(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """examples/demo/run.py under a name of its own (benchmarks/ has a run.py too), with its folder on
    sys.path as when it runs as a script, so that it finds its neighbours."""
    monkeypatch.syspath_prepend(str(DEMO))
    spec = importlib.util.spec_from_file_location("ftsc_demo_run", DEMO / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    for name in ("demo_model", "demo_progress", "demo_summary", "demo_plot"):
        sys.modules.pop(name, None)


def test_fast_demo_reaches_every_phase_and_writes_plan_table_and_png(
    demo: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert demo.main(["--fast", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out

    phases = read_plan(tmp_path / "demo.plan.json")["phases"]
    assert isinstance(phases, list)
    names = [phase["name"] for phase in phases]
    assert names == ["head", "top layers", "rest"]

    png = (tmp_path / "demo.png").read_bytes()
    assert png.startswith(PNG_SIGNATURE)
    assert len(png) > 20_000  # two panels of curves and shading, not an empty canvas

    # every phase was reached, in order, each announced as it happened and given a row in the summary
    for depth, name in enumerate(names):
        assert f"phase {depth} `{name}` of 3" in out
    table = out[out.index("best val_loss") :]
    assert [line.split("  ")[0].strip() for line in table.splitlines()[2:5]] == ["0", "1", "2"]
    assert "70/70 tensors" in out  # the last phase thaws the whole model
    assert out.count("restored the best checkpoint so far") == 2  # restore_best, at both transitions
    assert "no problems in 1 file" in out  # `ftsc check` ran first


def test_the_shipped_namespace_is_the_demo_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """demo.namespace.json must be re-exported when the model changes; the plan is compiled against it."""
    monkeypatch.syspath_prepend(str(DEMO))
    from demo_model import DemoEncoder

    from ftsc.namespaces.record import namespace_from_module

    assert load_namespace(DEMO / "demo.namespace.json") == namespace_from_module(DemoEncoder())
    sys.modules.pop("demo_model", None)
