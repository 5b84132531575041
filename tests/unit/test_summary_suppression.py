"""The summary report's suppression across stations: whatever selections a reader prints, a
hidden station cell keeps at least two possible values (checked by listing every table)."""

from __future__ import annotations

import itertools
from collections import defaultdict

from carestation.domain.assessment_values import BandCount
from carestation.domain.summary_suppression import (
    nested_cell,
    nested_group,
    people_cell,
    people_group,
    selection_cell,
    selection_group,
    statistic_shown,
)
from carestation.domain.summary_values import PeopleGroup

K = 5
BANDS = ("a", "b")
# Every value up to k + 1: a hidden cell's alternatives must all be in the listing, or a
# cell would look determined only because its twin was left out.
VALUES = tuple(range(K + 2))
STATIONS = 3
SELECTIONS = [s for n in range(1, STATIONS + 1) for s in itertools.combinations(range(STATIONS), n)]


def _row(a: int, b: int) -> PeopleGroup:
    return people_group("x", {"a": a, "b": b}, BANDS, k=K)


def _printed(group: PeopleGroup) -> tuple[str, ...]:
    return (*(c.shown for c in group.cells), group.total.shown)


def test_no_set_of_reports_determines_a_hidden_station_cell() -> None:
    """Every table of 3 stations x 2 bands with values in VALUES, printed for all 7 selections
    (each report: its stations' rows and the selection's row). Tables that print the same are
    indistinguishable to the reader; each hidden station cell must differ among them."""
    printed_as: dict[tuple[tuple[str, ...], ...], list[tuple[int, ...]]] = defaultdict(list)
    pairs = list(itertools.product(VALUES, repeat=2))
    rows_cache = {pair: _row(*pair) for pair in pairs}
    printed_rows = {pair: _printed(row) for pair, row in rows_cache.items()}
    # The selection's printout, computed once per combination of the stations' true values.
    selection_cache: dict[tuple[tuple[int, int], ...], tuple[str, ...]] = {}

    def selection(values: tuple[tuple[int, int], ...]) -> tuple[str, ...]:
        if values not in selection_cache:
            selection_cache[values] = _printed(selection_group([rows_cache[v] for v in values]))
        return selection_cache[values]

    for stations in itertools.product(pairs, repeat=STATIONS):
        reports = tuple(
            (
                *(printed_rows[stations[i]] for i in sel),
                selection(tuple(stations[i] for i in sel)),
            )
            for sel in SELECTIONS
        )
        table = tuple(itertools.chain.from_iterable(stations))
        printed_as[tuple(itertools.chain.from_iterable(reports))].append(table)
    checked = 0
    for tables in printed_as.values():
        sample = tables[0]
        rows = [rows_cache[(sample[2 * i], sample[2 * i + 1])] for i in range(STATIONS)]
        for i, row in enumerate(rows):
            for j, cell in enumerate(row.cells):
                if cell.count is None:
                    possible = {t[2 * i + j] for t in tables}
                    assert len(possible) >= 2, (sample, i, j, possible)
                    checked += 1
    assert checked > 1000  # the check ran over many hidden cells


def test_a_naive_selection_total_would_give_the_hidden_cell_away() -> None:
    """Why the rule: A = (20, 30), B = (15, 12), C = (3, 12). C's 3 is hidden in C's row, yet
    the plain sums of {A, B, C} and {A, B} differ by exactly 3."""
    a, b, c = _row(20, 30), _row(15, 12), _row(3, 12)
    assert _printed(c) == ("·", "·", "15")
    three, two = selection_group([a, b, c]), selection_group([a, b])
    assert _printed(two) == ("35", "42", "77")
    assert _printed(three) == ("·", "·", "92")  # not 38 and 54
    assert three.cells[0].count is None


def test_selection_cells_are_sums_of_shown_cells_or_hidden() -> None:
    shown = [BandCount("n", 12, "12"), BandCount("n", 0, "0"), BandCount("n", 30, "30")]
    assert selection_cell("n", shown) == BandCount("n", 42, "42")
    one_small = [BandCount("n", 0, "0"), BandCount("n", None, "<5"), BandCount("n", 0, "0")]
    # The others are 0: the selection is that station's number, and prints its mark.
    assert selection_cell("n", one_small) == BandCount("n", None, "<5")
    mixed = [BandCount("n", 12, "12"), BandCount("n", None, "<5")]
    assert selection_cell("n", mixed) == BandCount("n", None, "·")
    two_hidden = [BandCount("n", None, "<5"), BandCount("n", None, "<5")]
    assert selection_cell("n", two_hidden) == BandCount("n", None, "·")


def test_single_people_counts() -> None:
    assert people_cell("n", 0, k=K) == BandCount("n", 0, "0")
    assert people_cell("n", 4, k=K) == BandCount("n", None, "<5")
    assert people_cell("n", 5, k=K) == BandCount("n", 5, "5")


def test_statistics_are_shown_for_k_people_only() -> None:
    assert statistic_shown(BandCount("p", 12, "12"), 9, k=K) == (9, "9")
    assert statistic_shown(BandCount("p", None, "<5"), 9, k=K) == (None, "<5")
    # A selection hidden because of one station: not shown, with the neutral mark.
    assert statistic_shown(BandCount("p", None, "·"), 9, k=K) == (None, "·")
    assert statistic_shown(BandCount("p", 0, "0"), None, k=K) == (None, "—")


def test_a_quarter_cell_is_shown_only_where_every_month_shows_it() -> None:
    months = [BandCount("n", 6, "6"), BandCount("n", None, "<5"), BandCount("n", 5, "5")]
    assert nested_cell(BandCount("n", 13, "13"), months) == BandCount("n", None, "·")
    assert nested_cell(BandCount("n", 11, "11"), [months[0], months[2]]) == BandCount("n", 11, "11")
    # Already hidden by its own suppression: its mark stays.
    assert nested_cell(BandCount("n", None, "<5"), months) == BandCount("n", None, "<5")


def test_cells_a_month_hides_are_hidden_in_the_quarter() -> None:
    quarter = _row_abc(20, 30, 9)
    assert _printed(quarter) == ("20", "30", "9", "59")
    # January hides its 3 and, to protect it, its 12: the quarter hides those two cells too.
    assert _printed(_row_abc(3, 12, 0)) == ("·", "·", "0", "15")
    nested = nested_group(quarter, [_row_abc(3, 12, 0), _row_abc(6, 6, 0), _row_abc(0, 0, 0)])
    assert _printed(nested) == ("·", "·", "9", "59")


def test_a_lone_cell_hidden_by_a_month_takes_the_quarters_total_with_it() -> None:
    # suppress never hides one cell alone, but the rule does not rely on it.
    month = PeopleGroup(
        key="x",
        cells=(BandCount("a", 20, "20"), BandCount("b", None, "·"), BandCount("c", 9, "9")),
        total=BandCount("total", 59, "59"),
    )
    lone = nested_group(_row_abc(20, 30, 9), [month])
    assert _printed(lone) == ("20", "·", "9", "·")  # 59 - 20 - 9 would give the 30 back


def _row_abc(a: int, b: int, c: int) -> PeopleGroup:
    return people_group("x", {"a": a, "b": b, "c": c}, ("a", "b", "c"), k=K)
