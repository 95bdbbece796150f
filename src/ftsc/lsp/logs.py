"""pygls's own log records go to the client's log (`window/logMessage`, at their level), never to stderr.

Editors log a server's stderr as errors whatever it says (Neovim writes each line as ERROR), and Python
prints an unconfigured logger's warnings there. A request that a handler refuses on purpose (a rename of
something that cannot be renamed: -32803) is an answer, not a fault: pygls logs it with a traceback, which
is dropped here; every other exception still reaches the client's log as an error.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInternalError

PYGLS = logging.getLogger("pygls")


class ClientLog(Protocol):
    def log(self, message: str, kind: types.MessageType = types.MessageType.Log) -> None: ...


def is_chosen_answer(record: logging.LogRecord) -> bool:
    """A handler's own JSON-RPC error (sent to the client as the response), not a crash."""
    error = record.exc_info[1] if record.exc_info else None
    return isinstance(error, JsonRpcException) and not isinstance(error, JsonRpcInternalError)


class ClientLogHandler(logging.Handler):
    def __init__(self, server: ClientLog) -> None:
        super().__init__(logging.WARNING)
        self.server = server
        self._sending = threading.local()  # a failed send logs again: never recurse

    def emit(self, record: logging.LogRecord) -> None:
        if is_chosen_answer(record) or getattr(self._sending, "active", False):
            return
        kind = types.MessageType.Error if record.levelno >= logging.ERROR else types.MessageType.Warning
        self._sending.active = True
        try:
            self.server.log(f"pygls: {self.format(record)}", kind)
        finally:
            self._sending.active = False


def route_pygls_logs(server: ClientLog) -> None:
    """Send pygls's warnings and errors to `server`'s client, not stderr (replacing an earlier route)."""
    for handler in [h for h in PYGLS.handlers if isinstance(h, ClientLogHandler)]:
        PYGLS.removeHandler(handler)
    PYGLS.addHandler(ClientLogHandler(server))
    PYGLS.propagate = False
