"""`ftsc check` and `ftsc compile`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ftsc.cli import EXIT_ERRORS, EXIT_OK, UsageError, use_color
from ftsc.cli.report import FileReport, render
from ftsc.compiler.compile import CompileResult
from ftsc.compiler.files import compile_file, load_cached
from ftsc.compiler.namespace import Namespace, NamespaceError
from ftsc.compiler.plan import PlanError, dumps, write_plan
from ftsc.diagnostics import Severity, SourceText


def read_source(name: str) -> tuple[str, Path | None]:
    """The text of a schedule file (`-`: standard input) and its path."""
    if name == "-":
        return sys.stdin.read(), None
    path = Path(name)
    try:
        return path.read_text(encoding="utf-8"), path
    except FileNotFoundError:
        raise UsageError(f"{name}: no such file") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise UsageError(f"{name}: cannot read ({exc.strerror})") from None


def namespace_option(path: Path | None) -> Namespace | None:
    """The `--namespace` file; a bad one is a usage error, since no schedule line is to blame."""
    if path is None:
        return None
    try:
        return load_cached(path)
    except NamespaceError as exc:
        raise UsageError(str(exc)) from None


def compile_one(name: str, namespace: Namespace | None) -> tuple[FileReport, CompileResult]:
    text, path = read_source(name)
    result = compile_file(text, path, namespace)
    report = FileReport(SourceText(text, str(path) if path is not None else None), tuple(result.diagnostics))
    return report, result


def failed(result: CompileResult, strict: bool) -> bool:
    worst = Severity.WARNING if strict else Severity.ERROR
    return any(diagnostic.severity <= worst for diagnostic in result.diagnostics)


def run_check(args: argparse.Namespace) -> int:
    namespace = namespace_option(args.namespace)
    reports: list[FileReport] = []
    status = EXIT_OK
    for name in args.files:
        report, result = compile_one(name, namespace)
        reports.append(report)
        if failed(result, args.strict):
            status = EXIT_ERRORS
    output = render(reports, args.format, color=use_color(args.color, sys.stdout))
    sys.stdout.write(output)
    return status


def run_compile(args: argparse.Namespace) -> int:
    namespace = namespace_option(args.namespace)
    report, result = compile_one(args.file, namespace)
    if report.diagnostics:
        sys.stderr.write(render([report], "human", color=use_color(args.color, sys.stderr)))
    if failed(result, args.strict):
        what = "the problems above (--strict)" if args.strict else "the errors above"
        print(f"ftsc: no plan written: fix {what}", file=sys.stderr)
        return EXIT_ERRORS
    if result.plan is None:  # no namespace: nothing to resolve names against
        print(
            'ftsc: no plan written: a plan needs a namespace; add `use namespace "…"` or pass --namespace',
            file=sys.stderr,
        )
        return EXIT_ERRORS
    try:
        if args.output == "-":
            sys.stdout.write(dumps(result.plan))
            return EXIT_OK
        write_plan(result.plan, args.output)
    except PlanError as exc:
        raise UsageError(str(exc)) from None
    phases = result.plan["phases"]
    assert isinstance(phases, list)
    print(f"wrote {args.output}: {len(phases)} phases", file=sys.stderr)
    return EXIT_OK
