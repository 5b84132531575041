"""The summary report's SQL: station-local months and blocks worked out by the database, and the
operational counts (appointments, minutes, lectures) grouped by station and block.

Months are station-local, as in services/assessment_stats.py: on
PostgreSQL from `timezone(zone, t)`; on SQLite, which keeps UTC text and knows no zones, by
shifting with the offset in force at that instant (`offset_segments`: one offset for
Asia/Shanghai, a CASE over the changes for a zone with daylight saving). A block is a month, or
the quarter holding it, written as the yyyymm of its first month: an integer both databases
compute and group by.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Session

from carestation.db import models as m
from carestation.domain.summary_values import Grouping
from carestation.domain.vocab import (
    AppointmentStatus,
    AppointmentType,
    RegistrationStatus,
)
from carestation.services.assessment_stats import month_start, next_month, offset_segments

# Appointments with a counsellor's time in them (counsellor-hours use, waiting time).
SESSION_TYPES = (AppointmentType.COUNSELLING, AppointmentType.ONLINE, AppointmentType.CRISIS)
# How far back a first contact may lie before the report's period for SQLite to know its zone's
# offsets exactly (earlier contacts take the earliest offset: a day off at most, in a zone with
# daylight saving, for a contact more than ten years before the session).
_CONTACT_YEARS = 10


@lru_cache(maxsize=64)
def _segments(zone: str, lo: datetime, hi: datetime) -> tuple[tuple[datetime, int], ...]:
    return tuple(offset_segments(zone, lo, hi))


def yyyymm(day: date) -> int:
    return day.year * 100 + day.month


def from_yyyymm(value: int) -> date:
    return date(int(value) // 100, int(value) % 100, 1)


@dataclass(frozen=True)
class Frame:
    """Where and when a report looks: its stations by time zone, whole months from `first` to
    before `after`, grouped by month or quarter."""

    is_sqlite: bool
    zones: dict[str, tuple[int, ...]]
    first: date
    after: date
    grouping: Grouping

    @property
    def station_ids(self) -> list[int]:
        return [s for ids in self.zones.values() for s in ids]

    def bounds(self, zone: str) -> tuple[datetime, datetime]:
        tz = ZoneInfo(zone)
        lo = datetime.combine(self.first, time.min, tzinfo=tz).astimezone(UTC)
        hi = datetime.combine(self.after, time.min, tzinfo=tz).astimezone(UTC)
        return lo, hi

    def block_starts(self) -> list[date]:
        """The first month of every block, oldest first."""
        starts, month = [], self.first
        step = 3 if self.grouping == "quarter" else 1
        while month < self.after:
            starts.append(month)
            for _ in range(step):
                month = next_month(month)
        return starts

    def block_of(self, month: date) -> date:
        if self.grouping == "quarter":
            return month.replace(month=month.month - (month.month - 1) % 3)
        return month_start(month)

    # -- expressions ---------------------------------------------------------------------------

    def within(self, column: Any, station: Any) -> ColumnElement[bool]:
        """`column` (a UTC time) falls in the period, in the time zone of `station`."""
        parts = []
        for zone, ids in self.zones.items():
            lo, hi = self.bounds(zone)
            parts.append(and_(station.in_(ids), column >= lo, column < hi))
        return or_(*parts) if parts else false()

    def _per_zone(self, station: Any, build: Any) -> ColumnElement[Any]:
        exprs = [(ids, build(zone)) for zone, ids in self.zones.items()]
        if len(exprs) == 1:
            return exprs[0][1]
        return case(*((station.in_(ids), e) for ids, e in exprs[:-1]), else_=exprs[-1][1])

    def _sqlite_shifted(self, fn: Any, column: Any, zone: str, lo: datetime) -> ColumnElement[Any]:
        _lo, hi = self.bounds(zone)
        segments = _segments(zone, lo, hi)
        if len(segments) == 1:
            return fn(f"{segments[0][1]:+d} minutes")
        whens = [
            (column < segments[i + 1][0], fn(f"{minutes:+d} minutes"))
            for i, (_start, minutes) in enumerate(segments[:-1])
        ]
        return case(*whens, else_=fn(f"{segments[-1][1]:+d} minutes"))

    def month(self, column: Any, station: Any) -> ColumnElement[int]:
        """yyyymm of `column` in the station's zone."""
        if self.is_sqlite:

            def build(zone: str) -> ColumnElement[Any]:
                return self._sqlite_shifted(
                    lambda shift: cast(func.strftime("%Y%m", column, shift), Integer),
                    column,
                    zone,
                    self.bounds(zone)[0],
                )

            return self._per_zone(station, build)
        return cast(func.to_char(func.timezone(self._pg_zone(station), column), "YYYYMM"), Integer)

    def block(self, column: Any, station: Any) -> ColumnElement[int]:
        """yyyymm of the first month of the block holding `column` (station-local)."""
        month = self.month(column, station)
        if self.grouping == "quarter":
            return month - (month % 100 - 1) % 3
        return month

    def day_number(self, column: Any, station: Any, *, earlier: bool = False) -> ColumnElement[int]:
        """A whole number of days of `column`'s station-local date: differences are days.
        `earlier`: the column may lie years before the period (a first contact)."""
        if self.is_sqlite:

            def build(zone: str) -> ColumnElement[Any]:
                years = _CONTACT_YEARS if earlier else 0
                lo = self.bounds(zone)[0] - timedelta(days=366 * years)
                return self._sqlite_shifted(
                    lambda shift: cast(func.julianday(func.date(column, shift)), Integer),
                    column,
                    zone,
                    lo,
                )

            return self._per_zone(station, build)
        local = func.timezone(self._pg_zone(station), column)
        return cast(func.floor(func.date_part("epoch", local) / 86400), Integer)

    def _pg_zone(self, station: Any) -> ColumnElement[Any]:
        return self._per_zone(station, lambda zone: literal(zone))

    def minutes(self, starts: Any, ends: Any) -> ColumnElement[int]:
        if self.is_sqlite:
            return cast(func.round((func.julianday(ends) - func.julianday(starts)) * 1440), Integer)
        return cast(func.round(func.date_part("epoch", ends - starts) / 60), Integer)


