"""Which namespace (and adapter) a document is compiled against, when it does not say itself.

Order: `use namespace "…"` in the document (compile_file resolves it); else `[tool.ftsc]` in the nearest
`pyproject.toml` above the document (`namespaces = { "glob" = "path" }`, first matching glob wins,
globs and paths relative to that pyproject's folder; `adapter = "…"`); else the client setting
`ftsc.namespace` (a relative path: see `setting_base`); else none (the compiler then reports one I404
and runs every other check).
"""

from __future__ import annotations

import fnmatch
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftsc.compiler import Namespace, NamespaceError
from ftsc.compiler.files import load_cached
from ftsc.io import read_input

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10: tomli when installed, else no pyproject association
    try:
        import tomli as tomllib
    except ImportError:
        tomllib = None

PYPROJECT = "pyproject.toml"


@dataclass(frozen=True)
class ProjectConfig:
    """`[tool.ftsc]` of one pyproject.toml."""

    root: Path
    namespaces: tuple[tuple[str, str], ...] = ()
    adapter: str | None = None
    problem: str | None = None  # the table could not be read: why


@dataclass
class Association:
    """What to compile a document with; `problem` is a namespace named by configuration that failed."""

    namespace: Namespace | None = None
    adapter: str | None = None
    source: str = "none"  # "pyproject", "setting" or "none"
    origin: str | None = None  # the namespace path, for messages
    problem: str | None = None
    notes: list[str] = field(default_factory=list)


_PROJECTS: dict[str, tuple[int, int, ProjectConfig | None]] = {}


def find_pyproject(document: Path) -> Path | None:
    """The nearest pyproject.toml in a folder holding `document`."""
    for folder in document.parents:
        candidate = folder / PYPROJECT
        if candidate.is_file():
            return candidate
    return None


def project_config(pyproject: Path) -> ProjectConfig | None:
    """`[tool.ftsc]` of `pyproject` (None: it has none), re-read only when the file changes."""
    try:
        stat = pyproject.stat()
    except OSError:
        return None
    key = str(pyproject)
    cached = _PROJECTS.get(key)
    if cached is not None and cached[:2] == (stat.st_size, stat.st_mtime_ns):
        return cached[2]
    config = _read_project(pyproject)
    _PROJECTS[key] = (stat.st_size, stat.st_mtime_ns, config)
    return config


def _read_project(pyproject: Path) -> ProjectConfig | None:
    root = pyproject.parent
    if tomllib is None:
        return None
    try:
        data = tomllib.loads(read_input(pyproject).decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return ProjectConfig(root, problem=f"{pyproject}: cannot read ({exc})")
    tool = data.get("tool")
    table = tool.get("ftsc") if isinstance(tool, dict) else None
    if not isinstance(table, dict):
        return None
    namespaces = table.get("namespaces", {})
    adapter = table.get("adapter")
    if not isinstance(namespaces, dict) or not all(isinstance(v, str) for v in namespaces.values()):
        return ProjectConfig(root, problem=f"{pyproject}: [tool.ftsc] namespaces must map globs to paths")
    if adapter is not None and not isinstance(adapter, str):
        return ProjectConfig(root, problem=f"{pyproject}: [tool.ftsc] adapter must be a string")
    return ProjectConfig(root, tuple((str(k), str(v)) for k, v in namespaces.items()), adapter)


def matching_namespace(config: ProjectConfig, document: Path) -> str | None:
    """The namespace path of the first glob that matches the document (relative to the project root;
    `*` also crosses `/`, so `*.fts` matches every schedule below the root)."""
    try:
        relative = document.relative_to(config.root).as_posix()
    except ValueError:
        return None
    for pattern, target in config.namespaces:
        if fnmatch.fnmatchcase(relative, pattern) or fnmatch.fnmatchcase(document.name, pattern):
            return target
    return None


def _load(path: Path) -> tuple[Namespace | None, str | None]:
    try:
        return load_cached(path), None
    except NamespaceError as exc:
        return None, str(exc)


def associate(document: Path | None, setting: str | None, setting_base: Path) -> Association:
    """The namespace and adapter for a document that has no `use namespace` of its own."""
    association = Association()
    if document is not None:
        pyproject = find_pyproject(document)
        config = project_config(pyproject) if pyproject is not None else None
        if config is not None:
            if config.problem is not None:
                association.notes.append(config.problem)
            association.adapter = config.adapter
            target = matching_namespace(config, document)
            if target is not None:
                path = config.root / Path(target).expanduser()
                association.namespace, association.problem = _load(path)
                association.source, association.origin = "pyproject", str(pyproject)
                if association.problem is not None:
                    association.problem += f" (from [tool.ftsc] namespaces in {pyproject})"
                return association
    if setting:
        path = setting_path(setting, setting_base)
        association.namespace, association.problem = _load(path)
        association.source, association.origin = "setting", str(path)
        if association.problem is not None:
            association.problem += " (from the ftsc.namespace setting)"
    return association


def setting_path(setting: str, base: Path) -> Path:
    """The namespace file the `ftsc.namespace` setting names; a relative one is relative to `base`."""
    path = Path(setting).expanduser()
    return path if path.is_absolute() else base / path


def setting_base(document: Path | None, workspace_folders: list[Path]) -> Path:
    """What a relative `ftsc.namespace` is relative to, for one document: the workspace folder holding it
    (the innermost, in a multi-root window), else the first workspace folder; with no workspace (Neovim
    or Helix outside a project), the document's own folder; an unsaved document in a window with no
    folder has only the server's working directory. Never the editor's working directory otherwise:
    the same setting must name the same file whichever folder the editor was started in."""
    if document is not None:
        resolved = document.resolve()
        holding = [folder for folder in workspace_folders if resolved.is_relative_to(folder)]
        if holding:
            return max(holding, key=lambda folder: len(folder.parts))
    if workspace_folders:
        return workspace_folders[0]
    return document.parent if document is not None else Path.cwd()


def setting_from(options: Any) -> tuple[str | None, bool]:
    """`ftsc.namespace` from initializationOptions or didChangeConfiguration settings, accepting both
    `{"ftsc": {"namespace": …}}` and a flat `{"namespace": …}`; (value, whether the key was present)."""
    if not isinstance(options, dict):
        return None, False
    scoped = options.get("ftsc")
    table = scoped if isinstance(scoped, dict) else options
    if "namespace" not in table:
        return None, False
    value = table["namespace"]
    return (value if isinstance(value, str) and value else None), True
