"""A seeded generator of hostile inputs: `.fts` schedules, namespace and plan JSON, FTS YAML, and packages for
`ftsc-lightning-mode`. Every entry is reproducible from `SEED` and its name.

Entries in the group `ISSUE_16` are the inputs of issue 16's items 1-4 and 8 (a catastrophic regex, a
regex repetition that overflows, E201 for every pair of 250 phases, expansion bombs, error-recovery
blow-up, billion laughs): they hang or explode without the bounded regex engine, alias-expansion limit,
linear error recovery, one E201 per conflict and pattern-expansion limits.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SEED = 16
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NAMESPACE = EXAMPLES / "namespaces" / "bert-base.json"
HUGE = "9" * 5000
GOOD = (
    'fts 1\nuse namespace "ns.json"\nphase head {\n    thaw classifier.*\n}\nphase body {\n    thaw rest\n}\n'
)
ISSUE_16 = "issue-16"  # the group of entries that need issue 16's fixes

# Pieces that break schedules in interesting ways: tokens, brackets, quotes, every kind of line break,
# control and multi-byte characters.
PIECES = [
    *("{", "}", "(", ")", "[", "]", '"', "'", 're"', "$", ".", ",", "=", "*", "**", "..", "#", "\\", "`"),
    *("phase p {", "thaw ", "except ", "rest", "let x = ", "use namespace ", "defaults {", "until epoch 3"),
    *("lr = ", "optimizer = AdamW(", "fts 1", "{0..", "..}", f"{HUGE}", "1e999", "-0", "nan", "inf"),
    *(
        "🙂",
        "é",
        "\U0001f9ea\u200d",
        "\ufeff",
        "\x00",
        "\t",
        "\x0b",
        "\x0c",
        "\x1c",
        "\x85",
        "\u2028",
        "\u2029",
    ),
    *("\n", "\r\n", "\r"),
]


@dataclass
class Entry:
    """One hostile input: its files (relative path -> bytes, or a callable that makes the file), what it is
    (`fts`, `namespace`, `plan`, `yaml`, `package`), and its group."""

    name: str
    kind: str
    main: str  # the file the entry points are run on
    files: dict[str, bytes | Callable[[Path], None]] = field(default_factory=dict)
    group: str = "now"

    def write(self, root: Path) -> Path:
        folder = root / self.name
        folder.mkdir(parents=True)
        for relative, content in self.files.items():
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            if callable(content):
                content(path)
            else:
                path.write_bytes(content)
        return folder


def namespace_json() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(NAMESPACE.read_text(encoding="utf-8"))
    return data


def _fts(
    name: str, text: str, group: str = "now", extra: dict[str, bytes | Callable[[Path], None]] | None = None
) -> Entry:
    return Entry(
        name, "fts", "s.fts", {"s.fts": text.encode("utf-8", "surrogatepass"), **(extra or {})}, group
    )


def _with_namespace(entry: Entry) -> Entry:
    entry.files.setdefault("ns.json", NAMESPACE.read_bytes())
    return entry


def _mutated(rng: random.Random, text: str, edits: int) -> str:
    for _ in range(edits):
        at = rng.randrange(len(text) + 1)
        if rng.random() < 0.3 and text:
            end = min(len(text), at + rng.randrange(1, 8))
            text = text[:at] + text[end:]
        else:
            text = text[:at] + rng.choice(PIECES) + text[at:]
    return text


def schedules(rng: random.Random) -> Iterator[Entry]:
    nested = rng.randrange(120, 400)
    yield _fts("fts-huge-until", GOOD.replace("thaw rest", f"thaw rest\n    until epoch {HUGE}"))
    yield _fts("fts-huge-lr", GOOD.replace("thaw rest", f"thaw rest\n    lr = {HUGE}"))
    yield _fts(
        "fts-huge-optimizer-arg", GOOD.replace("thaw rest", f"thaw rest\n    optimizer = AdamW(lr = {HUGE})")
    )
    yield _fts("fts-huge-range", GOOD.replace("classifier.*", f"bert.encoder.layer.{{0..{HUGE}}}.**"))
    yield _fts(
        "fts-nested-list",
        GOOD.replace("thaw rest", "thaw rest\n    init_pg_lrs = " + "[" * nested + "]" * nested),
    )
    yield _fts(
        "fts-nested-call",
        GOOD.replace(
            "thaw rest", "thaw rest\n    optimizer = AdamW(betas = " + "(" * nested + ")" * nested + ")"
        ),
    )
    yield _fts(
        "fts-nested-table",
        GOOD.replace(
            "phase head",
            "defaults { early_stopping = " + "{a = " * nested + "1" + "}" * nested + " }\nphase head",
        ),
    )
    yield _fts("fts-unclosed-brackets", GOOD + "[" * 5000)
    lets = rng.randrange(300, 600)
    chain = "".join(f"let a{i} = $a{i - 1}\n" for i in range(1, lets))
    yield _fts(
        "fts-let-chain",
        GOOD.replace("phase head", f"let a0 = classifier\n{chain}phase head").replace(
            "classifier.*", f"$a{lets - 1}.*"
        ),
        ISSUE_16,  # quick once each `let` is resolved once
    )
    yield _fts("fts-long-name", GOOD.replace("classifier.*", "x" * 200_000))
    yield _fts(
        "fts-many-phases",
        'fts 1\nuse namespace "ns.json"\n'
        + "".join(
            f"phase p{i} {{ thaw bert.encoder.layer.{i % 12}.attention.self.query.weight }}\n"
            for i in range(2)
        )
        + "".join(f"phase q{i} {{ lr = 1e-5 }}\n" for i in range(2000)),
    )
    yield _fts("fts-control-characters", GOOD.replace("head", "he\x00\x01\x7fad").replace("\n", "\r", 3))
    yield _fts("fts-line-breaks", GOOD.replace("\n", "\x85", 2).replace("\n", "\u2028", 2))
    yield _fts("fts-bom-crlf", "\ufeff" + GOOD.replace("\n", "\r\n"))
    yield _fts("fts-surrogate-escapes", GOOD.replace("classifier", "classifier\udcff"))
    yield Entry("fts-not-utf8", "fts", "s.fts", {"s.fts": b"phase a { thaw \xff\xfe }\n"})
    yield _fts("fts-empty", "")
    yield _fts("fts-namespace-device", GOOD.replace("ns.json", "/dev/zero"))
    yield _fts("fts-namespace-folder", GOOD.replace("ns.json", "."))
    yield _fts("fts-namespace-fifo", GOOD.replace("ns.json", "pipe.json"), extra={"pipe.json": _fifo})
    yield _fts("fts-namespace-loop", GOOD.replace("ns.json", "loop.json"), extra={"loop.json": _link_loop})
    for index in range(20):
        base = (
            GOOD
            if index % 2
            else (EXAMPLES / "bert.fts")
            .read_text(encoding="utf-8")
            .replace("namespaces/bert-base.json", "ns.json")
        )
        yield _fts(f"fts-mutated-{index:02d}", _mutated(rng, base, rng.randrange(3, 40)))
    yield _fts("fts-garbage", "".join(rng.choice(PIECES) for _ in range(3000)))
    # issue 16: catastrophic regex, huge repetition, E201 for every pair, expansion bombs, recovery blowup
    yield _fts("fts-catastrophic-regex", GOOD.replace("classifier.*", 're"(.*)*x"'), ISSUE_16)
    yield _fts("fts-regex-repetition-overflow", GOOD.replace("classifier.*", 're"a{99999999999}"'), ISSUE_16)
    yield _fts(
        "fts-e201-every-pair",
        'fts 1\nuse namespace "ns.json"\n'
        + "".join(f"phase p{i} {{ thaw classifier.weight }}\n" for i in range(250)),
        ISSUE_16,
    )
    doubling = "".join(f"let d{i} = {{$d{i - 1},$d{i - 1}}}\n" for i in range(1, 22))
    yield _fts(
        "fts-expansion-bomb",
        GOOD.replace("phase head", f"let d0 = {{a,b}}\n{doubling}phase head").replace(
            "classifier.*", "$d21.*"
        ),
        ISSUE_16,
    )
    yield _fts("fts-star-bomb", GOOD.replace("classifier.*", "*a" * 50_000), ISSUE_16)
    yield _fts("fts-recovery-blowup", "phase p {\n" + "thaw , = ) lr ]\n" * 800 + "}\n", ISSUE_16)


def _fifo(path: Path) -> None:
    import os

    os.mkfifo(path)


def _link_loop(path: Path) -> None:
    other = path.with_name("loop2.json")
    path.symlink_to(other)
    other.symlink_to(path)


def _ns(name: str, data: object | str | bytes) -> Entry:
    if isinstance(data, bytes):
        content = data
    else:
        content = (data if isinstance(data, str) else json.dumps(data)).encode("utf-8", "surrogatepass")
    return Entry(name, "namespace", "ns.json", {"ns.json": content, "s.fts": GOOD.encode()})


def namespaces(rng: random.Random) -> Iterator[Entry]:
    text = NAMESPACE.read_text(encoding="utf-8")
    yield _ns("ns-huge-shape", text.replace("[30522, 768]", f"[{HUGE}, 768]", 1))
    yield _ns("ns-huge-version", text.replace('"namespace_version": 1', f'"namespace_version": {HUGE}', 1))
    yield _ns("ns-nested-5000", '{"namespace_version": 1, "parameters": ' + "[" * 5000 + "]" * 5000 + "}")
    yield _ns("ns-nan", text.replace("[30522, 768]", "[NaN, 768]", 1))
    yield _ns("ns-surrogate-name", text.replace('"classifier.weight"', '"classifier.\\udcff"', 1))
    yield _ns("ns-nel-name", text.replace('"classifier.weight"', '"classifier.\\u0085w"', 1))
    yield _ns("ns-control-name", text.replace('"classifier.weight"', '"classifier.\\u0000w"', 1))
    yield _ns("ns-duplicate-names", text.replace('"classifier.bias"', '"classifier.weight"', 1))
    yield _ns("ns-wrong-types", {"namespace_version": 1, "parameters": [{"name": 5, "shape": "x"}]})
    yield _ns("ns-empty", b"")
    yield _ns("ns-bom", b"\xef\xbb\xbf" + text.encode())
    yield _ns("ns-not-utf8", b'{"namespace_version": 1, "parameters": [{"name": "\xff"}]}')
    data = namespace_json()
    rng.shuffle(data["parameters"])
    data["parameters"] = data["parameters"] * 3
    yield _ns("ns-repeated-shuffled", data)
    many = {"namespace_version": 1, "parameters": [{"name": "m." + "x." * 200 + str(i)} for i in range(3000)]}
    yield _ns("ns-deep-names", many)


def _compiled_plan() -> dict[str, Any]:
    from ftsc.compiler.compile import compile_schedule
    from ftsc.compiler.namespace import Namespace

    namespace = Namespace.from_names(namespace_json_names())
    result = compile_schedule(GOOD.replace('use namespace "ns.json"\n', ""), namespace)
    assert result.plan is not None
    return json.loads(json.dumps(result.plan))  # type: ignore[no-any-return]


def namespace_json_names() -> list[str]:
    return [parameter["name"] for parameter in namespace_json()["parameters"]]


def _plan(name: str, change: Callable[[dict[str, Any]], object] | str | bytes) -> Entry:
    if isinstance(change, (str, bytes)):
        content = change if isinstance(change, bytes) else change.encode()
    else:
        plan = _compiled_plan()
        replaced = change(plan)
        content = json.dumps(plan if replaced is None else replaced).encode()
    return Entry(name, "plan", "plan.json", {"plan.json": content})


def plans(rng: random.Random) -> Iterator[Entry]:
    text = json.dumps(_compiled_plan())
    yield _plan("plan-index-mismatch", lambda plan: plan["phases"][1].update(index=7))
    yield _plan("plan-duplicate-names", lambda plan: plan["phases"][1].update(name="head"))
    yield _plan(
        "plan-param-twice", lambda plan: plan["phases"][0]["params"].append(plan["phases"][1]["params"][0])
    )
    yield _plan("plan-frozen-and-thawed", lambda plan: plan["frozen"].append(plan["phases"][0]["params"][0]))
    yield _plan(
        "plan-huge-epoch", text.replace('"max_transition_epoch": -1', f'"max_transition_epoch": {HUGE}', 1)
    )
    yield _plan("plan-huge-version", text.replace('"plan_version": 1', f'"plan_version": {HUGE}', 1))
    yield _plan("plan-nested", '{"plan_version": 1, "phases": ' + "[" * 5000 + "]" * 5000 + "}")
    yield _plan(
        "plan-v0-huge-key", lambda plan: {**plan, "plan_version": None, "version": 0, "phases": {HUGE: {}}}
    )
    yield _plan("plan-wrong-types", lambda plan: plan.update(phases="all"))
    yield _plan("plan-empty", b"")
    yield _plan("plan-array", b"[]")
    for index in range(6):
        chars = list(text)
        for _ in range(rng.randrange(1, 6)):
            chars.insert(rng.randrange(len(chars)), rng.choice(["{", "]", '"', "\\", ",", "9" * 50, "\x00"]))
        yield _plan(f"plan-mutated-{index}", "".join(chars))


def _yaml(name: str, text: str | bytes, group: str = "now") -> Entry:
    content = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    return Entry(name, "yaml", "s.yaml", {"s.yaml": content, "ns.json": NAMESPACE.read_bytes()}, group)


def yamls(rng: random.Random) -> Iterator[Entry]:
    good = "0:\n  params:\n  - classifier.weight\n  - classifier.bias\n1:\n  params:\n  - bert.pooler.dense.weight\n"
    depth = rng.randrange(3000, 6000)
    yield _yaml("yaml-nested", "0: " + "[" * depth + "]" * depth + "\n")
    yield _yaml("yaml-nested-block", "".join("  " * i + f"k{i}:\n" for i in range(800)))
    yield _yaml("yaml-control-character", good.replace("weight", "wei\x07ght", 1))
    yield _yaml("yaml-bad-timestamp", good + "  when: 2001-13-45\n")
    yield _yaml("yaml-bad-timestamp-key", "2001-02-30:\n  params: [classifier.weight]\n")
    yield _yaml("yaml-huge-int", good + f"  max_transition_epoch: {HUGE}\n")
    yield _yaml("yaml-huge-key", f"{HUGE}:\n  params: [classifier.weight]\n")
    yield _yaml("yaml-python-object", "0: !!python/object:os.system\n  params: [classifier.weight]\n")
    yield _yaml("yaml-python-apply", "0: !!python/object/apply:os.system [echo]\n")
    yield _yaml("yaml-python-name-seq", "0:\n  params: !!python/name:os.system [classifier.weight]\n")
    yield _yaml("yaml-recursive-alias", "a: &x [*x]\n")
    yield _yaml("yaml-merge-key", "base: &b {lr: 1}\n0:\n  <<: *b\n  params: [classifier.weight]\n")
    yield _yaml("yaml-nel-name", '0:\n  params: ["classifier.\\Nweight"]\n')
    yield _yaml("yaml-not-utf8", b"0:\n  params: [\xff]\n")
    yield _yaml("yaml-empty", "")
    for index in range(8):
        yield _yaml(f"yaml-mutated-{index}", _mutated(rng, good, rng.randrange(2, 20)))
    laughs = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
    )
    yield _yaml("yaml-billion-laughs", laughs, ISSUE_16)


def packages(rng: random.Random) -> Iterator[Entry]:
    import_line = b"import pytorch_lightning as pl\n"  # what `--mode unified` converts
    yield Entry("pkg-rot13", "package", "pkg", {"pkg/m.py": b"# -*- coding: rot13 -*-\n" + import_line})
    yield Entry(
        "pkg-unknown-cookie", "package", "pkg", {"pkg/m.py": b"# coding: no-such-codec\n" + import_line}
    )
    yield Entry("pkg-undecodable", "package", "pkg", {"pkg/m.py": import_line + b"x = '\xff'\n"})
    yield Entry(
        "pkg-link-out", "package", "pkg", {"outside.py": import_line, "pkg/m.py": _link_to("../outside.py")}
    )
    yield Entry("pkg-fifo", "package", "pkg", {"pkg/m.py": _fifo})
    yield Entry("pkg-loop", "package", "pkg", {"pkg/m.py": _link_loop})
    yield Entry("pkg-nul", "package", "pkg", {"pkg/m.py": import_line + b"\x00\n"})
    source = (
        import_line
        + "".join(
            rng.choice(["(", ")", "import ", "from lightning import x\n", "\\\n"]) for _ in range(400)
        ).encode()
    )
    yield Entry("pkg-garbage", "package", "pkg", {"pkg/m.py": source})


def _link_to(target: str) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        path.symlink_to(target)

    return make


def corpus(seed: int = SEED) -> list[Entry]:
    rng = random.Random(seed)
    entries: list[Entry] = []
    for make in (schedules, namespaces, plans, yamls, packages):
        entries.extend(make(rng))
    for entry in entries:
        if entry.kind in ("fts", "namespace"):
            _with_namespace(entry)
    names = [entry.name for entry in entries]
    assert len(names) == len(set(names))
    return entries
