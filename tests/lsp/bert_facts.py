"""Facts about the BERT test namespace, read straight from its JSON file: the expectations of the hover,
completion and inlay-hint tests, computed without any ftsc code."""

from __future__ import annotations

import json
import math
import re

from lsp_support import NAMESPACE

_PARAMETERS = json.loads(NAMESPACE.read_text(encoding="utf-8"))["parameters"]
NAMES: list[str] = [parameter["name"] for parameter in _PARAMETERS]
_NUMEL = {parameter["name"]: math.prod(parameter["shape"]) for parameter in _PARAMETERS}


def matching(regex: str) -> list[str]:
    return [name for name in NAMES if re.fullmatch(regex, name)]


def elements(names: list[str]) -> int:
    return sum(_NUMEL[name] for name in names)


def children(prefix: str) -> set[str]:
    """The next segments after `prefix.` (the root's first segments when `prefix` is empty)."""
    start = prefix + "." if prefix else ""
    return {name[len(start) :].split(".")[0] for name in NAMES if name.startswith(start)}
