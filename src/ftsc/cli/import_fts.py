"""`ftsc import-fts SCHEDULE.yaml`: convert a Fine-Tuning Scheduler schedule to `.fts`, reporting FTS's traps.

The `.fts` text goes to standard output, or atomically to `-o`; the diagnostics (with the YAML's lines
and columns) go to standard error in `--format`. Nothing is written when there is an error (or, with
`--strict`, a warning).
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
    add_color_option,
    add_namespace_option,
    check_output,
    namespace_option,
    read_source,
    use_color,
    write_output,
)
from ftsc.cli.report import FileReport, render
from ftsc.diagnostics import Severity, SourceText
from ftsc.wording import counted


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="SCHEDULE.yaml", help="FTS schedule (`-` reads standard input)")
    parser.add_argument("-o", "--output", metavar="OUT.fts", help="write the `.fts` here (default: stdout)")
    add_namespace_option(parser)
    parser.add_argument("--format", choices=("human", "json", "github", "sarif"), default="human",
                        help="format of the diagnostics, written to standard error")  # fmt: skip
    parser.add_argument("--strict", action="store_true", help="write nothing when there are warnings")
    parser.add_argument(
        "--no-merge",
        action="store_true",
        help="keep one selector per FTS entry (by default, runs of parameter names that make up whole "
        "modules become `module.**`)",
    )
    add_color_option(parser)


def run(args: argparse.Namespace) -> int:
    try:
        from ftsc.fts.importer import import_fts
    except ImportError as exc:  # PyYAML
        raise UsageError(f"import-fts needs PyYAML ({exc}); install it with `pip install pyyaml`") from None
    check_output(args.output, [args.file, args.namespace])
    text, path = read_source(args.file)
    namespace = namespace_option(args.namespace)
    namespace_path = _relative(args.namespace, args.output) if args.namespace is not None else None
    result = import_fts(text, namespace, namespace_path=namespace_path, merge=not args.no_merge)
    report = FileReport(SourceText(text, str(path) if path is not None else None), tuple(result.diagnostics))
    if result.diagnostics or args.format != "human":
        sys.stderr.write(render([report], args.format, color=use_color(args.color, sys.stderr)))
    worst = Severity.WARNING if args.strict else Severity.ERROR
    if result.text is None or any(d.severity <= worst for d in result.diagnostics):
        what = (
            "the problems above (--strict)" if args.strict and not result.has_errors else "the errors above"
        )
        print(f"ftsc: nothing written: fix {what}", file=sys.stderr)
        return EXIT_ERRORS
    if not write_output(args.output, result.text, "schedule"):
        return EXIT_OK
    print(f"wrote {args.output}: {counted(result.text.count(chr(10) + 'phase '), 'phase')}", file=sys.stderr)
    return EXIT_OK


def _relative(namespace: Path, output: str | None) -> str:
    """The namespace's path as `use namespace` wants it: relative to the folder of the `.fts` file."""
    base = Path(output).resolve().parent if output not in (None, "-") else Path.cwd()
    target = namespace.expanduser().resolve()
    try:
        return Path(os.path.relpath(target, base)).as_posix()
    except ValueError:  # another drive (Windows)
        return target.as_posix()
