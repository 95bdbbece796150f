"""Locating modules without importing them (so `ftsc check` never runs user code)."""

from __future__ import annotations

import functools
import importlib.machinery
import sys


@functools.cache
def module_spec(name: str) -> importlib.machinery.ModuleSpec | None:
    """Find a module's spec the way the import system would, but without importing any parent package."""
    parent, _, _ = name.rpartition(".")
    if not parent:
        return _top_level_spec(name)
    parent_spec = module_spec(parent)
    if parent_spec is None or parent_spec.submodule_search_locations is None:
        return None
    return importlib.machinery.PathFinder.find_spec(name, list(parent_spec.submodule_search_locations))


def _top_level_spec(name: str) -> importlib.machinery.ModuleSpec | None:
    """PathFinder first; then setuptools' editable-install finders, whose lookups are static tables.

    Other meta path finders are not asked: some (e.g. meson-python's) rebuild or import on `find_spec`.
    """
    spec = importlib.machinery.PathFinder.find_spec(name)
    if spec is not None:
        return spec
    for finder in sys.meta_path:
        if not str(getattr(finder, "__module__", "")).startswith("__editable__"):
            continue
        try:
            spec = finder.find_spec(name, None)
        except Exception:  # a broken finder must not break `ftsc check`
            continue
        if spec is not None:
            return spec
    return None
