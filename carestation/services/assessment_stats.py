"""Band statistics: how many forms fell in each band, by station, station-local month and
instrument, counted by the database in one GROUP BY (no form is loaded into Python).

PostgreSQL knows time zones: the month is date_trunc('month', taken_at AT TIME ZONE zone).
SQLite does not, and keeps times as UTC text: the month is strftime('%Y%m', taken_at, '+480
minutes') with the offset in force at that instant, worked out here from zoneinfo (one offset for
Asia/Shanghai; a CASE over the changes for a zone with daylight saving). On SQLite the group is
one integer (month, station, instrument and band packed together), because SQLite sorts to group
and sorts integers several times faster than text; the statistics over 600,000 forms are asked for
on a station PC, not a server.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.orm import Session

from carestation.assessments import instrument_codes, load_instrument
from carestation.db import models as m
from carestation.domain.assessment_values import BandDistributionRow

# Packing of the SQLite group key: ((yyyymm * STATIONS) + station id) * PAIRS + pair code.
_PAIRS = 1000
_SEPARATOR = "|"


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def offset_segments(zone: str, lo: datetime, hi: datetime) -> list[tuple[datetime, int]]:
    """The zone's UTC offsets (in minutes) between `lo` and `hi`: each segment's first instant
    and its offset. One segment for a zone without daylight saving (Asia/Shanghai)."""
    tz = ZoneInfo(zone)

    def offset(ts: int) -> int:
        delta = datetime.fromtimestamp(ts, UTC).astimezone(tz).utcoffset()
        return int(delta.total_seconds() // 60) if delta else 0

    start, end = int(lo.timestamp()), int(hi.timestamp())
    segments = [(lo.astimezone(UTC), offset(start))]
    t = start
    while t < end:
        nxt = min(t + 86_400, end)  # offsets change at most once a day
        if offset(nxt) != segments[-1][1]:
            a, b = t, nxt  # offset(a) is the current one, offset(b) the next: find the second
            while b - a > 1:
                mid = (a + b) // 2
                if offset(mid) == segments[-1][1]:
                    a = mid
                else:
                    b = mid
            segments.append((datetime.fromtimestamp(b, UTC), offset(b)))
        t = nxt
    return segments


@cache
def _pair_codes() -> dict[tuple[str, str], int]:
    """(instrument, band) -> a small number, in the app's order (instruments, bands low to high);
    also the order the rows are returned in."""
    pairs = [
        (code, band.slug) for code in instrument_codes() for band in load_instrument(code).bands
    ]
    return {pair: i for i, pair in enumerate(pairs, start=1)}


def _sqlite_month(segments: list[tuple[datetime, int]]) -> ColumnElement[Any]:
    """yyyymm (an integer) of taken_at shifted by the offset in force at that instant."""

    def shifted(minutes: int) -> ColumnElement[Any]:
        return cast(func.strftime("%Y%m", m.Assessment.taken_at, f"{minutes:+d} minutes"), Integer)

    if len(segments) == 1:
        return shifted(segments[0][1])
    whens = [
        (m.Assessment.taken_at < segments[i + 1][0], shifted(minutes))
        for i, (_start, minutes) in enumerate(segments[:-1])
    ]
    return case(*whens, else_=shifted(segments[-1][1]))


def _sqlite_groups(
    session: Session,
    zones: dict[str, list[int]],
    lo: datetime,
    hi: datetime,
    conditions: list[ColumnElement[bool]],
) -> Iterable[tuple[int, date, str, str, int]]:
    by_zone = [(z, _sqlite_month(offset_segments(z, lo, hi))) for z in zones]
    if len(by_zone) == 1:
        month = by_zone[0][1]
    else:
        month = case(
            *((m.Assessment.station_id.in_(zones[z]), expr) for z, expr in by_zone[:-1]),
            else_=by_zone[-1][1],
        )
    codes = _pair_codes()
    by_instrument: dict[str, dict[str, int]] = {}
    for (code, band), number in codes.items():
        by_instrument.setdefault(code, {})[band] = number
    pair = case(
        {code: case(bands, value=m.Assessment.band) for code, bands in by_instrument.items()},
        value=m.Assessment.instrument,
    )
    stations = 10 ** len(str(max(s for ids in zones.values() for s in ids) + 1))
    key = (month * stations + m.Assessment.station_id) * _PAIRS + func.coalesce(pair, 0)
    # A band the definitions no longer know (an older version's) is grouped by its text.
    other = case(
        (pair.is_(None), m.Assessment.instrument + literal(_SEPARATOR) + m.Assessment.band)
    )
    # Grouped by the output names, so SQLite works the key out once per form (with positional
    # parameters, the expression repeated in GROUP BY would not be recognised as the same).
    query = (
        select(key.label("group_key"), other.label("other_band"), func.count())
        .where(and_(*conditions))
        .group_by(literal_column("group_key"), literal_column("other_band"))
    )
    names = {number: pair for pair, number in codes.items()}
    for packed, unknown, count in session.execute(query):
        rest, number = divmod(int(packed), _PAIRS)
        yyyymm, station = divmod(rest, stations)
        if unknown is not None:
            instrument, _sep, band = str(unknown).partition(_SEPARATOR)
        else:
            instrument, band = names[number]
        yield station, date(yyyymm // 100, yyyymm % 100, 1), instrument, band, int(count)


def _postgres_groups(
    session: Session, conditions: list[ColumnElement[bool]]
) -> Iterable[tuple[int, date, str, str, int]]:
    month = func.date_trunc("month", func.timezone(m.Station.time_zone, m.Assessment.taken_at))
    query = (
        select(
            m.Assessment.station_id, month, m.Assessment.instrument, m.Assessment.band, func.count()
        )
        .join(m.Station, m.Station.id == m.Assessment.station_id)
        .where(and_(*conditions))
        .group_by(m.Assessment.station_id, month, m.Assessment.instrument, m.Assessment.band)
    )
    for station, start, instrument, band, count in session.execute(query):
        yield station, start.date().replace(day=1), instrument, band, int(count)


def band_rows(
    session: Session,
    *,
    is_sqlite: bool,
    first_month: date,
    last_month: date,
    station_ids: Sequence[int] | None,
    instruments: Sequence[str] | None,
) -> list[BandDistributionRow]:
    """Forms by station, station-local month, instrument and band, from `first_month` to
    `last_month` (whole months); by station, then month, instrument and band in the app's order."""
    station_query = select(m.Station.id, m.Station.time_zone)
    if station_ids is not None:
        station_query = station_query.where(m.Station.id.in_(list(station_ids)))
    zones: dict[str, list[int]] = {}
    for sid, zone in session.execute(station_query):
        zones.setdefault(zone, []).append(sid)
    if not zones:
        return []
    first, after = month_start(first_month), next_month(month_start(last_month))
    # Wide enough for every zone; the months at the edges of other zones' windows are dropped.
    lo = min(datetime.combine(first, time.min, tzinfo=ZoneInfo(z)) for z in zones).astimezone(UTC)
    hi = max(datetime.combine(after, time.min, tzinfo=ZoneInfo(z)) for z in zones).astimezone(UTC)
    conditions: list[ColumnElement[bool]] = [
        m.Assessment.taken_at >= lo,
        m.Assessment.taken_at < hi,
    ]
    if station_ids is not None:
        conditions.append(m.Assessment.station_id.in_(list(station_ids)))
    if instruments is not None:
        conditions.append(m.Assessment.instrument.in_(list(instruments)))
    groups = (
        _sqlite_groups(session, zones, lo, hi, conditions)
        if is_sqlite
        else _postgres_groups(session, conditions)
    )
    rows = [
        BandDistributionRow(station_id=s, month=start, instrument=i, band=b, count=n)
        for s, start, i, b, n in groups
        if first <= start < after
    ]
    order = _pair_codes()
    rows.sort(
        key=lambda r: (
            r.station_id,
            r.month,
            order.get((r.instrument, r.band), len(order)),
            r.instrument,
            r.band,
        )
    )
    return rows
