"""What the checker knows about a class: its constructor's parameters, its kind, and the outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["optimizer", "lr_scheduler"]
ParameterKind = Literal[
    "positional_only", "positional_or_keyword", "var_positional", "keyword_only", "var_keyword"
]
Category = Literal["optimizer", "lr_scheduler", "unknown"]
Source = Literal["installed", "snapshot"]

HOME_MODULES: dict[Kind, str] = {"optimizer": "torch.optim", "lr_scheduler": "torch.optim.lr_scheduler"}
MAX_DEPTH = 64  # inheritance / re-export chains longer than this are treated as unresolvable


@dataclass(frozen=True)
class Parameter:
    """One constructor parameter, as `inspect.Parameter` would describe it."""

    name: str
    kind: ParameterKind
    has_default: bool


@dataclass(frozen=True)
class ClassInfo:
    """What the checker needs to know about a resolved class."""

    qualname: str
    parameters: tuple[Parameter, ...]  # excluding self
    category: Category
    source: Source

    @property
    def display_name(self) -> str:
        return self.qualname.rpartition(".")[2]


@dataclass(frozen=True)
class Lookup:
    """The outcome of `resolve_class`: `info` when it resolved, else `problem` and maybe suggestions."""

    info: ClassInfo | None
    problem: str | None
    suggestions: tuple[str, ...] = ()


@dataclass(frozen=True)
class ArgumentProblem:
    """A keyword argument that does not fit (or a required parameter that is missing: `argument` None)."""

    argument: str | None
    message: str
    suggestion: str | None = None
