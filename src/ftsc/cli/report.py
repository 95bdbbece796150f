"""Render diagnostics for `ftsc check`: for people (human), editors and scripts (json), CI (github, sarif).

Every renderer is a function of the reports alone (bar reading a file that a related location names but no
report holds), so tests can pin the exact text. `render` returns it whole; the caller writes it.
Positions come from `SourceText.position`: code points for people and GitHub, UTF-16 for LSP and SARIF.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Literal

from ftsc import __version__
from ftsc.codes import CODES
from ftsc.diagnostics import Diagnostic, Severity, SourceText, Span, sort_key
from ftsc.wording import counted

Format = Literal["human", "json", "github", "sarif"]

STDIN_PATH = "<stdin>"
STDIN_URI = "untitled:stdin"  # LSP needs some URI; "untitled:" is what editors use for unsaved buffers
INFORMATION_URI = "https://pypi.org/project/ftsc/"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

MAX_SNIPPET_LINES = 5
TAB_WIDTH = 4
_SNIPPET_CHARS = 240  # a longer source line is shown around its span
_SNIPPET_CONTEXT = 40  # characters shown before the span when a line is cut


@dataclass(frozen=True)
class FileReport:
    """The diagnostics of one checked file, with its text so positions and snippets can be computed."""

    source: SourceText
    diagnostics: tuple[Diagnostic, ...]

    @property
    def path(self) -> str:
        return self.source.path if self.source.path is not None else STDIN_PATH

    def ordered(self) -> list[Diagnostic]:
        """Diagnostics by position, so output is stable whatever order the passes found them in."""
        return sorted(self.diagnostics, key=sort_key)


def render(reports: Sequence[FileReport], fmt: Format, *, color: bool = False) -> str:
    """The whole output of `ftsc check` in `fmt`; `color` only affects `human` (the caller decides)."""
    sources = _Sources(reports)
    if fmt == "human":
        return _render_human(reports, sources, _Style(color))
    renderers: dict[str, Callable[[Sequence[FileReport], _Sources], str]] = {
        "json": _render_json,
        "github": _render_github,
        "sarif": _render_sarif,
    }
    if fmt not in renderers:
        raise ValueError(f"unknown output format {fmt!r}")
    return renderers[fmt](reports, sources)


def summary(reports: Sequence[FileReport]) -> tuple[int, int, int]:
    """(errors, warnings, infos); hints count as infos, since nothing tells them apart in a summary."""
    counts = {Severity.ERROR: 0, Severity.WARNING: 0, Severity.INFORMATION: 0}
    for report in reports:
        for diagnostic in report.diagnostics:
            counts[min(diagnostic.severity, Severity.INFORMATION)] += 1
    return counts[Severity.ERROR], counts[Severity.WARNING], counts[Severity.INFORMATION]


# --- where related locations point --------------------------------------------------------------------


class _Sources:
    """Finds the text a related location's span indexes: a checked file first, else the file on disk."""

    def __init__(self, reports: Sequence[FileReport]) -> None:
        self._cache: dict[str, SourceText | None] = {
            os.path.normpath(report.source.path): report.source
            for report in reports
            if report.source.path is not None
        }

    def for_path(self, path: str | None, default: SourceText) -> SourceText | None:
        """None when the file cannot be read: the location is then shown without a line and column."""
        if path is None:
            return default
        key = os.path.normpath(path)
        if key not in self._cache:
            self._cache[key] = _read(path)
        return self._cache[key]


def _read(path: str) -> SourceText | None:
    try:
        return SourceText(Path(path).read_text(encoding="utf-8"), path)
    except (OSError, UnicodeDecodeError):
        return None


def _related_path(report: FileReport, path: str | None) -> str:
    return path if path is not None else report.path


# --- human ----------------------------------------------------------------------------------------------


_SEVERITY_LABELS = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFORMATION: "info",
    Severity.HINT: "hint",
}
_SEVERITY_COLORS = {
    Severity.ERROR: "31",
    Severity.WARNING: "33",
    Severity.INFORMATION: "34",
    Severity.HINT: "34",
}
_GUTTER_COLOR = "1;34"


@dataclass(frozen=True)
class _Style:
    """ANSI styling that vanishes when color is off, so layout code never branches on it."""

    color: bool

    def paint(self, text: str, sgr: str) -> str:
        return f"\x1b[{sgr}m{text}\x1b[0m" if self.color and text else text

    def severity(self, text: str, severity: Severity) -> str:
        return self.paint(text, f"1;{_SEVERITY_COLORS[severity]}")


