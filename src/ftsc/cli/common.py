"""What the `ftsc` commands share: reading schedules and namespaces, compiling one file, colour."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TextIO

from ftsc.adapters.base import AdapterError
from ftsc.adapters.registry import AdapterLoadWarning, adapter_class
from ftsc.cli.report import FileReport
from ftsc.compiler import CompileResult, Namespace, NamespaceError
from ftsc.compiler.files import compile_file, load_cached
from ftsc.diagnostics import Severity, SourceText
from ftsc.warning_lines import warnings_as_lines

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


class UsageError(Exception):
    """A problem with how ftsc was called or with reading its inputs (exit status 2)."""


def read_source(name: str) -> tuple[str, Path | None]:
    """The text of a schedule file (`-`: standard input) and its path: a regular file within the input
    size limit, UTF-8 (a leading BOM is dropped, as the JSON reader does)."""
    from ftsc.io import read_input, read_stream

    try:
        if name == "-":
            return read_stream(sys.stdin).removeprefix("\ufeff"), None
        if not name:
            raise UsageError("an empty file name was given")
        path = Path(name)
        return read_input(path).decode("utf-8-sig"), path
    except FileNotFoundError:
        raise UsageError(f"{name}: no such file") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise UsageError(f"{name}: cannot read ({exc.strerror or exc})") from None


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


def add_compile_options(parser: argparse.ArgumentParser) -> None:
    """What every compiling command takes: `--namespace` (and its cache), `--adapter`, the memory flags."""
    add_namespace_option(parser)
    add_adapter_option(parser)
    add_memory_options(parser)


def compile_files(args: argparse.Namespace, names: Sequence[str]) -> list[tuple[FileReport, CompileResult]]:
    """Compile each of `names` under the options `add_compile_options` added: the namespace file, the
    adapter and the memory flags checked once (a bad one is a usage error), plugins that fail to load
    shown as warnings."""
    namespace = namespace_option(args.namespace)
    with adapter_warnings():
        adapter = adapter_option(args.adapter)
        memory = memory_overrides(args)
        return [compile_one(name, namespace, adapter, memory) for name in names]


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
    add_cache_options(parser)


def add_cache_options(parser: argparse.ArgumentParser) -> None:
    """`--no-cache` and `--cache-dir`: where loaded namespace files are kept between runs."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--no-cache",
        action="store_true",
        help="neither read nor write the namespace cache (also: FTSC_CACHE_DIR=off)",
    )
    group.add_argument(
        "--cache-dir",
        metavar="DIR",
        type=Path,
        help="keep loaded namespace files in DIR (default: $FTSC_CACHE_DIR, else $XDG_CACHE_HOME/ftsc, "
        "else ~/.cache/ftsc)",
    )


def apply_cache_options(args: argparse.Namespace) -> None:
    """Point the namespace cache where `--no-cache` / `--cache-dir` say (nothing given: the environment)."""
    no_cache, folder = getattr(args, "no_cache", False), getattr(args, "cache_dir", None)
    if no_cache or folder is not None:
        from ftsc.compiler import namespace_cache

        namespace_cache.configure(folder, enabled=not no_cache)


def add_color_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto")


def add_adapter_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--adapter",
        metavar="NAME",
        help="strategy adapter: a built-in or plugin name, `module:Class` or `module.Class`; wins over the "
        "schedule's `use adapter` (whose options still apply)",
    )


def check_output(output: str | None, inputs: Iterable[str | os.PathLike[str] | None] = ()) -> None:
    """Refuse an `-o` that names no file or would replace something the command reads (the schedule,
    the namespace, the plan): exit 2 with that file intact, before any work is written."""
    if output is None or output == "-":
        return
    if not output:
        raise UsageError("-o: an empty file name; name the file to write, or `-` for standard output")
    for item in inputs:
        if item is None or os.fspath(item) in ("", "-"):
            continue
        try:
            same = Path(output).samefile(item)
        except (OSError, ValueError):  # either does not exist (yet), or a name the OS cannot take
            same = False
        if same:
            raise UsageError(
                f"{output}: refusing to overwrite `{os.fspath(item)}`, which this command reads; "
                "choose another output file"
            )


def add_memory_options(parser: argparse.ArgumentParser) -> None:
    """The memory budget flags; each wins over the same key of the schedule's `memory = { … }`."""
    from ftsc.compiler.memory.choices import PRECISIONS, STRATEGIES

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
    values = {
        "devices": args.devices,
        "device_memory": args.device_memory,
        "precision": args.precision,
        "strategy": args.strategy,
        "activations": args.activations,
        "optimizer": args.optimizer,
    }
    if all(value is None for value in values.values()):
        return None  # and the memory model is not imported
    from ftsc.compiler.memory.budget import MAX_DEVICES, parse_size

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
    atomically (returns True); a file that cannot be written is a usage error. Callers check the
    target with `check_output` before doing the work."""
    if output is None or output == "-":
        sys.stdout.write(text)
        return False
    check_output(output)
    from ftsc.io import atomic_write_text

    try:
        atomic_write_text(output, text)
    except OSError as exc:
        raise UsageError(f"{output}: cannot write the {what} ({exc.strerror or exc})") from None
    return True
