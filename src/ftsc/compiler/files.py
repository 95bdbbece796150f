"""Compiling a schedule file: find its namespace (`use namespace`, relative to the file, unless the
caller gives one), load it once per process, and report a namespace that cannot be read as E401.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ftsc import codes
from ftsc.adapters.base import StrategyAdapter
from ftsc.compiler.compile import CompileResult, compile_schedule
from ftsc.compiler.namespace import Namespace, NamespaceError, load_namespace
from ftsc.diagnostics import Diagnostic, Span, diagnose
from ftsc.grammar import ast
from ftsc.grammar.parser import ParseResult, parse

# resolved path -> (size, mtime_ns, the namespace loaded from it): one version per file, the latest.
_LOADED: dict[str, tuple[int, int, Namespace]] = {}


def load_cached(path: Path) -> Namespace:
    """Load a namespace file, reusing this process's last load while the file is unchanged (size and
    mtime); a rewritten file replaces its old namespace, which is then freed. Across processes, the
    persistent cache (keyed by the file's content) answers."""
    try:
        stat = path.stat()
    except OSError:
        return load_namespace(path)  # raises the NamespaceError that says what is wrong
    key = str(path.resolve())
    known = _LOADED.get(key)
    if known is not None and known[:2] == (stat.st_size, stat.st_mtime_ns):
        return known[2]
    _LOADED.pop(key, None)  # the old version goes before the new one is built: one at a time in memory
    namespace = load_namespace(path)
    _LOADED[key] = (stat.st_size, stat.st_mtime_ns, namespace)
    return namespace


@dataclass
class NamespaceChoice:
    namespace: Namespace | None
    span: Span | None  # the `use namespace` string it came from, if any
    diagnostics: list[Diagnostic]


def namespace_for(schedule: ast.Schedule, schedule_path: Path | None) -> NamespaceChoice:
    """The namespace a schedule names with `use namespace`, resolved relative to the schedule file."""
    string = _namespace_string(schedule)
    if string is None:
        return NamespaceChoice(None, None, [])
    target = _namespace_target(string, schedule_path)
    try:
        return NamespaceChoice(load_cached(target), string.span, [])
    except NamespaceError as exc:
        message = f"{exc} (`use namespace` paths are relative to the schedule file)"
        return NamespaceChoice(None, string.span, [diagnose(codes.BAD_NAMESPACE, message, string.span)])


def used_namespace_path(schedule: ast.Schedule, schedule_path: Path | None) -> Path | None:
    """The file a schedule's `use namespace` names (relative to the schedule file), if it names one."""
    string = _namespace_string(schedule)
    return _namespace_target(string, schedule_path) if string is not None else None


def _namespace_string(schedule: ast.Schedule) -> ast.String | None:
    return next((use.path for use in schedule.namespaces if use.path is not None), None)


def _namespace_target(string: ast.String, schedule_path: Path | None) -> Path:
    base = schedule_path.parent if schedule_path is not None else Path.cwd()
    return base / Path(string.value).expanduser()


def compile_file(
    text: str,
    path: Path | None,
    namespace: Namespace | None = None,
    adapter: str | StrategyAdapter | None = None,
    parsed: ParseResult | None = None,
    memory: Mapping[str, object] | None = None,
) -> CompileResult:
    """Compile a schedule's text; `namespace` (from `--namespace`) wins over `use namespace`, and
    `adapter` (from `--adapter`: a reference, with the file's options) over `use adapter`. `parsed` may
    pass in the parse of `text` when the caller already has it (the language server); `memory` overrides
    the schedule's `memory` settings (the command line's memory flags)."""
    parsed = parsed if parsed is not None else parse(text)
    choice = (
        NamespaceChoice(namespace, None, [])
        if namespace is not None
        else namespace_for(parsed.schedule, path)
    )
    result = compile_schedule(
        text,
        choice.namespace,
        path=str(path) if path is not None else None,
        parsed=parsed,
        namespace_span=choice.span,
        adapter=adapter,
        memory=memory,
    )
    if choice.diagnostics:
        result.diagnostics[:0] = choice.diagnostics
        result.diagnostics = [d for d in result.diagnostics if d.code != codes.NO_NAMESPACE.code]
        result.plan = None
    return result
