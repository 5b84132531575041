"""Administration: stations and their hours, rooms, user accounts, roles and counsellor profiles."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session, selectinload

from carestation.db import models as m
from carestation.domain.errors import Conflict, NotFound, ValidationError
from carestation.domain.roles import Permission, Role
from carestation.domain.validation import (
    password_problem,
    validate_room,
    validate_station,
    validate_user,
)
from carestation.domain.values import Actor, Room, RoomInput, Station, StationInput, User, UserInput
from carestation.domain.vocab import AppointmentStatus
from carestation.i18n import _, ngettext
from carestation.security.passwords import hash_password
from carestation.services.base import Service
from carestation.services.conversions import room_value, station_value, user_value


class AdminService(Service):
    # --- stations -------------------------------------------------------------------------
    def list_stations(self, *, actor: Actor, include_inactive: bool = False) -> list[Station]:
        """Station names and hours are not personal data: every signed-in user may list them."""
        with self.db.read() as session:
            query = (
                select(m.Station).options(selectinload(m.Station.hours)).order_by(m.Station.name)
            )
            if not include_inactive:
                query = query.where(m.Station.active.is_(True))
            return [station_value(s) for s in session.scalars(query)]

    def create_station(self, *, actor: Actor, data: StationInput) -> Station:
        self.require(actor, Permission.MANAGE_STATIONS, action="create_station")
        data = validate_station(data)
        with self.db.write() as session:
            self._check_station_name(session, data.name, exclude_id=None)
            row = m.Station(created_at=self.clock.now(), active=True)
            _apply_station(row, data)
            session.add(row)
            session.flush()
            self.audit.record(
                session,
                actor=actor,
                action="create_station",
                object_type="station",
                object_ref=str(row.id),
            )
            return station_value(row)

    def update_station(self, *, actor: Actor, station_id: int, data: StationInput) -> Station:
        self.require(
            actor, Permission.MANAGE_STATIONS, action="update_station", ref=str(station_id)
        )
        data = validate_station(data)
        with self.db.write() as session:
            row = _get(session, m.Station, station_id, _("station"))
            self._check_station_name(session, data.name, exclude_id=station_id)
            # Delete the old periods before inserting new ones: the unit of work would insert
            # first, and a period kept unchanged would then break the unique constraint.
            row.hours = []
            session.flush()
            _apply_station(row, data)
            self.audit.record(
                session,
                actor=actor,
                action="update_station",
                object_type="station",
                object_ref=str(station_id),
            )
            session.flush()
            return station_value(row)

    def set_station_active(self, *, actor: Actor, station_id: int, active: bool) -> Station:
        self.require(
            actor, Permission.MANAGE_STATIONS, action="deactivate_station", ref=str(station_id)
        )
        with self.db.write() as session:
            row = _get(session, m.Station, station_id, _("station"))
            if not active:
                upcoming = self._upcoming(session, m.Appointment.station_id == station_id)
                if upcoming:
                    raise Conflict(
                        ngettext(
                            "{name} still has {n} upcoming appointment. Move or cancel it before "
                            "deactivating the station.",
                            "{name} still has {n} upcoming appointments. Move or cancel them before "
                            "deactivating the station.",
                            upcoming,
                        ).format(name=row.name, n=upcoming)
                    )
            row.active = active
            self.audit.record(
                session,
                actor=actor,
                action="activate_station" if active else "deactivate_station",
                object_type="station",
                object_ref=str(station_id),
            )
            return station_value(row)

    def _upcoming(self, session: Session, where: ColumnElement[bool]) -> int:
        """Booked appointments from now on that match `where` (closing a place would strand them)."""
        return (
            session.scalar(
                select(func.count())
                .select_from(m.Appointment)
                .where(
                    where,
                    m.Appointment.starts_at >= self.clock.now(),
                    m.Appointment.status == AppointmentStatus.BOOKED,
                )
            )
            or 0
        )

    def _check_station_name(self, session: Session, name: str, *, exclude_id: int | None) -> None:
        query = select(m.Station.id).where(func.lower(m.Station.name) == name.lower())
        if exclude_id is not None:
            query = query.where(m.Station.id != exclude_id)
        if session.scalar(query) is not None:
            raise ValidationError(
                {"name": _("Another station is already called {name}.").format(name=name)}
            )

    # --- rooms ----------------------------------------------------------------------------
    def list_rooms(
        self, *, actor: Actor, station_id: int | None = None, include_inactive: bool = False
    ) -> list[Room]:
        with self.db.read() as session:
            query = select(m.Room).order_by(m.Room.station_id, m.Room.name)
            if station_id is not None:
                query = query.where(m.Room.station_id == station_id)
            if not include_inactive:
                query = query.where(m.Room.active.is_(True))
            return [room_value(r) for r in session.scalars(query)]

    def create_room(self, *, actor: Actor, data: RoomInput) -> Room:
        self.require(actor, Permission.MANAGE_STATIONS, action="create_room")
        data = validate_room(data)
        with self.db.write() as session:
            _get(session, m.Station, data.station_id, _("station"))
            self._check_room_name(session, data, exclude_id=None)
            row = m.Room(
                station_id=data.station_id,
                name=data.name,
                kind=data.kind,
                capacity=data.capacity,
                active=True,
            )
            session.add(row)
            session.flush()
            self.audit.record(
                session,
                actor=actor,
                action="create_room",
                object_type="room",
                object_ref=str(row.id),
            )
            return room_value(row)

    def update_room(self, *, actor: Actor, room_id: int, data: RoomInput) -> Room:
        self.require(actor, Permission.MANAGE_STATIONS, action="update_room", ref=str(room_id))
        data = validate_room(data)
        with self.db.write() as session:
            row = _get(session, m.Room, room_id, _("room"))
            if data.station_id != row.station_id:
                raise ValidationError(
                    {
                        "station": _(
                            "A room cannot move to another station; create a new room there."
                        )
                    }
                )
            self._check_room_name(session, data, exclude_id=room_id)
            row.name, row.kind, row.capacity = data.name, data.kind, data.capacity
            self.audit.record(
                session,
                actor=actor,
                action="update_room",
                object_type="room",
                object_ref=str(room_id),
            )
            return room_value(row)

    def set_room_active(self, *, actor: Actor, room_id: int, active: bool) -> Room:
        self.require(actor, Permission.MANAGE_STATIONS, action="deactivate_room", ref=str(room_id))
        with self.db.write() as session:
            row = _get(session, m.Room, room_id, _("room"))
            if not active:
                upcoming = self._upcoming(session, m.Appointment.room_id == room_id)
                if upcoming:
                    raise Conflict(
                        ngettext(
                            "{name} still has {n} upcoming appointment. Move it to another room "
                            "first.",
                            "{name} still has {n} upcoming appointments. Move them to another room "
                            "first.",
                            upcoming,
                        ).format(name=row.name, n=upcoming)
                    )
            row.active = active
            self.audit.record(
                session,
                actor=actor,
                action="activate_room" if active else "deactivate_room",
                object_type="room",
                object_ref=str(room_id),
            )
            return room_value(row)

    def _check_room_name(
        self, session: Session, data: RoomInput, *, exclude_id: int | None
    ) -> None:
        query = select(m.Room.id).where(
            m.Room.station_id == data.station_id, func.lower(m.Room.name) == data.name.lower()
        )
        if exclude_id is not None:
            query = query.where(m.Room.id != exclude_id)
        if session.scalar(query) is not None:
            raise ValidationError(
                {"name": _("This station already has a room called {name}.").format(name=data.name)}
            )

    # --- users ----------------------------------------------------------------------------
    def list_users(self, *, actor: Actor, include_inactive: bool = True) -> list[User]:
        self.require(actor, Permission.MANAGE_USERS, action="list_users")
        with self.db.read() as session:
            return [user_value(u) for u in session.scalars(self._user_query(include_inactive))]

    def list_counsellors(self, *, actor: Actor, station_id: int | None = None) -> list[User]:
        """Counsellors' display names and kinds: what staff need to book them."""
        with self.db.read() as session:
            query = self._user_query(include_inactive=False).where(
                m.UserAccount.roles.any(m.UserRole.role == Role.COUNSELLOR)
            )
            if station_id is not None:
                query = query.where(
                    m.UserAccount.stations.any(m.UserStation.station_id == station_id)
                )
            return [user_value(u) for u in session.scalars(query)]

    @staticmethod
    def _user_query(include_inactive: bool) -> Select[tuple[m.UserAccount]]:
        query = (
            select(m.UserAccount)
            .options(
                selectinload(m.UserAccount.roles),
                selectinload(m.UserAccount.stations),
                selectinload(m.UserAccount.counsellor),
            )
            .order_by(m.UserAccount.username)
        )
        if not include_inactive:
            query = query.where(m.UserAccount.active.is_(True))
        return query

    def create_user(self, *, actor: Actor, data: UserInput, password: str) -> User:
        self.require(actor, Permission.MANAGE_USERS, action="create_user")
        errors: dict[str, str] = {}
        try:
            data = validate_user(data)
        except ValidationError as exc:
            errors.update(exc.errors)
        problem = password_problem(password)
        if problem:
            errors["password"] = problem
        if errors:
            raise ValidationError(errors)
        password_hash = hash_password(password)
        with self.db.write() as session:
            if session.scalar(
                select(m.UserAccount.id).where(m.UserAccount.username == data.username)
            ):
                raise ValidationError(
                    {"username": _("The user name {name} is taken.").format(name=data.username)}
                )
            self._check_stations_exist(session, data.station_ids)
            row = m.UserAccount(
                username=data.username,
                password_hash=password_hash,
                active=True,
                failed_attempts=0,
                created_at=self.clock.now(),
            )
            _apply_user(row, data)
            session.add(row)
            session.flush()
            self.audit.record(
                session,
                actor=actor,
                action="create_user",
                object_type="user",
                object_ref=str(row.id),
            )
            return user_value(row)

    def update_user(self, *, actor: Actor, user_id: int, data: UserInput) -> User:
        self.require(actor, Permission.MANAGE_USERS, action="update_user", ref=str(user_id))
        data = validate_user(data)
        with self.db.write() as session:
            row = self._load_user(session, user_id)
            if data.username != row.username:
                raise ValidationError({"username": _("A user name cannot be changed.")})
            was_admin = any(r.role == Role.ADMIN for r in row.roles)
            if was_admin and Role.ADMIN not in data.roles and row.active:
                self._keep_one_admin(session, losing=user_id)
            self._check_stations_exist(session, data.station_ids)
            _apply_user(row, data)
            self.audit.record(
                session,
                actor=actor,
                action="update_user",
                object_type="user",
                object_ref=str(user_id),
            )
            session.flush()
            return user_value(row)

    def set_user_active(self, *, actor: Actor, user_id: int, active: bool) -> User:
        self.require(actor, Permission.MANAGE_USERS, action="deactivate_user", ref=str(user_id))
        with self.db.write() as session:
            row = self._load_user(session, user_id)
            if not active and row.active and any(r.role == Role.ADMIN for r in row.roles):
                self._keep_one_admin(session, losing=user_id)
            row.active = active
            self.audit.record(
                session,
                actor=actor,
                action="activate_user" if active else "deactivate_user",
                object_type="user",
                object_ref=str(user_id),
            )
            return user_value(row)

    def reset_password(self, *, actor: Actor, user_id: int, new_password: str) -> None:
        self.require(actor, Permission.MANAGE_USERS, action="reset_password", ref=str(user_id))
        problem = password_problem(new_password)
        if problem:
            raise ValidationError({"password": problem})
        password_hash = hash_password(new_password)
        with self.db.write() as session:
            row = self._load_user(session, user_id)
            row.password_hash = password_hash
            row.failed_attempts = 0
            row.locked_until = None
            self.audit.record(
                session,
                actor=actor,
                action="reset_password",
                object_type="user",
                object_ref=str(user_id),
            )

    def unlock_user(self, *, actor: Actor, user_id: int) -> User:
        self.require(actor, Permission.MANAGE_USERS, action="unlock_user", ref=str(user_id))
        with self.db.write() as session:
            row = self._load_user(session, user_id)
            row.failed_attempts = 0
            row.locked_until = None
            self.audit.record(
                session,
                actor=actor,
                action="unlock_user",
                object_type="user",
                object_ref=str(user_id),
            )
            return user_value(row)

    def _load_user(self, session: Session, user_id: int) -> m.UserAccount:
        row = session.scalars(
            self._user_query(include_inactive=True).where(m.UserAccount.id == user_id)
        ).one_or_none()
        if row is None:
            raise NotFound(_("That user no longer exists."))
        return row

    def _keep_one_admin(self, session: Session, *, losing: int) -> None:
        others = session.scalar(
            select(func.count())
            .select_from(m.UserAccount)
            .where(
                m.UserAccount.active.is_(True),
                m.UserAccount.id != losing,
                m.UserAccount.roles.any(m.UserRole.role == Role.ADMIN),
            )
        )
        if not others:
            raise Conflict(
                _(
                    "This is the last active administrator. Make another user an administrator first, "
                    "or nobody could manage CareStation."
                )
            )

    def _check_stations_exist(self, session: Session, station_ids: frozenset[int]) -> None:
        if not station_ids:
            return
        found = set(session.scalars(select(m.Station.id).where(m.Station.id.in_(station_ids))))
        if found != set(station_ids):
            raise ValidationError({"stations": _("One of the chosen stations no longer exists.")})


