"""The seeded adversarial corpus (`hostile_corpus.py`) through every entry point: check, compile, explain, fmt,
gen, import-fts, export-fts, ftsc-lightning-mode and the language server.

Each run must end with exit 0, 1 or 2, no traceback and no internal error, within `LIMIT_S` seconds of CPU
time (wall time would count whatever else a shared machine runs) and `MEMORY_MIB` of peak memory, and a run
that has not ended after `HANG_S` seconds of wall time is a hang. The server must answer a hover on a clean
document within `HOVER_S` while every hostile schedule is open. `LIMIT_S` and `HOVER_S` are 2 s and 1 s
times `FTSC_CORPUS_SLACK` (default 2, for a shared CI machine): generous, yet a hang or an explosion fails.
The corpus includes the inputs of issue 16's items 1-4 and 8 (catastrophic regex, alias bomb, error-recovery
blow-up, E201 for every pair, expansion bombs), which now end like the rest.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from hostile_corpus import GOOD, NAMESPACE, SEED, Entry, corpus
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import default_feature

SLACK = float(os.environ.get("FTSC_CORPUS_SLACK", "2"))
LIMIT_S = 2.0 * SLACK
HANG_S = 30.0
HOVER_S = 1.0 * SLACK
MEMORY_MIB = 300
WORKER = Path(__file__).with_name("corpus_worker.py")
ENTRIES = corpus()


def commands(entry: Entry) -> list[tuple[str, list[str]]]:
    """The entry points run on an entry, as (tool, argv) with paths relative to the entry's folder."""
    main = entry.main
    if entry.kind == "fts":
        return [
            ("ftsc", ["check", main]),
            ("ftsc", ["check", "--format", "sarif", main]),
            ("ftsc", ["compile", main, "-o", "out.json"]),
            ("ftsc", ["explain", main]),
            ("ftsc", ["fmt", "--diff", main]),
            ("ftsc", ["fmt", main]),
        ]
    if entry.kind == "namespace":
        return [
            ("ftsc", ["check", "s.fts"]),
            ("ftsc", ["check", "--namespace", main, "s.fts"]),
            ("ftsc", ["compile", "s.fts", "-o", "out.json"]),
            ("ftsc", ["gen", "--namespace", main]),
        ]
    if entry.kind == "plan":
        return [("ftsc", ["explain", main]), ("ftsc", ["export-fts", main])]
    if entry.kind == "yaml":
        return [("ftsc", ["import-fts", main]), ("ftsc", ["import-fts", "--namespace", "ns.json", main])]
    return [
        ("ftsc-lightning-mode", ["--mode", "unified", "--package-dir", main, "--dry-run"]),
        ("ftsc-lightning-mode", ["--mode", "unified", "--package-dir", main]),
    ]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("corpus")
    return {entry.name: entry.write(root) for entry in ENTRIES}


def run_jobs(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every job's result line; a job that does not end within LIMIT_S is recorded as a hang, its worker
    killed, and a fresh worker goes on with the jobs after it."""
    results: list[dict[str, Any]] = []
    while len(results) < len(jobs):
        rest = jobs[len(results) :]
        listing = Path(rest[0]["cwd"]).parent / f"jobs-{len(results)}.json"
        listing.write_text(json.dumps(rest), encoding="utf-8")
        worker = subprocess.Popen(
            [sys.executable, str(WORKER), str(listing)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        lines: queue.Queue[str | None] = queue.Queue()
        reader = threading.Thread(target=_read_lines, args=(worker, lines), daemon=True)
        reader.start()
        for _ in rest:
            try:
                line = lines.get(timeout=HANG_S)
            except queue.Empty:
                line = None
            if line is None:
                worker.kill()
                worker.wait()
                results.append({"status": "hang", "seconds": None, "stderr": worker.stderr.read()[-600:]})  # type: ignore[union-attr]
                break
            results.append(json.loads(line))
        else:
            worker.wait(timeout=30)
    return results


def _read_lines(worker: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
    assert worker.stdout is not None
    for line in worker.stdout:
        lines.put(line)
    lines.put(None)


def problems_of(result: dict[str, Any]) -> list[str]:
    found = []
    if result["status"] not in (0, 1, 2):
        found.append(f"exit status {result['status']}")
    if result.get("escaped"):
        found.append("an exception escaped: " + result["escaped"])
    stderr = result.get("stderr") or ""
    if "Traceback" in stderr or "internal error" in stderr:
        found.append("stderr: " + stderr)
    if result["seconds"] is not None and result["seconds"] > LIMIT_S:
        found.append(f"took {result['seconds']} s")
    if result.get("peak_mib", 0) > MEMORY_MIB:
        found.append(f"peak memory {result['peak_mib']} MiB")
    return found


def test_the_corpus_is_seeded_and_large_enough() -> None:
    assert [entry.name for entry in corpus(SEED)] == [entry.name for entry in corpus(SEED)]
    kinds = {entry.kind for entry in corpus()}
    assert kinds == {"fts", "namespace", "plan", "yaml", "package"}
    assert len(corpus()) >= 100


def test_every_entry_point_ends_cleanly_on_every_hostile_input(written: dict[str, Path]) -> None:
    jobs = [
        {"cwd": str(written[entry.name]), "tool": tool, "argv": argv, "entry": entry.name}
        for entry in ENTRIES
        for tool, argv in commands(entry)
    ]
    results = run_jobs(jobs)
    failures = [
        f"{job['entry']}: {job['tool']} {' '.join(job['argv'])}: {'; '.join(found)}"
        for job, result in zip(jobs, results, strict=False)
        if (found := problems_of(result))
    ]
    assert failures == [], "\n".join(failures)
    assert len(results) == len(jobs)


@default_feature(types.CLIENT_REGISTER_CAPABILITY)
def _accept_registrations(client: LanguageClient, params: types.RegistrationParams) -> None:
    """Accept the server's dynamic registrations, as editors do (pytest-lsp's client refuses them)."""


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "ftsc", "lsp"]))
async def client(lsp_client: LanguageClient, tmp_path: Path):
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=tmp_path.as_uri(),
            initialization_options={"debounceMs": 0},
        )
    )
    yield
    await asyncio.wait_for(lsp_client.shutdown_session(), HOVER_S * 5)


@pytest.mark.asyncio
async def test_the_server_answers_hover_while_hostile_schedules_are_open(
    client: LanguageClient, written: dict[str, Path], tmp_path: Path
) -> None:
    clean = tmp_path / "clean.fts"
    text = GOOD.replace('"ns.json"', f'"{NAMESPACE.as_posix()}"')
    clean.write_text(text, encoding="utf-8")
    clean_uri = clean.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(clean_uri, "fts", 1, text))
    )
    position = types.Position(3, 12)  # on `classifier.*`
    slow: list[str] = []
    for entry in ENTRIES:
        if entry.kind not in ("fts", "namespace"):
            continue
        path = written[entry.name] / "s.fts"
        document = path.read_bytes().decode("utf-8", "replace")
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(path.as_uri(), "fts", 1, document))
        )
        started = time.monotonic()
        hover = await asyncio.wait_for(
            client.text_document_hover_async(
                types.HoverParams(types.TextDocumentIdentifier(clean_uri), position)
            ),
            HOVER_S * 5,
        )
        if hover is None or time.monotonic() - started > HOVER_S:
            slow.append(
                f"{entry.name}: {'no hover' if hover is None else f'{time.monotonic() - started:.2f} s'}"
            )
    assert slow == []
    assert not [m.message for m in client.log_messages if m.type == types.MessageType.Error]
