"""Crisis flags: raising one on a client at risk, the checklist, clearing it with what was done
recorded, and the follow-ups it schedules.

Who sees a flag: the counsellors who work at the flag's station. Its reason, what was done and
the follow-up notes are counselling information, encrypted under the client's data key; staff,
managers and administrators never read them, and the trail names the client by code only.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from carestation.db import models as m
from carestation.db.engine import Database
from carestation.domain.crisis import (
    DEFAULT_CHECKLIST,
    FOLLOW_UP_AFTER,
    MAX_FOLLOW_UP_NOTE,
    MAX_REASON,
    MAX_WHAT_WAS_DONE,
    ChecklistStep,
    CrisisFlagInfo,
    FollowUpInfo,
    FollowUpItem,
    assessment_reason,
    plan_steps,
)
from carestation.domain.errors import Conflict, NotFound, ValidationError
from carestation.domain.roles import Permission, Role
from carestation.domain.values import Actor
from carestation.domain.vocab import CaseStatus, FlagSource
from carestation.i18n import _
from carestation.services.audit import AuditLog
from carestation.services.base import Service
from carestation.services.clock import Clock
from carestation.services.conversions import display_names
from carestation.services.keys import KeyVault

FLAG_TABLE = "crisis_flag"
FOLLOW_UP_TABLE = "crisis_followup"
# The prefix that marks a reason written by an assessment (a key looked up when shown).
_ASSESSMENT_PREFIX = "assessment:"


def _clean_block(text: str) -> str:
    """Trims a free text but keeps its line breaks (what was done is often a list)."""
    lines = [" ".join(line.split()) for line in text.strip().splitlines()]
    return "\n".join(lines).strip()


def open_flag_blocking_case(session: Session, case_id: int) -> int | None:
    """The id of an open flag that keeps the case from being closed, or None. For the case
    service to call in the transaction that closes the case. A flag raised on the case blocks
    it, and so does one raised on its client without naming a case: a person at risk is not
    discharged until the flag is cleared with what was done recorded."""
    case = session.get(m.Case, case_id)
    if case is None:
        return None
    return session.scalar(
        select(m.CrisisFlag.id)
        .where(
            m.CrisisFlag.client_id == case.client_id,
            m.CrisisFlag.cleared_at.is_(None),
            or_(m.CrisisFlag.case_id == case_id, m.CrisisFlag.case_id.is_(None)),
        )
        .limit(1)
    )


class CrisisService(Service):
    def __init__(self, db: Database, audit: AuditLog, clock: Clock, vault: KeyVault) -> None:
        super().__init__(db, audit, clock)
        self.vault = vault

    # --- who may -----------------------------------------------------------------------------
    @staticmethod
    def may_see(actor: Actor, station_id: int) -> bool:
        """Counsellors working at the flag's station, and no one else."""
        return (
            Role.COUNSELLOR in actor.roles
            and actor.can(Permission.KEEP_CASE_RECORDS)
            and station_id in actor.station_ids
        )

    def _require_at(self, actor: Actor, station_id: int, *, action: str, ref: str) -> None:
        if not self.may_see(actor, station_id):
            self.deny(actor, action=action, ref=ref)

    def today(self, station_id: int | None) -> date:
        """Today's date at the station (in its time zone), for the follow-up list's first day."""
        zone = ZoneInfo("Asia/Shanghai")
        if station_id is not None:
            with self.db.read() as session:
                zone = self._zone(session, station_id)
        return self.clock.now().astimezone(zone).date()

    # --- the checklist -----------------------------------------------------------------------
    def checklist(self, station_id: int) -> list[ChecklistStep]:
        """The station's crisis plan, one step per line; the standard steps when it has none.
        A plan is not personal: anyone signed in may read it."""
        with self.db.read() as session:
            station = session.get(m.Station, station_id)
            if station is None:
                raise NotFound(_("That station no longer exists."))
            return self._checklist(station)

    @staticmethod
    def _checklist(station: m.Station) -> list[ChecklistStep]:
        own = plan_steps(station.crisis_plan or "")
        if own:
            return [ChecklistStep(key=step, title=step) for step in own]
        return [ChecklistStep(key=a.value, title=a.title) for a in DEFAULT_CHECKLIST]

    # --- raising -----------------------------------------------------------------------------
    def raise_flag(
        self,
        actor: Actor,
        *,
        client_id: int,
        reason: str,
        case_id: int | None = None,
        station_id: int | None = None,
    ) -> CrisisFlagInfo:
        """Flags the client as at risk at a station the counsellor works at (the station of the
        case, else the session's station) and schedules the follow-ups. A client has at most
        one open flag: raising another is refused, pointing to the open one."""
        if not actor.can(Permission.KEEP_CASE_RECORDS):
            self.deny(actor, action="raise_crisis_flag", ref=str(client_id))
        text = _clean_block(reason)
        if not text:
            raise ValidationError(
                {"reason": _("Say in a few words why the person is at risk (required).")}
            )
        if len(text) > MAX_REASON:
            raise ValidationError(
                {
                    "reason": _(
                        "Keep the reason short: at most {max} characters. Write the details "
                        "in the session note."
                    ).format(max=MAX_REASON)
                }
            )
        with self.db.read() as session:
            if case_id is not None:
                case = session.get(m.Case, case_id)
                if case is None or case.client_id != client_id:
                    raise NotFound(_("That case no longer exists."))
                if station_id is None:
                    station_id = case.station_id
        if station_id is None:
            station_id = actor.station_id
        if station_id is None or not self.may_see(actor, station_id):
            self.deny(actor, action="raise_crisis_flag", ref=str(client_id))
        assert station_id is not None
        with self.db.write() as session:
            # Locks the client (on PostgreSQL) so two PCs cannot both raise a first flag.
            client = session.get(m.Client, client_id, with_for_update=True)
            if client is None or client.erased_at is not None:
                raise NotFound(_("That client's record no longer exists."))
            if case_id is not None:
                case = session.get(m.Case, case_id)
                if case is None or case.status is CaseStatus.CLOSED:
                    raise ValidationError(
                        {
                            "case": _(
                                "That case is closed. Raise the flag on the client without a case."
                            )
                        }
                    )
            existing = self._open_row(session, client_id)
            if existing is not None:
                raise Conflict(self._already_open_message(session, existing))
            flag = self._add_flag(
                session,
                client_id=client_id,
                case_id=case_id,
                station_id=station_id,
                source=FlagSource.COUNSELLOR,
                assessment_id=None,
                raised_by=actor.user_id,
                reason=text,
            )
            self.audit.record(
                session,
                actor=actor,
                action="raise_crisis_flag",
                object_type="client",
                object_ref=client.client_code,
                detail=f"flag {flag.id}",
            )
            return self._info(session, flag)

    def raise_from_assessment(
        self,
        session: Session,
        *,
        client_id: int,
        station_id: int,
        assessment_id: int,
        reason_key: str,
        actor: Actor | None = None,
    ) -> CrisisFlagInfo:
        """Called by the assessment service inside its own transaction when a result means the
        person may be at risk. Returns the flag raised, or the one already open (to which nothing
        is added). `reason_key` is a key of `ASSESSMENT_REASONS`; the text is looked
        up when the flag is shown. `actor` (who gave the assessment, if anyone) is named in the
        audit trail. No access check: the calling service has made its own."""
        client = session.get(m.Client, client_id, with_for_update=True)
        if client is None:
            raise NotFound(_("That client's record no longer exists."))
        existing = self._open_row(session, client_id)
        if existing is not None:
            return self._info(session, existing)
        assessment = session.get(m.Assessment, assessment_id)
        flag = self._add_flag(
            session,
            client_id=client_id,
            case_id=assessment.case_id if assessment is not None else None,
            station_id=station_id,
            source=FlagSource.ASSESSMENT,
            assessment_id=assessment_id,
            raised_by=None,
            reason=_ASSESSMENT_PREFIX + reason_key,
        )
        self.audit.record(
            session,
            actor=actor,
            action="raise_crisis_flag",
            object_type="client",
            object_ref=client.client_code,
            detail=f"flag {flag.id}; assessment {assessment_id}",
        )
        return self._info(session, flag)

    def _add_flag(
        self,
        session: Session,
        *,
        client_id: int,
        case_id: int | None,
        station_id: int,
        source: FlagSource,
        assessment_id: int | None,
        raised_by: int | None,
        reason: str,
    ) -> m.CrisisFlag:
        now = self.clock.now()
        flag = m.CrisisFlag(
            client_id=client_id,
            case_id=case_id,
            station_id=station_id,
            source=source,
            assessment_id=assessment_id,
            raised_at=now,
            raised_by=raised_by,
            reason_ciphertext=b"",  # sealed below: the row id is part of what is authenticated
            key_version=0,
            actions=[],
        )
        session.add(flag)
        session.flush()
        flag.reason_ciphertext, flag.key_version = self.vault.seal(
            session, client_id, reason, table=FLAG_TABLE, column="reason", row_id=flag.id
        )
        for after in FOLLOW_UP_AFTER:
            session.add(m.CrisisFollowUp(flag_id=flag.id, due_at=now + after))
        session.flush()
        return flag

    @staticmethod
    def _open_row(session: Session, client_id: int) -> m.CrisisFlag | None:
        return session.scalars(
            select(m.CrisisFlag)
            .where(m.CrisisFlag.client_id == client_id, m.CrisisFlag.cleared_at.is_(None))
            .order_by(m.CrisisFlag.raised_at)
            .limit(1)
        ).first()

    def _already_open_message(self, session: Session, flag: m.CrisisFlag) -> str:
        station = session.get(m.Station, flag.station_id)
        zone = ZoneInfo(station.time_zone) if station else ZoneInfo("Asia/Shanghai")
        return _(
            "This person already has an open crisis flag (raised {date} at {station}). Add to "
            "that flag's follow-ups, or clear it with what was done before raising a new one."
        ).format(
            date=f"{flag.raised_at.astimezone(zone):%Y-%m-%d %H:%M}",
            station=station.name if station else "",
        )

    # --- reading -----------------------------------------------------------------------------
    def has_open_flag(self, actor: Actor, client_id: int) -> bool:
        """Whether to show the banner: True when the client has an open flag this actor may see.

        Never refuses and leaves no trace. The banner is asked for wherever a client appears,
        also on staff's booking screens; a refusal there would flood the trail with denials and,
        by refusing only for flagged clients, tell staff who is at risk. So anyone who may not
        see the flag simply gets False, exactly as for a client without one."""
        if not (Role.COUNSELLOR in actor.roles and actor.can(Permission.KEEP_CASE_RECORDS)):
            return False
        with self.db.read() as session:
            found = session.scalar(
                select(m.CrisisFlag.id)
                .where(
                    m.CrisisFlag.client_id == client_id,
                    m.CrisisFlag.cleared_at.is_(None),
                    m.CrisisFlag.station_id.in_(actor.station_ids),
                )
                .limit(1)
            )
        return found is not None

    def open_flag(self, actor: Actor, client_id: int) -> CrisisFlagInfo | None:
        """The client's open flag with its reason and follow-ups (for the banner), or None.
        Refused (and audited) unless the actor is a counsellor at the flag's station."""
        if not actor.can(Permission.KEEP_CASE_RECORDS) or Role.COUNSELLOR not in actor.roles:
            self.deny(actor, action="view_crisis_flag", ref=str(client_id))
        with self.db.read() as session:
            flag = self._open_row(session, client_id)
            if flag is None:
                return None
            code = self._client_code(session, client_id)
            info = self._info(session, flag) if self.may_see(actor, flag.station_id) else None
        if info is None:
            self.deny(actor, action="view_crisis_flag", ref=code)
            return None  # not reached: deny raises
        self.audit.record_now(
            actor=actor,
            action="view_crisis_flag",
            object_type="client",
            object_ref=code,
            detail=f"flag {info.id}",
        )
        return info

    def flags_for_client(self, actor: Actor, client_id: int) -> list[CrisisFlagInfo]:
        """Every flag (open and cleared, newest first) raised at the stations the counsellor
        works at; flags raised elsewhere are left out."""
        if not actor.can(Permission.KEEP_CASE_RECORDS) or Role.COUNSELLOR not in actor.roles:
            self.deny(actor, action="view_crisis_flag", ref=str(client_id))
        with self.db.read() as session:
            code = self._client_code(session, client_id)
            rows = session.scalars(
                select(m.CrisisFlag)
                .where(
                    m.CrisisFlag.client_id == client_id,
                    m.CrisisFlag.station_id.in_(actor.station_ids),
                )
                .order_by(m.CrisisFlag.raised_at.desc(), m.CrisisFlag.id.desc())
            ).all()
            result = [self._info(session, row) for row in rows]
        self.audit.record_now(
            actor=actor,
            action="view_crisis_flag",
            object_type="client",
            object_ref=code,
            detail=f"{len(result)} flags",
        )
        return result

    def followups_due(
        self, actor: Actor, *, day: date, station_id: int | None = None
    ) -> list[FollowUpItem]:
        """The follow-ups not yet recorded that fall due by the end of `day` (in each station's
        time), at the stations the counsellor works at (or only `station_id`), earliest first.
        Those already due are marked overdue. They stay on the list until recorded, also after
        their flag is cleared."""
        if not actor.can(Permission.KEEP_CASE_RECORDS) or Role.COUNSELLOR not in actor.roles:
            self.deny(actor, action="view_crisis_followups", ref=str(station_id or ""))
        if station_id is not None and station_id not in actor.station_ids:
            self.deny(actor, action="view_crisis_followups", ref=str(station_id))
        stations = {station_id} if station_id is not None else set(actor.station_ids)
        now = self.clock.now()
        # Generous in UTC (zones run from -12 to +14 hours); each is then cut at its own day's end.
        horizon = datetime.combine(day + timedelta(days=2), time.min, tzinfo=ZoneInfo("UTC"))
        items: list[FollowUpItem] = []
        with self.db.read() as session:
            rows = session.execute(
                select(m.CrisisFollowUp, m.CrisisFlag, m.Client.client_code, m.Station)
                .join(m.CrisisFlag, m.CrisisFlag.id == m.CrisisFollowUp.flag_id)
                .join(m.Client, m.Client.id == m.CrisisFlag.client_id)
                .join(m.Station, m.Station.id == m.CrisisFlag.station_id)
                .where(
                    m.CrisisFollowUp.done_at.is_(None),
                    m.CrisisFollowUp.due_at < horizon,
                    m.CrisisFlag.station_id.in_(stations),
                    # An erased person is no longer followed up: nobody can reach them by code.
                    m.Client.erased_at.is_(None),
                )
                .order_by(m.CrisisFollowUp.due_at, m.CrisisFollowUp.id)
            ).all()
            for follow_up, flag, code, station in rows:
                zone = ZoneInfo(station.time_zone)
                end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
                if follow_up.due_at >= end:
                    continue
                items.append(
                    FollowUpItem(
                        id=follow_up.id,
                        flag_id=flag.id,
                        client_id=flag.client_id,
                        client_code=code,
                        station_id=station.id,
                        station_name=station.name,
                        due_at=follow_up.due_at.astimezone(zone),
                        after=follow_up.due_at - flag.raised_at,
                        flag_raised_at=flag.raised_at.astimezone(zone),
                        flag_open=flag.cleared_at is None,
                        overdue=follow_up.due_at < now,
                    )
                )
        self.audit.record_now(
            actor=actor,
            action="view_crisis_followups",
            object_type="station",
            object_ref=",".join(str(s) for s in sorted(stations)),
            detail=day.isoformat(),
        )
        return items

    # --- clearing and following up -----------------------------------------------------------
    def clear_flag(
        self, actor: Actor, flag_id: int, *, actions: frozenset[str], what_was_done: str
    ) -> CrisisFlagInfo:
        """Clears the flag once at least one checklist step is ticked and what was done is
        written down (kept encrypted). Clearing says the immediate danger is handled; the
        follow-ups not yet recorded stay on the counsellors' day until each is recorded, because
        the checks after a crisis matter most once it seems over."""
        with self.db.read() as session:
            flag = session.get(m.CrisisFlag, flag_id)
            if flag is None:
                raise NotFound(_("That crisis flag no longer exists."))
            station_id, code = flag.station_id, self._client_code(session, flag.client_id)
        self._require_at(actor, station_id, action="clear_crisis_flag", ref=code)
        text = _clean_block(what_was_done)
        errors: dict[str, str] = {}
        if not text:
            errors["what_was_done"] = _(
                "Write what was done before clearing the flag: who stayed with the person, whom "
                "you contacted, and what was agreed for the next days."
            )
        elif len(text) > MAX_WHAT_WAS_DONE:
            errors["what_was_done"] = _("That is too long: at most {max} characters.").format(
                max=MAX_WHAT_WAS_DONE
            )
        if not actions:
            errors["actions"] = _("Tick the steps of the checklist that were taken.")
        if errors:
            raise ValidationError(errors)
        with self.db.write() as session:
            flag = session.get(m.CrisisFlag, flag_id, with_for_update=True)
            if flag is None:
                raise NotFound(_("That crisis flag no longer exists."))
            if flag.cleared_at is not None:
                raise Conflict(_("This crisis flag has already been cleared."))
            station = session.get(m.Station, flag.station_id)
            assert station is not None
            known = {step.key for step in self._checklist(station)} | {
                a.value for a in DEFAULT_CHECKLIST
            }
            unknown = sorted(set(actions) - known)
            if unknown:
                raise ValidationError(
                    {
                        "actions": _(
                            "The station's crisis plan has changed meanwhile. Close this window "
                            "and clear the flag again."
                        )
                    }
                )
            blob, version = self.vault.seal(
                session, flag.client_id, text, table=FLAG_TABLE, column="actions", row_id=flag.id
            )
            if version != flag.key_version:
                # One key version per row: the reason moves to the client's current key too.
                reason = self._open_text(session, flag, flag.reason_ciphertext, "reason")
                flag.reason_ciphertext, flag.key_version = self.vault.seal(
                    session,
                    flag.client_id,
                    reason,
                    table=FLAG_TABLE,
                    column="reason",
                    row_id=flag.id,
                )
            flag.actions_ciphertext = blob
            order = [step.key for step in self._checklist(station)]
            flag.actions = sorted(actions, key=lambda k: (order.index(k) if k in order else 99, k))
            flag.cleared_at = self.clock.now()
            flag.cleared_by = actor.user_id
            self.audit.record(
                session,
                actor=actor,
                action="clear_crisis_flag",
                object_type="client",
                object_ref=code,
                detail=f"flag {flag.id}",
            )
            session.flush()
            return self._info(session, flag)

    def record_followup(self, actor: Actor, followup_id: int, *, note: str) -> FollowUpInfo:
        """Records a follow-up check (early is fine), which takes it off the list."""
        with self.db.read() as session:
            row = session.get(m.CrisisFollowUp, followup_id)
            if row is None:
                raise NotFound(_("That follow-up no longer exists."))
            flag = session.get(m.CrisisFlag, row.flag_id)
            assert flag is not None
            station_id, code = flag.station_id, self._client_code(session, flag.client_id)
        self._require_at(actor, station_id, action="record_crisis_followup", ref=code)
        text = _clean_block(note)
        if not text:
            raise ValidationError(
                {
                    "note": _(
                        "Write how the person is and what was agreed (required), even if you "
                        "could not reach them."
                    )
                }
            )
        if len(text) > MAX_FOLLOW_UP_NOTE:
            raise ValidationError(
                {
                    "note": _("That is too long: at most {max} characters.").format(
                        max=MAX_FOLLOW_UP_NOTE
                    )
                }
            )
        with self.db.write() as session:
            row = session.get(m.CrisisFollowUp, followup_id, with_for_update=True)
            if row is None:
                raise NotFound(_("That follow-up no longer exists."))
            if row.done_at is not None:
                raise Conflict(_("This follow-up has already been recorded."))
            flag = session.get(m.CrisisFlag, row.flag_id)
            assert flag is not None
            row.note_ciphertext, row.key_version = self.vault.seal(
                session, flag.client_id, text, table=FOLLOW_UP_TABLE, column="note", row_id=row.id
            )
            row.done_at = self.clock.now()
            row.done_by = actor.user_id
            self.audit.record(
                session,
                actor=actor,
                action="record_crisis_followup",
                object_type="client",
                object_ref=code,
                detail=f"flag {flag.id}; follow-up {row.id}",
            )
            session.flush()
            zone = self._zone(session, flag.station_id)
            names = display_names(session, [row.done_by])
            return self._follow_up(session, flag, row, zone, names)

    # --- building values ---------------------------------------------------------------------
    @staticmethod
    def _client_code(session: Session, client_id: int) -> str:
        code = session.scalar(select(m.Client.client_code).where(m.Client.id == client_id))
        if code is None:
            raise NotFound(_("That client's record no longer exists."))
        return code

    @staticmethod
    def _zone(session: Session, station_id: int) -> ZoneInfo:
        station = session.get(m.Station, station_id)
        return ZoneInfo(station.time_zone if station else "Asia/Shanghai")

    def _open_text(self, session: Session, flag: m.CrisisFlag, blob: bytes, column: str) -> str:
        if not blob:
            return ""  # removed by an erasure or the retention purge; there is nothing to show
        return self.vault.open(
            session,
            flag.client_id,
            blob,
            table=FLAG_TABLE,
            column=column,
            row_id=flag.id,
            key_version=flag.key_version,
        )

    def _follow_up(
        self,
        session: Session,
        flag: m.CrisisFlag,
        row: m.CrisisFollowUp,
        zone: ZoneInfo,
        names: dict[int, str],
    ) -> FollowUpInfo:
        note = ""
        if row.note_ciphertext and row.key_version is not None:
            note = self.vault.open(
                session,
                flag.client_id,
                row.note_ciphertext,
                table=FOLLOW_UP_TABLE,
                column="note",
                row_id=row.id,
                key_version=row.key_version,
            )
        return FollowUpInfo(
            id=row.id,
            due_at=row.due_at.astimezone(zone),
            after=row.due_at - flag.raised_at,
            done_at=row.done_at.astimezone(zone) if row.done_at else None,
            done_by_name=names.get(row.done_by, "") if row.done_by else "",
            note=note,
        )

    def _info(self, session: Session, flag: m.CrisisFlag) -> CrisisFlagInfo:
        station = session.get(m.Station, flag.station_id)
        assert station is not None
        zone = ZoneInfo(station.time_zone)
        follow_rows = session.scalars(
            select(m.CrisisFollowUp)
            .where(m.CrisisFollowUp.flag_id == flag.id)
            .order_by(m.CrisisFollowUp.due_at, m.CrisisFollowUp.id)
        ).all()
        names = display_names(
            session, [flag.raised_by, flag.cleared_by, *(r.done_by for r in follow_rows)]
        )
        reason = self._open_text(session, flag, flag.reason_ciphertext, "reason")
        if flag.source is FlagSource.ASSESSMENT and reason.startswith(_ASSESSMENT_PREFIX):
            reason = assessment_reason(reason.removeprefix(_ASSESSMENT_PREFIX))
        done = (
            self._open_text(session, flag, flag.actions_ciphertext, "actions")
            if flag.actions_ciphertext is not None
            else ""
        )
        return CrisisFlagInfo(
            id=flag.id,
            client_id=flag.client_id,
            client_code=self._client_code(session, flag.client_id),
            case_id=flag.case_id,
            station_id=flag.station_id,
            station_name=station.name,
            source=flag.source,
            raised_at=flag.raised_at.astimezone(zone),
            raised_by_name=names.get(flag.raised_by, "") if flag.raised_by else "",
            reason=reason,
            cleared_at=flag.cleared_at.astimezone(zone) if flag.cleared_at else None,
            cleared_by_name=names.get(flag.cleared_by, "") if flag.cleared_by else "",
            actions=tuple(flag.actions or ()),
            what_was_done=done,
            follow_ups=tuple(self._follow_up(session, flag, r, zone, names) for r in follow_rows),
        )
