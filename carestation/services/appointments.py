"""Read-only appointment lists: a station's day for staff, a counsellor's own day across stations."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import aliased

from carestation.db import models as m
from carestation.domain.errors import NotFound
from carestation.domain.roles import Permission
from carestation.domain.values import Actor, AppointmentRow
from carestation.i18n import _
from carestation.services.base import Service


def local_day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, start + timedelta(days=1)


class AppointmentQueries(Service):
    def station_day(self, *, actor: Actor, station_id: int, day: date) -> list[AppointmentRow]:
        """Every appointment at one station on one local day, with who it is for."""
        self.require(
            actor, Permission.VIEW_STATION_APPOINTMENTS, action="view_day_list", ref=str(station_id)
        )
        if station_id not in actor.station_ids:
            self.deny(actor, action="view_day_list", ref=str(station_id))
        with self.db.read() as session:
            station = session.get(m.Station, station_id)
            if station is None:
                raise NotFound(_("That station no longer exists."))
            start, end = local_day_bounds(day, station.time_zone)
            query = _rows_query().where(
                m.Appointment.station_id == station_id,
                m.Appointment.starts_at < end,
                m.Appointment.ends_at > start,
            )
            rows = [_to_row(r) for r in session.execute(query)]
        # A separate write: a read transaction upgraded to a write can hit SQLITE_BUSY at once.
        self.audit.record_now(
            actor=actor,
            action="view_day_list",
            object_type="station",
            object_ref=str(station_id),
            detail=day.isoformat(),
        )
        return rows

    def my_day(self, *, actor: Actor, day: date) -> list[AppointmentRow]:
        """The acting counsellor's appointments on one day, at whichever stations they are."""
        self.require(actor, Permission.VIEW_OWN_APPOINTMENTS, action="view_my_day")
        with self.db.read() as session:
            # Stations may sit in different zones: fetch a generous UTC window, then keep the
            # appointments whose local date (in their own station's zone) is `day`.
            lo = datetime.combine(day - timedelta(days=1), time.min, tzinfo=ZoneInfo("UTC"))
            hi = lo + timedelta(days=3)
            query = _rows_query().where(
                m.Appointment.counsellor_id == actor.user_id,
                m.Appointment.starts_at < hi,
                m.Appointment.ends_at > lo,
            )
            rows = [_to_row(r) for r in session.execute(query)]
        return [r for r in rows if r.starts_at.date() == day]


_Client = aliased(m.Client)
_Counsellor = aliased(m.UserAccount)


def _rows_query() -> Select[
    tuple[m.Appointment, str, str, str | None, str | None, str | None, str | None]
]:
    return (
        select(
            m.Appointment,
            m.Station.name,
            m.Station.time_zone,
            _Counsellor.display_name,
            m.Room.name,
            _Client.name,
            _Client.client_code,
        )
        .join(m.Station, m.Station.id == m.Appointment.station_id)
        .outerjoin(_Counsellor, _Counsellor.id == m.Appointment.counsellor_id)
        .outerjoin(m.Room, m.Room.id == m.Appointment.room_id)
        .outerjoin(_Client, _Client.id == m.Appointment.client_id)
        .order_by(m.Appointment.starts_at, m.Appointment.id)
    )


def _to_row(r: tuple) -> AppointmentRow:  # type: ignore[type-arg]
    appt, station_name, zone, counsellor, room, client, code = r
    tz = ZoneInfo(zone)
    return AppointmentRow(
        id=appt.id,
        station_id=appt.station_id,
        station_name=station_name,
        starts_at=appt.starts_at.astimezone(tz),
        ends_at=appt.ends_at.astimezone(tz),
        type=appt.type,
        modality=appt.modality,
        status=appt.status,
        counsellor_name=counsellor or "",
        room_name=room or "",
        client_name=client or "",
        client_code=code or "",
    )
