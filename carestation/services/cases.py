"""Cases (个案): an episode of care for one client with one counsellor, from opening to a closing
summary and outcome.

Who may see a case is decided by the relationship, not by role alone: its counsellor, the
supervisor of the case's station (`station.supervisor_id`), and counsellors who wrote or were
named to co-sign a note in it. Everybody else, staff, managers and administrators included, is
refused, and the refusal is audited. Only the case's counsellor changes it. The closing summary
is encrypted under the client's data key; the audit trail names the case by client code only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from carestation.db import models as m
from carestation.db.engine import Database
from carestation.domain.errors import (
    CareStationError,
    Conflict,
    KeyUnavailable,
    NotFound,
    ValidationError,
)
from carestation.domain.records import (
    TIMELINE_ORDER,
    CaseDetail,
    CaseSummary,
    TimelineItem,
    TimelineKind,
)
from carestation.domain.roles import Permission, Role
from carestation.domain.values import Actor
from carestation.domain.vocab import (
    AppointmentStatus,
    CaseOutcome,
    CaseStatus,
    ConsentPurpose,
    CounsellorKind,
    RiskLevel,
    Topic,
)
from carestation.i18n import _
from carestation.security import crypto
from carestation.services.audit import AuditLog
from carestation.services.base import Service
from carestation.services.clock import Clock
from carestation.services.consent_rules import require_consent
from carestation.services.crisis import open_flag_blocking_case
from carestation.services.keys import KeyVault

MAX_SUMMARY_CHARS = 20_000
_Q = TypeVar("_Q", bound=Select[Any])
_TOPIC_ORDER = {t: i for i, t in enumerate(Topic)}


# -- shared by the confidential-record services ---------------------------------------------------


class Refusal(Exception):
    """Raised inside a transaction when the actor may not do this; turned into an audited
    PermissionDenied once the transaction has ended (a refusal writes its own entry)."""

    def __init__(self, action: str, ref: str = "") -> None:
        super().__init__(action)
        self.action = action
        self.ref = ref


class OpenFailed(Exception):
    """A protected text could not be opened (wrong key, damaged or moved ciphertext, erased
    client key). Carries the user-facing error, which is re-raised after a "failed" entry."""

    def __init__(self, error: CareStationError, *, action: str, object_type: str, ref: str) -> None:
        super().__init__(action)
        self.error = error
        self.action = action
        self.object_type = object_type
        self.ref = ref


OPEN_ERRORS = (crypto.WrongKey, crypto.TamperedCiphertext, KeyUnavailable)


def counsellor_kind(session: Session, user_id: int) -> CounsellorKind | None:
    return session.scalar(
        select(m.CounsellorProfile.kind).where(m.CounsellorProfile.user_id == user_id)
    )


def may_see_item_answers(session: Session, actor: Actor) -> bool:
    """Whether the actor may see a questionnaire's item-by-item answers. Mind mentors (part-time
    EAP volunteers) see totals and bands only; experts and emotion regulators see the answers."""
    if not actor.can(Permission.KEEP_CASE_RECORDS):
        return False
    return counsellor_kind(session, actor.user_id) in (
        CounsellorKind.EXPERT,
        CounsellorKind.REGULATOR,
    )


def station_supervisor(session: Session, station_id: int) -> int | None:
    return session.scalar(select(m.Station.supervisor_id).where(m.Station.id == station_id))


def case_visible_to(user_id: int) -> ColumnElement[bool]:
    """SQL condition: the case is one `user_id` may see."""
    return or_(
        m.Case.counsellor_id == user_id,
        m.Case.station_id.in_(select(m.Station.id).where(m.Station.supervisor_id == user_id)),
        m.Case.id.in_(
            select(m.SessionNote.case_id).where(
                m.SessionNote.case_id.is_not(None),
                or_(m.SessionNote.author_id == user_id, m.SessionNote.cosigner_id == user_id),
            )
        ),
    )


def local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


def local_or_none(moment: datetime | None, zone: str) -> datetime | None:
    return None if moment is None else local(moment, zone)


class RecordsService(Service):
    """A service over confidential records: holds the key vault, and turns refusals and
    failures to open a protected text into audit entries written in their own transaction."""

    def __init__(self, db: Database, audit: AuditLog, clock: Clock, vault: KeyVault) -> None:
        super().__init__(db, audit, clock)
        self.vault = vault

    @contextmanager
    def guarded(self, actor: Actor) -> Iterator[None]:
        """Wrap the transaction in this: a Refusal or OpenFailed raised inside it rolls the
        transaction back first, then is audited (denied / failed) and raised as the user's
        error. Nothing garbled is ever returned and nothing is overwritten."""
        try:
            yield
        except Refusal as refusal:
            self.deny(actor, action=refusal.action, ref=refusal.ref)
            raise  # deny() always raises; this is never reached
        except OpenFailed as failure:
            self.audit.record_now(
                actor=actor,
                action=failure.action,
                object_type=failure.object_type,
                object_ref=failure.ref,
                result="failed",
                detail=type(failure.error).__name__,
            )
            raise failure.error from None

    def open_text(
        self,
        session: Session,
        client_id: int,
        blob: bytes | None,
        *,
        table: str,
        column: str,
        row_id: int,
        key_version: int | None,
        action: str,
        object_type: str,
        ref: str,
    ) -> str:
        try:
            if not blob or key_version is None:
                raise crypto.TamperedCiphertext(
                    _("A protected text is damaged and cannot be read.")
                )
            return self.vault.open(
                session,
                client_id,
                blob,
                table=table,
                column=column,
                row_id=row_id,
                key_version=key_version,
            )
        except OPEN_ERRORS as exc:
            raise OpenFailed(exc, action=action, object_type=object_type, ref=ref) from exc

    def lock_query(self, query: _Q) -> _Q:
        """Row locks on PostgreSQL; SQLite's write transaction already holds the database."""
        return query if self.db.is_sqlite else query.with_for_update()

    def ensure_key(self) -> None:
        """Unlocks (or, in tests, makes) the key before a write transaction starts, so a locked
        vault is a clear message and never a half-done write."""
        _kek = self.vault.kek


