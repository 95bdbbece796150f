"""Which diagnostics stream a client gets: pushed or pulled, never both.

A client that takes both keeps them apart (Neovim 0.11 shows each problem twice), so the server picks one
per client from its capabilities. Pull needs `textDocument.diagnostic` and also
`workspace.diagnostics.refreshSupport`: a document is re-checked when its namespace or pyproject.toml
changes, without an edit, and only a refresh request makes a pulling client ask again. Every other client
(Neovim 0.11 declares pull without refresh) gets pushed diagnostics, and no `diagnosticProvider` in the
initialize result, so that it does not pull as well.
"""

from __future__ import annotations

import enum

from lsprotocol import types


class Stream(enum.Enum):
    PUSH = "push"
    PULL = "pull"


def stream_for(capabilities: types.ClientCapabilities) -> Stream:
    text_document = capabilities.text_document
    workspace = capabilities.workspace
    pulls = text_document is not None and text_document.diagnostic is not None
    refreshes = (
        workspace is not None
        and workspace.diagnostics is not None
        and bool(workspace.diagnostics.refresh_support)
    )
    return Stream.PULL if pulls and refreshes else Stream.PUSH


def advertise(capabilities: types.ServerCapabilities, stream: Stream) -> None:
    """Offer `textDocument/diagnostic` only to a client that is served by pull."""
    if stream is Stream.PUSH:
        capabilities.diagnostic_provider = None
