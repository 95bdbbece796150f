"""The hostile inputs of issue 16 end, with their diagnostic, instead of hanging or exhausting memory.

Each runs the real command in a subprocess with a generous timeout: a regression hangs for the timeout
and fails, rather than freezing the test run. Time itself is measured in `benchmarks/`, not here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BERT = ROOT / "examples" / "namespaces" / "bert-base.json"
TIMEOUT_S = 60


def _lets(count: int) -> str:
    lets = "".join(f"let a{i} = {{$a{i - 1},$a{i - 1}}}\n" for i in range(1, count + 1))
    return f"let a0 = bert\n{lets}phase p {{ thaw $a{count}.** }}\n"


def _soup(size: int) -> str:
    tokens = ["{", "}", "=", ",", "phase", "thaw", "1", "a.b", 're"x"', "[", "]", "(", ")", "let", "except"]
    words = [tokens[(index * 7919) % len(tokens)] for index in range(size // 4)]
    return " ".join(words)


def _billion_laughs() -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{level}: &a{level} [{','.join([f'*a{level - 1}'] * 9)}]" for level in range(1, 7)]
    return "\n".join(lines) + "\n0:\n  params: *a6\n"


CASES = {
    "catastrophic-regex": ("fts", 'phase p { thaw re"(.*)*x" }\nphase q { thaw rest }\n', "E101"),
    "twenty-doubling-lets": ("fts", _lets(20), "E102"),
    "100k-character-glob": ("fts", "phase p { thaw bert.*" + "a*" * 50_000 + " }\n", "E102"),
    "10-mb-selector": ("fts", "phase p { thaw bert." + "*a" * 5_000_000 + " }\n", "E102"),
    "100-kb-of-token-soup": ("fts", _soup(100_000), "I003"),
    "billion-laughs": ("yaml", _billion_laughs(), "E511"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_input_ends_with_its_diagnostic(case: str, tmp_path: Path) -> None:
    kind, text, code = CASES[case]
    source = tmp_path / f"input.{kind}"
    source.write_text(text, encoding="utf-8")
    command = ["check", str(source), "--namespace", str(BERT)]
    if kind == "yaml":
        command = ["import-fts", str(source), "--namespace", str(BERT)]
    argv = [sys.executable, "-m", "ftsc", *command]
    done = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert done.returncode == 1, done.stderr[-2000:]
    assert f"[{code}]" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
