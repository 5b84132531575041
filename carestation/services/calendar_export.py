"""A counsellor's appointments as an iCalendar (.ics) file for their own calendar program."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from carestation.db import models as m
from carestation.domain.booking import Appointment
from carestation.domain.errors import NotFound, ValidationError
from carestation.domain.roles import Permission
from carestation.domain.values import Actor
from carestation.domain.vocab import AppointmentStatus, AppointmentType, Modality
from carestation.i18n import _
from carestation.services import schedule_data as data
from carestation.services.base import Service

MAX_EXPORT_DAYS = 366
PRODID = "-//CareStation//Counsellor calendar//ZH"


def event_uid(appointment_id: int) -> str:
    """Stable across exports, so a re-import updates events instead of duplicating them."""
    return f"appointment-{appointment_id}@carestation"


def _summary(appt: Appointment) -> str:
    if appt.type is AppointmentType.LECTURE and appt.title:
        return _("{type}: {title}").format(type=appt.type.title, title=appt.title)
    return appt.type.title


def _location(appt: Appointment) -> str:
    if appt.modality is Modality.VIDEO:
        place = _("Video")
    elif appt.modality is Modality.PHONE:
        place = _("Phone")
    else:
        place = appt.address or appt.room_name
    return f"{appt.station_name} · {place}" if place else appt.station_name


def _description(appt: Appointment, with_names: bool) -> str:
    # Calendar programs sync to phones and clouds and show SUMMARY on lock screens: the name,
    # when asked for at all, goes only into the description.
    lines = [_("CareStation appointment")]
    if with_names and appt.client_id is not None:
        lines.append(
            _("Client: {name} ({code})").format(name=appt.client_name, code=appt.client_code)
        )
    return "\n".join(lines)


class CalendarExport(Service):
    def counsellor_ics(
        self,
        *,
        actor: Actor,
        counsellor_id: int,
        first_day: date,
        last_day: date,
        include_client_names: bool = False,
    ) -> bytes:
        """The counsellor's non-cancelled appointments from `first_day` to `last_day` (inclusive,
        in each station's time zone) as iCalendar bytes, times in UTC.

        The counsellor may export their own calendar at every station, and only they may ask for
        clients' names in it. Staff may export a counsellor's appointments at the staff's own
        stations, never with names. Each export is audited.
        """
        ref = str(counsellor_id)
        own = actor.user_id == counsellor_id and actor.can(Permission.VIEW_OWN_APPOINTMENTS)
        staff = actor.can(Permission.VIEW_STATION_APPOINTMENTS)
        if not (own or staff) or (include_client_names and not own):
            self.deny(actor, action="export_ics", ref=ref)
        if last_day < first_day:
            raise ValidationError({"last_day": _("The last day must not be before the first.")})
        if (last_day - first_day).days + 1 > MAX_EXPORT_DAYS:
            raise ValidationError(
                {
                    "last_day": _("Export at most {days} days at a time.").format(
                        days=MAX_EXPORT_DAYS
                    )
                }
            )
        appointments = self._appointments(
            counsellor_id, first_day, last_day, None if own else actor.station_ids
        )
        # Imported here: the library costs ~0.1 s, and only an export needs it.
        from icalendar import Calendar, Event

        calendar = Calendar()
        calendar.add("prodid", PRODID)
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("x-wr-calname", "CareStation")
        stamp = self.clock.now().astimezone(UTC)
        for appt in appointments:
            event = Event()
            event.add("uid", event_uid(appt.id))
            event.add("dtstamp", stamp)
            event.add("dtstart", appt.starts_at.astimezone(UTC))
            event.add("dtend", appt.ends_at.astimezone(UTC))
            event.add("summary", _summary(appt))
            event.add("location", _location(appt))
            event.add("description", _description(appt, include_client_names))
            event.add("sequence", max(appt.version - 1, 0))
            event.add("class", "CONFIDENTIAL")
            calendar.add_component(event)
        self.audit.record_now(
            actor=actor,
            action="export_ics",
            object_type="counsellor",
            object_ref=ref,
            detail="with names" if include_client_names else "",
        )
        return calendar.to_ical()

    def _appointments(
        self,
        counsellor_id: int,
        first_day: date,
        last_day: date,
        station_ids: frozenset[int] | None,
    ) -> list[Appointment]:
        # Stations may sit in different time zones: read a window wide enough for any of them,
        # then keep what falls on the chosen days locally.
        lo = datetime.combine(first_day, time.min, tzinfo=UTC) - timedelta(hours=14)
        hi = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=UTC) + timedelta(
            hours=14
        )
        with self.db.read() as session:
            if session.get(m.UserAccount, counsellor_id) is None:
                raise NotFound(_("That counsellor no longer exists."))
            query = data.appointment_query().where(
                m.Appointment.counsellor_id == counsellor_id,
                m.Appointment.status != AppointmentStatus.CANCELLED,
                data.in_window(lo, hi),
            )
            if station_ids is not None:
                query = query.where(m.Appointment.station_id.in_(sorted(station_ids)))
            rows = [data.to_appointment(tuple(r)) for r in session.execute(query)]
        return [a for a in rows if first_day <= a.starts_at.date() <= last_day]
