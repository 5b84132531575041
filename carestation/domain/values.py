"""Immutable values the services return and accept; the UI never sees ORM objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from carestation.domain.roles import Permission, Role, permissions_for
from carestation.domain.vocab import (
    AppointmentStatus,
    AppointmentType,
    CounsellorKind,
    Modality,
    RoomKind,
)


@dataclass(frozen=True)
class OpeningHours:
    weekday: int  # 0 = Monday, as in datetime.weekday()
    opens: time
    closes: time


@dataclass(frozen=True)
class Station:
    id: int
    name: str
    address: str
    phone: str
    time_zone: str
    active: bool
    hours: tuple[OpeningHours, ...] = ()


@dataclass(frozen=True)
class StationInput:
    name: str
    address: str = ""
    phone: str = ""
    time_zone: str = "Asia/Shanghai"
    hours: tuple[OpeningHours, ...] = ()


@dataclass(frozen=True)
class Room:
    id: int
    station_id: int
    name: str
    kind: RoomKind
    capacity: int
    active: bool


@dataclass(frozen=True)
class RoomInput:
    station_id: int
    name: str
    kind: RoomKind
    capacity: int = 1


@dataclass(frozen=True)
class CounsellorProfile:
    kind: CounsellorKind
    qualifications: str = ""
    languages: str = ""


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    active: bool
    roles: frozenset[Role]
    station_ids: frozenset[int]
    counsellor: CounsellorProfile | None = None
    locked_until: datetime | None = None
    last_sign_in_at: datetime | None = None


@dataclass(frozen=True)
class UserInput:
    username: str
    display_name: str
    roles: frozenset[Role]
    station_ids: frozenset[int]
    counsellor: CounsellorProfile | None = None


@dataclass(frozen=True)
class Actor:
    """The signed-in user on whose behalf a service call is made."""

    user_id: int
    username: str
    display_name: str
    roles: frozenset[Role]
    station_ids: frozenset[int]
    station_id: int | None = None  # the station this session works at
    permissions: frozenset[Permission] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "permissions", permissions_for(self.roles))

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    @property
    def primary_role(self) -> Role:
        for role in (Role.COUNSELLOR, Role.STAFF, Role.MANAGER, Role.ADMIN):
            if role in self.roles:
                return role
        raise ValueError("an actor has at least one role")


@dataclass(frozen=True)
class AppointmentRow:
    """One line of a day list. Times are in the station's time zone."""

    id: int
    station_id: int
    station_name: str
    starts_at: datetime
    ends_at: datetime
    type: AppointmentType
    modality: Modality
    status: AppointmentStatus
    counsellor_name: str
    room_name: str
    client_name: str
    client_code: str


@dataclass(frozen=True)
class MonthlyStationCounts:
    """Operational counts (appointments, not people), shown in full to managers."""

    station_id: int
    station_name: str
    month: date  # first day of the month
    by_status: dict[AppointmentStatus, int]
    by_type: dict[AppointmentType, int]

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


@dataclass(frozen=True)
class AuditEntry:
    id: int
    occurred_at: datetime
    username: str
    role: str
    station_name: str
    action: str
    object_type: str
    object_ref: str
    result: str
    detail: str
