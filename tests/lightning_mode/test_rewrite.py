"""`ftsc.lightning_mode.rewrite`: exact conversions, what is never touched, refusals, round trips."""

from __future__ import annotations

import ast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftsc.lightning_mode.rewrite import (
    MODES,
    STANDALONE_TO_UNIFIED,
    UNIFIED_TO_STANDALONE,
    Change,
    Mode,
    rewrite_bytes,
    rewrite_source,
)

# (unified, standalone): each converts exactly into the other, and each is a fixed point of its own mode.
PAIRS = [
    ("import lightning.pytorch as pl\n", "import pytorch_lightning as pl\n"),
    ("import lightning.fabric as lf\n", "import lightning_fabric as lf\n"),
    ("import lightning.pytorch.callbacks as cb\n", "import pytorch_lightning.callbacks as cb\n"),
    (
        "from lightning.pytorch import Trainer, LightningModule as LM\n",
        "from pytorch_lightning import Trainer, LightningModule as LM\n",
    ),
    (
        "from lightning.pytorch.callbacks import BaseFinetuning\n",
        "from pytorch_lightning.callbacks import BaseFinetuning\n",
    ),
    (
        "from lightning.fabric.utilities.rank_zero import rank_zero_warn\n",
        "from lightning_fabric.utilities.rank_zero import rank_zero_warn\n",
    ),
    ("from lightning.pytorch import *\n", "from pytorch_lightning import *\n"),
    (
        "import os, lightning.pytorch as pl, lightning.fabric as lf, sys\n",
        "import os, pytorch_lightning as pl, lightning_fabric as lf, sys\n",
    ),
    (
        "from lightning.pytorch.callbacks import (\n    BaseFinetuning,  # from lightning.pytorch\n"
        "    Callback as CB,\n)\n",
        "from pytorch_lightning.callbacks import (\n    BaseFinetuning,  # from lightning.pytorch\n"
        "    Callback as CB,\n)\n",
    ),
    (
        "from lightning.pytorch.callbacks \\\n    import Callback\n",
        "from pytorch_lightning.callbacks \\\n    import Callback\n",
    ),
    ("from \\\n  lightning.pytorch import Trainer\n", "from \\\n  pytorch_lightning import Trainer\n"),
    # only the mapped prefix must be written plainly; the rest keeps its spacing
    (
        "from lightning.pytorch . callbacks import Callback\n",
        "from pytorch_lightning . callbacks import Callback\n",
    ),
    (
        "if TYPE_CHECKING:\n    import lightning.pytorch as pl\n",
        "if TYPE_CHECKING:\n    import pytorch_lightning as pl\n",
    ),
    (
        "def f():\n    from lightning.pytorch import Trainer; return Trainer\n",
        "def f():\n    from pytorch_lightning import Trainer; return Trainer\n",
    ),
    (
        "try:\n    import lightning.pytorch as pl\nexcept ImportError:\n    pl = None\n",
        "try:\n    import pytorch_lightning as pl\nexcept ImportError:\n    pl = None\n",
    ),
    (
        "import lightning.pytorch as pl\r\nfrom lightning.fabric import Fabric\r\n",
        "import pytorch_lightning as pl\r\nfrom lightning_fabric import Fabric\r\n",
    ),
    ("x = 'é€'; import lightning.pytorch as pl\n", "x = 'é€'; import pytorch_lightning as pl\n"),
    ("import lightning.pytorch as pl", "import pytorch_lightning as pl"),  # no final newline
]


@pytest.mark.parametrize(("unified", "standalone"), PAIRS)
def test_converts_exactly_both_ways(unified: str, standalone: str) -> None:
    forward = rewrite_source(unified, "standalone")
    assert forward.refusals == ()
    assert forward.text == standalone
    back = rewrite_source(standalone, "unified")
    assert back.refusals == ()
    assert back.text == unified
    fixed_points: list[tuple[str, Mode]] = [(unified, "unified"), (standalone, "standalone")]
    for text, mode in fixed_points:
        again = rewrite_source(text, mode)
        assert (again.text, again.changes, again.refusals) == (text, (), ())


def test_reports_each_change_with_its_line() -> None:
    source = (
        '"""Doc."""\nimport os, lightning.pytorch as pl, lightning.fabric as lf  # note\n\n'
        "def f():\n    from lightning.pytorch.callbacks import (\n        Callback,\n    )\n"
    )
    result = rewrite_source(source, "standalone")
    line2_before = "import os, lightning.pytorch as pl, lightning.fabric as lf  # note"
    line2_after = "import os, pytorch_lightning as pl, lightning_fabric as lf  # note"
    assert result.changes == (
        Change(2, 12, "lightning.pytorch", "pytorch_lightning", line2_before, line2_after),
        Change(2, 37, "lightning.fabric", "lightning_fabric", line2_before, line2_after),
        Change(
            5,
            10,
            "lightning.pytorch.callbacks",
            "pytorch_lightning.callbacks",
            "    from lightning.pytorch.callbacks import (",
            "    from pytorch_lightning.callbacks import (",
        ),
    )
    assert result.changed


