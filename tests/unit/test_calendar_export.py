"""The counsellor's .ics export: events, UTC times, who may export, names only for oneself."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import select, update

from carestation.db import models as m
from carestation.domain.booking import BookingDraft
from carestation.domain.errors import NotFound, PermissionDenied, ValidationError
from carestation.domain.vocab import AppointmentStatus, AppointmentType, Modality
from carestation.services.calendar_export import CalendarExport
from carestation.services.container import Services
from tests.conftest import FakeClock
from tests.factories import World, add_appointment, build_world, set_counsellor_hours

SH = ZoneInfo("Asia/Shanghai")
NAME = "张三"
CODE = "ABCD-EFGH-1"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SH)


@pytest.fixture
def world(services: Services) -> World:
    w = build_world(services)
    set_counsellor_hours(services, w.counsellor.user_id, w.station_id, range(5), time(9), time(17))
    return w


@pytest.fixture
def export(services: Services, clock: FakeClock) -> CalendarExport:
    return CalendarExport(services.db, services.audit, clock)


@pytest.fixture
def ids(services: Services, world: World) -> dict[str, int]:
    """Tuesday 24 November: two at the home station (one booked through the rules, one
    cancelled), one at the other station, one by video; one just after midnight on the 25th."""
    booked = services.booking.book(
        actor=world.staff,
        draft=BookingDraft(
            type=AppointmentType.COUNSELLING,
            station_id=world.station_id,
            starts_at=at(24, 9),
            client_id=world.client_id,
            counsellor_id=world.counsellor.user_id,
            room_id=world.room_id,
        ),
    )
    result = {
        "booked": booked.id,
        "cancelled": add_appointment(
            services, world, at(24, 11), at(24, 12), status=AppointmentStatus.CANCELLED
        ),
        "other_station": add_appointment(
            services, world, at(24, 14), at(24, 15), station_id=world.other_station_id
        ),
        "video": add_appointment(services, world, at(24, 16), at(24, 16, 50)),
        "after_midnight": add_appointment(services, world, at(25, 0, 30), at(25, 1)),
    }
    with services.db.write() as session:
        session.execute(
            update(m.Appointment)
            .where(m.Appointment.id == result["video"])
            .values(modality=Modality.VIDEO, room_id=None)
        )
    return result


def events(ics: bytes) -> dict[str, dict[str, object]]:
    calendar = Calendar.from_ical(ics)
    return {
        str(e["uid"]): {
            "start": e.decoded("dtstart"),
            "end": e.decoded("dtend"),
            "summary": str(e["summary"]),
            "location": str(e["location"]),
            "description": str(e["description"]),
        }
        for e in calendar.walk("VEVENT")
    }


def uid(appointment_id: int) -> str:
    return f"appointment-{appointment_id}@carestation"


def last_audit(services: Services) -> tuple[str, str, str, str, str]:
    with services.db.read() as session:
        row = session.execute(
            select(
                m.AuditEvent.action,
                m.AuditEvent.object_type,
                m.AuditEvent.object_ref,
                m.AuditEvent.result,
                m.AuditEvent.detail,
            )
            .order_by(m.AuditEvent.id.desc())
            .limit(1)
        ).one()
    return tuple(row)  # type: ignore[return-value]


def test_counsellor_exports_own_appointments_in_utc_without_names(
    services: Services, world: World, export: CalendarExport, ids: dict[str, int]
) -> None:
    ics = export.counsellor_ics(
        actor=world.counsellor,
        counsellor_id=world.counsellor.user_id,
        first_day=date(2026, 11, 24),
        last_day=date(2026, 11, 24),
    )
    found = events(ics)
    assert set(found) == {uid(ids["booked"]), uid(ids["other_station"]), uid(ids["video"])}
    booked = found[uid(ids["booked"])]
    assert booked["start"] == datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    assert booked["end"] == datetime(2026, 11, 24, 1, 50, tzinfo=UTC)
    assert booked["summary"] == "Individual counselling"
    assert booked["location"] == "暨阳街道职工情绪管理服务站 · 个人咨询室一"
    assert booked["description"] == "CareStation appointment"
    assert found[uid(ids["other_station"])]["location"] == "店口镇服务站 · 个人咨询室一"
    assert found[uid(ids["video"])]["location"] == "暨阳街道职工情绪管理服务站 · Video"
    # Times are written as UTC ("Z"), not floating or with a TZID.
    assert b"DTSTART:20261124T010000Z" in ics
    assert NAME.encode() not in ics
    assert CODE.encode() not in ics
    assert b"13800000000" not in ics
    assert last_audit(services) == (
        "export_ics",
        "counsellor",
        str(world.counsellor.user_id),
        "ok",
        "",
    )


def test_days_are_the_stations_local_days(
    world: World, export: CalendarExport, ids: dict[str, int]
) -> None:
    ics = export.counsellor_ics(
        actor=world.counsellor,
        counsellor_id=world.counsellor.user_id,
        first_day=date(2026, 11, 25),
        last_day=date(2026, 11, 30),
    )
    # 00:30 on the 25th in Shanghai is the 24th in UTC, and belongs to the 25th.
    assert list(events(ics)) == [uid(ids["after_midnight"])]
    assert events(ics)[uid(ids["after_midnight"])]["start"] == datetime(
        2026, 11, 24, 16, 30, tzinfo=UTC
    )


def test_counsellor_may_include_client_names_in_the_description_only(
    services: Services, world: World, export: CalendarExport, ids: dict[str, int]
) -> None:
    ics = export.counsellor_ics(
        actor=world.counsellor,
        counsellor_id=world.counsellor.user_id,
        first_day=date(2026, 11, 24),
        last_day=date(2026, 11, 24),
        include_client_names=True,
    )
    booked = events(ics)[uid(ids["booked"])]
    assert booked["description"] == f"CareStation appointment\nClient: {NAME} ({CODE})"
    assert NAME not in booked["summary"]
    assert last_audit(services)[4] == "with names"


def test_staff_see_only_their_stations_and_never_names(
    services: Services, world: World, export: CalendarExport, ids: dict[str, int]
) -> None:
    days = {"first_day": date(2026, 11, 24), "last_day": date(2026, 11, 25)}
    ics = export.counsellor_ics(actor=world.staff, counsellor_id=world.counsellor.user_id, **days)
    assert set(events(ics)) == {uid(ids["booked"]), uid(ids["video"]), uid(ids["after_midnight"])}
    assert NAME.encode() not in ics
    ics = export.counsellor_ics(
        actor=world.other_staff, counsellor_id=world.counsellor.user_id, **days
    )
    assert set(events(ics)) == {uid(ids["other_station"])}
    assert "店口镇服务站".encode() in ics
    assert "暨阳街道".encode() not in ics

    with pytest.raises(PermissionDenied):
        export.counsellor_ics(
            actor=world.staff,
            counsellor_id=world.counsellor.user_id,
            include_client_names=True,
            **days,
        )
    assert last_audit(services) == (
        "export_ics",
        "",
        str(world.counsellor.user_id),
        "denied",
        "",
    )


@pytest.mark.parametrize("who", ["manager", "admin", "other_counsellor"])
def test_others_may_not_export(
    services: Services, world: World, export: CalendarExport, ids: dict[str, int], who: str
) -> None:
    if who == "other_counsellor":
        # Another counsellor asking for this counsellor's calendar.
        actor = world.counsellor
        target = world.staff.user_id
    else:
        actor = getattr(world, who)
        target = world.counsellor.user_id
    with pytest.raises(PermissionDenied):
        export.counsellor_ics(
            actor=actor,
            counsellor_id=target,
            first_day=date(2026, 11, 24),
            last_day=date(2026, 11, 24),
        )
    action, _type, ref, result, _detail = last_audit(services)
    assert (action, ref, result) == ("export_ics", str(target), "denied")


def test_lecture_summary_carries_its_title(
    services: Services, world: World, export: CalendarExport
) -> None:
    lecture = add_appointment(
        services, world, at(26, 14), at(26, 15, 30), type_=AppointmentType.LECTURE
    )
    with services.db.write() as session:
        session.execute(
            update(m.Appointment)
            .where(m.Appointment.id == lecture)
            .values(title="压力管理讲座", client_id=None, address="市水务集团三楼会议室")
        )
    ics = export.counsellor_ics(
        actor=world.counsellor,
        counsellor_id=world.counsellor.user_id,
        first_day=date(2026, 11, 26),
        last_day=date(2026, 11, 26),
    )
    event = events(ics)[uid(lecture)]
    assert event["summary"] == "Lecture or workshop: 压力管理讲座"
    assert event["location"] == "暨阳街道职工情绪管理服务站 · 市水务集团三楼会议室"


def test_date_range_is_checked(world: World, export: CalendarExport) -> None:
    def run(first: date, last: date) -> bytes:
        return export.counsellor_ics(
            actor=world.counsellor,
            counsellor_id=world.counsellor.user_id,
            first_day=first,
            last_day=last,
        )

    with pytest.raises(ValidationError) as exc:
        run(date(2026, 11, 24), date(2026, 11, 23))
    assert exc.value.errors == {"last_day": "The last day must not be before the first."}
    with pytest.raises(ValidationError) as exc:
        run(date(2026, 1, 1), date(2027, 1, 2))  # 367 days
    assert exc.value.errors == {"last_day": "Export at most 366 days at a time."}
    assert b"BEGIN:VCALENDAR" in run(date(2026, 1, 1), date(2027, 1, 1))  # 366 days
    with pytest.raises(NotFound):
        export.counsellor_ics(
            actor=world.staff,
            counsellor_id=999_999,
            first_day=date(2026, 11, 24),
            last_day=date(2026, 11, 24),
        )
