"""Reading the audit trail: administrators only."""

from __future__ import annotations

from datetime import datetime

from carestation.domain.roles import Permission
from carestation.domain.values import Actor, AuditEntry
from carestation.services.base import Service


class AuditQueries(Service):
    def entries(
        self,
        *,
        actor: Actor,
        limit: int = 1000,
        action: str | None = None,
        username: str | None = None,
        object_ref: str | None = None,
        result: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[AuditEntry]:
        """Newest first. Filters are exact (user name, action code, record reference such as a
        client code, result); `since`/`until` bound the time (aware datetimes, until exclusive)."""
        self.require(actor, Permission.VIEW_AUDIT, action="view_audit")
        return self.audit.entries(
            limit=limit,
            action=action or None,
            username=username or None,
            object_ref=object_ref or None,
            result=result or None,
            since=since,
            until=until,
        )
