"""Keeping the garbage collector's full passes out of the server's latency, and its memory compact.

A 50,000-name namespace and its index are some 150,000 long-lived objects. Every full collection walks
all of them (about 100 ms on a slow machine), and the allocations of compiling trigger one every few
dozen edits, so an edit or a completion now and then waited 100 ms longer. `gc.freeze()` moves every
object alive at the time into a generation that collections skip; done once after the first compile
against each namespace, the namespace and its index are out of the way from then on. The price is that
whatever else was alive then and dies later is never freed: at most one compile's worth per namespace
loaded, which the cache of namespaces (`load_cached`) keeps for the whole process anyway.
"""

from __future__ import annotations

import ctypes
import gc
import sys

from ftsc.compiler import Namespace

_settled: set[int] = set()  # ids of the namespaces already frozen (cached namespaces are never freed)


def settle(namespace: Namespace | None) -> None:
    """Freeze what is alive, the first time a compile has used `namespace`."""
    if namespace is None or id(namespace) in _settled:
        return
    _settled.add(id(namespace))
    gc.collect()  # garbage frozen now would never be freed
    gc.freeze()


_M_ARENA_MAX = -8  # glibc's mallopt parameter: how many malloc arenas the process may create


def one_malloc_arena() -> bool:
    """Have glibc's malloc serve every thread from one arena; True where it took effect (glibc only).

    Documents are compiled on threads of their own, and glibc gives each new thread its own arena, so the
    50,000-name compiles of a few threads left 15-20 MiB more resident than the same work on one (measured
    with `benchmarks/lsp_latency.py`: 112 MiB against 93 MiB). The GIL already runs one thread at a time,
    so one arena costs no parallelism. Call it before the first thread starts."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):  # not glibc (musl has no mallopt)
        return False
    return bool(mallopt(_M_ARENA_MAX, 1))
