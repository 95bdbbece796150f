"""The ftsc language server (`ftsc lsp`): diagnostics from the same compiler as `ftsc check`.

Importing this package does not import pygls; `ftsc.lsp.app` (the assembled server) does.
"""
