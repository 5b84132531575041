"""Taking and withdrawing a client's consents: one separate, explicit consent per purpose
(PIPL arts. 29-30), on a versioned form; withdrawal is as easy and stops that processing
(art. 15), because every service asks `consent_rules.require_consent` first.

Also the consent form's wording, read from `resources/text/consent_<language>.md`, and the small
lookups (names, time zones, a client that still exists) the rights services share.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from carestation.db import models as m
from carestation.db.engine import Database
from carestation.domain.errors import Conflict, NotFound, ValidationError
from carestation.domain.rights import ConsentRecord, ConsentWording, parse_consent_wording
from carestation.domain.roles import Permission
from carestation.domain.values import Actor
from carestation.domain.vocab import ConsentPurpose
from carestation.i18n import _, normalise_language
from carestation.resources import resource_path
from carestation.services.audit import AuditLog
from carestation.services.base import Service
from carestation.services.clock import Clock
from carestation.services.consent_rules import active_consent
from carestation.services.conversions import display_names
from carestation.services.keys import KeyVault

DEFAULT_ZONE = "Asia/Shanghai"

# -- the wording --------------------------------------------------------------------------------


def _language(language: str) -> str:
    lang = normalise_language(language)
    if lang is None:
        raise ValidationError(
            {
                "language": _(
                    "The consent form exists in Simplified Chinese and in English: choose one of "
                    "them."
                )
            }
        )
    return lang


def load_consent_wording(language: str) -> ConsentWording:
    """The consent form for `language` ('zh_CN' or 'en'; 'zh', 'en_US' ... are accepted), with
    its version and one section per purpose. Station details are still placeholders: use
    `ConsentService.wording` for a form to print."""
    return _load(_language(language))


@cache
def _load(language: str) -> ConsentWording:
    path = resource_path("text", f"consent_{language}.md")
    return parse_consent_wording(path.read_text(encoding="utf-8"), language=language)


# -- lookups the rights services share ----------------------------------------------------------


def stations(session: Session) -> dict[int, tuple[str, ZoneInfo]]:
    """Every station's name and time zone, by id (a handful of rows)."""
    return {
        sid: (name, ZoneInfo(zone or DEFAULT_ZONE))
        for sid, name, zone in session.execute(
            select(m.Station.id, m.Station.name, m.Station.time_zone)
        )
    }


def local_time(
    moment: datetime | None, station_id: int | None, known: dict[int, tuple[str, ZoneInfo]]
) -> datetime | None:
    if moment is None:
        return None
    zone = known[station_id][1] if station_id in known else ZoneInfo(DEFAULT_ZONE)
    return moment.astimezone(zone)


def live_client(session: Session, client_id: int, *, lock: bool = False) -> m.Client:
    """The client's row; NotFound when it does not exist, Conflict once it was erased."""
    query = select(m.Client).where(m.Client.id == client_id)
    if lock and session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update()
    row = session.scalars(query).first()
    if row is None:
        raise NotFound(_("That client's record no longer exists."))
    if row.erased_at is not None:
        raise Conflict(
            _(
                "This person's information was erased on request on {date}. Nothing more can be "
                "recorded or shown for this record."
            ).format(date=f"{row.erased_at.astimezone(ZoneInfo(DEFAULT_ZONE)):%Y-%m-%d}")
        )
    return row


def consent_records(session: Session, client_id: int) -> list[ConsentRecord]:
    """The client's consents, oldest first, withdrawn ones included."""
    rows = list(
        session.scalars(
            select(m.Consent)
            .where(m.Consent.client_id == client_id)
            .order_by(m.Consent.given_at, m.Consent.id)
        )
    )
    in_force = {
        consent.id
        for purpose in ConsentPurpose
        if (consent := active_consent(session, client_id, purpose)) is not None
    }
    names = display_names(session, [r.taken_by for r in rows] + [r.withdrawn_by for r in rows])
    known = stations(session)
    return [
        ConsentRecord(
            id=r.id,
            client_id=r.client_id,
            purpose=r.purpose,
            wording_version=r.wording_version,
            language=r.language,
            station_name=known[r.station_id][0] if r.station_id in known else "",
            given_at=local_time(r.given_at, r.station_id, known),  # type: ignore[arg-type]
            taken_by=names.get(r.taken_by or 0, ""),
            withdrawn_at=local_time(r.withdrawn_at, r.station_id, known),
            withdrawn_by=names.get(r.withdrawn_by or 0, ""),
            in_force=r.id in in_force,
        )
        for r in rows
    ]


