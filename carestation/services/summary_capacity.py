"""What the stations had on offer in each block: opening minutes, rooms, and counsellors'
scheduled minutes, the denominators of room and counsellor-hours use.

These come from the schedule's settings (weekly hours, closed days, leave), a few hundred rows at
most, and the public-holiday calendar, which the database does not have; so the days are walked
here, in Python, once per report. The booked minutes they are set against are summed in SQL
(summary_queries.appointment_groups).

The schema keeps only the current weekly hours and the current set of rooms, so a block in the
past is measured against today's hours and rooms.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from carestation.db import models as m
from carestation.domain.periods import Period, intersect
from carestation.domain.scheduling import china_calendar, local_period
from carestation.domain.vocab import ExceptionKind, RoomKind
from carestation.services.summary_queries import Frame

Key = tuple[int, date]
Hours = dict[int, list[tuple[time, time]]]  # weekday -> periods


def _minutes(start: time, end: time) -> int:
    return (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)


class DayCalendar:
    """Public holidays and make-up working days, one calendar per year (looking each day up in a
    fresh calendar, as scheduling.day_info does, would cost a second for a year of days)."""

    def __init__(self, first: date, after: date) -> None:
        self._days: dict[date, tuple[bool, bool]] = {}
        for year in range(first.year, after.year + 1):
            cal = china_calendar(year)
            makeup = set(cal.weekend_workdays)
            day = max(first, date(year, 1, 1))
            while day < after and day.year == year:
                self._days[day] = (day in cal, day in makeup)
                day += timedelta(days=1)

    def days(self) -> Iterable[date]:
        return self._days.keys()

    def weekday(self, day: date, open_weekdays: Iterable[int]) -> int | None:
        """The weekday whose hours apply (scheduling.working_weekday, with the year's calendar):
        None on a public holiday, the first weekday worked on a make-up working day."""
        holiday, makeup = self._days[day]
        if holiday:
            return None
        if makeup:
            weekdays = sorted(d for d in set(open_weekdays) if d < 5)
            return weekdays[0] if weekdays else None
        return day.weekday()


def _closures(session: Session, frame: Frame) -> set[tuple[int, date]]:
    c = m.StationClosure
    rows = session.execute(
        select(c.station_id, c.day).where(
            c.station_id.in_(frame.station_ids),
            c.day >= frame.first,
            c.day < frame.after,
        )
    )
    return {(s, d) for s, d in rows}


def opening_minutes(session: Session, frame: Frame, calendar: DayCalendar) -> dict[Key, int]:
    """Minutes each station was open in each block: its weekly hours on every day that is not a
    public holiday or one of its closed days (a make-up working day has its first weekday's)."""
    hours: dict[int, Hours] = defaultdict(lambda: defaultdict(list))
    h = m.StationHours
    for station, day_of_week, opens, closes in session.execute(
        select(h.station_id, h.weekday, h.opens, h.closes).where(
            h.station_id.in_(frame.station_ids)
        )
    ):
        hours[station][day_of_week].append((opens, closes))
    closed = _closures(session, frame)
    result: dict[Key, int] = defaultdict(int)
    for station in frame.station_ids:
        weekly = hours.get(station, {})
        for day in calendar.days():
            weekday = calendar.weekday(day, weekly.keys())
            if weekday is None or (station, day) in closed:
                continue
            minutes = sum(_minutes(a, b) for a, b in weekly.get(weekday, ()))
            result[(station, frame.block_of(day.replace(day=1)))] += minutes
    return dict(result)


def active_rooms(session: Session, frame: Frame) -> dict[int, dict[RoomKind, int]]:
    r = m.Room
    result: dict[int, dict[RoomKind, int]] = defaultdict(lambda: dict.fromkeys(RoomKind, 0))
    for station, kind in session.execute(
        select(r.station_id, r.kind).where(r.station_id.in_(frame.station_ids), r.active)
    ):
        result[station][RoomKind(kind)] += 1
    return dict(result)


def counsellor_minutes(session: Session, frame: Frame, calendar: DayCalendar) -> dict[Key, int]:
    """Counsellors' scheduled minutes at each station in each block: their weekly hours there on
    the days the station is open (not public holidays, not its closed days), less the recorded
    leave and training days that fall in those hours, plus extra hours recorded for the station.
    Counsellors whose account is deactivated are left out."""
    h, u = m.CounsellorHours, m.UserAccount
    hours: dict[tuple[int, int], Hours] = defaultdict(lambda: defaultdict(list))
    for counsellor, station, day_of_week, starts, ends in session.execute(
        select(h.counsellor_id, h.station_id, h.weekday, h.starts, h.ends)
        .join(u, u.id == h.counsellor_id)
        .where(h.station_id.in_(frame.station_ids), u.active)
    ):
        hours[(counsellor, station)][day_of_week].append((starts, ends))
    closed = _closures(session, frame)
    result: dict[Key, int] = defaultdict(int)
    for (_counsellor, station), weekly in hours.items():
        for day in calendar.days():
            weekday = calendar.weekday(day, weekly.keys())
            if weekday is None or (station, day) in closed:
                continue
            minutes = sum(_minutes(a, b) for a, b in weekly.get(weekday, ()))
            result[(station, frame.block_of(day.replace(day=1)))] += minutes

    zone_of = {s: zone for zone, ids in frame.zones.items() for s in ids}

    def scheduled(counsellor: int, station: int, day: date) -> list[Period]:
        weekly = hours.get((counsellor, station))
        if not weekly or (station, day) in closed:
            return []
        weekday = calendar.weekday(day, weekly.keys())
        if weekday is None:
            return []
        tz = ZoneInfo(zone_of[station])
        return [local_period(day, a, b, tz) for a, b in weekly.get(weekday, ())]

    x = m.CounsellorAbsence
    lo = min(frame.bounds(z)[0] for z in frame.zones)
    hi = max(frame.bounds(z)[1] for z in frame.zones)
    for counsellor, station_id, kind, from_, until in session.execute(
        select(x.counsellor_id, x.station_id, x.kind, x.starts_at, x.ends_at).where(
            x.starts_at < hi, x.ends_at > lo
        )
    ):
        if station_id is not None:
            stations = [station_id] if station_id in zone_of else []
        elif kind is ExceptionKind.EXTRA:
            stations = []  # extra hours count where they were recorded; none said: nowhere
        else:
            stations = [s for (c, s) in hours if c == counsellor]  # leave: at every station
        for station in stations:
            for day, part in _days_of(Period(from_, until), ZoneInfo(zone_of[station])):
                if not frame.first <= day < frame.after:
                    continue
                covered = _total(intersect(part, scheduled(counsellor, station, day)))
                added = _total(part) - covered if kind is ExceptionKind.EXTRA else -covered
                key = (station, frame.block_of(day.replace(day=1)))
                result[key] = result.get(key, 0) + added
    return dict(result)


def _total(periods: Iterable[Period]) -> int:
    return sum((p.duration for p in periods), start=timedelta()) // timedelta(minutes=1)


def _days_of(period: Period, tz: ZoneInfo) -> Iterable[tuple[date, list[Period]]]:
    """Each local day `period` touches, with the part of it that falls on that day."""
    day = period.start.astimezone(tz).date()
    last = period.end.astimezone(tz).date()
    while day <= last:
        whole = Period(
            datetime.combine(day, time.min, tzinfo=tz),
            datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz),
        )
        yield day, intersect([period], [whole])
        day += timedelta(days=1)
