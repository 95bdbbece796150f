"""FTS's regex traps in `params` entries: W501 (prefix match runs on), W502 (`.` is any character),
W503 (`{m,n}` is a quantifier, not a layer range).

FTS matches an entry that is not a parameter name with `re.match`: from the start of the name, to
wherever the regex stops, with `.` matching any character. With a namespace, W501 and W502 name the
parameters that the entry selects only because of that; without one, W501 falls back to the shape of the
entry (a number left open at the end, or followed by `.*`) and W502 is not reported, since every FTS name
is full of dots that only a namespace can tell apart. An entry that is a parameter name is exact in FTS
and gets none of these warnings.
"""

from __future__ import annotations

from ftsc import codes
from ftsc.compiler import Namespace
from ftsc.compiler.patterns.linear_regex import RegexProblem, compile_regex
from ftsc.diagnostics import Diagnostic, diagnose
from ftsc.fts import regex_text
from ftsc.fts.resolve import Resolved
from ftsc.fts.schedule import Entry, FtsSchedule
from ftsc.fts.simplify import Simplifier

_SHOWN = 3
_MAX_DOTS = 64  # dots of one entry checked for W502, each a regex of its own (entries may be 10,000 long)


def lint_schedule(
    schedule: FtsSchedule, namespace: Namespace | None, resolved: list[list[Resolved]] | None
) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    simplifier: Simplifier | None = None
    for index, phase in enumerate(schedule.phases):
        matches = {id(item.entry): item for item in resolved[index]} if resolved is not None else {}
        for entry in phase.entries:
            item = matches.get(id(entry))
            if resolved is not None and (item is None or item.exact):
                continue  # a parameter name (FTS takes it exactly), or an entry that failed already
            tokens = regex_text.tokenize(entry.text)
            if tokens is None:
                continue
            problems.extend(_range_quantifiers(entry, tokens))
            if namespace is None or item is None:
                problems.extend(_open_numbers(entry, tokens))
            else:
                simplifier = simplifier or Simplifier(namespace)
                problems.extend(_runs_on(entry, tokens, simplifier, item.positions))
                problems.extend(_any_character(entry, tokens, namespace.names, item.positions))
    return problems


def _range_quantifiers(entry: Entry, tokens: list[regex_text.Tok]) -> list[Diagnostic]:
    problems = []
    for start, end, written in regex_text.range_quantifiers(tokens):
        text = entry.text[start:end]
        low, comma, high = written.rstrip("?+").strip("{}").partition(",")
        low = low or "0"
        if not comma:
            count, meant, example = f"exactly {low}", f"layer {low}", low
        elif not high:
            count, meant, example = f"{low} or more", f"layers {low} and up", f"{{{low}..}}"
        else:
            count, meant, example = f"{low} to {high}", f"layers {low} to {high}", f"{{{low}..{high}}}"
        what = "dots" if text.startswith("\\") else "characters of any kind"
        problems.append(
            diagnose(
                codes.FTS_QUANTIFIER_RANGE,
                f"`{text}` is a regex quantifier: {count} {what}, not {meant}; FTS matches it as written, "
                f"and so does the translation. In `.fts`, {meant} is the segment `{example}`",
                entry.sub_span(start, end),
            )
        )
    return problems


def _open_numbers(entry: Entry, tokens: list[regex_text.Tok]) -> list[Diagnostic]:
    """W501 without a namespace: a number that the match may run past (`layers.7`, `layers.1.*`)."""
    for start, end in regex_text.number_prefix_traps(tokens):
        text = entry.text[start:end]
        number = "".join(char for char in text if char.isdigit())
        return [
            diagnose(
                codes.FTS_PREFIX_MATCH,
                f"`{text}` does not end the number: FTS matches from the start of a name, so unless "
                f"`{entry.text}` is itself a parameter name this also selects `{number}0…`, `{number}1…` and "
                f"every longer number that starts with {number}; pass `--namespace` to see which names",
                entry.sub_span(start, end),
            )
        ]
    return []


def _runs_on(
    entry: Entry, tokens: list[regex_text.Tok], simplifier: Simplifier, positions: tuple[int, ...]
) -> list[Diagnostic]:
    """W501 with a namespace: the names the entry selects only because its match stops mid-segment,
    with the `.fts` patterns for the rest when there are some."""
    names = simplifier.names
    try:
        intent = compile_regex(regex_text.segment_intent(tokens))
    except RegexProblem:
        return []
    extra = [p for p in positions if not intent.match(names[p])]
    if not extra:
        return []
    meant = [p for p in positions if p not in set(extra)]
    patterns = simplifier.patterns(meant) if meant else None
    hint = (
        f"; to thaw only the segment, write `{', '.join(patterns)}`"
        if patterns and len(patterns) <= 3
        else ""
    )
    traps = regex_text.number_prefix_traps(tokens)
    span = entry.sub_span(*traps[0]) if traps else entry.span
    shown = ", ".join(f"`{names[p]}`" for p in extra[:_SHOWN]) + (", …" if len(extra) > _SHOWN else "")
    count = f"{len(extra)} parameter{'s' if len(extra) != 1 else ''}"
    return [
        diagnose(
            codes.FTS_PREFIX_MATCH,
            f"`{entry.text}` also selects {count} past the segment it names ({shown}): FTS matches from the "
            f"start of a name and stops wherever the regex does; the translation keeps them{hint}",
            span,
            extra=[names[p] for p in extra],
        )
    ]


def _any_character(
    entry: Entry, tokens: list[regex_text.Tok], names: tuple[str, ...], positions: tuple[int, ...]
) -> list[Diagnostic]:
    """W502: each unescaped `.` that, in some selected name, matches a character other than a dot."""
    problems = []
    numbered = any(token.kind == "backref" for token in tokens)
    for index in regex_text.unquantified_dots(tokens)[:_MAX_DOTS]:
        try:
            literal = compile_regex(regex_text.with_literal_dots(tokens, [index]))
        except RegexProblem:
            continue
        offender = next((p for p in positions if not literal.match(names[p])), None)
        if offender is None:
            continue
        name = names[offender]
        matched = None if numbered else _matched_character(tokens, index, name)
        what = f"`{matched}`" if matched is not None else "another character"
        dot = tokens[index]
        problems.append(
            diagnose(
                codes.FTS_UNESCAPED_DOT,
                f"this `.` matches any character: in `{name}` it matches {what}, not a dot; write `\\.` for "
                "a dot (FTS matches it as written, and so does the translation)",
                entry.sub_span(dot.start, dot.end),
                name=name,
            )
        )
    return problems


def _matched_character(tokens: list[regex_text.Tok], index: int, name: str) -> str | None:
    text = "".join("(?P<ftsc_dot>.)" if i == index else token.text for i, token in enumerate(tokens))
    try:
        matched = compile_regex(text).group(name, "ftsc_dot")
    except RegexProblem:
        return None
    return None if matched == "." else matched
