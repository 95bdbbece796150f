"""Checking a schedule's keyword arguments against the constructor of the class it names."""

from __future__ import annotations

from collections.abc import Sequence

from ftsc.compiler.classes.info import ArgumentProblem, ClassInfo, Kind, Parameter
from ftsc.compiler.classes.suggest import close_matches

_KEYWORD_KINDS = ("positional_or_keyword", "keyword_only")


def check_arguments(info: ClassInfo, keywords: Sequence[str], kind: Kind) -> list[ArgumentProblem]:
    """Keyword arguments against the constructor; the runtime passes the first parameter itself."""
    injected = _injected_parameter(info.parameters, kind)
    problems: list[ArgumentProblem] = []
    seen: set[str] = set()
    for keyword in keywords:
        if keyword not in seen:
            seen.add(keyword)
            problem = _check_keyword(info, keyword, injected)
            if problem is not None:
                problems.append(problem)
    problems += _missing_arguments(info, seen, injected, kind)
    return problems


def _injected_parameter(parameters: Sequence[Parameter], kind: Kind) -> Parameter | None:
    """The parameter the runtime fills: an optimizer's first positional one (the parameter groups);
    an lr scheduler's `optimizer` (passed by keyword), else its first positional one."""
    if kind == "lr_scheduler":
        named = [p for p in parameters if p.name == "optimizer" and p.kind in _KEYWORD_KINDS]
        if named:
            return named[0]
    if parameters and parameters[0].kind in ("positional_only", "positional_or_keyword"):
        return parameters[0]
    return None


def _check_keyword(info: ClassInfo, keyword: str, injected: Parameter | None) -> ArgumentProblem | None:
    name = info.display_name
    if injected is not None and keyword == injected.name:
        return ArgumentProblem(keyword, f"`{keyword}` of `{name}` is supplied by the runtime; do not give it")
    by_name = {p.name: p for p in info.parameters}
    parameter = by_name.get(keyword)
    accepts_any = any(p.kind == "var_keyword" for p in info.parameters)
    if parameter is not None and parameter.kind in _KEYWORD_KINDS:
        return None
    if accepts_any:
        return None
    if parameter is not None and parameter.kind == "positional_only":
        message = f"`{keyword}` of `{name}` is positional-only and cannot be given by name"
        return ArgumentProblem(keyword, message)
    candidates = [
        p.name
        for p in info.parameters
        if p.kind in _KEYWORD_KINDS and (injected is None or p.name != injected.name)
    ]
    matches = close_matches(keyword, candidates, n=1)
    return ArgumentProblem(keyword, f"`{name}` has no parameter `{keyword}`", matches[0] if matches else None)


def _missing_arguments(
    info: ClassInfo, given: set[str], injected: Parameter | None, kind: Kind
) -> list[ArgumentProblem]:
    name = info.display_name
    problems: list[ArgumentProblem] = []
    if injected is None and not _can_take_injected(info.parameters, kind):
        what = "parameter groups as its first argument" if kind == "optimizer" else "`optimizer`"
        problems.append(ArgumentProblem(None, f"`{name}` cannot take the {what} the runtime passes"))
    for parameter in info.parameters:
        if parameter is injected or parameter.has_default:
            continue
        if parameter.kind in _KEYWORD_KINDS and parameter.name not in given:
            problems.append(ArgumentProblem(None, f"`{name}` requires `{parameter.name}`"))
        elif parameter.kind == "positional_only":
            message = f"`{name}` requires positional argument `{parameter.name}`, which schedules cannot give"
            problems.append(ArgumentProblem(None, message))
    return problems


def _can_take_injected(parameters: Sequence[Parameter], kind: Kind) -> bool:
    """Without a parameter to fill, the runtime's value lands in *args / **kwargs, if there are any."""
    wanted = "var_positional" if kind == "optimizer" else "var_keyword"
    return any(p.kind == wanted for p in parameters)
