"""Rewrite the Lightning import statements of one Python source between the unified and standalone forms.

The unified `lightning` distribution ships Lightning as `lightning.pytorch` and `lightning.fabric`; the
standalone distributions ship the same code as `pytorch_lightning` and `lightning_fabric`. This module
maps the module names of import statements between the two, and nothing else:

    import lightning.pytorch as pl              <->  import pytorch_lightning as pl
    from lightning.pytorch.callbacks import X   <->  from pytorch_lightning.callbacks import X
    from lightning.fabric.utilities import Y    <->  from lightning_fabric.utilities import Y

Import statements are found with `ast` (so strings, comments and docstrings that mention
`lightning.pytorch` are never touched) and located exactly with `tokenize`; only the characters of the
mapped prefix of the module name are replaced. Both spellings of each prefix have the same length, so
every other byte of the file, including its line endings, stays where it was.

The guarantee is that a file this module accepts round-trips: unified -> standalone -> unified (and the
other way round) gives back the original text exactly, and converting a file already in the target form
changes nothing. Import forms for which that cannot hold are refused, with the line and a way out, and a
refused file is returned unchanged:

- `import lightning.pytorch` (or `import pytorch_lightning`) without `as`: the statement binds the top-level
  name and the code then refers to `lightning.pytorch.X`, which is code, not an import, and is not
  rewritten. Write `import lightning.pytorch as pl` and use `pl.X`.
- `import lightning`, `from lightning import Trainer`, `from lightning import pytorch as pl` and other
  `lightning.*` packages (converting to standalone only): the unified top-level package has no standalone
  counterpart, and `from lightning import pytorch as pl` would have to become `import pytorch_lightning
  as pl`, which converts back to a different statement.
- A file with both unified and standalone imports: converting it would merge the two, which cannot be
  undone. Make it one style, or exclude the file (a deliberate `try: import lightning.pytorch ... except
  ImportError: import pytorch_lightning ...` fallback module belongs in the exclusions).
- A mapped prefix spelled with spaces, comments or a line continuation inside it (`lightning . pytorch`),
  or with non-ASCII look-alike letters: it could only be converted back in its plain spelling.
- A file with lone carriage-return line endings, or one that does not parse.

Dynamic imports (`importlib.import_module("lightning.pytorch")`, `__import__`) are strings and are not
rewritten. Relative imports (`from .lightning import x`) are the project's own modules and are left alone.
"""

from __future__ import annotations

import ast
import io
import itertools
import re
import tokenize
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "MODES",
    "STANDALONE_TO_UNIFIED",
    "UNIFIED_TO_STANDALONE",
    "Change",
    "Mode",
    "Refusal",
    "Rewrite",
    "decode_source",
    "rewrite_bytes",
    "rewrite_source",
]

Mode = Literal["unified", "standalone"]
MODES: tuple[Mode, ...] = ("unified", "standalone")

UNIFIED_TO_STANDALONE: dict[str, str] = {
    "lightning.pytorch": "pytorch_lightning",
    "lightning.fabric": "lightning_fabric",
}
STANDALONE_TO_UNIFIED: dict[str, str] = {new: old for old, new in UNIFIED_TO_STANDALONE.items()}

_UNIFIED_ROOT = "lightning"
# The second component of each mapped unified prefix: lightning.pytorch, lightning.fabric.
_UNIFIED_SUBPACKAGES = frozenset(name.split(".")[1] for name in UNIFIED_TO_STANDALONE)
_LONE_CR = re.compile(r"\r(?!\n)")


@dataclass(frozen=True)
class Change:
    """One rewritten module name. Lines and columns are 1-based; columns count code points."""

    line: int
    column: int
    old_module: str  # the full module name before, e.g. "lightning.pytorch.callbacks"
    new_module: str  # and after, e.g. "pytorch_lightning.callbacks"
    old_line: str  # the physical line before, without its line ending
    new_line: str  # the same line after the whole file was rewritten


@dataclass(frozen=True)
class Refusal:
    """An import statement that cannot be converted reversibly, and what to do about it."""

    line: int
    column: int
    message: str


