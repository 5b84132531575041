"""The retention purge (PIPL art. 19, 47): once a case has been closed longer than its station's
`retention_months` (calendar months), the confidential texts of that case are deleted: session
notes and their addenda, the closing summary, the crisis flags' reasons and what was done, and
the follow-up notes. De-identified rows stay, so counts and outcomes remain right.

It runs without a signed-in user (at start-up, once the key is unlocked, and from the command
line), and is idempotent: a second run finds nothing left to purge. The log and the audit
trail get counts only: never content, names or client codes.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, or_, select, update
from sqlalchemy.orm import Session

from carestation.db import models as m
from carestation.db.engine import Database
from carestation.domain.errors import ValidationError
from carestation.domain.rights import PurgeReport, StationPurge, months_before
from carestation.domain.roles import Permission
from carestation.domain.values import Actor
from carestation.domain.vocab import CaseStatus
from carestation.i18n import _
from carestation.services.audit import AuditLog
from carestation.services.base import Service
from carestation.services.clock import Clock
from carestation.services.keys import KeyVault

log = logging.getLogger("carestation.retention")

SYSTEM_USER = "system"


def _expired_cases(station_id: int, cutoff: datetime) -> Select[Any]:
    return select(m.Case.id).where(
        m.Case.station_id == station_id,
        m.Case.status == CaseStatus.CLOSED,
        m.Case.closed_at.is_not(None),
        m.Case.closed_at < cutoff,
    )


def _notes_of(cases: Select[Any]) -> ColumnElement[bool]:
    """A note of one of `cases`: filed in the case, or on one of the case's appointments."""
    return or_(
        m.SessionNote.case_id.in_(cases),
        m.SessionNote.appointment_id.in_(
            select(m.Appointment.id).where(m.Appointment.case_id.in_(cases))
        ),
    )


class RetentionService(Service):
    def __init__(self, db: Database, audit: AuditLog, clock: Clock, vault: KeyVault) -> None:
        super().__init__(db, audit, clock)
        self.vault = vault

    def preview(self, *, now: datetime | None = None, actor: Actor | None = None) -> PurgeReport:
        """What a purge would delete now, per station, without deleting anything (for the
        administrator's screen and `--dry-run`)."""
        if actor is not None:
            self.require(actor, Permission.MANAGE_KEYS, action="preview_purge")
        moment = self._moment(now)
        with self.db.read() as session:
            return PurgeReport(moment, True, tuple(self._run(session, moment, dry_run=True)))

    def purge_expired(
        self, *, now: datetime | None = None, actor: Actor | None = None
    ) -> PurgeReport:
        """Deletes the expired texts of every station, in one transaction, and writes one audit
        entry (as "system" unless an administrator started it)."""
        if actor is not None:
            self.require(actor, Permission.MANAGE_KEYS, action="purge_expired")
        moment = self._moment(now)
        with self.db.write() as session:
            stations = tuple(self._run(session, moment, dry_run=False))
            report = PurgeReport(moment, False, stations)
            self.audit.record(
                session,
                actor=actor,
                username=SYSTEM_USER,
                action="purge_expired",
                object_type="retention",
                detail=(
                    "stations {stations}; cases {cases}; notes {notes}; addenda {addenda}; "
                    "case summaries {summaries}; crisis texts {crisis}; follow-up notes {follow}"
                ).format(
                    stations=len(stations),
                    cases=report.total("cases"),
                    notes=report.total("notes"),
                    addenda=report.total("addenda"),
                    summaries=report.total("case_summaries"),
                    crisis=report.total("crisis_texts"),
                    follow=report.total("follow_up_notes"),
                ),
            )
        return report

    def _moment(self, now: datetime | None) -> datetime:
        moment = now or self.clock.now()
        if moment.tzinfo is None:
            raise ValidationError({"now": _("The time needs a time zone.")})
        return moment

    def _run(self, session: Session, now: datetime, *, dry_run: bool) -> list[StationPurge]:
        results = []
        for station_id, name, months in session.execute(
            select(m.Station.id, m.Station.name, m.Station.retention_months).order_by(m.Station.id)
        ):
            if months is None or months < 1:
                # Never read as "purge at once": a mistyped setting must not delete records.
                log.warning(
                    "retention: station %d has no valid retention period; skipped", station_id
                )
                continue
            cutoff = months_before(now, months)
            result = self._station(session, station_id, name, months, cutoff, dry_run=dry_run)
            # A line per station that had something to purge; a check that finds nothing (as at
            # most start-ups) stays quiet unless debugging.
            log.log(
                logging.INFO if result.purged and not dry_run else logging.DEBUG,
                "retention: station %d (%d months, closed before %s): %d cases, %d notes, "
                "%d addenda, %d case summaries, %d crisis texts, %d follow-up notes %s",
                station_id,
                months,
                cutoff.date().isoformat(),
                result.cases,
                result.notes,
                result.addenda,
                result.case_summaries,
                result.crisis_texts,
                result.follow_up_notes,
                "to purge (dry run)" if dry_run else "purged",
            )
            results.append(result)
        return results

    def _station(
        self,
        session: Session,
        station_id: int,
        name: str,
        months: int,
        cutoff: datetime,
        *,
        dry_run: bool,
    ) -> StationPurge:
        cases = _expired_cases(station_id, cutoff)
        note_ids = select(m.SessionNote.id).where(_notes_of(cases))
        flag_ids = select(m.CrisisFlag.id).where(m.CrisisFlag.case_id.in_(cases))
        targets: dict[str, tuple[Any, ColumnElement[bool], Any]] = {
            # name: (model, which rows still hold text, the statement that clears them)
            "addenda": (m.NoteAddendum, m.NoteAddendum.note_id.in_(note_ids), None),
            "notes": (m.SessionNote, m.SessionNote.id.in_(note_ids), None),
            "case_summaries": (
                m.Case,
                m.Case.id.in_(cases) & m.Case.summary_ciphertext.is_not(None),
                {"summary_ciphertext": None, "key_version": None},
            ),
            # reason_ciphertext is NOT NULL: an empty value stands for "purged".
            "crisis_texts": (
                m.CrisisFlag,
                m.CrisisFlag.id.in_(flag_ids)
                & or_(
                    m.CrisisFlag.reason_ciphertext != b"",
                    m.CrisisFlag.actions_ciphertext.is_not(None),
                ),
                {"reason_ciphertext": b"", "actions_ciphertext": None},
            ),
            "follow_up_notes": (
                m.CrisisFollowUp,
                m.CrisisFollowUp.flag_id.in_(flag_ids)
                & m.CrisisFollowUp.note_ciphertext.is_not(None),
                {"note_ciphertext": None, "key_version": None},
            ),
        }
        counts: dict[str, int] = {
            "cases": int(session.scalar(select(func.count()).select_from(cases.subquery())) or 0)
        }
        # Addenda before their notes (foreign key), and counted before anything changes.
        for key, (model, condition, values) in targets.items():
            if dry_run:
                counts[key] = int(
                    session.scalar(select(func.count()).select_from(model).where(condition)) or 0
                )
                continue
            statement = (
                delete(model).where(condition)
                if values is None
                else update(model).where(condition).values(**values)
            )
            result = session.execute(statement, execution_options={"synchronize_session": False})
            counts[key] = int(result.rowcount or 0)  # type: ignore[attr-defined]
        return StationPurge(
            station_id=station_id,
            station_name=name,
            retention_months=months,
            cutoff=cutoff,
            **counts,
        )
