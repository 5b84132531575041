"""Booking rules as plain Python: what each appointment type needs, when stations and counsellors
are available (public holidays and make-up working days included), and where free slots are."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from carestation.domain.periods import Period, intersect, normalise, subtract
from carestation.domain.vocab import AppointmentType, ExceptionKind, Modality, RoomKind
from carestation.i18n import current_language

SLOT_GRID = timedelta(minutes=15)  # slots start on the quarter hour: easy to read and to say
MAX_DURATION = timedelta(hours=12)  # no appointment lasts longer; the database checks rely on it
WALK_IN_WINDOW = timedelta(days=7)  # how far back a past walk-in may be recorded


@dataclass(frozen=True)
class TypeSpec:
    """What an appointment type needs. Rules that stations may change live in BookingRules."""

    type: AppointmentType
    needs_counsellor: bool
    needs_client: bool
    room_kinds: tuple[RoomKind, ...]  # empty: never in a room
    room_optional: bool  # True: a room, or (lecture) an off-site address, or (remote) none
    modalities: tuple[Modality, ...]
    group: bool = False  # lectures: no single client, a capacity and a registration list
    short_notice: bool = False  # crisis: counsellors may book it at once and outside hours


TYPE_SPECS: Mapping[AppointmentType, TypeSpec] = {
    AppointmentType.COUNSELLING: TypeSpec(
        AppointmentType.COUNSELLING,
        True,
        True,
        (RoomKind.COUNSELLING_ROOM,),
        False,
        (Modality.IN_PERSON,),
    ),
    AppointmentType.POD: TypeSpec(
        AppointmentType.POD, False, True, (RoomKind.EMOTION_POD,), False, (Modality.IN_PERSON,)
    ),
    AppointmentType.ONLINE: TypeSpec(
        AppointmentType.ONLINE, True, True, (), True, (Modality.VIDEO, Modality.PHONE)
    ),
    AppointmentType.CRISIS: TypeSpec(
        AppointmentType.CRISIS,
        True,
        True,
        (RoomKind.RELIEF_AREA, RoomKind.COUNSELLING_ROOM),
        True,
        (Modality.IN_PERSON, Modality.PHONE, Modality.VIDEO),
        short_notice=True,
    ),
    AppointmentType.LECTURE: TypeSpec(
        AppointmentType.LECTURE,
        True,
        False,
        (RoomKind.GROUP_ROOM,),
        True,
        (Modality.IN_PERSON,),
        group=True,
    ),
}


@dataclass(frozen=True)
class BookingRules:
    """Per station and type; stations change them in the rules screen."""

    default_minutes: int
    buffer_minutes: int
    min_notice_minutes: int
    late_cancel_hours: int
    weekly_cap: int | None  # open bookings of this type per client per week; None: no cap

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.default_minutes)

    @property
    def buffer(self) -> timedelta:
        return timedelta(minutes=self.buffer_minutes)


DEFAULT_RULES: Mapping[AppointmentType, BookingRules] = {
    AppointmentType.COUNSELLING: BookingRules(50, 10, 60, 24, 1),
    AppointmentType.POD: BookingRules(15, 5, 0, 2, None),
    AppointmentType.ONLINE: BookingRules(50, 10, 60, 24, 1),
    AppointmentType.CRISIS: BookingRules(60, 0, 0, 0, None),
    AppointmentType.LECTURE: BookingRules(90, 15, 60, 24, None),
}


# --- the calendar of mainland China --------------------------------------------------------
@cache
def china_calendar(year: int, language: str = "en"):  # type: ignore[no-untyped-def]
    """Statutory holidays and make-up working days; names in the interface language."""
    import holidays  # imported on first use: it is not needed to show the sign-in window

    return holidays.China(years=year, language="zh_CN" if language == "zh_CN" else "en_US")


@dataclass(frozen=True)
class DayInfo:
    day: date
    holiday: str | None  # name of a statutory holiday (or a day off moved to it)
    makeup_workday: bool  # a weekend day worked in exchange for a holiday (调休)

    @property
    def is_day_off(self) -> bool:
        return self.holiday is not None


def day_info(day: date) -> DayInfo:
    cn = china_calendar(day.year, current_language())
    return DayInfo(day=day, holiday=cn.get(day), makeup_workday=day in cn.weekend_workdays)


def working_weekday(day: date, open_weekdays: Iterable[int]) -> int | None:
    """The weekday whose hours apply on `day`: None on a public holiday; on a make-up working
    day (a weekend worked in exchange), the first weekday Monday-Friday the place works."""
    info = day_info(day)
    if info.is_day_off:
        return None
    if info.makeup_workday:
        weekdays = sorted(d for d in set(open_weekdays) if d < 5)
        return weekdays[0] if weekdays else None
    return day.weekday()


def local_period(day: date, start: time, end: time, zone: ZoneInfo) -> Period:
    return Period(
        datetime.combine(day, start, tzinfo=zone), datetime.combine(day, end, tzinfo=zone)
    )


# --- availability -------------------------------------------------------------------------
@dataclass(frozen=True)
class WeeklyPeriod:
    weekday: int
    start: time
    end: time


@dataclass(frozen=True)
class CounsellorException:
    kind: ExceptionKind
    period: Period
    station_id: int | None  # extra hours are at one station; leave applies everywhere


def station_open(
    day: date, hours: Sequence[WeeklyPeriod], closures: set[date], zone: ZoneInfo
) -> list[Period]:
    """When the station is open on `day`: its weekly hours, none on holidays or local closures."""
    if day in closures:
        return []
    weekday = working_weekday(day, (h.weekday for h in hours))
    if weekday is None:
        return []
    return normalise(local_period(day, h.start, h.end, zone) for h in hours if h.weekday == weekday)


def counsellor_available(
    day: date,
    station_id: int,
    hours: Sequence[WeeklyPeriod],
    exceptions: Sequence[CounsellorException],
    zone: ZoneInfo,
) -> list[Period]:
    """When a counsellor works at one station on `day`: weekly hours (not on holidays), plus
    extra hours there, minus leave and training anywhere."""
    weekday = working_weekday(day, (h.weekday for h in hours))
    base = (
        [local_period(day, h.start, h.end, zone) for h in hours if h.weekday == weekday]
        if weekday is not None
        else []
    )
    day_span = local_period(day, time.min, time.max, zone)
    extra = [
        e.period
        for e in exceptions
        if e.kind is ExceptionKind.EXTRA
        and e.station_id == station_id
        and e.period.overlaps(day_span)
    ]
    away = [e.period for e in exceptions if e.kind is not ExceptionKind.EXTRA]
    return subtract(normalise([*base, *extra]), away)


@dataclass(frozen=True)
class Busy:
    """An existing appointment as far as availability cares: its time plus the buffer after."""

    period: Period
    counsellor_id: int | None
    room_id: int | None
    client_id: int | None


@dataclass(frozen=True)
class Candidate:
    """One combination to look for time in: a counsellor (or none) and a room (or none)."""

    station_id: int
    counsellor_id: int | None
    room_id: int | None
    windows: list[Period] = field(default_factory=list)  # when both are available


@dataclass(frozen=True)
class Slot:
    station_id: int
    start: datetime
    end: datetime
    counsellor_id: int | None
    room_id: int | None


def _round_up(moment: datetime, grid: timedelta) -> datetime:
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    steps = -(-(moment - midnight) // grid)
    return midnight + steps * grid


def free_slots(
    candidates: Sequence[Candidate],
    busy: Sequence[Busy],
    *,
    duration: timedelta,
    buffer: timedelta,
    client_id: int | None,
    not_before: datetime,
    limit: int,
    grid: timedelta = SLOT_GRID,
) -> list[Slot]:
    """The earliest `limit` slots: the appointment and its buffer fit in a candidate's window
    and clash with nothing the counsellor, the room or the client already has."""
    client_busy = [b.period for b in busy if client_id is not None and b.client_id == client_id]
    found: list[Slot] = []
    for c in candidates:
        taken = [
            b.period
            for b in busy
            if (c.counsellor_id is not None and b.counsellor_id == c.counsellor_id)
            or (c.room_id is not None and b.room_id == c.room_id)
        ]
        for window in subtract(c.windows, [*taken, *client_busy]):
            # The buffer keeps the next appointment at bay; at closing time nobody follows.
            at_closing = any(window.end == w.end for w in c.windows)
            tail = duration if at_closing else duration + buffer
            start = _round_up(max(window.start, not_before), grid)
            while start + tail <= window.end and len(found) < limit * 20:
                found.append(
                    Slot(c.station_id, start, start + duration, c.counsellor_id, c.room_id)
                )
                start += grid
    # One slot per start time and counsellor is enough: the first free room is offered.
    unique: dict[tuple[datetime, int | None], Slot] = {}
    for s in sorted(found, key=lambda s: (s.start, s.counsellor_id or 0, s.room_id or 0)):
        unique.setdefault((s.start, s.counsellor_id), s)
    return list(unique.values())[:limit]


def candidates_for(
    station_id: int,
    counsellor_windows: Mapping[int | None, list[Period]],
    rooms: Sequence[int | None],
    room_open: list[Period],
) -> list[Candidate]:
    """Every counsellor x room pair, with the time both can be used."""
    result = []
    for counsellor_id, windows in counsellor_windows.items():
        for room_id in rooms:
            result.append(
                Candidate(station_id, counsellor_id, room_id, intersect(windows, room_open))
            )
    return result
