"""Regenerate `src/ftsc/compiler/data/torch_optimizer_state.json`: what state each torch optimizer keeps per
parameter, observed, not assumed.

The memory model (`ftsc.compiler.memory`) never imports torch, so it reads this snapshot. For every public
class of `torch.optim`, this script builds the optimizer on small parameters of 1, 2 and 3 dimensions (float32
and float64), takes two steps, and records each state tensor's shape and dtype as a rule relative to the
parameter (`param`: the parameter's shape; `scalar`; `param[-1]=1`: the shape with its last dimension 1 …;
dtype `param` or a fixed one). A constructor argument is a *switch* when flipping it alone changes the layout
(Adam's `amsgrad`, SGD's `momentum`, RMSprop's `centered`); every combination of an optimizer's switches is
recorded. A class whose state fits no rule (LBFGS keeps one state for the whole optimizer, SparseAdam needs
sparse gradients) is recorded with the reason, so the memory model says so instead of guessing.
`--check` exits 1 when the file is stale.

    python tools/gen_optimizer_state.py [--check]
"""

from __future__ import annotations

import argparse
import inspect
import itertools
import json
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.optim

OUTPUT = (
    Path(__file__).resolve().parents[1] / "src" / "ftsc" / "compiler" / "data" / "torch_optimizer_state.json"
)
# Arguments that choose an implementation or a sign, never what is stored per parameter.
NOT_SWITCHES = frozenset({"params", "lr", "foreach", "fused", "capturable", "differentiable", "maximize"})
SHAPES = {1: [(5,), (7,)], 2: [(4, 6), (3, 5)], 3: [(2, 3, 4), (3, 2, 5)]}
DTYPES = (torch.float32, torch.float64)
ShapeRule = Callable[[tuple[int, ...]], tuple[int, ...] | None]


def _with(shape: tuple[int, ...], axis: int) -> tuple[int, ...] | None:
    if len(shape) < -axis:
        return None
    changed = list(shape)
    changed[axis] = 1
    return tuple(changed)


SHAPE_RULES: dict[str, ShapeRule] = {
    "param": lambda shape: shape,
    "scalar": lambda shape: (),
    "param[-1]=1": lambda shape: _with(shape, -1),
    "param[-2]=1": lambda shape: _with(shape, -2),
}


class Unmodelled(Exception):
    """The optimizer's state is not a per-parameter layout the rules can express."""


def observe(
    cls: type, arguments: dict[str, Any], shape: tuple[int, ...], dtype: torch.dtype
) -> dict[str, Any]:
    """Two steps on two parameters of one shape; the first one's state as {key: (shape, dtype)}."""
    torch.manual_seed(0)
    parameter, other = (torch.nn.Parameter(torch.randn(shape, dtype=dtype)) for _ in range(2))
    optimizer = cls([parameter, other], **arguments)

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = (parameter**2).sum() + (other**3).sum()
        loss.backward()
        return loss

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(2):
            optimizer.step(closure)
    if len(optimizer.state) not in (0, 2):
        raise Unmodelled("it keeps one state for the whole optimizer, not a state per parameter")
    found = {}
    for key, value in optimizer.state.get(parameter, {}).items():
        if not isinstance(value, torch.Tensor):
            found[key] = None  # a Python number: no tensor memory
            continue
        found[key] = (tuple(value.shape), value.dtype)
    return found


def rule_for(
    observed: list[tuple[tuple[int, ...], tuple[int, ...], torch.dtype, torch.dtype]],
) -> dict[str, str]:
    """The one shape rule and dtype rule that explain every (param shape, state shape, param dtype, state
    dtype) observation of a state key."""
    shapes = [name for name, rule in SHAPE_RULES.items() if all(rule(p) == s for p, s, _, _ in observed)]
    if not shapes:
        raise Unmodelled(f"a state shape fits no rule: {sorted({(p, s) for p, s, _, _ in observed})}")
    if all(state == param for _, _, param, state in observed):
        dtype = "param"
    elif len({state for _, _, _, state in observed}) == 1:
        dtype = str(observed[0][3]).removeprefix("torch.")
    else:
        raise Unmodelled("a state dtype follows neither the parameter nor one fixed dtype")
    return {"shape": shapes[0], "dtype": dtype}


