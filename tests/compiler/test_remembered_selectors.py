"""What the compiler remembers between compiles (the language server's edits) never changes an answer:
a selector found by its text alone matches what resolving it in full matches, follows its `let`s, and
its problems are still reported at its current place."""

from __future__ import annotations

from ftsc.compiler.compile import compile_schedule
from ftsc.compiler.namespace import Namespace
from ftsc.compiler.selectors import index_of

NAMES = [
    "embed.weight",
    *(f"layers.{i}.{part}.weight" for i in range(4) for part in ("attn", "mlp", "norm")),
    "a.*",  # a name spelt like a pattern: `a.*` the pattern matches it, and every other child of `a`
    "a.b",
    "head.weight",
]

TEXT = """fts 1
let top = layers.3
phase one {
    thaw $top.**, head.weight
}
phase two {
    thaw layers.{0..2}.{attn,mlp}.weight except layers.0.mlp.weight
}
phase three {
    thaw a.*, rest
}
"""


def _summary(text: str, namespace: Namespace) -> tuple[object, ...]:
    result = compile_schedule(text, namespace)
    diagnostics = [(d.code, d.span, d.message) for d in result.diagnostics]
    return diagnostics, result.phase_params, sorted(result.matches.items()), result.plan


def test_a_recompile_gives_the_same_result_as_a_first_compile() -> None:
    namespace = Namespace.from_names(NAMES)
    first = _summary(TEXT, namespace)
    assert _summary(TEXT, namespace) == first  # every selector found by its text this time
    index_of(namespace).results.clear()
    assert _summary(TEXT, namespace) == first
    phase_three = sorted(namespace.names[p] for p in first[1][2])
    assert phase_three == sorted(
        ["a.*", "a.b", "embed.weight", "layers.0.mlp.weight"] + [f"layers.{i}.norm.weight" for i in range(3)]
    )
    a_star = next(positions for span, positions in first[2] if TEXT[span.start : span.end] == "a.*")
    assert sorted(namespace.names[p] for p in a_star) == ["a.*", "a.b"]


def test_a_selector_follows_its_let() -> None:
    namespace = Namespace.from_names(NAMES)
    compile_schedule(TEXT, namespace)
    moved = TEXT.replace("let top = layers.3", "let top = layers.1")
    result = compile_schedule(moved, namespace)
    span = next(span for span in result.matches if moved[span.start : span.end] == "$top.**")
    assert sorted(namespace.names[p] for p in result.matches[span]) == [
        "layers.1.attn.weight",
        "layers.1.mlp.weight",
        "layers.1.norm.weight",
    ]
    assert any(d.code == "E201" for d in result.diagnostics)  # layers.1 is now thawed twice


def test_problems_are_reported_where_the_selector_now_is() -> None:
    namespace = Namespace.from_names(NAMES)
    broken = TEXT.replace("head.weight\n", "head.weigth\n")
    first = compile_schedule(broken, namespace)
    shifted = "# a comment that moves everything down\n" + broken
    second = compile_schedule(shifted, namespace)
    (e101,) = [d for d in first.diagnostics if d.code == "E101"]
    (moved,) = [d for d in second.diagnostics if d.code == "E101"]
    offset = len("# a comment that moves everything down\n")
    assert (moved.span.start, moved.span.end) == (e101.span.start + offset, e101.span.end + offset)
    assert shifted[moved.span.start : moved.span.end] == "head.weigth"
    assert [fix.span.start for fix in moved.fixes] == [fix.span.start + offset for fix in e101.fixes]
