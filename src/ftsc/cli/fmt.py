"""`ftsc fmt FILE…`: rewrite schedules in the one canonical layout (comments kept).

Files are rewritten atomically, and only when they change. `--check` writes nothing and exits 1 when a
file would change; `--diff` prints a unified diff instead of writing. `-` reads standard input and writes
the formatted text to standard output. A file with syntax errors is left untouched: its diagnostics go to
standard error and the exit status is 1.

`reformatted PATH` / `would reformat PATH` go to standard output, or to standard error when standard
output carries formatted text or diffs (`-` among the files, or `--diff`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from ftsc.cli.common import EXIT_ERRORS, EXIT_OK, UsageError, add_color_option, read_source, use_color
from ftsc.diagnostics import Diagnostic

STDIN_LABEL = "<stdin>"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="`.fts` files to rewrite in place (`-`: read standard input, write standard output)",
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 when a file is not formatted"
    )
    parser.add_argument("--diff", action="store_true", help="print a unified diff instead of writing")
    add_color_option(parser)


def run(args: argparse.Namespace) -> int:
    from ftsc.format import format_text

    files: list[str] = args.files
    notes: TextIO = sys.stderr if args.diff or "-" in files else sys.stdout
    status = EXIT_OK
    for name in files:
        text, path = read_source(name)
        label = STDIN_LABEL if path is None else name
        result = format_text(text)
        if result.text is None:
            _report_errors(text, path, result.diagnostics, args.color)
            status = EXIT_ERRORS
            continue
        changed = result.text != text
        if args.diff and changed:
            sys.stdout.write(_unified_diff(text, result.text, label))
        if args.check:
            if changed:
                print(f"would reformat {label}", file=notes)
                status = EXIT_ERRORS
        elif args.diff:
            pass
        elif path is None:
            sys.stdout.write(result.text)
        elif changed:
            _write(path, result.text)
            print(f"reformatted {label}", file=notes)
    return status


def _write(path: Path, text: str) -> None:
    from ftsc.io import atomic_write_text

    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write ({exc.strerror or exc})") from None


def _report_errors(text: str, path: Path | None, diagnostics: tuple[Diagnostic, ...], color: str) -> None:
    from ftsc.cli.report import FileReport, render
    from ftsc.diagnostics import SourceText

    report = FileReport(SourceText(text, str(path) if path is not None else None), diagnostics)
    sys.stderr.write(render([report], "human", color=use_color(color, sys.stderr)))


def _unified_diff(before: str, after: str, label: str) -> str:
    import difflib

    lines = difflib.unified_diff(_lines(before), _lines(after), fromfile=label, tofile=label)
    # a last line without a newline is marked as `diff` does, so the output is still a valid patch
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


def _lines(text: str) -> list[str]:
    """Lines with their `\\n` (only `\\n` ends a line in a schedule, unlike str.splitlines)."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    return [*lines, parts[-1]] if parts[-1] else lines
