"""The VS Code snippets, expanded with their defaults (and each choice), make schedules that compile."""

from __future__ import annotations

import json
import re

import pytest
from editor_paths import VSCODE

from ftsc.compiler.files import compile_file
from ftsc.compiler.namespace import Namespace

SNIPPETS: dict[str, dict[str, object]] = json.loads((VSCODE / "snippets" / "fts.json").read_text("utf-8"))
NAMESPACE = Namespace.from_names(
    [
        "model.embeddings.word.weight",
        *(f"model.encoder.layer.{i}.{part}" for i in range(12) for part in ("attn.weight", "mlp.weight")),
        "model.classifier.weight",
        "model.classifier.bias",
    ]
)

_PLACEHOLDER = re.compile(r"\$\{\d+:([^${}]*)\}")  # innermost first: its default holds no other one
_CHOICE = re.compile(r"\$\{\d+\|([^|]*)\|\}")
_TABSTOP = re.compile(r"(?<!\\)\$\d+")


def expand(name: str, choice: int = 0) -> str:
    """What inserting snippet `name` types when every placeholder is accepted as it is (`choice`: which
    option of each choice, the last one where a choice has fewer)."""
    body = SNIPPETS[name]["body"]
    assert isinstance(body, list)
    text = "\n".join(body)
    text = _CHOICE.sub(lambda match: match.group(1).split(",")[min(choice, match.group(1).count(","))], text)
    while _PLACEHOLDER.search(text):
        text = _PLACEHOLDER.sub(r"\1", text)
    text = _TABSTOP.sub("", text).replace("\\$", "$")
    assert "$" not in text.replace("$layers", ""), f"{name}: unexpanded snippet syntax in {text!r}"
    return text


# One schedule made of the snippets, in this order; `rest`'s statements go inside a phase of their own.
TOP_LEVEL = ["Schedule header", "Let", "Defaults", "Phase", "Phase with lr"]
IN_REST = ["Thaw the rest", "Optimizer reinit", "Scheduler reinit"]


def schedule(choice: int) -> str:
    top = [expand(name, choice) for name in TOP_LEVEL]
    return "\n".join([*top, "phase rest {", *(expand(name, choice) for name in IN_REST), "}"])


def test_the_expansion_reads_snippet_syntax() -> None:
    assert expand("Optimizer reinit") == "optimizer = AdamW(lr = 1e-5, weight_decay = 0.01)"
    assert expand("Optimizer reinit", 2) == "optimizer = SGD(lr = 1e-5, weight_decay = 0.01)"
    assert "thaw $layers.{8..11}.**" in expand("Phase with lr")


@pytest.mark.parametrize("choice", [0, 1, 2])
def test_the_snippets_together_compile_cleanly(choice: int) -> None:
    text = schedule(choice)
    result = compile_file(text, None, NAMESPACE)
    # `thaw rest except model.embeddings.**` keeps the embeddings frozen, which W208 says: nothing else.
    [(code, message)] = [(d.code, d.message) for d in result.diagnostics]
    assert (code, "model.embeddings.word.weight" in message) == ("W208", True), text
    assert result.plan is not None
    phases = result.plan["phases"]
    assert isinstance(phases, list)
    assert [phase["name"] for phase in phases] == ["head", "upper", "rest"]


def test_the_thaw_snippet_compiles_in_a_phase() -> None:
    text = f"phase {{\n{expand('Thaw')}\n}}\nphase {{ thaw rest }}\n"
    result = compile_file(text, None, NAMESPACE)
    assert [(d.code, d.message) for d in result.diagnostics] == []
    assert result.plan is not None
    phases = result.plan["phases"]
    assert isinstance(phases, list)
    assert phases[0]["params"] == ["model.classifier.weight"]


def test_every_snippet_is_exercised() -> None:
    assert sorted(SNIPPETS) == sorted([*TOP_LEVEL, *IN_REST, "Thaw"])
