"""De-identified figures across stations for managers: operational counts, aggregated in SQL."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, String, func, select
from sqlalchemy.sql.expression import cast

from carestation.db import models as m
from carestation.domain.errors import ValidationError
from carestation.domain.roles import Permission
from carestation.domain.values import Actor, MonthlyStationCounts
from carestation.domain.vocab import AppointmentStatus, AppointmentType
from carestation.i18n import _
from carestation.services.base import Service


class SummaryService(Service):
    def monthly_counts(
        self, *, actor: Actor, first_month: date, last_month: date
    ) -> list[MonthlyStationCounts]:
        """Appointments per station and local calendar month, by status and type.

        These count appointments, not people, so no small-cell suppression applies (the
        reports issue adds suppressed people counts).
        """
        self.require(actor, Permission.VIEW_SUMMARY, action="view_summary")
        if last_month < first_month:
            raise ValidationError({"period": _("The period ends before it starts.")})
        results: dict[tuple[int, date], dict[str, dict]] = defaultdict(
            lambda: {"status": defaultdict(int), "type": defaultdict(int)}
        )
        names: dict[int, str] = {}
        with self.db.read() as session:
            stations = session.execute(
                select(m.Station.id, m.Station.name, m.Station.time_zone)
            ).all()
            by_zone: dict[str, list[int]] = defaultdict(list)
            for sid, name, zone in stations:
                names[sid] = name
                by_zone[zone].append(sid)
            for zone, station_ids in by_zone.items():
                tz = ZoneInfo(zone)
                lo = datetime.combine(first_month.replace(day=1), time.min, tzinfo=tz)
                hi = datetime.combine(_next_month(last_month.replace(day=1)), time.min, tzinfo=tz)
                month = _month_key(self.db.is_sqlite, zone, lo)
                query = (
                    select(
                        m.Appointment.station_id,
                        month.label("month"),
                        m.Appointment.status,
                        m.Appointment.type,
                        func.count().label("n"),
                    )
                    .where(
                        m.Appointment.station_id.in_(station_ids),
                        m.Appointment.starts_at >= lo,
                        m.Appointment.starts_at < hi,
                    )
                    .group_by(
                        m.Appointment.station_id, month, m.Appointment.status, m.Appointment.type
                    )
                )
                for sid, month_text, status, type_, n in session.execute(query):
                    key = (sid, date.fromisoformat(f"{month_text}-01"))
                    results[key]["status"][AppointmentStatus(status)] += n
                    results[key]["type"][AppointmentType(type_)] += n
        self.audit.record_now(
            actor=actor,
            action="view_summary",
            detail=f"{first_month:%Y-%m}..{last_month:%Y-%m}",
        )
        return [
            MonthlyStationCounts(
                station_id=sid,
                station_name=names[sid],
                month=month_start,
                by_status=dict(v["status"]),
                by_type=dict(v["type"]),
            )
            for (sid, month_start), v in sorted(
                results.items(), key=lambda kv: (names[kv[0][0]], kv[0][1])
            )
        ]


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def _month_key(is_sqlite: bool, zone: str, at: datetime) -> ColumnElement[str]:
    """'YYYY-MM' of an appointment's start in the station's local time, computed by the database."""
    if is_sqlite:
        # SQLite knows no time zones; stored values are UTC, so shift by the zone's offset.
        # Asia/Shanghai has had no daylight saving since 1991, so one offset is exact there.
        offset = at.utcoffset()
        minutes = int(offset.total_seconds() // 60) if offset else 0
        return func.strftime(
            "%Y-%m", func.datetime(m.Appointment.starts_at, f"{minutes:+d} minutes")
        )
    return cast(func.to_char(func.timezone(zone, m.Appointment.starts_at), "YYYY-MM"), String)
