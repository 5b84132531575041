"""Records that a document with personal data was printed or saved (the audit trail's view)."""

from __future__ import annotations

from carestation.domain.roles import Permission
from carestation.domain.values import Actor
from carestation.services.base import Service

DOCUMENTS = ("day_sheet", "reminder_list", "slip", "day_sheet_pdf", "consent_form")


class PrintLog(Service):
    def record(self, *, actor: Actor, document: str, station_id: int, ref: str = "") -> None:
        """`ref` names the record (an appointment id, a date, a client code), never a person."""
        if document not in DOCUMENTS:
            raise ValueError(f"unknown document {document!r}")
        allowed = (
            actor.can(Permission.VIEW_STATION_APPOINTMENTS) and station_id in actor.station_ids
        )
        if not allowed and not actor.can(Permission.VIEW_OWN_APPOINTMENTS):
            self.deny(actor, action=f"print_{document}", ref=ref)
        self.audit.record_now(
            actor=actor,
            action="print",
            object_type=document,
            object_ref=ref,
            detail=str(station_id),
        )
