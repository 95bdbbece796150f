"""Property tests of selector patterns against an independent reference (acceptance criteria).

The reference turns a pattern into one Python regex over the whole dotted name (`re.fullmatch`),
which is the obvious, slow way; ftsc compiles patterns into a segment automaton walked over a trie.
They must select the same names. The reference imports nothing of ftsc's matcher, trie or ranges.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftsc.compiler.compile import compile_schedule
from ftsc.compiler.namespace import Namespace
from ftsc.compiler.patterns import syntax
from ftsc.compiler.patterns.ranges import range_regex
from ftsc.compiler.selectors import Resolution, SelectorResolver
from ftsc.diagnostics import Span
from ftsc.grammar import ast
from ftsc.grammar.parser import parse

# -- the reference ----------------------------------------------------------------------------------

OPEN_RANGE_LIMIT = 1000  # above any number in the generated names
_RANGE = re.compile(r"(\d+)\.\.(\d*)")
_LITERAL = re.compile(r"[A-Za-z0-9_\-]+")


def _split_top(text: str, separator: str) -> list[str]:
    """Split at `separator` outside braces."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        if char == separator and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _pieces(segment: str) -> list[str]:
    """A segment cut into `{…}` groups, `*`s and literal runs."""
    pieces, position = [], 0
    while position < len(segment):
        char = segment[position]
        if char == "{":
            depth, end = 0, position
            while True:
                depth += {"{": 1, "}": -1}.get(segment[end], 0)
                if depth == 0:
                    break
                end += 1
            pieces.append(segment[position : end + 1])
            position = end + 1
        elif char == "*":
            pieces.append("*")
            position += 1
        else:
            match = _LITERAL.match(segment, position)
            assert match is not None, f"the reference reads only valid patterns: {segment!r}"
            pieces.append(match.group())
            position = match.end()
    return pieces


def _range_options(lo: int, hi: int | None) -> str:
    top = OPEN_RANGE_LIMIT if hi is None else hi
    return "(?:" + "|".join(str(number) for number in range(lo, top + 1)) + ")"


def reference_regex(pattern: str) -> str:
    """A regex for `"." + name`: each segment contributes `\\.` and its regex, `**` any whole segments."""
    regex = ""
    for segment in _split_top(pattern, "."):
        if segment == "**":
            regex += r"(?:\.[^.]+)*"
            continue
        pieces = _pieces(segment)
        if len(pieces) == 1 and pieces[0].startswith("{") and not _RANGE.fullmatch(pieces[0][1:-1]):
            # a whole-segment alternation: each option is itself a pattern of whole segments
            options = _split_top(pieces[0][1:-1], ",")
            regex += "(?:" + "|".join(_option_regex(option, glued=False) for option in options) + ")"
            continue
        regex += r"\." + "".join(_piece_regex(piece) for piece in pieces)
    return regex


def _piece_regex(piece: str) -> str:
    if piece == "*":
        return "[^.]*"
    if not piece.startswith("{"):
        return re.escape(piece)
    inner = piece[1:-1]
    match = _RANGE.fullmatch(inner)
    if match is not None:
        return _range_options(int(match.group(1)), int(match.group(2)) if match.group(2) else None)
    return "(?:" + "|".join(_option_regex(option, glued=True) for option in _split_top(inner, ",")) + ")"


def _option_regex(option: str, glued: bool) -> str:
    """One option of an alternation: a range (`{0..3,11}`) or a pattern of whole segments. When the
    alternation is glued into a segment, the option's first segment continues that segment."""
    match = _RANGE.fullmatch(option)
    if match is not None:
        regex = _range_options(int(match.group(1)), int(match.group(2)) if match.group(2) else None)
        return regex if glued else r"\." + regex
    if not glued:
        return reference_regex(option)
    assert not option.startswith("**"), "`**` glued into a segment is not a valid pattern"
    return reference_regex(option).removeprefix(r"\.")


def reference_match(pattern: str, names: list[str]) -> list[int]:
    regex = re.compile(reference_regex(pattern))
    return [position for position, name in enumerate(names) if regex.fullmatch("." + name)]


