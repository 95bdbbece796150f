"""The keyword arguments a schedule may give an optimizer or lr scheduler class: hover lists them and
completion offers them. The compiler's own check decides, so the two never disagree with E304."""

from __future__ import annotations

from ftsc.compiler.classes import ClassInfo, Kind, Parameter, check_arguments

_KEYWORD_KINDS = ("positional_or_keyword", "keyword_only")


def keyword_arguments(info: ClassInfo, kind: Kind) -> list[Parameter]:
    """Constructor parameters a schedule can name: keyword ones the runtime does not fill itself."""
    candidates = [parameter for parameter in info.parameters if parameter.kind in _KEYWORD_KINDS]
    refused = {
        problem.argument
        for problem in check_arguments(info, [parameter.name for parameter in candidates], kind)
        if problem.argument is not None
    }
    return [parameter for parameter in candidates if parameter.name not in refused]
