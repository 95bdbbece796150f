"""The checkpoint state 1 → 2 step (`checkpoint_1_to_2`): the names map is recorded."""

from __future__ import annotations

from ftsc.migrations import upgrade
from ftsc.migrations.checkpoint_v1 import checkpoint_1_to_2


class Tensor:
    """Stands in for what checkpoint state may hold besides JSON (tensors): never looked at."""


def test_a_v1_state_records_that_plan_names_were_the_live_names() -> None:
    best = Tensor()
    state = {"state_version": 1, "depth": 2, "best": best}
    upgraded, steps = upgrade("checkpoint", state)
    assert [step.function for step in steps] == [checkpoint_1_to_2]
    assert upgraded == {"state_version": 2, "depth": 2, "best": best, "names": {"drop": "", "add": ""}}
    assert upgraded["best"] is best and state == {"state_version": 1, "depth": 2, "best": best}
