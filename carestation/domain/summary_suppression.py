"""Suppression for the managers' summary report: per station with `suppress`, and a selection's
figures that can never give away what a station's figures hide, in one report or across several.

The report prints, for each block (a month or a quarter), one row per station and one row for the
selection (the stations chosen, together). Each station's row is suppressed on its own with
`domain.suppression.suppress` (primary "<k", complementary "·", the station's total known to the
reader), so it depends only on that station's data and is the same in every report that shows it.

The selection's row is where differencing would bite. Print the selection {A, B, C} and then
{A, B}: if a category's total were shown in both, their difference would be C's cell, whatever C's
row hides. Complementary suppression inside one report (hide one more station's cell when exactly
one is hidden) does not help: {A, B} printed without anything hidden gives A's complement back.
So the rule is:

    A selection cell is shown only when it is the sum of shown station cells: the cell of every
    station in the selection is shown. Otherwise it is hidden ("·"), except that when exactly one
    station's cell is hidden and every other station's cell is 0 it repeats that station's mark.
    The selection's total follows the same rule over the stations' totals.

Proof that no combination of reports reveals more than the stations' own rows: the functions below
take the *printed* cells (`count` is None for a hidden cell, so a hidden value is not even in their
input) and nothing else; the selection row is therefore a function of the printed station rows.
Any set of reports, over any selections, thus carries exactly the information of the printed rows
of the stations involved, and each of those is protected by `suppress`. tests/unit/
test_summary_suppression.py checks this by enumeration: every table of three stations, printed for
every selection, leaves every hidden station cell with at least two possible values.

Quarters and their months are nested blocks, and a quarterly report could be set against the
monthly reports of the same quarter: some counts add up over the months exactly (people whose
first session fell in the quarter, lecture attendances), most nearly. So in a quarterly report a
station's cell is shown only when that cell is shown in each of the quarter's three months
(`nested_group`, `nested_cell`); then it says nothing about a hidden monthly cell, there being
none. A cell hidden this way is hidden in the quarter's selection too (the selection is built
from the stations' printed quarter cells), and when it is the only hidden cell of its group the
group's total is hidden with it, so that the total cannot give it back.

Counts of people are distinct people within one station and block; a selection's count adds the
stations' counts (a person seen at two stations counts at each), which is what keeps the
selection's cells plain sums of the station cells.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from carestation.domain.assessment_values import BandCount
from carestation.domain.summary_values import NO_FIGURE, NOT_SHOWN, PeopleGroup
from carestation.domain.suppression import HIDDEN_MARK, small_mark, suppress


def people_cell(key: str, count: int, *, k: int) -> BandCount:
    """One count of people on its own: "0", "<k" for 1..k-1, the number from k on."""
    _cells, total = suppress({key: count}, [key], k=k)
    return BandCount(key, total.count, total.shown)


def people_group(
    key: str, counts: Mapping[str, int], order: Sequence[str], *, k: int
) -> PeopleGroup:
    """People split over `order` (every person in exactly one category), suppressed together."""
    cells, total = suppress(counts, order, k=k)
    return PeopleGroup(key=key, cells=cells, total=total)


def selection_cell(key: str, members: Sequence[BandCount]) -> BandCount:
    """The selection's cell from the stations' printed cells (see the module's rule)."""
    hidden = [c for c in members if c.count is None]
    if not hidden:
        value = sum(c.count or 0 for c in members)
        return BandCount(key, value, str(value))
    if len(hidden) == 1 and all(c.count == 0 for c in members if c.count is not None):
        return BandCount(key, None, hidden[0].shown)
    return BandCount(key, None, HIDDEN_MARK)


def selection_group(members: Sequence[PeopleGroup]) -> PeopleGroup:
    """The selection's group from the stations' printed groups (same key and categories)."""
    first = members[0]
    cells = tuple(
        selection_cell(cell.band, [g.cells[i] for g in members])
        for i, cell in enumerate(first.cells)
    )
    total = selection_cell(first.total.band, [g.total for g in members])
    return PeopleGroup(key=first.key, cells=cells, total=total)


def statistic_shown(people: BandCount, value: int | None, *, k: int) -> tuple[int | None, str]:
    """A median or percentile of `people`: shown only when their count is shown and at least k.

    For a station, a hidden count is always below k ("<k"); for a selection it may be hidden
    because one of its stations is ("·"), and the statistic is then not shown either."""
    if people.count is not None and people.count >= k and value is not None:
        return value, str(value)
    if people.count is not None:  # shown, but 0 people: nothing to summarise
        return None, NO_FIGURE if people.count == 0 else small_mark(k)
    return None, small_mark(k) if people.shown == small_mark(k) else NOT_SHOWN


def nested_cell(cell: BandCount, months: Sequence[BandCount]) -> BandCount:
    """A quarter's cell, hidden ("·") unless the same cell is shown in each of its months."""
    if cell.count is None or all(m.count is not None for m in months):
        return cell
    return BandCount(cell.band, None, HIDDEN_MARK)


def nested_group(group: PeopleGroup, months: Sequence[PeopleGroup]) -> PeopleGroup:
    """A quarter's group with `nested_cell` applied to its cells and total; a lone hidden cell
    takes the total with it."""
    cells = tuple(
        nested_cell(cell, [m.cells[i] for m in months]) for i, cell in enumerate(group.cells)
    )
    total = nested_cell(group.total, [m.total for m in months])
    if total.count is not None and sum(c.count is None for c in cells) == 1:
        total = BandCount(total.band, None, HIDDEN_MARK)
    return PeopleGroup(key=group.key, cells=cells, total=total)
