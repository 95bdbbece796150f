"""What the `ftsc` commands share: reading schedules and namespaces, compiling one file, colour."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TextIO

from ftsc.adapters.base import AdapterError
from ftsc.adapters.registry import AdapterLoadWarning, adapter_class
from ftsc.cli.report import FileReport
from ftsc.compiler.compile import CompileResult
from ftsc.compiler.files import compile_file, load_cached
from ftsc.compiler.namespace import Namespace, NamespaceError
from ftsc.diagnostics import Severity, SourceText
from ftsc.warning_lines import warnings_as_lines

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A problem with how ftsc was called or with reading its inputs (exit status 2)."""


def read_source(name: str) -> tuple[str, Path | None]:
    """The text of a schedule file (`-`: standard input) and its path."""
    if name == "-":
        return sys.stdin.read(), None
    path = Path(name)
    try:
        return path.read_text(encoding="utf-8"), path
    except FileNotFoundError:
        raise UsageError(f"{name}: no such file") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise UsageError(f"{name}: cannot read ({exc.strerror})") from None


def namespace_option(path: Path | None) -> Namespace | None:
    """The `--namespace` file; a bad one is a usage error, since no schedule line is to blame."""
    if path is None:
        return None
    try:
        return load_cached(path)
    except NamespaceError as exc:
        raise UsageError(str(exc)) from None


def adapter_option(reference: str | None) -> str | None:
    """The `--adapter` reference, checked: an adapter that cannot be found is a usage error (exit 2)."""
    if reference is None:
        return None
    try:
        return adapter_class(reference)[1]
    except AdapterError as exc:
        raise UsageError(f"--adapter: {exc}") from None


def adapter_warnings(stream: TextIO | None = None) -> AbstractContextManager[None]:
    """Show plugins that fail to load as `ftsc: warning: …` lines on standard error."""
    return warnings_as_lines(AdapterLoadWarning, "warning", stream)


def compile_one(
    name: str,
    namespace: Namespace | None,
    adapter: str | None = None,
    memory: Mapping[str, object] | None = None,
) -> tuple[FileReport, CompileResult]:
    text, path = read_source(name)
    result = compile_file(text, path, namespace, adapter, memory=memory)
    report = FileReport(SourceText(text, str(path) if path is not None else None), tuple(result.diagnostics))
    return report, result


def failed(result: CompileResult, strict: bool) -> bool:
    worst = Severity.WARNING if strict else Severity.ERROR
    return any(diagnostic.severity <= worst for diagnostic in result.diagnostics)


def use_color(choice: str, stream: object) -> bool:
    """`--color auto` colours a terminal unless NO_COLOR is set (https://no-color.org)."""
    if choice != "auto":
        return choice == "always"
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and "NO_COLOR" not in os.environ


def add_namespace_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--namespace",
        metavar="NS",
        type=Path,
        help="namespace JSON file; wins over the schedule's `use namespace`",
    )


def add_color_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto")


def add_adapter_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--adapter",
        metavar="NAME",
        help="strategy adapter: a built-in or plugin name, `module:Class` or `module.Class`; wins over the "
        "schedule's `use adapter` (whose options still apply)",
    )


def add_memory_options(parser: argparse.ArgumentParser) -> None:
    """The memory budget flags; each wins over the same key of the schedule's `memory = { … }`."""
    from ftsc.compiler.memory.model import PRECISIONS, STRATEGIES

    group = parser.add_argument_group("memory check (each wins over the schedule's `memory = { … }`)")
    group.add_argument("--devices", type=int, metavar="N", help="devices (ranks) the job runs on")
    group.add_argument("--device-memory", metavar="SIZE", help='memory per device, e.g. "80GiB"')
    group.add_argument("--precision", choices=tuple(PRECISIONS), help="Lightning's precision")
    group.add_argument("--strategy", choices=STRATEGIES, help="how model states are placed on the devices")
    group.add_argument(
        "--optimizer", metavar="CLASS", help="phase 0's optimizer class, with its defaults (`AdamW`)"
    )
    group.add_argument(
        "--activations",
        metavar="SIZE|REPORT.json",
        help="activation allowance per device, or a run's memory report",
    )


def memory_overrides(args: argparse.Namespace) -> dict[str, object] | None:
    """The memory flags given (None when none is), checked: a bad size is a usage error."""
    from ftsc.compiler.memory.budget import parse_size

    values = {
        "devices": args.devices,
        "device_memory": args.device_memory,
        "precision": args.precision,
        "strategy": args.strategy,
        "activations": args.activations,
        "optimizer": args.optimizer,
    }
    from ftsc.compiler.memory.budget import MAX_DEVICES

    if args.devices is not None and not 1 <= args.devices <= MAX_DEVICES:
        raise UsageError(f"--devices: must be from 1 to {MAX_DEVICES:,}")
    if args.device_memory is not None and not parse_size(args.device_memory):
        raise UsageError(f'--device-memory: {args.device_memory!r} is not a size such as "80GiB"')
    if (
        args.activations is not None
        and not args.activations.endswith(".json")
        and parse_size(args.activations) is None
    ):
        raise UsageError(
            f'--activations: {args.activations!r} is neither a size such as "12GiB" nor a .json report'
        )
    given = {key: value for key, value in values.items() if value is not None}
    return given or None


def write_output(output: str | None, text: str, what: str) -> bool:
    """Write a command's result: standard output for None or `-` (returns False), else the file,
    atomically (returns True); a file that cannot be written is a usage error."""
    if output is None or output == "-":
        sys.stdout.write(text)
        return False
    from ftsc.io import atomic_write_text

    try:
        atomic_write_text(output, text)
    except OSError as exc:
        raise UsageError(f"{output}: cannot write the {what} ({exc.strerror or exc})") from None
    return True
