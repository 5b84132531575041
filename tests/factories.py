"""Builds a small world for tests: stations, one user per role, a client and appointments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import insert

from carestation.db import models as m
from carestation.domain.roles import Role
from carestation.domain.values import (
    Actor,
    CounsellorProfile,
    OpeningHours,
    StationInput,
    UserInput,
)
from carestation.domain.vocab import (
    AppointmentStatus,
    AppointmentType,
    ConsentPurpose,
    CounsellorKind,
    RoomKind,
)
from carestation.services.container import Services

if TYPE_CHECKING:
    from carestation.services.assessments import AssessmentService
    from carestation.services.risk_alerts import RiskAlertService

PASSWORD = "correct horse battery"
HOURS = tuple(OpeningHours(d, time(8, 30), time(17, 0)) for d in range(5))


@dataclass
class World:
    station_id: int
    other_station_id: int
    room_id: int
    admin: Actor
    staff: Actor
    other_staff: Actor
    counsellor: Actor
    manager: Actor
    client_id: int

    def actor(self, role: Role) -> Actor:
        return {
            Role.ADMIN: self.admin,
            Role.STAFF: self.staff,
            Role.COUNSELLOR: self.counsellor,
            Role.MANAGER: self.manager,
        }[role]


def build_world(services: Services) -> World:
    station, admin = services.setup.create_first_admin(
        station=StationInput(name="暨阳街道职工情绪管理服务站", phone="0575-87001234", hours=HOURS),
        username="admin",
        display_name="管理员",
        password=PASSWORD,
    )
    other = services.admin.create_station(
        actor=admin, data=StationInput(name="店口镇服务站", hours=HOURS)
    )
    from carestation.domain.values import RoomInput

    room = services.admin.create_room(
        actor=admin,
        data=RoomInput(station_id=station.id, name="个人咨询室一", kind=RoomKind.COUNSELLING_ROOM),
    )

    def user(
        name: str,
        display: str,
        roles: set[Role],
        stations: set[int],
        kind: CounsellorKind | None = None,
    ) -> Actor:
        services.admin.create_user(
            actor=admin,
            data=UserInput(
                username=name,
                display_name=display,
                roles=frozenset(roles),
                station_ids=frozenset(stations),
                counsellor=CounsellorProfile(kind=kind) if kind else None,
            ),
            password=PASSWORD,
        )
        return services.auth.sign_in(username=name, password=PASSWORD, station_id=station.id)

    staff = user("staff01", "王芳", {Role.STAFF}, {station.id})
    other_staff = user("staff02", "李强", {Role.STAFF}, {other.id})
    counsellor = user(
        "c001", "陈静", {Role.COUNSELLOR}, {station.id, other.id}, CounsellorKind.EXPERT
    )
    manager = user("manager", "赵主席", {Role.MANAGER}, set())
    with services.db.write() as session:
        client_id = session.execute(
            insert(m.Client).returning(m.Client.id),
            [
                {
                    "client_code": "ABCD-EFGH-1",
                    "name": "张三",
                    "phone": "13800000000",
                    "work_unit": "市水务集团",
                    "created_at": datetime(2026, 1, 1, tzinfo=UTC),
                }
            ],
        ).scalar_one()
    return World(
        station_id=station.id,
        other_station_id=other.id,
        room_id=room.id,
        admin=admin,
        staff=staff,
        other_staff=other_staff,
        counsellor=counsellor,
        manager=manager,
        client_id=client_id,
    )


def add_appointment(
    services: Services,
    world: World,
    starts_at: datetime,
    ends_at: datetime,
    *,
    station_id: int | None = None,
    status: AppointmentStatus = AppointmentStatus.BOOKED,
    type_: AppointmentType = AppointmentType.COUNSELLING,
    counsellor_id: int | None = -1,
) -> int:
    with services.db.write() as session:
        return session.execute(
            insert(m.Appointment).returning(m.Appointment.id),
            [
                {
                    "station_id": station_id or world.station_id,
                    "client_id": world.client_id,
                    "counsellor_id": world.counsellor.user_id
                    if counsellor_id == -1
                    else counsellor_id,
                    "room_id": world.room_id,
                    "type": type_,
                    "status": status,
                    "starts_at": starts_at,
                    "ends_at": ends_at,
                    "created_at": starts_at,
                }
            ],
        ).scalar_one()


def set_counsellor_hours(
    services: Services, counsellor_id: int, station_id: int, weekdays: range, start: time, end: time
) -> None:
    with services.db.write() as session:
        session.execute(
            insert(m.CounsellorHours),
            [
                {
                    "counsellor_id": counsellor_id,
                    "station_id": station_id,
                    "weekday": d,
                    "starts": start,
                    "ends": end,
                }
                for d in weekdays
            ],
        )


def add_room(
    services: Services,
    world: World,
    name: str,
    kind: RoomKind,
    capacity: int = 1,
    station_id: int | None = None,
) -> int:
    from carestation.domain.values import RoomInput

    return services.admin.create_room(
        actor=world.admin,
        data=RoomInput(
            station_id=station_id or world.station_id, name=name, kind=kind, capacity=capacity
        ),
    ).id


def add_counsellor(
    services: Services,
    world: World,
    username: str,
    display_name: str,
    kind: CounsellorKind,
    station_ids: set[int] | None = None,
) -> Actor:
    """Another counsellor (signed in at the world's main station)."""
    services.admin.create_user(
        actor=world.admin,
        data=UserInput(
            username=username,
            display_name=display_name,
            roles=frozenset({Role.COUNSELLOR}),
            station_ids=frozenset(station_ids or {world.station_id}),
            counsellor=CounsellorProfile(kind=kind),
        ),
        password=PASSWORD,
    )
    return services.auth.sign_in(username=username, password=PASSWORD, station_id=world.station_id)


def give_consent(
    services: Services,
    world: World,
    purpose: ConsentPurpose = ConsentPurpose.COUNSELLING,
    client_id: int | None = None,
) -> int:
    """A consent row as the consent service would write it (given on 2026-11-01, in force)."""
    with services.db.write() as session:
        row = m.Consent(
            client_id=client_id or world.client_id,
            purpose=purpose,
            wording_version="1",
            language="zh_CN",
            station_id=world.station_id,
            given_at=datetime(2026, 11, 1, tzinfo=UTC),
            taken_by=world.staff.user_id,
        )
        session.add(row)
        session.flush()
        return row.id


def assessment_services(services: Services) -> tuple[AssessmentService, RiskAlertService]:
    """The assessment and risk-alert services of the container, as the app wires them."""
    return services.assessments, services.risk_alerts
