"""`lens`: write GPT-2 schedules in TransformerLens-style names (`blocks.9.attn.W_Q`, `embed.W_E`).

The model keeps its Hugging Face names (`transformer.h.9.attn.c_attn.weight`, …); this adapter presents them
under TransformerLens's names and translates back. Some names share one tensor: GPT-2 keeps the query, key
and value projections in one fused `c_attn` weight, so `W_Q`, `W_K` and `W_V` of a block all stand for
`transformer.h.N.attn.c_attn.weight`, and the tied unembedding `unembed.W_U` is the token embedding
`transformer.wte.weight`.
"""

from __future__ import annotations

import re

from ftsc.adapters import Option, StrategyAdapter
from ftsc.compiler.namespace import Namespace

__all__ = ["LensAdapter", "NotAnAdapter"]

PREFIX = "transformer."

# canonical (without PREFIX) -> the TransformerLens-style names that stand for it; `{n}` is the block.
_BLOCK = {
    "ln_1.weight": ("ln1.w",),
    "ln_1.bias": ("ln1.b",),
    "attn.c_attn.weight": ("attn.W_Q", "attn.W_K", "attn.W_V"),
    "attn.c_attn.bias": ("attn.b_Q", "attn.b_K", "attn.b_V"),
    "attn.c_proj.weight": ("attn.W_O",),
    "attn.c_proj.bias": ("attn.b_O",),
    "ln_2.weight": ("ln2.w",),
    "ln_2.bias": ("ln2.b",),
    "mlp.c_fc.weight": ("mlp.W_in",),
    "mlp.c_fc.bias": ("mlp.b_in",),
    "mlp.c_proj.weight": ("mlp.W_out",),
    "mlp.c_proj.bias": ("mlp.b_out",),
}
_TOP = {
    "wte.weight": ("embed.W_E", "unembed.W_U"),
    "wpe.weight": ("pos_embed.W_pos",),
    "ln_f.weight": ("ln_final.w",),
    "ln_f.bias": ("ln_final.b",),
}
_CANONICAL_BLOCK = re.compile(r"h\.(\d+)\.(.+)")
_LENS_BLOCK = re.compile(r"blocks\.(\d+)\.(.+)")
_LENS_TO_BLOCK = {lens: canonical for canonical, names in _BLOCK.items() for lens in names}
_LENS_TO_TOP = {lens: canonical for canonical, names in _TOP.items() for lens in names}


class LensAdapter(StrategyAdapter):
    """GPT-2 under TransformerLens-style names. Option `keep_unmapped`: whether parameters without a
    TransformerLens name (a classification head, say) keep their own name (true) or are hidden (false)."""

    name = "lens"
    description = "GPT-2 parameters under TransformerLens-style names (blocks.N.attn.W_Q, embed.W_E, …)"
    options = (
        Option("keep_unmapped", "bool", default=True, help="keep parameters without a lens name as they are"),
    )

    def schedule_namespace(self, namespace: Namespace) -> Namespace:
        names: dict[str, None] = {}
        for canonical in namespace.names:
            for name in self.to_schedule(canonical):
                names.setdefault(name)
        return Namespace.from_names(names, model=namespace.model, adapter=self.reference)

    def to_canonical(self, schedule_name: str) -> tuple[str, ...]:
        block = _LENS_BLOCK.fullmatch(schedule_name)
        if block is not None and block.group(2) in _LENS_TO_BLOCK:
            return (f"{PREFIX}h.{block.group(1)}.{_LENS_TO_BLOCK[block.group(2)]}",)
        if schedule_name in _LENS_TO_TOP:
            return (PREFIX + _LENS_TO_TOP[schedule_name],)
        return (schedule_name,)  # an unmapped parameter keeps its name

    def to_schedule(self, canonical: str) -> tuple[str, ...]:
        if canonical.startswith(PREFIX):
            rest = canonical[len(PREFIX) :]
            block = _CANONICAL_BLOCK.fullmatch(rest)
            if block is not None and block.group(2) in _BLOCK:
                return tuple(f"blocks.{block.group(1)}.{name}" for name in _BLOCK[block.group(2)])
            if rest in _TOP:
                return _TOP[rest]
        return (canonical,) if self.config["keep_unmapped"] else ()


class NotAnAdapter:
    """Registered by mistake: not a StrategyAdapter subclass."""
