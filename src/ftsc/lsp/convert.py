"""ftsc diagnostics as LSP diagnostics, with positions in the negotiated position encoding."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsprotocol import types

from ftsc.diagnostics import Diagnostic, PositionEncoding, SourceText, Span

SOURCE = "ftsc"

_ENCODINGS: dict[str, PositionEncoding] = {"utf-8": "utf-8", "utf-16": "utf-16", "utf-32": "utf-32"}


def encoding_of(kind: object) -> PositionEncoding:
    """The ftsc name of a negotiated PositionEncodingKind (or its string); UTF-16 when unknown."""
    value = getattr(kind, "value", kind)
    return _ENCODINGS.get(str(value), "utf-16")


def lsp_range(source: SourceText | None, span: Span, encoding: PositionEncoding) -> types.Range:
    """The range of `span`; a file that cannot be read gets the start of the file rather than a guess."""
    if source is None:
        return types.Range(types.Position(0, 0), types.Position(0, 0))
    start = source.position(span.start, encoding)
    end = source.position(span.end, encoding)
    return types.Range(types.Position(*start), types.Position(*end))


def offset_at(source: SourceText, position: types.Position, encoding: PositionEncoding) -> int:
    """The code-point offset of an LSP position (the reverse of `lsp_range`); past a line's end: its end."""
    return source.offset(position.line, position.character, encoding)


class _RelatedSources:
    """Texts that related locations in other files index, read once per conversion."""

    def __init__(self) -> None:
        self._cache: dict[str, SourceText | None] = {}

    def get(self, path: str) -> SourceText | None:
        if path not in self._cache:
            try:
                self._cache[path] = SourceText(Path(path).read_text(encoding="utf-8"), path)
            except (OSError, UnicodeDecodeError):
                self._cache[path] = None
        return self._cache[path]


def _uri_of(path: str) -> str:
    return Path(path).resolve().as_uri()


def to_lsp(
    diagnostics: list[Diagnostic], source: SourceText, uri: str, encoding: PositionEncoding
) -> list[types.Diagnostic]:
    """Convert, in source order; fixes travel in `data` (`{"fixes": [{title, range, newText}]}`) for
    code actions, with ranges in the same encoding."""
    related_sources = _RelatedSources()
    converted = []
    for diagnostic in sorted(diagnostics, key=lambda d: (d.span.start, d.span.end, d.code)):
        related = []
        where: SourceText | None
        for item in diagnostic.related:
            if item.path is None:
                where, item_uri = source, uri
            else:
                where, item_uri = related_sources.get(item.path), _uri_of(item.path)
            related.append(
                types.DiagnosticRelatedInformation(
                    location=types.Location(item_uri, lsp_range(where, item.span, encoding)),
                    message=item.message,
                )
            )
        data: dict[str, Any] = {
            "fixes": [
                {
                    "title": fix.title,
                    "range": _range_json(lsp_range(source, fix.span, encoding)),
                    "newText": fix.new_text,
                }
                for fix in diagnostic.fixes
            ]
        }
        converted.append(
            types.Diagnostic(
                range=lsp_range(source, diagnostic.span, encoding),
                message=diagnostic.message,
                severity=types.DiagnosticSeverity(int(diagnostic.severity)),
                code=diagnostic.code,
                source=SOURCE,
                related_information=related or None,
                data=data,
            )
        )
    return converted


def _range_json(value: types.Range) -> dict[str, dict[str, int]]:
    return {
        "start": {"line": value.start.line, "character": value.start.character},
        "end": {"line": value.end.line, "character": value.end.character},
    }
