"""Small-cell suppression for published counts: no count below k, and none that can be worked out
from the total and the other figures.

The rules, for one group of cells (a distribution over bands) with total N:

1. N = 0: every cell and the total show "0".
2. 1 <= N < k: the group is too small to describe at all. Every cell and the total show "<k"
   (zeros too: showing "0" for the other bands would say that everybody is in the one band
   left, which is what suppression is for).
3. N >= k and N <= the number of cells (only possible for k <= the number of bands): every cell
   is hidden ("·"), the total is shown. Nothing can be said about so few people per band.
4. Otherwise the total is shown, zero cells show "0", cells of k or more show their value, and
   cells of 1..k-1 are the *primary* cells:
   a. two or more primary cells whose sum is neither the smallest nor the largest they could
      have (not all 1, not all k-1): each shows "<k". Any of them could be raised by one and
      another lowered by one, so none is determined.
   b. exactly one primary cell (total minus the others would give it away), or primary cells
      all 1 or all k-1 (their sum would give each one away): complementary suppression. The
      smallest non-zero cell of k or more is hidden as well (every cell of that value, so that a
      tie cannot show which was picked); if there is none, every zero cell is hidden instead.
      All hidden cells of the group then show the same neutral "·", primary or not.

Why one neutral mark in case b rather than "<k" on the small cell and "·" on its complement:
with 1 person in one band and k in another, "<k" + "·" + the total leaves only 1 and k as the
possible values (the "<k" cell is at least 1, the other at least k). With the same mark on both,
the reader cannot tell which hidden cell is the small one, and every hidden cell could hold
another value: swapping the hidden values between the cells gives the same printed table (the
tests check this by listing every table up to a size and grouping them by what is printed).

What a reader can learn is limited to the printed marks: "<k" is 1..k-1 (or 0..k-1 in a group
below k), "·" is a number hidden so that no small number can be worked out. Visible values are
exact. The total of every group is assumed known to the reader (in a campaign it equals the
number of participants), so protection never relies on hiding it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from carestation.domain.assessment_values import BandCount
from carestation.i18n import N_

MIN_K = 5
# What a cell hidden by rule 3 or 4b shows (the contract's mark for a protecting cell).
HIDDEN_MARK = "·"
# Footnotes for a printout: translate with _() when shown; format with k.
SMALL_MARK_NOTE = N_("<{k}: fewer than {k} people (a group of fewer than {k} is not broken down).")
HIDDEN_MARK_NOTE = N_(
    "·: not shown, so that a number below {k} cannot be worked out from the total and the other "
    "numbers."
)


def small_mark(k: int) -> str:
    return f"<{k}"


def suppress(
    counts: Mapping[str, int], order: Sequence[str], *, k: int
) -> tuple[tuple[BandCount, ...], BandCount]:
    """The cells of `order` (a missing band counts 0) and the total, suppressed as above.

    Raises ValueError for k below MIN_K, a band in `counts` that is not in `order`, a repeated
    band in `order`, or a count that is not a non-negative int.
    """
    if isinstance(k, bool) or not isinstance(k, int):
        raise ValueError(f"k must be an int, got {k!r}")
    if k < MIN_K:
        raise ValueError(f"k must be at least {MIN_K}, got {k}")
    if len(set(order)) != len(order):
        raise ValueError(f"bands repeat in {list(order)!r}")
    unknown = set(counts) - set(order)
    if unknown:
        raise ValueError(f"counts for bands not in the order: {sorted(unknown)!r}")
    values: list[int] = []
    for band in order:
        value = counts.get(band, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"count for {band!r} must be a non-negative int, got {value!r}")
        values.append(value)

    total = sum(values)
    small = small_mark(k)
    if total == 0:
        return tuple(BandCount(b, 0, "0") for b in order), BandCount("total", 0, "0")
    if total < k:
        return tuple(BandCount(b, None, small) for b in order), BandCount("total", None, small)
    shown_total = BandCount("total", total, str(total))
    if total <= len(values):  # rule 3
        hidden, neutral = set(range(len(values))), True
    else:
        hidden, neutral = _hidden_cells(values, k), _needs_complement(values, k)
    mark = HIDDEN_MARK if neutral else small
    cells = [
        BandCount(band, None, mark) if i in hidden else BandCount(band, value, str(value))
        for i, (band, value) in enumerate(zip(order, values, strict=True))
    ]
    return tuple(cells), shown_total


def _primary(values: Sequence[int], k: int) -> list[int]:
    return [i for i, v in enumerate(values) if 1 <= v < k]


def _needs_complement(values: Sequence[int], k: int) -> bool:
    primary = _primary(values, k)
    if not primary:
        return False
    if len(primary) == 1:
        return True
    hidden_sum = sum(values[i] for i in primary)
    return hidden_sum in (len(primary), len(primary) * (k - 1))


def _hidden_cells(values: Sequence[int], k: int) -> set[int]:
    """The cells to hide in a group whose total is at least k and above the number of cells."""
    hidden = set(_primary(values, k))
    if not _needs_complement(values, k):
        return hidden
    larger = [v for v in values if v >= k]
    # Every cell of the complement's value, or failing one every zero: a choice made by value,
    # never by position, so that swapping hidden values between cells prints the same table.
    fill = min(larger) if larger else 0
    return hidden | {i for i, v in enumerate(values) if v == fill}
