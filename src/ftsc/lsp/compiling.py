"""Compiles off the request loop: one daemon thread per compile, superseded by the next of its document.

A compile can take long (a huge document, an expensive selector): the event loop must keep answering
hover, completion and `shutdown` meanwhile, other documents must not queue behind it, and an edit must not
wait for the compile of the text it replaced. So each compile runs on its own thread. When a compile of
another version of the same document starts, the old one is told to stop with an exception raised in its
thread at its next Python instruction (`PyThreadState_SetAsyncExc`, the one way to interrupt pure-Python
work without the compiler polling a flag); its callers see `Superseded` at once, without waiting for the
thread to end. Requests for the version already being compiled share that compile.

Stopping a compile this way is safe because a compile only builds new objects: the caches it fills
(namespaces per file, matches per namespace) are filled by single assignments once a value is complete.
Daemon threads never keep the process alive after `exit`, not even while a compile is still running.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

T = TypeVar("T")

__all__ = ["CompileRunner", "Superseded"]


class Superseded(Exception):
    """The compile was replaced by one of a newer version of its document: its result is not wanted."""


@dataclass
class _Job(Generic[T]):
    stamp: Hashable
    future: asyncio.Future[T]
    thread: threading.Thread | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def supersede(self) -> None:
        """Fail the job's callers now and interrupt its thread (a no-op once the thread has finished)."""
        if not self.future.done():
            self.future.set_exception(Superseded())
        thread = self.thread
        if thread is not None and thread.ident is not None and not self.done.is_set():
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(thread.ident), ctypes.py_object(Superseded)
            )


class CompileRunner:
    """Runs each document's compiles on threads; a new stamp (version) for a key supersedes the old."""

    def __init__(self, name: str = "ftsc-compile") -> None:
        self._name = name
        self._jobs: dict[Hashable, _Job[object]] = {}

    async def run(self, key: Hashable, stamp: Hashable, work: Callable[[], T]) -> T:
        """`work()`'s result, computed on a daemon thread; raises `Superseded` when a `run` with another
        stamp for the same key starts before it ends, and whatever `work` raises."""
        job = self._jobs.get(key)
        if job is not None and job.stamp == stamp and not job.future.done():
            return await asyncio.shield(cast("asyncio.Future[T]", job.future))  # same key and stamp: same T
        if job is not None:
            job.supersede()
        loop = asyncio.get_running_loop()
        new: _Job[T] = _Job(stamp, loop.create_future())
        new.future.add_done_callback(_retrieve)  # an outcome no caller awaits any more is not an error
        self._jobs[key] = new  # type: ignore[assignment]

        def finish(outcome: Callable[[], None]) -> None:
            if not new.future.done():
                outcome()
            if self._jobs.get(key) is new:
                del self._jobs[key]

        def target() -> None:
            try:
                try:
                    result = work()
                except BaseException as exc:  # Superseded raised into this thread included
                    new.done.set()
                    error = exc if isinstance(exc, Exception) else Superseded()
                    _call_soon(loop, finish, lambda: new.future.set_exception(error))
                else:
                    new.done.set()
                    _call_soon(loop, finish, lambda: new.future.set_result(result))
            except BaseException:  # Superseded arriving just as the work ended: the future is set already
                pass

        new.thread = threading.Thread(target=target, name=self._name, daemon=True)
        new.thread.start()
        return await asyncio.shield(new.future)

    def cancel(self, key: Hashable) -> None:
        """Supersede the key's compile, if one runs (its document was closed)."""
        job = self._jobs.pop(key, None)
        if job is not None:
            job.supersede()


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


def _call_soon(loop: asyncio.AbstractEventLoop, function: Callable[..., None], *args: object) -> None:
    with contextlib.suppress(RuntimeError):  # the loop is closed: the server is exiting
        loop.call_soon_threadsafe(function, *args)
