"""A plugin whose import fails, as one with a missing dependency would."""

raise ImportError("ftsc_broken_adapter needs `not_installed_dependency`, which is not installed")
