"""The runtime's saved state: one `Stateful` protocol, and the callback's versioned checkpoint record."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

from ftsc.migrations import CURRENT_VERSIONS
from ftsc.runtime.errors import PlanMismatchError

STATE_VERSION = CURRENT_VERSIONS["checkpoint"]


@runtime_checkable
class Stateful(Protocol):
    """What the callback, `FTSCheckpoint`, `FTSEarlyStopping` and strategy adapters all speak, so a checkpoint
    holds every part of a run and a resume restores each one."""

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state_dict: dict[str, Any]) -> None: ...


@dataclass
class GroupRecord:
    """Which phase an optimizer parameter group belongs to; `no_decay` marks the weight-decay-free half of a
    phase split by the module's `no_decay` names. The parameters follow from the plan, so they are not
    stored."""

    phase: int
    no_decay: bool = False


@dataclass
class SchedulerState:
    """The callback's part of a checkpoint (state version 2). `names` is how plan names became live names:
    `add` put in front after `drop` was removed (`use namespace "…" at model`: add `model.`)."""

    plan_fingerprint: str
    namespace_fingerprint: str
    depth: int
    groups: list[GroupRecord] = field(default_factory=list)
    optimizer_phase: int = 0  # the phase whose `optimizer = …` made the current optimizer (0: the user's)
    scheduler_phase: int = 0  # likewise for the lr scheduler
    adapter: dict[str, Any] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=lambda: {"drop": "", "add": ""})
    state_version: int = STATE_VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SchedulerState:
        """Read a saved state (after `ftsc.migrations` has brought it to the current version)."""
        try:
            return cls(
                plan_fingerprint=str(data["plan_fingerprint"]),
                namespace_fingerprint=str(data["namespace_fingerprint"]),
                depth=int(data["depth"]),
                groups=[GroupRecord(int(g["phase"]), bool(g.get("no_decay", False))) for g in data["groups"]],
                optimizer_phase=int(data.get("optimizer_phase", 0)),
                scheduler_phase=int(data.get("scheduler_phase", 0)),
                adapter=dict(data.get("adapter") or {}),
                names={"drop": str(data["names"]["drop"]), "add": str(data["names"]["add"])},
                state_version=int(data["state_version"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise PlanMismatchError(
                f"the checkpoint's ftsc state is incomplete or damaged ({exc!r}); resume from another "
                "checkpoint, or start the run afresh"
            ) from None
