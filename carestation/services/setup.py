"""First start on an empty database: the first station and the first administrator."""

from __future__ import annotations

from sqlalchemy import func, select

from carestation.db.engine import Database
from carestation.db.models import Station as StationRow
from carestation.db.models import StationHours, UserAccount, UserRole, UserStation
from carestation.domain.errors import Conflict, ValidationError
from carestation.domain.roles import Role
from carestation.domain.validation import (
    check_name,
    check_username,
    password_problem,
    validate_station,
)
from carestation.domain.values import Actor, Station, StationInput
from carestation.i18n import _
from carestation.security.passwords import hash_password
from carestation.security.secret_store import PASSPHRASE_MIN
from carestation.services.audit import AuditLog
from carestation.services.base import Service
from carestation.services.clock import Clock
from carestation.services.conversions import station_value
from carestation.services.keys import KeyVault


class SetupService(Service):
    def __init__(self, db: Database, audit: AuditLog, clock: Clock, vault: KeyVault) -> None:
        super().__init__(db, audit, clock)
        self.vault = vault

    def needs_passphrase(self) -> bool:
        """True when set-up must also choose a passphrase: this PC has no trusted key store."""
        return not self.vault.has_secure_store()

    def needs_setup(self) -> bool:
        with self.db.read() as session:
            return session.scalar(select(func.count()).select_from(UserAccount)) == 0

    def public_stations(self) -> list[Station]:
        """Active stations, before anyone signs in (names and hours are public information)."""
        with self.db.read() as session:
            rows = session.scalars(
                select(StationRow).where(StationRow.active.is_(True)).order_by(StationRow.id)
            )
            return [station_value(r) for r in rows]

    def create_first_admin(
        self,
        *,
        station: StationInput,
        username: str,
        display_name: str,
        password: str,
        passphrase: str | None = None,
    ) -> tuple[Station, Actor]:
        """Also sets up the key that protects confidential records, in the same transaction;
        `passphrase` is required when this PC has no trusted key store."""
        errors: dict[str, str] = {}
        if self.needs_passphrase() and len(passphrase or "") < PASSPHRASE_MIN:
            errors["passphrase"] = _(
                "This PC has no secure key store: choose a passphrase of at least {count} "
                "characters to protect confidential records."
            ).format(count=PASSPHRASE_MIN)
        try:
            station = validate_station(station)
        except ValidationError as exc:
            errors.update({f"station.{k}": v for k, v in exc.errors.items()})
        username = check_username(username, errors)
        display_name = check_name(display_name, "display_name", errors, label=_("Your name"))
        problem = password_problem(password)
        if problem:
            errors["password"] = problem
        if errors:
            raise ValidationError(errors)
        now = self.clock.now()
        password_hash = hash_password(password)
        with self.db.write() as session:
            # Checked inside the write transaction: two set-up dialogs cannot both succeed.
            if session.scalar(select(func.count()).select_from(UserAccount)):
                raise Conflict(_("CareStation has already been set up on this database."))
            row = StationRow(
                name=station.name,
                address=station.address,
                phone=station.phone,
                time_zone=station.time_zone,
                active=True,
                created_at=now,
                hours=[
                    StationHours(weekday=h.weekday, opens=h.opens, closes=h.closes)
                    for h in station.hours
                ],
            )
            session.add(row)
            session.flush()
            user = UserAccount(
                username=username,
                display_name=display_name,
                password_hash=password_hash,
                active=True,
                failed_attempts=0,
                created_at=now,
                roles=[UserRole(role=Role.ADMIN)],
                stations=[UserStation(station_id=row.id)],
            )
            session.add(user)
            session.flush()
            if self.vault.needs_set_up(session):
                self.vault.set_up(passphrase=passphrase or None, session=session)
            actor = Actor(
                user_id=user.id,
                username=user.username,
                display_name=user.display_name,
                roles=frozenset({Role.ADMIN}),
                station_ids=frozenset({row.id}),
                station_id=row.id,
            )
            self.audit.record(
                session, actor=actor, action="setup", object_type="station", object_ref=str(row.id)
            )
            value = station_value(row)
        return value, actor
