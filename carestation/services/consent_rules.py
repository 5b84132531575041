"""Whether a client's consent for a purpose is in force: the one rule every service checks
before it processes sensitive data for that purpose (PIPL arts. 29-30; withdrawal, art. 15)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from carestation.db import models as m
from carestation.domain.errors import Conflict
from carestation.domain.vocab import ConsentPurpose
from carestation.i18n import _


def active_consent(session: Session, client_id: int, purpose: ConsentPurpose) -> m.Consent | None:
    """The consent in force for `purpose`: the latest given and not withdrawn, or None."""
    return session.scalars(
        select(m.Consent)
        .where(
            m.Consent.client_id == client_id,
            m.Consent.purpose == purpose,
            m.Consent.withdrawn_at.is_(None),
        )
        .order_by(m.Consent.given_at.desc(), m.Consent.id.desc())
        .limit(1)
    ).first()


class ConsentMissing(Conflict):
    def __init__(self, purpose: ConsentPurpose) -> None:
        self.purpose = purpose
        super().__init__(
            _(
                "The client has not given consent for {purpose}, or has withdrawn it. Take the "
                "client's consent first (Client record, Consents)."
            ).format(purpose=purpose.title)
        )


def require_consent(session: Session, client_id: int, purpose: ConsentPurpose) -> m.Consent:
    consent = active_consent(session, client_id, purpose)
    if consent is None:
        raise ConsentMissing(purpose)
    return consent
