"""Resolve thaw selectors (patterns, exact names, regexes) against a namespace.

Each selector is compiled once; `let` bindings are parsed once and substituted into the patterns
that use them. Problems with the selector itself (E102, E103) are reported here; whether it
matches anything (E101, with did-you-mean) too, since only here is the namespace walked.
"""

from __future__ import annotations

import bisect
import difflib
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ftsc import codes
from ftsc.compiler import prefix_hint
from ftsc.compiler.bulk import collector_paused
from ftsc.compiler.frozen import adapter_hint
from ftsc.compiler.namespace import Namespace
from ftsc.compiler.patterns import syntax
from ftsc.compiler.patterns.linear_regex import RegexProblem, compile_regex, segment_regexes
from ftsc.compiler.patterns.matcher import MAX_REQUIRED, PatternMatcher, PatternTooComplex, walk_segments
from ftsc.compiler.patterns.regex_words import required_segments
from ftsc.compiler.patterns.tree_walk import Node, Shared, Uniform
from ftsc.compiler.patterns.trie import TrieNode, build_trie, children, find
from ftsc.compiler.positions import EMPTY, Positions
from ftsc.compiler.recent import Recent
from ftsc.diagnostics import Diagnostic, Fix, Related, Span, diagnose
from ftsc.grammar import ast


