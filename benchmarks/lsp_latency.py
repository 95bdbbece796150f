"""Latency and memory of the language server on a large schedule: a 300-line schedule (48 phases, 187
selectors) against a 50,378-name MoE namespace, the real `ftsc lsp` process driven over stdio by pygls's
client, as an editor drives it.

Each round starts a fresh server (debounceMs 0, so a didChange is compiled at once) and measures:

- `open`: didOpen to the first publishDiagnostics (reading the namespace file, building its index, the
  first compile);
- `change`: didChange to the publishDiagnostics of that version, one edit at a time; the edits alternate
  between a setting's value (the default `lr`: every selector's matches are remembered) and a selector's
  range (`{128..}` / `{129..}`: that selector is matched again), each time in another phase;
- `hover`: on a selector (`$layers.N.mlp.experts.*.**`: match counts and names), from the last compile;
- `completion`: after `$layers.N.` and after `$layers.N.mlp.experts.` (256 items);
- the server's memory after the round: VmRSS and VmHWM from /proc/<pid>/status.

Targets: change p95 < 25 ms, hover p95 < 5 ms, completion p95 < 8 ms, open < 250 ms (p50 of fresh servers
finding the namespace cache filled; the first round's server finds it empty, reported beside), VmRSS
<= 100 MiB. Every server keeps its namespace cache in the benchmark's temporary folder. With `--profile`,
the server's compile of one edit is also run in-process under cProfile (the function the server's worker
thread runs) and the functions that take the time are listed.
Run: `python benchmarks/lsp_latency.py [--rounds N] [--profile]`.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import itertools
import json
import math
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types
from lsprotocol.converters import get_converter

from benchutil import machine, ms, table
from compile_50k import moe_names

LAYERS = 65  # 3 + 65 x 775 = 50,378 names
NAMESPACE_FILE = "moe-50k.json"
CHANGE_TARGET_SECONDS = 0.025
HOVER_TARGET_SECONDS = 0.005
COMPLETION_TARGET_SECONDS = 0.008
OPEN_TARGET_SECONDS = 0.25  # with the namespace cache filled (every open after the first ever)
MEMORY_TARGET_MIB = 100
TARGETS = {  # p95
    "change": CHANGE_TARGET_SECONDS,
    "hover": HOVER_TARGET_SECONDS,
    "completion": COMPLETION_TARGET_SECONDS,
}
TIMEOUT_SECONDS = 60.0
SERVER = [sys.executable, "-m", "ftsc", "lsp"]
# What VS Code declares for these requests (1.7x on): UTF-16, Markdown hovers, versioned diagnostics, and a
# completion list whose items may share one edit range (`itemDefaults`, LSP 3.17).
CAPABILITIES = types.ClientCapabilities(
    general=types.GeneralClientCapabilities(position_encodings=[types.PositionEncodingKind.Utf16]),
    text_document=types.TextDocumentClientCapabilities(
        hover=types.HoverClientCapabilities(content_format=[types.MarkupKind.Markdown]),
        publish_diagnostics=types.PublishDiagnosticsClientCapabilities(version_support=True),
        completion=types.CompletionClientCapabilities(
            completion_list=types.CompletionListCapabilities(
                item_defaults=["commitCharacters", "editRange", "insertTextFormat", "insertTextMode", "data"]
            )
        ),
    ),
)


def _shape(name: str) -> list[int]:
    """Shapes of a DeepSeek-V3-like model, so that hovers count elements as they would for a real one."""
    if "experts" in name:
        return [7168, 2048] if "down_proj" in name else [2048, 7168]
    if "self_attn" in name:
        return [7168, 7168]
    if "mlp.gate" in name:
        return [256, 7168]
    if name in {"model.embed_tokens.weight", "lm_head.weight"}:
        return [129280, 7168]
    return [7168]


def namespace_data(names: Sequence[str]) -> dict[str, object]:
    parameters = [{"name": name, "shape": _shape(name), "dtype": "bfloat16"} for name in names]
    return {"namespace_version": 1, "model": "moe-65-layers", "parameters": parameters}


@dataclass(frozen=True)
class Place:
    """A phase of the schedule: where its lines are, for edits and requests."""

    layer: int
    header: int  # line of `phase layer_N {`


def schedule(namespace: Path) -> tuple[list[str], list[Place]]:
    """300 lines: a head phase, one phase per upper layer (attention, norms, most experts, with an
    `except`), and `thaw rest`; no errors against the namespace."""
    lines = [
        "# The LSP latency benchmark: one phase per upper layer, top down, then the rest of the model.",
        "# Each layer phase thaws the layer's attention and norms, and its experts except the down",
        "# projections of experts 128 and up; the 18 lowest layers, the embeddings and those down",
        "# projections are left to the last phase.",
        "",
        "fts 1",
        f'use namespace "{namespace.as_posix()}"',
        "",
        "let layers = model.layers",
        "",
        "defaults {",
        "    lr = 1e-5",
        '    early_stopping = { monitor = "val_loss", patience = 2 }',
        "}",
        "",
        "phase head {",
        "    thaw lm_head.weight, model.norm.weight",
        "    until epoch 1",
        "}",
        "",
    ]
    places = []
    layer, epoch = LAYERS - 1, 2
    while len(lines) + 6 + 4 <= 300:
        places.append(Place(layer, len(lines)))
        lines += [
            f"phase layer_{layer} {{",
            f"    thaw $layers.{layer}.self_attn.{{q,k,v,o}}_proj.weight, $layers.{layer}.*_layernorm.weight",
            f"    thaw $layers.{layer}.mlp.experts.*.**"
            f" except $layers.{layer}.mlp.experts.{{128..}}.down_proj.weight",
            f"    until epoch {epoch}",
            "}",
            "",
        ]
        layer, epoch = layer - 1, epoch + 1
    lines += ["phase rest_of_model {", "    thaw rest", "    lr = 2e-6", "}"]
    return lines, places


@dataclass(frozen=True)
class Edit:
    line: int
    start: int
    end: int
    text: str


def applied(lines: list[str], edit: Edit) -> None:
    line = lines[edit.line]
    lines[edit.line] = line[: edit.start] + edit.text + line[edit.end :]


def edits(lines: Sequence[str], places: Sequence[Place], count: int) -> list[Edit]:
    """`count` one-line edits, made one after another: even ones toggle the default `lr` (1e-5 / 2e-5: every
    selector's matches stay remembered), odd ones a selector's open range (`{128..}` / `{129..}`: that
    selector is matched again), each time in another phase. The schedule stays free of errors."""
    current = list(lines)
    lr_line = current.index("    lr = 1e-5")
    found: list[Edit] = []
    for index in range(count):
        if index % 2 == 0:
            line = lr_line
            old, new = ("1e-5", "2e-5") if "1e-5" in current[line] else ("2e-5", "1e-5")
        else:
            line = places[(index * 7) % len(places)].header + 2
            old, new = ("{128..}", "{129..}") if "{128..}" in current[line] else ("{129..}", "{128..}")
        start = current[line].index(old)
        found.append(Edit(line, start, start + len(old), new))
        applied(current, found[-1])
    return found


def _percentile(samples: Sequence[float], percent: float) -> float:
    ordered = sorted(samples)
    return ordered[max(1, math.ceil(percent / 100 * len(ordered))) - 1]


def stats(samples: Sequence[float]) -> dict[str, float | int]:
    return {
        "p50": _percentile(samples, 50),
        "p95": _percentile(samples, 95),
        "max": max(samples),
        "runs": len(samples),
    }


def memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in kB, from /proc."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in {"VmRSS", "VmHWM"}:
            found[key] = int(value.split()[0])
    return found


class Session:
    """One server process, spoken to in JSON-RPC over its stdin/stdout with nothing but asyncio and json:
    a response counts as arrived when its last byte is read, so the figures are the server's (and the
    pipe's), not a Python client's cost of turning 256 completion items into objects."""

    def __init__(self) -> None:
        self.process: asyncio.subprocess.Process | None = None
        self.uri = ""
        self.errors: list[str] = []  # window/logMessage errors: a benchmark of a failing server means nothing
        self._converter = get_converter()
        self._ids = itertools.count(1)
        self._responses: dict[int, asyncio.Future[tuple[float, Any]]] = {}
        self._published: dict[int, asyncio.Future[float]] = {}
        self._reader: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def _send(self, message: dict[str, Any]) -> None:
        assert self.process is not None and self.process.stdin is not None
        body = json.dumps(message).encode("utf-8")
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def notify(self, method: str, params: object) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": self._converter.unstructure(params)})

    async def request(self, method: str, params: object) -> tuple[float, Any]:
        """(seconds until the response was read, its result)."""
        identifier = next(self._ids)
        future: asyncio.Future[tuple[float, Any]] = asyncio.get_running_loop().create_future()
        self._responses[identifier] = future
        message = {"jsonrpc": "2.0", "id": identifier, "method": method}
        message["params"] = self._converter.unstructure(params)
        start = time.perf_counter()
        self._send(message)
        arrived, response = await asyncio.wait_for(future, TIMEOUT_SECONDS)
        if "error" in response:
            raise RuntimeError(f"{method}: {response['error']}")
        return arrived - start, response.get("result")

    async def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        stdout = self.process.stdout
        while True:
            headers = await stdout.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1])
                for line in headers.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            body = await stdout.readexactly(length)
            arrived = time.perf_counter()
            message = json.loads(body)
            if "method" not in message:
                waiting = self._responses.pop(message["id"], None)
                if waiting is not None:
                    waiting.set_result((arrived, message))
            elif "id" in message:  # a request from the server (client/registerCapability): accept it
                self._send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif message["method"] == types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS:
                published = self._published.pop(message["params"].get("version"), None)
                if published is not None:
                    published.set_result(arrived)
            elif message["method"] == types.WINDOW_LOG_MESSAGE and message["params"]["type"] == 1:
                self.errors.append(message["params"]["message"])

    def _expect(self, version: int) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._published[version] = future
        return future

    async def start(self, root: Path, cache: Path) -> None:
        env = {**os.environ, "FTSC_CACHE_DIR": str(cache)}
        self.process = await asyncio.create_subprocess_exec(
            *SERVER, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env
        )
        self._reader = asyncio.get_running_loop().create_task(self._read())
        params = types.InitializeParams(
            capabilities=CAPABILITIES, root_uri=root.as_uri(), initialization_options={"debounceMs": 0}
        )
        await self.request(types.INITIALIZE, params)
        self.notify(types.INITIALIZED, types.InitializedParams())

    async def open(self, path: Path, text: str) -> float:
        self.uri = path.as_uri()
        published = self._expect(1)
        start = time.perf_counter()
        item = types.TextDocumentItem(self.uri, "fts", 1, text)
        self.notify(types.TEXT_DOCUMENT_DID_OPEN, types.DidOpenTextDocumentParams(item))
        return await asyncio.wait_for(published, TIMEOUT_SECONDS) - start

    async def change(self, version: int, edit: Edit) -> float:
        published = self._expect(version)
        where = types.Range(types.Position(edit.line, edit.start), types.Position(edit.line, edit.end))
        params = types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=version, uri=self.uri),
            [types.TextDocumentContentChangePartial(range=where, text=edit.text)],
        )
        start = time.perf_counter()
        self.notify(types.TEXT_DOCUMENT_DID_CHANGE, params)
        return await asyncio.wait_for(published, TIMEOUT_SECONDS) - start

    async def hover(self, line: int, character: int) -> tuple[float, bool]:
        params = types.HoverParams(types.TextDocumentIdentifier(self.uri), types.Position(line, character))
        seconds, answer = await self.request(types.TEXT_DOCUMENT_HOVER, params)
        return seconds, answer is not None

    async def completion(self, line: int, character: int) -> tuple[float, int]:
        params = types.CompletionParams(
            types.TextDocumentIdentifier(self.uri), types.Position(line, character)
        )
        seconds, answer = await self.request(types.TEXT_DOCUMENT_COMPLETION, params)
        items = answer["items"] if isinstance(answer, dict) else answer or []
        return seconds, len(items)

    async def stop(self) -> None:
        assert self.process is not None
        await self.request(types.SHUTDOWN, None)
        self._send({"jsonrpc": "2.0", "method": types.EXIT})
        await asyncio.wait_for(self.process.wait(), TIMEOUT_SECONDS)
        if self._reader is not None:
            self._reader.cancel()


async def one_round(workdir: Path, changes: int, requests: int) -> dict[str, Any]:
    lines, places = schedule(workdir / NAMESPACE_FILE)
    text = "\n".join(lines) + "\n"
    document = workdir / "schedule.fts"
    document.write_text(text, encoding="utf-8")
    session = Session()
    await session.start(workdir, workdir / "cache")
    try:
        opened = await session.open(document, text)
        changed = [await session.change(v, e) for v, e in enumerate(edits(lines, places, changes), start=2)]
        hovers, completions, answered, items = [], [], 0, []
        for index in range(requests):
            place = places[(index * 5) % len(places)]
            selector = lines[place.header + 2]
            seconds, found = await session.hover(place.header + 2, selector.index("experts"))
            hovers.append(seconds)
            answered += found
            after = selector.index(".mlp") + 1 if index % 2 else selector.index("*.**")
            seconds, count = await session.completion(place.header + 2, after)
            completions.append(seconds)
            items.append(count)
        used = memory(session.pid)
    finally:
        await session.stop()
    if session.errors:
        raise RuntimeError("the server logged errors:\n" + "\n".join(session.errors))
    return {
        "open": opened,
        "change": changed,
        "hover": hovers,
        "completion": completions,
        "hovers_answered": answered,
        "completion_items": sorted(set(items)),
        "memory_kb": used,
    }


def server_work(text: str, path: Path) -> object:
    """What the server's worker thread runs for one edit (`work` in FtscLanguageServer.analysis)."""
    from ftsc.diagnostics import SourceText
    from ftsc.lsp.convert import to_lsp
    from ftsc.lsp.documents import analyze
    from ftsc.lsp.memory import settle
    from ftsc.lsp.watching import watched_files

    result, diagnostics, _ = analyze(text, path, None, path.parent)
    to_lsp(diagnostics, SourceText(text, str(path)), path.as_uri(), "utf-16")
    files = watched_files(result.schedule, path, None, path.parent)
    settle(result.schedule_namespace)
    return files


def edited_texts(workdir: Path, count: int) -> list[str]:
    """The whole text after each of the first `count` edits, as the server sees it."""
    lines, places = schedule(workdir / NAMESPACE_FILE)
    current, texts = list(lines), []
    for edit in edits(lines, places, count):
        applied(current, edit)
        texts.append("\n".join(current) + "\n")
    return texts


def in_process(workdir: Path, count: int) -> list[float]:
    """The server's compile of the same edits, timed in this process: the latency less the LSP's share."""
    texts, document = edited_texts(workdir, count), workdir / "schedule.fts"
    server_work(texts[-1], document)  # loads the namespace and builds its index, as the didOpen does
    samples = []
    for text in texts:
        start = time.perf_counter()
        server_work(text, document)
        samples.append(time.perf_counter() - start)
    return samples


def profile(workdir: Path, top: int = 30) -> str:
    texts, document = edited_texts(workdir, 20), workdir / "schedule.fts"
    server_work(texts[-1], document)
    profiler = cProfile.Profile()
    profiler.enable()
    for text in texts:
        server_work(text, document)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    return f"the server's compile of {len(texts)} edits, in-process under cProfile:\n{out.getvalue()}"


async def open_only(workdir: Path) -> float:
    """A fresh server's didOpen to first publishDiagnostics, and nothing else."""
    lines, _ = schedule(workdir / NAMESPACE_FILE)
    text = "\n".join(lines) + "\n"
    session = Session()
    await session.start(workdir, workdir / "cache")
    try:
        return await session.open(workdir / "schedule.fts", text)
    finally:
        await session.stop()


def run(
    rounds: int = 3, changes: int = 60, requests: int = 60, profiled: bool = False, opens: int = 5
) -> dict[str, object]:
    names = moe_names(LAYERS)
    results: dict[str, object] = {"names": len(names)}
    rounds_measured: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="ftsc-lsp-bench-") as folder:
        workdir = Path(folder)
        (workdir / NAMESPACE_FILE).write_text(json.dumps(namespace_data(names)), encoding="utf-8")
        lines, places = schedule(workdir / NAMESPACE_FILE)
        results["schedule_lines"], results["phases"] = len(lines), len(places) + 2
        for _ in range(rounds):  # the first round's server finds the namespace cache empty
            load_before = os.getloadavg()
            measured = asyncio.run(one_round(workdir, changes, requests))
            measured["load_average"] = [round(value, 2) for value in (*load_before, *os.getloadavg())]
            rounds_measured.append(measured)
        cached_opens = [measured["open"] for measured in rounds_measured[1:]]
        cached_opens += [asyncio.run(open_only(workdir)) for _ in range(opens)]
        previous = os.environ.get("FTSC_CACHE_DIR")
        os.environ["FTSC_CACHE_DIR"] = str(workdir / "cache")  # never the user's cache
        try:
            results["in_process"] = stats(in_process(workdir, changes))
            if profiled:
                results["profile"] = profile(workdir)
        finally:
            if previous is None:
                os.environ.pop("FTSC_CACHE_DIR", None)
            else:
                os.environ["FTSC_CACHE_DIR"] = previous
    results["rounds"] = rounds_measured
    for key in ("change", "hover", "completion"):
        results[key] = stats([sample for measured in rounds_measured for sample in measured[key]])
    results["open"] = stats(cached_opens)
    results["open_uncached"] = rounds_measured[0]["open"]
    results["memory_kb"] = {
        key: max(measured["memory_kb"][key] for measured in rounds_measured) for key in ("VmRSS", "VmHWM")
    }
    results["targets"] = {
        "change_p95": CHANGE_TARGET_SECONDS,
        "hover_p95": HOVER_TARGET_SECONDS,
        "completion_p95": COMPLETION_TARGET_SECONDS,
        "open_p50": OPEN_TARGET_SECONDS,
        "memory_mib": MEMORY_TARGET_MIB,
    }
    return results


