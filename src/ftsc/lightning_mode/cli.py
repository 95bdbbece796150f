"""`ftsc-lightning-mode`: switch ftsc's own Lightning imports between unified and standalone, in place.

    ftsc-lightning-mode --mode unified|standalone [--package-dir DIR] [--exclude GLOB]... [--dry-run]

Exit status: 0 done (or nothing to do), 1 some import cannot be converted (nothing is written), 2 usage
error, target package not installed, or a file that cannot be read or written; 3 an internal error (a bug).

Every file is read and converted in memory first; files are written (atomically, each on its own) only
when no import anywhere was refused. What an import may look like is `ftsc.lightning_mode.rewrite`'s
business; this module finds the files, checks the target packages, writes and reports.
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import glob
import importlib.util
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ftsc.io import atomic_write_text, read_input
from ftsc.lightning_mode.rewrite import MODES, Mode, Refusal, Rewrite, rewrite_bytes

__all__ = [
    "DEFAULT_EXCLUDES",
    "REQUIRED_PACKAGES",
    "FileResult",
    "ToggleResult",
    "apply_toggle",
    "default_package_dir",
    "find_sources",
    "is_excluded",
    "main",
    "missing_packages",
    "plan_toggle",
]

PROG = "ftsc-lightning-mode"

# Paths relative to the package folder, '/'-separated, matched with fnmatch; a pattern that matches a
# folder excludes everything under it. The tool's own modules are never rewritten.
DEFAULT_EXCLUDES: tuple[str, ...] = ("lightning_mode",)

# The top-level import names each mode's imports need, and the distribution that provides each.
REQUIRED_PACKAGES: dict[Mode, tuple[str, ...]] = {
    "unified": ("lightning",),
    "standalone": ("pytorch_lightning", "lightning_fabric"),
}
_DISTRIBUTIONS = {
    "lightning": "lightning",
    "pytorch_lightning": "pytorch-lightning",
    "lightning_fabric": "lightning-fabric",
}
_SOURCE_SUFFIXES = (".py", ".pyi")


@dataclass(frozen=True)
class FileResult:
    path: Path
    relative: str  # '/'-separated, relative to the package folder
    rewrite: Rewrite
    encoding: str  # to write `rewrite.text` back with ("" when the file could not be decoded)


@dataclass
class ToggleResult:
    package_dir: Path
    mode: Mode
    files: list[FileResult] = field(default_factory=list)  # every file read, excluded ones not included
    excluded: list[str] = field(default_factory=list)

    @property
    def changed(self) -> list[FileResult]:
        return [result for result in self.files if result.rewrite.changed]

    @property
    def refused(self) -> list[FileResult]:
        return [result for result in self.files if result.rewrite.refusals]


def missing_packages(mode: Mode) -> list[str]:
    """The import names `mode` needs that are not installed; looked up without importing anything.

    Only top-level names are looked up: `find_spec("lightning.pytorch")` would import `lightning`.
    """
    missing = []
    for name in REQUIRED_PACKAGES[mode]:
        try:
            spec = importlib.util.find_spec(name)
        except ValueError:  # in sys.modules with no __spec__: it is there
            continue
        if spec is None:
            missing.append(name)
    return missing


def default_package_dir() -> Path:
    """The ftsc package this tool belongs to (in an editable install: the source tree's src/ftsc)."""
    return Path(__file__).resolve().parent.parent


def is_excluded(relative: str, patterns: Iterable[str]) -> bool:
    """Whether a '/'-separated path relative to the package folder, or a folder above it, matches."""
    parts = relative.split("/")
    candidates = ["/".join(parts[:end]) for end in range(1, len(parts) + 1)]
    return any(
        fnmatch.fnmatchcase(candidate, pattern.strip("/")) for pattern in patterns for candidate in candidates
    )


def find_sources(
    package_dir: Path, excludes: Iterable[str] = DEFAULT_EXCLUDES
) -> tuple[list[Path], list[str]]:
    """The .py and .pyi files under `package_dir` (sorted), and the relative paths of those excluded.

    `__pycache__` and hidden folders are not searched; symbolic links to folders are not followed.
    """
    patterns = list(excludes)
    included: list[Path] = []
    excluded: list[str] = []
    for root, folders, files in os.walk(package_dir):
        folders[:] = sorted(name for name in folders if name != "__pycache__" and not name.startswith("."))
        for name in sorted(files):
            if not name.endswith(_SOURCE_SUFFIXES):
                continue
            path = Path(root, name)
            relative = path.relative_to(package_dir).as_posix()
            if is_excluded(relative, patterns):
                excluded.append(relative)
            else:
                included.append(path)
    return included, excluded


def plan_toggle(package_dir: Path, mode: Mode, excludes: Iterable[str] = DEFAULT_EXCLUDES) -> ToggleResult:
    """Read and convert every file in memory; writes nothing. Raises OSError for a file it cannot read."""
    paths, excluded = find_sources(package_dir, excludes)
    result = ToggleResult(package_dir, mode, excluded=excluded)
    inside = package_dir.resolve()
    for path in paths:
        relative = path.relative_to(package_dir).as_posix()
        outside = _outside(path, inside)
        if outside is not None:
            text = f"a symbolic link to {outside}, outside the package folder: never written through"
            rewrite = Rewrite("", "", (), (Refusal(1, 1, text),))
            result.files.append(FileResult(path, relative, rewrite, ""))
            continue
        rewrite, encoding = rewrite_bytes(read_input(path), mode)
        result.files.append(FileResult(path, relative, rewrite, encoding))
    return result


def _outside(path: Path, package_dir: Path) -> str | None:
    """Where a file really is when that is outside the (resolved) package folder, else None."""
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):  # a dangling link or a loop: read_input reports it
        return None
    return None if real.is_relative_to(package_dir) else str(real)


