"""Booking rules, each on its own, with exact messages and no partial writes."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from carestation.db import models as m
from carestation.domain.booking import BookingDraft, BookingRefused, SlotRequest
from carestation.domain.errors import Conflict, PermissionDenied
from carestation.domain.vocab import (
    AppointmentStatus,
    AppointmentType,
    CancelReason,
    ChangeKind,
    ExceptionKind,
    Modality,
    RoomKind,
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
    set_counsellor_hours(services, w.counsellor.user_id, w.station_id, range(5), time(9), time(17))
    return w


def counselling(world: World, start: datetime, **kw: object) -> BookingDraft:
    fields: dict[str, object] = {
        "type": AppointmentType.COUNSELLING,
        "station_id": world.station_id,
        "starts_at": start,
        "client_id": world.client_id,
        "counsellor_id": world.counsellor.user_id,
        "room_id": world.room_id,
    }
    return BookingDraft(**{**fields, **kw})  # type: ignore[arg-type]


def appointments(services: Services) -> int:
    with services.db.read() as session:
        return session.scalar(select(func.count()).select_from(m.Appointment)) or 0


def refused(services: Services, world: World, draft: BookingDraft) -> BookingRefused:
    before = appointments(services)
    with pytest.raises(BookingRefused) as exc:
        services.booking.book(actor=world.staff, draft=draft)
    assert appointments(services) == before  # nothing half-saved
    return exc.value


def test_book_then_history_and_audit(services: Services, world: World) -> None:
    appt = services.booking.book(actor=world.staff, draft=counselling(world, at(24, 9)))
    assert (appt.starts_at, appt.ends_at) == (at(24, 9), at(24, 9, 50))  # 50 min default
    assert appt.status is AppointmentStatus.BOOKED
    assert (appt.client_name, appt.counsellor_name, appt.room_name) == (
        "张三",
        "陈静",
        "个人咨询室一",
    )
    history = services.schedule.history(actor=world.staff, appointment_id=appt.id)
    assert [h.kind for h in history] == [ChangeKind.CREATED]
    with services.db.read() as session:
        assert (
            session.scalar(select(m.AuditEvent.action).order_by(m.AuditEvent.id.desc()).limit(1))
            == "book"
        )


def test_overlap_is_refused_with_alternatives(services: Services, world: World) -> None:
    services.booking.book(actor=world.staff, draft=counselling(world, at(24, 9)))
    error = refused(services, world, counselling(world, at(24, 9, 30)))
    assert any("counsellor already has an appointment at 11-24 09:00" in p for p in error.problems)
    assert error.alternatives
    assert all(a.starts_at >= at(24, 10) for a in error.alternatives)  # after the 10-minute buffer


def test_buffer_after_the_previous_appointment(services: Services, world: World) -> None:
    services.booking.book(actor=world.staff, draft=counselling(world, at(24, 9)))
    other_room = add_room(services, world, "个人咨询室二", RoomKind.COUNSELLING_ROOM)
    error = refused(services, world, counselling(world, at(24, 9, 55), room_id=other_room))
    assert "break after it" in error.problems[0]
    assert services.booking.book(
        actor=world.staff,
        draft=counselling(world, at(24, 10), room_id=other_room, override_reason="加约"),
    )


def test_past_notice_and_walk_in(services: Services, world: World, clock: FakeClock) -> None:
    assert "has passed" in refused(services, world, counselling(world, at(23, 9))).problems[0]
    assert (
        "60 minutes' notice"
        in refused(services, world, counselling(world, at(23, 10, 30))).problems[0]
    )
    walk_in = services.booking.book(
        actor=world.staff, draft=counselling(world, at(23, 9), walk_in=True)
    )
    assert walk_in.status is AppointmentStatus.COMPLETED
    assert walk_in.walk_in
    assert (
        "in the future"
        in refused(services, world, counselling(world, at(24, 9), walk_in=True)).problems[0]
    )
    assert (
        "up to 7 days"
        in refused(services, world, counselling(world, at(13, 9), walk_in=True)).problems[0]
    )


def test_opening_hours_and_closures(services: Services, world: World) -> None:
    assert (
        "outside the station's opening hours (08:30–17:00)"
        in refused(services, world, counselling(world, at(24, 16, 30))).problems[0]
    )
    assert (
        "closed on 2026-11-28"
        in refused(services, world, counselling(world, at(28, 10))).problems[0]
    )  # Saturday
    with services.db.write() as session:
        session.add(
            m.StationClosure(station_id=world.station_id, day=at(25, 0).date(), reason="消防演练")
        )
    assert refused(services, world, counselling(world, at(25, 10))).problems[0] == (
        "The station is closed on 2026-11-25: 消防演练"
    )


def test_public_holidays_and_make_up_working_days(
    services: Services, world: World, clock: FakeClock
) -> None:
    clock.current = datetime(2026, 9, 28, 2, 0, tzinfo=UTC)
    problem = refused(services, world, counselling(world, at(1, 10, month=10))).problems[0]
    assert "2026-10-01 is a public holiday" in problem
    # Saturday 10 October 2026 is worked in exchange for the National Day week: open.
    assert services.booking.book(actor=world.staff, draft=counselling(world, at(10, 10, month=10)))


def test_counsellor_rules(services: Services, world: World) -> None:
    assert (
        "works here from 09:00–17:00"
        in refused(services, world, counselling(world, at(24, 8, 30))).problems[0]
    )
    with services.db.write() as session:
        session.add(
            m.CounsellorAbsence(
                counsellor_id=world.counsellor.user_id,
                kind=ExceptionKind.LEAVE,
                starts_at=at(26, 0),
                ends_at=at(27, 0),
                created_at=at(20, 0),
            )
        )
    assert (
        "is away then (Leave)"
        in refused(services, world, counselling(world, at(26, 10))).problems[0]
    )
    services.admin.set_user_active(
        actor=world.admin, user_id=world.counsellor.user_id, active=False
    )
    assert (
        "no longer works here"
        in refused(services, world, counselling(world, at(24, 10))).problems[0]
    )


def test_weekly_cap_needs_a_reason_to_override(services: Services, world: World) -> None:
    services.booking.book(actor=world.staff, draft=counselling(world, at(24, 9)))
    error = refused(services, world, counselling(world, at(26, 9)))
    assert error.overridable
    assert (
        "already has 1 open Individual counselling booking that week (the limit is 1)"
        in error.problems[0]
    )
    appt = services.booking.book(
        actor=world.staff, draft=counselling(world, at(26, 9), override_reason="情绪波动较大")
    )
    assert appt.id
    # Next week is a new week.
    assert services.booking.book(actor=world.staff, draft=counselling(world, at(30, 9)))


def test_type_requirements(services: Services, world: World) -> None:
    pod = add_room(services, world, "情绪调节舱1", RoomKind.EMOTION_POD)
    error = refused(services, world, counselling(world, at(24, 9), room_id=pod))
    assert "cannot take place in 情绪调节舱1 (Emotion pod)" in error.problems[0]
    pod_booking = BookingDraft(
        type=AppointmentType.POD,
        station_id=world.station_id,
        starts_at=at(24, 9),
        client_id=world.client_id,
        room_id=pod,
    )
    appt = services.booking.book(actor=world.staff, draft=pod_booking)
    assert appt.ends_at - appt.starts_at == timedelta(minutes=15)
    online = BookingDraft(
        type=AppointmentType.ONLINE,
        station_id=world.station_id,
        starts_at=at(24, 11),
        client_id=world.client_id,
        counsellor_id=world.counsellor.user_id,
        modality=Modality.VIDEO,
        room_id=world.room_id,
    )
    assert "does not use a room" in refused(services, world, online).problems[0]


def test_lecture_rules(services: Services, world: World) -> None:
    hall = add_room(services, world, "团体活动室", RoomKind.GROUP_ROOM, capacity=30)
    lecture = BookingDraft(
        type=AppointmentType.LECTURE,
        station_id=world.station_id,
        starts_at=at(25, 14),
        counsellor_id=world.counsellor.user_id,
        room_id=hall,
        capacity=40,
    )
    problems = refused(services, world, lecture).problems
    assert "Give the lecture a title." in problems
    assert "团体活动室 holds 30 people; lower the capacity or choose a bigger room." in problems


def test_move_keeps_history_and_checks_clashes(services: Services, world: World) -> None:
    first = services.booking.book(actor=world.staff, draft=counselling(world, at(24, 9)))
    moved = services.booking.move(
        actor=world.staff, appointment_id=first.id, starts_at=at(24, 14), expected_version=1
    )
    assert (moved.starts_at, moved.version) == (at(24, 14), 2)
    history = services.schedule.history(actor=world.staff, appointment_id=first.id)
    assert [h.kind for h in history] == [ChangeKind.CREATED, ChangeKind.MOVED]
    assert history[1].old_starts_at == at(24, 9)
    with pytest.raises(Conflict, match="changed this appointment a moment ago"):
        services.booking.move(
            actor=world.staff, appointment_id=first.id, starts_at=at(24, 15), expected_version=1
        )
    second = services.booking.book(actor=world.staff, draft=counselling(world, at(30, 9)))
    with pytest.raises(BookingRefused) as exc:
        services.booking.move(actor=world.staff, appointment_id=second.id, starts_at=at(24, 14, 30))
    assert exc.value.alternatives
    assert services.schedule.get(actor=world.staff, appointment_id=second.id).starts_at == at(30, 9)


def test_moving_within_the_week_does_not_recount_the_weekly_cap(
    services: Services, world: World
) -> None:
    first = services.booking.book(actor=world.staff, draft=counselling(world, at(24, 9)))
    services.booking.book(
        actor=world.staff, draft=counselling(world, at(26, 9), override_reason="情绪波动较大")
    )
    moved = services.booking.move(actor=world.staff, appointment_id=first.id, starts_at=at(25, 14))
    assert moved.starts_at == at(25, 14)
    # Into a week that has room: fine. Back into a full week: the cap applies again.
    services.booking.move(actor=world.staff, appointment_id=first.id, starts_at=at(30, 9))
    with pytest.raises(BookingRefused, match="limit is 1"):
        services.booking.move(actor=world.staff, appointment_id=first.id, starts_at=at(25, 14))


def test_cancel_marks_late_and_frees_the_slot(services: Services, world: World) -> None:
    soon = services.booking.book(actor=world.staff, draft=counselling(world, at(24, 9)))
    cancelled = services.booking.cancel(
        actor=world.staff, appointment_id=soon.id, reason=CancelReason.CLIENT
    )
    assert cancelled.status is AppointmentStatus.CANCELLED
    assert cancelled.late_cancel  # inside 24 hours
    later = services.booking.book(actor=world.staff, draft=counselling(world, at(30, 9)))
    assert not services.booking.cancel(
        actor=world.staff, appointment_id=later.id, reason=CancelReason.STATION
    ).late_cancel
    again = services.booking.book(
        actor=world.staff, draft=counselling(world, at(24, 9))
    )  # the freed slot
    assert again.status is AppointmentStatus.BOOKED
    with pytest.raises(Conflict):
        services.booking.cancel(
            actor=world.staff, appointment_id=soon.id, reason=CancelReason.CLIENT
        )


def test_status_transitions(services: Services, world: World, clock: FakeClock) -> None:
    appt = services.booking.book(actor=world.staff, draft=counselling(world, at(23, 14)))
    with pytest.raises(Conflict, match="not started yet"):
        services.booking.set_status(
            actor=world.staff, appointment_id=appt.id, status=AppointmentStatus.NO_SHOW
        )
    checked = services.booking.set_status(
        actor=world.staff, appointment_id=appt.id, status=AppointmentStatus.CHECKED_IN
    )
    assert checked.status is AppointmentStatus.CHECKED_IN
    clock.advance(hours=5)
    done = services.booking.set_status(
        actor=world.staff, appointment_id=appt.id, status=AppointmentStatus.COMPLETED
    )
    assert done.status is AppointmentStatus.COMPLETED
    with pytest.raises(Conflict, match="cannot become"):
        services.booking.set_status(
            actor=world.staff, appointment_id=appt.id, status=AppointmentStatus.NO_SHOW
        )


def test_find_a_time_respects_hours_notice_and_buffers(services: Services, world: World) -> None:
    services.booking.book(actor=world.staff, draft=counselling(world, at(24, 9)))
    slots = services.booking.find_slots(
        actor=world.staff,
        request=SlotRequest(
            type=AppointmentType.COUNSELLING,
            station_id=world.station_id,
            first_day=at(23, 0).date(),
            last_day=at(24, 0).date(),
            client_id=world.client_id,
            limit=40,
        ),
    )
    starts = [s.starts_at.strftime("%d %H:%M") for s in slots]
    # Today: from 11:00 (10:00 now + 60 min notice); the last start leaves 50 min before 17:00.
    assert starts[0] == "23 11:00"
    assert "23 16:10" not in starts
    assert "23 16:00" in starts
    # Tomorrow: 09:00-09:50 is taken (+10 min buffer): the next start is 10:00.
    assert "24 09:00" not in starts
    assert "24 09:45" not in starts
    assert "24 10:00" in starts
    assert all(s.counsellor_name == "陈静" and s.room_name == "个人咨询室一" for s in slots)


def test_series_plan_book_and_edit(services: Services, world: World) -> None:
    services.booking.book(
        actor=world.staff, draft=counselling(world, at(1, 9, month=12))
    )  # clashes with session 2
    draft = counselling(world, at(24, 9), override_reason="系列")
    plan = services.booking.plan_series(actor=world.staff, draft=draft, interval_weeks=1, count=3)
    assert [o.ok for o in plan] == [True, False, True]
    assert plan[1].alternatives
    with pytest.raises(BookingRefused, match="Session 2"):
        services.booking.book_series(actor=world.staff, draft=draft, interval_weeks=1, count=3)
    assert appointments(services) == 1  # all or nothing
    booked = services.booking.book_series(
        actor=world.staff, draft=draft, interval_weeks=1, count=3, changes={1: at(1, 11, month=12)}
    )
    assert [a.starts_at for a in booked] == [at(24, 9), at(1, 11, month=12), at(8, 9, month=12)]
    series = {a.series_id for a in booked}
    assert len(series) == 1
    moved = services.booking.move_series(
        actor=world.staff,
        appointment_id=booked[1].id,
        starts_at=at(1, 14, month=12),
        scope="following",
    )
    # The same shift (three hours later) for this and the following session.
    assert [a.starts_at for a in moved] == [at(1, 14, month=12), at(8, 12, month=12)]
    assert services.schedule.get(actor=world.staff, appointment_id=booked[0].id).starts_at == at(
        24, 9
    )
    cancelled = services.booking.cancel_series(
        actor=world.staff, appointment_id=booked[0].id, scope="all", reason=CancelReason.CLIENT
    )
    assert len(cancelled) == 3
    assert appointments(services) == 4  # nothing deleted


def test_who_may_book(services: Services, world: World) -> None:
    for actor in (world.manager, world.admin, world.other_staff):
        with pytest.raises(PermissionDenied):
            services.booking.book(actor=actor, draft=counselling(world, at(24, 9)))
    # A counsellor books a crisis session at once and outside hours, but only as themselves.
    crisis = BookingDraft(
        type=AppointmentType.CRISIS,
        station_id=world.station_id,
        starts_at=at(23, 10, 5),
        client_id=world.client_id,
        counsellor_id=world.counsellor.user_id,
        modality=Modality.PHONE,
    )
    assert (
        services.booking.book(actor=world.counsellor, draft=crisis).type is AppointmentType.CRISIS
    )
    with pytest.raises(BookingRefused, match="notice"):
        services.booking.book(actor=world.staff, draft=counselling(world, at(23, 10, 30)))
    with pytest.raises(PermissionDenied):
        services.booking.book(
            actor=world.counsellor,
            draft=BookingDraft(
                type=AppointmentType.POD,
                station_id=world.station_id,
                starts_at=at(24, 9),
                client_id=world.client_id,
            ),
        )
