"""Sets of positions as bitsets (`ftsc.compiler.positions`) behave as Python sets of the same positions."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ftsc.compiler.positions import EMPTY, Positions, union

position_sets = st.one_of(
    st.sets(st.integers(0, 300), max_size=60),
    st.builds(
        lambda start, count: set(range(start, start + count)), st.integers(0, 5000), st.integers(0, 400)
    ),
    st.builds(  # runs, as a schedule's selections are: a few names of every layer
        lambda start, run, gap, count: {
            start + k * (run + gap) + i for k in range(count) for i in range(run)
        },
        st.integers(0, 50),
        st.integers(1, 5),
        st.integers(0, 40),
        st.integers(0, 60),
    ),
)


@given(position_sets, position_sets)
def test_set_operations_agree_with_python_sets(first: set[int], second: set[int]) -> None:
    a, b = Positions.of(first), Positions.of(second)
    assert list(a) == sorted(first)
    assert len(a) == len(first) and bool(a) == bool(first)
    assert set(a & b) == first & second
    assert set(a | b) == first | second
    assert set(a - b) == first - second
    assert a.isdisjoint(b) == first.isdisjoint(second)
    assert set(union([a, b])) == first | second
    assert (a == b) == (first == second)
    assert a == first  # equal to a Python set of the same positions
    assert set(a & frozenset(second)) == first & second  # with any set on either side
    assert set(frozenset(second) - a) == second - first


@given(position_sets, st.integers(-2, 400))
def test_membership_and_order(positions: set[int], probe: int) -> None:
    chosen = Positions.of(positions)
    assert (probe in chosen) == (probe in positions)
    ordered = sorted(positions)
    if ordered:
        assert chosen[0] == ordered[0] and chosen[-1] == ordered[-1]
    assert chosen.first(3) == ordered[:3]
    assert list(reversed(chosen)) == ordered[::-1]


@given(position_sets, st.one_of(st.none(), st.integers(0, 10)))
def test_pick_and_runs(positions: set[int], most: int | None) -> None:
    chosen = Positions.of(positions)
    items = [f"name{index}" for index in range((max(positions) + 1) if positions else 0)]
    assert chosen.pick(items) == [items[position] for position in sorted(positions)]
    runs = chosen.runs(most)
    ordered = sorted(positions)
    expected_count = sum(1 for i, p in enumerate(ordered) if i == 0 or ordered[i - 1] != p - 1)
    if most is not None and expected_count > most:
        assert runs is None
    if runs is not None:
        assert [p for start, end in runs for p in range(start, end)] == ordered
        assert len(runs) == expected_count


def test_spans_and_the_empty_set() -> None:
    assert list(Positions.span(3, 4)) == [3, 4, 5, 6]
    assert Positions.span(3, 0) is EMPTY
    assert Positions.of([]) is EMPTY and not EMPTY and list(EMPTY) == [] and EMPTY.pick(["a"]) == []
    assert Positions.of(range(2, 5)) == {2, 3, 4}
    assert Positions.of([5, 5, 1]) == {1, 5}