def _render_human(reports: Sequence[FileReport], sources: _Sources, style: _Style) -> str:
    blocks = [
        "\n".join(_human_diagnostic(report, diagnostic, sources, style)) + "\n"
        for report in reports
        for diagnostic in report.ordered()
    ]
    return "\n".join([*blocks, style.paint(_summary_line(reports), "1")]) + "\n"


def _summary_line(reports: Sequence[FileReport]) -> str:
    """`2 errors, 1 warning in 3 files`; zero counts are left out, infos are not pluralised."""
    errors, warnings, infos = summary(reports)
    files = _plural(len(reports), "file")
    parts = [
        text
        for count, text in (
            (errors, _plural(errors, "error")),
            (warnings, _plural(warnings, "warning")),
            (infos, f"{infos} info"),
        )
        if count
    ]
    return f"{', '.join(parts) if parts else 'no problems'} in {files}"


def _plural(count: int, noun: str) -> str:
    return counted(count, noun)


def _human_diagnostic(
    report: FileReport, diagnostic: Diagnostic, sources: _Sources, style: _Style
) -> list[str]:
    """One rustc-style block: header, location arrow, annotated snippet, then notes and helps."""
    source = report.source
    rows = _covered_rows(source, diagnostic.span)
    shown = rows[:MAX_SNIPPET_LINES]
    width = len(str(shown[-1][0] + 1))
    pad = " " * (width + 1)
    bar = style.paint("|", _GUTTER_COLOR)
    header = (
        style.severity(_SEVERITY_LABELS[diagnostic.severity], diagnostic.severity)
        + style.paint(f"[{diagnostic.code}]", "1")
        + f": {diagnostic.message}"
    )
    arrow = style.paint(" " * width + "-->", _GUTTER_COLOR)
    lines = [header, f"{arrow} {_location(report.path, source, diagnostic.span.start)}", pad + bar]
    lines += _snippet(source, shown, width, diagnostic, style)
    if len(rows) > len(shown):
        lines.append(style.paint("...", _GUTTER_COLOR))
    notes = _notes(report, diagnostic, sources)
    if notes:
        lines.append(pad + bar)
        lines += [f"{pad}{style.paint('=', _GUTTER_COLOR)} {note}" for note in notes]
    return lines


def _location(path: str, source: SourceText | None, offset: int) -> str:
    """`path:line:column`, 1-based code points, or just the path when its text is unknown."""
    if source is None:
        return path
    line, character = source.position(offset)
    return f"{path}:{line + 1}:{character + 1}"


def _label(diagnostic: Diagnostic) -> str:
    """A fix that replaces exactly the flagged text is a did-you-mean: say it next to the carets."""
    for fix in diagnostic.fixes:
        if fix.span == diagnostic.span and fix.new_text and "\n" not in fix.new_text:
            return f"did you mean `{fix.new_text}`?"
    return ""


def _notes(report: FileReport, diagnostic: Diagnostic, sources: _Sources) -> list[str]:
    notes = []
    for related in diagnostic.related:
        where = _location(
            _related_path(report, related.path),
            sources.for_path(related.path, report.source),
            related.span.start,
        )
        notes.append(f"note: {related.message}: {where}" if related.message else f"note: {where}")
    notes += [f"help: {fix.title}" for fix in diagnostic.fixes]
    return notes


def _covered_rows(source: SourceText, span: Span) -> list[tuple[int, int, int]]:
    """(line, first, last) code-point columns the span covers on each of its lines.

    A span ending right after a newline stops at the line before; lines after the first are underlined
    from their first non-blank character, since underlining indentation only adds noise.
    """
    start_line, start_column = source.position(span.start)
    end_line, end_column = source.position(span.end)
    if end_line > start_line and end_column == 0:
        end_line -= 1
        end_column = len(source.line_text(end_line))
    rows = []
    for line in range(start_line, end_line + 1):
        text = source.line_text(line)
        first = start_column if line == start_line else len(text) - len(text.lstrip())
        last = end_column if line == end_line else len(text)
        first = min(first, len(text))
        rows.append((line, first, max(first, min(last, len(text)))))
    return rows


def _snippet(
    source: SourceText,
    rows: list[tuple[int, int, int]],
    width: int,
    diagnostic: Diagnostic,
    style: _Style,
) -> list[str]:
    """Each source line, then carets under its covered part; the label follows the last carets."""
    severity, label = diagnostic.severity, _label(diagnostic)
    lines: list[str] = []
    bar = style.paint("|", _GUTTER_COLOR)
    last_carets = -1
    for index, (line, full_first, full_last) in enumerate(rows):
        text, first, last = _window(source.line_text(line), full_first, full_last)
        number = style.paint(f"{line + 1:>{width}}", _GUTTER_COLOR)
        lines.append(f"{number} {bar} {_expand_tabs(text)}".rstrip())
        if index > 0 and first == last:
            continue  # a blank or whitespace-only line inside a multi-line span
        columns = _display_columns(text)
        carets = "^" * max(1, columns[last] - columns[first])
        lines.append(f"{' ' * (width + 1)}{bar} {' ' * columns[first]}{style.severity(carets, severity)}")
        last_carets = len(lines) - 1
    if label:
        lines[last_carets] += " " + style.severity(label, severity)
    return lines


