"""What the runtime raises: each error says what is wrong, where, and the way out, before any training
step."""

from __future__ import annotations


class FtscRuntimeError(RuntimeError):
    """Base of the runtime's errors (a `RuntimeError`, so Lightning ends the run with the message)."""


class ScheduleCompileError(FtscRuntimeError):
    """The `.fts` schedule did not compile against the live model; the message lists every diagnostic."""


class NamespaceMismatchError(FtscRuntimeError):
    """The live model's parameter names are not the plan's namespace."""


class PlanMismatchError(FtscRuntimeError):
    """A checkpoint was written by a run of another plan (or ranks disagree on the plan)."""


class CheckpointFileError(FtscRuntimeError):
    """The checkpoint to resume from is damaged (cut short, CRC mismatch): refused before anything loads."""


class RuntimeConfigError(FtscRuntimeError):
    """The trainer, callbacks or optimizer are set up in a way the plan cannot run with."""
