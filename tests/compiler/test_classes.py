"""Static class resolution against the real torch: the reader must agree with `inspect.signature`."""

from __future__ import annotations

import ast
import importlib.machinery
import inspect
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ftsc.compiler import classes
from ftsc.compiler.classes import (
    ArgumentProblem,
    ClassInfo,
    Kind,
    Parameter,
    bindings,
    check_arguments,
    known_class_names,
    resolve_class,
)

torch = pytest.importorskip("torch")


def public_classes(kind: Kind) -> dict[str, type]:
    """Enumerate torch's public optimizers / lr schedulers by importing torch (the ground truth)."""
    if kind == "optimizer":
        module: Any = torch.optim
        bases: tuple[type, ...] = (torch.optim.Optimizer,)
    else:
        module = torch.optim.lr_scheduler
        bases = (torch.optim.lr_scheduler.LRScheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
    found = {name: getattr(module, name) for name in module.__all__}
    return {n: c for n, c in found.items() if isinstance(c, type) and issubclass(c, bases)}


def inspected(cls: type) -> tuple[Parameter, ...]:
    return tuple(
        Parameter(p.name, p.kind.name.lower(), p.default is not inspect.Parameter.empty)  # type: ignore[arg-type]
        for p in inspect.signature(cls).parameters.values()
    )


KINDS: tuple[Kind, ...] = ("optimizer", "lr_scheduler")
ALL_CLASSES: list[tuple[Kind, str]] = [(kind, name) for kind in KINDS for name in public_classes(kind)]


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    classes.clear_caches()
    yield
    classes.clear_caches()


def resolved(name: str, kind: Kind) -> ClassInfo:
    lookup = resolve_class(name, kind)
    assert lookup.info is not None, lookup.problem
    return lookup.info


# ----------------------------------------------------------------------------------------------------
# Static reading agrees with the installed torch


@pytest.mark.parametrize(("kind", "name"), ALL_CLASSES)
def test_static_signature_matches_inspect(kind: Kind, name: str) -> None:
    info = resolved(name, kind)
    assert info.parameters == inspected(public_classes(kind)[name])
    assert info.category == kind
    assert info.source == "installed"
    assert info.qualname == f"{classes.HOME_MODULES[kind]}.{name}"


@pytest.mark.parametrize("kind", ["optimizer", "lr_scheduler"])
def test_known_class_names_are_torchs_public_classes(kind: Kind) -> None:
    assert known_class_names(kind) == tuple(sorted(public_classes(kind)))


def test_enumeration_is_not_trivial() -> None:
    assert {"AdamW", "SGD", "Adam"} <= set(public_classes("optimizer"))
    assert {"StepLR", "CosineAnnealingLR", "ReduceLROnPlateau"} <= set(public_classes("lr_scheduler"))


def test_dotted_torch_names_resolve_as_written() -> None:
    info = resolved("torch.optim.lr_scheduler.StepLR", "lr_scheduler")
    assert info.qualname == "torch.optim.lr_scheduler.StepLR"
    assert info.parameters == inspected(torch.optim.lr_scheduler.StepLR)
    assert resolved("torch.optim.adamw.AdamW", "optimizer").parameters == inspected(torch.optim.AdamW)


# ----------------------------------------------------------------------------------------------------
# The bundled snapshot


def test_snapshot_agrees_with_installed_torch() -> None:
    data = json.loads(classes.SNAPSHOT_PATH.read_text(encoding="utf-8"))
    assert data["torch_version"] == torch.__version__, "regenerate with tools/gen_torch_signatures.py"
    for kind in ("optimizer", "lr_scheduler"):
        assert set(data[kind]) == set(public_classes(kind)), "regenerate with tools/gen_torch_signatures.py"
        for name, cls in public_classes(kind).items():
            entry = data[kind][name]
            assert entry["category"] == kind
            snap = [Parameter(p["name"], p["kind"], p["has_default"]) for p in entry["parameters"]]
            assert tuple(snap) == inspected(cls), f"stale snapshot entry for {name}"


@pytest.fixture
def torch_source_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the path finder blind to torch, as in an environment without it."""
    real = importlib.machinery.PathFinder.find_spec

    def find_spec(name: str, path: Any = None, target: Any = None) -> Any:
        if name == "torch" or name.startswith("torch."):
            return None
        return real(name, path, target)

    monkeypatch.setattr(importlib.machinery.PathFinder, "find_spec", find_spec)
    classes.clear_caches()


@pytest.mark.usefixtures("torch_source_missing")
@pytest.mark.parametrize(("kind", "name"), ALL_CLASSES)
def test_snapshot_fallback_when_torch_source_is_missing(kind: Kind, name: str) -> None:
    info = resolved(name, kind)
    assert info.source == "snapshot"
    assert info.category == kind
    assert info.parameters == inspected(public_classes(kind)[name])


@pytest.mark.usefixtures("torch_source_missing")
def test_snapshot_fallback_errors_and_names() -> None:
    assert known_class_names("optimizer") == tuple(sorted(public_classes("optimizer")))
    assert resolve_class("AdamWW", "optimizer").suggestions[0] == "AdamW"
    assert resolve_class("StepLR", "optimizer").problem == "`StepLR` is an lr scheduler, not an optimizer"
    dotted = resolved("torch.optim.lr_scheduler.StepLR", "lr_scheduler")
    assert (dotted.source, dotted.qualname) == ("snapshot", "torch.optim.lr_scheduler.StepLR")
    assert classes.snapshot_torch_version() == torch.__version__


# ----------------------------------------------------------------------------------------------------
# Class-name problems


@pytest.mark.parametrize(
    ("name", "kind", "suggestion"),
    [
        ("AdamWW", "optimizer", "AdamW"),
        ("adamw", "optimizer", "AdamW"),
        ("sgd", "optimizer", "SGD"),
        ("CosineAnnealingLr", "lr_scheduler", "CosineAnnealingLR"),
        ("StepLr", "lr_scheduler", "StepLR"),
        ("torch.optim.AdamWW", "optimizer", "torch.optim.AdamW"),
    ],
)
def test_unknown_class_did_you_mean(name: str, kind: Kind, suggestion: str) -> None:
    lookup = resolve_class(name, kind)
    assert lookup.info is None
    assert lookup.problem is not None and f"`{name.rpartition('.')[2]}`" in lookup.problem
    assert lookup.suggestions[0] == suggestion


def test_unknown_class_message() -> None:
    assert resolve_class("AdamWW", "optimizer").problem == "no class `AdamWW` in torch.optim"


@pytest.mark.parametrize(
    ("name", "kind", "problem"),
    [
        ("StepLR", "optimizer", "`StepLR` is an lr scheduler, not an optimizer"),
        ("AdamW", "lr_scheduler", "`AdamW` is an optimizer, not an lr scheduler"),
        ("torch.optim.lr_scheduler.StepLR", "optimizer", "`StepLR` is an lr scheduler, not an optimizer"),
        ("torch.optim.SGD", "lr_scheduler", "`SGD` is an optimizer, not an lr scheduler"),
    ],
)
def test_kind_mismatch(name: str, kind: Kind, problem: str) -> None:
    assert resolve_class(name, kind) == classes.Lookup(None, problem, ())


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("not_a_pkg_ftsc_xyz.optim.Lion", "module `not_a_pkg_ftsc_xyz` is not installed"),
        ("torch.optim.nope.Lion", "module `torch.optim.nope` cannot be found"),
        ("torch.optim.lr_scheduler", "`torch.optim.lr_scheduler` is a module, not a class"),
        ("torch.optim.adam.adam", "no class `adam` in torch.optim.adam"),
        ("Adam W", "`Adam W` is not a class name"),
        ("Tensor", "no class `Tensor` in torch.optim"),  # not public in torch.optim
    ],
)
def test_unresolvable_names(name: str, problem: str) -> None:
    lookup = resolve_class(name, "optimizer")
    assert (lookup.info, lookup.problem) == (None, problem)


def test_private_base_in_home_module_still_resolves() -> None:
    info = resolved("_LRScheduler", "lr_scheduler")
    assert info.parameters == inspected(torch.optim.lr_scheduler._LRScheduler)


# ----------------------------------------------------------------------------------------------------
# Keyword arguments


def test_good_arguments_pass() -> None:
    assert check_arguments(resolved("AdamW", "optimizer"), ["lr", "weight_decay"], "optimizer") == []
    assert check_arguments(resolved("StepLR", "lr_scheduler"), ["step_size", "gamma"], "lr_scheduler") == []


def test_unknown_keyword_did_you_mean() -> None:
    problems = check_arguments(resolved("AdamW", "optimizer"), ["lr", "weight_decy"], "optimizer")
    assert problems == [
        ArgumentProblem("weight_decy", "`AdamW` has no parameter `weight_decy`", "weight_decay")
    ]


def test_unknown_keyword_without_close_match() -> None:
    (problem,) = check_arguments(resolved("SGD", "optimizer"), ["zzzz"], "optimizer")
    assert (problem.argument, problem.suggestion) == ("zzzz", None)


def test_missing_required_argument() -> None:
    problems = check_arguments(resolved("StepLR", "lr_scheduler"), ["gamma"], "lr_scheduler")
    assert problems == [ArgumentProblem(None, "`StepLR` requires `step_size`", None)]


def test_injected_first_parameter_is_not_reported_missing() -> None:
    for kind, name in ALL_CLASSES:
        problems = check_arguments(resolved(name, kind), [], kind)
        injected = "params" if kind == "optimizer" else "optimizer"
        assert not any(f"`{injected}`" in p.message for p in problems), (name, problems)


def test_keyword_for_injected_parameter_is_an_error() -> None:
    (problem,) = check_arguments(resolved("AdamW", "optimizer"), ["params"], "optimizer")
    assert problem.argument == "params"
    assert "supplied by the runtime" in problem.message
    (problem,) = check_arguments(
        resolved("StepLR", "lr_scheduler"), ["optimizer", "step_size"], "lr_scheduler"
    )
    assert problem.argument == "optimizer"


def test_injected_parameter_is_not_suggested() -> None:
    (problem,) = check_arguments(
        resolved("StepLR", "lr_scheduler"), ["step_size", "optimiser"], "lr_scheduler"
    )
    assert problem.suggestion is None


def test_chained_scheduler_injects_optimizer_by_name() -> None:
    problems = check_arguments(resolved("ChainedScheduler", "lr_scheduler"), [], "lr_scheduler")
    assert [p.message for p in problems] == ["`ChainedScheduler` requires `schedulers`"]


def test_var_keyword_accepts_anything() -> None:
    info = ClassInfo(
        "mypkg.Opt",
        (Parameter("params", "positional_or_keyword", False), Parameter("kw", "var_keyword", False)),
        "optimizer",
        "installed",
    )
    assert check_arguments(info, ["anything", "at_all"], "optimizer") == []


def test_positional_only_and_keyword_only() -> None:
    info = ClassInfo(
        "mypkg.Opt",
        (
            Parameter("params", "positional_only", False),
            Parameter("scale", "positional_only", False),
            Parameter("lr", "keyword_only", False),
        ),
        "optimizer",
        "installed",
    )
    messages = [p.message for p in check_arguments(info, ["scale"], "optimizer")]
    assert messages == [
        "`scale` of `Opt` is positional-only and cannot be given by name",
        "`Opt` requires positional argument `scale`, which schedules cannot give",
        "`Opt` requires `lr`",
    ]


# ----------------------------------------------------------------------------------------------------
# User classes, read without importing them


def write_package(root: Path, name: str, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / name / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


@pytest.fixture
def user_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    name = "ftsc_fixture_userpkg"
    write_package(
        tmp_path,
        name,
        {
            "__init__.py": 'raise RuntimeError("the package must not be imported")\n',
            "base.py": """
                import torch
                from torch.optim import Optimizer

                class BaseOpt(Optimizer):
                    '''A docstring with a line at column 0:
                class NotAClass:
                    '''

                    def __init__(self, params, lr, *, betas=(0.9, 0.99), **extra):
                        super().__init__(params, dict(lr=lr))

                class BaseSched(torch.optim.lr_scheduler.LRScheduler):
                    def __init__(self, optimizer, warmup, last_epoch=-1):
                        super().__init__(optimizer, last_epoch)
            """,
            "optim/__init__.py": "from .lion import Lion as Lion\nfrom ..base import BaseSched as Warmup\n",
            "optim/lion.py": """
                from __future__ import annotations
                from .. import base as _base

                class _Middle(_base.BaseOpt):
                    pass

                class Lion(_Middle):
                    '''Inherits its __init__ from BaseOpt, two modules away.'''
            """,
            "inherits.py": "from torch.optim import SGD\n\nclass MySGD(SGD):\n    pass\n",
            "star.py": "from .base import *  # noqa: F403\n",
            "odd.py": """
                import dataclasses
                from typing import overload

                @dataclasses.dataclass
                class Config:
                    lr: float

                class Over:
                    @overload
                    def __init__(self, params, lr: float) -> None: ...
                    @overload
                    def __init__(self, params, lr: str) -> None: ...
                    def __init__(self, params, lr, /, momentum=0.0, *args): ...

                if True:
                    class Conditional:
                        def __init__(self, params, x=1): ...

                TEXT = f'''
                class NotReal:
                '''
            """,
            "plain.py": """
                from not_installed_ftsc_xyz import Mystery

                class Unknown(Mystery):
                    pass

                class Plain:
                    pass
            """,
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


def test_user_class_resolves_statically_without_import(user_package: str) -> None:
    info = resolved(f"{user_package}.optim.Lion", "optimizer")
    assert info.qualname == f"{user_package}.optim.Lion"
    assert info.category == "optimizer"
    assert info.source == "installed"
    assert info.parameters == (
        Parameter("params", "positional_or_keyword", False),
        Parameter("lr", "positional_or_keyword", False),
        Parameter("betas", "keyword_only", True),
        Parameter("extra", "var_keyword", False),
    )
    assert check_arguments(info, ["betas", "anything"], "optimizer") == [
        ArgumentProblem(None, "`Lion` requires `lr`", None)
    ]
    assert not any(m == user_package or m.startswith(f"{user_package}.") for m in sys.modules)


def test_user_scheduler_through_reexport(user_package: str) -> None:
    info = resolved(f"{user_package}.optim.Warmup", "lr_scheduler")
    assert info.category == "lr_scheduler"
    assert [p.name for p in info.parameters] == ["optimizer", "warmup", "last_epoch"]
    assert resolve_class(f"{user_package}.optim.Warmup", "optimizer").problem == (
        "`Warmup` is an lr scheduler, not an optimizer"
    )
    assert user_package not in sys.modules


def test_user_class_with_unresolvable_base_is_permissive(user_package: str) -> None:
    info = resolved(f"{user_package}.plain.Unknown", "optimizer")
    assert info.category == "unknown"
    assert check_arguments(info, ["whatever"], "optimizer") == []


def test_user_class_typos(user_package: str) -> None:
    lookup = resolve_class(f"{user_package}.optim.Lino", "optimizer")
    assert lookup.problem == f"no class `Lino` in {user_package}.optim"
    assert lookup.suggestions == (f"{user_package}.optim.Lion",)
    assert resolve_class(f"{user_package}.nope.Lion", "optimizer").problem == (
        f"module `{user_package}.nope` cannot be found"
    )
    assert user_package not in sys.modules


def test_star_imports_and_odd_classes(user_package: str) -> None:
    assert resolved(f"{user_package}.star.BaseOpt", "optimizer").category == "optimizer"
    config = resolved(f"{user_package}.odd.Config", "optimizer")  # @dataclass: __init__ not visible
    assert (config.category, check_arguments(config, ["lr"], "optimizer")) == ("unknown", [])
    over = resolved(f"{user_package}.odd.Over", "optimizer")
    assert over.parameters == (
        Parameter("params", "positional_only", False),
        Parameter("lr", "positional_only", False),
        Parameter("momentum", "positional_or_keyword", True),
        Parameter("args", "var_positional", False),
    )
    assert [p.name for p in resolved(f"{user_package}.odd.Conditional", "optimizer").parameters] == [
        "params",
        "x",
    ]
    assert resolve_class(f"{user_package}.odd.NotReal", "optimizer").problem == (
        f"no class `NotReal` in {user_package}.odd"
    )
    assert user_package not in sys.modules


def test_whole_module_parse_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bindings, "_collect_chunks", lambda source, module: False)
    for kind, name in ALL_CLASSES:
        assert resolved(name, kind).parameters == inspected(public_classes(kind)[name])


def test_user_class_inheriting_torch_init_without_torch_source(
    user_package: str, torch_source_missing: None
) -> None:
    info = resolved(f"{user_package}.plain.Plain", "optimizer")
    assert (info.category, info.parameters) == ("unknown", ())
    # A base from torch.optim (not installed here) is read from the snapshot.
    info = resolved(f"{user_package}.inherits.MySGD", "optimizer")
    assert (info.category, info.source) == ("optimizer", "snapshot")
    assert info.parameters == inspected(torch.optim.SGD)


# ----------------------------------------------------------------------------------------------------
# The chunked reader agrees with a whole-module parse


def test_chunked_reading_matches_whole_parse() -> None:
    optim_dir = Path(torch.optim.__file__).parent
    for path in sorted(optim_dir.glob("*.py")):
        source = path.read_text(encoding="utf-8")
        chunked = bindings.Module("m", False, source)
        assert bindings._collect_chunks(source, chunked), path
        whole = bindings.Module("m", False, source)
        bindings._collect(bindings._parse_text(source) or [], whole, nested=False)
        assert describe(chunked) == describe(whole), path
        for binding in chunked.names.values():
            if isinstance(binding, bindings.ClassSource):
                node = binding.node()
                assert node is not None, (path, binding.name)
                assert class_dump(binding)[1] == header_dump(node), (path, binding.name)


def describe(module: Any) -> tuple[Any, ...]:
    names = {
        name: class_dump(b) if isinstance(b, bindings.ClassSource) else repr(b)
        for name, b in module.names.items()
    }
    return names, module.all_names, module.star_imports


def class_dump(source: Any) -> tuple[str, str]:
    """The whole class, and what its cheap header parse says about decorators and bases."""
    node, header = source.node(), source.header()
    return ast.dump(node), header_dump(header)


def header_dump(node: ast.ClassDef) -> str:
    return "|".join(ast.dump(part) for part in [*node.decorator_list, *node.bases, *node.keywords])


# ----------------------------------------------------------------------------------------------------
# Cheapness


def test_lookups_do_not_import_torch() -> None:
    code = (
        "import sys; from ftsc.compiler.classes import resolve_class; "
        "assert resolve_class('AdamW','optimizer').info; "
        "assert resolve_class('StepLR','lr_scheduler').info; "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_optimizer_lookup_does_not_read_lr_scheduler_source(monkeypatch: pytest.MonkeyPatch) -> None:
    read: list[str] = []
    real = bindings._read_source

    def spy(path: Path) -> str | None:
        read.append(path.name)
        return real(path)

    monkeypatch.setattr(bindings, "_read_source", spy)
    resolve_class("AdamW", "optimizer")
    assert "lr_scheduler.py" not in read
    resolve_class("StepLR", "lr_scheduler")
    assert "lr_scheduler.py" in read
    read.clear()
    resolve_class("AdamW", "optimizer")
    resolve_class("StepLR", "lr_scheduler")
    assert read == []  # cached