def _window(text: str, first: int, last: int) -> tuple[str, int, int]:
    """A long line cut to _SNIPPET_CHARS around the start of its span, `…` where it is cut (a 10 MB
    selector is one line): the shown text and the span within it."""
    if len(text) <= _SNIPPET_CHARS:
        return text, first, last
    start = max(0, min(first - _SNIPPET_CONTEXT, len(text) - _SNIPPET_CHARS))
    end = start + _SNIPPET_CHARS
    head, tail = ("…" if start > 0 else ""), ("…" if end < len(text) else "")
    shift = len(head) - start
    inside = (len(head), len(head) + end - start)
    return head + text[start:end] + tail, max(first + shift, inside[0]), min(last + shift, inside[1])


def _char_width(char: str, column: int) -> int:
    """Terminal cells of `char` at `column`: tabs to the next stop, wide (CJK, emoji) two, combining none."""
    if char == "\t":
        return TAB_WIDTH - column % TAB_WIDTH
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _display_columns(text: str) -> list[int]:
    """Display column before each code point of `text`, and after the last, for placing carets."""
    columns = [0]
    for char in text:
        columns.append(columns[-1] + _char_width(char, columns[-1]))
    return columns


def _expand_tabs(text: str) -> str:
    """Tabs as spaces, with the same stops `_display_columns` uses, so carets line up."""
    if "\t" not in text:
        return text
    columns = _display_columns(text)
    return "".join(
        " " * (columns[index + 1] - columns[index]) if char == "\t" else char
        for index, char in enumerate(text)
    )


# --- json (LSP shapes) ----------------------------------------------------------------------------------


Json = dict[str, object]


def _render_json(reports: Sequence[FileReport], sources: _Sources) -> str:
    diagnostics = [
        _json_diagnostic(report, diagnostic, sources) for report in reports for diagnostic in report.ordered()
    ]
    return json.dumps({"diagnostics": diagnostics}, indent=2, ensure_ascii=False) + "\n"


def _json_diagnostic(report: FileReport, diagnostic: Diagnostic, sources: _Sources) -> Json:
    return {
        "file": report.path,
        "code": diagnostic.code,
        "severity": diagnostic.severity.label,
        "message": diagnostic.message,
        "source": "ftsc",
        "range": _lsp_range(report.source, diagnostic.span),
        "relatedInformation": [
            {
                "location": {
                    "uri": _file_uri(report, related.path),
                    "range": _lsp_range(sources.for_path(related.path, report.source), related.span),
                },
                "message": related.message,
            }
            for related in diagnostic.related
        ],
        "fixes": [
            {"title": fix.title, "range": _lsp_range(report.source, fix.span), "newText": fix.new_text}
            for fix in diagnostic.fixes
        ],
    }


def _lsp_range(source: SourceText | None, span: Span) -> Json:
    """0-based, UTF-16 characters; an unreadable file gets the start of the file rather than a guess."""
    start, end = ((0, 0), (0, 0)) if source is None else _utf16_positions(source, span)
    return {
        "start": {"line": start[0], "character": start[1]},
        "end": {"line": end[0], "character": end[1]},
    }


def _utf16_positions(source: SourceText, span: Span) -> tuple[tuple[int, int], tuple[int, int]]:
    return source.position(span.start, "utf-16"), source.position(span.end, "utf-16")


def _file_uri(report: FileReport, path: str | None) -> str:
    if path is None and report.source.path is None:
        return STDIN_URI
    return Path(_related_path(report, path)).resolve().as_uri()


# --- github workflow commands ---------------------------------------------------------------------------


_GITHUB_COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning"}


def _render_github(reports: Sequence[FileReport], sources: _Sources) -> str:
    return "".join(
        _github_command(report, diagnostic) + "\n" for report in reports for diagnostic in report.ordered()
    )


def _github_command(report: FileReport, diagnostic: Diagnostic) -> str:
    """`::error file=…,line=…::message`; columns only for one-line spans, as GitHub's annotations require."""
    (start_line, start_column), (end_line, end_column) = (
        report.source.position(diagnostic.span.start),
        report.source.position(diagnostic.span.end),
    )
    properties: list[tuple[str, object]] = [("file", report.path), ("line", start_line + 1)]
    if start_line == end_line:
        properties += [("col", start_column + 1), ("endLine", end_line + 1), ("endColumn", end_column + 1)]
    else:
        properties.append(("endLine", end_line + 1))
    properties.append(("title", f"ftsc {diagnostic.code}"))
    command = _GITHUB_COMMANDS.get(diagnostic.severity, "notice")
    rendered = ",".join(f"{key}={_github_property(str(value))}" for key, value in properties)
    return f"::{command} {rendered}::{_github_data(diagnostic.message)}"


