"""YAML with source positions: the tree of an FTS schedule file, each node with its span in the text.

PyYAML's composer gives every node its start and end marks; we keep them as `Span`s (code-point offsets,
what `SourceText` and the renderers use), construct scalars the way FTS's loader does (`yaml.SafeLoader`,
YAML 1.1: `1e-5` is a string, `yes` is true), and keep a mapping's pairs in order, duplicates included.

FTS itself loads schedules with a `SafeLoader` that refuses a repeated key in any mapping, comparing the
constructed keys with `==` (so `1` and `true` collide); W504 reports each repeat where it stands, with
the first occurrence as related information, and the later value wins, as with a plain YAML loader.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from ftsc import codes
from ftsc.diagnostics import Diagnostic, Related, Span, diagnose

MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class YScalar:
    value: object
    span: Span
    plain: bool  # written without quotes or block style, so the source text is the value's text


@dataclass(frozen=True)
class YSeq:
    items: tuple[YNode, ...]
    span: Span


@dataclass(frozen=True)
class YMap:
    pairs: tuple[tuple[YNode, YNode], ...]
    span: Span

    def get(self, key: str) -> tuple[YNode, YNode] | None:
        """The last pair whose key is `key` (a repeated key: the later value wins, as in PyYAML)."""
        found = None
        for pair in self.pairs:
            if isinstance(pair[0], YScalar) and pair[0].value == key:
                found = pair
        return found


YNode = YScalar | YSeq | YMap


@dataclass
class YamlLoad:
    root: YNode | None
    diagnostics: list[Diagnostic]


MAX_ALIAS_EXPANSION = 10_000  # nodes that aliases may copy in, per file


class _Builder:
    """The YNode tree of a composed YAML node. PyYAML composes an alias as the very node its anchor
    names, so the composed graph shares nodes; the tree copies them in where each alias stands. Nested
    aliases grow that copy exponentially (a 339-byte "billion laughs" file is 4.8 million nodes), so at
    most MAX_ALIAS_EXPANSION nodes are built again through aliases before the file is refused (E511)."""

    def __init__(self, loader: yaml.SafeLoader) -> None:
        self.loader = loader
        self.diagnostics: list[Diagnostic] = []
        self._path: set[int] = set()
        self.at: Span = Span(0, 0)  # the scalar being constructed, for a ValueError PyYAML lets escape
        self._built: set[int] = set()
        self._copied = 0  # nodes built again through an alias

    def build(self, node: yaml.Node) -> YNode:
        span = Span(node.start_mark.index, node.end_mark.index)
        if id(node) in self._path:
            raise _Unsupported("an alias that refers to itself (a recursive structure)", span)
        if not isinstance(node, yaml.ScalarNode) and node.tag not in self.loader.yaml_constructors:
            raise _Refused(f"could not determine a constructor for the tag {node.tag!r}", span)
        if id(node) in self._built:
            self._copied += 1
            if self._copied > MAX_ALIAS_EXPANSION:
                raise _Unsupported(
                    f"aliases copy in more than {MAX_ALIAS_EXPANSION:,} YAML nodes (this anchored value is "
                    "one of them): each alias stands for a full copy of its anchor's value, so nested "
                    "aliases grow exponentially; write the values out, or use fewer levels of aliases",
                    span,
                )
        else:
            self._built.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            self.at = span
            value = self.loader.construct_object(node, deep=True)
            return YScalar(value, span, node.style is None)
        self._path.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return YSeq(tuple(self.build(item) for item in node.value), span)
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, span)
        finally:
            self._path.discard(id(node))
        raise _Unsupported(f"an unexpected YAML node ({type(node).__name__})", span)

    def _mapping(self, node: yaml.MappingNode, span: Span) -> YMap:
        pairs: list[tuple[YNode, YNode]] = []
        seen: list[tuple[object, YScalar]] = []
        for key_node, value_node in node.value:
            key = self.build(key_node)
            if key_node.tag == MERGE_TAG:
                raise _Unsupported("a YAML merge key (`<<`): write the keys out", key.span)
            if isinstance(key, YScalar):
                first = next((other for value, other in seen if _same_key(value, key.value)), None)
                if first is not None:
                    self.diagnostics.append(duplicate_key(key, first))
                seen.append((key.value, key))
            pairs.append((key, self.build(value_node)))
        return YMap(tuple(pairs), span)


def _same_key(first: object, second: object) -> bool:
    """FTS's loader compares keys with `==` (`key not in mapping`); unhashable keys never collide here."""
    try:
        return bool(first == second)
    except Exception:  # an exotic constructed value: not our concern
        return False


