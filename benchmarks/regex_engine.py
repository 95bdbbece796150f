"""What matching regexes on RE2 (ftsc.compiler.patterns.linear_regex) costs against Python's `re`.

Every FTS regex of `compile_50k`'s schedule is matched against all ~47,000 names of its MoE namespace,
from the start (`match`, what FTS asks) and whole (`fullmatch`, what a `re"…"` selector asks), once with
`re` and once with RE2 (each compiled beforehand, not timed); compiling is timed on its own. The last
row is `(.*)*x`, which backtracks exponentially in `re` (not run) and is linear in RE2.
Run: `python benchmarks/regex_engine.py [--repeats N]`.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable, Sequence

from benchutil import ms, summary, table
from compile_50k import EXACT, PHASES, moe_names
from ftsc.compiler.patterns.linear_regex import compile_regex


def _regexes() -> list[str]:
    found = []
    for phase in PHASES:
        for thaw in phase.thaws:
            for selector in (*thaw.selectors, *thaw.excepts):
                if selector.regex != EXACT and selector.regex not in found:
                    found.append(selector.regex)
    return found


def _best(run: Callable[[], object], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return float(summary(samples)["median"])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    names = moe_names()
    regexes = _regexes()
    python = [re.compile(regex) for regex in regexes]
    linear = [compile_regex(regex) for regex in regexes]
    rows = []
    for how in ("match", "fullmatch"):
        asked_re = [getattr(pattern, how) for pattern in python]
        asked_re2 = [getattr(pattern, how) for pattern in linear]
        with_re = _best(lambda asked=asked_re: [[ask(n) for n in names] for ask in asked], args.repeats)
        with_re2 = _best(lambda asked=asked_re2: [[ask(n) for n in names] for ask in asked], args.repeats)
        rows.append([f"{len(regexes)} regexes × {len(names)} names, {how}", ms(with_re), ms(with_re2)])
        rows[-1].append(f"{with_re2 / with_re:.2f}×")

    def compile_with_re() -> None:
        re.purge()  # `re` caches compiled patterns; time the compile itself
        for regex in regexes:
            re.compile(regex)

    compiled_re = _best(compile_with_re, args.repeats)
    compiled_re2 = _best(lambda: [compile_regex(regex) for regex in regexes], args.repeats)
    rows.append([f"compile {len(regexes)} regexes", ms(compiled_re), ms(compiled_re2)])
    rows[-1].append(f"{compiled_re2 / compiled_re:.2f}×")
    catastrophic = compile_regex("(.*)*x")
    hopeless = _best(lambda: [catastrophic.fullmatch(name) for name in names], args.repeats)
    rows.append(["`(.*)*x`, fullmatch, every name", "does not finish", ms(hopeless), ""])
    print(table(["what", "re", "RE2 (ftsc)", "RE2 / re"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