# -- the service --------------------------------------------------------------------------------


class ConsentService(Service):
    def __init__(self, db: Database, audit: AuditLog, clock: Clock, vault: KeyVault) -> None:
        super().__init__(db, audit, clock)
        self.vault = vault

    def wording(self, *, language: str, station_id: int) -> ConsentWording:
        """The form to print and sign at a station: its name, phone and retention filled in.
        The text is public: anyone signed in may print it."""
        wording = load_consent_wording(language)
        with self.db.read() as session:
            station = session.get(m.Station, station_id)
            if station is None:
                raise NotFound(_("That station no longer exists."))
            return wording.filled(
                station_name=station.name,
                station_phone=station.phone,
                retention_months=str(station.retention_months),
            )

    def give(
        self,
        actor: Actor,
        *,
        client_id: int,
        purposes: frozenset[ConsentPurpose],
        language: str,
    ) -> list[ConsentRecord]:
        """Records the client's consent for each purpose ticked, on the current form in
        `language`. A purpose already in force on this form version is left as it is (giving
        again is harmless); one in force on an older version is given again on the current one.
        Returns the consents now in force for `purposes`."""
        self.require(actor, Permission.RECORD_CONSENT, action="give_consent", ref=str(client_id))
        try:
            chosen = frozenset(ConsentPurpose(p) for p in purposes)
        except ValueError:
            chosen = frozenset()
        if not chosen:
            raise ValidationError(
                {"purposes": _("Tick each purpose the client has agreed to and signed for.")}
            )
        wording = load_consent_wording(language)
        with self.db.write() as session:
            client = live_client(session, client_id, lock=True)
            now = self.clock.now()
            added: list[ConsentPurpose] = []
            for purpose in sorted(chosen):
                current = active_consent(session, client_id, purpose)
                if current is not None and current.wording_version == wording.version:
                    continue
                session.add(
                    m.Consent(
                        client_id=client_id,
                        purpose=purpose,
                        wording_version=wording.version,
                        language=wording.language,
                        station_id=actor.station_id,
                        given_at=now,
                        taken_by=actor.user_id,
                    )
                )
                added.append(purpose)
            session.flush()
            if added:
                self.audit.record(
                    session,
                    actor=actor,
                    action="give_consent",
                    object_type="client",
                    object_ref=client.client_code,
                    detail="{purposes}; {version}; {language}".format(
                        purposes=",".join(p.value for p in added),
                        version=wording.version,
                        language=wording.language,
                    ),
                )
            return [
                r for r in consent_records(session, client_id) if r.in_force and r.purpose in chosen
            ]

    def withdraw(self, actor: Actor, *, client_id: int, purpose: ConsentPurpose) -> ConsentRecord:
        """The client withdraws consent for `purpose`: from now on nothing is processed for it."""
        self.require(
            actor, Permission.RECORD_CONSENT, action="withdraw_consent", ref=str(client_id)
        )
        purpose = ConsentPurpose(purpose)
        with self.db.write() as session:
            client = live_client(session, client_id, lock=True)
            # Every consent still open for the purpose (an older form's too), or an older one
            # would come back into force.
            rows = list(
                session.scalars(
                    select(m.Consent)
                    .where(
                        m.Consent.client_id == client_id,
                        m.Consent.purpose == purpose,
                        m.Consent.withdrawn_at.is_(None),
                    )
                    .order_by(m.Consent.given_at, m.Consent.id)
                )
            )
            if not rows:
                raise Conflict(
                    _(
                        "The client has no consent in force for {purpose}: there is nothing to "
                        "withdraw."
                    ).format(purpose=purpose.title)
                )
            now = self.clock.now()
            for row in rows:
                row.withdrawn_at = now
                row.withdrawn_by = actor.user_id
            session.flush()
            self.audit.record(
                session,
                actor=actor,
                action="withdraw_consent",
                object_type="client",
                object_ref=client.client_code,
                detail=purpose.value,
            )
            latest = rows[-1].id
            return next(r for r in consent_records(session, client_id) if r.id == latest)

    def consents(self, actor: Actor, client_id: int) -> list[ConsentRecord]:
        """The client's consent history, withdrawn ones included, oldest first."""
        self.require(actor, Permission.RECORD_CONSENT, action="view_consents", ref=str(client_id))
        with self.db.read() as session:
            live_client(session, client_id)
            return consent_records(session, client_id)
