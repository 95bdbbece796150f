"""`ftsc gen --namespace NS [--strategy blocks|fts] [--layers-per-phase K] [-o OUT]`: a starting schedule.

The schedule is compiled against its namespace before it is written; one that does not compile would be
a bug in `ftsc gen`, and nothing is written then. `-o` writes atomically; without it, the text goes to
standard output.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ftsc.cli.common import (
    EXIT_ERRORS,
    EXIT_OK,
    UsageError,
    add_cache_options,
    add_color_option,
    check_output,
    namespace_option,
    use_color,
    write_output,
)
from ftsc.cli.report import FileReport, render
from ftsc.compiler import compile_schedule
from ftsc.diagnostics import SourceText
from ftsc.generate import STRATEGIES, GenerateError, generate
from ftsc.wording import counted


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--namespace", metavar="NS", type=Path, required=True, help="namespace JSON file of the model"
    )
    add_cache_options(parser)
    parser.add_argument(
        "--strategy",
        choices=tuple(STRATEGIES),
        default="blocks",
        help="blocks (default): the head, then K layers at a time from the top, the embeddings last; "
        "fts: Fine-Tuning Scheduler's implicit schedule (parameters in reverse order, two a phase)",
    )
    parser.add_argument(
        "--layers-per-phase",
        metavar="K",
        type=int,
        help="layers thawed per phase by `blocks` (default: a quarter of the layers, rounded up)",
    )
    parser.add_argument("-o", "--output", metavar="OUT", help="schedule to write (default or `-`: stdout)")
    add_color_option(parser)


def run(args: argparse.Namespace) -> int:
    check_output(args.output, [args.namespace])
    namespace = namespace_option(args.namespace)
    assert namespace is not None
    to_stdout = args.output in (None, "-")
    reference = str(args.namespace) if to_stdout else _relative(args.namespace, Path(args.output))
    try:
        text = generate(
            namespace,
            strategy=args.strategy,
            layers_per_phase=args.layers_per_phase,
            namespace_ref=reference,
            source=args.namespace.name,
        )
    except GenerateError as exc:
        raise UsageError(str(exc)) from None
    result = compile_schedule(text, namespace)
    if result.diagnostics:
        report = FileReport(SourceText(text, args.output or "<generated>"), tuple(result.diagnostics))
        sys.stderr.write(render([report], "human", color=use_color(args.color, sys.stderr)))
    if result.has_errors:
        print("ftsc: internal error: the generated schedule does not compile; not written", file=sys.stderr)
        return EXIT_ERRORS
    if not write_output(args.output, text, "schedule"):
        return EXIT_OK
    phases = len(result.schedule.phases)
    print(
        f"wrote {args.output}: {counted(phases, 'phase')} for {counted(len(namespace), 'parameter')}",
        file=sys.stderr,
    )
    return EXIT_OK


def _relative(namespace: Path, output: Path) -> str:
    """The namespace's path as `use namespace` reads it: relative to the schedule's folder."""
    target = namespace.absolute()
    base = output.absolute().parent
    try:
        return Path(os.path.relpath(target, base)).as_posix()
    except ValueError:  # another drive (Windows): only an absolute path reaches it
        return Path(target).as_posix()