def report(results: Mapping[str, object]) -> str:
    rows = []
    every = results["rounds"]
    assert isinstance(every, list)
    for index, measured in enumerate(every, start=1):
        for key in ("change", "hover", "completion"):
            figures = stats(measured[key])
            rows.append(
                [
                    f"round {index}: {key}",
                    ms(figures["p50"]),
                    ms(figures["p95"]),
                    ms(figures["max"]),
                    str(figures["runs"]),
                ]
            )
    summary_rows = []
    for key, target in TARGETS.items():
        figures = results[key]
        assert isinstance(figures, dict)
        verdict = "PASS" if figures["p95"] < target else "MISS"
        summary_rows.append(
            [key, ms(figures["p50"]), ms(figures["p95"]), ms(figures["max"]), f"< {ms(target)}", verdict]
        )
    opened = results["open"]
    assert isinstance(opened, dict)
    verdict = "PASS" if opened["p50"] < OPEN_TARGET_SECONDS else "MISS"
    summary_rows.append(
        [
            f"open, cache filled ({opened['runs']} servers)",
            ms(opened["p50"]),
            ms(opened["p95"]),
            ms(opened["max"]),
            f"p50 < {ms(OPEN_TARGET_SECONDS)}",
            verdict,
        ]
    )
    uncached = results["open_uncached"]
    assert isinstance(uncached, float)
    summary_rows.append(["open, cache empty (1 server)", ms(uncached), "-", "-", "-", "info"])
    compiled = results["in_process"]
    assert isinstance(compiled, dict)
    summary_rows.append(
        [
            "change, compile in-process",
            ms(compiled["p50"]),
            ms(compiled["p95"]),
            ms(compiled["max"]),
            "-",
            "info",
        ]
    )
    used = results["memory_kb"]
    assert isinstance(used, dict)
    loads = ", ".join(
        str(measured["load_average"][0]) + "-" + str(measured["load_average"][3]) for measured in every
    )
    first = every[0]
    return "\n".join(
        [
            f"{results['names']} names, {results['schedule_lines']}-line schedule, "
            f"{results['phases']} phases; "
            f"hovers answered {first['hovers_answered']}/{len(first['hover'])}; completion items "
            f"{first['completion_items']}",
            table(["step", "p50", "p95", "max", "runs"], rows),
            "",
            table(["all rounds", "p50", "p95", "max", "target (p95)", "result"], summary_rows),
            f"server memory (largest of the rounds): VmRSS {used['VmRSS'] / 1024:.0f} MiB "
            f"(target <= {MEMORY_TARGET_MIB} MiB: "
            f"{'PASS' if used['VmRSS'] / 1024 <= MEMORY_TARGET_MIB else 'MISS'}), "
            f"VmHWM {used['VmHWM'] / 1024:.0f} MiB",
            f"1-minute load average before-after each round: {loads}",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="fresh servers measured one after another (3)")
    parser.add_argument("--changes", type=int, default=60, help="didChange edits per round (60)")
    parser.add_argument("--requests", type=int, default=60, help="hovers and completions per round (60 each)")
    parser.add_argument(
        "--profile", action="store_true", help="also profile the compile of an edit in-process"
    )
    args = parser.parse_args(argv)
    print(json.dumps(machine()))
    results = run(args.rounds, args.changes, args.requests, args.profile)
    print(report(results))
    if args.profile:
        print(results["profile"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
