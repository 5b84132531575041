"""Reading the schedule: a station's days, a counsellor's days, one appointment and its history,
and tomorrow's phone list."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import aliased

from carestation.db import models as m
from carestation.domain.booking import Appointment, ChangeRecord, ReminderRow
from carestation.domain.errors import NotFound, ValidationError
from carestation.domain.periods import Period
from carestation.domain.roles import Permission
from carestation.domain.scheduling import counsellor_available, station_open
from carestation.domain.values import Actor
from carestation.domain.vocab import AppointmentStatus
from carestation.i18n import _
from carestation.services import schedule_data as data
from carestation.services.base import Service

MAX_DAYS = 31


class ScheduleQueries(Service):
    def _station(self, session, station_id: int) -> m.Station:  # type: ignore[no-untyped-def]
        station = session.get(m.Station, station_id)
        if station is None:
            raise NotFound(_("That station no longer exists."))
        return station

    def station_days(
        self, *, actor: Actor, station_id: int, first_day: date, days: int = 7
    ) -> list[Appointment]:
        """Everything at one station over some days (the week view), cancelled included."""
        if not (
            actor.can(Permission.VIEW_STATION_APPOINTMENTS) and station_id in actor.station_ids
        ):
            self.deny(actor, action="view_station_days", ref=str(station_id))
        if not 1 <= days <= MAX_DAYS:
            raise ValidationError({"days": _("Show 1 to 31 days at a time.")})
        with self.db.read() as session:
            zone = ZoneInfo(self._station(session, station_id).time_zone)
            lo = datetime.combine(first_day, time.min, tzinfo=zone)
            query = data.appointment_query().where(
                m.Appointment.station_id == station_id,
                data.in_window(lo, lo + timedelta(days=days)),
            )
            return [data.to_appointment(tuple(r)) for r in session.execute(query)]

    def counsellor_days(
        self, *, actor: Actor, counsellor_id: int, first_day: date, days: int = 7
    ) -> list[Appointment]:
        """A counsellor's appointments at every station. Staff see the ones at their own stations
        in full and the others only as busy time."""
        own = actor.user_id == counsellor_id and actor.can(Permission.VIEW_OWN_APPOINTMENTS)
        if not own and not actor.can(Permission.VIEW_STATION_APPOINTMENTS):
            self.deny(actor, action="view_counsellor_days", ref=str(counsellor_id))
        if not 1 <= days <= MAX_DAYS:
            raise ValidationError({"days": _("Show 1 to 31 days at a time.")})
        lo = datetime.combine(first_day, time.min, tzinfo=ZoneInfo("Asia/Shanghai")) - timedelta(
            hours=14
        )
        hi = lo + timedelta(days=days, hours=28)
        with self.db.read() as session:
            query = data.appointment_query().where(
                m.Appointment.counsellor_id == counsellor_id, data.in_window(lo, hi)
            )
            result = []
            for row in session.execute(query):
                appt = data.to_appointment(
                    tuple(row), show_identity=own or row[0].station_id in actor.station_ids
                )
                if first_day <= appt.starts_at.date() < first_day + timedelta(days=days):
                    result.append(appt)
            return result

    def get(self, *, actor: Actor, appointment_id: int) -> Appointment:
        with self.db.read() as session:
            appt = data.load_appointment(session, appointment_id)
        if appt is None:
            raise NotFound(_("That appointment no longer exists."))
        if not data.may_see(actor, appt.station_id, appt.counsellor_id):
            self.deny(actor, action="view_appointment", ref=str(appointment_id))
        return appt

    def history(self, *, actor: Actor, appointment_id: int) -> list[ChangeRecord]:
        appt = self.get(actor=actor, appointment_id=appointment_id)
        zone = appt.starts_at.tzinfo
        by = aliased(m.UserAccount)
        old_counsellor = aliased(m.UserAccount)
        with self.db.read() as session:
            rows = session.execute(
                select(
                    m.AppointmentChange, by.display_name, old_counsellor.display_name, m.Room.name
                )
                .outerjoin(by, by.id == m.AppointmentChange.changed_by)
                .outerjoin(
                    old_counsellor, old_counsellor.id == m.AppointmentChange.old_counsellor_id
                )
                .outerjoin(m.Room, m.Room.id == m.AppointmentChange.old_room_id)
                .where(m.AppointmentChange.appointment_id == appointment_id)
                .order_by(m.AppointmentChange.id)
            )
            return [
                ChangeRecord(
                    kind=c.kind,
                    changed_at=c.changed_at.astimezone(zone),
                    changed_by=who or "",
                    old_starts_at=c.old_starts_at.astimezone(zone) if c.old_starts_at else None,
                    old_ends_at=c.old_ends_at.astimezone(zone) if c.old_ends_at else None,
                    old_counsellor=counsellor or "",
                    old_room=room or "",
                    old_status=c.old_status,
                    new_status=c.new_status,
                    reason=c.reason,
                )
                for c, who, counsellor, room in rows
            ]

    def reminders(self, *, actor: Actor, station_id: int, day: date) -> list[ReminderRow]:
        """Who to phone: the booked appointments of `day` (tomorrow, usually), with numbers."""
        if not (
            actor.can(Permission.VIEW_STATION_APPOINTMENTS) and station_id in actor.station_ids
        ):
            self.deny(actor, action="view_reminders", ref=str(station_id))
        with self.db.read() as session:
            zone = ZoneInfo(self._station(session, station_id).time_zone)
            lo = datetime.combine(day, time.min, tzinfo=zone)
            query = data.appointment_query().where(
                m.Appointment.station_id == station_id,
                m.Appointment.status == AppointmentStatus.BOOKED,
                m.Appointment.client_id.is_not(None),
                data.in_window(lo, lo + timedelta(days=1)),
            )
            rows = [data.to_appointment(tuple(r)) for r in session.execute(query)]
        self.audit.record_now(
            actor=actor,
            action="view_reminders",
            object_type="station",
            object_ref=str(station_id),
            detail=day.isoformat(),
        )
        return [
            ReminderRow(
                a.starts_at,
                a.client_name,
                a.client_phone,
                a.client_code,
                a.type,
                a.counsellor_name,
                a.room_name,
            )
            for a in rows
        ]

    def availability(
        self, *, actor: Actor, station_id: int, first_day: date, days: int = 7
    ) -> tuple[dict[date, list[Period]], dict[int, dict[date, list[Period]]]]:
        """When the station is open, and when each of its counsellors works there, day by day
        (for shading the calendar). Not personal data: any signed-in user may ask."""
        with self.db.read() as session:
            station = self._station(session, station_id)
            zone = ZoneInfo(station.time_zone)
            last = first_day + timedelta(days=days - 1)
            closed = set(data.closures(session, station_id, first_day, last))
            counsellors = list(
                session.scalars(
                    select(m.UserStation.user_id)
                    .join(m.UserAccount, m.UserAccount.id == m.UserStation.user_id)
                    .where(m.UserStation.station_id == station_id, m.UserAccount.active.is_(True))
                )
            )
            hours = data.counsellor_hours(session, counsellors, station_id)
            lo = datetime.combine(first_day, time.min, tzinfo=zone)
            exceptions = data.counsellor_exceptions(
                session, counsellors, lo, lo + timedelta(days=days)
            )
            open_days = {}
            per_counsellor: dict[int, dict[date, list[Period]]] = {c: {} for c in hours}
            for offset in range(days):
                day = first_day + timedelta(days=offset)
                open_days[day] = station_open(day, data.station_hours(station), closed, zone)
                for c in hours:
                    per_counsellor[c][day] = counsellor_available(
                        day, station_id, hours[c], exceptions[c], zone
                    )
            return open_days, per_counsellor
