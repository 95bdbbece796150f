"""Switch ftsc's own Lightning imports between the unified and the standalone packages.

ftsc's runtime imports Lightning either as `lightning.pytorch` / `lightning.fabric` (the unified `lightning`
distribution, the default) or as `pytorch_lightning` / `lightning_fabric` (the standalone distributions).
`ftsc-lightning-mode --mode unified|standalone` rewrites the import statements of the installed package
in place; `rewrite` is the pure text transformation and `cli` finds, checks and writes the files. See
docs/lightning-mode.md.
"""

from __future__ import annotations

from ftsc.lightning_mode.rewrite import (
    MODES,
    STANDALONE_TO_UNIFIED,
    UNIFIED_TO_STANDALONE,
    Change,
    Mode,
    Refusal,
    Rewrite,
    rewrite_bytes,
    rewrite_source,
)

__all__ = [
    "MODES",
    "STANDALONE_TO_UNIFIED",
    "UNIFIED_TO_STANDALONE",
    "Change",
    "Mode",
    "Refusal",
    "Rewrite",
    "rewrite_bytes",
    "rewrite_source",
]
