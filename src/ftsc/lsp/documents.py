"""Per-document state and compiling a document: `compile_file`, the same compiler as `ftsc check`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types

from ftsc import codes
from ftsc.compiler import CompileResult, compile_file
from ftsc.diagnostics import Diagnostic, SourceText, Span, diagnose
from ftsc.grammar.reuse import parse_reusing
from ftsc.lsp.namespaces import Association, associate


@dataclass
class Analysis:
    """One compile of one version of a document."""

    version: int | None
    source: SourceText
    diagnostics: list[Diagnostic]
    result: CompileResult | None
    result_id: str
    items: list[types.Diagnostic] = field(default_factory=list)  # the diagnostics as sent to the client


@dataclass
class DocumentState:
    uri: str
    version: int | None = None
    last: Analysis | None = None
    generation: int = 0  # bumped by configuration changes: the same version must then be recompiled
    pending: object | None = field(default=None, repr=False)  # the debounce task, if any


def analyze(
    text: str,
    path: Path | None,
    setting: str | None,
    setting_base: Path,
) -> tuple[CompileResult, list[Diagnostic], list[str]]:
    """Compile `text` with the namespace the association order gives; returns the result and the
    diagnostics to show (the result's, plus a configured namespace that could not be loaded)."""
    parsed = parse_reusing(text)
    schedule = parsed.schedule
    own_namespace = any(use.path is not None for use in schedule.namespaces)
    association = Association() if own_namespace else associate(path, setting, setting_base)
    adapter = association.adapter if not schedule.adapters else None
    result = compile_file(text, path, association.namespace, adapter, parsed=parsed)
    diagnostics = list(result.diagnostics)
    start = Span(0, 0)
    if association.problem is not None:
        diagnostics = [d for d in diagnostics if d.code != codes.NO_NAMESPACE.code]
        diagnostics.insert(0, diagnose(codes.BAD_NAMESPACE, association.problem, start))
    return result, diagnostics, association.notes


def internal_error(exc: BaseException) -> Diagnostic:
    """E000 at the top of a document whose compile failed inside ftsc: checking stopped, not a clean file."""
    summary = (str(exc).splitlines() or [""])[0][:200]
    return diagnose(
        codes.INTERNAL_ERROR,
        f"internal error in ftsc while checking this file ({type(exc).__name__}"
        f"{': ' + summary if summary else ''}); the server log has the details: please report it",
        Span(0, 0),
    )
