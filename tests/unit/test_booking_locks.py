"""The advisory-lock keys PostgreSQL bookings take: distinct for every kind, id and day, and
always a signed 64-bit integer (pg_advisory_xact_lock takes a bigint)."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from carestation.services.booking import _lock_key

IDS = st.integers(min_value=1, max_value=2**31 - 1)
DAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2200, 12, 31)).map(date.toordinal)


@given(kind=st.integers(min_value=1, max_value=4), ident=IDS, day=DAYS)
def test_keys_are_bigints(kind: int, ident: int, day: int) -> None:
    assert -(2**63) <= _lock_key(kind, ident, day) < 2**63


@given(a=st.tuples(st.integers(1, 4), IDS, DAYS), b=st.tuples(st.integers(1, 4), IDS, DAYS))
def test_different_things_never_share_a_key(
    a: tuple[int, int, int], b: tuple[int, int, int]
) -> None:
    if a != b:
        assert _lock_key(*a) != _lock_key(*b)