def _github_data(text: str) -> str:
    """Escapes for a workflow command's message (the runner's own rules)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github_property(text: str) -> str:
    """Property values also delimit on `:` and `,`."""
    return _github_data(text).replace(":", "%3A").replace(",", "%2C")


# --- sarif 2.1.0 ----------------------------------------------------------------------------------------


_SARIF_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning"}


def _sarif_level(severity: Severity) -> str:
    return _SARIF_LEVELS.get(severity, "note")


def _render_sarif(reports: Sequence[FileReport], sources: _Sources) -> str:
    ordered = [(report, diagnostic) for report in reports for diagnostic in report.ordered()]
    rule_ids = sorted({diagnostic.code: diagnostic for _, diagnostic in ordered}.items())
    rule_index = {code: index for index, (code, _) in enumerate(rule_ids)}
    run: Json = {
        "tool": {
            "driver": {
                "name": "ftsc",
                "version": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [_sarif_rule(code, diagnostic.severity) for code, diagnostic in rule_ids],
            }
        },
        "columnKind": "utf16CodeUnits",
        "results": [
            _sarif_result(report, diagnostic, rule_index[diagnostic.code], sources)
            for report, diagnostic in ordered
        ],
    }
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _sarif_rule(code: str, fallback: Severity) -> Json:
    """A rule from CODES; a code missing there (a bug elsewhere) still gets a valid rule, not a crash."""
    known = CODES.get(code)
    title = known.title if known is not None else code
    severity = known.severity if known is not None else fallback
    return {
        "id": code,
        "name": _rule_name(title),
        "shortDescription": {"text": title},
        "defaultConfiguration": {"level": _sarif_level(severity)},
    }


def _rule_name(title: str) -> str:
    """`selector-matches-no-parameter-of-the-namespace`: SARIF wants an identifier-like name."""
    return "-".join(re.findall(r"[a-z0-9]+", title.lower()))


def _sarif_result(report: FileReport, diagnostic: Diagnostic, index: int, sources: _Sources) -> Json:
    result: Json = {
        "ruleId": diagnostic.code,
        "ruleIndex": index,
        "level": _sarif_level(diagnostic.severity),
        "message": {"text": diagnostic.message},
        "locations": [{"physicalLocation": _physical_location(report.path, report.source, diagnostic.span)}],
    }
    if diagnostic.related:
        result["relatedLocations"] = [
            {
                "id": number,
                "physicalLocation": _physical_location(
                    _related_path(report, related.path),
                    sources.for_path(related.path, report.source),
                    related.span,
                ),
                "message": {"text": related.message},
            }
            for number, related in enumerate(diagnostic.related)
        ]
    if diagnostic.fixes:
        result["fixes"] = [
            {
                "description": {"text": fix.title},
                "artifactChanges": [
                    {
                        "artifactLocation": _artifact_location(report.path),
                        "replacements": [
                            {
                                "deletedRegion": _sarif_region(report.source, fix.span),
                                "insertedContent": {"text": fix.new_text},
                            }
                        ],
                    }
                ],
            }
            for fix in diagnostic.fixes
        ]
    return result


def _physical_location(path: str, source: SourceText | None, span: Span) -> Json:
    location: Json = {"artifactLocation": _artifact_location(path)}
    if source is not None:
        location["region"] = _sarif_region(source, span)
    return location


def _artifact_location(path: str) -> Json:
    """The path as given: relative ones against %SRCROOT%, absolute ones as file URIs."""
    if path == STDIN_PATH:
        return {"description": {"text": "standard input"}}
    pure = PurePath(path)
    if pure.is_absolute():
        return {"uri": Path(path).as_uri()}
    from urllib.parse import quote  # only SARIF needs it: keep it off `ftsc check`'s start-up

    return {"uri": quote(pure.as_posix()), "uriBaseId": "%SRCROOT%"}


def _sarif_region(source: SourceText, span: Span) -> Json:
    """1-based lines and UTF-16 columns; `endColumn` is the column just past the region, as SARIF says."""
    (start_line, start_column), (end_line, end_column) = _utf16_positions(source, span)
    return {
        "startLine": start_line + 1,
        "startColumn": start_column + 1,
        "endLine": end_line + 1,
        "endColumn": end_column + 1,
    }
