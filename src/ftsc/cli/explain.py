"""`ftsc explain FILE|PLAN`: a table with one row per phase, from a schedule or a compiled plan."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from ftsc import codes
from ftsc.cli.common import (
    EXIT_ERRORS,
    EXIT_OK,
    UsageError,
    adapter_option,
    adapter_warnings,
    add_adapter_option,
    add_memory_options,
    add_namespace_option,
    compile_one,
    memory_overrides,
    namespace_option,
    use_color,
)
from ftsc.cli.report import render
from ftsc.compiler import Namespace
from ftsc.compiler.memory.budget import estimate_plan
from ftsc.compiler.plan import PlanError, read_plan

Plan = dict[str, Any]
_MEMORY_CODES = frozenset(
    code.code for code in (codes.OUT_OF_MEMORY, codes.ACTIVATIONS_OVER_MEMORY, codes.MEMORY_NOT_ESTIMATED)
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE|PLAN")
    add_namespace_option(parser)
    add_adapter_option(parser)
    parser.add_argument(
        "--memory", action="store_true", help="a table of each phase's memory per device (docs/memory.md)"
    )
    parser.add_argument(
        "--all-ranks", action="store_true", help="with --memory: a row per rank, not the fullest"
    )
    parser.add_argument(
        "--memory-png",
        metavar="PATH",
        help="write a picture of each phase's memory and what it thaws (matplotlib)",
    )
    add_memory_options(parser)


def run(args: argparse.Namespace) -> int:
    namespace = namespace_option(args.namespace)
    wants_memory = args.memory or args.memory_png is not None
    overrides = memory_overrides(args)
    memory, budget, notes, report = None, None, "", None
    thaws: Sequence[Iterable[int]] = []
    if args.file.endswith(".json"):
        plan = _read_plan(args.file)
        if wants_memory:
            if namespace is None:
                raise UsageError(
                    "--memory with a plan needs --namespace (the shapes and dtypes of its names)"
                )
            budget, memory, problems = estimate_plan(plan, namespace, overrides or {})
            for problem in problems:
                print(
                    f"ftsc: {problem.severity.name.lower()}[{problem.code}]: {problem.message}",
                    file=sys.stderr,
                )
            thaws = [
                [namespace.index[n] for n in phase["params"] if n in namespace.index]
                for phase in plan["phases"]
            ]
    else:
        with adapter_warnings():
            report, result = compile_one(
                args.file,
                namespace,
                adapter_option(args.adapter),
                (overrides or {}) if wants_memory else overrides,
            )
        over_budget = wants_memory and result.memory is not None  # E701 drops the plan, not the table
        if result.plan is None and not over_budget:
            sys.stderr.write(render([report], "human", color=use_color("auto", sys.stderr)))
            print("ftsc: cannot explain a schedule that does not compile", file=sys.stderr)
            return EXIT_ERRORS
        if wants_memory:
            shown = tuple(d for d in report.diagnostics if d.code in _MEMORY_CODES)
            notes = render([replace(report, diagnostics=shown)], "human", color=use_color("auto", sys.stderr))
        plan = result.plan or {}
        memory, budget, thaws = result.memory, result.memory_budget, result.canonical_params
        if namespace is None:
            namespace = result.namespace  # the schedule's `use namespace`: the plan's names are its names
    if not wants_memory:
        sys.stdout.write(explain(plan, namespace))
        return EXIT_OK
    if memory is None or namespace is None:
        print("ftsc: no memory estimate (see the notes above)", file=sys.stderr)
        return EXIT_ERRORS
    from ftsc.cli.memory_view import memory_table, write_png

    sys.stdout.write(memory_table(memory, budget, all_ranks=args.all_ranks))
    sys.stdout.flush()
    if notes.strip():
        sys.stderr.write("\n" + notes)
    if args.memory_png:
        title = f"{namespace.model or args.file}: memory per phase"
        try:
            write_png(args.memory_png, memory, budget, namespace, thaws, title)
        except ImportError:
            raise UsageError("--memory-png needs matplotlib: pip install matplotlib") from None
        print(f"wrote {args.memory_png}", file=sys.stderr)
    return (
        EXIT_ERRORS
        if any(d.code == codes.OUT_OF_MEMORY.code for d in (report.diagnostics if report else ()))
        else EXIT_OK
    )


def _read_plan(name: str) -> Plan:
    try:
        return read_plan(name)
    except PlanError as exc:
        raise UsageError(str(exc)) from None


def explain(plan: Plan, namespace: Namespace | None) -> str:
    """The table: index, name, parameter count (and elements when shapes are known), epochs, lr, classes."""
    settings = plan["settings"]
    headers = ["#", "phase", "params", "elements", "until epoch", "lr", "optimizer / lr scheduler"]
    rows = []
    for phase in plan["phases"]:
        rows.append(
            [
                str(phase["index"]),
                phase["name"] if phase["name"] is not None else "-",
                str(len(phase["params"])),
                _elements(namespace, phase["params"], phase.get("elements")),
                str(phase["max_transition_epoch"]) if phase["max_transition_epoch"] >= 0 else "-",
                _lr(phase, settings),
                _classes(phase, settings),
            ]
        )
    if all(row[3] == "?" for row in rows):
        headers.pop(3)
        for row in rows:
            row.pop(3)
    widths = [max(len(headers[i]), *(len(row[i]) for row in rows)) if rows else len(headers[i])
              for i in range(len(headers))]  # fmt: skip
    numeric = {"#", "params", "elements", "until epoch"}
    lines = [_row(headers, widths, numeric, headers)]
    lines.append("  ".join("-" * width for width in widths))
    lines.extend(_row(row, widths, numeric, headers) for row in rows)
    frozen = plan["frozen"]
    elements = _elements(namespace, frozen, plan.get("frozen_elements"))
    suffix = f" ({elements} elements)" if elements != "?" and frozen else ""
    lines.append("")
    lines.append(f"never thawed: {len(frozen)} parameter{'s' if len(frozen) != 1 else ''}{suffix}")
    return "\n".join(lines) + "\n"


def _row(cells: list[str], widths: list[int], numeric: set[str], headers: list[str]) -> str:
    parts = [
        cell.rjust(width) if header in numeric else cell.ljust(width)
        for cell, width, header in zip(cells, widths, headers, strict=True)
    ]
    return "  ".join(parts).rstrip()


def _elements(namespace: Namespace | None, names: list[str], recorded: int | None) -> str:
    """Elements in `names`: from the namespace when given, else as the plan recorded them (plan version 2)."""
    total = namespace.total_numel(names) if namespace is not None else recorded
    return "?" if total is None else f"{total:,}"


def _lr(phase: Plan, settings: Plan) -> str:
    if phase["index"] == 0:
        return "(module's)"
    if phase["lr"] is not None:
        return f"{phase['lr']:g}"
    return f"{settings['lr']:g} (default)"


def _classes(phase: Plan, settings: Plan) -> str:
    optimizer = phase["optimizer"] or (settings["optimizer"] if phase["index"] > 0 else None)
    scheduler = phase["lr_scheduler"] or (settings["lr_scheduler"] if phase["index"] > 0 else None)
    if optimizer is None and scheduler is None:
        return "-"
    names = [_short(optimizer) if optimizer else "(same)", _short(scheduler) if scheduler else "(same)"]
    return " / ".join(names)


def _short(value: Plan) -> str:
    return str(value["class_path"]).rpartition(".")[2]
