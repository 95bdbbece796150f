"""A small most-recently-used table of values derived from a namespace, safe across threads.

The language server re-checks against the same namespace on every edit, so its index and an adapter's
translation are kept; since compiles of different documents run on threads of their own, the table is
locked. Entries are keyed by the namespace's `id()` and keep the namespace itself, so a key reused by a
new object after the old one died never answers for it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

from ftsc.compiler.namespace import Namespace

V = TypeVar("V")

__all__ = ["Recent"]


class Recent(Generic[V]):
    """At most `keep` values, the least recently used dropped first."""

    def __init__(self, keep: int) -> None:
        self._keep = keep
        self._entries: OrderedDict[Hashable, tuple[Namespace, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, namespace: Namespace) -> V | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None or found[0] is not namespace:
                return None
            self._entries.move_to_end(key)
            return found[1]

    def put(self, key: Hashable, namespace: Namespace, value: V) -> V:
        with self._lock:
            self._entries[key] = (namespace, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._keep:
                self._entries.popitem(last=False)
        return value