def ftsc_match(pattern: str, namespace: Namespace, lets: list[ast.Let] | None = None) -> list[int] | None:
    selector = ast.Selector("pattern", pattern, Span(0, len(pattern)), Span(0, len(pattern)))
    resolver = SelectorResolver(lets or [], namespace)
    assert resolver.diagnostics == []  # the `let`s are fine
    resolution = resolver.resolve(selector)
    assert all(d.code == "E101" for d in resolution.diagnostics), resolution.diagnostics
    return None if resolution.positions is None else list(resolution.positions)  # ascending


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [
        ("a.**", "a", True),
        ("a.**", "a.b.c", True),
        ("**.b", "b", True),
        ("**.b", "a.b", True),
        ("a.**.b", "a.b", True),
        ("a.**.b", "a.x.y.b", True),
        ("a.**.b", "a.x.y.c", False),
        ("**", "a.b", True),
        ("a.*", "a.b.c", False),
        ("*_proj", "x_proj", True),
        ("q*", "x_proj", False),
        ("layer.{0..11}", "layer.07", False),
        ("layer.{0..11}", "layer.11", True),
        ("layer.{1..}", "layer.0", False),
        ("layer.{1..}", "layer.123", True),
        ("{a.b,x_proj}.c", "a.b.c", True),
        ("x{a.b,c}", "xa.b", True),
        ("{**,a}.b", "b", True),
        ("h.{0..3,11}", "h.11", True),
        ("h.{0..3,11}", "h.4", False),
        ("h{1..,a}", "ha", True),
        ("h{1..,a}", "h12", True),
        ("{a,layer.{0..1}}", "layer.1", True),
        ("model.1", "model.10", False),
    ],
)
def test_the_reference_itself(pattern: str, name: str, matches: bool) -> None:
    assert (reference_match(pattern, [name]) == [0]) is matches
    assert (ftsc_match(pattern, Namespace.from_names([name])) == [0]) is matches


# -- generated names and patterns ---------------------------------------------------------------------

VOCABULARY = ["a", "b", "ab", "layer", "0", "1", "2", "10", "11", "01", "x_proj", "q_proj", "_proj"]

name_lists = st.lists(
    st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=6).map(".".join),
    min_size=1,
    max_size=25,
    unique=True,
)

_literals = st.sampled_from(["a", "b", "ab", "layer", "0", "1", "2", "10", "x_proj", "q_proj", "c", "_"])
_globs = st.sampled_from(["*", "q*", "*_proj", "x*j", "*1", "*b"])
_ranges = st.sampled_from(["{0..2}", "{1..}", "{10..11}", "{0..0}", "{2..10}", "{0..}", "{11..}"])
_alternations = st.sampled_from(
    [
        *("{a,b}", "{a.b,x_proj}", "{q,x}_proj", "{*_proj,ab}", "{a.*,1}"),
        *("{a,layer.{0..1}}", "{0..1,ab}", "x{1..,a}", "{{2..},q*}"),  # ranges inside alternations
    ]
)
_whole_segment_only = st.sampled_from(["{a.**,b}", "{**,layer}", "{a.b.**,2}"])


def _glue(parts: list[str]) -> str:
    """Concatenate pieces into one segment, never making `**` out of two `*`."""
    text = ""
    for part in parts:
        if part.startswith("*") and text.endswith("*"):
            text += "a"
        text += part
    return text


_segments = st.one_of(
    _literals,
    _globs,
    _ranges,
    _alternations,
    _whole_segment_only,
    st.just("**"),
    st.lists(st.one_of(_literals, _globs, _ranges, _alternations), min_size=2, max_size=3).map(_glue),
)
patterns = st.lists(_segments, min_size=1, max_size=5).map(".".join)


