"""Setting up the schedule: booking rules per station and type, closed days, counsellors' weekly
hours, and their leave, training days and extra hours."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select

from carestation.db import models as m
from carestation.domain.booking import Appointment
from carestation.domain.errors import Conflict, NotFound, ValidationError
from carestation.domain.roles import Permission, Role
from carestation.domain.scheduling import (
    DEFAULT_RULES,
    BookingRules,
    WeeklyPeriod,
    china_calendar,
    day_info,
)
from carestation.domain.values import Actor
from carestation.domain.vocab import AppointmentStatus, AppointmentType, ExceptionKind
from carestation.i18n import _, current_language, ngettext
from carestation.services import schedule_data as data
from carestation.services.base import Service

EARLIEST, LATEST = time(6, 0), time(22, 0)


@dataclass(frozen=True)
class Closure:
    day: date
    reason: str


@dataclass(frozen=True)
class Holiday:
    day: date
    name: str
    makeup_workday: bool  # a weekend day that is worked in exchange (调休)


@dataclass(frozen=True)
class HoursAt:
    station_id: int
    station_name: str
    periods: tuple[WeeklyPeriod, ...]


@dataclass(frozen=True)
class Absence:
    id: int
    kind: ExceptionKind
    starts_at: datetime
    ends_at: datetime
    station_id: int | None
    note: str


class ScheduleAdminService(Service):
    # --- booking rules --------------------------------------------------------------------------
    def rules(self, *, actor: Actor, station_id: int) -> dict[AppointmentType, BookingRules]:
        with self.db.read() as session:
            return {t: data.rules_for(session, station_id, t) for t in AppointmentType}

    def set_rules(
        self, *, actor: Actor, station_id: int, type: AppointmentType, rules: BookingRules
    ) -> None:
        self.require(
            actor, Permission.MANAGE_SCHEDULE, action="set_booking_rules", ref=str(station_id)
        )
        errors = {}
        if not 5 <= rules.default_minutes <= 720:
            errors["default_minutes"] = _("The length must be between 5 minutes and 12 hours.")
        if not 0 <= rules.buffer_minutes <= 240:
            errors["buffer_minutes"] = _("The break after must be between 0 and 240 minutes.")
        if not 0 <= rules.min_notice_minutes <= 60 * 24 * 30:
            errors["min_notice_minutes"] = _("The notice must be between 0 minutes and 30 days.")
        if not 0 <= rules.late_cancel_hours <= 24 * 14:
            errors["late_cancel_hours"] = _(
                "The late-cancellation window must be between 0 hours and 14 days."
            )
        if rules.weekly_cap is not None and not 1 <= rules.weekly_cap <= 20:
            errors["weekly_cap"] = _("The weekly limit must be between 1 and 20, or none.")
        if errors:
            raise ValidationError(errors)
        with self.db.write() as session:
            if session.get(m.Station, station_id) is None:
                raise NotFound(_("That station no longer exists."))
            row = session.scalars(
                select(m.BookingRule).where(
                    m.BookingRule.station_id == station_id, m.BookingRule.type == type
                )
            ).first()
            if row is None:
                row = m.BookingRule(station_id=station_id, type=type)
                session.add(row)
            row.default_minutes, row.buffer_minutes = rules.default_minutes, rules.buffer_minutes
            row.min_notice_minutes, row.late_cancel_hours = (
                rules.min_notice_minutes,
                rules.late_cancel_hours,
            )
            row.weekly_cap = rules.weekly_cap
            self.audit.record(
                session,
                actor=actor,
                action="set_booking_rules",
                object_type="station",
                object_ref=str(station_id),
                detail=type.value,
            )

    def reset_rules(self, *, actor: Actor, station_id: int, type: AppointmentType) -> BookingRules:
        self.require(
            actor, Permission.MANAGE_SCHEDULE, action="set_booking_rules", ref=str(station_id)
        )
        with self.db.write() as session:
            session.execute(
                delete(m.BookingRule).where(
                    m.BookingRule.station_id == station_id, m.BookingRule.type == type
                )
            )
            self.audit.record(
                session,
                actor=actor,
                action="set_booking_rules",
                object_type="station",
                object_ref=str(station_id),
                detail=f"{type.value} default",
            )
        return DEFAULT_RULES[type]

    # --- closed days ------------------------------------------------------------------------------
    def closures(
        self, *, actor: Actor, station_id: int, first_day: date, last_day: date
    ) -> list[Closure]:
        with self.db.read() as session:
            found = data.closures(session, station_id, first_day, last_day)
        return [Closure(d, r) for d, r in sorted(found.items())]

    @staticmethod
    def holidays(*, year: int) -> list[Holiday]:
        """Mainland China's statutory holidays and make-up working days, from python-holidays."""
        cn = china_calendar(year, current_language())
        days = {d: Holiday(d, name, False) for d, name in cn.items() if d.year == year}
        for d in cn.weekend_workdays:
            if d.year == year:
                days[d] = Holiday(d, _("Working day (make-up for a holiday)"), True)
        return [days[d] for d in sorted(days)]

    def add_closure(self, *, actor: Actor, station_id: int, day: date, reason: str) -> Closure:
        self.require(actor, Permission.MANAGE_SCHEDULE, action="add_closure", ref=str(station_id))
        reason = " ".join(reason.split())
        if not reason:
            raise ValidationError(
                {"reason": _("Say why the station is closed (staff and clients will see it).")}
            )
        if len(reason) > 200:
            raise ValidationError({"reason": _("The reason is too long (200 characters at most).")})
        with self.db.write() as session:
            station = session.get(m.Station, station_id)
            if station is None:
                raise NotFound(_("That station no longer exists."))
            zone = ZoneInfo(station.time_zone)
            lo = datetime.combine(day, time.min, tzinfo=zone)
            booked = (
                session.scalar(
                    select(func.count())
                    .select_from(m.Appointment)
                    .where(
                        m.Appointment.station_id == station_id,
                        m.Appointment.status == AppointmentStatus.BOOKED,
                        data.in_window(lo, lo + timedelta(days=1)),
                    )
                )
                or 0
            )
            if booked:
                raise Conflict(
                    ngettext(
                        "{n} appointment is booked at the station on {day}. Move or cancel it first.",
                        "{n} appointments are booked at the station on {day}. Move or cancel them first.",
                        booked,
                    ).format(n=booked, day=day.isoformat())
                )
            if session.scalar(
                select(m.StationClosure.id).where(
                    m.StationClosure.station_id == station_id, m.StationClosure.day == day
                )
            ):
                raise ValidationError(
                    {
                        "day": _("The station is already marked closed on {day}.").format(
                            day=day.isoformat()
                        )
                    }
                )
            session.add(m.StationClosure(station_id=station_id, day=day, reason=reason))
            self.audit.record(
                session,
                actor=actor,
                action="add_closure",
                object_type="station",
                object_ref=str(station_id),
                detail=day.isoformat(),
            )
        info = day_info(day)
        return Closure(day, reason if info.holiday is None else f"{reason} ({info.holiday})")

    def remove_closure(self, *, actor: Actor, station_id: int, day: date) -> None:
        self.require(
            actor, Permission.MANAGE_SCHEDULE, action="remove_closure", ref=str(station_id)
        )
        with self.db.write() as session:
            done = session.execute(
                delete(m.StationClosure).where(
                    m.StationClosure.station_id == station_id, m.StationClosure.day == day
                )
            )
            if not done.rowcount:
                raise NotFound(
                    _("The station was not marked closed on {day}.").format(day=day.isoformat())
                )
            self.audit.record(
                session,
                actor=actor,
                action="remove_closure",
                object_type="station",
                object_ref=str(station_id),
                detail=day.isoformat(),
            )

    # --- weekly hours -----------------------------------------------------------------------------
    def counsellor_hours(self, *, actor: Actor, counsellor_id: int) -> list[HoursAt]:
        with self.db.read() as session:
            stations = session.execute(
                select(m.Station.id, m.Station.name)
                .join(m.UserStation, m.UserStation.station_id == m.Station.id)
                .where(m.UserStation.user_id == counsellor_id)
                .order_by(m.Station.name)
            ).all()
            result = []
            for station_id, name in stations:
                periods = data.counsellor_hours(session, [counsellor_id], station_id)[counsellor_id]
                result.append(
                    HoursAt(
                        station_id, name, tuple(sorted(periods, key=lambda p: (p.weekday, p.start)))
                    )
                )
            return result

    def set_counsellor_hours(
        self, *, actor: Actor, counsellor_id: int, station_id: int, periods: list[WeeklyPeriod]
    ) -> None:
        """Replaces one counsellor's weekly hours at one station. Hours at different stations may
        not overlap: nobody works in two places at once."""
        self.require(
            actor, Permission.MANAGE_SCHEDULE, action="set_counsellor_hours", ref=str(counsellor_id)
        )
        errors: dict[str, str] = {}
        ordered = sorted(periods, key=lambda p: (p.weekday, p.start))
        for p in ordered:
            if not 0 <= p.weekday <= 6 or p.end <= p.start:
                errors[f"hours.{p.weekday}"] = _("Each period must end after it starts.")
            elif p.start < EARLIEST or p.end > LATEST:
                errors[f"hours.{p.weekday}"] = _("Working hours must lie between 06:00 and 22:00.")
        for a, b in itertools.pairwise(ordered):
            if a.weekday == b.weekday and b.start < a.end:
                errors[f"hours.{a.weekday}"] = _("Two periods on the same day overlap.")
        if errors:
            raise ValidationError(errors)
        with self.db.write() as session:
            user = session.get(m.UserAccount, counsellor_id)
            if user is None or not any(r.role == Role.COUNSELLOR for r in user.roles):
                raise NotFound(_("That counsellor no longer exists."))
            if session.get(m.UserStation, (counsellor_id, station_id)) is None:
                raise ValidationError(
                    {
                        "station": _(
                            "{name} does not work at this station; add the station to the account first."
                        ).format(name=user.display_name)
                    }
                )
            elsewhere = session.execute(
                select(m.CounsellorHours, m.Station.name)
                .join(m.Station, m.Station.id == m.CounsellorHours.station_id)
                .where(
                    m.CounsellorHours.counsellor_id == counsellor_id,
                    m.CounsellorHours.station_id != station_id,
                )
            ).all()
            for p in ordered:
                for h, name in elsewhere:
                    if h.weekday == p.weekday and p.start < h.ends and h.starts < p.end:
                        raise ValidationError(
                            {
                                f"hours.{p.weekday}": _(
                                    "That overlaps the hours at {station} ({start}–{end})."
                                ).format(
                                    station=name, start=f"{h.starts:%H:%M}", end=f"{h.ends:%H:%M}"
                                )
                            }
                        )
            session.execute(
                delete(m.CounsellorHours).where(
                    m.CounsellorHours.counsellor_id == counsellor_id,
                    m.CounsellorHours.station_id == station_id,
                )
            )
            session.add_all(
                m.CounsellorHours(
                    counsellor_id=counsellor_id,
                    station_id=station_id,
                    weekday=p.weekday,
                    starts=p.start,
                    ends=p.end,
                )
                for p in ordered
            )
            self.audit.record(
                session,
                actor=actor,
                action="set_counsellor_hours",
                object_type="user",
                object_ref=str(counsellor_id),
                detail=str(station_id),
            )

    # --- leave, training, extra hours -------------------------------------------------------------
    def _require_absence(
        self, actor: Actor, counsellor_id: int, station_ids: set[int], action: str
    ) -> None:
        if actor.can(Permission.MANAGE_SCHEDULE):
            return
        if actor.can(Permission.RECORD_ABSENCE) and (
            counsellor_id == actor.user_id
            or (Role.STAFF in actor.roles and station_ids & actor.station_ids)
        ):
            return
        self.deny(actor, action=action, ref=str(counsellor_id))

    def absences(
        self, *, actor: Actor, counsellor_id: int, first_day: date, last_day: date
    ) -> list[Absence]:
        lo = datetime.combine(first_day, time.min, tzinfo=ZoneInfo("Asia/Shanghai"))
        hi = datetime.combine(
            last_day + timedelta(days=1), time.min, tzinfo=ZoneInfo("Asia/Shanghai")
        )
        with self.db.read() as session:
            rows = session.scalars(
                select(m.CounsellorAbsence)
                .where(
                    m.CounsellorAbsence.counsellor_id == counsellor_id,
                    m.CounsellorAbsence.starts_at < hi,
                    m.CounsellorAbsence.ends_at > lo,
                )
                .order_by(m.CounsellorAbsence.starts_at)
            )
            return [
                Absence(r.id, r.kind, r.starts_at, r.ends_at, r.station_id, r.note) for r in rows
            ]

    def add_absence(
        self,
        *,
        actor: Actor,
        counsellor_id: int,
        kind: ExceptionKind,
        starts_at: datetime,
        ends_at: datetime,
        station_id: int | None = None,
        note: str = "",
    ) -> list[Appointment]:
        """Records leave, a training day or extra hours. Returns the booked appointments that now
        fall in leave or training, so staff can move them (they are not cancelled automatically)."""
        with self.db.read() as session:
            stations = set(
                session.scalars(
                    select(m.UserStation.station_id).where(m.UserStation.user_id == counsellor_id)
                )
            )
        self._require_absence(actor, counsellor_id, stations, "add_absence")
        errors = {}
        if starts_at.tzinfo is None or ends_at.tzinfo is None:
            errors["starts_at"] = _(
                "The time has no time zone; this is a fault in the program, please report it."
            )
        elif ends_at <= starts_at:
            errors["ends_at"] = _("The end must be after the start.")
        elif ends_at - starts_at > timedelta(days=366):
            errors["ends_at"] = _("Record at most a year at a time.")
        if kind is ExceptionKind.EXTRA and station_id not in stations:
            errors["station"] = _("Extra hours are at one of the counsellor's stations: choose it.")
        if len(note) > 200:
            errors["note"] = _("The note is too long (200 characters at most).")
        if errors:
            raise ValidationError(errors)
        with self.db.write() as session:
            session.add(
                m.CounsellorAbsence(
                    counsellor_id=counsellor_id,
                    station_id=station_id if kind is ExceptionKind.EXTRA else None,
                    kind=kind,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    note=note.strip(),
                    created_at=self.clock.now(),
                    created_by=actor.user_id,
                )
            )
            self.audit.record(
                session,
                actor=actor,
                action="add_absence",
                object_type="user",
                object_ref=str(counsellor_id),
                detail=kind.value,
            )
            if kind is ExceptionKind.EXTRA:
                return []
            affected = session.execute(
                data.appointment_query().where(
                    m.Appointment.counsellor_id == counsellor_id,
                    m.Appointment.status == AppointmentStatus.BOOKED,
                    data.in_window(starts_at, ends_at),
                )
            )
            return [
                data.to_appointment(tuple(r), show_identity=r[0].station_id in actor.station_ids)
                for r in affected
            ]

    def remove_absence(self, *, actor: Actor, absence_id: int) -> None:
        with self.db.write() as session:
            row = session.get(m.CounsellorAbsence, absence_id)
            if row is None:
                raise NotFound(_("That entry no longer exists."))
            stations = set(
                session.scalars(
                    select(m.UserStation.station_id).where(
                        m.UserStation.user_id == row.counsellor_id
                    )
                )
            )
            self._require_absence(actor, row.counsellor_id, stations, "remove_absence")
            session.delete(row)
            self.audit.record(
                session,
                actor=actor,
                action="remove_absence",
                object_type="user",
                object_ref=str(row.counsellor_id),
            )
