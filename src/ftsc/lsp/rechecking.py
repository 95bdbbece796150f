"""Re-checking open documents when a file they were compiled against changes (`watching.py` records
which): client watchers where the client offers them, polling for the files no watcher covers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from lsprotocol import types

from ftsc.lsp.registration import handler
from ftsc.lsp.server import FtscLanguageServer
from ftsc.lsp.watching import GLOBS, path_of, workspace_folders

POLL_SECONDS = 1.0
REGISTRATION_ID = "ftsc/watched-files"


def files_changed(ls: FtscLanguageServer, uris: Iterable[str]) -> None:
    """Re-check the open documents that depend on any of `uris` (watcher events, saves)."""
    changed = {path for uri in uris if (path := path_of(uri)) is not None}
    ls.watch.forget_closed(ls.is_open)
    for uri in ls.watch.depending_on(changed):
        ls.recheck(uri)


async def _poll(ls: FtscLanguageServer) -> None:
    while True:
        await asyncio.sleep(POLL_SECONDS)
        try:
            ls.watch.forget_closed(ls.is_open)
            for uri in ls.watch.changed_unwatched(workspace_folders(ls.workspace)):
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
    @handler(server, types.INITIALIZED)
    async def initialized(ls: FtscLanguageServer, params: types.InitializedParams) -> None:
        if ls.watch.poller is None:
            ls.watch.poller = asyncio.get_running_loop().create_task(_poll(ls))
        await _ask_client_to_watch(ls)

    @handler(server, types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(ls: FtscLanguageServer, params: types.DidChangeWatchedFilesParams) -> None:
        files_changed(ls, (event.uri for event in params.changes))

    @handler(server, types.SHUTDOWN)
    def shutdown(ls: FtscLanguageServer, params: None) -> None:
        if ls.watch.poller is not None:
            ls.watch.poller.cancel()
            ls.watch.poller = None
