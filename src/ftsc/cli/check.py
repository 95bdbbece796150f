"""`ftsc check FILE…`: report every problem in schedules, without writing anything."""

from __future__ import annotations

import argparse
import sys

from ftsc.cli.common import (
    EXIT_ERRORS,
    EXIT_OK,
    adapter_option,
    adapter_warnings,
    add_adapter_option,
    add_color_option,
    add_memory_options,
    add_namespace_option,
    compile_one,
    failed,
    memory_overrides,
    namespace_option,
    use_color,
)
from ftsc.cli.report import FileReport, render


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="`.fts` files (`-` reads standard input)")
    add_namespace_option(parser)
    add_adapter_option(parser)
    add_memory_options(parser)
    parser.add_argument("--format", choices=("human", "json", "github", "sarif"), default="human")
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors for the exit status")
    add_color_option(parser)


def run(args: argparse.Namespace) -> int:
    namespace = namespace_option(args.namespace)
    reports: list[FileReport] = []
    status = EXIT_OK
    with adapter_warnings():
        adapter = adapter_option(args.adapter)
        for name in args.files:
            report, result = compile_one(name, namespace, adapter, memory_overrides(args))
            reports.append(report)
            if failed(result, args.strict):
                status = EXIT_ERRORS
    output = render(reports, args.format, color=use_color(args.color, sys.stdout))
    sys.stdout.write(output)
    return status
