"""`ftsc upgrade PLAN… [-o OUT] [--check]`: bring plan files to the current plan version.

Each file goes through the steps of `ftsc.migrations`, is checked against the plan schema, and is
rewritten atomically in place (or written to `-o`; `-o -`: standard output). A file already at the
current version is left untouched. `--check` writes nothing and exits 1 when a file would change. A file
from a newer ftsc, with no readable version, or not a valid plan is reported and left as it is (exit 2);
the other files are still upgraded.

`upgraded PATH` / `would upgrade PATH` lines go to standard output, or to standard error when standard
output carries the plan (`-o -`).
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from ftsc.cli.common import EXIT_ERRORS, EXIT_OK, EXIT_USAGE, UsageError, write_output
from ftsc.compiler.plan import PlanError, dumps
from ftsc.io import JsonFileError, read_json
from ftsc.migrations import CURRENT_VERSIONS, MigrationError, Step, upgrade


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("plans", nargs="+", metavar="PLAN", help="plan files (JSON) to upgrade in place")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="write the upgraded plan here instead of in place (`-`: standard output); one PLAN only",
    )
    where.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 when a plan is not at the current version"
    )


def run(args: argparse.Namespace) -> int:
    plans: list[str] = args.plans
    if args.output is not None and len(plans) > 1:
        raise UsageError("-o takes one PLAN; leave it out to upgrade several plans in place")
    notes: TextIO = sys.stderr if args.output == "-" else sys.stdout
    status = EXIT_OK
    for name in plans:
        try:
            status = max(status, _upgrade_file(name, args.output, args.check, notes))
        except UsageError as exc:  # this file only: report it and go on with the others
            print(f"ftsc: error: {exc}", file=sys.stderr)
            status = EXIT_USAGE
    return status


def _upgrade_file(name: str, output: str | None, check: bool, notes: TextIO) -> int:
    """Upgrade one plan file; its exit status (1: `--check` found it out of date)."""
    try:
        plan, steps = upgrade("plan", read_json(name))
        text = dumps(plan)  # validates: an upgraded plan must fit the current schema
    except JsonFileError as exc:
        raise UsageError(str(exc)) from None
    except MigrationError as exc:
        raise UsageError(f"{name}: {exc}") from None
    except PlanError as exc:
        raise UsageError(f"{name}: not a valid plan: {exc}") from None
    if check:
        if not steps:
            return EXIT_OK
        print(f"would upgrade {name}", file=notes)
        _print_steps(steps, notes)
        return EXIT_ERRORS
    current = f"plan version {CURRENT_VERSIONS['plan']}"
    if output is None and not steps:
        print(f"{name}: already {current}; left as it is", file=notes)
        return EXIT_OK
    write_output(name if output is None else output, text, "plan")
    into = "" if output is None else " to standard output" if output == "-" else f" into {output}"
    print(f"upgraded {name}{into}" if steps else f"{name}: already {current}; written{into}", file=notes)
    _print_steps(steps, notes)
    return EXIT_OK


def _print_steps(steps: tuple[Step, ...], notes: TextIO) -> None:
    for step in steps:
        print(f"  {step.kind} {step.source} → {step.target}: {step.headline}", file=notes)
