"""Fail on any import cycle among ftsc's modules, so that the packages stay one-way stairs.

Every import of an ftsc module counts, wherever it is written: at the top of a module, inside a function
(a lazy import is an arrow that is merely taken later) and under `if TYPE_CHECKING:` (a type checker
follows it, and so does a reader). `from package import name` points at the submodule when `name` is
one, else at the package. The graph is read from the source with `ast`; nothing is imported.

Prints one cycle of each knot of modules as `a -> b -> a` and exits 1 when there is one (but for a
cycle inside a package listed in KNOWN, which an open issue is removing); with
`--packages`, first the arrows between packages as the rows of docs/architecture.md's table. `make lint`
runs it:

    python tools/import_cycles.py [--packages] [SRC]
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT_PACKAGE = "ftsc"

# Cycles inside one package that an open issue is removing: reported, not failed on, until they are gone;
# then the entry must go too (a package listed here without a cycle fails the check).
KNOWN: dict[str, str] = {}  # package -> the open issue removing a cycle inside it (none today)


def modules_in(src: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of ROOT_PACKAGE under `src` (packages by __init__)."""
    found: dict[str, Path] = {}
    for path in sorted((src / ROOT_PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The ftsc modules that module `name` (at `path`) imports, anywhere in its body."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets.update(
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names
            )
    return {_owner(target, known) for target in targets if target.split(".")[0] == ROOT_PACKAGE} - {name}


def _owner(target: str, known: dict[str, Path]) -> str:
    """The module a dotted name lives in (`ftsc.io.atomic_write_text` -> `ftsc.io`)."""
    while target not in known and "." in target:
        target = target.rpartition(".")[0]
    return target


def import_graph(src: Path) -> dict[str, set[str]]:
    known = modules_in(src)
    return {name: imports_of(name, path, known) for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One shortest cycle through each knot (`knots`), from its first module back to it."""
    return [_shortest_cycle(graph, knot) for knot in knots(graph)]


def knots(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted: every module of
    one reaches every other through imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:  # the graph is a few hundred modules: recursion depth is no concern
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(components)


def _shortest_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """A shortest path from the component's first module back to itself, inside the component."""
    members = set(component)
    start = component[0]
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(graph[node] & members):
                if target == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if target not in came_from:
                    came_from[target] = node
                    following.append(target)
        frontier = following
    raise AssertionError(f"{start} is in a cycle but no path returns to it")


def package_of(module: str) -> str:
    """`ftsc.compiler.patterns.trie` -> `compiler`; top-level modules (`ftsc.io`) are their own."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def package_rows(graph: dict[str, set[str]]) -> list[str]:
    """One Markdown table row per package: `| `runtime` | `adapters`, `compiler`, … |` (architecture.md)."""
    arrows: defaultdict[str, set[str]] = defaultdict(set)
    for module, targets in graph.items():
        for target in targets:
            if package_of(module) != package_of(target):
                arrows[package_of(module)].add(package_of(target))
    return [
        f"| `{package}` | {', '.join(f'`{target}`' for target in sorted(targets))} |"
        for package, targets in sorted(arrows.items())
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("src", nargs="?", type=Path, default=Path(__file__).parent.parent / "src")
    parser.add_argument(
        "--packages", action="store_true", help="also print the arrows between packages, as table rows"
    )
    args = parser.parse_args(argv)
    graph = import_graph(args.src)
    if args.packages:
        print("\n".join(package_rows(graph)))
    found = knots(graph)
    failed = 0
    for knot in found:
        reason = next((why for package, why in KNOWN.items() if _inside(knot, package)), None)
        failed += reason is None
        cycle = _shortest_cycle(graph, knot)
        others = [module for module in knot if module not in cycle]
        more = f" (the same knot holds {', '.join(others)})" if others else ""
        print("import cycle: " + " -> ".join(cycle) + more + (f"  [known: {reason}]" if reason else ""))
    for package in KNOWN:
        if any(_inside([module], package) for module in graph) and not any(
            _inside(cycle, package) for cycle in found
        ):
            failed += 1
            print(f"no import cycle left in {package}: delete its entry from KNOWN in tools/import_cycles.py")
    edges = sum(len(targets) for targets in graph.values())
    print(f"{len(graph)} modules, {edges} imports, {len(found)} import cycles, {failed} failing")
    return 1 if failed else 0


def _inside(modules: list[str], package: str) -> bool:
    return all(module.startswith(package + ".") for module in modules)


if __name__ == "__main__":
    sys.exit(main())
