"""Memory per phase and rank for Llama-3-70B- and DeepSeek-V3-shaped models: ftsc's estimate beside a
hand-computed expectation, on 8 and 64 devices (FSDP2, bf16-mixed, AdamW), and the time the estimate takes.

The namespaces are built here in plain Python with the models' published shapes (names as transformers
writes them, fp32 weights as a model built for mixed precision keeps them), so nothing is downloaded and
torch is not imported. The schedule has three phases: the head and final norm, the top 8 decoder layers,
then the rest. The expectation is the formula written in docs/memory.md: under FSDP2 each parameter is
sharded on dim 0 in chunks of ceil(rows / world) rows; with every dimension divisible by the world size
(true of both models on 8 and 64 devices, asserted below) a rank holds exactly 1/W of each tensor, so a
phase holding P_all parameters and training P_train of them keeps, per rank,

    weights   4 * P_all / W                       (fp32: bf16-mixed keeps fp32 weights)
    gradients 4 * P_train / W                     (fp32, like the weights)
    AdamW     8 * P_train / W + 4 * T_train       (exp_avg + exp_avg_sq fp32, a 4-byte step per tensor)

and restore_best's checkpoint load adds the previous phase's weights and optimizer state.
Run: `python benchmarks/memory_at_scale.py`; prints the tables and writes benchmarks/memory_at_scale.json.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from benchutil import machine
from ftsc.compiler.memory.budget import format_bytes
from ftsc.compiler.memory.model import MemoryConfig, OptimizerSpec, PhaseInput, estimate

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "memory_at_scale.json"
GIB = 2**30
DEVICE_MEMORY = 80 * GIB  # an H100 80GB


def llama_3_70b() -> list[tuple[str, tuple[int, ...]]]:
    hidden, ffn, layers, vocab, kv = 8192, 28672, 80, 128256, 1024
    names = [("model.embed_tokens.weight", (vocab, hidden))]
    for i in range(layers):
        p = f"model.layers.{i}"
        names += [
            (f"{p}.self_attn.q_proj.weight", (hidden, hidden)),
            (f"{p}.self_attn.k_proj.weight", (kv, hidden)),
            (f"{p}.self_attn.v_proj.weight", (kv, hidden)),
            (f"{p}.self_attn.o_proj.weight", (hidden, hidden)),
            (f"{p}.mlp.gate_proj.weight", (ffn, hidden)),
            (f"{p}.mlp.up_proj.weight", (ffn, hidden)),
            (f"{p}.mlp.down_proj.weight", (hidden, ffn)),
            (f"{p}.input_layernorm.weight", (hidden,)),
            (f"{p}.post_attention_layernorm.weight", (hidden,)),
        ]
    return [*names, ("model.norm.weight", (hidden,)), ("lm_head.weight", (vocab, hidden))]


def deepseek_v3() -> list[tuple[str, tuple[int, ...]]]:
    """DeepSeek-V3 (671B): MLA attention, 3 dense layers, 58 MoE layers of 256 routed + 1 shared expert."""
    hidden, vocab, layers, dense = 7168, 129280, 61, 3
    heads, q_rank, kv_rank, rope, nope, v_dim = 128, 1536, 512, 64, 128, 128
    names = [("model.embed_tokens.weight", (vocab, hidden))]

    def mlp(prefix: str, inner: int) -> list[tuple[str, tuple[int, ...]]]:
        return [
            (f"{prefix}.gate_proj.weight", (inner, hidden)),
            (f"{prefix}.up_proj.weight", (inner, hidden)),
            (f"{prefix}.down_proj.weight", (hidden, inner)),
        ]

    for i in range(layers):
        p = f"model.layers.{i}"
        names += [
            (f"{p}.self_attn.q_a_proj.weight", (q_rank, hidden)),
            (f"{p}.self_attn.q_a_layernorm.weight", (q_rank,)),
            (f"{p}.self_attn.q_b_proj.weight", (heads * (nope + rope), q_rank)),
            (f"{p}.self_attn.kv_a_proj_with_mqa.weight", (kv_rank + rope, hidden)),
            (f"{p}.self_attn.kv_a_layernorm.weight", (kv_rank,)),
            (f"{p}.self_attn.kv_b_proj.weight", (heads * (nope + v_dim), kv_rank)),
            (f"{p}.self_attn.o_proj.weight", (hidden, heads * v_dim)),
        ]
        if i < dense:
            names += mlp(f"{p}.mlp", 18432)
        else:
            for expert in range(256):
                names += mlp(f"{p}.mlp.experts.{expert}", 2048)
            names += mlp(f"{p}.mlp.shared_experts", 2048)
            names.append((f"{p}.mlp.gate.weight", (256, hidden)))
        names += [
            (f"{p}.input_layernorm.weight", (hidden,)),
            (f"{p}.post_attention_layernorm.weight", (hidden,)),
        ]
    return [*names, ("model.norm.weight", (hidden,)), ("lm_head.weight", (vocab, hidden))]


def phases(names: list[str], layers: int) -> list[PhaseInput]:
    """head + final norm; the top 8 layers; the rest."""
    top = {f"model.layers.{i}." for i in range(layers - 8, layers)}
    head = tuple(i for i, n in enumerate(names) if n in ("lm_head.weight", "model.norm.weight"))
    upper = tuple(i for i, n in enumerate(names) if any(n.startswith(t) for t in top))
    rest = tuple(sorted(set(range(len(names))) - set(head) - set(upper)))
    return [PhaseInput("head", head), PhaseInput("top 8 layers", upper), PhaseInput("rest", rest)]


def numel(shape: tuple[int, ...]) -> int:
    total = 1
    for size in shape:
        total *= size
    return total


def by_hand(shapes: list[tuple[int, ...]], plan: list[PhaseInput], world: int) -> list[dict[str, int]]:
    """The formula of the module docstring (valid when every dim 0 divides by the world size)."""
    assert all(shape[0] % world == 0 for shape in shapes), "uneven shards: the formula does not apply"
    everything = sum(numel(shape) for shape in shapes)
    rows, trained, tensors = [], 0, 0
    previous: dict[str, int] | None = None
    for phase in plan:
        trained += sum(numel(shapes[i]) for i in phase.thaws)
        tensors += len(phase.thaws)
        row = {
            "weights": 4 * everything // world,
            "grads": 4 * trained // world,
            "optimizer": 8 * trained // world + 4 * tensors,
        }
        row["states"] = row["weights"] + row["grads"] + row["optimizer"]
        row["restore"] = previous["states"] + previous["weights"] + previous["optimizer"] if previous else 0
        rows.append(row)
        previous = row
    return rows


def main() -> int:
    results: dict[str, object] = {"benchmark": "memory_at_scale", "machine": machine(), "models": {}}
    for label, build, layers in (("Llama-3-70B", llama_3_70b, 80), ("DeepSeek-V3", deepseek_v3, 61)):
        entries = build()
        names = [n for n, _ in entries]
        shapes = [s for _, s in entries]
        plan = phases(names, layers)
        total = sum(numel(s) for s in shapes)
        print(f"{label}: {total:,} parameters in {len(names):,} tensors")
        model_results = {"parameters": total, "tensors": len(names), "devices": {}}
        for world in (8, 64):
            config = MemoryConfig(
                devices=world, strategy="fsdp2", precision="bf16-mixed", device_memory=DEVICE_MEMORY,
                optimizer=OptimizerSpec("torch.optim.AdamW"),
            )  # fmt: skip
            start = time.perf_counter()
            estimated = estimate(shapes, ["float32"] * len(shapes), plan, config)
            seconds = time.perf_counter() - start
            expected = by_hand(shapes, plan, world)
            rows = []
            for phase, hand in zip(estimated.phases, expected, strict=True):
                rank = phase.peak
                got = {"weights": rank.params, "grads": rank.grads, "optimizer": rank.optimizer or 0}
                got["states"] = rank.states
                got["restore"] = max(phase.restore) if phase.restore else 0
                assert got == hand, (label, world, phase.name, got, hand)
                assert len({r.states for r in phase.ranks}) == 1  # even shards: every rank alike
                rows.append(
                    {
                        "phase": phase.name,
                        **got,
                        "fits_80GiB": max(got["states"], got["restore"]) <= DEVICE_MEMORY,
                    }
                )
            print(f"  {world} devices (estimate {seconds * 1000:.0f} ms; = the hand formula on every rank):")
            for row in rows:
                sizes = "  ".join(
                    f"{key} {format_bytes(row[key]):>11}"
                    for key in ("weights", "grads", "optimizer", "states", "restore")
                )
                verdict = "fits" if row["fits_80GiB"] else "DOES NOT FIT"
                print(f"    {row['phase']:<13} {sizes}  {verdict} 80 GiB")
            model_results["devices"][str(world)] = {"seconds": seconds, "phases": rows}  # type: ignore[index]
        results["models"][label] = model_results  # type: ignore[index]
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