UNTOUCHED = '''"""Docs: `import lightning.pytorch as pl`, then from lightning.pytorch import Trainer."""

# from lightning.pytorch.callbacks import Callback
import importlib
import lightning_utilities as lu
import pytorch_lightning_bolts as bolts
from lightningx.pytorch import thing
from . import lightning
from .lightning.pytorch import helper
from ..pytorch_lightning import other

A = "import lightning.pytorch as pl"
B = 'from pytorch_lightning import Trainer'
C = f"{lu} lightning.fabric"
D = b"import lightning_fabric as lf"
E = """
import lightning.pytorch as pl
from lightning_fabric import Fabric
"""
F = importlib.import_module("lightning.pytorch")
G = __import__("pytorch_lightning")


def f():
    """import lightning.pytorch as pl"""
    return "lightning.pytorch"  # lightning.pytorch
'''


@pytest.mark.parametrize("mode", ["unified", "standalone"])
def test_strings_comments_docstrings_and_other_packages_are_never_touched(mode: Mode) -> None:
    result = rewrite_source(UNTOUCHED, mode)
    assert (result.text, result.changes, result.refusals) == (UNTOUCHED, (), ())
    around = UNTOUCHED.replace("import importlib\n", "import importlib\nimport lightning.pytorch as pl\n")
    converted = rewrite_source(around, "standalone")
    assert converted.text == UNTOUCHED.replace(
        "import importlib\n", "import importlib\nimport pytorch_lightning as pl\n"
    )


REFUSED: list[tuple[Mode, str, int, int, str]] = [
    (
        "standalone",
        "import lightning.pytorch\n\nlightning.pytorch.Trainer()\n",
        1,
        8,
        "without `as` binds the name `lightning`",
    ),
    (
        "standalone",
        "import lightning.pytorch.callbacks\n",
        1,
        8,
        "import lightning.pytorch.callbacks as <name>",
    ),
    ("standalone", "import os, lightning.fabric\n", 1, 12, "it becomes `import lightning_fabric as <name>`"),
    ("unified", "import pytorch_lightning\n", 1, 8, "without `as` binds the name `pytorch_lightning`"),
    ("unified", "x = 1\nimport lightning_fabric.utilities\n", 2, 8, "without `as`"),
    ("standalone", "import lightning\n", 1, 8, "unified top-level package `lightning`"),
    ("standalone", "import lightning as L\n", 1, 8, "unified top-level package `lightning`"),
    ("standalone", "from lightning import Trainer\n", 1, 1, "e.g. `from lightning.pytorch import Trainer`"),
    (
        "standalone",
        "from lightning import pytorch as pl\n",
        1,
        1,
        "write `import lightning.pytorch as pl` instead",
    ),
    (
        "standalone",
        "from lightning import fabric\n",
        1,
        1,
        "write `import lightning.fabric as fabric` instead",
    ),
    ("standalone", "import lightning.app as app\n", 1, 8, "`lightning.app` has no standalone counterpart"),
    ("standalone", "from lightning.data import x\n", 1, 1, "`lightning.data` has no standalone counterpart"),
    (
        "standalone",
        "import lightning.pytorch as pl\ntry:\n    import lightning_fabric as lf\nexcept ImportError:\n    lf = None\n",
        3,
        12,
        "mixes unified imports (first at line 1) with standalone ones",
    ),
    (
        "unified",
        "import pytorch_lightning as pl\nimport lightning.fabric as lf\n",
        2,
        8,
        "mixes standalone imports",
    ),
    (
        "standalone",
        "import lightning . pytorch as pl\n",
        1,
        8,
        "write the module name as `lightning.pytorch`",
    ),
    (
        "standalone",
        "from lightning.\\\npytorch import Trainer\n",
        1,
        1,
        "write the module name as `lightning.pytorch`",
    ),
    ("standalone", "import ｌightning.pytorch as pl\n", 1, 8, "look-alike letters"),
    ("unified", "import ｐytorch_lightning as pl\n", 1, 8, "write the module name as `pytorch_lightning`"),
    ("standalone", "x = 1\rimport lightning.pytorch as pl\n", 2, 8, "lone carriage-return"),
    ("standalone", "def broken(:\n    import lightning.pytorch as pl\n", 1, 12, "cannot parse this file"),
    ("unified", "import pytorch_lightning as pl\x00\n", 1, 1, "cannot parse this file"),
]


