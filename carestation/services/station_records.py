"""A station's rules for confidential records: the supervisor who may read its counsellors'
notes and co-signs by default, how long notes are kept after a case closes, and its crisis plan."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from carestation.db import models as m
from carestation.domain.crisis import DEFAULT_CHECKLIST
from carestation.domain.errors import NotFound, ValidationError
from carestation.domain.roles import Permission, Role
from carestation.domain.values import Actor
from carestation.domain.vocab import CounsellorKind
from carestation.i18n import _
from carestation.services.base import Service

MIN_RETENTION_MONTHS = 12
MAX_RETENTION_MONTHS = 600
MAX_PLAN_STEPS = 12
MAX_STEP_CHARS = 200


@dataclass(frozen=True)
class RecordsPolicy:
    station_id: int
    supervisor_id: int | None
    retention_months: int
    crisis_plan: tuple[str, ...]  # empty: the standard checklist


@dataclass(frozen=True)
class Expert:
    user_id: int
    display_name: str


class StationRecordsService(Service):
    def policy(self, *, actor: Actor, station_id: int) -> RecordsPolicy:
        self.require(actor, Permission.MANAGE_STATIONS, action="view_records_policy")
        with self.db.read() as session:
            row = session.get(m.Station, station_id)
            if row is None:
                raise NotFound(_("That station no longer exists."))
            plan = tuple(line.strip() for line in row.crisis_plan.splitlines() if line.strip())
            return RecordsPolicy(row.id, row.supervisor_id, row.retention_months, plan)

    def supervisor_choices(self, *, actor: Actor, station_id: int) -> list[Expert]:
        """Active expert counsellors who work at the station: only they may supervise it."""
        self.require(actor, Permission.MANAGE_STATIONS, action="view_records_policy")
        with self.db.read() as session:
            rows = session.execute(
                select(m.UserAccount.id, m.UserAccount.display_name)
                .join(m.CounsellorProfile, m.CounsellorProfile.user_id == m.UserAccount.id)
                .join(m.UserStation, m.UserStation.user_id == m.UserAccount.id)
                .join(m.UserRole, m.UserRole.user_id == m.UserAccount.id)
                .where(
                    m.UserAccount.active.is_(True),
                    m.CounsellorProfile.kind == CounsellorKind.EXPERT,
                    m.UserStation.station_id == station_id,
                    m.UserRole.role == Role.COUNSELLOR,
                )
                .order_by(m.UserAccount.display_name, m.UserAccount.id)
            ).all()
            return [Expert(user_id, name) for user_id, name in rows]

    def set_policy(
        self,
        *,
        actor: Actor,
        station_id: int,
        supervisor_id: int | None,
        retention_months: int,
        crisis_plan: tuple[str, ...],
    ) -> RecordsPolicy:
        self.require(
            actor, Permission.MANAGE_STATIONS, action="set_records_policy", ref=str(station_id)
        )
        errors: dict[str, str] = {}
        if not MIN_RETENTION_MONTHS <= retention_months <= MAX_RETENTION_MONTHS:
            errors["retention_months"] = _(
                "Keep notes between {low} and {high} months after a case closes."
            ).format(low=MIN_RETENTION_MONTHS, high=MAX_RETENTION_MONTHS)
        steps = tuple(" ".join(step.split()) for step in crisis_plan if step.strip())
        if len(steps) > MAX_PLAN_STEPS or any(len(s) > MAX_STEP_CHARS for s in steps):
            errors["crisis_plan"] = _(
                "Keep the crisis plan to at most {steps} short steps, one per line."
            ).format(steps=MAX_PLAN_STEPS)
        experts = {e.user_id for e in self.supervisor_choices(actor=actor, station_id=station_id)}
        if supervisor_id is not None and supervisor_id not in experts:
            errors["supervisor_id"] = _(
                "The supervisor must be an active expert counsellor who works at this station."
            )
        if errors:
            raise ValidationError(errors)
        with self.db.write() as session:
            row = session.get(m.Station, station_id)
            if row is None:
                raise NotFound(_("That station no longer exists."))
            row.supervisor_id = supervisor_id
            row.retention_months = retention_months
            row.crisis_plan = "\n".join(steps)
            self.audit.record(
                session,
                actor=actor,
                action="set_records_policy",
                object_type="station",
                object_ref=str(station_id),
                detail=f"retention {retention_months}; plan steps {len(steps)}",
            )
        return RecordsPolicy(station_id, supervisor_id, retention_months, steps)


def default_plan() -> tuple[str, ...]:
    return tuple(step.title for step in DEFAULT_CHECKLIST)