@dataclass(frozen=True)
class Rewrite:
    """The outcome for one source: `text` is the new source (the original one when anything is refused)."""

    source: str
    text: str
    changes: tuple[Change, ...]
    refusals: tuple[Refusal, ...]

    @property
    def changed(self) -> bool:
        return self.text != self.source


@dataclass(frozen=True)
class _Site:
    """One module name in an absolute import statement that names a Lightning package."""

    module: str  # as `ast` reports it: dotted, NFKC-normalised, no spaces
    line: int  # where the module name starts (Import) or the `from` keyword is (ImportFrom)
    byte_column: int  # UTF-8 byte offset, as `ast` reports columns
    is_from: bool  # `from M import ...` rather than `import M ...`
    bound_as: str | None  # for `import M as name`: the name; None for a bare `import M` and for `from`
    imported: tuple[str, ...]  # for `from M import a, b`: the names

    @property
    def parts(self) -> list[str]:
        return self.module.split(".")

    @property
    def is_unified(self) -> bool:
        return self.parts[0] == _UNIFIED_ROOT

    @property
    def is_standalone(self) -> bool:
        return self.parts[0] in STANDALONE_TO_UNIFIED

    def statement(self) -> str:
        """The statement in its plain spelling, for messages."""
        if self.is_from:
            return f"from {self.module} import {', '.join(self.imported)}"
        return f"import {self.module}" + (f" as {self.bound_as}" if self.bound_as else "")


def decode_source(data: bytes) -> tuple[str, str]:
    """Decode a Python file as Python does (BOM, coding cookie, default UTF-8): `(text, encoding)`.

    Raises `SyntaxError` for a bad cookie, `UnicodeDecodeError` for undecodable bytes and `ValueError`
    when encoding the text again would not give back the same bytes (so the file could not be written
    back unchanged except for the imports).
    """
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    text = data.decode(encoding)
    if text.encode(encoding) != data:
        raise ValueError(f"the {encoding} text does not encode back to the same bytes")
    return text, encoding


def rewrite_bytes(data: bytes, mode: Mode) -> tuple[Rewrite, str]:
    """`rewrite_source` for the bytes of a file: `(rewrite, encoding)`; encode `rewrite.text` to write it.

    A file that cannot be decoded is refused (and left as it is), not raised.
    """
    try:
        text, encoding = decode_source(data)
    except (SyntaxError, UnicodeDecodeError, ValueError, LookupError) as exc:  # LookupError: `rot13`
        text = data.decode("utf-8", errors="replace")
        return Rewrite(text, text, (), (Refusal(1, 1, f"cannot read this file as Python source: {exc}"),)), ""
    return rewrite_source(text, mode), encoding


