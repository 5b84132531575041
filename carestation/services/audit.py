"""Writes and reads the audit trail. Entries name records by code or id, never by a person's name."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from carestation.db.engine import Database
from carestation.db.models import AuditEvent, Station
from carestation.domain.values import Actor, AuditEntry
from carestation.services.clock import Clock, SystemClock


class AuditLog:
    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()

    def record(
        self,
        session: Session,
        *,
        actor: Actor | None,
        action: str,
        object_type: str = "",
        object_ref: str = "",
        result: str = "ok",
        detail: str = "",
        username: str | None = None,
    ) -> None:
        """Adds an entry inside the caller's transaction, so it commits or rolls back with it."""
        session.add(
            AuditEvent(
                occurred_at=self.clock.now(),
                user_id=actor.user_id if actor else None,
                username=(actor.username if actor else (username or ""))[:32],
                role=actor.primary_role.value if actor else "",
                station_id=actor.station_id if actor else None,
                action=action,
                object_type=object_type,
                object_ref=object_ref[:64],
                result=result,
                detail=detail,
            )
        )

    def record_now(self, **kwargs: object) -> None:
        """An entry in a transaction of its own (refusals and failures, where nothing else commits)."""
        with self.db.write() as session:
            self.record(session, **kwargs)  # type: ignore[arg-type]

    def entries(self, *, limit: int = 500, action: str | None = None) -> list[AuditEntry]:
        with self.db.read() as session:
            query = (
                select(AuditEvent, Station.name)
                .outerjoin(Station, Station.id == AuditEvent.station_id)
                .order_by(AuditEvent.id.desc())
                .limit(limit)
            )
            if action:
                query = query.where(AuditEvent.action == action)
            return [
                AuditEntry(
                    id=e.id,
                    occurred_at=e.occurred_at,
                    username=e.username,
                    role=e.role,
                    station_name=station_name or "",
                    action=e.action,
                    object_type=e.object_type,
                    object_ref=e.object_ref,
                    result=e.result,
                    detail=e.detail,
                )
                for e, station_name in session.execute(query)
            ]
