"""The canonical layout of `.fts` files (`ftsc fmt`, and the language server's formatting)."""

from ftsc.format.formatter import FormatResult, format_text

__all__ = ["FormatResult", "format_text"]
