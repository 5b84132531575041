"""Waitlist offers, lecture registrations, schedule administration and client registration."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from carestation.domain.booking import (
    BookingDraft,
    BookingRefused,
    ClientInput,
    DuplicateClient,
    WaitlistInput,
)
from carestation.domain.errors import Conflict, PermissionDenied, ValidationError
from carestation.domain.scheduling import BookingRules, WeeklyPeriod
from carestation.domain.vocab import (
    AppointmentType,
    CancelReason,
    ExceptionKind,
    RegistrationStatus,
    RoomKind,
    WaitlistStatus,
)
from carestation.services.container import Services
from tests.conftest import FakeClock
from tests.factories import World, add_room, build_world, set_counsellor_hours

SH = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SH)


@pytest.fixture
def world(services: Services) -> World:
    w = build_world(services)
    set_counsellor_hours(services, w.counsellor.user_id, w.station_id, range(5), time(9), time(12))
    return w


def _client(services: Services, world: World, name: str, phone: str) -> int:
    return services.clients.register(actor=world.staff, data=ClientInput(name=name, phone=phone)).id


# --- clients ------------------------------------------------------------------------------------
def test_client_search_by_name_phone_and_code(services: Services, world: World) -> None:
    new = services.clients.register(
        actor=world.staff,
        data=ClientInput(name="李晓明", phone="13912345678", work_unit="供电公司"),
    )
    assert [c.name for c in services.clients.search(actor=world.staff, text="晓明")] == ["李晓明"]
    assert [c.name for c in services.clients.search(actor=world.staff, text="139123")] == ["李晓明"]
    assert [
        c.id for c in services.clients.search(actor=world.staff, text=new.client_code.lower())
    ] == [new.id]
    assert services.clients.search(actor=world.staff, text="%") == []  # LIKE wildcards are literal
    with pytest.raises(PermissionDenied):
        services.clients.search(actor=world.manager, text="李")


def test_duplicate_registration_offers_the_existing_record(
    services: Services, world: World
) -> None:
    first = services.clients.register(
        actor=world.staff, data=ClientInput(name="王芳", phone="13700000001")
    )
    with pytest.raises(DuplicateClient) as exc:
        services.clients.register(
            actor=world.staff, data=ClientInput(name=" 王芳 ", phone="137 0000 0001")
        )
    assert exc.value.existing.id == first.id
    second = services.clients.register(
        actor=world.staff, data=ClientInput(name="王芳", phone="13700000001"), allow_duplicate=True
    )
    assert second.client_code != first.client_code
    with pytest.raises(ValidationError) as bad:
        services.clients.register(
            actor=world.staff, data=ClientInput(name="", phone="123", birth_year=1850)
        )
    assert set(bad.value.errors) == {"name", "phone", "birth_year"}


# --- waitlist -------------------------------------------------------------------------------------
def test_waitlist_offer_appears_when_a_slot_frees(services: Services, world: World) -> None:
    other = _client(services, world, "赵敏", "13600000002")
    # Tuesday 09:00-12:00 is full: 09:00, 10:00, 11:00 booked for other clients.
    booked = [
        services.booking.book(
            actor=world.staff,
            draft=BookingDraft(
                type=AppointmentType.COUNSELLING,
                station_id=world.station_id,
                starts_at=at(24, h),
                client_id=_client(services, world, f"客{h}", f"135000000{h:02d}"),
                counsellor_id=world.counsellor.user_id,
                room_id=world.room_id,
            ),
        )
        for h in (9, 10, 11)
    ]
    entry = services.waitlist.add(
        actor=world.staff,
        data=WaitlistInput(
            client_id=other,
            station_id=world.station_id,
            type=AppointmentType.COUNSELLING,
            earliest=date(2026, 11, 24),
            latest=date(2026, 11, 24),
            counsellor_id=world.counsellor.user_id,
        ),
    )
    assert entry.status is WaitlistStatus.WAITING
    assert (
        services.waitlist.entries(actor=world.staff, station_id=world.station_id)[0].offer is None
    )
    services.booking.cancel(
        actor=world.staff, appointment_id=booked[1].id, reason=CancelReason.CLIENT
    )
    (item,) = services.waitlist.entries(actor=world.staff, station_id=world.station_id)
    assert item.offer is not None
    assert item.offer.starts_at == at(24, 10)
    assert [
        m.id
        for m in services.waitlist.matches_for_freed(actor=world.staff, appointment_id=booked[1].id)
    ] == [item.id]
    appointment_id = services.waitlist.book_offer(
        actor=world.staff, entry_id=item.id, slot=item.offer
    )
    assert (
        services.schedule.get(actor=world.staff, appointment_id=appointment_id).client_name
        == "赵敏"
    )
    assert services.waitlist.entries(actor=world.staff, station_id=world.station_id) == []
    with pytest.raises(Conflict):
        services.waitlist.withdraw(actor=world.staff, entry_id=item.id)


def test_waitlist_input_rules(services: Services, world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        services.waitlist.add(
            actor=world.staff,
            data=WaitlistInput(
                client_id=world.client_id,
                station_id=world.station_id,
                type=AppointmentType.LECTURE,
                earliest=date(2026, 11, 30),
                latest=date(2026, 11, 20),
                time_from=time(15),
                time_to=time(9),
            ),
        )
    assert set(exc.value.errors) == {"latest", "time_to", "type"}


# --- lectures -------------------------------------------------------------------------------------
def test_lecture_capacity_waitlist_and_attendance(
    services: Services, world: World, clock: FakeClock
) -> None:
    hall = add_room(services, world, "团体活动室", RoomKind.GROUP_ROOM, capacity=30)
    set_counsellor_hours(
        services, world.counsellor.user_id, world.station_id, range(5), time(14), time(17)
    )
    lecture = services.booking.book(
        actor=world.staff,
        draft=BookingDraft(
            type=AppointmentType.LECTURE,
            station_id=world.station_id,
            starts_at=at(25, 14),
            counsellor_id=world.counsellor.user_id,
            room_id=hall,
            title="职场压力与情绪调节",
            capacity=2,
        ),
    )
    people = [
        _client(services, world, n, f"1330000000{i}") for i, n in enumerate(["甲", "乙", "丙"])
    ]
    regs = [
        services.lectures.register(actor=world.staff, lecture_id=lecture.id, client_id=p)
        for p in people
    ]
    assert [r.status for r in regs] == [
        RegistrationStatus.REGISTERED,
        RegistrationStatus.REGISTERED,
        RegistrationStatus.WAITLISTED,
    ]
    with pytest.raises(Conflict, match="already on this lecture's list"):
        services.lectures.register(actor=world.staff, lecture_id=lecture.id, client_id=people[0])
    promoted = services.lectures.unregister(actor=world.staff, registration_id=regs[0].id)
    assert promoted == regs[2].id
    roster = {
        r.client_name: r.status
        for r in services.lectures.roster(actor=world.staff, lecture_id=lecture.id)
    }
    assert roster == {
        "甲": RegistrationStatus.CANCELLED,
        "乙": RegistrationStatus.REGISTERED,
        "丙": RegistrationStatus.REGISTERED,
    }
    with pytest.raises(Conflict, match="once the lecture has begun"):
        services.lectures.set_attendance(
            actor=world.staff, registration_id=regs[1].id, attended=True
        )
    clock.current = at(25, 14, 10)
    services.lectures.set_attendance(
        actor=world.counsellor, registration_id=regs[1].id, attended=True
    )  # the speaker
    assert [
        r.attended
        for r in services.lectures.roster(actor=world.staff, lecture_id=lecture.id)
        if r.client_name == "乙"
    ] == [True]
    with pytest.raises(Conflict, match="already started"):
        services.lectures.register(
            actor=world.staff, lecture_id=lecture.id, client_id=world.client_id
        )
    with pytest.raises(PermissionDenied):
        services.lectures.roster(actor=world.other_staff, lecture_id=lecture.id)


# --- schedule administration ----------------------------------------------------------------------
def test_booking_rules_change_what_is_allowed(services: Services, world: World) -> None:
    rules = services.schedule_admin.rules(actor=world.staff, station_id=world.station_id)
    assert rules[AppointmentType.COUNSELLING] == BookingRules(50, 10, 60, 24, 1)
    with pytest.raises(PermissionDenied):
        services.schedule_admin.set_rules(
            actor=world.staff,
            station_id=world.station_id,
            type=AppointmentType.COUNSELLING,
            rules=BookingRules(45, 15, 0, 48, 2),
        )
    services.schedule_admin.set_rules(
        actor=world.admin,
        station_id=world.station_id,
        type=AppointmentType.COUNSELLING,
        rules=BookingRules(45, 15, 0, 48, 2),
    )
    appt = services.booking.book(
        actor=world.staff,
        draft=BookingDraft(
            type=AppointmentType.COUNSELLING,
            station_id=world.station_id,
            starts_at=at(23, 10, 15),  # no notice needed any more
            client_id=world.client_id,
            counsellor_id=world.counsellor.user_id,
            room_id=world.room_id,
        ),
    )
    assert appt.ends_at - appt.starts_at == timedelta(minutes=45)
    with pytest.raises(ValidationError) as bad:
        services.schedule_admin.set_rules(
            actor=world.admin,
            station_id=world.station_id,
            type=AppointmentType.POD,
            rules=BookingRules(1, -1, 0, 0, 0),
        )
    assert set(bad.value.errors) == {"default_minutes", "buffer_minutes", "weekly_cap"}


def test_closures_refuse_days_with_bookings(services: Services, world: World) -> None:
    services.booking.book(
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
    with pytest.raises(Conflict, match="1 appointment is booked"):
        services.schedule_admin.add_closure(
            actor=world.admin, station_id=world.station_id, day=date(2026, 11, 24), reason="停电"
        )
    services.schedule_admin.add_closure(
        actor=world.admin, station_id=world.station_id, day=date(2026, 11, 25), reason="停电"
    )
    assert [
        c.day
        for c in services.schedule_admin.closures(
            actor=world.staff,
            station_id=world.station_id,
            first_day=date(2026, 11, 1),
            last_day=date(2026, 11, 30),
        )
    ] == [date(2026, 11, 25)]
    services.schedule_admin.remove_closure(
        actor=world.admin, station_id=world.station_id, day=date(2026, 11, 25)
    )
    holidays = services.schedule_admin.holidays(year=2026)
    assert any(h.day == date(2026, 10, 1) and not h.makeup_workday for h in holidays)
    assert any(h.day == date(2026, 10, 10) and h.makeup_workday for h in holidays)


def test_counsellor_hours_never_overlap_across_stations(services: Services, world: World) -> None:
    services.schedule_admin.set_counsellor_hours(
        actor=world.admin,
        counsellor_id=world.counsellor.user_id,
        station_id=world.other_station_id,
        periods=[WeeklyPeriod(1, time(14), time(17))],
    )
    with pytest.raises(ValidationError, match="overlaps the hours at"):
        services.schedule_admin.set_counsellor_hours(
            actor=world.admin,
            counsellor_id=world.counsellor.user_id,
            station_id=world.other_station_id,
            periods=[WeeklyPeriod(0, time(10), time(13))],
        )
    hours = {
        h.station_name: h.periods
        for h in services.schedule_admin.counsellor_hours(
            actor=world.admin, counsellor_id=world.counsellor.user_id
        )
    }
    assert hours["店口镇服务站"] == (WeeklyPeriod(1, time(14), time(17)),)


def test_leave_lists_the_bookings_it_affects(services: Services, world: World) -> None:
    appt = services.booking.book(
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
    affected = services.schedule_admin.add_absence(
        actor=world.counsellor,
        counsellor_id=world.counsellor.user_id,
        kind=ExceptionKind.LEAVE,
        starts_at=at(24, 0),
        ends_at=at(25, 0),
    )
    assert [a.id for a in affected] == [appt.id]
    with pytest.raises(BookingRefused, match="away then"):
        services.booking.move(actor=world.staff, appointment_id=appt.id, starts_at=at(24, 10))
    with pytest.raises(PermissionDenied):
        services.schedule_admin.add_absence(
            actor=world.manager,
            counsellor_id=world.counsellor.user_id,
            kind=ExceptionKind.LEAVE,
            starts_at=at(26, 0),
            ends_at=at(27, 0),
        )
    (absence,) = services.schedule_admin.absences(
        actor=world.staff,
        counsellor_id=world.counsellor.user_id,
        first_day=date(2026, 11, 24),
        last_day=date(2026, 11, 24),
    )
    services.schedule_admin.remove_absence(actor=world.staff, absence_id=absence.id)
    assert services.booking.move(
        actor=world.staff, appointment_id=appt.id, starts_at=at(24, 10)
    ).starts_at == at(24, 10)
