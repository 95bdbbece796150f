"""The `ftsc` command. Exit status: 0 no errors, 1 errors found, 2 usage or I/O error, 3 internal error.

Each command is a module of this package with `HELP`, `add_arguments(parser)` and `run(args)`; only
the command that runs is imported, so `ftsc check` does not pay for the others' imports.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Sequence

from ftsc import __version__

# command -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("ftsc.cli.check", "report every problem in schedules, without writing anything"),
    "compile": ("ftsc.cli.compile", "compile a schedule into a phase plan (JSON)"),
    "explain": ("ftsc.cli.explain", "one row per phase of a schedule or plan"),
    "fmt": ("ftsc.cli.fmt", "rewrite schedules in the one canonical layout (comments kept)"),
    "import-fts": ("ftsc.cli.import_fts", "convert a Fine-Tuning Scheduler YAML schedule to .fts"),
    "export-fts": ("ftsc.cli.export_fts", "write a plan as an explicit Fine-Tuning Scheduler YAML schedule"),
    "gen": ("ftsc.cli.gen", "generate a starting schedule from a namespace"),
    "namespace": (
        "ftsc.cli.namespace",
        "export a model's parameter namespace (meta device, no weights allocated)",
    ),
    "lsp": ("ftsc.cli.lsp", "run the language server (stdio, or --tcp HOST:PORT)"),
    "upgrade": ("ftsc.cli.upgrade", "bring plan files written by an older ftsc to the current plan version"),
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; only the `only` command's arguments are set up (the others: their help)."""
    parser = argparse.ArgumentParser(
        prog="ftsc",
        description="Compile and check fine-tuning schedules (.fts) against a model's parameter namespace.",
    )
    parser.add_argument("--version", action="version", version=f"ftsc {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        if only == name:
            importlib.import_module(module).add_arguments(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    chosen = next((argument for argument in arguments if not argument.startswith("-")), None)
    args = build_parser(chosen if chosen in COMMANDS else None).parse_args(arguments)
    from ftsc.cli.common import EXIT_ERRORS, EXIT_INTERNAL, EXIT_USAGE, UsageError, apply_cache_options
    from ftsc.migrations import notes_on_stderr

    apply_cache_options(args)

    try:
        with notes_on_stderr():  # a plan read in an older version: one `ftsc: note:` line
            status: int = importlib.import_module(COMMANDS[args.command][0]).run(args)
        if not sys.stdout.closed:  # (the language server closes it when its client hangs up)
            sys.stdout.flush()  # here, so that a full device is reported like any other I/O error
    except UsageError as exc:
        print(f"ftsc: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_ERRORS
    except OSError as exc:  # standard output on a full device, a file that vanished while read, …
        _discard_stdout()
        where = f"{exc.filename}: cannot read or write" if exc.filename else "cannot write standard output"
        print(f"ftsc: error: {where} ({exc.strerror or exc})", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # a bug in ftsc: say so, distinctly from "errors found" and usage errors
        return _internal_error(exc, EXIT_INTERNAL)
    return status


def _discard_stdout() -> None:
    """Point standard output at the null device, so the interpreter's final flush cannot fail again."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _internal_error(exc: BaseException, status: int) -> int:
    """One line on standard error (the traceback too with FTSC_TRACEBACK=1) and the internal-error status."""
    import traceback

    if os.environ.get("FTSC_TRACEBACK"):
        traceback.print_exception(exc, file=sys.stderr)
    summary = str(exc).splitlines()[0][:200] if str(exc) else ""
    print(
        f"ftsc: internal error: {type(exc).__name__}{': ' + summary if summary else ''} "
        "(a bug in ftsc: please report it with the command and its input; FTSC_TRACEBACK=1 shows where)",
        file=sys.stderr,
    )
    return status
