"""The runtime: Lightning callbacks that execute a compiled plan (imports torch and lightning).

`FinetuningScheduler` executes the plan; `FTSEarlyStopping` and `FTSCheckpoint` are its phase-aware
companions (added automatically when the plan needs them); every stateful part speaks `Stateful`.
`FTSMemoryReport` measures each phase's memory beside the compile-time estimate (docs/memory.md).
"""

from ftsc.runtime.callback import FinetuningScheduler
from ftsc.runtime.checkpoint import FTSCheckpoint
from ftsc.runtime.early_stopping import FTSEarlyStopping
from ftsc.runtime.errors import (
    CheckpointFileError,
    FtscRuntimeError,
    NamespaceMismatchError,
    PlanMismatchError,
    RuntimeConfigError,
    ScheduleCompileError,
)
from ftsc.runtime.memory_report import FTSMemoryReport
from ftsc.runtime.report import Restored, Transition, Trigger
from ftsc.runtime.state import Stateful

__all__ = [
    "CheckpointFileError",
    "FTSCheckpoint",
    "FTSEarlyStopping",
    "FTSMemoryReport",
    "FinetuningScheduler",
    "FtscRuntimeError",
    "NamespaceMismatchError",
    "PlanMismatchError",
    "Restored",
    "RuntimeConfigError",
    "ScheduleCompileError",
    "Stateful",
    "Transition",
    "Trigger",
]
