"""What every service shares: the clock, and the access check that audits each refusal."""

from __future__ import annotations

from carestation.db.engine import Database
from carestation.domain.errors import PermissionDenied
from carestation.domain.roles import Permission
from carestation.domain.values import Actor
from carestation.i18n import _
from carestation.services.audit import AuditLog
from carestation.services.clock import Clock


class Service:
    def __init__(self, db: Database, audit: AuditLog, clock: Clock) -> None:
        self.db = db
        self.audit = audit
        self.clock = clock

    def require(self, actor: Actor, permission: Permission, *, action: str, ref: str = "") -> None:
        """Raise PermissionDenied (and leave a trace) unless the actor's roles allow `permission`."""
        if actor.can(permission):
            return
        self.deny(actor, action=action, ref=ref)

    def deny(self, actor: Actor, *, action: str, ref: str = "") -> None:
        self.audit.record_now(actor=actor, action=action, object_ref=ref, result="denied")
        raise PermissionDenied(
            _(
                "Your account is not allowed to do this. If your work needs it, ask an administrator."
            )
        )
