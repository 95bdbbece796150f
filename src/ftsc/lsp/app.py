"""The language server, assembled: the server, and each feature module registering its handlers on it.

Every feature module has `register(server)` and knows only the server it is given; none imports this
module, so the arrows run one way (app -> features -> server).
"""

from __future__ import annotations

from typing import Protocol

from ftsc.lsp import assist, checking, editing, rechecking
from ftsc.lsp.logs import route_pygls_logs
from ftsc.lsp.server import FtscLanguageServer


class Feature(Protocol):
    def register(self, server: FtscLanguageServer) -> None: ...


FEATURES: tuple[Feature, ...] = (
    checking,  # initialize, the document lifecycle, diagnostics pulled by the client
    assist,  # hover, completion, inlay hints
    editing,  # code actions, navigation, rename, symbols, folding, semantic tokens, formatting
    rechecking,  # re-checks documents when their namespace or pyproject.toml changes
)


def build_server() -> FtscLanguageServer:
    server = FtscLanguageServer()
    route_pygls_logs(server)
    for feature in FEATURES:
        feature.register(server)
    return server
