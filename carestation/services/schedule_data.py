"""Loading what scheduling decisions need (rules, hours, closures, busy times) in one session,
and turning appointment rows into the values the UI shows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from carestation.db import models as m
from carestation.domain.booking import Appointment
from carestation.domain.periods import Period
from carestation.domain.scheduling import (
    DEFAULT_RULES,
    MAX_DURATION,
    BookingRules,
    Busy,
    CounsellorException,
    WeeklyPeriod,
)
from carestation.domain.values import Actor
from carestation.domain.vocab import AppointmentStatus, AppointmentType, RegistrationStatus


def rules_for(session: Session, station_id: int, type_: AppointmentType) -> BookingRules:
    row = session.scalars(
        select(m.BookingRule).where(
            m.BookingRule.station_id == station_id, m.BookingRule.type == type_
        )
    ).first()
    if row is None:
        return DEFAULT_RULES[type_]
    return BookingRules(
        row.default_minutes,
        row.buffer_minutes,
        row.min_notice_minutes,
        row.late_cancel_hours,
        row.weekly_cap,
    )


def all_rules(session: Session) -> dict[tuple[int, AppointmentType], BookingRules]:
    """The rules of every station and type that changed the defaults, in one query."""
    return {
        (r.station_id, r.type): BookingRules(
            r.default_minutes,
            r.buffer_minutes,
            r.min_notice_minutes,
            r.late_cancel_hours,
            r.weekly_cap,
        )
        for r in session.scalars(select(m.BookingRule))
    }


def rules_in(
    table: dict[tuple[int, AppointmentType], BookingRules],
    station_id: int,
    type_: AppointmentType,
) -> BookingRules:
    return table.get((station_id, type_), DEFAULT_RULES[type_])


def all_buffers(session: Session) -> dict[tuple[int, AppointmentType], timedelta]:
    """Buffer after each type at each station that changed the default."""
    return buffers_of(all_rules(session))


def buffers_of(
    table: dict[tuple[int, AppointmentType], BookingRules],
) -> dict[tuple[int, AppointmentType], timedelta]:
    return {key: rules.buffer for key, rules in table.items()}


def buffer_of(
    buffers: dict[tuple[int, AppointmentType], timedelta], station_id: int, type_: AppointmentType
) -> timedelta:
    return buffers.get((station_id, type_), DEFAULT_RULES[type_].buffer)


def station_hours(station: m.Station) -> list[WeeklyPeriod]:
    return [WeeklyPeriod(h.weekday, h.opens, h.closes) for h in station.hours]


def closures(session: Session, station_id: int, first: date, last: date) -> dict[date, str]:
    rows = session.execute(
        select(m.StationClosure.day, m.StationClosure.reason).where(
            m.StationClosure.station_id == station_id,
            m.StationClosure.day >= first,
            m.StationClosure.day <= last,
        )
    )
    return {day: reason for day, reason in rows}


def counsellor_hours(
    session: Session, counsellor_ids: Iterable[int], station_id: int
) -> dict[int, list[WeeklyPeriod]]:
    result: dict[int, list[WeeklyPeriod]] = defaultdict(list)
    rows = session.scalars(
        select(m.CounsellorHours).where(
            m.CounsellorHours.counsellor_id.in_(list(counsellor_ids)),
            m.CounsellorHours.station_id == station_id,
        )
    )
    for h in rows:
        result[h.counsellor_id].append(WeeklyPeriod(h.weekday, h.starts, h.ends))
    return result


def counsellor_exceptions(
    session: Session, counsellor_ids: Iterable[int], lo: datetime, hi: datetime
) -> dict[int, list[CounsellorException]]:
    result: dict[int, list[CounsellorException]] = defaultdict(list)
    rows = session.scalars(
        select(m.CounsellorAbsence).where(
            m.CounsellorAbsence.counsellor_id.in_(list(counsellor_ids)),
            m.CounsellorAbsence.starts_at < hi,
            m.CounsellorAbsence.ends_at > lo,
        )
    )
    for e in rows:
        result[e.counsellor_id].append(
            CounsellorException(e.kind, Period(e.starts_at, e.ends_at), e.station_id)
        )
    return result


def busy(
    session: Session,
    lo: datetime,
    hi: datetime,
    *,
    counsellor_ids: Iterable[int] = (),
    room_ids: Iterable[int] = (),
    client_id: int | None = None,
    exclude_ids: Iterable[int] = (),
    buffers: dict[tuple[int, AppointmentType], timedelta] | None = None,
) -> list[Busy]:
    """Active appointments of these counsellors, rooms or client near [lo, hi), each extended
    by its type's buffer (`buffers`: all stations' buffers when the caller has them already)."""
    who = []
    counsellors, rooms = list(counsellor_ids), list(room_ids)
    if counsellors:
        who.append(m.Appointment.counsellor_id.in_(counsellors))
    if rooms:
        who.append(m.Appointment.room_id.in_(rooms))
    if client_id is not None:
        who.append(m.Appointment.client_id == client_id)
    if not who:
        return []
    query = select(
        m.Appointment.station_id,
        m.Appointment.type,
        m.Appointment.starts_at,
        m.Appointment.ends_at,
        m.Appointment.counsellor_id,
        m.Appointment.room_id,
        m.Appointment.client_id,
    ).where(
        or_(*who),
        m.Appointment.status != AppointmentStatus.CANCELLED,
        # Bounded below by the longest appointment plus buffer, so the (resource, starts_at)
        # indexes do the work.
        m.Appointment.starts_at > lo - MAX_DURATION - timedelta(hours=4),
        m.Appointment.starts_at < hi,
    )
    excluded = list(exclude_ids)
    if excluded:
        query = query.where(m.Appointment.id.not_in(excluded))
    if buffers is None:
        buffers = all_buffers(session)
    result = []
    for station_id, type_, starts, ends, counsellor, room, client in session.execute(query):
        end = ends + buffer_of(buffers, station_id, type_)
        if end > lo:
            result.append(Busy(Period(starts, end), counsellor, room, client))
    return result


_Client = aliased(m.Client)
_Counsellor = aliased(m.UserAccount)


def appointment_query() -> Select:  # type: ignore[type-arg]
    registered = (
        select(func.count())
        .select_from(m.LectureRegistration)
        .where(
            m.LectureRegistration.appointment_id == m.Appointment.id,
            m.LectureRegistration.status == RegistrationStatus.REGISTERED,
        )
        .correlate(m.Appointment)
        .scalar_subquery()
    )
    return (
        select(
            m.Appointment,
            m.Station.name,
            m.Station.time_zone,
            _Counsellor.display_name,
            m.Room.name,
            _Client.name,
            _Client.client_code,
            _Client.phone,
            registered,
        )
        .join(m.Station, m.Station.id == m.Appointment.station_id)
        .outerjoin(_Counsellor, _Counsellor.id == m.Appointment.counsellor_id)
        .outerjoin(m.Room, m.Room.id == m.Appointment.room_id)
        .outerjoin(_Client, _Client.id == m.Appointment.client_id)
        .order_by(m.Appointment.starts_at, m.Appointment.id)
    )


def to_appointment(row: tuple, *, show_identity: bool = True) -> Appointment:  # type: ignore[type-arg]
    a, station_name, zone, counsellor, room, client, code, phone, registered = row
    tz = ZoneInfo(zone)
    return Appointment(
        id=a.id,
        version=a.version,
        station_id=a.station_id,
        station_name=station_name,
        type=a.type,
        modality=a.modality,
        status=a.status,
        starts_at=a.starts_at.astimezone(tz),
        ends_at=a.ends_at.astimezone(tz),
        client_id=a.client_id,
        client_name=(client or "") if show_identity else "",
        client_code=code or "",
        client_phone=(phone or "") if show_identity else "",
        counsellor_id=a.counsellor_id,
        counsellor_name=counsellor or "",
        room_id=a.room_id,
        room_name=room or "",
        topic=a.topic,
        pod_programme=a.pod_programme,
        title=a.title,
        address=a.address,
        capacity=a.capacity,
        registered=registered or 0,
        series_id=a.series_id,
        walk_in=a.walk_in,
        late_cancel=a.late_cancel,
        cancel_reason=a.cancel_reason,
        cancel_note=a.cancel_note,
    )


def load_appointment(session: Session, appointment_id: int) -> Appointment | None:
    row = session.execute(appointment_query().where(m.Appointment.id == appointment_id)).first()
    return to_appointment(tuple(row)) if row else None


def in_window(lo: datetime, hi: datetime):  # type: ignore[no-untyped-def]
    """Appointments overlapping [lo, hi). The lower bound on starts_at (nothing lasts longer than
    MAX_DURATION) lets the (…, starts_at) indexes skip all earlier history."""
    return and_(
        m.Appointment.starts_at < hi,
        m.Appointment.starts_at > lo - MAX_DURATION,
        m.Appointment.ends_at > lo,
    )


def may_see(actor: Actor, station_id: int, counsellor_id: int | None) -> bool:
    """Identified appointments: staff at their stations, counsellors their own."""
    from carestation.domain.roles import Permission

    if actor.can(Permission.VIEW_STATION_APPOINTMENTS) and station_id in actor.station_ids:
        return True
    return actor.can(Permission.VIEW_OWN_APPOINTMENTS) and counsellor_id == actor.user_id
