"""Reading the audit trail: administrators only."""

from __future__ import annotations

from carestation.domain.roles import Permission
from carestation.domain.values import Actor, AuditEntry
from carestation.services.base import Service


class AuditQueries(Service):
    def entries(
        self, *, actor: Actor, limit: int = 1000, action: str | None = None
    ) -> list[AuditEntry]:
        self.require(actor, Permission.VIEW_AUDIT, action="view_audit")
        return self.audit.entries(limit=limit, action=action)
