"""Write a generated schedule as `.fts` text in ftsc's canonical layout (the one `ftsc fmt` writes).

Leading comments, the `fts 1` header and `use namespace` together, then one blank line between blocks
(the `let`s, each phase), 4-space indentation, `thaw A, B`, and `until epoch N` after the `thaw`. The
text is finally passed through `ftsc.format.format_text`, which wraps a long `thaw` after its commas.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from ftsc.format import format_text
from ftsc.format.formatter import INDENT, WIDTH
from ftsc.generate.spec import GeneratedPhase, GeneratedSchedule
from ftsc.generate.spelling import phase_name, quote

__all__ = ["render"]

_INDENT = " " * INDENT


def render(schedule: GeneratedSchedule, comments: Sequence[str], namespace_ref: str | None) -> str:
    """The schedule's text; `comments` go at the top, `namespace_ref` into `use namespace` (None: none)."""
    lines = [
        f"# {line}".rstrip()
        for comment in comments
        for line in textwrap.wrap(comment, WIDTH - 2, break_long_words=False, break_on_hyphens=False)
    ]
    lines.append("fts 1")
    if namespace_ref is not None:
        lines.append(f"use namespace {quote(namespace_ref)}")
    if schedule.lets:
        lines.append("")
        lines.extend(f"let {let.name} = {let.pattern}" for let in schedule.lets)
    for phase in schedule.phases:
        lines.append("")
        lines.extend(_phase(phase))
    text = "\n".join(lines) + "\n"
    formatted = format_text(text).text
    return text if formatted is None else formatted  # None only for a syntax error, which would be a bug


def _phase(phase: GeneratedPhase) -> list[str]:
    header = "phase {" if phase.name is None else f"phase {phase_name(phase.name)} {{"
    body: list[str] = []
    if phase.comment is not None:
        body.append(f"{_INDENT}# {phase.comment}")
    body.append(f"{_INDENT}thaw " + ", ".join(phase.selectors))
    if phase.until is not None:
        body.append(f"{_INDENT}until epoch {phase.until}")
    return [header, *body, "}"]