# -- cases ----------------------------------------------------------------------------------------


def _stale_case() -> Conflict:
    return Conflict(
        _(
            "Someone changed this case a moment ago (perhaps in another window). Reopen the case "
            "to see the latest version, then make your change again."
        )
    )


def _closed_case() -> Conflict:
    return Conflict(_("This case is closed and can no longer be changed."))


def _check_topics(topics: Iterable[Topic | str]) -> frozenset[Topic]:
    try:
        chosen = frozenset(Topic(t) for t in topics)
    except ValueError as exc:
        raise ValidationError({"topics": _("Choose the topics from the list.")}) from exc
    if not chosen:
        raise ValidationError({"topics": _("Choose at least one topic for the case.")})
    return chosen


class CaseService(RecordsService):
    # --- reading helpers -----------------------------------------------------------------------

    def _case(self, session: Session, case_id: int, *, lock: bool = False) -> m.Case:
        query = select(m.Case).where(m.Case.id == case_id)
        row = session.scalars(self.lock_query(query) if lock else query).first()
        if row is None:
            raise NotFound(_("That case no longer exists."))
        return row

    @staticmethod
    def _code(session: Session, client_id: int) -> str:
        return session.scalar(select(m.Client.client_code).where(m.Client.id == client_id)) or ""

    @staticmethod
    def _can_see(session: Session, actor: Actor, case_id: int) -> bool:
        if not actor.can(Permission.KEEP_CASE_RECORDS):
            return False
        found = session.scalar(
            select(m.Case.id).where(m.Case.id == case_id, case_visible_to(actor.user_id))
        )
        return found is not None

    @staticmethod
    def _may_read_summary(session: Session, actor: Actor, case: m.Case) -> bool:
        return actor.can(Permission.KEEP_CASE_RECORDS) and actor.user_id in (
            case.counsellor_id,
            station_supervisor(session, case.station_id),
        )

    @staticmethod
    def _summaries(session: Session, condition: ColumnElement[bool]) -> list[CaseSummary]:
        counsellor = aliased(m.UserAccount)
        query = (
            select(
                m.Case,
                m.Client.client_code,
                m.Station.name,
                m.Station.time_zone,
                counsellor.display_name,
            )
            .join(m.Client, m.Client.id == m.Case.client_id)
            .join(m.Station, m.Station.id == m.Case.station_id)
            .join(counsellor, counsellor.id == m.Case.counsellor_id)
            .where(condition)
            .options(selectinload(m.Case.topics))
            .order_by(m.Case.opened_at.desc(), m.Case.id.desc())
        )
        return [
            CaseSummary(
                id=case.id,
                client_id=case.client_id,
                client_code=code,
                station_id=case.station_id,
                station_name=station_name,
                counsellor_id=case.counsellor_id,
                counsellor_name=counsellor_name,
                status=case.status,
                risk_level=case.risk_level,
                outcome=case.outcome,
                topics=tuple(sorted((t.topic for t in case.topics), key=_TOPIC_ORDER.__getitem__)),
                opened_at=local(case.opened_at, zone),
                closed_at=local_or_none(case.closed_at, zone),
                version=case.version,
            )
            for case, code, station_name, zone, counsellor_name in session.execute(query)
        ]

    def _summary(self, session: Session, case_id: int) -> CaseSummary:
        session.flush()
        found = self._summaries(session, m.Case.id == case_id)
        if not found:
            raise NotFound(_("That case no longer exists."))
        return found[0]

    def _load_for_change(
        self, session: Session, actor: Actor, case_id: int, action: str, expected_version: int
    ) -> m.Case:
        """The case, locked, if the actor is its counsellor and it is open at the version the
        actor last saw."""
        case = self._case(session, case_id, lock=True)
        if not actor.can(Permission.KEEP_CASE_RECORDS) or case.counsellor_id != actor.user_id:
            raise Refusal(action, self._code(session, case.client_id))
        if case.status is not CaseStatus.OPEN:
            raise _closed_case()
        if case.version != expected_version:
            raise _stale_case()
        return case

    # --- opening -------------------------------------------------------------------------------

    def open_case(
        self,
        actor: Actor,
        *,
        client_id: int,
        topics: Iterable[Topic],
        risk_level: RiskLevel,
        station_id: int | None = None,
    ) -> CaseSummary:
        """Opens a case for a client, with the acting counsellor as its counsellor, at a station
        where they work (the station of this session unless another is given)."""
        station = station_id if station_id is not None else actor.station_id
        if (
            not actor.can(Permission.KEEP_CASE_RECORDS)
            or Role.COUNSELLOR not in actor.roles
            or (station is not None and station not in actor.station_ids)
        ):
            self.deny(actor, action="open_case", ref=str(client_id))
        if station is None:
            raise ValidationError(
                {"station_id": _("Choose the station where the case is followed.")}
            )
        chosen = _check_topics(topics)
        try:
            risk = RiskLevel(risk_level)
        except ValueError as exc:
            raise ValidationError({"risk_level": _("Choose a risk level.")}) from exc
        with self.db.write() as session:
            if session.get(m.Station, station) is None:
                raise NotFound(_("That station no longer exists."))
            client = session.get(m.Client, client_id)
            if client is None:
                raise NotFound(_("That client's record no longer exists."))
            if client.erased_at is not None:
                raise Conflict(
                    _(
                        "This client's record was erased at their request; a case cannot be "
                        "opened for it. Register the person again if they come back."
                    )
                )
            require_consent(session, client_id, ConsentPurpose.COUNSELLING)
            existing = session.scalars(
                select(m.Case).where(
                    m.Case.client_id == client_id,
                    m.Case.counsellor_id == actor.user_id,
                    m.Case.status == CaseStatus.OPEN,
                )
            ).first()
            if existing is not None:
                raise Conflict(
                    _(
                        "You already have an open case for this client (opened {date}). "
                        "Continue that case, or close it before opening a new one."
                    ).format(date=f"{existing.opened_at:%Y-%m-%d}")
                )
            case = m.Case(
                client_id=client_id,
                station_id=station,
                counsellor_id=actor.user_id,
                status=CaseStatus.OPEN,
                risk_level=risk,
                opened_at=self.clock.now(),
                version=1,
                topics=[m.CaseTopic(topic=t) for t in sorted(chosen, key=_TOPIC_ORDER.__getitem__)],
            )
            session.add(case)
            session.flush()
            self.audit.record(
                session,
                actor=actor,
                action="open_case",
                object_type="case",
                object_ref=client.client_code,
            )
            return self._summary(session, case.id)

    # --- changing ------------------------------------------------------------------------------

    def attach_appointment(self, actor: Actor, case_id: int, appointment_id: int) -> CaseSummary:
        """Links one of the client's appointments to the case (its sessions, a pod session ...).
        Only the case's counsellor, while the case is open."""
        with self.guarded(actor), self.db.write() as session:
            case = self._case(session, case_id, lock=True)
            code = self._code(session, case.client_id)
            if not actor.can(Permission.KEEP_CASE_RECORDS) or case.counsellor_id != actor.user_id:
                raise Refusal("link_case_appointment", code)
            if case.status is not CaseStatus.OPEN:
                raise _closed_case()
            appointment = session.scalars(
                self.lock_query(select(m.Appointment).where(m.Appointment.id == appointment_id))
            ).first()
            if appointment is None:
                raise NotFound(_("That appointment no longer exists."))
            if appointment.client_id != case.client_id:
                raise Conflict(
                    _(
                        "This appointment is for another client. Only the case client's own "
                        "appointments can be added to the case."
                    )
                )
            if appointment.case_id == case.id:
                return self._summary(session, case.id)
            if appointment.case_id is not None:
                raise Conflict(
                    _("This appointment already belongs to another case. Open that case to see it.")
                )
            if appointment.status is AppointmentStatus.CANCELLED:
                raise Conflict(
                    _(
                        "This appointment was cancelled; only held or booked sessions belong to a case."
                    )
                )
            appointment.case_id = case.id
            # A note already written on the appointment follows it into the case.
            note = session.scalars(
                select(m.SessionNote).where(m.SessionNote.appointment_id == appointment.id)
            ).first()
            if note is not None and note.case_id is None:
                note.case_id = case.id
            self.audit.record(
                session,
                actor=actor,
                action="link_case_appointment",
                object_type="case",
                object_ref=code,
            )
            return self._summary(session, case.id)

    def update_case(
        self,
        actor: Actor,
        case_id: int,
        *,
        topics: Iterable[Topic],
        risk_level: RiskLevel,
        expected_version: int,
    ) -> CaseSummary:
        chosen = _check_topics(topics)
        try:
            risk = RiskLevel(risk_level)
        except ValueError as exc:
            raise ValidationError({"risk_level": _("Choose a risk level.")}) from exc
        with self.guarded(actor), self.db.write() as session:
            case = self._load_for_change(session, actor, case_id, "update_case", expected_version)
            changed: list[str] = []
            current = {t.topic for t in case.topics}
            if current != chosen:
                changed.append("topics")
                for row in [t for t in case.topics if t.topic not in chosen]:
                    case.topics.remove(row)
                for topic in sorted(chosen - current, key=_TOPIC_ORDER.__getitem__):
                    case.topics.append(m.CaseTopic(topic=topic))
            if case.risk_level is not risk:
                changed.append(f"risk_level {case.risk_level.value}->{risk.value}")
                case.risk_level = risk
            if changed:
                case.version += 1
                self.audit.record(
                    session,
                    actor=actor,
                    action="update_case",
                    object_type="case",
                    object_ref=self._code(session, case.client_id),
                    detail="; ".join(changed),
                )
            return self._summary(session, case.id)

    def close_case(
        self,
        actor: Actor,
        case_id: int,
        *,
        outcome: CaseOutcome,
        summary: str,
        expected_version: int,
    ) -> CaseSummary:
        """Closes the case with its outcome and a closing summary (encrypted). Refused while a
        crisis flag of the case, or of the client outside any case, is still open."""
        self.ensure_key()
        with self.guarded(actor), self.db.write() as session:
            case = self._load_for_change(session, actor, case_id, "close_case", expected_version)
            errors: dict[str, str] = {}
            try:
                result = CaseOutcome(outcome)
            except ValueError:
                errors["outcome"] = _("Choose the outcome of the case.")
            text = (summary or "").strip()
            if not text:
                errors["summary"] = _(
                    "Write a closing summary: what the work was about and how it ended."
                )
            elif len(text) > MAX_SUMMARY_CHARS:
                errors["summary"] = _(
                    "The closing summary is too long; keep it under {count} characters."
                ).format(count=MAX_SUMMARY_CHARS)
            if errors:
                raise ValidationError(errors)
            open_flags = open_flag_blocking_case(session, case.id)
            if open_flags is not None:
                raise Conflict(
                    _(
                        "This client has an open crisis flag. Clear it (recording what was done) "
                        "before closing the case."
                    )
                )
            blob, key_version = self.vault.seal(
                session, case.client_id, text, table="care_case", column="summary", row_id=case.id
            )
            case.summary_ciphertext = blob
            case.key_version = key_version
            case.status = CaseStatus.CLOSED
            case.outcome = result
            case.closed_at = self.clock.now()
            case.closed_by = actor.user_id
            case.version += 1
            self.audit.record(
                session,
                actor=actor,
                action="close_case",
                object_type="case",
                object_ref=self._code(session, case.client_id),
                detail=result.value,
            )
            return self._summary(session, case.id)

    # --- reading -------------------------------------------------------------------------------

    def get_case(self, actor: Actor, case_id: int) -> CaseDetail:
        """The case; with its closing summary for the counsellor and the station's supervisor."""
        with self.guarded(actor), self.db.read() as session:
            case = self._case(session, case_id)
            code = self._code(session, case.client_id)
            if not self._can_see(session, actor, case.id):
                raise Refusal("view_case", code)
            closing: str | None = None
            if case.summary_ciphertext is not None and self._may_read_summary(session, actor, case):
                closing = self.open_text(
                    session,
                    case.client_id,
                    case.summary_ciphertext,
                    table="care_case",
                    column="summary",
                    row_id=case.id,
                    key_version=case.key_version,
                    action="view_case",
                    object_type="case",
                    ref=code,
                )
            closed_by = ""
            if case.closed_by is not None:
                closed_by = (
                    session.scalar(
                        select(m.UserAccount.display_name).where(m.UserAccount.id == case.closed_by)
                    )
                    or ""
                )
            detail = CaseDetail(
                case=self._summary(session, case.id),
                closing_summary=closing,
                closed_by_name=closed_by,
            )
        self.audit.record_now(actor=actor, action="view_case", object_type="case", object_ref=code)
        return detail

    def cases_for_client(self, actor: Actor, client_id: int) -> list[CaseSummary]:
        """The client's cases that the actor may see (newest first)."""
        self.require(
            actor, Permission.KEEP_CASE_RECORDS, action="view_client_cases", ref=str(client_id)
        )
        with self.db.read() as session:
            code = self._code(session, client_id)
            if not code:
                raise NotFound(_("That client's record no longer exists."))
            rows = self._summaries(
                session, and_(m.Case.client_id == client_id, case_visible_to(actor.user_id))
            )
        self.audit.record_now(
            actor=actor, action="view_client_cases", object_type="client", object_ref=code
        )
        return rows

    def my_cases(self, actor: Actor, *, status: CaseStatus | None = None) -> list[CaseSummary]:
        """The cases the actor counsels (optionally only open or closed ones) and, for a
        station's supervisor, the open cases of that station."""
        self.require(actor, Permission.KEEP_CASE_RECORDS, action="list_my_cases")
        own: ColumnElement[bool] = m.Case.counsellor_id == actor.user_id
        if status is not None:
            own = and_(own, m.Case.status == CaseStatus(status))
        condition: ColumnElement[bool] = own
        if status is None or CaseStatus(status) is CaseStatus.OPEN:
            supervised = and_(
                m.Case.status == CaseStatus.OPEN,
                m.Case.station_id.in_(
                    select(m.Station.id).where(m.Station.supervisor_id == actor.user_id)
                ),
            )
            condition = or_(own, supervised)
        with self.db.read() as session:
            return self._summaries(session, condition)

    def timeline(self, actor: Actor, case_id: int) -> list[TimelineItem]:
        """What happened in the case, in time order: opened, appointments, notes (status only),
        assessments (instrument, total, band), crisis flags and their follow-ups, closed."""
        with self.guarded(actor), self.db.read() as session:
            case = self._case(session, case_id)
            code = self._code(session, case.client_id)
            if not self._can_see(session, actor, case.id):
                raise Refusal("view_case_timeline", code)
            zone = (
                session.scalar(select(m.Station.time_zone).where(m.Station.id == case.station_id))
                or "Asia/Shanghai"
            )
            items = self._timeline_items(session, case, zone)
        self.audit.record_now(
            actor=actor, action="view_case_timeline", object_type="case", object_ref=code
        )
        return items

    def _timeline_items(self, session: Session, case: m.Case, zone: str) -> list[TimelineItem]:
        items = [TimelineItem(at=local(case.opened_at, zone), kind=TimelineKind.CASE_OPENED)]
        appointments = list(
            session.scalars(select(m.Appointment).where(m.Appointment.case_id == case.id))
        )
        for a in appointments:
            items.append(
                TimelineItem(
                    at=local(a.starts_at, zone),
                    kind=TimelineKind.APPOINTMENT,
                    ref_id=a.id,
                    appointment_id=a.id,
                    appointment_type=a.type,
                    appointment_status=a.status,
                )
            )
        addenda = (
            select(func.count())
            .where(m.NoteAddendum.note_id == m.SessionNote.id)
            .correlate(m.SessionNote)
            .scalar_subquery()
        )
        author = aliased(m.UserAccount)
        notes = session.execute(
            select(m.SessionNote, author.display_name, addenda)
            .join(author, author.id == m.SessionNote.author_id)
            .where(m.SessionNote.case_id == case.id)
        )
        for note, author_name, addenda_count in notes:
            items.append(
                TimelineItem(
                    at=local(note.created_at, zone),
                    kind=TimelineKind.NOTE,
                    ref_id=note.id,
                    appointment_id=note.appointment_id,
                    note_status=note.status,
                    addenda_count=int(addenda_count or 0),
                    author_name=author_name,
                )
            )
        appointment_ids = [a.id for a in appointments]
        in_case = m.Assessment.case_id == case.id
        if appointment_ids:
            in_case = or_(in_case, m.Assessment.appointment_id.in_(appointment_ids))
        for taken in session.scalars(select(m.Assessment).where(in_case)):
            items.append(
                TimelineItem(
                    at=local(taken.taken_at, zone),
                    kind=TimelineKind.ASSESSMENT,
                    ref_id=taken.id,
                    appointment_id=taken.appointment_id,
                    instrument=taken.instrument,
                    total=taken.total,
                    band=taken.band,
                )
            )
        # The case's own flags, and the client's flags outside any case raised while it was open.
        until = case.closed_at or self.clock.now()
        flags = list(
            session.scalars(
                select(m.CrisisFlag).where(
                    or_(
                        m.CrisisFlag.case_id == case.id,
                        and_(
                            m.CrisisFlag.case_id.is_(None),
                            m.CrisisFlag.client_id == case.client_id,
                            m.CrisisFlag.raised_at >= case.opened_at,
                            m.CrisisFlag.raised_at <= until,
                        ),
                    )
                )
            )
        )
        for flag in flags:
            items.append(
                TimelineItem(
                    at=local(flag.raised_at, zone),
                    kind=TimelineKind.FLAG_RAISED,
                    ref_id=flag.id,
                    flag_id=flag.id,
                )
            )
            if flag.cleared_at is not None:
                items.append(
                    TimelineItem(
                        at=local(flag.cleared_at, zone),
                        kind=TimelineKind.FLAG_CLEARED,
                        ref_id=flag.id,
                        flag_id=flag.id,
                    )
                )
        if flags:
            follow_ups = session.scalars(
                select(m.CrisisFollowUp).where(m.CrisisFollowUp.flag_id.in_([f.id for f in flags]))
            )
            for f in follow_ups:
                items.append(
                    TimelineItem(
                        at=local(f.done_at or f.due_at, zone),
                        kind=TimelineKind.FOLLOW_UP,
                        ref_id=f.id,
                        flag_id=f.flag_id,
                        done=f.done_at is not None,
                    )
                )
        if case.closed_at is not None:
            items.append(
                TimelineItem(
                    at=local(case.closed_at, zone),
                    kind=TimelineKind.CASE_CLOSED,
                    outcome=case.outcome,
                )
            )
        items.sort(key=lambda i: (i.at, TIMELINE_ORDER[i.kind], i.ref_id or 0))
        return items
