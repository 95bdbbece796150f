"""`ftsc namespace export` of a 70B-parameter Llama-shaped model: wall time and peak memory.

The model has Llama-3-70B's shape (hidden 8192, 80 layers, ffn 28672, 64 heads, 8 KV heads, vocab
128256: 70.55 billion parameters, 141 GB in bf16). It is exported on the meta device, so no weight is
allocated. Each measurement is a fresh process that imports torch and then runs
`ftsc.cli.main(["namespace", "export", …])`; it reports its own peak RSS
(`resource.getrusage(RUSAGE_SELF).ru_maxrss`) and timings, so the figures are the export's own and not
the benchmark's. Variants:

- `torch`: a small pure-torch Llama defined here (TARGET `export_70b:llama_70b`, found in the current
  folder as a user's module would be), no precision: lightning is not even imported;
- `torch, bf16-true`: the same under Lightning's `bf16-true` module init context (imports lightning);
- `transformers, bf16-true`: `--hf-config` with a `LlamaConfig` of the same shape (`LlamaForCausalLM`),
  when transformers is installed;
- `imports: …`: the process importing torch (and lightning) without exporting, for comparison.

`export` is the command itself, including the imports it makes (lightning, transformers, and torch's own
lazy imports: the first init function on a meta tensor imports `torch._dynamo`); `again` is the same
command run a second time in the same process (imports done: the build, the record and the write);
`imports` is torch before the command; `start+exit` is interpreter start and shutdown (the parent's
wall time less the child's own). Peak RSS covers both runs.

Run: `python benchmarks/export_70b.py [--repeats N]`; prints a table and writes benchmarks/export_70b.json.
"""

from __future__ import annotations

import time

_START = time.perf_counter()  # before the heavy imports, for the child's own timings

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "export_70b.json"
SHAPE = {
    "hidden_size": 8192,
    "num_hidden_layers": 80,
    "intermediate_size": 28672,
    "num_attention_heads": 64,
    "num_key_value_heads": 8,
    "vocab_size": 128256,
}
TARGET_SECONDS = 5.0  # the export command itself (its own lightning / transformers imports included)
TARGET_RSS_MIB = 1024.0  # "well under 1 GiB"