@st.composite
def _generalised(draw: st.DrawFn, name: str) -> str:
    """A pattern made from `name` by generalising some segments, so that it matches it (or nearly)."""
    segments = name.split(".")
    out: list[str] = []
    index = 0
    while index < len(segments):
        segment = segments[index]
        choice = draw(st.integers(0, 9))
        if choice == 0:
            out.append("*")
        elif choice == 1:
            out.append(draw(st.sampled_from([segment[:1] + "*", "*" + segment[-1:], "*" + segment])))
        elif choice == 2 and segment.isdigit() and segment == str(int(segment)):
            lo = draw(st.integers(0, int(segment)))
            hi = draw(st.one_of(st.none(), st.integers(int(segment), 12)))
            out.append(f"{{{lo}..{'' if hi is None else hi}}}")
        elif choice == 3:
            out.append("{" + segment + "," + draw(_literals) + "}")
        elif choice == 4 and index + 1 < len(segments):
            out.append("{" + draw(_literals) + "," + segment + "." + segments[index + 1] + "}")
            index += 1
        elif choice == 5:
            out.append("**")
            index += draw(st.integers(0, len(segments) - index)) - 1  # swallow zero or more segments
        elif choice == 6:
            out.append(draw(_literals))  # a near miss
        else:
            out.append(segment)
        index += 1
    return ".".join(out) if out else "**"


@st.composite
def names_and_patterns(draw: st.DrawFn) -> tuple[list[str], str]:
    names = draw(name_lists)
    if draw(st.booleans()):
        return names, draw(patterns)
    return names, draw(_generalised(draw(st.sampled_from(names))))


def test_names_and_patterns_hit_often() -> None:
    """A guard on the generators: most generated patterns select some, but not all, names."""
    hits = 0

    @settings(max_examples=200, database=None, deadline=None)
    @given(names_and_patterns())
    def count(case: tuple[list[str], str]) -> None:
        nonlocal hits
        names, pattern = case
        hits += bool(reference_match(pattern, names))

    count()
    assert hits >= 60


@settings(max_examples=300, deadline=None)
@given(names_and_patterns())
def test_matcher_agrees_with_the_reference(case: tuple[list[str], str]) -> None:
    names, pattern = case
    namespace = Namespace.from_names(names)
    assert ftsc_match(pattern, namespace) == reference_match(pattern, names), reference_regex(pattern)


_blocks = st.lists(
    st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=3).map(".".join), min_size=1, max_size=5
)


@st.composite
def repeated_names(draw: st.DrawFn) -> list[str]:
    """Names that repeat a block under numbered nodes, as a model repeats its layers and experts, in the
    model's order or with the repetition broken: a copy with a name more or fewer, copies interleaved
    (no node holds a contiguous run), or all shuffled. The walk shares its work between nodes of one
    shape, so these are where sharing could go wrong."""
    block = list(dict.fromkeys(draw(_blocks)))
    inner = list(dict.fromkeys(draw(_blocks))) if draw(st.booleans()) else None
    outer = draw(st.sampled_from(["layer", "a.layer", "b"]))
    copies = draw(st.integers(2, 9))
    experts = draw(st.integers(2, 7))
    names = []
    for copy in range(copies):
        for relative in block:
            names.append(f"{outer}.{copy}.{relative}")
            if inner is not None and relative == block[0]:  # a second level of repetition below it
                names.extend(
                    f"{outer}.{copy}.{relative}.{e}.{tail}" for e in range(experts) for tail in inner
                )
    names = list(dict.fromkeys(names))
    variant = draw(st.integers(0, 4))
    if variant == 1:  # one copy has a name more
        names.insert(draw(st.integers(0, len(names))), f"{outer}.{draw(st.integers(0, copies - 1))}.c.q_proj")
    elif variant == 2 and len(names) > 1:  # one copy has a name fewer
        del names[draw(st.integers(0, len(names) - 1))]
    elif variant == 3:  # copies interleaved: the k-th name of every copy, then the next
        names.sort(key=lambda name: name.split(".", outer.count(".") + 2)[-1])
    elif variant == 4:
        names = draw(st.permutations(names))
    head = draw(st.lists(st.sampled_from(["head", "a.b", "layer.x", "b.0"]), max_size=2, unique=True))
    return list(dict.fromkeys([*head, *names]))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_matcher_agrees_with_the_reference_on_repeated_structure(data: st.DataObject) -> None:
    names = data.draw(repeated_names())
    generalised = _generalised(data.draw(st.sampled_from(names)))
    pattern = data.draw(st.one_of(generalised, patterns))
    namespace = Namespace.from_names(names)
    assert ftsc_match(pattern, namespace) == reference_match(pattern, names), (
        reference_regex(pattern),
        names,
    )


