"""What a generated schedule is made of, before it is written out as `.fts` text."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GeneratedLet", "GeneratedPhase", "GeneratedSchedule"]


@dataclass(frozen=True)
class GeneratedLet:
    name: str
    pattern: str


@dataclass(frozen=True)
class GeneratedPhase:
    """One phase: its selectors as `.fts` text and the positions they are meant to thaw."""

    name: str | None  # the label, unquoted; None for an unnamed phase
    selectors: tuple[str, ...]
    params: tuple[int, ...]  # namespace positions, in namespace order
    until: int | None = None
    comment: str | None = None  # one line written above the phase's `thaw`


@dataclass(frozen=True)
class GeneratedSchedule:
    strategy: str
    about: tuple[str, ...]  # comment lines that say what the schedule does
    lets: tuple[GeneratedLet, ...]
    phases: tuple[GeneratedPhase, ...]
    layers_per_phase: int | None = None  # what `blocks` used; None for `fts` or a model without stacks
