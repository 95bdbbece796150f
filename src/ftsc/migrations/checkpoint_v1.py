"""Checkpoint state version 1 to version 2: how the run mapped plan names to the trained module's names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["checkpoint_1_to_2"]


def checkpoint_1_to_2(state: Mapping[str, Any]) -> dict[str, Any]:
    """Changed in ftsc 0.2.0: the state records `names`, how plan names became live names (`drop` removed
    from the front, then `add` put there; `model.` for a plan whose names sit in `self.model`).

    Why: a plan's names can sit inside the trained module (`use namespace "…" at model`), and a run may
    find them there without the plan saying so; the checkpoint keeps the mapping its tensors were saved
    under, so a resume that maps names differently is refused with that reason. A version 1 state was
    written by a run whose live names were the plan's: nothing dropped or added.
    """
    return {**state, "names": {"drop": "", "add": ""}, "state_version": 2}