@pytest.mark.parametrize("copies", [1, 2, 3, 5, 7, 8, 13, 16, 31])
@pytest.mark.parametrize(
    "pattern",
    ["b.*.a", "b.*.**", "b.{1..}.c.*", "b.{0..5,7,9..11}.**", "**.c.d", "b.*.{a,c.*}", "**.{2..6}.a"],
)
def test_runs_of_repeated_children_are_matched_whole(copies: int, pattern: str) -> None:
    """Children of one shape side by side are matched once and repeated along each run: every run
    length, and runs broken by gaps, select what the reference selects."""
    names = ["head", *(f"b.{copy}.{relative}" for copy in range(copies) for relative in ("a", "c.d", "c.e"))]
    assert ftsc_match(pattern, Namespace.from_names(names)) == reference_match(pattern, names)


@settings(max_examples=80, deadline=None)
@given(name_lists, patterns, patterns, st.booleans())
def test_let_bindings_substitute_as_whole_segments(
    names: list[str], bound: str, pattern: str, before: bool
) -> None:
    """`let v = P` then `$v.Q` (or `Q.$v`) selects what the text `P.Q` (`Q.P`) selects."""
    lets = parse(f"let v = {bound}\n").schedule.lets
    assert len(lets) == 1
    with_var = f"$v.{pattern}" if before else f"{pattern}.$v"
    spelled = f"{bound}.{pattern}" if before else f"{pattern}.{bound}"
    namespace = Namespace.from_names(names)
    assert ftsc_match(with_var, namespace, lets) == reference_match(spelled, names)


@settings(max_examples=100, deadline=None)
@given(name_lists, st.lists(patterns, min_size=2, max_size=4))
def test_alternation_of_patterns_is_their_union(names: list[str], options: list[str]) -> None:
    """`{P,Q,…}` as the whole pattern selects the union of what each option selects."""
    namespace = Namespace.from_names(names)
    union: set[int] = set()
    for option in options:
        union.update(ftsc_match(option, namespace) or [])
    assert ftsc_match("{" + ",".join(options) + "}", namespace) == sorted(union)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("{a,{0..2}}", ["a", "0", "1", "2"]),
        ("m.{a,layer.{0..1}}", ["m.a", "m.layer.0", "m.layer.1"]),
        ("{0..2,a}", ["0", "1", "2", "a"]),
    ],
)
def test_range_inside_alternation(pattern: str, expected: list[str]) -> None:
    """Regression: a range inside an alternation was E102 (`..` inside braces)."""
    names = [*expected, "b", "3", "m.layer.2"]
    assert ftsc_match(pattern, Namespace.from_names(names)) == list(range(len(expected)))


# -- malformed patterns -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("a.{5..2}", 2, 8),  # the whole empty range
        ("a.{b,}", 5, 5),  # the empty alternative, before its `}`
        ("a.{,b}", 3, 3),
        ("a**", 1, 3),  # `**` glued to a literal
        ("**a", 0, 2),
        ("a..b", 1, 3),  # the two dots of the empty segment
        (".a", 0, 1),
        ("a.", 1, 2),
        ("a.{b", 2, 4),  # from the unclosed `{` to the end
        ("x$y", 1, 3),  # `$y` glued to a literal
        ("a.$", 2, 3),  # `$` with no name
        ("a.***", 2, 5),
        ("a.{b}", 2, 5),  # one alternative
        ("a.{1..b}", 2, 8),  # `..` inside braces that are not a range: the braces
        ("a.{b,3..1}", 5, 9),  # an empty range as an option: that option
        ("a,b", 1, 2),  # a comma outside braces
        ("a}", 1, 2),
        ("a.b@", 3, 4),
        ("", 0, 0),
    ],
)
@pytest.mark.parametrize("offset", [0, 17])
def test_malformed_patterns_give_e102_at_the_mistake(text: str, start: int, end: int, offset: int) -> None:
    seq, problems = syntax.parse_pattern(text, offset)
    assert seq is None
    assert [problem.code for problem in problems] == ["E102"]
    assert problems[0].span == Span(offset + start, offset + end), problems[0].message


