"""The server's memory settings: one malloc arena for its compile threads where glibc allows it."""

from __future__ import annotations

import platform
import subprocess
import sys


def test_one_malloc_arena_takes_effect_on_glibc_and_is_skipped_elsewhere() -> None:
    # In a process of its own: the setting is process-wide.
    code = "from ftsc.lsp.memory import one_malloc_arena; print(one_malloc_arena())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert done.stdout.strip() == str(glibc)