T = TypeVar("T")


def _get(session: Session, model: type[T], ident: int, what: str) -> T:
    row = session.get(model, ident)
    if row is None:
        raise NotFound(
            _("That {what} no longer exists; it may have been removed by someone else.").format(
                what=what
            )
        )
    return row


def _apply_station(row: m.Station, data: StationInput) -> None:
    row.name = data.name
    row.address = data.address
    row.phone = data.phone
    row.time_zone = data.time_zone
    row.hours = [
        m.StationHours(weekday=h.weekday, opens=h.opens, closes=h.closes) for h in data.hours
    ]


def _apply_user(row: m.UserAccount, data: UserInput) -> None:
    row.display_name = data.display_name
    row.roles = [m.UserRole(role=r) for r in sorted(data.roles)]
    row.stations = [m.UserStation(station_id=s) for s in sorted(data.station_ids)]
    if data.counsellor is None:
        row.counsellor = None
    elif row.counsellor is None:
        row.counsellor = m.CounsellorProfile(
            kind=data.counsellor.kind,
            qualifications=data.counsellor.qualifications,
            languages=data.counsellor.languages,
        )
    else:
        row.counsellor.kind = data.counsellor.kind
        row.counsellor.qualifications = data.counsellor.qualifications
        row.counsellor.languages = data.counsellor.languages