@pytest.mark.parametrize("text", ["a.{5..2}", "a.{b,}", "a**", "a..b", "a.{b", "x$y"])
def test_malformed_patterns_through_the_resolver(text: str) -> None:
    namespace = Namespace.from_names(["a.b"])
    selector = ast.Selector("pattern", text, Span(10, 10 + len(text)), Span(10, 10 + len(text)))
    resolution = SelectorResolver([], namespace).resolve(selector)
    assert resolution.positions is None
    assert [d.code for d in resolution.diagnostics] == ["E102"]
    span = resolution.diagnostics[0].span
    assert 10 <= span.start <= span.end <= 10 + len(text)


_pattern_alphabet = st.lists(
    st.sampled_from(
        [
            *"ab01.*{},$-_",
            "12",
            "007",
            "..",
            "**",
            "$x",
            "{0..2}",
            "{1..}",
            "{3..1}",
            "{a,b}",
            "{a.b,c}",
            "{..}",
            "{1...2}",
            "@",
            " ",
            "é",
        ]
    ),
    max_size=12,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.one_of(_pattern_alphabet, st.text(alphabet="ab01.*{},$_-", max_size=15)), st.integers(0, 50))
def test_pattern_parsing_never_raises(text: str, offset: int) -> None:
    seq, problems = syntax.parse_pattern(text, offset)
    if seq is None:
        assert [problem.code for problem in problems] == ["E102"]
        span = problems[0].span
        assert offset <= span.start <= span.end <= offset + len(text), (span, problems[0].message)
        return
    assert problems == []
    # the canonical rendering reads back to itself
    rendered = syntax.render(seq)
    again, problems = syntax.parse_pattern(rendered)
    assert again is not None and syntax.render(again) == rendered, problems
    # and the whole resolver copes: E102 / E103 / E101 only, each inside the pattern
    namespace = Namespace.from_names(["a.b", "a.0", "b.12.a", "x"])
    span = Span(offset, offset + len(text))
    resolution = SelectorResolver([], namespace).resolve(ast.Selector("pattern", text, span, span))
    for diagnostic in resolution.diagnostics:
        assert diagnostic.code in {"E101", "E102", "E103"}
        assert offset <= diagnostic.span.start <= diagnostic.span.end <= offset + len(text)
        for fix in diagnostic.fixes:
            assert offset <= fix.span.start <= fix.span.end <= offset + len(text)


# -- numeric ranges -----------------------------------------------------------------------------------

bounds = st.integers(0, 10**6)


