"""`ftsc check FILE…`: report every problem in schedules, without writing anything."""

from __future__ import annotations

import argparse
import sys

from ftsc.cli.common import (
    EXIT_ERRORS,
    EXIT_OK,
    add_color_option,
    add_compile_options,
    compile_files,
    failed,
    use_color,
)
from ftsc.cli.report import render


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="`.fts` files (`-` reads standard input)")
    add_compile_options(parser)
    parser.add_argument("--format", choices=("human", "json", "github", "sarif"), default="human")
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors for the exit status")
    add_color_option(parser)


def run(args: argparse.Namespace) -> int:
    compiled = compile_files(args, args.files)
    reports = [report for report, _ in compiled]
    status = EXIT_ERRORS if any(failed(result, args.strict) for _, result in compiled) else EXIT_OK
    output = render(reports, args.format, color=use_color(args.color, sys.stdout))
    sys.stdout.write(output)
    return status