# --------------------------------------------------------------------------- operational


@dataclass(frozen=True)
class AppointmentGroup:
    station_id: int
    block: date
    type: AppointmentType
    modality: str
    status: AppointmentStatus
    late_cancel: bool
    room_kind: str | None
    with_counsellor: bool
    count: int
    minutes: int


def appointment_groups(session: Session, frame: Frame) -> Iterator[AppointmentGroup]:
    """Appointments by station, block, type, modality, status, late cancellation, room kind and
    whether a counsellor runs them: count and booked minutes, one GROUP BY."""
    a = m.Appointment
    inner = (
        select(
            a.station_id.label("station"),
            frame.block(a.starts_at, a.station_id).label("blk"),
            a.type.label("type"),
            a.modality.label("modality"),
            a.status.label("status"),
            case((a.late_cancel, 1), else_=0).label("late"),
            m.Room.kind.label("room_kind"),
            case((a.counsellor_id.is_(None), 0), else_=1).label("with_counsellor"),
            frame.minutes(a.starts_at, a.ends_at).label("minutes"),
        )
        .outerjoin(m.Room, m.Room.id == a.room_id)
        .where(a.station_id.in_(frame.station_ids), frame.within(a.starts_at, a.station_id))
        .subquery()
    )
    c = inner.c
    keys = (c.station, c.blk, c.type, c.modality, c.status, c.late, c.room_kind, c.with_counsellor)
    query = select(*keys, func.count(), func.sum(c.minutes)).group_by(*keys)
    for (
        station,
        blk,
        type_,
        modality,
        status,
        late,
        kind,
        counsellor,
        n,
        minutes,
    ) in session.execute(query):
        yield AppointmentGroup(
            station_id=station,
            block=from_yyyymm(blk),
            type=AppointmentType(type_),
            modality=str(modality),
            status=AppointmentStatus(status),
            late_cancel=bool(late),
            room_kind=None if kind is None else str(kind),
            with_counsellor=bool(counsellor),
            count=int(n),
            minutes=int(minutes or 0),
        )


def lecture_attendance(session: Session, frame: Frame) -> dict[tuple[int, date], int]:
    """Registrations marked attended, for lectures (not cancelled) starting in each block."""
    a, r = m.Appointment, m.LectureRegistration
    inner = (
        select(a.station_id.label("station"), frame.block(a.starts_at, a.station_id).label("blk"))
        .join(r, r.appointment_id == a.id)
        .where(
            a.station_id.in_(frame.station_ids),
            frame.within(a.starts_at, a.station_id),
            a.type == AppointmentType.LECTURE,
            a.status != AppointmentStatus.CANCELLED,
            r.status == RegistrationStatus.REGISTERED,
            r.attended.is_(True),
        )
        .subquery()
    )
    query = select(inner.c.station, inner.c.blk, func.count()).group_by(
        inner.c.station, inner.c.blk
    )
    return {(s, from_yyyymm(b)): int(n) for s, b, n in session.execute(query)}


def crisis_people(
    session: Session, frame: Frame
) -> tuple[dict[tuple[int, date], int], dict[tuple[int, date], int]]:
    """Distinct people with a crisis flag raised, and with one cleared, in each block (the
    flag's station)."""
    f = m.CrisisFlag
    results = []
    for column in (f.raised_at, f.cleared_at):
        inner = (
            select(
                f.station_id.label("station"),
                frame.block(column, f.station_id).label("blk"),
                f.client_id.label("client"),
            )
            .where(f.station_id.in_(frame.station_ids), frame.within(column, f.station_id))
            .subquery()
        )
        query = select(
            inner.c.station, inner.c.blk, func.count(func.distinct(inner.c.client))
        ).group_by(inner.c.station, inner.c.blk)
        results.append({(s, from_yyyymm(b)): int(n) for s, b, n in session.execute(query)})
    return results[0], results[1]
