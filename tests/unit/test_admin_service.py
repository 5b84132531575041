"""AdminService rules as each role sees them: who may change stations, rooms and users, and the
rules that hold whoever asks (names, the last administrator, open appointments)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from carestation.db import models as m
from carestation.domain.errors import (
    AuthenticationFailed,
    Conflict,
    PermissionDenied,
    ValidationError,
)
from carestation.domain.roles import Role
from carestation.domain.values import (
    Actor,
    CounsellorProfile,
    RoomInput,
    StationInput,
    UserInput,
)
from carestation.domain.vocab import AppointmentStatus, CounsellorKind, RoomKind
from carestation.services.container import Services
from tests.conftest import FakeClock
from tests.factories import HOURS, PASSWORD, World, add_appointment, build_world

STATION = "暨阳街道职工情绪管理服务站"
OTHER_STATION = "店口镇服务站"
ROOM = "个人咨询室一"


def make_user(
    services: Services,
    world: World,
    username: str,
    roles: set[Role],
    *,
    stations: set[int] | None = None,
    counsellor: CounsellorProfile | None = None,
) -> Actor:
    """Creates the account as the administrator, then signs it in as its owner would."""
    services.admin.create_user(
        actor=world.admin,
        data=UserInput(
            username=username,
            display_name=username.upper(),
            roles=frozenset(roles),
            station_ids=frozenset({world.station_id} if stations is None else stations),
            counsellor=counsellor,
        ),
        password=PASSWORD,
    )
    return services.auth.sign_in(username=username, password=PASSWORD)


def user_data(username: str, roles: set[Role], station_ids: set[int], **kw: object) -> UserInput:
    return UserInput(
        username=username,
        display_name=str(kw.pop("display_name", username)),
        roles=frozenset(roles),
        station_ids=frozenset(station_ids),
        counsellor=kw.pop("counsellor", None),  # type: ignore[arg-type]
    )


def denied_rows(services: Services, actor: Actor, action: str) -> int:
    with services.db.read() as session:
        return session.scalar(
            select(func.count())
            .select_from(m.AuditEvent)
            .where(
                m.AuditEvent.user_id == actor.user_id,
                m.AuditEvent.action == action,
                m.AuditEvent.result == "denied",
            )
        )


def snapshot(services: Services, world: World) -> tuple[object, ...]:
    admin = services.admin
    return (
        admin.list_stations(actor=world.admin, include_inactive=True),
        admin.list_rooms(actor=world.admin, include_inactive=True),
        admin.list_users(actor=world.admin, include_inactive=True),
    )


# Each administrative call, keyed by the action name its refusal is audited under.
ADMIN_ONLY: dict[str, Callable[[Services, World, Actor], object]] = {
    "create_station": lambda s, w, a: s.admin.create_station(
        actor=a, data=StationInput(name="枫桥镇服务站", hours=HOURS)
    ),
    "update_station": lambda s, w, a: s.admin.update_station(
        actor=a, station_id=w.other_station_id, data=StationInput(name="店口镇新站")
    ),
    "deactivate_station": lambda s, w, a: s.admin.set_station_active(
        actor=a, station_id=w.other_station_id, active=False
    ),
    "create_room": lambda s, w, a: s.admin.create_room(
        actor=a,
        data=RoomInput(station_id=w.station_id, name="情绪调节舱", kind=RoomKind.EMOTION_POD),
    ),
    "update_room": lambda s, w, a: s.admin.update_room(
        actor=a,
        room_id=w.room_id,
        data=RoomInput(station_id=w.station_id, name="一号室", kind=RoomKind.COUNSELLING_ROOM),
    ),
    "deactivate_room": lambda s, w, a: s.admin.set_room_active(
        actor=a, room_id=w.room_id, active=False
    ),
    "list_users": lambda s, w, a: s.admin.list_users(actor=a),
    "create_user": lambda s, w, a: s.admin.create_user(
        actor=a, data=user_data("newcomer", {Role.STAFF}, {w.station_id}), password=PASSWORD
    ),
    "update_user": lambda s, w, a: s.admin.update_user(
        actor=a,
        user_id=w.other_staff.user_id,
        data=user_data("staff02", {Role.STAFF, Role.MANAGER}, {w.other_station_id}),
    ),
    "deactivate_user": lambda s, w, a: s.admin.set_user_active(
        actor=a, user_id=w.other_staff.user_id, active=False
    ),
    "reset_password": lambda s, w, a: s.admin.reset_password(
        actor=a, user_id=w.other_staff.user_id, new_password="a brand new secret"
    ),
    "unlock_user": lambda s, w, a: s.admin.unlock_user(actor=a, user_id=w.other_staff.user_id),
}
OTHER_ROLES = [Role.STAFF, Role.COUNSELLOR, Role.MANAGER]


# --- who may do what ----------------------------------------------------------------------------
@pytest.mark.parametrize("action", sorted(ADMIN_ONLY))
@pytest.mark.parametrize("role", OTHER_ROLES, ids=lambda r: r.value)
def test_only_an_admin_may_administer(services: Services, role: Role, action: str) -> None:
    world = build_world(services)
    actor = world.actor(role)
    before = snapshot(services, world)
    with pytest.raises(PermissionDenied):
        ADMIN_ONLY[action](services, world, actor)
    assert denied_rows(services, actor, action) == 1
    assert snapshot(services, world) == before


@pytest.mark.parametrize("action", sorted(ADMIN_ONLY))
def test_an_admin_created_through_the_service_may_administer(
    services: Services, action: str
) -> None:
    world = build_world(services)
    second_admin = make_user(services, world, "admin2", {Role.ADMIN}, stations=set())
    ADMIN_ONLY[action](services, world, second_admin)
    assert denied_rows(services, second_admin, action) == 0


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_every_role_may_list_stations_and_rooms(services: Services, role: Role) -> None:
    world = build_world(services)
    actor = world.actor(role)
    names = [s.name for s in services.admin.list_stations(actor=actor)]
    assert sorted(names) == sorted([STATION, OTHER_STATION])
    rooms = services.admin.list_rooms(actor=actor, station_id=world.station_id)
    assert [(r.id, r.name) for r in rooms] == [(world.room_id, ROOM)]


# --- the last administrator ---------------------------------------------------------------------
def _admin_row(services: Services, world: World, user_id: int | None = None) -> object:
    wanted = world.admin.user_id if user_id is None else user_id
    users = services.admin.list_users(actor=world.admin)
    return next((u.active, u.roles) for u in users if u.id == wanted)


def test_the_last_active_admin_cannot_be_deactivated(services: Services) -> None:
    world = build_world(services)
    with pytest.raises(Conflict, match="last active administrator"):
        services.admin.set_user_active(actor=world.admin, user_id=world.admin.user_id, active=False)
    assert _admin_row(services, world) == (True, {Role.ADMIN})


def test_the_last_active_admin_cannot_lose_the_admin_role(services: Services) -> None:
    world = build_world(services)
    with pytest.raises(Conflict, match="last active administrator"):
        services.admin.update_user(
            actor=world.admin,
            user_id=world.admin.user_id,
            data=user_data("admin", {Role.MANAGER}, {world.station_id}, display_name="管理员"),
        )
    assert _admin_row(services, world) == (True, {Role.ADMIN})


def test_a_second_admin_makes_it_possible(services: Services) -> None:
    world = build_world(services)
    second = make_user(services, world, "admin2", {Role.ADMIN}, stations=set())
    services.admin.update_user(
        actor=second,
        user_id=world.admin.user_id,
        data=user_data("admin", {Role.MANAGER}, {world.station_id}, display_name="管理员"),
    )
    assert _admin_row(services, world) == (True, {Role.MANAGER})
    # Now the second is the last one.
    with pytest.raises(Conflict):
        services.admin.set_user_active(actor=second, user_id=second.user_id, active=False)


def test_an_inactive_admin_does_not_count_as_another(services: Services) -> None:
    world = build_world(services)
    second = make_user(services, world, "admin2", {Role.ADMIN}, stations=set())
    services.admin.set_user_active(actor=world.admin, user_id=second.user_id, active=False)
    with pytest.raises(Conflict):
        services.admin.set_user_active(actor=world.admin, user_id=world.admin.user_id, active=False)
    assert _admin_row(services, world) == (True, {Role.ADMIN})


# --- names --------------------------------------------------------------------------------------
def test_a_duplicate_station_name_is_refused_on_the_name_field(services: Services) -> None:
    world = build_world(services)
    with pytest.raises(ValidationError) as created:
        services.admin.create_station(actor=world.admin, data=StationInput(name=f" {STATION} "))
    assert created.value.errors == {"name": f"Another station is already called {STATION}."}
    with pytest.raises(ValidationError) as renamed:
        services.admin.update_station(
            actor=world.admin, station_id=world.other_station_id, data=StationInput(name=STATION)
        )
    assert set(renamed.value.errors) == {"name"}
    services.admin.create_station(actor=world.admin, data=StationInput(name="Station A"))
    with pytest.raises(ValidationError) as cased:
        services.admin.create_station(actor=world.admin, data=StationInput(name="station a"))
    assert set(cased.value.errors) == {"name"}
    assert len(services.admin.list_stations(actor=world.admin, include_inactive=True)) == 3


def test_room_names_are_unique_within_a_station_only(services: Services) -> None:
    world = build_world(services)
    with pytest.raises(ValidationError) as duplicate:
        services.admin.create_room(
            actor=world.admin,
            data=RoomInput(station_id=world.station_id, name=ROOM, kind=RoomKind.RELIEF_AREA),
        )
    assert duplicate.value.errors == {"name": f"This station already has a room called {ROOM}."}
    elsewhere = services.admin.create_room(
        actor=world.admin,
        data=RoomInput(station_id=world.other_station_id, name=ROOM, kind=RoomKind.RELIEF_AREA),
    )
    assert (elsewhere.station_id, elsewhere.name) == (world.other_station_id, ROOM)


def test_a_taken_user_name_is_refused(services: Services) -> None:
    world = build_world(services)
    with pytest.raises(ValidationError) as taken:
        services.admin.create_user(
            actor=world.admin,
            data=user_data("STAFF01", {Role.STAFF}, {world.station_id}),
            password=PASSWORD,
        )
    assert taken.value.errors == {"username": "The user name staff01 is taken."}


@pytest.mark.parametrize(
    ("role", "profile"),
    [(Role.STAFF, None), (Role.COUNSELLOR, CounsellorProfile(kind=CounsellorKind.MENTOR))],
    ids=["staff", "counsellor"],
)
def test_staff_and_counsellors_need_a_station(
    services: Services, role: Role, profile: CounsellorProfile | None
) -> None:
    world = build_world(services)
    with pytest.raises(ValidationError) as refused:
        services.admin.create_user(
            actor=world.admin,
            data=user_data("nostation", {role}, set(), counsellor=profile),
            password=PASSWORD,
        )
    assert set(refused.value.errors) == {"stations"}
    # A manager works across stations and needs none.
    make_user(services, world, "manager2", {Role.MANAGER}, stations=set())


def test_a_counsellor_needs_a_kind(services: Services) -> None:
    world = build_world(services)
    with pytest.raises(ValidationError) as refused:
        services.admin.create_user(
            actor=world.admin,
            data=user_data("c002", {Role.COUNSELLOR}, {world.station_id}),
            password=PASSWORD,
        )
    assert refused.value.errors == {"counsellor_kind": "Choose what kind of counsellor this is."}
    assert "c002" not in {u.username for u in services.admin.list_users(actor=world.admin)}


def test_a_weak_password_is_refused_on_reset(services: Services) -> None:
    world = build_world(services)
    with pytest.raises(ValidationError) as refused:
        services.admin.reset_password(
            actor=world.admin, user_id=world.staff.user_id, new_password="short"
        )
    assert set(refused.value.errors) == {"password"}
    services.auth.sign_in(username="staff01", password=PASSWORD)


def test_a_station_can_be_renamed_keeping_its_hours(services: Services) -> None:
    world = build_world(services)
    renamed = services.admin.update_station(
        actor=world.admin,
        station_id=world.station_id,
        data=StationInput(name="暨阳站", hours=HOURS),
    )
    assert (renamed.name, renamed.hours) == ("暨阳站", HOURS)


# --- open appointments and accounts -------------------------------------------------------------
def test_a_station_with_a_future_booking_cannot_be_deactivated(
    services: Services, clock: FakeClock
) -> None:
    world = build_world(services)
    start = clock.now() + timedelta(days=1)
    past = start - timedelta(days=3)
    add_appointment(services, world, past, past + timedelta(minutes=50))
    add_appointment(
        services, world, start, start + timedelta(minutes=50), status=AppointmentStatus.CANCELLED
    )
    booked = add_appointment(services, world, start, start + timedelta(minutes=50))
    with pytest.raises(Conflict, match=r"still has 1 upcoming appointment\. Move or cancel it"):
        services.admin.set_station_active(
            actor=world.admin, station_id=world.station_id, active=False
        )
    with pytest.raises(Conflict):
        services.admin.set_room_active(actor=world.admin, room_id=world.room_id, active=False)
    assert {s.name for s in services.admin.list_stations(actor=world.admin)} == {
        STATION,
        OTHER_STATION,
    }
    # Once the booking is over (or cancelled), the station can close.
    with services.db.write() as session:
        session.get(m.Appointment, booked).status = AppointmentStatus.CANCELLED
    closed = services.admin.set_station_active(
        actor=world.admin, station_id=world.station_id, active=False
    )
    assert not closed.active


def test_a_deactivated_user_cannot_sign_in_until_reactivated(services: Services) -> None:
    world = build_world(services)
    services.admin.set_user_active(actor=world.admin, user_id=world.staff.user_id, active=False)
    with pytest.raises(AuthenticationFailed):
        services.auth.sign_in(username="staff01", password=PASSWORD)
    services.admin.set_user_active(actor=world.admin, user_id=world.staff.user_id, active=True)
    assert services.auth.sign_in(username="staff01", password=PASSWORD).roles == {Role.STAFF}
