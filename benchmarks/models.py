"""Deterministic namespaces and schedules of large models, generated at run time (never committed).

- `deepseek_v3_names`: the parameter names of a DeepSeek-V3-shaped decoder (61 layers, the first 3 dense,
  58 mixture-of-experts layers of 256 routed experts, experts unfused), in `named_parameters()` order:
  45,395 names;
- `deepseek_v3_schedule`: a 61-phase, 430-line schedule for it (the head, one phase per MoE layer top
  down, each thawing the layer's attention, norms, router, shared experts and routed experts except some down
  projections, then the dense layers, then `thaw rest`), with no errors against it;
- `scaled_names`: the same shape with as many layers and experts as it takes to reach about N names, for
  the 1k -> 250k scaling run; `scaled_schedule`: a schedule of the same form for it (at most 58 per-layer
  phases, so that the schedule stops growing once the model has more layers).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

ATTENTION = (
    "q_a_proj",
    "q_a_layernorm",
    "q_b_proj",
    "kv_a_proj_with_mqa",
    "kv_a_layernorm",
    "kv_b_proj",
    "o_proj",
)
PROJECTIONS = ("gate_proj", "up_proj", "down_proj")
DENSE_LAYERS = 3


def deepseek_v3_names(layers: int = 61, experts: int = 256, dense: int = DENSE_LAYERS) -> list[str]:
    """Names of a DeepSeek-V3-like model (HF `DeepseekV3ForCausalLM` layout), in model order."""
    names = ["model.embed_tokens.weight"]
    for layer in range(layers):
        prefix = f"model.layers.{layer}"
        names.extend(f"{prefix}.self_attn.{part}.weight" for part in ATTENTION)
        if layer < dense:
            names.extend(f"{prefix}.mlp.{proj}.weight" for proj in PROJECTIONS)
        else:
            for expert in range(experts):
                names.extend(f"{prefix}.mlp.experts.{expert}.{proj}.weight" for proj in PROJECTIONS)
            names.append(f"{prefix}.mlp.gate.weight")
            names.append(f"{prefix}.mlp.gate.e_score_correction_bias")
            names.extend(f"{prefix}.mlp.shared_experts.{proj}.weight" for proj in PROJECTIONS)
        names.append(f"{prefix}.input_layernorm.weight")
        names.append(f"{prefix}.post_attention_layernorm.weight")
    names.extend(["model.norm.weight", "lm_head.weight"])
    return names


def shape_of(name: str) -> list[int]:
    """A plausible shape, so that hovers and memory figures count elements as for a real model."""
    if "experts" in name and "shared" not in name:
        return [7168, 2048] if "down_proj" in name else [2048, 7168]
    if name.endswith("e_score_correction_bias"):
        return [256]
    if "mlp.gate.weight" in name:
        return [256, 7168]
    if name in {"model.embed_tokens.weight", "lm_head.weight"}:
        return [129280, 7168]
    if "layernorm" in name or name == "model.norm.weight":
        return [7168]
    return [7168, 7168]


def namespace_document(names: Sequence[str], model: str) -> dict[str, object]:
    """A namespace file (with shapes and dtypes) for `names`."""
    parameters = [{"name": name, "shape": shape_of(name), "dtype": "bfloat16"} for name in names]
    return {"namespace_version": 1, "model": model, "parameters": parameters}


def write_namespace(path: Path, names: Sequence[str], model: str) -> Path:
    path.write_text(json.dumps(namespace_document(names, model)), encoding="utf-8")
    return path


def deepseek_v3_schedule(
    namespace: str, layers: int = 61, experts: int = 256, dense: int = DENSE_LAYERS, per_layer: int = 58
) -> str:
    """A phase per MoE layer from the top (at most `per_layer` of them; one phase takes the MoE layers
    below those), framed by a head phase and the dense layers, then `rest`."""
    top_half = experts // 2
    lowest = max(dense, layers - per_layer)
    lines = [
        "# A DeepSeek-V3-shaped schedule: the head, one phase per MoE layer from the top, the dense layers,",
        "# then everything else (the embeddings and the upper down projections that the MoE phases leave).",
        "fts 1",
        f'use namespace "{namespace}"',
        "",
        "let layers = model.layers",
        "",
        "defaults {",
        "    lr = 1e-5",
        "    restore_best = true",
        "}",
        "",
        "phase head {",
        "    thaw lm_head.weight, model.norm.weight",
        "    until epoch 1",
        "}",
        "",
    ]
    epoch = 2
    for layer in range(layers - 1, lowest - 1, -1):
        lines += [
            f"phase layer_{layer} {{",
            f"    thaw $layers.{layer}.self_attn.**, $layers.{layer}.*_layernorm.weight",
            f"    thaw $layers.{layer}.mlp.{{gate,shared_experts}}.**",
            f"    thaw $layers.{layer}.mlp.experts.*.**"
            f" except $layers.{layer}.mlp.experts.{{{top_half}..}}.down_proj.weight",
            f"    until epoch {epoch}",
            "}",
            "",
        ]
        epoch += 1
    if lowest > dense:
        lines += [
            "phase lower_moe_layers {",
            f"    thaw $layers.{{{dense}..{lowest - 1}}}.**",
            f"    until epoch {epoch}",
            "}",
            "",
        ]
        epoch += 1
    lines += [
        "phase dense_layers {",
        f"    thaw $layers.{{0..{dense - 1}}}.**",
        f"    until epoch {epoch}",
        "}",
        "",
        "phase rest_of_model {",
        "    thaw rest",
        "    lr = 2e-6",
        "}",
    ]
    return "\n".join(lines) + "\n"


def scaled_shape(target: int) -> tuple[int, int]:
    """(layers, experts) of a DeepSeek-V3-like model with about `target` names (at least 4 layers)."""
    experts = 256 if target >= 20_000 else max(4, min(256, target // 400))
    per_layer = 3 * experts + 14
    layers = max(DENSE_LAYERS + 1, round((target - 3 - DENSE_LAYERS * 12) / per_layer) + DENSE_LAYERS)
    return layers, experts


def scaled_names(target: int) -> list[str]:
    layers, experts = scaled_shape(target)
    return deepseek_v3_names(layers, experts)


def scaled_schedule(namespace: str, target: int) -> str:
    layers, experts = scaled_shape(target)
    return deepseek_v3_schedule(namespace, layers, experts)
