"""tools/import_cycles.py: cycles are found wherever their imports are written, and docs/architecture.md's
table of arrows between packages is the source's."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("import_cycles", ROOT / "tools" / "import_cycles.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_tree(src: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = src / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return src


def test_the_architecture_table_is_the_sources(tool: ModuleType) -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- arrows: begin -->\n(.*?)<!-- arrows: end -->", text, re.DOTALL)
    assert block is not None, "docs/architecture.md lost its arrows table"
    documented = [line for line in block.group(1).splitlines() if line.startswith("| `")]
    actual = tool.package_rows(tool.import_graph(ROOT / "src"))
    assert documented == actual, "paste the rows of `python tools/import_cycles.py --packages` into the table"


def test_a_cycle_through_lazy_and_type_checking_imports_is_found(
    tool: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = write_tree(
        tmp_path,
        {
            "ftsc/__init__.py": "",
            "ftsc/pkg/__init__.py": "",
            "ftsc/pkg/a.py": "from ftsc.pkg import b\n",
            "ftsc/pkg/b.py": "def later():\n    from ftsc.other import c\n",
            "ftsc/other/__init__.py": "",
            "ftsc/other/c.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..pkg.a import name\n"
            ),
            "ftsc/leaf.py": "import ftsc.pkg.a\n",
        },
    )
    graph = tool.import_graph(src)
    assert graph["ftsc.pkg.b"] == {"ftsc.other.c"}
    assert graph["ftsc.other.c"] == {"ftsc.pkg.a"}  # relative, and a name in a module: the module
    assert tool.cycles(graph) == [["ftsc.other.c", "ftsc.pkg.a", "ftsc.pkg.b", "ftsc.other.c"]]
    assert tool.main([str(src)]) == 1
    assert "import cycle: ftsc.other.c -> ftsc.pkg.a -> ftsc.pkg.b -> ftsc.other.c" in capsys.readouterr().out


def test_one_way_imports_pass_and_name_their_packages(
    tool: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = write_tree(
        tmp_path,
        {
            "ftsc/__init__.py": "__version__ = '0'\n",
            "ftsc/low.py": "",
            "ftsc/pkg/__init__.py": "from ftsc.pkg.a import thing\n",
            "ftsc/pkg/a.py": "from ftsc import low, __version__\nthing = 1\n",
            "ftsc/top/__init__.py": "from ftsc.pkg import thing\nimport os\n",
        },
    )
    graph = tool.import_graph(src)
    assert graph["ftsc.pkg.a"] == {"ftsc.low", "ftsc"}  # a submodule, or else the package itself
    assert graph["ftsc.top"] == {"ftsc.pkg"}  # a name the package re-exports: the package
    assert tool.cycles(graph) == []
    assert tool.main([str(src), "--packages"]) == 0
    out = capsys.readouterr().out
    assert "| `pkg` | `ftsc`, `low` |\n| `top` | `pkg` |\n" in out
    assert "0 import cycles" in out


def test_a_known_cycle_is_reported_until_it_is_gone(
    tool: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    package = "ftsc.lsp"
    monkeypatch.setattr(tool, "KNOWN", {package: "an open issue removes it"})
    folder = Path(*package.split("."))
    src = write_tree(
        tmp_path,
        {
            "ftsc/__init__.py": "",
            f"{folder}/__init__.py": "",
            f"{folder}/a.py": f"from {package} import b\n",
            f"{folder}/b.py": f"def later():\n    from {package} import a\n",
        },
    )
    assert tool.main([str(src)]) == 0
    assert "[known: " in capsys.readouterr().out
    write_tree(src, {f"{folder}/b.py": ""})  # the cycle is gone: its entry must go too
    assert tool.main([str(src)]) == 1
    assert f"no import cycle left in {package}" in capsys.readouterr().out
