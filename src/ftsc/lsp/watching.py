"""Re-checking open documents when a file they were compiled against changes: the namespace JSON, or a
pyproject.toml whose `[tool.ftsc]` associates one.

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
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.uris import to_fs_path

from ftsc.grammar import ast
from ftsc.lsp.namespaces import PYPROJECT, matching_namespace, project_config, setting_path

if TYPE_CHECKING:
    from ftsc.lsp.server import FtscLanguageServer

POLL_SECONDS = 1.0
GLOBS = ("**/*.json", f"**/{PYPROJECT}")
REGISTRATION_ID = "ftsc/watched-files"

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


def _path_of(uri: str) -> Path | None:
    path = to_fs_path(uri) if uri.startswith("file:") else None
    return _resolved(Path(path)) if path else None


class FileWatch:
    """Per open document, the files its last compile depended on and their stamps then."""

    def __init__(self) -> None:
        self.files: dict[str, dict[Path, Stamp]] = {}
        self.client_watches = False  # the client accepted the watchers: it reports changes in its folders
        self._poller: asyncio.Task[None] | None = None

    def start_polling(self, ls: FtscLanguageServer) -> None:
        if self._poller is None:
            self._poller = asyncio.get_running_loop().create_task(_poll(ls))

    def stop_polling(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            self._poller = None

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


def files_changed(ls: FtscLanguageServer, uris: Iterable[str]) -> None:
    """Re-check the open documents that depend on any of `uris` (watcher events, saves)."""
    changed = {path for uri in uris if (path := _path_of(uri)) is not None}
    ls.watch.forget_closed(ls.is_open)
    for uri in ls.watch.depending_on(changed):
        ls.recheck(uri)


def workspace_folders(ls: FtscLanguageServer) -> list[Path]:
    """The client's workspace folders, in its order, then its root (pygls keeps both)."""
    folders = [path for folder in ls.workspace.folders.values() if (path := _path_of(folder.uri))]
    if ls.workspace.root_path:
        folders.append(Path(ls.workspace.root_path).resolve())
    return folders


async def _poll(ls: FtscLanguageServer) -> None:
    while True:
        await asyncio.sleep(POLL_SECONDS)
        try:
            ls.watch.forget_closed(ls.is_open)
            for uri in ls.watch.changed_unwatched(workspace_folders(ls)):
                ls.recheck(uri)
        except Exception as exc:  # a bad file system moment must not end the polling
            ls.log_exception("polling namespace files", exc)


async def _ask_client_to_watch(ls: FtscLanguageServer) -> None:
    workspace = ls.client_capabilities.workspace
    capability = workspace.did_change_watched_files if workspace is not None else None
    if capability is None or not capability.dynamic_registration:
        return
    options = types.DidChangeWatchedFilesRegistrationOptions(
        watchers=[types.FileSystemWatcher(glob_pattern=glob) for glob in GLOBS]
    )
    registration = types.Registration(REGISTRATION_ID, types.WORKSPACE_DID_CHANGE_WATCHED_FILES, options)
    try:
        await ls.client_register_capability_async(types.RegistrationParams([registration]))
    except Exception as exc:  # the client refused after all: polling covers every file
        ls.log(f"ftsc: the client does not watch files ({exc}); polling them instead", types.MessageType.Info)
        return
    ls.watch.client_watches = True


def register(server: FtscLanguageServer) -> None:
    from ftsc.lsp.server import guarded, guarded_async  # the server imports this module

    @server.feature(types.INITIALIZED)
    @guarded_async(server, "initialized", lambda: None)
    async def initialized(ls: FtscLanguageServer, params: types.InitializedParams) -> None:
        ls.watch.start_polling(ls)
        await _ask_client_to_watch(ls)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    @guarded(server, "workspace/didChangeWatchedFiles", lambda: None)
    def did_change_watched_files(ls: FtscLanguageServer, params: types.DidChangeWatchedFilesParams) -> None:
        files_changed(ls, (event.uri for event in params.changes))

    @server.feature(types.SHUTDOWN)
    @guarded(server, "shutdown", lambda: None)
    def shutdown(ls: FtscLanguageServer, params: None) -> None:
        ls.watch.stop_polling()