@settings(max_examples=300, deadline=None)
@given(bounds, bounds, st.lists(bounds, max_size=20))
def test_range_regex_is_the_inclusive_range(lo: int, hi: int, numbers: list[int]) -> None:
    lo, hi = min(lo, hi), max(lo, hi)
    regex = re.compile(range_regex(lo, hi))
    assert regex.groups == 0  # no capturing groups
    for number in [*numbers, lo, hi, lo - 1, hi + 1, (lo + hi) // 2, 0, 9, 10, 99, 100, 10**6 + 1]:
        if number >= 0:
            assert (regex.fullmatch(str(number)) is not None) == (lo <= number <= hi), number


@settings(max_examples=200, deadline=None)
@given(bounds, st.lists(st.integers(0, 10**8), max_size=20))
def test_open_range_regex_is_everything_from_lo(lo: int, numbers: list[int]) -> None:
    regex = re.compile(range_regex(lo, None))
    for number in [*numbers, lo, lo - 1, lo + 1, 10 * lo, 0, 10**7]:
        if number >= 0:
            assert (regex.fullmatch(str(number)) is not None) == (number >= lo), number


@settings(max_examples=200, deadline=None)
@given(bounds, bounds, st.from_regex(r"0[0-9]{1,7}", fullmatch=True))
def test_range_regex_rejects_leading_zeros(lo: int, hi: int, text: str) -> None:
    lo, hi = min(lo, hi), max(lo, hi)
    assert re.fullmatch(range_regex(lo, hi), text) is None
    assert re.fullmatch(range_regex(lo, None), text) is None


@pytest.mark.parametrize(
    ("lo", "hi", "text"), [(0, 10, "07"), (0, 10, "00"), (0, 100, "010"), (7, 7, "07"), (0, None, "01")]
)
def test_range_regex_rejects_non_canonical_numbers(lo: int, hi: int | None, text: str) -> None:
    assert re.fullmatch(range_regex(lo, hi), text) is None
    assert re.fullmatch(range_regex(lo, hi), text.lstrip("0") or "0") is not None


def _resolve(pattern: str, namespace: Namespace) -> Resolution:
    selector = ast.Selector("pattern", pattern, Span(0, len(pattern)), Span(0, len(pattern)))
    return SelectorResolver([], namespace).resolve(selector)


@settings(max_examples=150, deadline=None)
@given(names_and_patterns())
def test_a_pattern_in_the_models_names_gets_the_wrapped_spelling_that_selects_the_same(
    case: tuple[list[str], str],
) -> None:
    """Against the namespace of a module holding the model as `lit`, a pattern that selects names of the
    model's own namespace and nothing as written gets `lit.` put in front: its fix selects the same names."""
    names, pattern = case
    own = reference_match(pattern, names)
    wrapped = Namespace.from_names([f"lit.{name}" for name in names])
    resolution = _resolve(pattern, wrapped)
    if not own or resolution.positions:
        return  # the pattern matches nothing of the model, or matches the wrapped names as written
    (diagnostic,) = resolution.diagnostics
    assert diagnostic.code == "E101" and "did you mean `lit." in diagnostic.message
    (fix,) = diagnostic.fixes
    fixed = pattern[: fix.span.start] + fix.new_text + pattern[fix.span.end :]
    assert fixed == f"lit.{pattern}"
    assert ftsc_match(fixed, wrapped) == own


@settings(max_examples=150, deadline=None)
@given(names_and_patterns())
def test_a_pattern_in_the_wrapping_modules_names_gets_the_prefix_dropped(case: tuple[list[str], str]) -> None:
    """The other way: `lit.P` against the model's own namespace suggests `P` when P starts with a name of
    the namespace."""
    names, pattern = case
    own = reference_match(pattern, names)
    namespace = Namespace.from_names(names)
    resolution = _resolve(f"lit.{pattern}", namespace)
    first = pattern.split(".")[0]
    if not own or resolution.positions or first not in {name.split(".")[0] for name in names}:
        return  # nothing to find, or what is left would not start with a name (`lit.**` suggests no `**`)
    (diagnostic,) = resolution.diagnostics
    assert f"did you mean `{pattern}`?" in diagnostic.message
    (fix,) = diagnostic.fixes
    assert fix.span == Span(0, len("lit.")) and fix.new_text == ""


_LAYERS = Namespace.from_names([f"layers.{n}.w" for n in range(12)])


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 9), st.integers(0, 9), st.lists(st.integers(0, 11), min_size=2, max_size=4, unique=True)
)
def test_regex_range_spellings_are_fixed_to_patterns_that_select_the_same(
    lo: int, hi: int, some: list[int]
) -> None:
    """`[a-b]`, `a..b` and `(x|y)` get one E102 whose fix is a pattern selecting what the regex would."""
    lo, hi = min(lo, hi), max(lo, hi)
    cases = {
        f"layers.[{lo}-{hi}].w": set(range(lo, hi + 1)),
        f"layers.{lo}..{hi}.w": set(range(lo, hi + 1)),
        f"layers.({'|'.join(map(str, some))}).w": set(some),
    }
    for written, numbers in cases.items():
        text = f"phase a {{ thaw {written} }}\n"
        (diagnostic,) = [d for d in compile_schedule(text, _LAYERS).diagnostics if d.is_error]
        assert diagnostic.code == "E102"
        (fix,) = diagnostic.fixes
        fixed = compile_schedule(text[: fix.span.start] + fix.new_text + text[fix.span.end :], _LAYERS)
        assert fixed.plan is not None
        assert fixed.plan["phases"][0]["params"] == [f"layers.{n}.w" for n in sorted(numbers)]  # type: ignore[index]