def llama_70b() -> object:
    """A Llama-3-70B-shaped decoder in plain torch (names as transformers' LlamaForCausalLM)."""
    from torch import nn

    hidden, ffn = SHAPE["hidden_size"], SHAPE["intermediate_size"]
    heads, kv_heads = SHAPE["num_attention_heads"], SHAPE["num_key_value_heads"]
    head_dim = hidden // heads

    class Attention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.q_proj = nn.Linear(hidden, heads * head_dim, bias=False)
            self.k_proj = nn.Linear(hidden, kv_heads * head_dim, bias=False)
            self.v_proj = nn.Linear(hidden, kv_heads * head_dim, bias=False)
            self.o_proj = nn.Linear(heads * head_dim, hidden, bias=False)

    class MLP(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.gate_proj = nn.Linear(hidden, ffn, bias=False)
            self.up_proj = nn.Linear(hidden, ffn, bias=False)
            self.down_proj = nn.Linear(ffn, hidden, bias=False)

    class DecoderLayer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.self_attn = Attention()
            self.mlp = MLP()
            self.input_layernorm = nn.RMSNorm(hidden)
            self.post_attention_layernorm = nn.RMSNorm(hidden)

    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed_tokens = nn.Embedding(SHAPE["vocab_size"], hidden)
            self.layers = nn.ModuleList(DecoderLayer() for _ in range(SHAPE["num_hidden_layers"]))
            self.norm = nn.RMSNorm(hidden)

    class LlamaForCausalLM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = Model()
            self.lm_head = nn.Linear(hidden, SHAPE["vocab_size"], bias=False)

    return LlamaForCausalLM()


# --- the child process: one export (or only the imports), reporting its own figures -----------------------


VARIANTS = {
    # name: (what the child imports before timing the export, the command's arguments or None)
    "imports: torch": (("torch",), None),
    "imports: torch+lightning": (("torch", "lightning.pytorch"), None),
    "torch": (("torch",), ["export_70b:llama_70b"]),
    "torch, bf16-true": (("torch",), ["export_70b:llama_70b", "--precision", "bf16-true"]),
    "transformers, bf16-true": (
        ("torch",),
        ["--hf-config", "{workdir}/config.json", "--precision", "bf16-true"],
    ),
}


def child(variant: str, workdir: Path, report: Path) -> None:
    import importlib

    from ftsc import cli

    cli.COMMANDS.setdefault("namespace", ("ftsc.cli.namespace", "parameter namespaces of models"))
    modules, arguments = VARIANTS[variant]
    for module in modules:
        importlib.import_module(module)
    imported = time.perf_counter()
    out = workdir / "ns.json"
    status = 0
    if arguments is not None:
        argv = ["namespace", "export", *(a.format(workdir=workdir) for a in arguments), "-o", str(out)]
        status = cli.main(argv)
    done = time.perf_counter()
    again = None
    if arguments is not None and status == 0:  # the same command again: imports done, the export alone
        status = cli.main(argv)
        again = time.perf_counter() - done
    figures: dict[str, object] = {
        "variant": variant,
        "status": status,
        "imports_s": imported - _START,
        "export_s": done - imported,  # the command: its own imports (lightning, transformers) included
        "process_s": done - _START,
        "export_again_s": again,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # KiB on Linux
        "imported_lightning": "lightning" in sys.modules,
        "imported_transformers": "transformers" in sys.modules,
    }
    if arguments is not None and status == 0:
        from ftsc.compiler.namespace import load_namespace

        namespace = load_namespace(out)
        figures["parameters"] = len(namespace)
        figures["numel"] = namespace.total_numel(namespace.names)
        figures["aliases"] = len(namespace.aliases)
        figures["modules"] = len(namespace.modules)
        figures["file_bytes"] = out.stat().st_size
    report.write_text(json.dumps(figures))


# --- the parent: runs the children, prints the table, writes the JSON ------------------------------------


def run_child(variant: str, workdir: Path) -> dict[str, object]:
    report = workdir / "report.json"
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", variant, "--workdir", str(workdir)],
        cwd=HERE,  # `export_70b:llama_70b` is found in the current folder, as a user's module would be
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
    )
    wall = time.perf_counter() - started
    if completed.returncode != 0 or not report.exists():
        raise SystemExit(f"{variant}: the child failed ({completed.returncode}):\n{completed.stderr}")
    figures: dict[str, object] = json.loads(report.read_text())
    figures["wall_s"] = wall  # as the parent saw it: interpreter start to exit
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.workdir, args.workdir / "report.json")
        return

    sys.path.insert(0, str(HERE))
    from benchutil import machine, table

    has_transformers = importlib.util.find_spec("transformers") is not None
    variants = [name for name in VARIANTS if has_transformers or "transformers" not in name]
    samples: dict[str, list[dict[str, object]]] = {variant: [] for variant in variants}
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        if has_transformers:
            from transformers import LlamaConfig

            LlamaConfig(**SHAPE, architectures=["LlamaForCausalLM"]).save_pretrained(workdir)
        for _ in range(args.repeats):  # variants take turns, so a burst of load falls on all alike
            for variant in variants:
                samples[variant].append(run_child(variant, workdir))

    def median(variant: str, key: str) -> float:
        return statistics.median(float(sample[key]) for sample in samples[variant])  # type: ignore[arg-type]

    rows = []
    for variant in variants:
        first = samples[variant][0]
        numel = first.get("numel")
        start_exit = statistics.median(
            float(sample["wall_s"]) - float(sample["process_s"])  # type: ignore[arg-type]
            for sample in samples[variant]
        )
        rows.append(
            [
                variant,
                str(first.get("parameters", "-")),
                f"{int(numel) / 1e9:.2f} B" if isinstance(numel, int) else "-",
                f"{median(variant, 'imports_s'):.2f} s",
                f"{median(variant, 'export_s'):.2f} s" if "parameters" in first else "-",
                f"{median(variant, 'export_again_s'):.2f} s" if "parameters" in first else "-",
                f"{start_exit:.2f} s",
                f"{median(variant, 'wall_s'):.2f} s",
                f"{median(variant, 'peak_rss_mib'):.0f} MiB",
            ]
        )
    headers = ["variant", "params", "numel", "imports", "export", "again", "start+exit", "process wall"]
    headers.append("peak RSS")
    print(f"ftsc namespace export, Llama-3-70B shape, {args.repeats} runs each (medians)\n")
    print(table(headers, rows))
    verdicts = {}
    for variant in variants:
        if "parameters" not in samples[variant][0]:
            continue
        export, rss = median(variant, "export_s"), median(variant, "peak_rss_mib")
        verdicts[variant] = {
            "export_s": export,
            "process_wall_s": median(variant, "wall_s"),
            "peak_rss_mib": rss,
            "export_pass": export < TARGET_SECONDS,
            "rss_pass": rss < TARGET_RSS_MIB,
        }
        print(
            f"{variant}: export {export:.2f} s ({'PASS' if export < TARGET_SECONDS else 'MISS'} < "
            f"{TARGET_SECONDS:.0f} s), peak RSS {rss:.0f} MiB ({'PASS' if rss < TARGET_RSS_MIB else 'MISS'} "
            f"< {TARGET_RSS_MIB:.0f} MiB)"
        )
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "export_70b",
                "shape": SHAPE,
                "targets": {"export_s": TARGET_SECONDS, "peak_rss_mib": TARGET_RSS_MIB},
                "machine": machine(),
                "verdicts": verdicts,
                "samples": samples,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nwrote {RESULTS.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
