"""Disclosures: each time a client's information leaves the station (to whom, what, why, and on
what basis), recorded by the counsellor who released it. The person may see this list (it is in
their export); recipient, content and reason are encrypted under the client's data key.

Only a counsellor who serves the client (their case or appointment, or as the supervisor of a
station where they have a case) records or reads them.
"""

from __future__ import annotations

import json
import unicodedata
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from carestation.db import models as m
from carestation.db.engine import Database
from carestation.domain.errors import ValidationError
from carestation.domain.rights import MAX_DISCLOSURE_TEXT, MAX_RECIPIENT, DisclosureRecord
from carestation.domain.roles import Permission
from carestation.domain.validation import clean_text
from carestation.domain.values import Actor
from carestation.domain.vocab import DisclosureBasis
from carestation.i18n import _
from carestation.services.audit import AuditLog
from carestation.services.base import Service
from carestation.services.clock import Clock
from carestation.services.consent import (
    DEFAULT_ZONE,
    live_client,
    local_time,
    stations,
)
from carestation.services.conversions import display_names
from carestation.services.keys import KeyVault

TABLE = "disclosure"
COLUMN = "detail"


class _NotServing(Exception):
    """The counsellor does not serve this client: refused once the transaction is rolled back."""


def serves(session: Session, actor: Actor, client_id: int) -> bool:
    """Whether the actor is one of the client's counsellors: the counsellor of one of their cases
    or appointments, or the supervisor of a station where they have a case."""
    supervised = select(m.Station.id).where(m.Station.supervisor_id == actor.user_id)
    case = exists().where(
        m.Case.client_id == client_id,
        or_(m.Case.counsellor_id == actor.user_id, m.Case.station_id.in_(supervised)),
    )
    appointment = exists().where(
        m.Appointment.client_id == client_id, m.Appointment.counsellor_id == actor.user_id
    )
    return bool(session.scalar(select(or_(case, appointment))))


def _block(value: str) -> str:
    """Text of a few lines: NFC, trimmed, line breaks kept, other control characters refused."""
    return unicodedata.normalize("NFC", value).strip().replace("\r\n", "\n")


def _has_control(value: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in value)


def disclosure_records(session: Session, vault: KeyVault, client_id: int) -> list[DisclosureRecord]:
    """The client's disclosures, oldest first, decrypted."""
    rows = list(
        session.scalars(
            select(m.Disclosure)
            .where(m.Disclosure.client_id == client_id)
            .order_by(m.Disclosure.disclosed_on, m.Disclosure.id)
        )
    )
    names = display_names(session, [r.recorded_by for r in rows])
    known = stations(session)
    records = []
    for r in rows:
        detail = json.loads(
            vault.open(
                session,
                client_id,
                r.detail_ciphertext,
                table=TABLE,
                column=COLUMN,
                row_id=r.id,
                key_version=r.key_version,
            )
        )
        records.append(
            DisclosureRecord(
                id=r.id,
                client_id=client_id,
                station_name=known[r.station_id][0] if r.station_id in known else "",
                disclosed_on=r.disclosed_on,
                recorded_at=local_time(r.recorded_at, r.station_id, known),  # type: ignore[arg-type]
                recorded_by=names.get(r.recorded_by or 0, ""),
                basis=r.basis,
                consent_id=r.consent_id,
                recipient=str(detail.get("recipient", "")),
                what=str(detail.get("what", "")),
                why=str(detail.get("why", "")),
            )
        )
    return records


