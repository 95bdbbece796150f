"""`ftsc export-fts PLAN.json`: write a plan as an explicit Fine-Tuning Scheduler YAML schedule.

The YAML goes to standard output, or atomically to `-o`. A comment block at its top lists the
`FinetuningScheduler(...)` (and early-stopping / checkpoint) arguments that carry the plan's settings.
"""

from __future__ import annotations

import argparse
import sys

from ftsc.cli.common import EXIT_OK, UsageError, check_output, write_output
from ftsc.compiler.plan import PlanError, read_plan
from ftsc.wording import counted


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("plan", metavar="PLAN.json", help="a plan written by `ftsc compile`")
    parser.add_argument(
        "-o", "--output", metavar="OUT.yaml", help="write the schedule here (default: stdout)"
    )


def run(args: argparse.Namespace) -> int:
    try:
        import yaml  # noqa: F401  (the exporter writes YAML with it)

        from ftsc.fts.exporter import export_fts
    except ImportError as exc:
        raise UsageError(f"export-fts needs PyYAML ({exc}); install it with `pip install pyyaml`") from None
    check_output(args.output, [args.plan])
    try:
        plan = read_plan(args.plan)
    except PlanError as exc:
        raise UsageError(str(exc)) from None
    to_stdout = args.output is None or args.output == "-"
    result = export_fts(plan, plan_path=args.plan, schedule_path=None if to_stdout else args.output)
    for note in result.notes:
        print(f"ftsc: note: {note}", file=sys.stderr)
    if not write_output(args.output, result.text, "schedule"):
        return EXIT_OK
    print(f"wrote {args.output}: {counted(len(result.schedule), 'phase')}", file=sys.stderr)
    return EXIT_OK
