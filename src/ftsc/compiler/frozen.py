"""Parameters the model builds frozen, and LoRA adapters: what a schedule for a PEFT model is checked for.

A namespace records each parameter's `requires_grad` as the model was built. When some are built frozen
and others trainable, the model freezes part of itself on purpose — `peft.get_peft_model` freezes every
base weight and leaves the adapters (`…lora_A.default.weight`) and `modules_to_save` copies trainable:

- never thawing such a parameter is the model's intent, so W208 does not count it;
- a selector that sweeps built-frozen parameters in with trainable ones, or `rest` taking them, is W211:
  most likely a schedule written for full fine-tuning; naming them in a selector of their own is taken
  as meaning it (training LayerNorms or a head along with the adapters is common);
- a selector naming LoRA adapters of a module peft did not wrap gets an E101 that says so and names
  the modules it did wrap (`adapter_hint`).

A namespace whose parameters are all trainable, or which does not record `requires_grad`, has no
built-frozen parameters: none of this applies to it.
"""

from __future__ import annotations

from collections.abc import Sequence

from ftsc import codes
from ftsc.compiler.namespace import Namespace
from ftsc.compiler.positions import EMPTY, Positions
from ftsc.compiler.recent import Recent
from ftsc.diagnostics import Diagnostic, diagnose
from ftsc.grammar import ast

# The parameter segments peft's LoRA family gives its adapters (LoRA, LoRA on embeddings, DoRA).
ADAPTER_SEGMENTS = frozenset(
    {"lora_A", "lora_B", "lora_embedding_A", "lora_embedding_B", "lora_magnitude_vector"}
)
_SHOWN = 4


def built_frozen(namespace: Namespace) -> Positions:
    """Positions of the parameters built with `requires_grad` false, when the namespace also has trainable
    ones (the model froze part of itself); empty otherwise. Kept per namespace: every compile asks."""
    known = _BUILT_FROZEN.get(id(namespace), namespace)
    if known is None:
        codes = namespace.requires_grad_codes()  # 1 trainable, 2 frozen
        found = (
            Positions.of([position for position, code in enumerate(codes) if code == 2])
            if 1 in codes and 2 in codes
            else EMPTY
        )
        known = _BUILT_FROZEN.put(id(namespace), namespace, found)
    return known


_BUILT_FROZEN: Recent[Positions] = Recent(keep=8)


def is_lora(namespace: Namespace) -> bool:
    return any(_adapter_at(name) is not None for name in namespace.names)


def _adapter_at(name: str) -> int | None:
    """Index of the adapter segment in `name` (`….query.lora_A.default.weight` → that of `lora_A`)."""
    if "lora_" not in name:
        return None
    parts = name.split(".")
    return next((index for index, part in enumerate(parts) if part in ADAPTER_SEGMENTS), None)


def wrapped_modules(names: Sequence[str]) -> list[str]:
    """The modules peft gave an adapter, in namespace order (`….attention.self.query`)."""
    found: dict[str, None] = {}
    for name in names:
        at = _adapter_at(name)
        if at is not None:
            found[".".join(name.split(".")[:at])] = None
    return list(found)


def adapter_hint(selector_text: str, deepest: str, namespace: Namespace) -> str | None:
    """For an E101 whose selector names LoRA adapters (`lora_…`) where none exist: that `deepest` (the
    deepest prefix that exists) has no adapter, which modules have one, and the two ways out."""
    if "lora_" not in selector_text:
        return None
    modules = wrapped_modules(namespace.names)
    if not modules:
        return (
            "; this namespace has no LoRA adapters (no `lora_A` / `lora_B` parameters): export it from "
            "the model peft wrapped (`ftsc namespace export --hf-config CONFIG --peft-config "
            "adapter_config.json`)"
        )
    kinds = sorted({module.rsplit(".", 1)[-1] for module in modules})
    where = f"`{deepest}` has no LoRA adapter" if deepest else "nothing it names has a LoRA adapter"
    listed = ", ".join(f"`{kind}`" for kind in kinds[:_SHOWN]) + (", …" if len(kinds) > _SHOWN else "")
    alternatives = kinds[0] if len(kinds) == 1 else "{" + ",".join(kinds[:_SHOWN]) + "}"
    return (
        f"; {where}: peft wrapped {len(modules)} module{'s' if len(modules) != 1 else ''} named {listed} "
        f"(e.g. `{modules[0]}`); add the module to `target_modules` (or `layers_to_transform`) in the "
        f"adapter config and export the namespace again, or select adapters that exist, e.g. "
        f"`**.{alternatives}.lora_*.**`"
    )


def check_frozen_thaws(
    phases: list[ast.Phase], sites: list[list[tuple[ast.Selector, Positions]]], namespace: Namespace
) -> list[Diagnostic]:
    """W211 for each selector that thaws built-frozen parameters together with trainable ones, and for
    `rest` taking any: see the module docstring."""
    frozen = built_frozen(namespace)
    if not frozen:
        return []
    lora = is_lora(namespace)
    problems: list[Diagnostic] = []
    for phase, phase_sites in zip(phases, sites, strict=False):
        for selector, positions in phase_sites:
            caught = positions & frozen
            if not caught or (selector.kind != "rest" and positions <= frozen):
                continue
            problems.append(_frozen_warning(selector, phase, caught.as_list(), namespace, lora))
    return problems


def _frozen_warning(
    selector: ast.Selector, phase: ast.Phase, caught: list[int], namespace: Namespace, lora: bool
) -> Diagnostic:
    count = len(caught)
    names = [namespace.names[position] for position in caught]
    example = next((name for name in names if ".base_layer." in name), names[0])
    numel = namespace.total_numel(names)
    size = f" ({numel:,} elements)" if numel is not None else ""
    what = "rest" if selector.kind == "rest" else selector.text
    if not lora:
        why = "the model froze them itself"
    elif ".original_module." in example:
        why = "peft keeps `original_module` frozen and trains its copy under `modules_to_save`"
    else:
        why = (
            "peft froze the base weights so that only the adapters train; thawed, they train in full, with "
            "gradients and optimizer state for each"
        )
    return diagnose(
        codes.FROZEN_SWEPT_IN,
        f"`{what}` in {phase.label} thaws {count} parameter{'s' if count != 1 else ''}{size} that the model "
        f"builds frozen, e.g. `{example}`: {why}; select only what trains (`**.lora_*.**`, "
        "`**.modules_to_save.**`) or add `except`, or, to train frozen parameters on purpose (norms, the "
        "head), name them in a selector of their own",
        selector.span,
    )
