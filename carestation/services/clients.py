"""Finding and registering clients (the employees), for booking."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, func, select, true
from sqlalchemy.orm import InstrumentedAttribute

from carestation.db import models as m
from carestation.domain.booking import ClientInput, ClientSummary, DuplicateClient
from carestation.domain.client_code import new_client_code, normalise_client_code
from carestation.domain.errors import NotFound, ValidationError
from carestation.domain.roles import Permission
from carestation.domain.validation import clean_text, validate_client_input
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
        registered_at=row.created_at,
    )


def _prefix(
    column: InstrumentedAttribute[str], prefix: str, *, sqlite: bool
) -> ColumnElement[bool]:
    """`column` starts with `prefix`. On SQLite as an index range: its LIKE cannot use a plain
    index, and its default collation orders by code point, so the range is exact. Elsewhere a
    LIKE, which stays correct under any collation."""
    if sqlite:
        return and_(column >= prefix, column < prefix + "\U0010ffff")
    return column.like(f"{_escape_like(prefix)}%", escape="\\")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class ClientService(Service):
    def search(self, *, actor: Actor, text: str, limit: int = SEARCH_LIMIT) -> list[ClientSummary]:
        """Search-as-you-type: a client code, a phone number starting with the digits typed, a name
        starting with the text, then names containing it. Each is a separate query that an index
        answers (ranges on code, phone and name); the "contains" scan runs only to fill the list."""
        if not actor.can(Permission.REGISTER_CLIENTS):
            self.deny(actor, action="search_clients")
        # No control characters: PostgreSQL refuses a NUL in a query parameter.
        query_text = clean_text("".join(ch for ch in text if ch.isprintable() or ch.isspace()))
        if not query_text:
            return []
        found: dict[int, m.Client] = {}
        sqlite = self.db.is_sqlite
        with self.db.read() as session:

            def take(condition: ColumnElement[bool], *, ordered: bool = True) -> None:
                if len(found) >= limit:
                    return
                query = select(m.Client).where(condition)
                if found:
                    query = query.where(m.Client.id.not_in(list(found)))
                if ordered:
                    query = query.order_by(m.Client.name, m.Client.id)
                for row in session.scalars(query.limit(limit - len(found))):
                    found[row.id] = row

            code = normalise_client_code(query_text)
            compact = query_text.replace("-", "").replace(" ", "")
            if code:
                take(m.Client.client_code == code)
            elif compact.isascii() and compact.isalnum() and len(compact) >= 4:
                prefix = query_text.upper()
                take(_prefix(m.Client.client_code, prefix, sqlite=sqlite))
            if compact.isdigit() and len(compact) >= 3:
                take(_prefix(m.Client.phone, compact, sqlite=sqlite))
            if not compact.isdigit() and not compact.isascii():
                # Names are Chinese: Latin text is a code or nothing, so it skips the name scans.
                take(_prefix(m.Client.name, query_text, sqlite=sqlite))
                if len(found) < limit:
                    # "Contains" cannot use an index: read only the (small) name index for ids.
                    contains = (
                        func.instr(m.Client.name, query_text) > 0
                        if sqlite
                        else m.Client.name.like(f"%{_escape_like(query_text)}%", escape="\\")
                    )
                    ids = select(m.Client.id).where(
                        contains, m.Client.id.not_in(list(found)) if found else true()
                    )
                    take(
                        m.Client.id.in_(list(session.scalars(ids.limit(limit - len(found))))),
                        ordered=False,
                    )
            return [client_summary(r) for r in sorted(found.values(), key=lambda r: (r.name, r.id))]

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
        values = validate_client_input(data, this_year=self.clock.now().year)
        name, phone = values["name"], values["phone"]
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
            home = data.home_station_id
            if home is not None and session.get(m.Station, home) is None:
                raise ValidationError({"home_station_id": _("That station no longer exists.")})
            code = new_client_code()
            while (
                session.scalar(select(m.Client.id).where(m.Client.client_code == code)) is not None
            ):
                code = new_client_code()
            row = m.Client(
                client_code=code,
                name=name,
                phone=phone,
                work_unit=values["work_unit"],
                gender=values["gender"],
                birth_year=values["birth_year"],
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
