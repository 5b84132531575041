"""Small-cell suppression: nothing below k is printed, and nothing hidden can be worked out from
what is printed (the total included), even by a reader who knows the rules."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carestation.domain.assessment_values import BandCount
from carestation.domain.suppression import HIDDEN_MARK, suppress

PHQ9 = ("minimal", "mild", "moderate", "moderately_severe", "severe")


def _shown(counts: Sequence[int], k: int = 10) -> tuple[list[str], str]:
    order = [f"b{i}" for i in range(len(counts))]
    cells, total = suppress(dict(zip(order, counts, strict=True)), order, k=k)
    return [c.shown for c in cells], total.shown


def _printed(vec: Sequence[int], k: int) -> tuple[tuple[str, ...], str]:
    cells, total = _shown(vec, k)
    return tuple(cells), total


def _compositions(n: int, parts: int) -> Iterator[tuple[int, ...]]:
    if parts == 1:
        yield (n,)
        return
    for first in range(n + 1):
        for rest in _compositions(n - first, parts - 1):
            yield (first, *rest)


# --------------------------------------------------------------------------- crafted cases


def test_a_campaign_with_four_participants_shows_no_breakdown() -> None:
    cells, total = suppress({"minimal": 1, "severe": 3}, PHQ9, k=10)
    assert total == BandCount("total", None, "<10")
    # Not even the zeros: "0" elsewhere would say all four are minimal or severe.
    assert [c.shown for c in cells] == ["<10"] * 5
    assert all(c.count is None for c in cells)


def test_one_small_cell_is_protected_by_hiding_the_next_smallest() -> None:
    # Without the complement, 51 - 20 - 30 would give the hidden 1 away.
    cells, total = _shown([1, 20, 0, 30])
    assert (cells, total) == (["·", "·", "0", "30"], "51")


def test_a_small_cell_next_to_a_cell_of_exactly_k_gets_the_same_mark() -> None:
    # "<10" and "·" would leave 1 and 10 as the only possible values (the "·" is at least 10).
    cells, total = _shown([1, 10, 30])
    assert (cells, total) == (["·", "·", "30"], "41")


def test_ties_with_the_complement_are_hidden_too() -> None:
    # Hiding only one of the two 12s would tell the reader the hidden one is at most 12.
    assert _shown([3, 12, 12, 40]) == (["·", "·", "·", "40"], "67")


def test_two_small_cells_are_enough_when_their_sum_leaves_room() -> None:
    assert _shown([3, 4, 20, 0, 11]) == (["<10", "<10", "20", "0", "11"], "38")


def test_two_ones_would_be_given_away_by_their_sum() -> None:
    # 22 - 20 = 2 and each "<10" is at least 1: both would be 1.
    assert _shown([1, 1, 20]) == (["·", "·", "·"], "22")


def test_two_nines_would_be_given_away_by_their_sum() -> None:
    assert _shown([9, 9, 0, 0]) == (["·", "·", "·", "·"], "18")
    assert _shown([9, 9, 9]) == (["·", "·", "·"], "27")


def test_visible_values_are_exact_and_zeros_are_zero() -> None:
    cells, total = suppress({"minimal": 25, "mild": 0, "moderate": 11}, PHQ9, k=10)
    assert [(c.band, c.count, c.shown) for c in cells] == [
        ("minimal", 25, "25"),
        ("mild", 0, "0"),
        ("moderate", 11, "11"),
        ("moderately_severe", 0, "0"),
        ("severe", 0, "0"),
    ]
    assert total == BandCount("total", 36, "36")


def test_nothing_at_all() -> None:
    assert _shown([0, 0, 0]) == (["0", "0", "0"], "0")


def test_k_is_part_of_the_mark() -> None:
    assert _shown([3, 4, 8], k=5) == (["<5", "<5", "8"], "15")
    assert _shown([3, 4, 8], k=20) == (["<20", "<20", "<20"], "<20")


def test_a_group_with_fewer_people_than_bands_is_not_broken_down() -> None:
    assert _shown([1, 1, 1, 1, 1], k=5) == (["·"] * 5, "5")
    assert _shown([5, 0, 0, 0, 0], k=5) == (["·"] * 5, "5")


@pytest.mark.parametrize("k", [4, 0, -1, True, 5.0])
def test_k_below_five_is_refused(k: object) -> None:
    with pytest.raises(ValueError, match="k must be"):
        suppress({"a": 30}, ["a"], k=k)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("counts", "order", "message"),
    [
        ({"x": 3}, ["a"], "not in the order"),
        ({"a": -1}, ["a"], "non-negative"),
        ({"a": 1.0}, ["a"], "non-negative int"),
        ({"a": 1}, ["a", "a"], "repeat"),
    ],
)
def test_bad_counts_are_refused(counts: dict, order: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        suppress(counts, order, k=10)


# --------------------------------------------------------------------------- the property


@pytest.mark.parametrize(
    ("bands", "k", "largest_total"),
    [(1, 5, 30), (2, 5, 40), (3, 5, 30), (4, 5, 22), (5, 5, 16), (2, 10, 60), (3, 10, 40)],
)
def test_no_hidden_cell_can_be_worked_out_by_a_reader_who_knows_the_rules(
    bands: int, k: int, largest_total: int
) -> None:
    """Every table of `bands` cells with a total up to `largest_total`, grouped by what is
    printed. The reader knows the rules and every printed figure, so what they can know about a
    hidden cell is exactly the set of values it has across the tables printed the same way.
    Each such set must hold at least two values. Totals are printed (or "<k") and so separate
    the groups completely: for a printed total the list of tables is exhaustive, not a sample."""
    printed_as: dict[tuple[tuple[str, ...], str], list[tuple[int, ...]]] = defaultdict(list)
    for n in range(largest_total + 1):
        for vec in _compositions(n, bands):
            printed_as[_printed(vec, k)].append(vec)
    determined = []
    for (cells, total), tables in printed_as.items():
        for i, mark in enumerate(cells):
            if mark.isdigit():
                assert all(t[i] == int(mark) for t in tables)
                continue
            if len({t[i] for t in tables}) < 2:
                determined.append((cells, total, i, tables[0]))
    assert not determined, determined[:5]
    # The enumeration really ran: every table with a total up to largest_total.
    assert sum(map(len, printed_as.values())) == math.comb(largest_total + bands, bands)


def _witness(vec: list[int], k: int, i: int) -> list[int] | None:
    """Another table printed exactly like `vec` whose cell i differs (None if none is found)."""
    target = _printed(vec, k)
    hidden = [j for j, mark in enumerate(target[0]) if not mark.isdigit()]
    candidates: list[list[int]] = []
    for j in hidden:
        if j == i:
            continue
        swapped = list(vec)
        swapped[i], swapped[j] = vec[j], vec[i]
        candidates.append(swapped)
        for step in (1, -1):
            moved = list(vec)
            moved[i] += step
            moved[j] -= step
            candidates.append(moved)
        # All hidden cells at 1 but one that takes the rest (the "all k-1" case).
        spread = list(vec)
        rest = sum(vec[h] for h in hidden) - (len(hidden) - 1)
        for h in hidden:
            spread[h] = 1
        spread[j] = rest
        candidates.append(spread)
    for step in (1, -1):  # a group below k: its total is hidden too
        alone = list(vec)
        alone[i] += step
        candidates.append(alone)
    for alt in candidates:
        if min(alt) >= 0 and alt[i] != vec[i] and _printed(alt, k) == target:
            return alt
    return None


@settings(deadline=None, max_examples=400)
@given(
    counts=st.lists(st.one_of(st.integers(0, 12), st.integers(0, 400)), min_size=1, max_size=8),
    k=st.integers(5, 20),
)
def test_every_hidden_cell_has_another_possible_value(counts: list[int], k: int) -> None:
    cells, total = _shown(counts, k)
    n = sum(counts)
    # Visible figures are exact; what is hidden is below k or marked as a protecting cell.
    if n >= k:
        assert total == str(n)
    for i, (value, mark) in enumerate(zip(counts, cells, strict=True)):
        if mark.isdigit():
            assert int(mark) == value
            assert value == 0 or value >= k
            continue
        assert mark in (f"<{k}", HIDDEN_MARK)
        if 1 <= value < k:
            pass  # a primary cell, always hidden
        else:
            assert mark == HIDDEN_MARK or n < k
        alt = _witness(counts, k, i)
        assert alt is not None, (counts, k, i, cells)


@settings(deadline=None, max_examples=300)
@given(counts=st.lists(st.integers(0, 60), min_size=1, max_size=6), k=st.integers(5, 15))
def test_a_reader_who_subtracts_cannot_pin_a_hidden_cell(counts: list[int], k: int) -> None:
    """The naive reading: "<k" is 1..k-1 (0..k-1 when the total is hidden), "·" is anything;
    the hidden cells add up to the total minus the visible ones. No hidden cell is pinned."""
    cells, total = _shown(counts, k)
    hidden = [i for i, mark in enumerate(cells) if not mark.isdigit()]
    if not hidden or not total.isdigit():
        return
    rest = int(total) - sum(int(c) for c in cells if c.isdigit())
    for i in hidden:
        others = [j for j in hidden if j != i]
        low = {j: (1 if cells[j] == f"<{k}" else 0) for j in others}
        high = {j: (k - 1 if cells[j] == f"<{k}" else rest) for j in others}
        own_low, own_high = (1, k - 1) if cells[i] == f"<{k}" else (0, rest)
        lowest = max(own_low, rest - sum(high.values()))
        highest = min(own_high, rest - sum(low.values()))
        assert highest > lowest, (counts, k, i, cells)
