"""The runtime's public classes document themselves with an example that runs as written (doctest), so the
example cannot drift from the API it shows."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

from ftsc.runtime import FinetuningScheduler


@pytest.mark.parametrize("documented", [FinetuningScheduler], ids=lambda cls: cls.__name__)
def test_the_class_docstring_example_runs(
    documented: type, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # whatever the example's Trainer writes lands here
    found = doctest.DocTestFinder(recurse=False).find(documented, globs={documented.__name__: documented})
    examples = [test for test in found if test.examples]
    assert examples, f"{documented.__name__}'s docstring has no runnable example"
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in examples:
        runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
    assert runner.tries >= 5  # the whole example ran: compile, construct, inspect, build the Trainer
