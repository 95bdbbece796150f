"""Every test process and the ftsc processes tests start keep namespace cache entries in a temporary
folder, never in the user's own cache (tests that exercise the cache point it elsewhere themselves)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="session")
def _namespace_cache_folder() -> Iterator[None]:
    previous = os.environ.get("FTSC_CACHE_DIR")
    with tempfile.TemporaryDirectory(prefix="ftsc-test-cache-") as folder:
        os.environ["FTSC_CACHE_DIR"] = folder
        yield
    if previous is None:
        os.environ.pop("FTSC_CACHE_DIR", None)
    else:
        os.environ["FTSC_CACHE_DIR"] = previous
