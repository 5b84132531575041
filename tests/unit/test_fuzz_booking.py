"""Fuzzed bookings (issue 8, "Bad input"): any booking draft - odd or missing time zones, naive
times, far past and future, wrong ids, odd texts and capacities - is either saved as a valid
appointment (re-read and checked against the rules) or refused with a clear error, and a refusal
leaves the database as it was. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import unicodedata
from datetime import UTC, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from carestation.db import models as m
from carestation.domain.booking import BookingDraft, BookingRefused
from carestation.domain.errors import CareStationError, PermissionDenied
from carestation.domain.scheduling import MAX_DURATION
from carestation.domain.vocab import AppointmentStatus, AppointmentType, Modality, RoomKind
from carestation.services.container import Services
from tests.conftest import FakeClock
from tests.factories import World, add_room, build_world, set_counsellor_hours
from tests.fuzzing import assert_clear, event, snapshot

FUZZ = settings(
    max_examples=int(os.environ.get("CARESTATION_FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SH = ZoneInfo("Asia/Shanghai")
NOW = FakeClock().now()
ZONES = [
    SH,
    UTC,
    timezone(timedelta(hours=14)),
    timezone(timedelta(hours=-12)),
    timezone(timedelta(hours=5, minutes=45)),
    ZoneInfo("America/New_York"),  # DST
    ZoneInfo("Australia/Lord_Howe"),  # a half-hour DST shift
    ZoneInfo("Pacific/Kiritimati"),
    ZoneInfo("Asia/Kathmandu"),
]
ODD_TEXT = st.one_of(
    st.sampled_from(["", " ", "情绪与压力", "Stress at work", "\t讲座\n", "%_'\";--"]),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=40),
)


@st.composite
def start_times(draw: st.DrawFn) -> datetime:
    """Mostly near now at the station (where rules decide), sometimes anywhere or naive."""
    kind = draw(st.sampled_from(["near", "near", "near", "near", "near", "naive", "anywhere"]))
    if kind == "anywhere":
        return draw(
            st.datetimes(
                min_value=datetime(1, 1, 2),
                max_value=datetime(9999, 12, 30),
                timezones=st.sampled_from([*ZONES, None]),
            )
        )
    day = NOW.date() + timedelta(days=draw(st.one_of(st.integers(1, 20), st.integers(-9, 20))))
    clock = time(
        draw(st.one_of(st.integers(9, 15), st.integers(0, 23))),
        draw(st.sampled_from([0, 15, 30, 45, draw(st.integers(0, 59))])),
        draw(st.sampled_from([0, 0, 0, draw(st.integers(0, 59))])),
    )
    local = datetime.combine(day, clock, tzinfo=SH)
    if kind == "naive":
        return local.replace(tzinfo=None)
    return local.astimezone(draw(st.sampled_from(ZONES)))


@st.composite
def end_times(draw: st.DrawFn, starts_at: datetime) -> datetime | None:
    kind = draw(st.sampled_from(["default", "length", "length", "anywhere"]))
    if kind == "default":
        return None
    if kind == "length":
        try:
            return starts_at + timedelta(minutes=draw(st.integers(-120, 13 * 60)))
        except OverflowError:
            return None
    return draw(start_times())


@pytest.fixture
def world(services: Services) -> World:
    w = build_world(services)
    set_counsellor_hours(services, w.counsellor.user_id, w.station_id, range(5), time(9), time(17))
    return w


@pytest.fixture
def rooms(services: Services, world: World) -> dict[str, int]:
    return {
        "counselling": world.room_id,
        "pod": add_room(services, world, "情绪宣泄舱", RoomKind.EMOTION_POD),
        "hall": add_room(services, world, "团体活动室", RoomKind.GROUP_ROOM, capacity=30),
        "elsewhere": add_room(
            services,
            world,
            "店口咨询室",
            RoomKind.COUNSELLING_ROOM,
            station_id=world.other_station_id,
        ),
    }


@st.composite
def drafts(draw: st.DrawFn, world: World, rooms: dict[str, int]) -> BookingDraft:
    """A draft that would be valid for its type, with none, one or a few fields mangled."""
    ids = st.integers(-(2**31), 2**31 - 1)  # ids come from lists; PostgreSQL's are 32-bit
    kind = draw(st.sampled_from(list(AppointmentType)))
    starts_at = draw(start_times())
    base: dict[str, object] = {
        "type": kind,
        "station_id": world.station_id,
        "starts_at": starts_at,
        "client_id": world.client_id,
        "counsellor_id": world.counsellor.user_id,
        "room_id": world.room_id,
        "override_reason": draw(st.sampled_from(["", "情绪波动较大"])),
    }
    if kind is AppointmentType.POD:
        base.update(counsellor_id=None, room_id=rooms["pod"])
    elif kind is AppointmentType.ONLINE:
        base.update(room_id=None, modality=draw(st.sampled_from([Modality.VIDEO, Modality.PHONE])))
    elif kind is AppointmentType.LECTURE:
        base.update(client_id=None, room_id=rooms["hall"], title="情绪与压力", capacity=20)
    mangles = {
        "station_id": st.one_of(st.just(world.other_station_id), ids),
        "ends_at": end_times(starts_at),
        "client_id": st.one_of(st.none(), ids),
        "counsellor_id": st.one_of(st.none(), st.just(world.staff.user_id), ids),
        "room_id": st.one_of(st.sampled_from(sorted(rooms.values())), st.none(), ids),
        "modality": st.sampled_from(list(Modality)),
        "title": ODD_TEXT,
        "address": ODD_TEXT,
        "capacity": st.one_of(st.none(), st.integers(-5, 1005), ids),
        "walk_in": st.just(True),
        "override_reason": ODD_TEXT,
    }
    for field in draw(st.lists(st.sampled_from(sorted(mangles)), max_size=3, unique=True)):
        base[field] = draw(mangles[field])
    return BookingDraft(**base)  # type: ignore[arg-type]


def no_control(text: str) -> bool:
    return not any(unicodedata.category(ch) == "Cc" for ch in text)


def overlaps(a: m.Appointment, b: m.Appointment) -> bool:
    return a.starts_at < b.ends_at and b.starts_at < a.ends_at


def assert_valid_appointment(services: Services, draft: BookingDraft, appointment_id: int) -> None:
    with services.db.read() as session:
        row = session.get_one(m.Appointment, appointment_id)
        starts, ends = row.starts_at, row.ends_at
        assert starts.tzinfo is not None
        assert ends.tzinfo is not None
        assert starts == draft.starts_at
        if draft.ends_at is not None:
            assert ends == draft.ends_at
        assert starts < ends <= starts + MAX_DURATION
        assert row.station_id == draft.station_id
        if draft.walk_in:
            assert NOW - timedelta(days=7) <= starts <= NOW
            assert row.status in (AppointmentStatus.COMPLETED, AppointmentStatus.CHECKED_IN)
        else:
            assert starts >= NOW
            assert row.status is AppointmentStatus.BOOKED
        assert len(row.title) <= 200
        assert len(row.address) <= 500
        assert len(row.cap_override_reason) <= 500
        assert no_control(row.title)
        assert no_control(row.address)
        if row.room_id is not None:
            room = session.get_one(m.Room, row.room_id)
            assert room.station_id == row.station_id
        if row.client_id is not None:
            assert session.get(m.Client, row.client_id) is not None
        # Nobody and no room is booked twice at once.
        others = session.scalars(
            select(m.Appointment).where(
                m.Appointment.id != row.id,
                m.Appointment.status != AppointmentStatus.CANCELLED,
            )
        ).all()
        for other in others:
            if not overlaps(row, other):
                continue
            for attribute in ("counsellor_id", "room_id", "client_id"):
                mine = getattr(row, attribute)
                if attribute == "room_id" and row.type is AppointmentType.LECTURE:
                    continue
                assert mine is None or mine != getattr(other, attribute), attribute


def book_or_refuse(services: Services, world: World, draft: BookingDraft, actor_name: str) -> None:
    actor = {"staff": world.staff, "counsellor": world.counsellor}[actor_name]
    before = snapshot(services)
    try:
        booked = services.booking.book(actor=actor, draft=draft)
    except CareStationError as exc:
        event(
            type(exc).__name__
            + (": " + exc.problems[0][:40] if isinstance(exc, BookingRefused) else "")
        )
        assert_clear(exc)
        after = snapshot(services)
        if isinstance(exc, PermissionDenied):  # the refusal itself is audited
            after = {t: rows for t, rows in after.items() if not t.startswith("audit")}
            before = {t: rows for t, rows in before.items() if not t.startswith("audit")}
        assert after == before, "a refused booking changed the database"
        return
    event("booked")
    assert_valid_appointment(services, draft, booked.id)
    after = snapshot(services)
    changed = {t for t in after if after[t] != before[t]}
    assert changed <= {"appointment", "appointment_change", "audit_event", "audit_chain"}, changed
    assert len(after["appointment"]) == len(before["appointment"]) + 1


@FUZZ
@given(data=st.data(), actor_name=st.sampled_from(["staff", "counsellor"]))
def test_a_draft_is_booked_validly_or_refused_cleanly(
    services: Services, world: World, rooms: dict[str, int], data: st.DataObject, actor_name: str
) -> None:
    draft = data.draw(drafts(world, rooms))
    book_or_refuse(services, world, draft, actor_name)


@FUZZ
@given(
    day=st.integers(1, 14),
    hour=st.integers(7, 18),
    minute=st.sampled_from([0, 10, 15, 30, 45, 59]),
    minutes=st.one_of(st.integers(30, 90), st.integers(-30, 13 * 60)),
    zone=st.sampled_from(ZONES),
)
def test_near_valid_counselling_times(
    services: Services,
    world: World,
    day: int,
    hour: int,
    minute: int,
    minutes: int,
    zone: timezone | ZoneInfo,
) -> None:
    """Counselling at plausible times typed in any zone: many are booked, the rest refused."""
    starts_at = datetime.combine(
        NOW.date() + timedelta(days=day), time(hour, minute), tzinfo=SH
    ).astimezone(zone)
    draft = BookingDraft(
        type=AppointmentType.COUNSELLING,
        station_id=world.station_id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        client_id=world.client_id,
        counsellor_id=world.counsellor.user_id,
        room_id=world.room_id,
        override_reason="fuzz",  # the weekly cap is not what this test is about
    )
    book_or_refuse(services, world, draft, "staff")


# --- bugs found by the properties above, fixed: kept as plain regression tests ----------------


def lecture(world: World, hall: int, **texts: str) -> BookingDraft:
    fields = {"title": "情绪与压力", "address": "", "override_reason": "", **texts}
    return BookingDraft(
        type=AppointmentType.LECTURE,
        station_id=world.station_id,
        starts_at=datetime(2026, 11, 25, 14, tzinfo=SH),
        counsellor_id=world.counsellor.user_id,
        room_id=hall,
        capacity=20,
        **fields,
    )


def test_fixed_lecture_texts_are_not_checked(
    services: Services, world: World, rooms: dict[str, int]
) -> None:
    for texts in [
        {"title": "讲座\x00"},
        {"title": "讲" * 201},
        {"address": "x" * 501},
        {"override_reason": "r" * 501},
        {"title": "情绪\x1b[2J"},
    ]:
        book_or_refuse(services, world, lecture(world, rooms["hall"], **texts), "staff")


def test_fixed_a_naive_start_time(services: Services, world: World) -> None:
    draft = BookingDraft(
        type=AppointmentType.COUNSELLING,
        station_id=world.station_id,
        starts_at=datetime(2026, 11, 25, 10, 0),
        client_id=world.client_id,
        counsellor_id=world.counsellor.user_id,
        room_id=world.room_id,
    )
    book_or_refuse(services, world, draft, "staff")
