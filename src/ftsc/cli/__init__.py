"""The `ftsc` command. Exit status: 0 no errors, 1 errors found, 2 usage or I/O error."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ftsc import __version__

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A problem with how ftsc was called or with reading its inputs (exit status 2)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ftsc",
        description="Compile and check fine-tuning schedules (.fts) against a model's parameter namespace.",
    )
    parser.add_argument("--version", action="version", version=f"ftsc {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check", help="report every problem in schedules, without writing anything")
    check.add_argument("files", nargs="+", metavar="FILE", help="`.fts` files (`-` reads standard input)")
    _namespace_option(check)
    check.add_argument("--format", choices=("human", "json", "github", "sarif"), default="human")
    check.add_argument("--strict", action="store_true", help="treat warnings as errors for the exit status")
    check.add_argument("--color", choices=("auto", "always", "never"), default="auto")

    compile_ = commands.add_parser("compile", help="compile a schedule into a phase plan (JSON)")
    compile_.add_argument("file", metavar="FILE")
    _namespace_option(compile_)
    compile_.add_argument(
        "-o", "--output", required=True, metavar="PLAN", help="plan file to write (`-`: stdout)"
    )
    compile_.add_argument(
        "--strict", action="store_true", help="refuse to write a plan when there are warnings"
    )
    compile_.add_argument("--color", choices=("auto", "always", "never"), default="auto")

    explain = commands.add_parser("explain", help="one row per phase of a schedule or plan")
    explain.add_argument("file", metavar="FILE|PLAN")
    _namespace_option(explain)
    return parser


def _namespace_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--namespace",
        metavar="NS",
        type=Path,
        help="namespace JSON file; wins over the schedule's `use namespace`",
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "check":
            from ftsc.cli.commands import run_check

            return run_check(args)
        if args.command == "compile":
            from ftsc.cli.commands import run_compile

            return run_compile(args)
        from ftsc.cli.explain import run_explain

        return run_explain(args)
    except UsageError as exc:
        print(f"ftsc: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERRORS


def use_color(choice: str, stream: object) -> bool:
    """`--color auto` colours a terminal unless NO_COLOR is set (https://no-color.org)."""
    if choice != "auto":
        return choice == "always"
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and "NO_COLOR" not in os.environ
