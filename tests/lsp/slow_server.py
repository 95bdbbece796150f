"""`ftsc lsp` whose compile is slow or fails on demand, to test that the server keeps serving meanwhile.

A document holding `SLOW_COMPILE` spins in pure Python for up to two minutes before compiling (as a compile
of a pathological input would); one holding `CRASH_COMPILE` makes the compile raise, as a bug in ftsc would.
"""

from __future__ import annotations

import time

from ftsc.lsp import app, server


def _analyze(text: str, *args: object) -> object:
    if "SLOW_COMPILE" in text:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            pass
    if "CRASH_COMPILE" in text:
        raise RuntimeError("simulated failure inside the compiler")
    return _original(text, *args)


_original = server.analyze
server.analyze = _analyze  # type: ignore[assignment]

if __name__ == "__main__":
    app.build_server().start_io()
