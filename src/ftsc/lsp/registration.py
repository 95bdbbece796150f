"""`handler`: the one way a feature module registers an LSP method on the server it is given.

Every handler is guarded: an exception becomes a `window/logMessage` error naming the method, and the
request gets a neutral answer (`None` unless the handler says otherwise), so no text can stop the server.
A `JsonRpcException` is the handler's chosen answer (a refused rename) and reaches the client as an error.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from pygls.exceptions import JsonRpcException

from ftsc.lsp.server import FtscLanguageServer

Handler = TypeVar("Handler", bound=Callable[..., Any])


def _nothing() -> None:
    return None


def handler(
    server: FtscLanguageServer,
    method: str,
    options: object = None,
    *,
    neutral: Callable[[], object] = _nothing,
) -> Callable[[Handler], Handler]:
    """Register the decorated function (sync or async) for `method`, with `options` for the capability;
    when it raises, the answer is `neutral()`."""

    def register(function: Handler) -> Handler:
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def guarded_async(*args: Any) -> Any:
                try:
                    return await function(*args)
                except (asyncio.CancelledError, JsonRpcException):
                    raise
                except Exception as exc:
                    server.log_exception(method, exc)
                    return neutral()

            server.feature(method, options)(guarded_async)
        else:

            @functools.wraps(function)
            def guarded(*args: Any) -> Any:
                try:
                    return function(*args)
                except JsonRpcException:
                    raise
                except Exception as exc:
                    server.log_exception(method, exc)
                    return neutral()

            server.feature(method, options)(guarded)
        return function

    return register
