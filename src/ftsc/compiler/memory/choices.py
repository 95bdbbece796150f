"""The precisions and strategies a memory setting may name: read when settings are checked, without the
memory model itself (which a check that estimates no memory never imports)."""

from __future__ import annotations

# Lightning precision -> the dtype floating-point parameters are converted to (None: kept as built).
PRECISIONS: dict[str, str | None] = {
    "32-true": None, "32": None, "16-mixed": None, "16": None, "bf16-mixed": None, "bf16": None,
    "bf16-true": "bfloat16", "16-true": "float16", "64-true": "float64", "64": "float64",
}  # fmt: skip
STRATEGIES = ("single", "ddp", "fsdp", "fsdp2")
