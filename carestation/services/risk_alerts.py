"""Risk alerts: a questionnaire result that needs a person on duty to act now (PHQ-9 question 9
above 0, K10 of 30 or more). Alerts stay open at the station until someone records what was
done; the note is encrypted (under the client's key, or for an anonymous form under a key derived
from the protection key). Staff and counsellors see the alerts of the stations they work at."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session, aliased

from carestation.db import models as m
from carestation.domain.assessment_values import RiskAlertInfo
from carestation.domain.errors import Conflict, NotFound, ValidationError
from carestation.domain.roles import Permission
from carestation.domain.values import Actor
from carestation.domain.vocab import AssessmentMode, RiskAction
from carestation.i18n import _
from carestation.security import crypto
from carestation.services.cases import OPEN_ERRORS, OpenFailed, RecordsService, Refusal, local

TABLE = "risk_alert"
NOTE_COLUMN = "note"
ANONYMOUS_NOTE_PURPOSE = "carestation risk alert notes v1"
# key_version stored with a note under the derived key (an anonymous alert has no client key).
DERIVED_KEY_VERSION = 0
MAX_NOTE = 1000
_AlertQuery = Select[m.RiskAlert, str, str, str, datetime | None, str]


class RiskAlertService(RecordsService):
    # --- raising (inside the assessment or campaign transaction) ------------------------------

    def raise_alert(
        self,
        session: Session,
        *,
        station_id: int,
        mode: AssessmentMode,
        instrument: str,
        reason: str,
        client_id: int | None = None,
        assessment_id: int | None = None,
        crisis_flag_id: int | None = None,
        actor: Actor | None = None,
    ) -> int:
        """Adds an open alert in the caller's transaction and returns its id. No access check:
        the caller has made its own. `actor` (who started the form, if anyone) is named in the
        audit trail; an anonymous alert names no assessment there or in the row."""
        row = m.RiskAlert(
            station_id=station_id,
            client_id=client_id,
            assessment_id=assessment_id if client_id is not None else None,
            crisis_flag_id=crisis_flag_id,
            mode=AssessmentMode(mode),
            instrument=instrument,
            reason=reason,
            raised_at=self.clock.now(),
        )
        session.add(row)
        session.flush()
        code = self._code(session, client_id) if client_id is not None else ""
        self.audit.record(
            session,
            actor=actor,
            action="raise_risk_alert",
            object_type="client" if client_id is not None else "risk_alert",
            object_ref=code or f"alert {row.id}",
            detail=f"alert {row.id}; {instrument}",
        )
        return row.id

    # --- reading ------------------------------------------------------------------------------

    def _require_reader(self, actor: Actor, action: str) -> None:
        self.require(actor, Permission.ACT_ON_RISK_ALERTS, action=action)

    def count_open(self, actor: Actor) -> int:
        """Open alerts at the actor's stations; cheap, polled by the UI, leaves no trace (0 for
        anyone who may not act on alerts, so the poll never floods the trail with refusals)."""
        if not actor.can(Permission.ACT_ON_RISK_ALERTS) or not actor.station_ids:
            return 0
        with self.db.read() as session:
            found = session.scalar(
                select(func.count())
                .select_from(m.RiskAlert)
                .where(
                    m.RiskAlert.station_id.in_(actor.station_ids),
                    m.RiskAlert.acted_at.is_(None),
                )
            )
        return int(found or 0)

    def open_alerts(self, actor: Actor) -> list[RiskAlertInfo]:
        """The open alerts at the stations the actor works at, oldest first."""
        self._require_reader(actor, "view_risk_alerts")
        condition = m.RiskAlert.acted_at.is_(None)
        with self.guarded(actor), self.db.read() as session:
            query = self._query(actor, condition).order_by(m.RiskAlert.raised_at, m.RiskAlert.id)
            alerts = self._infos(session, query, with_notes=False)
        self._audit_view(actor, "view_risk_alerts", alerts)
        return alerts

    def recent(self, actor: Actor, *, days: int = 14) -> list[RiskAlertInfo]:
        """Alerts raised in the last `days` days at the actor's stations, and any older ones
        still open; newest first, with what was done."""
        self._require_reader(actor, "view_recent_risk_alerts")
        if days < 1:
            raise ValidationError({"days": _("Show at least one day of alerts.")})
        since = self.clock.now() - timedelta(days=days)
        condition = or_(m.RiskAlert.raised_at >= since, m.RiskAlert.acted_at.is_(None))
        with self.guarded(actor), self.db.read() as session:
            query = self._query(actor, condition).order_by(
                m.RiskAlert.raised_at.desc(), m.RiskAlert.id.desc()
            )
            alerts = self._infos(session, query, with_notes=True)
        self._audit_view(actor, "view_recent_risk_alerts", alerts)
        return alerts

    def _audit_view(self, actor: Actor, action: str, alerts: list[RiskAlertInfo]) -> None:
        self.audit.record_now(
            actor=actor,
            action=action,
            object_type="station",
            object_ref=",".join(str(s) for s in sorted(actor.station_ids)),
            detail=f"{len(alerts)} alerts",
        )

    @staticmethod
    def _query(actor: Actor, condition: ColumnElement[bool]) -> _AlertQuery:
        acted_by = aliased(m.UserAccount)
        return (
            select(
                m.RiskAlert,
                m.Station.name,
                m.Station.time_zone,
                m.Client.client_code,
                m.Client.erased_at,
                acted_by.display_name,
            )
            .join(m.Station, m.Station.id == m.RiskAlert.station_id)
            .outerjoin(m.Client, m.Client.id == m.RiskAlert.client_id)
            .outerjoin(acted_by, acted_by.id == m.RiskAlert.acted_by)
            .where(m.RiskAlert.station_id.in_(actor.station_ids), condition)
        )

    def _infos(
        self, session: Session, query: _AlertQuery, *, with_notes: bool
    ) -> list[RiskAlertInfo]:
        result = []
        for row, station_name, zone, code, erased_at, acted_by_name in session.execute(query):
            note = ""
            if with_notes and row.note_ciphertext and erased_at is None:
                note = self._open_note(session, row, code or "")
            result.append(self._info(row, station_name, zone, code or "", acted_by_name, note))
        return result

    @staticmethod
    def _info(
        row: m.RiskAlert,
        station_name: str,
        zone: str,
        code: str,
        acted_by_name: str | None,
        note: str,
    ) -> RiskAlertInfo:
        return RiskAlertInfo(
            id=row.id,
            station_id=row.station_id,
            station_name=station_name,
            raised_at=local(row.raised_at, zone),
            mode=row.mode,
            instrument=row.instrument,
            reason=row.reason,
            client_id=row.client_id,
            client_code=code,
            crisis_flag_id=row.crisis_flag_id,
            acted_at=local(row.acted_at, zone) if row.acted_at else None,
            acted_by_name=acted_by_name or "",
            action=row.action,
            note=note,
        )

    def _open_note(self, session: Session, row: m.RiskAlert, code: str) -> str:
        if row.client_id is not None:
            return self.open_text(
                session,
                row.client_id,
                row.note_ciphertext,
                table=TABLE,
                column=NOTE_COLUMN,
                row_id=row.id,
                key_version=row.key_version,
                action="view_recent_risk_alerts",
                object_type="client",
                ref=code,
            )
        try:
            assert row.note_ciphertext is not None
            return crypto.decrypt(
                self.vault.derived_key(ANONYMOUS_NOTE_PURPOSE),
                row.note_ciphertext,
                table=TABLE,
                column=NOTE_COLUMN,
                row_id=row.id,
                key_version=row.key_version if row.key_version is not None else -1,
            )
        except OPEN_ERRORS as exc:
            raise OpenFailed(
                exc,
                action="view_recent_risk_alerts",
                object_type="risk_alert",
                ref=f"alert {row.id}",
            ) from exc

    # --- acting -------------------------------------------------------------------------------

    def act(
        self, actor: Actor, *, alert_id: int, action: RiskAction, note: str = ""
    ) -> RiskAlertInfo:
        """Records what was done about an open alert at a station the actor works at; the alert
        then leaves the open list. A second person acting on it is told who already did."""
        self._require_reader(actor, "act_on_risk_alert")
        errors: dict[str, str] = {}
        try:
            chosen = RiskAction(action)
        except ValueError:
            errors["action"] = _("Choose what was done about the alert.")
        text = "\n".join(" ".join(line.split()) for line in (note or "").strip().splitlines())
        if len(text) > MAX_NOTE:
            errors["note"] = _("The note is too long: at most {max} characters.").format(
                max=MAX_NOTE
            )
        if errors:
            raise ValidationError(errors)
        self.ensure_key()
        with self.guarded(actor), self.db.write() as session:
            row = session.scalars(
                self.lock_query(select(m.RiskAlert).where(m.RiskAlert.id == alert_id))
            ).first()
            if row is None:
                raise NotFound(_("That alert no longer exists."))
            code = self._code(session, row.client_id) if row.client_id is not None else ""
            if row.station_id not in actor.station_ids:
                raise Refusal("act_on_risk_alert", code or f"alert {row.id}")
            station = session.get_one(m.Station, row.station_id)
            if row.acted_at is not None:
                who = session.scalar(
                    select(m.UserAccount.display_name).where(m.UserAccount.id == row.acted_by)
                )
                raise Conflict(
                    _(
                        "{name} already recorded what was done about this alert at {time}. "
                        "Nothing more is needed here; add anything else to the person's record."
                    ).format(
                        name=who or _("someone"),
                        time=f"{local(row.acted_at, station.time_zone):%Y-%m-%d %H:%M}",
                    )
                )
            row.acted_at = self.clock.now()
            row.acted_by = actor.user_id
            row.action = chosen
            if text:
                row.note_ciphertext, row.key_version = self._seal(session, row, text)
            self.audit.record(
                session,
                actor=actor,
                action="act_on_risk_alert",
                object_type="client" if row.client_id is not None else "risk_alert",
                object_ref=code or f"alert {row.id}",
                detail=f"alert {row.id}; {chosen.value}",
            )
            session.flush()
            return self._info(row, station.name, station.time_zone, code, actor.display_name, text)

    def _seal(self, session: Session, row: m.RiskAlert, text: str) -> tuple[bytes, int]:
        if row.client_id is not None:
            return self.vault.seal(
                session, row.client_id, text, table=TABLE, column=NOTE_COLUMN, row_id=row.id
            )
        blob = crypto.encrypt(
            self.vault.derived_key(ANONYMOUS_NOTE_PURPOSE),
            text,
            table=TABLE,
            column=NOTE_COLUMN,
            row_id=row.id,
            key_version=DERIVED_KEY_VERSION,
        )
        return blob, DERIVED_KEY_VERSION

    @staticmethod
    def _code(session: Session, client_id: int | None) -> str:
        if client_id is None:
            return ""
        return session.scalar(select(m.Client.client_code).where(m.Client.id == client_id)) or ""