class NamespaceIndex:
    """What matching needs of a namespace, built once per namespace and shared (CLI, LSP, runtime).

    Selectors walk the names' segment tree through the sorted names: a node is a dotted prefix, its
    children are found by bisection, so nothing per name is built but the sort order (which the
    persistent cache keeps). The trie (for did-you-mean) and the inverted index (segment -> names, for
    an inner `**` and regexes) are built the first time something needs them.
    """

    def __init__(self, namespace: Namespace, sorted_positions: Sequence[int] | None = None) -> None:
        self.namespace = namespace
        self.names = namespace.names
        self.index = namespace.index
        self.results: dict[str, Positions] = {}  # selector -> what it matched
        self._trie: TrieNode | None = None
        self._order = sorted_positions
        self._sorted: tuple[list[str], Sequence[int]] | None = None
        self._segments: dict[str, list[int]] | None = None
        self._segment_sets: dict[str, set[int]] = {}
        self._nodes: dict[str, Node] = {}
        self._shapes: dict[str, int] = {}  # prefix -> its shape's number
        self._uniform: dict[int | str, Uniform | None] = {}  # a node's key -> its children's, if uniform
        self._children_of_shape: dict[int, tuple[list[str], frozenset[str]]] = {}
        self._shape_ids: dict[str, int] = {}  # the names below a node, relative to it -> a number
        self._children: dict[str, tuple[list[str], frozenset[str]]] = {}  # prefix -> segments after it

    @property
    def trie(self) -> TrieNode:
        """The segment trie, built on first use (explaining a selector that matched nothing)."""
        if self._trie is None:
            with collector_paused():
                self._trie = build_trie(self.names)
        return self._trie

    @property
    def sorted_positions(self) -> Sequence[int]:
        """Positions in the order of their names, sorted (what the persistent cache keeps)."""
        if self._order is None:
            self._order = sorted(range(len(self.names)), key=self.names.__getitem__)
        return self._order

    def _sorted_names(self) -> tuple[list[str], Sequence[int]]:
        if self._sorted is None:
            order = self.sorted_positions
            self._sorted = [self.names[position] for position in order], order
        return self._sorted

    def segments_after(self, prefix: str) -> list[str]:
        """The distinct segments that follow `prefix` (`""`: the first segments) in some name, in the
        order of the sorted names: found by one bisection per child, however many names lie below it,
        and kept (the nodes a schedule visits, not the whole tree)."""
        known = self._children.get(prefix)
        if known is None:
            known = self._children[prefix] = self._children_of(prefix)
        return known[0]

    def segment_set(self, prefix: str) -> frozenset[str]:
        """`segments_after(prefix)` as a set: `prefix.segment` is a name or the prefix of one."""
        known = self._children.get(prefix)
        if known is None:
            known = self._children[prefix] = self._children_of(prefix)
        return known[1]

    def _children_of(self, prefix: str) -> tuple[list[str], frozenset[str]]:
        """A node with many children is looked up by its shape first: one of the same shape has the same
        children (the experts of each layer), and writing out the shape costs less than their bisections."""
        found = self._find_segments_after(prefix, _MANY_CHILDREN)
        if found is not None:
            return found
        key = self.key(prefix)
        known = self._children_of_shape.get(key) if isinstance(key, int) else None
        if known is None:
            known = self._find_segments_after(prefix)
            assert known is not None
            if isinstance(key, int):
                self._children_of_shape[key] = known
        return known

    def key(self, prefix: str) -> int | str:
        """What facts about a node of many children are kept under: its shape when it is contiguous and
        not one of a kind (too large to have a twin: writing out its shape would cost more), else itself."""
        node = self.node(prefix)
        if prefix and node.contiguous and node.size <= _UNSHAPED_SIZE:
            return self.shape(prefix)
        return prefix

    def _find_segments_after(
        self, prefix: str, most: int | None = None
    ) -> tuple[list[str], frozenset[str]] | None:
        """The segments after `prefix`, by one bisection per child; None past `most` of them."""
        names, _ = self._sorted_names()
        lead = prefix + "." if prefix else ""
        position = bisect.bisect_left(names, lead) if lead else 0
        end = bisect.bisect_left(names, prefix + "/", position) if prefix else len(names)
        start = len(lead)
        found: dict[str, None] = {}
        while position < end:
            name = names[position]
            dot = name.find(".", start)
            if dot < 0:
                found[name[start:]] = None
                position += 1
            else:
                found[name[start:dot]] = None
                position = bisect.bisect_left(names, name[:dot] + "/", position)  # past `…segment.*`
            if most is not None and len(found) > most:
                return None
        return list(found), frozenset(found)

    def under(self, prefix: str) -> list[int]:
        """Positions of `prefix` and the names below it (`prefix.…`): one slice of the sorted names."""
        if not prefix:
            return list(range(len(self.names)))
        start, end = self._below(prefix)
        found = list(self._sorted_names()[1][start:end])
        exact = self.index.get(prefix)
        return found if exact is None else [*found, exact]

    def count_under(self, prefix: str) -> int:
        """`len(under(prefix))`, by bisection alone (completion counts what is below each of 256 children)."""
        if not prefix:
            return len(self.names)
        start, end = self._below(prefix)
        return end - start + (prefix in self.index)

    def _below(self, prefix: str) -> tuple[int, int]:
        """Where the names below `prefix` (`prefix.…`) start and end among the sorted names."""
        names, _ = self._sorted_names()
        start = bisect.bisect_left(names, prefix + ".")
        return start, bisect.bisect_left(names, prefix + "/", start)  # "/" follows "." in code points

    def node(self, prefix: str) -> Node:
        """Where the names at or below `prefix` lie in namespace order (kept: the walk asks per sibling)."""
        known = self._nodes.get(prefix)
        if known is None:
            if not prefix:
                known = Node(0, len(self.names), True)
            else:
                start, end = self._below(prefix)
                inside = self.sorted_positions[start:end]
                exact = self.index.get(prefix)
                ends = [*inside, exact] if exact is not None else inside
                if not ends:  # no such node: nothing to match, and nothing to share
                    return Node(0, 0, False)
                low, high = min(ends), max(ends)
                known = Node(low, len(ends), high - low + 1 == len(ends))
            self._nodes[prefix] = known
        return known

    def shape(self, prefix: str) -> int:
        """A number for the names below a contiguous node relative to it, in namespace order: two nodes
        with one number hold the same relative names at the same relative positions."""
        known = self._shapes.get(prefix)
        if known is None:
            node = self.node(prefix)
            block = "\n" + "\n".join(self.names[node.low : node.low + node.size])
            relative = block.replace("\n" + prefix + ".", "\n.")  # names cannot hold a newline
            known = self._shapes[prefix] = self._shape_ids.setdefault(relative, len(self._shape_ids))
        return known

    def uniform(self, prefix: str) -> Uniform | None:
        """The children of `prefix` when they all have one shape and fill its positions one after the other
        (kept per shape: the experts of every layer are matched this way)."""
        node = self.node(prefix)
        segments = self.segments_after(prefix)
        if not node.contiguous or prefix in self.index or len(segments) < 2:
            return None
        key = self.key(prefix) if len(segments) > _MANY_CHILDREN else prefix
        if key in self._uniform:
            return self._uniform[key]
        found = None
        lead = prefix + "." if prefix else ""
        children = [self.node(lead + segment) for segment in segments]
        size = children[0].size
        if size * len(children) == node.size and all(c.contiguous and c.size == size for c in children):
            shapes = {self.shape(lead + segment) for segment in segments}
            if len(shapes) == 1:
                places = (1 << ((c.low - node.low) // size) for c in children)
                found = Uniform(size, dict(zip(segments, places, strict=True)))
        self._uniform[key] = found
        return found

    def under_bits(self, prefix: str) -> int:
        """`under(prefix)` as a bitset."""
        node = self.node(prefix)
        if node.contiguous:
            return Positions.span(node.low, node.size).bits
        return Positions.of(self.under(prefix)).bits

    def remember(self, key: str, positions: Positions) -> Positions:
        """Keep what a selector matched: the language server re-checks unchanged selectors on every edit."""
        if len(self.results) >= _KEEP_RESULTS:
            self.results.clear()
        self.results[key] = positions
        return positions

    def having(self, segment: str) -> set[int]:
        """Positions of the names with `segment` among their segments (do not modify the set)."""
        found = self._segment_sets.get(segment)
        if found is None:
            found = self._segment_sets[segment] = set(self._inverted().get(segment, ()))
        return found

    def _inverted(self) -> dict[str, list[int]]:
        if self._segments is None:
            segments: dict[str, list[int]] = {}
            for position, name in enumerate(self.names):
                for segment in name.split("."):
                    segments.setdefault(segment, []).append(position)
            self._segments = segments
        return self._segments

    def holding_all(self, required: list[frozenset[str]]) -> Iterable[int]:
        """Positions of the names holding, for each set, one of its spellings (all names if no set)."""
        sets = sorted((self.having_any(s) for s in required if len(s) <= MAX_REQUIRED), key=len)
        if not sets:
            return range(len(self.names))
        found = set(sets[0])
        for other in sets[1:]:
            found &= other
        return found

    def having_any(self, spellings: frozenset[str]) -> set[int]:
        """Positions of the names holding one of `spellings` as a segment (do not modify the set)."""
        if len(spellings) == 1:
            return self.having(next(iter(spellings)))
        union: set[int] = set()
        for spelling in spellings:
            union |= self.having(spelling)
        return union


@functools.lru_cache(maxsize=4096)
def _relative_parse(text: str) -> tuple[syntax.Seq, tuple[str, ...]] | None:
    """A pattern parsed as if it started at offset 0, and the `let`s it uses; None when it has a
    problem (the full resolution reports it, at the right place)."""
    seq, problems = syntax.parse_pattern(text, 0)
    if seq is None or problems:
        return None
    return seq, tuple(dict.fromkeys(var.name for var in syntax.variables(seq)))


# (selector text, the text of each `let` it uses) -> (its text with the `let`s substituted, whether that
# is a plain name: literal segments only, the substituted pattern)
_KEYS: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[str, bool, syntax.Seq]] = {}

_MANY_CHILDREN = 16  # children past which a node's facts are kept per shape (else per node)
_UNSHAPED_SIZE = 16_384  # names below a node past which they are kept per node (it is one of a kind)
_INDEXES: Recent[NamespaceIndex] = Recent(keep=8)
_KEEP_RESULTS = 4096


def index_of(namespace: Namespace) -> NamespaceIndex:
    """The (cached) index of a namespace: the LSP re-checks against the same namespace on every edit."""
    cached = _INDEXES.get(id(namespace), namespace)
    if cached is not None:
        return cached
    return _INDEXES.put(id(namespace), namespace, NamespaceIndex(namespace, namespace.cached_order))


@dataclass
class Resolution:
    """What one selector selects: positions in namespace order, or None when it could not be resolved."""

    selector: ast.Selector
    positions: Positions | None
    diagnostics: list[Diagnostic] = field(default_factory=list)


class SelectorResolver:
    def __init__(self, lets: list[ast.Let], namespace: Namespace | None) -> None:
        self.namespace = namespace
        self.index = index_of(namespace) if namespace is not None else None
        self.diagnostics: list[Diagnostic] = []
        self.bindings: dict[str, syntax.Seq] = {}
        self._binding_texts: dict[str, str] = {}
        self.let_spans: dict[str, Span] = {}
        # For the I107 note: selectors that matched, that missed, and the shifts that would fix the misses.
        self.hits = 0
        self.misses = 0
        self.shifts: list[prefix_hint.Shift] = []
        self._shared: Shared = {}  # what the walks of this compile learnt per shape of node (see `walk`)
        self._bind(lets)

    # -- let bindings ------------------------------------------------------------------------------

    def _bind(self, lets: list[ast.Let]) -> None:
        raw: dict[str, syntax.Seq] = {}
        for let in lets:
            if let.name in self.let_spans:
                first = self.let_spans[let.name]
                self.diagnostics.append(
                    diagnose(
                        codes.NAME_BOUND_TWICE,
                        f"`{let.name}` is already bound by an earlier `let`",
                        let.name_span,
                        related=[Related(first, f"`{let.name}` is first bound here")],
                    )
                )
                continue
            self.let_spans[let.name] = let.name_span
            if let.pattern is None:
                continue
            seq, problems = syntax.parse_pattern(let.pattern.text, let.pattern.text_span.start)
            self.diagnostics.extend(problems)
            if seq is not None:
                raw[let.name] = seq
        resolved: dict[str, syntax.Seq | None] = {}
        for name in raw:
            try:
                binding = self._resolve_let(name, raw, (), resolved)
            except RecursionError:  # `let`s that refer to `let`s hundreds deep
                message = (
                    f"`{name}` is defined through more `let`s in a row than ftsc follows; shorten the chain"
                )
                self.diagnostics.append(diagnose(codes.UNBOUND_NAME, message, self.let_spans[name]))
                break
            if binding is not None:
                self.bindings[name] = binding

    def _resolve_let(
        self,
        name: str,
        raw: dict[str, syntax.Seq],
        chain: tuple[str, ...],
        resolved: dict[str, syntax.Seq | None],
    ) -> syntax.Seq | None:
        """`let name`'s pattern with every `$` substituted, each let resolved once (`resolved`), and
        refused (E102) when substitution would make it larger than `syntax.MAX_PATTERN_SIZE`."""
        if name in resolved:
            return resolved[name]
        seq = raw[name]
        for var in syntax.variables(seq):
            if var.name in chain or var.name == name:
                self.diagnostics.append(
                    diagnose(
                        codes.UNBOUND_NAME,
                        f"`${var.name}` refers back to itself through `let {name}`",
                        var.span,
                    )
                )
                return None
            if var.name not in raw:
                self._unknown_variable(var)
                resolved[name] = None
                return None
        inner: dict[str, syntax.Seq] = {}
        for var in syntax.variables(seq):
            if var.name not in inner:
                value = self._resolve_let(var.name, raw, (*chain, name), resolved)
                if value is None:
                    return None
                inner[var.name] = value
        problem = syntax.substitution_too_large(seq, inner)
        if problem is not None:
            self.diagnostics.append(problem)
            resolved[name] = None
            return None
        resolved[name] = syntax.substitute(seq, inner)
        return resolved[name]

    def _unknown_variable(self, var: syntax.Var) -> None:
        known = difflib.get_close_matches(var.name, list(self.let_spans), n=1)
        hint = f"; did you mean `${known[0]}`?" if known else ""
        fixes = [Fix(f"Replace with `${known[0]}`", var.span, f"${known[0]}")] if known else []
        self.diagnostics.append(
            diagnose(codes.UNBOUND_NAME, f"`${var.name}` has no `let`{hint}", var.span, fixes=fixes)
        )

    # -- selectors ---------------------------------------------------------------------------------

    def resolve(self, selector: ast.Selector) -> Resolution:
        if selector.kind == "exact":
            resolution = self._exact(selector)
        elif selector.kind == "regex":
            resolution = self._regex(selector)
        elif selector.kind == "pattern":
            resolution = self._pattern(selector)
        else:
            raise ValueError("`rest` is resolved by the compiler, after every other phase")
        if resolution.positions:
            self.hits += 1
        elif resolution.positions is not None:
            self.misses += 1
        return resolution

    def prefix_note(self, span: Span) -> Diagnostic | None:
        """I107 when every selector missed by the same leading segments (see `prefix_hint`)."""
        return prefix_hint.note(self.shifts, self.misses, self.hits, span)

    def _quick(self, selector: ast.Selector) -> Positions | None:
        """What a selector matches, resolved from its text alone (parsed once per text, with spans from
        0): the language server re-checks every unchanged selector on each edit, and parsing and
        substituting each again was a quarter of an edit. None when it matches nothing or has a
        problem: `_pattern` then resolves it in full, to report that where it is written."""
        if self.index is None:
            return None
        parsed = _relative_parse(selector.text)
        if parsed is None:
            return None
        seq, used = parsed
        if not all(name in self.bindings for name in used):
            return None
        lets = tuple((name, self._binding_text(name)) for name in used)
        found = _KEYS.get((selector.text, lets))
        if found is None:
            if syntax.substitution_too_large(seq, self.bindings) is not None:
                return None  # `_pattern` reports it (E102)
            if len(_KEYS) >= _KEEP_RESULTS:
                _KEYS.clear()
            substituted = syntax.substitute(seq, self.bindings)
            plain = all(isinstance(node, (syntax.Lit, syntax.Dot)) for node in substituted.nodes)
            found = _KEYS[(selector.text, lets)] = (syntax.render(substituted), plain, substituted)
        key, plain, substituted = found
        position = self.index.index.get(key) if plain else None
        if position is not None:
            return Positions(1 << position)
        known = self.index.results.get("pattern:" + key)
        if known:
            return known
        try:
            positions = PatternMatcher(substituted).match(self.index, self._shared)
        except PatternTooComplex:
            return None
        if not positions:
            return None
        return self.index.remember("pattern:" + key, positions)

    def _binding_text(self, name: str) -> str:
        text = self._binding_texts.get(name)
        if text is None:
            text = self._binding_texts[name] = syntax.render(self.bindings[name])
        return text

    def _pattern(self, selector: ast.Selector) -> Resolution:
        quick = self._quick(selector)
        if quick is not None:
            return Resolution(selector, quick)
        seq, problems = syntax.parse_pattern(selector.text, selector.text_span.start)
        if seq is None:
            return Resolution(selector, None, problems)
        for var in syntax.variables(seq):
            if var.name not in self.let_spans:
                before = len(self.diagnostics)
                self._unknown_variable(var)
                problems.append(self.diagnostics.pop(before))
                return Resolution(selector, None, problems)
            if var.name not in self.bindings:
                return Resolution(selector, None, problems)  # the let itself is reported
        too_large = syntax.substitution_too_large(seq, self.bindings)
        if too_large is not None:
            return Resolution(selector, None, [*problems, too_large])
        substituted = syntax.substitute(seq, self.bindings)
        if self.index is not None and all(isinstance(n, (syntax.Lit, syntax.Dot)) for n in substituted.nodes):
            position = self.index.index.get(syntax.render(substituted))  # a plain name: one lookup
            if position is not None:
                return Resolution(selector, Positions(1 << position), problems)
        key = "pattern:" + syntax.render(substituted)
        known = self.index.results.get(key) if self.index is not None else None
        if known:
            return Resolution(selector, known, problems)
        try:
            matcher = PatternMatcher(substituted)
        except PatternTooComplex as exc:
            return Resolution(selector, None, [diagnose(codes.BAD_PATTERN, exc.message, exc.span)])
        if self.index is None:
            return Resolution(selector, None, problems)
        try:
            positions = matcher.match(self.index, self._shared)
        except PatternTooComplex as exc:  # its regex is past RE2's memory budget
            return Resolution(selector, None, [diagnose(codes.BAD_PATTERN, exc.message, exc.span)])
        self.index.remember(key, positions)
        if not positions:
            problems.append(self._no_match(selector, matcher))
        return Resolution(selector, positions, problems)

    def _exact(self, selector: ast.Selector) -> Resolution:
        if self.index is None:
            return Resolution(selector, None)
        position = self.index.index.get(selector.text)
        if position is not None:
            return Resolution(selector, Positions(1 << position))
        tied = self._tied(selector, selector.text, quoted=True)
        if tied is not None:
            return Resolution(selector, EMPTY, [tied])
        shift = prefix_hint.find_name_shift(selector.text, self.index.trie, self.index.index)
        if shift is not None:
            return Resolution(selector, EMPTY, [self._shifted(selector, shift, selector.text)])
        close = closest_name(self.index, selector.text)
        hint = f'; did you mean `"{close}"`?' if close else ""
        fixes = [Fix(f'Replace with "{close}"', selector.text_span, close)] if close else []
        message = f'no parameter is named "{selector.text}"{hint}'
        return Resolution(selector, EMPTY, [diagnose(codes.NO_MATCH, message, selector.span, fixes=fixes)])

    def _regex(self, selector: ast.Selector) -> Resolution:
        key = "regex:" + selector.text
        known = self.index.results.get(key) if self.index is not None else None
        if known is None:  # a remembered result was compiled without a problem
            try:
                regex = compile_regex(selector.text)
            except RegexProblem as exc:
                at = selector.text_span.start + _source_offset(selector.text, exc.position)
                problem = diagnose(codes.BAD_PATTERN, exc.message, Span(at, at + 1))
                return Resolution(selector, None, [problem])
            if self.index is None:
                return Resolution(selector, None)
            segments = segment_regexes(selector.text)
            if segments is not None:  # `a\.b\.\w+`: walked down the segment tree like a pattern
                known = self.index.remember(key, walk_segments(self.index, segments, self._shared))
            else:
                names = self.index.names
                candidates = self.index.holding_all(required_segments(selector.text))
                matched = [position for position in candidates if regex.fullmatch(names[position])]
                known = self.index.remember(key, Positions.of(matched))
        positions = known
        if not positions:
            message = f're"{selector.text}" matches no parameter (regexes are matched against the whole name)'
            return Resolution(selector, EMPTY, [diagnose(codes.NO_MATCH, message, selector.span)])
        return Resolution(selector, positions)

    # -- did you mean ------------------------------------------------------------------------------

    def _tied(self, selector: ast.Selector, name: str, *, quoted: bool) -> Diagnostic | None:
        """E101 for the other name of a tied parameter: the namespace lists the tensor once."""
        target = self.namespace.aliases.get(name) if self.namespace is not None else None
        if target is None:
            return None
        shown = f'"{target}"' if quoted else target
        message = (
            f"`{name}` is another name of the tied parameter `{target}`, which the namespace lists once "
            f"(FTS drops such names too); thaw `{shown}`"
        )
        return diagnose(
            codes.NO_MATCH,
            message,
            selector.span,
            fixes=[Fix(f"Replace with `{shown}`", selector.text_span, target)],
        )

    def _shifted(self, selector: ast.Selector, shift: prefix_hint.Shift, expanded: str) -> Diagnostic:
        """E101 for a selector that matches once leading segments are put in front or dropped; `expanded` is
        its text with `$names` substituted (what to show when the dropped segments come from a `let`)."""
        self.shifts.append(shift)
        fixes = prefix_hint.fix_for(shift, selector.text, selector.text_span)
        written = selector.text if fixes else expanded
        quote = '"' if selector.kind == "exact" else ""
        why = (
            f"every name of the namespace starts with `{shift.add}`"
            if shift.add
            else f"no name of the namespace starts with `{shift.drop}`"
        )
        message = (
            f"`{quote}{selector.text}{quote}` matches no parameter of the namespace; did you mean "
            f"`{quote}{shift.apply(written)}{quote}`? ({why})"
        )
        return diagnose(codes.NO_MATCH, message, selector.span, fixes=fixes)

    def _no_match(self, selector: ast.Selector, matcher: PatternMatcher) -> Diagnostic:
        assert self.index is not None
        trie = self.index.trie
        tied = self._tied(selector, syntax.render(matcher.seq), quoted=False)
        if tied is not None:
            return tied
        shift = prefix_hint.find_shift(matcher.seq, self.index)
        if shift is not None:
            return self._shifted(selector, shift, syntax.render(matcher.seq))
        text = f"`{selector.text}` matches no parameter of the namespace"
        fixes = _typo_fixes(matcher, self.index)
        if fixes:
            fixed = _apply(selector.text, selector.text_span.start, fixes)
            shown = f"`{fixed}`" if fixed is not None else ", ".join(f"`{fix.new_text}`" for fix in fixes)
            return diagnose(codes.NO_MATCH, f"{text}; did you mean {shown}?", selector.span, fixes=fixes)
        exploration = matcher.explore(trie)
        if exploration.modules:
            example = ".".join(exploration.modules[0])
            fix = Fix("Append `.**`", Span(selector.text_span.end, selector.text_span.end), ".**")
            return diagnose(
                codes.NO_MATCH,
                f"{text}: it matches modules (e.g. `{example}`), not parameters; "
                f"end it with `.**` to take every parameter below them",
                selector.span,
                fixes=[fix],
            )
        if self.namespace is not None:
            lora = adapter_hint(syntax.render(matcher.seq), ".".join(exploration.deepest), self.namespace)
            if lora is not None:
                return diagnose(codes.NO_MATCH, text + lora, selector.span)
        if exploration.deepest:
            node = find(trie, exploration.deepest)
            names = sorted((key for key, _ in children(node)), key=_natural) if node is not None else []
            shown = ", ".join(f"`{name}`" for name in names[:6]) + (", …" if len(names) > 6 else "")
            count = f"{len(names)} child{'ren' if len(names) != 1 else ''}"
            text += f"; `{'.'.join(exploration.deepest)}` exists, with {count}: {shown}"
        return diagnose(codes.NO_MATCH, text, selector.span)


def _typo_fixes(matcher: PatternMatcher, index: NamespaceIndex) -> list[Fix]:
    """Correct up to three misspelt literal segments, keeping only a correction that then matches."""
    fixes: list[Fix] = []
    current = matcher
    replaced: dict[Span, str] = {}
    for _ in range(3):
        dead_ends = current.explore(index.trie).dead_ends
        if not dead_ends:
            break
        deepest = max(dead_ends, key=lambda dead_end: dead_end.depth)
        options = [key for key, _ in children(deepest.node)]
        close = difflib.get_close_matches(deepest.literal.text, options, n=1, cutoff=0.6)
        if not close:
            break
        replaced[deepest.literal.span] = close[0]
        fixes.append(Fix(f"Replace with `{close[0]}`", deepest.literal.span, close[0]))
        current = PatternMatcher(_replace_literals(matcher.seq, replaced))
        if current.match(index):
            return fixes
    return []


def _replace_literals(seq: syntax.Seq, replaced: dict[Span, str]) -> syntax.Seq:
    nodes: list[syntax.Node] = []
    for node in seq.nodes:
        if isinstance(node, syntax.Lit) and node.span in replaced:
            nodes.append(syntax.Lit(replaced[node.span], node.span))
        elif isinstance(node, syntax.Alt):
            options = tuple(_replace_literals(option, replaced) for option in node.options)
            nodes.append(syntax.Alt(options, node.span))
        else:
            nodes.append(node)
    return syntax.Seq(tuple(nodes), seq.span)


def _apply(text: str, offset: int, fixes: list[Fix]) -> str | None:
    """`text` (starting at `offset`) with the fixes applied; None if a fix lies outside it."""
    result = text
    for fix in sorted(fixes, key=lambda fix: fix.span.start, reverse=True):
        start, end = fix.span.start - offset, fix.span.end - offset
        if start < 0 or end > len(text):
            return None
        result = result[:start] + fix.new_text + result[end:]
    return result


def closest_name(index: NamespaceIndex, name: str) -> str | None:
    """The existing name closest to `name`, correcting one segment at a time along the trie."""
    node: TrieNode | None = index.trie
    segments = []
    for segment in name.split("."):
        if node is None:
            return None
        chosen = segment if segment and segment in node else _closest_child(node, segment)
        if chosen is None:
            return None
        segments.append(chosen)
        node = node.get(chosen)
    candidate = ".".join(segments)
    return candidate if candidate in index.index else None


def _closest_child(node: TrieNode, segment: str) -> str | None:
    close = difflib.get_close_matches(segment, [key for key, _ in children(node)], n=1, cutoff=0.6)
    return close[0] if close else None


def _source_offset(body: str, position: int) -> int:
    """Offset in the source of regex position `position` (a `\\"` in the source is one character)."""
    return position + body[:position].count('"')


def _natural(name: str) -> tuple[int, int | str]:
    return (0, int(name)) if name.isdigit() else (1, name)
