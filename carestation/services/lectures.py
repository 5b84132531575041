"""Lectures and workshops: registrations up to capacity, a waitlist behind them, attendance."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carestation.db import models as m
from carestation.domain.booking import Appointment, Registration
from carestation.domain.errors import Conflict, NotFound
from carestation.domain.roles import Permission
from carestation.domain.values import Actor
from carestation.domain.vocab import AppointmentStatus, AppointmentType, RegistrationStatus
from carestation.i18n import _
from carestation.services import schedule_data as data
from carestation.services.base import Service


class LectureService(Service):
    def _lecture(self, session: Session, lecture_id: int, *, lock: bool = False) -> m.Appointment:
        query = select(m.Appointment).where(m.Appointment.id == lecture_id)
        if lock and not self.db.is_sqlite:
            query = query.with_for_update()  # registrations for one lecture queue up here
        row = session.scalars(query).first()
        if row is None or row.type is not AppointmentType.LECTURE:
            raise NotFound(_("That lecture no longer exists."))
        return row

    def _require(
        self, actor: Actor, lecture: m.Appointment, action: str, *, speaker_may: bool = False
    ) -> None:
        if actor.can(Permission.BOOK_AT_STATION) and lecture.station_id in actor.station_ids:
            return
        if (
            speaker_may
            and actor.can(Permission.BOOK_OWN)
            and lecture.counsellor_id == actor.user_id
        ):
            return
        self.deny(actor, action=action, ref=str(lecture.id))

    def lectures(
        self, *, actor: Actor, station_id: int, first_day: date, last_day: date
    ) -> list[Appointment]:
        if not (
            actor.can(Permission.VIEW_STATION_APPOINTMENTS) and station_id in actor.station_ids
        ):
            self.deny(actor, action="view_lectures", ref=str(station_id))
        with self.db.read() as session:
            station = session.get(m.Station, station_id)
            if station is None:
                raise NotFound(_("That station no longer exists."))
            zone = ZoneInfo(station.time_zone)
            lo = datetime.combine(first_day, time.min, tzinfo=zone)
            hi = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=zone)
            query = data.appointment_query().where(
                m.Appointment.station_id == station_id,
                m.Appointment.type == AppointmentType.LECTURE,
                data.in_window(lo, hi),
            )
            return [data.to_appointment(tuple(r)) for r in session.execute(query)]

    def roster(self, *, actor: Actor, lecture_id: int) -> list[Registration]:
        with self.db.read() as session:
            lecture = self._lecture(session, lecture_id)
            self._require(actor, lecture, "view_roster", speaker_may=True)
            rows = session.execute(
                select(m.LectureRegistration, m.Client)
                .join(m.Client, m.Client.id == m.LectureRegistration.client_id)
                .where(m.LectureRegistration.appointment_id == lecture_id)
                .order_by(m.LectureRegistration.registered_at, m.LectureRegistration.id)
            )
            return [
                Registration(
                    r.id,
                    c.id,
                    c.name,
                    c.client_code,
                    c.phone,
                    r.status,
                    r.attended,
                    r.registered_at,
                )
                for r, c in rows
            ]

    def register(self, *, actor: Actor, lecture_id: int, client_id: int) -> Registration:
        """Registers while places are left, otherwise puts the client on the lecture's waitlist."""
        with self.db.write() as session:
            lecture = self._lecture(session, lecture_id, lock=True)
            self._require(actor, lecture, "register_lecture")
            if lecture.status is AppointmentStatus.CANCELLED:
                raise Conflict(_("This lecture has been cancelled."))
            if lecture.starts_at <= self.clock.now():
                raise Conflict(_("This lecture has already started; registration is closed."))
            client = session.get(m.Client, client_id)
            if client is None:
                raise NotFound(_("That client's record no longer exists."))
            existing = session.scalars(
                select(m.LectureRegistration).where(
                    m.LectureRegistration.appointment_id == lecture_id,
                    m.LectureRegistration.client_id == client_id,
                )
            ).first()
            if existing is not None and existing.status is not RegistrationStatus.CANCELLED:
                raise Conflict(
                    _("{name} is already on this lecture's list ({status}).").format(
                        name=client.name, status=existing.status.title
                    )
                )
            status = (
                RegistrationStatus.REGISTERED
                if self._registered(session, lecture_id) < (lecture.capacity or 0)
                else RegistrationStatus.WAITLISTED
            )
            now = self.clock.now()
            if existing is None:
                existing = m.LectureRegistration(
                    appointment_id=lecture_id,
                    client_id=client_id,
                    registered_by=actor.user_id,
                    attended=False,
                )
                session.add(existing)
            existing.status, existing.registered_at = status, now
            session.flush()
            self.audit.record(
                session,
                actor=actor,
                action="register_lecture",
                object_type="client",
                object_ref=client.client_code,
                detail=status.value,
            )
            return Registration(
                existing.id,
                client.id,
                client.name,
                client.client_code,
                client.phone,
                status,
                False,
                now,
            )

    @staticmethod
    def _registered(session: Session, lecture_id: int) -> int:
        return (
            session.scalar(
                select(func.count())
                .select_from(m.LectureRegistration)
                .where(
                    m.LectureRegistration.appointment_id == lecture_id,
                    m.LectureRegistration.status == RegistrationStatus.REGISTERED,
                )
            )
            or 0
        )

    def unregister(self, *, actor: Actor, registration_id: int) -> int | None:
        """Cancels a registration; the first on the waitlist moves up. Returns that
        registration's id, or None when nobody was waiting."""
        with self.db.write() as session:
            reg = session.get(m.LectureRegistration, registration_id)
            if reg is None:
                raise NotFound(_("That registration no longer exists."))
            lecture = self._lecture(session, reg.appointment_id, lock=True)
            self._require(actor, lecture, "unregister_lecture")
            if reg.status is RegistrationStatus.CANCELLED:
                raise Conflict(_("That registration was already cancelled."))
            freed = reg.status is RegistrationStatus.REGISTERED
            reg.status = RegistrationStatus.CANCELLED
            self.audit.record(
                session,
                actor=actor,
                action="unregister_lecture",
                object_type="registration",
                object_ref=str(reg.id),
            )
            if not freed:
                return None
            session.flush()
            waiting = session.scalars(
                select(m.LectureRegistration)
                .where(
                    m.LectureRegistration.appointment_id == lecture.id,
                    m.LectureRegistration.status == RegistrationStatus.WAITLISTED,
                )
                .order_by(m.LectureRegistration.registered_at, m.LectureRegistration.id)
                .limit(1)
            ).first()
            if waiting is None:
                return None
            waiting.status = RegistrationStatus.REGISTERED
            return waiting.id

    def set_attendance(self, *, actor: Actor, registration_id: int, attended: bool) -> None:
        with self.db.write() as session:
            reg = session.get(m.LectureRegistration, registration_id)
            if reg is None:
                raise NotFound(_("That registration no longer exists."))
            lecture = self._lecture(session, reg.appointment_id)
            self._require(actor, lecture, "lecture_attendance", speaker_may=True)
            if lecture.starts_at > self.clock.now():
                raise Conflict(_("Attendance can be ticked once the lecture has begun."))
            if reg.status is not RegistrationStatus.REGISTERED:
                raise Conflict(_("Only registered participants can be ticked as present."))
            reg.attended = attended
            self.audit.record(
                session,
                actor=actor,
                action="lecture_attendance",
                object_type="registration",
                object_ref=str(reg.id),
                detail=str(attended),
            )
