"""What the adapter tests share: where the plugin package and the GPT-2 namespace are, and what the
session's plugin install gives (see conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ftsc.compiler.compile import CompileResult, compile_schedule
from ftsc.compiler.namespace import Namespace
from ftsc.compiler.schema import validate_plan_data
from ftsc.diagnostics import Span

HERE = Path(__file__).resolve().parent
PLUGIN_SOURCE = HERE / "plugin_pkg"
PLUGIN_MODULES = ("ftsc_lens_adapter", "ftsc_broken_adapter")
GPT2 = HERE.parents[1] / "examples" / "namespaces" / "gpt2.json"


@dataclass(frozen=True)
class PluginSite:
    path: Path  # the folder the plugin is installed in (for PYTHONPATH of subprocesses)
    discovery_warnings: tuple[str, ...]  # what discovering it warned


def at(text: str, needle: str) -> Span:
    """The span of the first `needle` in `text`."""
    start = text.index(needle)
    return Span(start, start + len(needle))


def run(text: str, namespace: Namespace) -> CompileResult:
    """Compile, checking that any plan made fits the plan schema."""
    result = compile_schedule(text, namespace)
    if result.plan is not None:
        assert validate_plan_data(result.plan) == []
    return result