class DisclosureService(Service):
    def __init__(self, db: Database, audit: AuditLog, clock: Clock, vault: KeyVault) -> None:
        super().__init__(db, audit, clock)
        self.vault = vault

    def _today(self, session: Session, station_id: int | None) -> date:
        zone: str | None = DEFAULT_ZONE
        if station_id is not None:
            zone = session.scalar(select(m.Station.time_zone).where(m.Station.id == station_id))
        return self.clock.now().astimezone(ZoneInfo(zone or DEFAULT_ZONE)).date()

    def record(
        self,
        actor: Actor,
        *,
        client_id: int,
        disclosed_on: date,
        recipient: str,
        what: str,
        why: str,
        basis: DisclosureBasis,
        consent_id: int | None = None,
    ) -> DisclosureRecord:
        """Records a release of the client's information outside the station. With the basis
        "consent", `consent_id` names the client's consent in force that allowed it."""
        self.require(
            actor, Permission.KEEP_CASE_RECORDS, action="record_disclosure", ref=str(client_id)
        )
        errors: dict[str, str] = {}
        recipient_text = clean_text(recipient)
        what_text, why_text = _block(what), _block(why)
        if not recipient_text:
            errors["recipient"] = _(
                "Say to whom the information was given (a person's role and organisation)."
            )
        elif len(recipient_text) > MAX_RECIPIENT or _has_control(recipient_text):
            errors["recipient"] = _(
                "The recipient is too long or has characters that cannot be shown: at most "
                "{count} characters."
            ).format(count=MAX_RECIPIENT)
        for field, text, missing in (
            ("what", what_text, _("Say what information was given.")),
            ("why", why_text, _("Say why the information was given.")),
        ):
            if not text:
                errors[field] = missing
            elif len(text) > MAX_DISCLOSURE_TEXT or _has_control(text):
                errors[field] = _(
                    "Keep this under {count} characters, without special control characters."
                ).format(count=MAX_DISCLOSURE_TEXT)
        try:
            basis = DisclosureBasis(basis)
        except ValueError:
            errors["basis"] = _("Choose the basis on which the information was given.")
        if not isinstance(disclosed_on, date):
            errors["disclosed_on"] = _("Enter the date the information was given.")
        if errors:
            raise ValidationError(errors)
        if basis is DisclosureBasis.CONSENT and consent_id is None:
            raise ValidationError(
                {
                    "consent_id": _(
                        "Choose the client's consent that allowed this, or choose another basis."
                    )
                }
            )
        if basis is not DisclosureBasis.CONSENT and consent_id is not None:
            raise ValidationError(
                {
                    "consent_id": _(
                        "A consent is linked only when the basis is the client's consent; clear "
                        "it or change the basis."
                    )
                }
            )
        _key = self.vault.kek  # a locked vault is a clear message before anything is written
        try:
            with self.db.write() as session:
                client = live_client(session, client_id, lock=True)
                if not serves(session, actor, client_id):
                    raise _NotServing
                if disclosed_on > self._today(session, actor.station_id):
                    raise ValidationError(
                        {"disclosed_on": _("The date is in the future; enter the day it happened.")}
                    )
                if consent_id is not None:
                    consent = session.get(m.Consent, consent_id)
                    if (
                        consent is None
                        or consent.client_id != client_id
                        or consent.withdrawn_at is not None
                    ):
                        raise ValidationError(
                            {
                                "consent_id": _(
                                    "That consent is not one of this client's consents in force. "
                                    "Choose a consent the client has not withdrawn."
                                )
                            }
                        )
                row = m.Disclosure(
                    client_id=client_id,
                    station_id=actor.station_id,
                    disclosed_on=disclosed_on,
                    recorded_at=self.clock.now(),
                    recorded_by=actor.user_id,
                    basis=basis,
                    consent_id=consent_id,
                    # Sealed below, once the row has the id its ciphertext is bound to.
                    detail_ciphertext=b"",
                    key_version=0,
                )
                session.add(row)
                session.flush()
                detail = json.dumps(
                    {"recipient": recipient_text, "what": what_text, "why": why_text},
                    ensure_ascii=False,
                    sort_keys=True,
                )
                row.detail_ciphertext, row.key_version = self.vault.seal(
                    session, client_id, detail, table=TABLE, column=COLUMN, row_id=row.id
                )
                session.flush()
                self.audit.record(
                    session,
                    actor=actor,
                    action="record_disclosure",
                    object_type="client",
                    object_ref=client.client_code,
                    detail=basis.value,
                )
                return next(
                    r for r in disclosure_records(session, self.vault, client_id) if r.id == row.id
                )
        except _NotServing:
            self.deny(actor, action="record_disclosure", ref=str(client_id))
            raise  # deny() always raises

    def for_client(self, actor: Actor, client_id: int) -> list[DisclosureRecord]:
        """The client's disclosures, oldest first. Each reading is audited."""
        self.require(
            actor, Permission.KEEP_CASE_RECORDS, action="view_disclosures", ref=str(client_id)
        )
        _key = self.vault.kek
        try:
            with self.db.write() as session:
                client = live_client(session, client_id)
                if not serves(session, actor, client_id):
                    raise _NotServing
                records = disclosure_records(session, self.vault, client_id)
                self.audit.record(
                    session,
                    actor=actor,
                    action="view_disclosures",
                    object_type="client",
                    object_ref=client.client_code,
                )
                return records
        except _NotServing:
            self.deny(actor, action="view_disclosures", ref=str(client_id))
            raise