def apply_toggle(result: ToggleResult) -> list[Path]:
    """Write the changed files of a plan with no refusals (atomically, one by one); return them.

    Each rewritten module's cached bytecode is removed: both spellings of a mapped name have the same
    length, so a .pyc checked by source size and whole-second mtime could otherwise pass for current.
    Raises OSError when a file cannot be written (the files before it are already converted; running
    the tool again, which is idempotent, finishes the job).
    """
    if result.refused:
        raise ValueError("a plan with refused imports must not be written")
    written = []
    for file in result.changed:
        atomic_write_text(file.path, file.rewrite.text, encoding=file.encoding)
        written.append(file.path)
        cache = file.path.parent / "__pycache__"
        for stale in cache.glob(glob.escape(file.path.stem) + ".*.pyc"):
            with contextlib.suppress(OSError):
                stale.unlink()
    return written


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Rewrite the Lightning import statements of ftsc's own modules in place: unified"
            " (lightning.pytorch, lightning.fabric) or standalone (pytorch_lightning, lightning_fabric)."
            " Only import statements change; every file is checked before any is written."
        ),
    )
    parser.add_argument("--mode", required=True, choices=MODES, help="the import style to convert to")
    parser.add_argument(
        "--package-dir",
        type=Path,
        metavar="DIR",
        default=None,
        help="the package folder to rewrite (default: the installed ftsc package)",
    )
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help=(
            "also skip files whose path relative to DIR (or a folder above them) matches GLOB; repeatable."
            f" Always skipped: {', '.join(DEFAULT_EXCLUDES)} (this tool)"
        ),
    )
    parser.add_argument("--dry-run", action="store_true", help="report what would change; write nothing")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _toggle(args)
    except Exception as exc:  # a bug: say so with its own status (3), never a traceback
        print(
            f"{PROG}: internal error: {type(exc).__name__}: {exc} (a bug: please report it)", file=sys.stderr
        )
        return 3


def _toggle(args: argparse.Namespace) -> int:
    mode: Mode = args.mode

    missing = missing_packages(mode)
    if missing:
        installs = " ".join(_DISTRIBUTIONS[name] for name in missing)
        print(
            f"{PROG}: error: cannot switch to {mode} imports: {', '.join(missing)} is not installed"
            f" (pip install {installs}); nothing was changed",
            file=sys.stderr,
        )
        return 2

    package_dir: Path = args.package_dir if args.package_dir is not None else default_package_dir()
    if not package_dir.is_dir():
        print(f"{PROG}: error: {package_dir}: not a folder", file=sys.stderr)
        return 2
    try:
        result = plan_toggle(package_dir, mode, [*DEFAULT_EXCLUDES, *args.exclude])
    except OSError as exc:
        print(f"{PROG}: error: cannot read {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
        return 2

    if result.refused:
        count = 0
        for file in result.refused:
            for refusal in file.rewrite.refusals:
                count += 1
                where = f"{package_dir / file.relative}:{refusal.line}:{refusal.column}"
                print(f"{where}: error: {refusal.message}", file=sys.stderr)
        print(
            f"{PROG}: {count} problem(s) in {len(result.refused)} file(s) stop the conversion to {mode};"
            " nothing was written",
            file=sys.stderr,
        )
        return 1

    for file in result.changed:
        seen: set[int] = set()
        for change in file.rewrite.changes:
            if change.line in seen:  # several names on one line: the line is shown once
                continue
            seen.add(change.line)
            before, after = change.old_line.strip(), change.new_line.strip()
            print(f"{package_dir / file.relative}:{change.line}: {before}  ->  {after}")

    if not args.dry_run:
        try:
            apply_toggle(result)
        except OSError as exc:
            print(
                f"{PROG}: error: cannot write {exc.filename}: {exc.strerror or exc}; files listed before it"
                " may already be converted: run the command again once the cause is fixed",
                file=sys.stderr,
            )
            return 2

    changes = sum(len(file.rewrite.changes) for file in result.changed)
    excluded = f"; {len(result.excluded)} file(s) excluded" if result.excluded else ""
    if not changes:
        summary = f"nothing to change in {len(result.files)} file(s) under {package_dir}"
    elif args.dry_run:
        summary = (
            f"would rewrite {changes} import(s) in {len(result.changed)} of {len(result.files)} file(s)"
            f" under {package_dir} (dry run: nothing written)"
        )
    else:
        summary = (
            f"rewrote {changes} import(s) in {len(result.changed)} of {len(result.files)} file(s)"
            f" under {package_dir}"
        )
    print(f"{PROG}: {mode}: {summary}{excluded}")
    return 0


if __name__ == "__main__":  # python -m ftsc.lightning_mode.cli, where the console script is not installed
    raise SystemExit(main())