def layout(cls: type, arguments: dict[str, Any]) -> dict[str, Any]:
    """The state rules per parameter rank: "1" (rank 0 and 1), "2" (rank 2, and higher unless "3" is
    listed: it is when rank 3 differs). A rank the optimizer refuses (Muon takes matrices) maps to why."""
    by_rank: dict[str, Any] = {}
    for rank, shapes in SHAPES.items():
        seen: dict[str, list[Any]] = {}
        keys: set[tuple[str, ...]] = set()
        for shape, dtype in itertools.product(shapes, DTYPES):
            try:
                state = observe(cls, arguments, shape, dtype)
            except (ValueError, RuntimeError) as exc:
                if rank == 2:
                    raise
                by_rank[str(rank)] = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
                break
            keys.add(tuple(sorted(state)))
            for key, value in state.items():
                if value is not None:
                    seen.setdefault(key, []).append((shape, value[0], dtype, value[1]))
        if str(rank) in by_rank:
            continue
        if len(keys) != 1:
            raise Unmodelled("its state keys change with the parameter's shape or dtype")
        rules = [{"key": key, **rule_for(observed)} for key, observed in sorted(seen.items())]
        by_rank[str(rank)] = rules
    if by_rank["3"] == by_rank["2"]:
        del by_rank["3"]  # "2" stands for every rank >= 2
    return by_rank


def switch_values(cls: type) -> dict[str, Any]:
    """Candidate switches: a bool argument flipped, a numeric argument whose default is 0 set to 0.5."""
    candidates: dict[str, Any] = {}
    for parameter in inspect.signature(cls).parameters.values():
        default = parameter.default
        if parameter.name in NOT_SWITCHES or default is inspect.Parameter.empty:
            continue
        if isinstance(default, bool):
            candidates[parameter.name] = not default
        elif isinstance(default, (int, float)) and default == 0:
            candidates[parameter.name] = 0.5
    return candidates


def describe(cls: type) -> dict[str, Any]:
    try:
        base = layout(cls, {})
    except Unmodelled as exc:
        return {"unmodelled": str(exc)}
    except Exception as exc:  # the class cannot step on dense parameters at all
        return {"unmodelled": f"it cannot step on a dense parameter ({type(exc).__name__}: {exc})"}
    candidates = switch_values(cls)
    defaults = {p.name: p.default for p in inspect.signature(cls).parameters.values() if p.name in candidates}
    switches: dict[str, Any] = {}
    for name, value in candidates.items():
        try:
            if layout(cls, {name: value}) != base:
                switches[name] = value
        except Exception:
            continue  # not valid on its own (SGD's nesterov needs momentum): not a switch by itself
    layouts = []
    for flags in itertools.product((False, True), repeat=len(switches)):
        arguments = {name: value for (name, value), on in zip(switches.items(), flags, strict=True) if on}
        try:
            state = layout(cls, arguments) if arguments else base
        except Exception:
            continue  # an invalid combination
        layouts.append({"switches": sorted(arguments), "state": state})
    return {
        "switches": {
            name: {"default": defaults[name], "kind": "bool" if isinstance(value, bool) else "nonzero"}
            for name, value in switches.items()
        },
        "layouts": layouts,
    }


def snapshot() -> dict[str, Any]:
    names = sorted(
        name
        for name in torch.optim.__all__
        if isinstance(getattr(torch.optim, name), type)
        and issubclass(getattr(torch.optim, name), torch.optim.Optimizer)
        and name != "Optimizer"
    )
    return {
        "torch_version": torch.__version__,
        "generated_by": "tools/gen_optimizer_state.py (two steps on small parameters); do not edit",
        "optimizers": {name: describe(getattr(torch.optim, name)) for name in names},
    }


def render() -> str:
    return json.dumps(snapshot(), indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the snapshot differs from torch")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT} is stale; run tools/gen_optimizer_state.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