def rewrite_source(source: str, mode: Mode) -> Rewrite:
    """Convert the Lightning imports of `source` to `mode` ("unified" or "standalone").

    Pure: no file system, no imports of Lightning. Never raises on bad input: a source that does not parse,
    or any import that cannot be converted reversibly, comes back as refusals with the text unchanged.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError) as exc:  # ValueError: null bytes, on some Python versions
        line = getattr(exc, "lineno", None) or 1
        column = getattr(exc, "offset", None) or 1
        message = getattr(exc, "msg", None) or str(exc)
        return _refused(source, [Refusal(line, column, f"cannot parse this file: {message}")])

    sites = list(_sites(tree))
    to_convert = [site for site in sites if (site.is_unified if mode == "standalone" else site.is_standalone)]
    if not to_convert:
        return Rewrite(source, source, (), ())
    already = [site for site in sites if (site.is_standalone if mode == "standalone" else site.is_unified)]

    refusals: list[Refusal] = []
    lines = _physical_lines(source)
    if already:
        first, other = already[0], to_convert[0]
        refusals.append(
            Refusal(
                first.line,
                _column(lines, first),
                f"this file mixes {_style(other)} imports (first at line {other.line}) with {_style(first)}"
                f" ones (first here); converting it to {mode} would merge them and could not be undone: make"
                " the file one style, or exclude it if it deliberately supports both",
            )
        )
    for site in to_convert:
        problem = _form_problem(site, mode)
        if problem:
            refusals.append(Refusal(site.line, _column(lines, site), problem))
    if not refusals and _LONE_CR.search(source):
        site = to_convert[0]
        refusals.append(
            Refusal(
                site.line,
                _column(lines, site),
                "this file has lone carriage-return (old Mac) line endings; convert them to \\n or \\r\\n"
                " first",
            )
        )
    if refusals:
        return _refused(source, refusals)

    try:
        tokens = list(tokenize.generate_tokens(_readline(lines)))
    except (tokenize.TokenError, SyntaxError) as exc:
        return _refused(source, [Refusal(to_convert[0].line, 1, f"cannot tokenize this file: {exc}")])
    by_position = {
        (token.start[0], _byte_column(lines, token.start)): index
        for index, token in enumerate(tokens)
        if token.type == tokenize.NAME
    }
    line_starts = _line_starts(lines)

    edits: list[tuple[int, int, str, _Site, tuple[int, int]]] = []
    for site in to_convert:
        located = _locate(tokens, by_position, site)
        if isinstance(located, str):
            refusals.append(Refusal(site.line, _column(lines, site), located))
            continue
        prefix, replacement = located
        start, end = prefix[0].start, prefix[-1].end
        begin = line_starts[start[0] - 1] + start[1]
        finish = line_starts[end[0] - 1] + end[1]
        edits.append((begin, finish, replacement, site, start))
    if refusals:
        return _refused(source, refusals)

    text = source
    for begin, finish, replacement, _, _ in sorted(edits, key=lambda edit: edit[0], reverse=True):
        text = text[:begin] + replacement + text[finish:]
    new_lines = _physical_lines(text)
    changes = []
    for _, _, replacement, site, (row, column) in sorted(edits, key=lambda edit: edit[0]):
        new_module = replacement + site.module[len(_mapped_prefix(site, mode)) :]
        changes.append(
            Change(
                row,
                column + 1,
                site.module,
                new_module,
                lines[row - 1].rstrip("\r\n"),
                new_lines[row - 1].rstrip("\r\n"),
            )
        )
    return Rewrite(source, text, tuple(changes), ())


def _refused(source: str, refusals: list[Refusal]) -> Rewrite:
    ordered = sorted(set(refusals), key=lambda refusal: (refusal.line, refusal.column, refusal.message))
    return Rewrite(source, source, (), tuple(ordered))


def _sites(tree: ast.AST) -> Iterator[_Site]:
    """Every module name of an absolute import statement whose top-level package is a Lightning one."""
    roots = {_UNIFIED_ROOT, *STANDALONE_TO_UNIFIED}
    nodes = [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]
    for node in sorted(nodes, key=lambda node: (node.lineno, node.col_offset)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in roots:
                    yield _Site(alias.name, alias.lineno, alias.col_offset, False, alias.asname, ())
        elif node.level == 0 and node.module and node.module.split(".")[0] in roots:
            imported = tuple(
                alias.name + (f" as {alias.asname}" if alias.asname else "") for alias in node.names
            )
            yield _Site(node.module, node.lineno, node.col_offset, True, None, imported)


def _style(site: _Site) -> str:
    return "unified" if site.is_unified else "standalone"


def _mapped_prefix(site: _Site, mode: Mode) -> str:
    """The part of the module name that is replaced: `lightning.pytorch`, `pytorch_lightning`, ..."""
    return ".".join(site.parts[:2]) if mode == "standalone" else site.parts[0]


def _form_problem(site: _Site, mode: Mode) -> str | None:
    """Why this import cannot be converted reversibly to `mode`, or None."""
    parts = site.parts
    if mode == "standalone":
        if parts == [_UNIFIED_ROOT] and site.is_from:
            lightning_modules = [name for name in site.imported if name.split(" ")[0] in _UNIFIED_SUBPACKAGES]
            if lightning_modules:
                name = lightning_modules[0].split(" ")[0]
                alias = lightning_modules[0].split(" as ")[-1]
                return (
                    f"`from lightning import {name}` has no standalone form that converts back to it; write"
                    f" `import lightning.{name} as {alias}` instead"
                )
            return (
                f"`{site.statement()}` imports from the unified top-level package `lightning`, which the"
                " standalone packages do not provide; import from `lightning.pytorch` or `lightning.fabric`"
                " instead (e.g. `from lightning.pytorch import Trainer`)"
            )
        if parts == [_UNIFIED_ROOT]:
            return (
                f"`{site.statement()}` imports the unified top-level package `lightning`, which the"
                " standalone packages do not provide; import `lightning.pytorch` or `lightning.fabric` with"
                " `as` instead (e.g. `import lightning.pytorch as pl`)"
            )
        if parts[1] not in _UNIFIED_SUBPACKAGES:
            return (
                f"`{site.statement()}`: `lightning.{parts[1]}` has no standalone counterpart; only"
                " lightning.pytorch <-> pytorch_lightning and lightning.fabric <-> lightning_fabric are"
                " converted"
            )
    if not site.is_from and site.bound_as is None:
        new = _convert_name(site.module, mode)
        return (
            f"`import {site.module}` without `as` binds the name `{parts[0]}`, so the code refers to the"
            f" module as `{site.module}.…`; those references are code, not imports, and are not rewritten."
            f" Write `import {site.module} as <name>` and use `<name>.…` (it becomes"
            f" `import {new} as <name>`)"
        )
    return None


def _convert_name(module: str, mode: Mode) -> str:
    parts = module.split(".")
    if mode == "standalone":
        prefix = ".".join(parts[:2])
        return UNIFIED_TO_STANDALONE.get(prefix, prefix) + module[len(prefix) :]
    return STANDALONE_TO_UNIFIED.get(parts[0], parts[0]) + module[len(parts[0]) :]


def _locate(
    tokens: list[tokenize.TokenInfo], by_position: dict[tuple[int, int], int], site: _Site
) -> tuple[list[tokenize.TokenInfo], str] | str:
    """The tokens of the mapped prefix of the site's module name and its replacement, or why not."""
    index = by_position.get((site.line, site.byte_column))
    if index is not None and site.is_from:
        index = index + 1 if tokens[index].string == "from" and index + 1 < len(tokens) else None
    if index is None or tokens[index].type != tokenize.NAME:
        return (
            f"could not find the module name `{site.module}` in the tokens of this statement"
            " (a bug: please report it)"
        )
    name = [tokens[index]]
    while (
        index + 2 < len(tokens)
        and tokens[index + 1].type == tokenize.OP
        and tokens[index + 1].string == "."
        and tokens[index + 2].type == tokenize.NAME
    ):
        name += tokens[index + 1 : index + 3]
        index += 2
    written = ".".join(unicodedata.normalize("NFKC", token.string) for token in name[::2])
    if written != site.module:
        return (
            f"the tokens of this statement spell `{written}`, not `{site.module}` (a bug: please report it)"
        )

    prefix = name[:3] if site.is_unified else name[:1]
    plain = ".".join(site.parts[: len(prefix[::2])])
    spelled = "".join(token.string for token in prefix)
    adjacent = all(left.end == right.start for left, right in itertools.pairwise(prefix))
    if spelled != plain or not adjacent:
        return (
            f"write the module name as `{plain}` (no spaces, comments, line continuation or look-alike"
            " letters inside it), so that the conversion can be undone exactly"
        )
    mapping = UNIFIED_TO_STANDALONE if site.is_unified else STANDALONE_TO_UNIFIED
    return prefix, mapping[plain]


def _physical_lines(source: str) -> list[str]:
    """The lines as Python's tokenizer numbers them (split after each "\\n"; "\\r\\n" stays together)."""
    lines = source.split("\n")
    result = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        result.append(lines[-1])
    return result


def _line_starts(lines: list[str]) -> list[int]:
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    return starts


def _readline(lines: list[str]) -> Callable[[], str]:
    iterator = iter(lines)

    def readline() -> str:
        return next(iterator, "")

    return readline


def _byte_column(lines: list[str], position: tuple[int, int]) -> int:
    row, column = position
    if row > len(lines):
        return column
    return len(lines[row - 1][:column].encode("utf-8"))


def _column(lines: list[str], site: _Site) -> int:
    """1-based code-point column of a site, from the byte column `ast` gives."""
    if site.line > len(lines):
        return site.byte_column + 1
    return len(lines[site.line - 1].encode("utf-8")[: site.byte_column].decode("utf-8", errors="replace")) + 1
