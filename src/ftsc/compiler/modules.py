"""The modules of a namespace, found by name, pattern or type: what FSDP wraps (`auto_wrap`), what FSDP2
shards (`fsdp_plan`), and the FSDP1 units a parameter belongs to.

The adapters check their options with it at compile time, the memory estimate places parameters in units
with it, and the runtime wraps the live model's modules by it; so it lives here, below all three, and
reads only a Namespace (no torch).
"""

from __future__ import annotations

import difflib
from collections import defaultdict

from ftsc.compiler.namespace import Namespace
from ftsc.compiler.patterns import syntax
from ftsc.compiler.patterns.matcher import PatternMatcher, PatternTooComplex

__all__ = ["ROOT", "ModuleTable", "units_of"]

ROOT = ""  # the root unit's name: the parameters outside every wrapped module


class ModuleTable:
    """The modules of a namespace: its `modules` list, or the prefixes of its parameter names when it has
    none (then module types are unknown)."""

    def __init__(self, namespace: Namespace) -> None:
        self.listed = bool(namespace.modules)
        if self.listed:
            self.names = [module.name for module in namespace.modules]
            self.types = {module.name: module.type for module in namespace.modules}
        else:
            seen: dict[str, None] = {}
            for name in namespace.names:
                parts = name.split(".")
                for end in range(1, len(parts)):
                    seen.setdefault(".".join(parts[:end]))
            self.names = list(seen)
            self.types = {}
        self.by_type: defaultdict[str, list[str]] = defaultdict(list)
        for name, kind in self.types.items():
            self.by_type[kind].append(name)
        self._known = set(self.names)
        self._segments: defaultdict[int, set[str]] | None = None

    def by_name(self, entry: str) -> tuple[list[str], str | None]:
        """The modules whose whole name matches `entry`, an exact name or a pattern (`transformer.h.*`,
        `layers.{0..3}`, `**.mlp`), in the namespace's order; or what is wrong with the pattern."""
        if entry in self._known:
            return [entry], None
        seq, problems = syntax.parse_pattern(entry)
        if seq is None:
            return [], problems[0].message
        if syntax.variables(seq):
            return [], "a `$name` cannot be used here (there are no `let` bindings for module patterns)"
        try:
            regex = PatternMatcher(seq).regex
        except PatternTooComplex as exc:
            return [], exc.message
        return [name for name in self.names if regex.fullmatch(name)], None

    def by_type_or_name(self, entry: str) -> tuple[list[str], str | None]:
        """A module type (`GPT2Block`, or qualified `transformers.models.gpt2.modeling_gpt2.GPT2Block`),
        else a module name or pattern."""
        if entry in self.by_type:
            return list(self.by_type[entry]), None
        found, problem = self.by_name(entry)
        if found or problem is not None:
            return found, problem
        short = entry.rpartition(".")[2]
        if "." in entry and short in self.by_type:
            return list(self.by_type[short]), None
        return [], None

    def _respelled(self, entry: str) -> str | None:
        """`entry` with each misspelt literal segment replaced by the nearest module-name segment at that
        depth, when the result matches a module (`transformer.hh.*` -> `transformer.h.*`)."""
        if self._segments is None:
            self._segments = defaultdict(set)
            for name in self.names:
                for depth, segment in enumerate(name.split(".")):
                    self._segments[depth].add(segment)
        parts = entry.split(".")
        changed = False
        for depth, part in enumerate(parts):
            known = self._segments.get(depth, set())
            if part in known or any(char in part for char in "*{}$"):
                continue
            close = difflib.get_close_matches(part, sorted(known), n=1, cutoff=0.6)
            if not close:
                return None
            parts[depth], changed = close[0], True
        candidate = ".".join(parts)
        return candidate if changed and self.by_name(candidate)[0] else None

    def no_match(self, entry: str, types: bool) -> str:
        """Why an entry matched nothing, with the nearest type or module name."""
        what = "no module type or module name" if types else "no module name"
        close = difflib.get_close_matches(entry, list(self.by_type), n=1, cutoff=0.7) if types else []
        suggestion = close[0] if close else self._respelled(entry)
        hint = f'; did you mean "{suggestion}"?' if suggestion else ""
        listed = (
            ""
            if self.listed or not types
            else " (the namespace lists no `modules`, so module types are unknown: export it again with "
            "`ftsc namespace export`, which records them)"
        )
        return f'"{entry}" matches {what} of the namespace{hint}{listed}'


def units_of(namespace: Namespace, wrapped: set[str]) -> dict[str, list[int]]:
    """FSDP1 units: each parameter goes to the innermost wrapped module containing it, else to the root."""
    units: dict[str, list[int]] = defaultdict(list)
    for position, name in enumerate(namespace.names):
        owner = ROOT
        end = name.rfind(".")
        while end > 0:
            prefix = name[:end]
            if prefix in wrapped:
                owner = prefix
                break
            end = name.rfind(".", 0, end)
        units[owner].append(position)
    return units