def duplicate_key(key: YScalar, first: YScalar, note: str = "") -> Diagnostic:
    return diagnose(
        codes.FTS_DUPLICATE_KEY,
        f"key `{key.value}` is given more than once in this mapping{note}: FTS refuses the whole file "
        "(`Duplicate key … found in supplied schedule`); the later value is used here",
        key.span,
        related=[Related(first.span, f"`{first.value}` is first given here")],
    )


class _Unsupported(Exception):
    def __init__(self, message: str, span: Span) -> None:
        super().__init__(message)
        self.message = message
        self.span = span


class _Refused(_Unsupported):
    """What FTS's safe loader refuses too (a `!!python/…` tag on a mapping): E510, like a syntax error."""


def load_yaml(text: str) -> YamlLoad:
    """The YAML tree of `text` with spans; a syntax error is E510, a structure we do not follow E511.

    What PyYAML cannot read without crashing is E510 too: a control character, nesting deeper than its
    recursive composer follows, an integer of more digits than Python converts, an impossible date.
    """
    too_deep = _flow_too_deep(text)
    if too_deep is not None:
        message = f"not valid YAML here: nested more than {MAX_FLOW_NESTING} levels deep"
        return YamlLoad(None, [diagnose(codes.FTS_BAD_YAML, message, Span(too_deep, too_deep + 1))])
    try:
        loader = yaml.SafeLoader(text)  # the reader checks the characters here
    except yaml.YAMLError as exc:
        at = getattr(exc, "position", 0)  # a ReaderError: the offset of the character
        return YamlLoad(
            None, [diagnose(codes.FTS_BAD_YAML, f"not valid YAML: {_first_line(exc)}", Span(at, at + 1))]
        )
    try:
        return _load(loader)
    except RecursionError:
        message = "not valid YAML here: nested too deeply (lists or mappings hundreds of levels deep)"
        return YamlLoad(None, [diagnose(codes.FTS_BAD_YAML, message, Span(0, 0))])
    finally:
        loader.dispose()


MAX_FLOW_NESTING = 200  # `[` / `{` inside each other; PyYAML's composer recurses about 3 frames a level
_FLOW_BRACKETS = re.compile(r"[\[\]{}]")


def _flow_too_deep(text: str) -> int | None:
    """The offset of the bracket that opens flow nesting level MAX_FLOW_NESTING + 1, if one does: refused
    before PyYAML scans thousands of levels only to overflow the stack."""
    depth = 0
    for bracket in _FLOW_BRACKETS.finditer(text):
        if bracket.group() in "[{":
            depth += 1
            if depth > MAX_FLOW_NESTING:
                return bracket.start()
        else:
            depth = max(depth - 1, 0)
    return None


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def _load(loader: yaml.SafeLoader) -> YamlLoad:
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = mark.index if mark is not None else 0
        problem = exc.problem or exc.context or "invalid YAML"
        return YamlLoad(None, [diagnose(codes.FTS_BAD_YAML, f"not valid YAML: {problem}", Span(at, at + 1))])
    except yaml.YAMLError as exc:  # a reader error (e.g. a control character) has no mark
        return YamlLoad(None, [diagnose(codes.FTS_BAD_YAML, f"not valid YAML: {exc}", Span(0, 0))])
    if node is None:
        return YamlLoad(None, [])
    builder = _Builder(loader)
    try:
        root = builder.build(node)
    except _Refused as exc:
        refused = diagnose(codes.FTS_BAD_YAML, f"not valid YAML: {exc.message}", exc.span)
        return YamlLoad(None, [*builder.diagnostics, refused])
    except _Unsupported as exc:
        return YamlLoad(None, [*builder.diagnostics, diagnose(codes.FTS_BAD_SCHEDULE, exc.message, exc.span)])
    except yaml.YAMLError as exc:  # a scalar the constructor refuses (e.g. an unknown tag)
        mark = getattr(exc, "problem_mark", None)
        at = mark.index if mark is not None else 0
        return YamlLoad(None, [diagnose(codes.FTS_BAD_YAML, f"not valid YAML: {exc}", Span(at, at + 1))])
    except ValueError as exc:  # a date that does not exist, an integer of thousands of digits
        message = f"not valid YAML: a value PyYAML cannot read ({_first_line(exc)})"
        return YamlLoad(None, [diagnose(codes.FTS_BAD_YAML, message, builder.at)])
    return YamlLoad(root, builder.diagnostics)
