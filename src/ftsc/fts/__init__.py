"""Fine-Tuning Scheduler interop: `ftsc import-fts` (FTS YAML -> `.fts`) and `ftsc export-fts` (plan -> YAML).

Needs PyYAML (imported by the modules that read or write YAML, not by this package).
"""
