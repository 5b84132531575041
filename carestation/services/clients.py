"""Finding and registering clients (the employees), for booking."""

from __future__ import annotations

from sqlalchemy import or_, select

from carestation.db import models as m
from carestation.domain.booking import ClientInput, ClientSummary, DuplicateClient
from carestation.domain.client_code import new_client_code, normalise_client_code
from carestation.domain.errors import NotFound, ValidationError
from carestation.domain.roles import Permission
from carestation.domain.validation import MAX_NAME, check_name, check_phone, clean_text
from carestation.domain.values import Actor
from carestation.i18n import _
from carestation.services.base import Service

SEARCH_LIMIT = 20


def client_summary(row: m.Client) -> ClientSummary:
    return ClientSummary(
        id=row.id,
        client_code=row.client_code,
        name=row.name,
        phone=row.phone,
        work_unit=row.work_unit,
        gender=row.gender,
        birth_year=row.birth_year,
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class ClientService(Service):
    def search(self, *, actor: Actor, text: str, limit: int = SEARCH_LIMIT) -> list[ClientSummary]:
        """Search-as-you-type: a name containing the text, a phone number starting with its
        digits, or a client code. Codes and phone prefixes use their indexes."""
        if not actor.can(Permission.REGISTER_CLIENTS):
            self.deny(actor, action="search_clients")
        query_text = clean_text(text)
        if not query_text:
            return []
        conditions = [m.Client.name.like(f"%{_escape_like(query_text)}%", escape="\\")]
        digits = query_text.replace("-", "").replace(" ", "")
        if digits.isdigit() and len(digits) >= 3:
            conditions.append(m.Client.phone.like(f"{digits}%"))
        code = normalise_client_code(query_text)
        if code:
            conditions.append(m.Client.client_code == code)
        elif (
            len(query_text) >= 4 and query_text.replace("-", "").isalnum() and query_text.isascii()
        ):
            conditions.append(
                m.Client.client_code.like(f"{_escape_like(query_text.upper())}%", escape="\\")
            )
        with self.db.read() as session:
            rows = session.scalars(
                select(m.Client)
                .where(or_(*conditions))
                .order_by(m.Client.name, m.Client.id)
                .limit(limit)
            )
            return [client_summary(r) for r in rows]

    def get(self, *, actor: Actor, client_id: int) -> ClientSummary:
        if not actor.can(Permission.REGISTER_CLIENTS):
            self.deny(actor, action="view_client", ref=str(client_id))
        with self.db.read() as session:
            row = session.get(m.Client, client_id)
            if row is None:
                raise NotFound(_("That client's record no longer exists."))
            return client_summary(row)

    def register(
        self, *, actor: Actor, data: ClientInput, allow_duplicate: bool = False
    ) -> ClientSummary:
        """Registers only what booking needs. The code is random and says nothing about the person."""
        if not actor.can(Permission.REGISTER_CLIENTS):
            self.deny(actor, action="register_client")
        errors: dict[str, str] = {}
        name = check_name(data.name, "name", errors, label=_("Name"))
        phone = check_phone(data.phone, "phone", errors, required=True)
        work_unit = clean_text(data.work_unit)
        if len(work_unit) > 2 * MAX_NAME:
            errors["work_unit"] = _("The work unit is too long.")
        if data.birth_year is not None and not 1900 <= data.birth_year <= self.clock.now().year:
            errors["birth_year"] = _(
                "Enter a birth year between 1900 and this year, or leave it empty."
            )
        if errors:
            raise ValidationError(errors)
        with self.db.write() as session:
            existing = session.scalars(
                select(m.Client).where(m.Client.phone == phone, m.Client.name == name).limit(1)
            ).first()
            if existing is not None and not allow_duplicate:
                raise DuplicateClient(
                    _(
                        "{name} with this phone number is already registered (code {code}). Use that "
                        "record, or register a different person of the same name."
                    ).format(name=name, code=existing.client_code),
                    client_summary(existing),
                )
            code = new_client_code()
            while (
                session.scalar(select(m.Client.id).where(m.Client.client_code == code)) is not None
            ):
                code = new_client_code()
            row = m.Client(
                client_code=code,
                name=name,
                phone=phone,
                work_unit=work_unit,
                gender=data.gender,
                birth_year=data.birth_year,
                home_station_id=data.home_station_id or actor.station_id,
                created_at=self.clock.now(),
                created_by=actor.user_id,
            )
            session.add(row)
            session.flush()
            self.audit.record(
                session,
                actor=actor,
                action="register_client",
                object_type="client",
                object_ref=code,
            )
            return client_summary(row)
