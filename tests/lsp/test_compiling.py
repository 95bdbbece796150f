"""`CompileRunner`: compiles run off the event loop, a newer version supersedes (and interrupts) the older,
and requests for the version being compiled share one compile."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from ftsc.compiler.compile import compile_schedule
from ftsc.diagnostics import Severity
from ftsc.lsp.checking import WARM_UP
from ftsc.lsp.compiling import CompileRunner, Superseded

pytestmark = pytest.mark.asyncio


async def test_a_newer_stamp_supersedes_and_interrupts_the_running_compile() -> None:
    runner = CompileRunner()
    stopped = threading.Event()

    def spin() -> str:
        try:
            while True:  # pure Python: interrupted at its next instruction
                time.sleep(0)
        finally:
            stopped.set()

    old = asyncio.ensure_future(runner.run("doc", 1, spin))
    await asyncio.sleep(0.05)
    assert await runner.run("doc", 2, lambda: "new") == "new"
    with pytest.raises(Superseded):
        await old
    assert await asyncio.to_thread(stopped.wait, 10)


async def test_the_loop_keeps_running_while_a_compile_runs() -> None:
    runner = CompileRunner()
    release = threading.Event()
    job = asyncio.ensure_future(runner.run("doc", 1, lambda: release.wait(10)))
    ticks = 0
    for _ in range(5):
        await asyncio.sleep(0.01)
        ticks += 1
    assert ticks == 5 and not job.done()
    release.set()
    assert await job is True


async def test_one_compile_per_stamp_is_shared_and_errors_reach_every_caller() -> None:
    runner = CompileRunner()
    calls = 0
    gate = threading.Event()

    def work() -> int:
        nonlocal calls
        calls += 1
        gate.wait(10)
        raise ValueError("inside the compiler")

    first = asyncio.ensure_future(runner.run("doc", 7, work))
    await asyncio.sleep(0.05)
    second = asyncio.ensure_future(runner.run("doc", 7, work))
    await asyncio.sleep(0.05)
    gate.set()
    for waiter in (first, second):
        with pytest.raises(ValueError, match="inside the compiler"):
            await waiter
    assert calls == 1


async def test_cancel_supersedes_a_closed_documents_compile() -> None:
    runner = CompileRunner()
    job = asyncio.ensure_future(runner.run("doc", 1, lambda: time.sleep(0.5) or 1))
    await asyncio.sleep(0.05)
    runner.cancel("doc")
    with pytest.raises(Superseded):
        await job


def test_the_warm_up_schedule_is_clean_and_uses_every_statement() -> None:
    """What initialize compiles to load the grammar must keep compiling without an error as the language
    changes, and still reach the statements and selector kinds a first document uses."""
    result = compile_schedule(WARM_UP, None)
    assert [d.code for d in result.diagnostics if d.severity == Severity.ERROR] == []
    kinds = {s.kind for phase in result.schedule.phases for thaw in phase.thaws for s in thaw.selectors}
    assert kinds == {"pattern", "exact", "regex", "rest"}
    assert result.schedule.lets and result.schedule.defaults and result.schedule.headers
