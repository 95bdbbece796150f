"""The server's protocol: pygls's, with didChange by the LSP rules (`SyncProtocol`), the diagnostics
stream chosen per client in `initialize`, and quiet cancellation of requests already answered."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from lsprotocol import types
from pygls.protocol import lsp_method

from ftsc.lsp.streams import advertise, stream_for
from ftsc.lsp.sync import SyncProtocol


class FtscProtocol(SyncProtocol):
    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams) -> Generator[Any, Any, types.InitializeResult]:
        result: types.InitializeResult = yield from super().lsp_initialize(params)
        advertise(result.capabilities, stream_for(params.capabilities))
        return result

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        """`$/cancelRequest` for a request that is already answered is normal: a client cancels what it
        no longer needs (Neovim cancels pending pulls on each change) without knowing whether the answer
        is on its way. pygls logs each one as a warning, which reaches the client's log as an error."""
        if msg_id in self._request_futures:
            super()._handle_cancel_notification(msg_id)
