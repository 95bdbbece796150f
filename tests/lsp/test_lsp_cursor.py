"""Where completion thinks the cursor is, on half-typed text, and what it offers there (no server: these
are the many small cases the server tests would take minutes for)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types

from ftsc.compiler.namespace import Namespace
from ftsc.compiler.settings import EARLY_STOPPING_KEYS
from ftsc.lsp.completion import complete, split_pattern
from ftsc.lsp.cursor import Cursor, _closed, _place, _Scanner, cursor_at

NAMESPACE = Namespace.from_names(
    [f"model.layers.{i}.{part}.weight" for i in range(3) for part in ("attn", "mlp")] + ["head.weight"]
)


def offered(before: str) -> list[str]:
    def edit_range(replaced: str) -> types.Range:
        return types.Range(types.Position(0, len(before) - len(replaced)), types.Position(0, len(before)))

    return [item.label for item in complete(cursor_at(before), NAMESPACE, [], edit_range).items]


@pytest.mark.parametrize(
    ("before", "place", "partial"),
    [
        ("", "top", ""),
        ("fts 1\nph", "top", "ph"),
        ("use ", "use", ""),
        ("phase hea", "none", "hea"),  # a phase's name is the user's own
        ('phase "x" {\n  thaw ', "selector", ""),
        ("let l = model.la", "selector", "model.la"),
        ("phase a {\n  thaw model.{layers,he", "selector", "model.{layers,he"),
        ("phase a { thaw a.b, ", "selector", ""),
        ("phase a { thaw a.b except ", "selector", ""),
        ("phase a { thaw a.b\n  l", "statement", "l"),
        ("phase a { until ", "until", ""),
        ("defaults {\n  optimizer = Ada", "value", "Ada"),
        ("phase a { optimizer = AdamW(lr = 1, we", "argument", "we"),
        ('defaults { early_stopping = { monitor = "x", pa', "key", "pa"),
        ("phase a { thaw a # a comment", "none", ""),
        ('phase "unfinished na', "none", ""),
        ('phase a { thaw re"model\\.', "none", ""),
        ("phase a { thaw a }\n", "top", ""),
        ("phase a { thaw a.b\nphase b { thaw model.", "selector", "model."),  # `{` left open above
        ("use adapter fsdp { a = 1, ", "none", ""),
    ],
)
def test_place(before: str, place: str, partial: str) -> None:
    cursor = cursor_at(before)
    assert (cursor.place, cursor.partial) == (place, partial)


@pytest.mark.parametrize(
    ("partial", "split"),
    [
        ("", ("", "", "")),
        ("model.la", ("model", "la", "")),
        ("model.{layers,he", ("model", "he", "")),
        ("model.{a.b,c.d", ("model.c", "d", "")),
        ("model.x{q,k", ("model", "xk", "x")),  # an alternation inside a segment keeps its prefix
        ("a.{b,c}.d", ("a.{b,c}", "d", "")),
    ],
)
def test_split_pattern(partial: str, split: tuple[str, str, str]) -> None:
    assert split_pattern(partial) == split


def test_segments_after_wildcards_ranges_and_lets() -> None:
    assert offered("phase a { thaw model.layers.") == ["0", "1", "2"]
    assert offered("phase a { thaw model.layers.{0..1}.") == ["attn", "mlp"]
    assert offered("phase a { thaw model.*.2.") == ["attn", "mlp"]
    assert offered("phase a { thaw **.attn.") == ["weight"]
    # a `let` typed since the last compile is expanded too
    assert offered("let l = model.layers\nphase a { thaw $l.1.") == ["attn", "mlp"]
    assert offered("let l = model.layers\nphase a { thaw $") == ["$l"]
    assert offered("phase a { thaw $nothing.") == []
    assert offered("phase a { thaw model.layers.0.a{b,") == ["attn"]  # inside a segment: its prefix counts
    assert offered("phase a { thaw model.x{q,") == []  # no segment starts with `x`


def test_except_once_per_thaw() -> None:
    assert "except" in offered("phase a { thaw head.weight ")
    assert "except" not in offered("phase a { thaw model.** except head.weight ")


def test_values_and_table_keys() -> None:
    assert offered("defaults { restore_best = ") == ["true", "false"]
    assert offered("defaults { lr = ") == []
    assert offered("defaults { early_stopping = { ") == list(EARLY_STOPPING_KEYS)
    assert offered("defaults { optimizer = torch.optim.") == []  # dotted names are the user's own


_FRAGMENTS = [
    "fts 1\n",
    'use namespace "ns.json"\n',
    "let layers = model.layers\n",
    "let x = a.{b,c\n",
    "defaults {\n",
    "    lr = 1e-5\n",
    "    optimizer = AdamW(lr = 1e-4, \n",
    "phase head {\n",
    "phase ",
    '"two words" {\n',
    '    thaw $layers.*.mlp.**, a.b except re"x\\.y"\n',
    "    until epoch 2\n",
    "}\n",
    "# a comment { with a brace\n",
    '"an unclosed string\n',
    "    thaw rest\n",
    "phase tail { thaw a.",
    '    early_stopping = { monitor = "val", ',
    "{\n",
    "(\n",
    ")\n",
    "\n",
]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=14))
def test_resuming_at_a_statement_gives_the_place_a_whole_scan_gives(fragments: list[str]) -> None:
    """`cursor_at` starts at the last line that opens a top-level statement, with the state it kept from
    scanning the text above before; at every prefix of a document, typed in order, the place must be the
    one a scan of the whole prefix finds."""
    text = "".join(fragments)
    for end in range(len(text) + 1):
        before = text[:end]
        assert cursor_at(before) == _scanned_whole(before), repr(before)


def _scanned_whole(before: str) -> Cursor:
    scanner = _Scanner(before)
    last = scanner.scan()
    if last is not None and last[0] in ("comment", "string") and not _closed(last):
        return Cursor("none", "")
    typed = last is not None and last[0] in ("word", "pattern", "number")
    return _place(scanner, last[1] if last is not None and typed else "")