@pytest.mark.parametrize(("mode", "source", "line", "column", "fragment"), REFUSED)
def test_refuses_what_cannot_be_converted_back(
    mode: Mode, source: str, line: int, column: int, fragment: str
) -> None:
    result = rewrite_source(source, mode)
    assert result.text == source
    assert not result.changed
    assert result.changes == ()
    assert [(refusal.line, refusal.column) for refusal in result.refusals] == [(line, column)]
    assert fragment in result.refusals[0].message


def test_every_refusal_is_reported_and_nothing_is_converted() -> None:
    source = "import lightning.pytorch as pl\nimport lightning.pytorch\nfrom lightning import Trainer\n"
    result = rewrite_source(source, "standalone")
    assert result.text == source
    assert [refusal.line for refusal in result.refusals] == [2, 3]


@pytest.mark.parametrize(
    ("mode", "source"),
    [
        # already in the target form: nothing to convert, so nothing to refuse
        ("unified", "import lightning.pytorch\nimport lightning\nfrom lightning import Trainer\n"),
        ("unified", "import lightning.app as app\nfrom lightning import pytorch as pl\n"),
        ("standalone", "import pytorch_lightning\nimport lightning_fabric.utilities\n"),
        ("standalone", "x = 1\rimport pytorch_lightning as pl\n"),
    ],
)
def test_sources_already_in_the_target_form_are_left_alone(mode: Mode, source: str) -> None:
    result = rewrite_source(source, mode)
    assert (result.text, result.changes, result.refusals) == (source, (), ())


def test_unknown_mode_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="mode must be one of"):
        rewrite_source("", "both")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (b"import lightning.pytorch as pl\r\nx = 1\r\n", "utf-8"),
        (b"\xef\xbb\xbfimport lightning.pytorch as pl\n", "utf-8-sig"),
        (b"# -*- coding: latin-1 -*-\nS = '\xe9'\nimport lightning.pytorch as pl\n", "iso-8859-1"),
    ],
)
def test_bytes_round_trip_keeps_encoding_bom_and_newlines(data: bytes, encoding: str) -> None:
    forward, found = rewrite_bytes(data, "standalone")
    assert found == encoding
    written = forward.text.encode(found)
    assert written == data.replace(b"lightning.pytorch", b"pytorch_lightning")
    back, found_again = rewrite_bytes(written, "unified")
    assert back.text.encode(found_again) == data


def test_undecodable_bytes_are_refused() -> None:
    result, encoding = rewrite_bytes(b"import lightning.pytorch as pl\nS = '\xff'\n", "standalone")
    assert encoding == ""
    assert not result.changed
    assert "cannot read this file as Python source" in result.refusals[0].message


# --- properties: modules generated from a grammar of import forms and filler code -----------------------

SUBMODULES = ["", ".callbacks", ".utilities.rank_zero", ".strategies", ".loggers"]
NAMES = ["Trainer", "Callback", "rank_zero_warn", "seed_everything", "Fabric"]
ALIASES = ["pl", "L", "lf", "cb", "_pl"]
FILLER = [
    ['"""Module docstring: import lightning.pytorch as pl."""'],
    ["# from lightning.pytorch.callbacks import Callback"],
    ['X = "import lightning.pytorch as pl"'],
    ["Y = 'from pytorch_lightning import Trainer'"],
    ['Z = f"{1} lightning.fabric"'],
    ['T = """', "import lightning.pytorch as pl", "from lightning_fabric import Fabric", '"""'],
    ["from .lightning.pytorch import helper"],
    ["from . import pytorch_lightning"],
    ["import lightning_utilities as lu"],
    ["from lightningx.pytorch import thing"],
    ['M = importlib.import_module("lightning.pytorch")'],
    ["value = 1  # lightning.pytorch"],
    ["s = 'été'"],
    ["pass"],
    [""],
]


@st.composite
def import_lines(draw: st.DrawFn, style: Mode) -> list[str]:
    unified = "lightning." + draw(st.sampled_from(["pytorch", "fabric"]))
    prefix = unified if style == "unified" else UNIFIED_TO_STANDALONE[unified]
    module = prefix + draw(st.sampled_from(SUBMODULES))
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True))
    alias = draw(st.sampled_from(ALIASES))
    form = draw(st.integers(0, 8))
    if form == 0:
        return [f"import {module} as {alias}"]
    if form == 1:
        return [f"from {module} import {', '.join(names)}"]
    if form == 2:
        return [f"from {module} import {names[0]} as {alias}"]
    if form == 3:
        return [f"import os, {module} as {alias}, sys"]
    if form == 4:
        return [
            f"from {module} import (",
            *[f"    {name},  # {name} from lightning.pytorch" for name in names],
            ")",
        ]
    if form == 5:
        return [f"from {module} \\", f"    import {names[0]}"]
    if form == 6:
        return [f"import json; from {module}  import  {names[0]}"]
    if form == 7:
        return [f"s = 'é'; import {module} as {alias}  # was: import lightning.pytorch as pl"]
    return [f"from {module} import {names[0]}  # from lightning.pytorch import x"]


