"""Where completion thinks the cursor is, on half-typed text, and what it offers there (no server: these
are the many small cases the server tests would take minutes for)."""

from __future__ import annotations

import pytest
from lsprotocol import types

from ftsc.compiler.namespace import Namespace
from ftsc.compiler.settings import EARLY_STOPPING_KEYS
from ftsc.lsp.completion import complete, split_pattern
from ftsc.lsp.cursor import cursor_at

NAMESPACE = Namespace.from_names(
    [f"model.layers.{i}.{part}.weight" for i in range(3) for part in ("attn", "mlp")] + ["head.weight"]
)


def offered(before: str) -> list[str]:
    def edit_range(replaced: str) -> types.Range:
        return types.Range(types.Position(0, len(before) - len(replaced)), types.Position(0, len(before)))

    return [item.label for item in complete(cursor_at(before), NAMESPACE, [], edit_range)]


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
