"""The `.fts` language: `parse(text)` gives a `ParseResult`, the syntax tree (`ast`) and its diagnostics.

`parse` never raises: syntax errors are diagnostics, and the tree holds what could be recovered. The
grammar (`fts.lark`, LALR) and the tree builder are inner rooms; callers use the names here.

`parse` and `ParseResult` load on first use (PEP 562), so importing `ftsc.grammar.ast` alone, as the
strategy adapters do, does not load lark.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ftsc.grammar import ast

if TYPE_CHECKING:
    from ftsc.grammar.parser import ParseResult, parse

__all__ = ["ParseResult", "ast", "parse"]

_HOMES = {"ParseResult": "ftsc.grammar.parser", "parse": "ftsc.grammar.parser"}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
