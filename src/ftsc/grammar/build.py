"""Turn lark's parse tree into the typed syntax tree of `ftsc.grammar.ast`.

Tokens the parser invented while recovering have an empty value; they become `None` here.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from lark import Token, Tree

from ftsc.diagnostics import Span
from ftsc.grammar import ast


def build_schedule(tree: Tree[Any], text: str) -> ast.Schedule:
    items: list[ast.Item] = []
    phase_index = 0
    for child in tree.children:
        if not isinstance(child, Tree):
            continue
        item = _item(child, phase_index, text)
        if item is None:
            continue
        if isinstance(item, ast.Phase):
            phase_index += 1
        items.append(item)
    return ast.Schedule(tuple(items), len(text))


def _item(tree: Tree[Any], phase_index: int, text: str) -> ast.Item | None:
    kind = tree.data
    span = _tree_span(tree)
    if kind == "header":
        return ast.Header(_number(_token(tree, 0)), span)
    if kind == "use_namespace":
        return ast.UseNamespace(_string(_token(tree, 0)), span, _namespace_at(_subtree(tree, "namespace_at")))
    if kind == "use_adapter":
        name = _real(_token(tree, 0))
        options = _subtree(tree, "table")
        return ast.UseAdapter(
            name.value if name else None,
            _token_span(name) if name else None,
            _table(options) if options is not None else None,
            span,
        )
    if kind == "let":
        name = _real(_token(tree, 0))
        if name is None:
            return None
        pattern = _real(_token(tree, 1))
        if pattern is not None and pattern.value == "re" and text.startswith('"', pattern.end_pos or 0):
            pattern = None  # `let g = re"…"`: reported as a syntax error; do not bind the pattern `re`
        selector = _selector_from_token(pattern) if pattern is not None else None
        return ast.Let(name.value, _token_span(name), selector, span)
    if kind == "defaults":
        settings = tuple(_setting(child) for child in _subtrees(tree, "setting"))
        keyword = Span(span.start, span.start + len("defaults"))
        return ast.Defaults(tuple(s for s in settings if s is not None), span, keyword)
    if kind == "phase":
        return _phase(tree, phase_index, span)
    return None


def _phase(tree: Tree[Any], index: int, span: Span) -> ast.Phase:
    name: str | None = None
    name_span: Span | None = None
    name_tree = _subtree(tree, "phase_name")
    if name_tree is not None:
        token = _real(_token(name_tree, 0))
        if token is not None:
            name = string_value(token) if token.type == "STRING" else token.value
            name_span = _token_span(token)
    thaws: list[ast.Thaw] = []
    untils: list[ast.Until] = []
    settings: list[ast.Setting] = []
    for child in tree.children:
        if not isinstance(child, Tree):
            continue
        if child.data == "thaw":
            thaws.append(_thaw(child))
        elif child.data == "until":
            untils.append(ast.Until(_number(_token(child, 0)), _tree_span(child)))
        elif child.data == "setting":
            setting = _setting(child)
            if setting is not None:
                settings.append(setting)
    brace = _header_end(tree, span)
    return ast.Phase(
        index, name, name_span, Span(span.start, brace), tuple(thaws), tuple(untils), tuple(settings), span
    )


def _header_end(tree: Tree[Any], span: Span) -> int:
    """End of the phase header (`phase name {`): the end of the name, or of the keyword, plus the brace."""
    name_tree = _subtree(tree, "phase_name")
    if name_tree is not None and not name_tree.meta.empty:
        return int(name_tree.meta.end_pos)
    return span.start + len("phase")


def _thaw(tree: Tree[Any]) -> ast.Thaw:
    span = _tree_span(tree)
    selectors = _selectors(_subtree(tree, "selectors"))
    except_tree = _subtree(tree, "except")
    excepts = _selectors(_subtree(except_tree, "selectors")) if except_tree is not None else ()
    return ast.Thaw(selectors, excepts, span, Span(span.start, span.start + len("thaw")))


def _selectors(tree: Tree[Any] | None) -> tuple[ast.Selector, ...]:
    if tree is None:
        return ()
    found = []
    for child in _subtrees(tree, "selector"):
        token = _real(_token(child, 0))
        if token is not None:
            found.append(_selector_from_token(token))
    return tuple(found)


def _selector_from_token(token: Token) -> ast.Selector:
    span = _token_span(token)
    if token.type == "STRING":
        return ast.Selector("exact", string_value(token), span, Span(span.start + 1, span.end - 1))
    if token.type == "REGEX":
        body = token.value[3:-1]
        return ast.Selector("regex", _regex_value(body), span, Span(span.start + 3, span.end - 1))
    if token.type == "REST":
        return ast.Selector("rest", "rest", span, span)
    return ast.Selector("pattern", token.value, span, span)


def _setting(tree: Tree[Any]) -> ast.Setting | None:
    name = _real(_token(tree, 0))
    if name is None:
        return None
    value = _value(tree.children[1]) if len(tree.children) > 1 else None
    return ast.Setting(name.value, _token_span(name), value, _tree_span(tree))


def _value(node: Any) -> ast.Value | None:
    if not isinstance(node, Tree):
        return None
    span = _tree_span(node)
    kind = node.data
    if kind == "number":
        return _number(_token(node, 0))
    if kind == "string":
        return _string(_token(node, 0))
    if kind in ("true", "false"):
        return ast.Bool(kind == "true", span)
    if kind == "none":
        return ast.NoneValue(span)
    if kind == "list":
        items = [_value(child) for child in node.children if child is not None]
        return ast.ListValue(tuple(item for item in items if item is not None), span)
    if kind == "table":
        return _table(node)
    if kind == "call":
        name = _real(_token(node, 0))
        if name is None:
            return None
        arguments = _subtree(node, "arguments")
        entries = _entries(arguments) if arguments is not None else None
        return ast.Call(name.value, _token_span(name), entries, span)
    return None


def _table(tree: Tree[Any]) -> ast.Table:
    return ast.Table(_entries(tree), _tree_span(tree))


def _entries(tree: Tree[Any]) -> tuple[ast.Entry, ...]:
    entries = []
    for child in _subtrees(tree, "entry"):
        key = _real(_token(child, 0))
        if key is None:
            continue
        value = _value(child.children[1]) if len(child.children) > 1 else None
        entries.append(ast.Entry(key.value, _token_span(key), value, _tree_span(child)))
    return tuple(entries)


def _namespace_at(tree: Tree[Any] | None) -> ast.String | None:
    """`at model.backbone` or `at "models.0"`: the module path as a string with its span."""
    token = _real(_token(tree, 0)) if tree is not None else None
    if token is None:
        return None
    value = string_value(token) if token.type == "STRING" else token.value
    return ast.String(value, _token_span(token))


def _number(token: Token | None) -> ast.Number | None:
    token = _real(token)
    if token is None:
        return None
    text = token.value
    is_int = text.lstrip("+-").isdigit()
    try:
        value: float | int = int(text) if is_int else float(text)
    except ValueError:  # more digits than Python converts (4,300): beyond any range a value may take
        value = math.inf
    return ast.Number(value, text, _token_span(token))


def _string(token: Token | None) -> ast.String | None:
    token = _real(token)
    if token is None:
        return None
    return ast.String(string_value(token), _token_span(token))


def string_value(token: Token) -> str:
    """The text between the quotes, with `\\"`, `\\\\`, `\\n` and `\\t` unescaped."""
    body = token.value[1:-1] if token.value.endswith('"') and len(token.value) >= 2 else token.value[1:]
    escapes = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}
    out: list[str] = []
    chars = iter(body)
    for char in chars:
        if char == "\\":
            following = next(chars, "")
            out.append(escapes.get(following, "\\" + following))
        else:
            out.append(char)
    return "".join(out)


def _regex_value(body: str) -> str:
    """A `re"…"` body is the regex exactly as written, except that `\\"` stands for a quote."""
    out: list[str] = []
    chars = iter(body)
    for char in chars:
        if char == "\\":
            following = next(chars, "")
            out.append('"' if following == '"' else "\\" + following)
        else:
            out.append(char)
    return "".join(out)


# -- small tree helpers -------------------------------------------------------------------------


def _subtrees(tree: Tree[Any], data: str) -> Iterator[Tree[Any]]:
    for child in tree.children:
        if isinstance(child, Tree) and child.data == data:
            yield child


def _subtree(tree: Tree[Any] | None, data: str) -> Tree[Any] | None:
    if tree is None:
        return None
    return next(_subtrees(tree, data), None)


def _token(tree: Tree[Any], position: int) -> Token | None:
    tokens = [child for child in tree.children if isinstance(child, Token)]
    return tokens[position] if position < len(tokens) else None


def _real(token: Token | None) -> Token | None:
    """The token, unless it is missing or was invented by the parser (those have no text)."""
    return token if token is not None and token.value else None


def _token_span(token: Token) -> Span:
    start = token.start_pos or 0
    return Span(start, token.end_pos if token.end_pos is not None else start)


def _tree_span(tree: Tree[Any]) -> Span:
    if tree.meta.empty:
        return Span(0, 0)
    return Span(int(tree.meta.start_pos), int(tree.meta.end_pos))