@st.composite
def modules(draw: st.DrawFn, style: Mode) -> str:
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 8))):
        chunk = draw(st.one_of(import_lines(style), st.sampled_from(FILLER)))
        header = draw(st.sampled_from([None, "def f():", "if TYPE_CHECKING:", "class C:"]))
        if header is None:
            lines += chunk
        else:
            lines += [header, *("    " + line if line else "" for line in chunk), "    pass"]
    endings = draw(st.sampled_from(["\n", "\r\n", "mixed"]))
    text = ""
    for index, line in enumerate(lines):
        ending = draw(st.sampled_from(["\n", "\r\n"])) if endings == "mixed" else endings
        text += line + (ending if index < len(lines) - 1 or draw(st.booleans()) else "")
    return text


def _map_name(name: str, target: Mode) -> str:
    parts = name.split(".")
    if target == "standalone" and parts[0] == "lightning":
        prefix = ".".join(parts[:2])
        return UNIFIED_TO_STANDALONE[prefix] + name[len(prefix) :]
    if target == "unified" and parts[0] in STANDALONE_TO_UNIFIED:
        return STANDALONE_TO_UNIFIED[parts[0]] + name[len(parts[0]) :]
    return name


class _MapImports(ast.NodeTransformer):
    def __init__(self, target: Mode) -> None:
        self.target = target

    def visit_alias(self, node: ast.alias) -> ast.alias:
        node.name = _map_name(node.name, self.target)
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.ImportFrom:
        if node.level == 0 and node.module:
            node.module = _map_name(node.module, self.target)
        return node


def _absolute_import_roots(text: str) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


PREFIXES = [*UNIFIED_TO_STANDALONE, *STANDALONE_TO_UNIFIED]


def _check_round_trip(original: str, origin: Mode, target: Mode) -> None:
    tree = ast.parse(original)  # the grammar only makes valid modules

    converted = rewrite_source(original, target)
    assert converted.refusals == ()
    # no import of the origin style is left
    origin_roots = {"lightning"} if origin == "unified" else set(STANDALONE_TO_UNIFIED)
    assert not _absolute_import_roots(converted.text) & origin_roots
    # the only semantic difference is the mapped module names (docstrings and strings unchanged) ...
    expected = _MapImports(target).visit(tree)
    assert ast.dump(ast.parse(converted.text)) == ast.dump(expected)
    # ... and the only characters that differ are those of the reported prefixes (comments unchanged)
    assert len(converted.text) == len(original)
    starts = [0]
    for line in original.split("\n"):
        starts.append(starts[-1] + len(line) + 1)
    allowed: set[int] = set()
    for change in converted.changes:
        begin = starts[change.line - 1] + change.column - 1
        prefix = next(p for p in PREFIXES if change.old_module == p or change.old_module.startswith(p + "."))
        allowed |= set(range(begin, begin + len(prefix)))
    differing = {index for index, (a, b) in enumerate(zip(original, converted.text, strict=True)) if a != b}
    assert differing <= allowed
    # idempotent, and exactly reversible
    again = rewrite_source(converted.text, target)
    assert (again.text, again.changes, again.refusals) == (converted.text, (), ())
    back = rewrite_source(converted.text, origin)
    assert back.refusals == ()
    assert back.text == original


@settings(max_examples=150, deadline=None)
@given(modules("unified"))
def test_unified_to_standalone_to_unified_is_the_identity(original: str) -> None:
    _check_round_trip(original, "unified", "standalone")


@settings(max_examples=150, deadline=None)
@given(modules("standalone"))
def test_standalone_to_unified_to_standalone_is_the_identity(original: str) -> None:
    _check_round_trip(original, "standalone", "unified")


@settings(max_examples=200, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("import lightning.pytorch_fabric as()\\,;#'\"\r\n\t é")), max_size=80
    )
)
def test_never_raises_and_a_refused_source_is_returned_unchanged(source: str) -> None:
    for mode in MODES:
        result = rewrite_source(source, mode)
        if result.refusals:
            assert result.text == source
            assert result.changes == ()
        else:
            assert rewrite_source(result.text, mode).text == result.text
