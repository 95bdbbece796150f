"""What each open document was compiled against, for re-checking it when one of those files changes
(`rechecking.py`): the namespace JSON, or a pyproject.toml whose `[tool.ftsc]` associates one.

Each compile records the files it read or looked for, with their size and mtime. A client that can watch
files for the server (dynamic registration of `workspace/didChangeWatchedFiles`, as VS Code offers) is asked
to watch `**/*.json` and `**/pyproject.toml`, and its events are filtered here down to the files open
documents depend on. Files no watcher covers (all of them when the client cannot watch, as Neovim on Linux;
files outside the workspace folders) are polled once a second against the recorded size and mtime. Either
way only the documents that depend on a changed file are re-checked. Independently of both, every compile
reloads a namespace whose size or mtime changed (`load_cached`), so an edit never meets a stale one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from pathlib import Path

from pygls.uris import to_fs_path
from pygls.workspace import Workspace

from ftsc.grammar import ast
from ftsc.lsp.namespaces import PYPROJECT, matching_namespace, project_config, setting_path

GLOBS = ("**/*.json", f"**/{PYPROJECT}")  # what a client is asked to watch

Stamp = tuple[int, int] | None  # a file's size and mtime (ns); None: there is no such file


def stamp(path: Path) -> Stamp:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


def is_dependency_file(uri: str) -> bool:
    """A namespace or pyproject.toml opened in the editor: watched for saves, never compiled as a schedule."""
    name = uri.rsplit("/", 1)[-1]
    return name.endswith(".json") or name == PYPROJECT


def depended_on(
    schedule: ast.Schedule, document: Path | None, setting: str | None, setting_base: Path
) -> list[Path]:
    """The files a compile of `document` reads or looks for, in the order `documents.analyze` consults
    them: its own `use namespace` (relative to it); else each pyproject.toml from its folder up to the
    nearest one (creating one in between changes the association) and the namespace that one maps the
    document to; else the `ftsc.namespace` setting."""
    own = [use.path for use in schedule.namespaces if use.path is not None]
    if own:
        base = document.parent if document is not None else Path.cwd()
        return [base / Path(own[0].value).expanduser()]
    files: list[Path] = []
    if document is not None:
        for folder in document.parents:
            candidate = folder / PYPROJECT
            files.append(candidate)
            if candidate.is_file():
                config = project_config(candidate)
                target = matching_namespace(config, document) if config is not None else None
                if config is not None and target is not None:
                    return [*files, config.root / Path(target).expanduser()]
                break
    if setting:
        files.append(setting_path(setting, setting_base))
    return files


def watched_files(
    schedule: ast.Schedule, document: Path | None, setting: str | None, setting_base: Path
) -> dict[Path, Stamp]:
    """`depended_on`, resolved (as events name them) and stamped; called on the compile thread."""
    return {_resolved(path): stamp(path) for path in depended_on(schedule, document, setting, setting_base)}


def _resolved(path: Path) -> Path:
    """The path with links followed; as it is (made absolute) where they loop or cannot be followed."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # Python before 3.13 reports a loop of links as RuntimeError
        return path.absolute()


def path_of(uri: str) -> Path | None:
    path = to_fs_path(uri) if uri.startswith("file:") else None
    return _resolved(Path(path)) if path else None


class FileWatch:
    """Per open document, the files its last compile depended on and their stamps then."""

    def __init__(self) -> None:
        self.files: dict[str, dict[Path, Stamp]] = {}
        self.client_watches = False  # the client accepted the watchers: it reports changes in its folders
        self.poller: asyncio.Task[None] | None = None  # polls the files no watcher covers (rechecking.py)

    def record(self, uri: str, files: dict[Path, Stamp]) -> None:
        self.files[uri] = files

    def forget_closed(self, is_open: Callable[[str], bool]) -> None:
        self.files = {uri: files for uri, files in self.files.items() if is_open(uri)}

    def depending_on(self, changed: set[Path]) -> list[str]:
        return [uri for uri, files in self.files.items() if not changed.isdisjoint(files)]

    def changed_unwatched(self, folders: Iterable[Path]) -> list[str]:
        """Documents with a file that no client watcher covers and whose stamp moved since their compile.
        The new stamp is recorded at once, so one change re-checks a document once."""
        covered = tuple(folders) if self.client_watches else ()
        found = []
        for uri, files in self.files.items():
            moved = {
                path: now
                for path, then in files.items()
                if not any(path.is_relative_to(folder) for folder in covered) and (now := stamp(path)) != then
            }
            if moved:
                files.update(moved)
                found.append(uri)
        return found


def workspace_folders(workspace: Workspace) -> list[Path]:
    """The client's workspace folders, in its order, then its root (pygls keeps both)."""
    folders = [path for folder in workspace.folders.values() if (path := path_of(folder.uri))]
    if workspace.root_path:
        folders.append(Path(workspace.root_path).resolve())
    return folders
