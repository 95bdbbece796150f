"""`ftsc compile FILE -o PLAN`: compile a schedule into a phase plan (JSON), written atomically."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ftsc.cli.common import (
    EXIT_ERRORS,
    EXIT_OK,
    UsageError,
    add_color_option,
    add_compile_options,
    check_output,
    compile_files,
    failed,
    use_color,
)
from ftsc.cli.report import render
from ftsc.compiler.files import used_namespace_path
from ftsc.compiler.plan import PlanError, dumps, write_plan
from ftsc.wording import counted


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE")
    add_compile_options(parser)
    parser.add_argument("-o", "--output", required=True, metavar="PLAN", help="plan to write (`-`: stdout)")
    parser.add_argument("--strict", action="store_true", help="write no plan when there are warnings")
    add_color_option(parser)


def run(args: argparse.Namespace) -> int:
    check_output(args.output, [args.file, args.namespace])
    report, result = compile_files(args, [args.file])[0]
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
    path = None if args.file == "-" else Path(args.file)
    check_output(args.output, [used_namespace_path(result.schedule, path)])
    try:
        if args.output == "-":
            sys.stdout.write(dumps(result.plan))
            return EXIT_OK
        write_plan(result.plan, args.output)
    except PlanError as exc:
        raise UsageError(str(exc)) from None
    phases = result.plan["phases"]
    assert isinstance(phases, list)
    print(f"wrote {args.output}: {counted(len(phases), 'phase')}", file=sys.stderr)
    return EXIT_OK
