"""Confidential session notes: a draft saved as the counsellor types, signed once (and co-signed
by an expert when an emotion regulator or a mind mentor wrote it), then never changed again;
later additions are dated addenda.

The note's sections are stored as one JSON text, encrypted under the client's data key and
bound to its row. Readers are the author, the supervisor of the appointment's station, and the
named co-signer; everybody else is refused (and the refusal audited). Every read is audited; a
text that cannot be opened is never shown garbled: the failure is audited and its message raised.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, aliased

from carestation.db import models as m
from carestation.domain.errors import Conflict, NotFound, ValidationError
from carestation.domain.records import (
    MAX_SECTION_CHARS,
    Addendum,
    Colleague,
    Note,
    NoteHeader,
    section_title,
    template_sections,
)
from carestation.domain.roles import Permission, Role
from carestation.domain.values import Actor
from carestation.domain.vocab import (
    AppointmentStatus,
    CaseStatus,
    ConsentPurpose,
    CounsellorKind,
    NoteStatus,
    NoteTemplate,
)
from carestation.i18n import _
from carestation.services.cases import (
    RecordsService,
    Refusal,
    case_visible_to,
    counsellor_kind,
    local,
    local_or_none,
    may_see_item_answers,
    station_supervisor,
)
from carestation.services.consent_rules import require_consent

__all__ = ["NoteService", "may_see_item_answers"]

NOTE_TABLE = "session_note"
ADDENDUM_TABLE = "note_addendum"


def _stale_note() -> Conflict:
    return Conflict(
        _(
            "This note was changed in another window a moment ago. Close this one and open the "
            "session's note again to continue from the latest version; the text here was not saved."
        )
    )


def _signed_note() -> Conflict:
    return Conflict(
        _(
            "This note is signed and can no longer be changed. Add an addendum to correct or "
            "complete it."
        )
    )


def check_sections(
    template: NoteTemplate | str, sections: Mapping[str, str]
) -> tuple[NoteTemplate, dict[str, str]]:
    """The template and every one of its sections, in order (missing ones empty). The text is
    kept exactly as typed."""
    try:
        chosen = NoteTemplate(template)
    except ValueError as exc:
        raise ValidationError({"template": _("Choose a note template.")}) from exc
    names = template_sections(chosen)
    errors: dict[str, str] = {}
    for name, value in sections.items():
        if name not in names:
            errors["sections"] = _("The {template} template has no section called {name}.").format(
                template=chosen.title, name=name
            )
        elif value is not None and not isinstance(value, str):
            errors[name] = _("{section}: enter text.").format(section=section_title(name))
        elif value and len(value) > MAX_SECTION_CHARS:
            errors[name] = _("{section} is too long; keep it under {count} characters.").format(
                section=section_title(name), count=MAX_SECTION_CHARS
            )
    if errors:
        raise ValidationError(errors)
    return chosen, {name: sections.get(name) or "" for name in names}


def decode_sections(template: NoteTemplate, text: str) -> dict[str, str]:
    """A decrypted note body (JSON of its sections) as every section of its template."""
    data = json.loads(text)
    if not isinstance(data, dict):
        data = {}
    return {name: str(data.get(name) or "") for name in template_sections(template)}


def may_read_note(actor: Actor, note: m.SessionNote, supervisor_id: int | None) -> bool:
    """The one rule for reading a note's text: its author, its named co-signer and the supervisor
    of the appointment's station, and only as a counsellor, whatever the reader's other roles."""
    if not actor.can(Permission.KEEP_CASE_RECORDS):
        return False
    return actor.user_id in (note.author_id, note.cosigner_id, supervisor_id)


class NoteService(RecordsService):
    # --- loading -------------------------------------------------------------------------------

    def _appointment(self, session: Session, appointment_id: int, *, lock: bool) -> m.Appointment:
        query = select(m.Appointment).where(m.Appointment.id == appointment_id)
        row = session.scalars(self.lock_query(query) if lock else query).first()
        if row is None:
            raise NotFound(_("That appointment no longer exists."))
        return row

    def _note(
        self, session: Session, note_id: int, *, lock: bool
    ) -> tuple[m.SessionNote, m.Appointment, str]:
        query = select(m.SessionNote).where(m.SessionNote.id == note_id)
        note = session.scalars(self.lock_query(query) if lock else query).first()
        if note is None:
            raise NotFound(_("That note no longer exists."))
        appointment = self._appointment(session, note.appointment_id, lock=False)
        return note, appointment, self._code(session, appointment.client_id)

    @staticmethod
    def _code(session: Session, client_id: int | None) -> str:
        if client_id is None:
            return ""
        return session.scalar(select(m.Client.client_code).where(m.Client.id == client_id)) or ""

    @staticmethod
    def _may_read(
        session: Session, actor: Actor, note: m.SessionNote, appointment: m.Appointment
    ) -> bool:
        return may_read_note(actor, note, station_supervisor(session, appointment.station_id))

    def _sections(
        self,
        session: Session,
        note: m.SessionNote,
        appointment: m.Appointment,
        code: str,
        *,
        action: str,
    ) -> dict[str, str]:
        assert appointment.client_id is not None
        text = self.open_text(
            session,
            appointment.client_id,
            note.body_ciphertext,
            table=NOTE_TABLE,
            column="body",
            row_id=note.id,
            key_version=note.key_version,
            action=action,
            object_type="note",
            ref=code,
        )
        return decode_sections(note.template, text)

    def _addenda(
        self,
        session: Session,
        note: m.SessionNote,
        appointment: m.Appointment,
        code: str,
        zone: str,
        *,
        action: str,
    ) -> tuple[Addendum, ...]:
        assert appointment.client_id is not None
        rows = session.execute(
            select(m.NoteAddendum, m.UserAccount.display_name)
            .join(m.UserAccount, m.UserAccount.id == m.NoteAddendum.author_id)
            .where(m.NoteAddendum.note_id == note.id)
            .order_by(m.NoteAddendum.created_at, m.NoteAddendum.id)
        )
        return tuple(
            Addendum(
                id=row.id,
                note_id=note.id,
                author_id=row.author_id,
                author_name=name,
                created_at=local(row.created_at, zone),
                text=self.open_text(
                    session,
                    appointment.client_id,
                    row.body_ciphertext,
                    table=ADDENDUM_TABLE,
                    column="body",
                    row_id=row.id,
                    key_version=row.key_version,
                    action=action,
                    object_type="note",
                    ref=code,
                ),
            )
            for row, name in rows
        )

    @staticmethod
    def _name(session: Session, user_id: int | None) -> str:
        if user_id is None:
            return ""
        return (
            session.scalar(select(m.UserAccount.display_name).where(m.UserAccount.id == user_id))
            or ""
        )

    @staticmethod
    def _zone(session: Session, station_id: int) -> str:
        return (
            session.scalar(select(m.Station.time_zone).where(m.Station.id == station_id))
            or "Asia/Shanghai"
        )

    def _value(
        self,
        session: Session,
        note: m.SessionNote,
        appointment: m.Appointment,
        code: str,
        sections: Mapping[str, str],
        addenda: tuple[Addendum, ...] = (),
    ) -> Note:
        zone = self._zone(session, appointment.station_id)
        return Note(
            id=note.id,
            appointment_id=note.appointment_id,
            case_id=note.case_id,
            client_code=code,
            station_id=appointment.station_id,
            appointment_starts_at=local(appointment.starts_at, zone),
            author_id=note.author_id,
            author_name=self._name(session, note.author_id),
            template=note.template,
            sections=dict(sections),
            status=note.status,
            version=note.version,
            created_at=local(note.created_at, zone),
            updated_at=local(note.updated_at, zone),
            signed_at=local_or_none(note.signed_at, zone),
            cosigner_id=note.cosigner_id,
            cosigner_name=self._name(session, note.cosigner_id),
            cosigned_at=local_or_none(note.cosigned_at, zone),
            addenda=addenda,
        )

    @staticmethod
    def _headers(session: Session, condition: ColumnElement[bool], *order: Any) -> list[NoteHeader]:
        author = aliased(m.UserAccount)
        cosigner = aliased(m.UserAccount)
        addenda = (
            select(func.count())
            .where(m.NoteAddendum.note_id == m.SessionNote.id)
            .correlate(m.SessionNote)
            .scalar_subquery()
        )
        query = (
            select(
                m.SessionNote,
                m.Appointment.starts_at,
                m.Station.time_zone,
                m.Client.client_code,
                author.display_name,
                cosigner.display_name,
                addenda,
            )
            .join(m.Appointment, m.Appointment.id == m.SessionNote.appointment_id)
            .join(m.Station, m.Station.id == m.Appointment.station_id)
            .join(m.Client, m.Client.id == m.Appointment.client_id)
            .join(author, author.id == m.SessionNote.author_id)
            .outerjoin(cosigner, cosigner.id == m.SessionNote.cosigner_id)
            .where(condition)
            .order_by(*order)
        )
        return [
            NoteHeader(
                id=note.id,
                appointment_id=note.appointment_id,
                case_id=note.case_id,
                client_code=code,
                appointment_starts_at=local(starts_at, zone),
                author_id=note.author_id,
                author_name=author_name,
                template=note.template,
                status=note.status,
                version=note.version,
                created_at=local(note.created_at, zone),
                updated_at=local(note.updated_at, zone),
                signed_at=local_or_none(note.signed_at, zone),
                cosigner_id=note.cosigner_id,
                cosigner_name=cosigner_name or "",
                cosigned_at=local_or_none(note.cosigned_at, zone),
                addenda_count=int(count or 0),
            )
            for note, starts_at, zone, code, author_name, cosigner_name, count in session.execute(
                query
            )
        ]

    def _header(self, session: Session, note_id: int) -> NoteHeader:
        session.flush()
        return self._headers(session, m.SessionNote.id == note_id, m.SessionNote.id)[0]

    # --- writing the draft ---------------------------------------------------------------------

    def save_draft(
        self,
        actor: Actor,
        *,
        appointment_id: int,
        template: NoteTemplate,
        sections: Mapping[str, str],
        expected_version: int | None,
        case_id: int | None = None,
    ) -> Note:
        """Creates the session's note (`expected_version` None) or saves the draft over the
        version the window last saw. Called by autosave: one short transaction, and an audit
        entry only when the note is created."""
        if not actor.can(Permission.KEEP_CASE_RECORDS):
            self.deny(actor, action="save_note", ref=str(appointment_id))
        chosen, clean = check_sections(template, sections)
        self.ensure_key()
        now = self.clock.now()
        with self.guarded(actor), self.db.write() as session:
            appointment = self._appointment(session, appointment_id, lock=True)
            code = self._code(session, appointment.client_id)
            if appointment.counsellor_id != actor.user_id:
                raise Refusal("save_note", code)
            if appointment.client_id is None:
                raise Conflict(
                    _(
                        "This appointment has no client (a lecture or an open pod session), so it has no session note."
                    )
                )
            client = session.get(m.Client, appointment.client_id)
            if client is not None and client.erased_at is not None:
                raise Conflict(
                    _(
                        "This client's record was erased at their request; notes cannot be written for it."
                    )
                )
            require_consent(session, appointment.client_id, ConsentPurpose.COUNSELLING)
            note = session.scalars(
                self.lock_query(
                    select(m.SessionNote).where(m.SessionNote.appointment_id == appointment.id)
                )
            ).first()
            if expected_version is None:
                if note is not None:
                    raise Conflict(
                        _(
                            "This session already has a note, perhaps opened in another window. "
                            "Close this window and open the session's note again to continue it; "
                            "the text here was not saved."
                        )
                    )
                if appointment.status is AppointmentStatus.CANCELLED:
                    raise Conflict(
                        _(
                            "This appointment was cancelled; session notes are written for sessions that took place."
                        )
                    )
                note_case = self._case_for(session, actor, appointment, case_id)
                note = m.SessionNote(
                    appointment_id=appointment.id,
                    case_id=note_case,
                    author_id=actor.user_id,
                    template=chosen,
                    body_ciphertext=b"",  # sealed below, once the row has its id
                    key_version=0,
                    status=NoteStatus.DRAFT,
                    created_at=now,
                    updated_at=now,
                    version=1,
                )
                session.add(note)
                session.flush()
                self.audit.record(
                    session, actor=actor, action="create_note", object_type="note", object_ref=code
                )
            else:
                if note is None:
                    raise NotFound(
                        _(
                            "This session's note no longer exists. Close this window and open "
                            "the session's note again."
                        )
                    )
                if note.author_id != actor.user_id:
                    raise Refusal("save_note", code)
                if note.status is not NoteStatus.DRAFT:
                    raise _signed_note()
                if case_id is not None and note.case_id != case_id:
                    raise Conflict(_("This note belongs to another case."))
                if note.version != expected_version:
                    raise _stale_note()
                note.template = chosen
                note.updated_at = now
                note.version += 1
            body = json.dumps(clean, ensure_ascii=False)
            note.body_ciphertext, note.key_version = self.vault.seal(
                session,
                appointment.client_id,
                body,
                table=NOTE_TABLE,
                column="body",
                row_id=note.id,
            )
            session.flush()
            return self._value(session, note, appointment, code, clean)

    def _case_for(
        self, session: Session, actor: Actor, appointment: m.Appointment, case_id: int | None
    ) -> int:
        """The case a new note goes into: the appointment's; else the one named; else the
        counsellor's open case for the client. The appointment is linked to it."""
        if appointment.case_id is not None:
            if case_id is not None and case_id != appointment.case_id:
                raise Conflict(
                    _("This session already belongs to another case; its note goes into that case.")
                )
            return appointment.case_id
        if case_id is not None:
            case = session.get(m.Case, case_id)
            if case is None:
                raise NotFound(_("That case no longer exists."))
            if case.client_id != appointment.client_id:
                raise Conflict(
                    _("That case is another client's. Choose one of this client's cases.")
                )
            if case.counsellor_id != actor.user_id:
                raise Conflict(
                    _("That case is followed by another counsellor. Choose one of your own cases.")
                )
            if case.status is not CaseStatus.OPEN:
                raise Conflict(_("That case is closed. Choose an open case, or open a new one."))
        else:
            case = session.scalars(
                select(m.Case)
                .where(
                    m.Case.client_id == appointment.client_id,
                    m.Case.counsellor_id == actor.user_id,
                    m.Case.status == CaseStatus.OPEN,
                )
                .order_by(m.Case.opened_at.desc(), m.Case.id.desc())
                .limit(1)
            ).first()
            if case is None:
                raise Conflict(
                    _(
                        "This client has no open case with you. Open a case for the client first "
                        "(Cases, Open case), then write the session note."
                    )
                )
        appointment.case_id = case.id
        return case.id

    # --- reading -------------------------------------------------------------------------------

    def get_note(self, actor: Actor, note_id: int) -> Note:
        with self.guarded(actor), self.db.read() as session:
            note, appointment, code = self._note(session, note_id, lock=False)
            value = self._read(session, actor, note, appointment, code)
        self.audit.record_now(actor=actor, action="view_note", object_type="note", object_ref=code)
        return value

    def note_for_appointment(self, actor: Actor, appointment_id: int) -> Note | None:
        """The session's note, or None when none is written yet (asked by the appointment's
        counsellor or the station's supervisor)."""
        with self.guarded(actor), self.db.read() as session:
            appointment = self._appointment(session, appointment_id, lock=False)
            code = self._code(session, appointment.client_id)
            note = session.scalars(
                select(m.SessionNote).where(m.SessionNote.appointment_id == appointment.id)
            ).first()
            if note is None:
                allowed = actor.can(Permission.KEEP_CASE_RECORDS) and actor.user_id in (
                    appointment.counsellor_id,
                    station_supervisor(session, appointment.station_id),
                )
                if not allowed:
                    raise Refusal("view_note", code)
                return None
            value = self._read(session, actor, note, appointment, code)
        self.audit.record_now(actor=actor, action="view_note", object_type="note", object_ref=code)
        return value

    def _read(
        self,
        session: Session,
        actor: Actor,
        note: m.SessionNote,
        appointment: m.Appointment,
        code: str,
    ) -> Note:
        if not self._may_read(session, actor, note, appointment):
            raise Refusal("view_note", code)
        sections = self._sections(session, note, appointment, code, action="view_note")
        zone = self._zone(session, appointment.station_id)
        addenda = self._addenda(session, note, appointment, code, zone, action="view_note")
        return self._value(session, note, appointment, code, sections, addenda)

    def notes_for_case(self, actor: Actor, case_id: int) -> list[NoteHeader]:
        """The case's notes, by session time: status and dates, no text."""
        with self.guarded(actor), self.db.read() as session:
            case = session.get(m.Case, case_id)
            if case is None:
                raise NotFound(_("That case no longer exists."))
            visible = actor.can(Permission.KEEP_CASE_RECORDS) and session.scalar(
                select(m.Case.id).where(m.Case.id == case_id, case_visible_to(actor.user_id))
            )
            if not visible:
                raise Refusal("list_case_notes", self._code(session, case.client_id))
            return self._headers(
                session,
                m.SessionNote.case_id == case_id,
                m.Appointment.starts_at,
                m.SessionNote.id,
            )

    def cosign_queue(self, actor: Actor) -> list[NoteHeader]:
        """Notes waiting for the actor's co-signature, longest-waiting first."""
        self.require(actor, Permission.KEEP_CASE_RECORDS, action="view_cosign_queue")
        with self.db.read() as session:
            return self._headers(
                session,
                (m.SessionNote.cosigner_id == actor.user_id)
                & (m.SessionNote.status == NoteStatus.AWAITING_COSIGN),
                m.SessionNote.signed_at,
                m.SessionNote.id,
            )

    def cosigner_choices(self, actor: Actor, note_id: int) -> list[Colleague]:
        """The experts who may co-sign this note: active expert counsellors of the session's
        station and its supervisor, other than the author."""
        with self.guarded(actor), self.db.read() as session:
            note, appointment, code = self._note(session, note_id, lock=False)
            if not actor.can(Permission.KEEP_CASE_RECORDS) or note.author_id != actor.user_id:
                raise Refusal("sign_note", code)
            supervisor = station_supervisor(session, appointment.station_id)
            ids = set(
                session.scalars(
                    select(m.UserStation.user_id).where(
                        m.UserStation.station_id == appointment.station_id
                    )
                )
            )
            if supervisor is not None:
                ids.add(supervisor)
            ids.discard(note.author_id)
            return [
                Colleague(id=uid, display_name=name)
                for uid, name in session.execute(
                    select(m.UserAccount.id, m.UserAccount.display_name)
                    .join(m.CounsellorProfile, m.CounsellorProfile.user_id == m.UserAccount.id)
                    .join(m.UserRole, m.UserRole.user_id == m.UserAccount.id)
                    .where(
                        m.UserAccount.id.in_(ids),
                        m.UserAccount.active.is_(True),
                        m.UserRole.role == Role.COUNSELLOR,
                        m.CounsellorProfile.kind == CounsellorKind.EXPERT,
                    )
                    .order_by(m.UserAccount.display_name, m.UserAccount.id)
                )
            ]

    # --- signing -------------------------------------------------------------------------------

    def _cosigner_problem(
        self, session: Session, user_id: int, author_id: int, station_id: int
    ) -> str | None:
        if user_id == author_id:
            return _("You cannot co-sign your own note. Choose an expert colleague.")
        user = session.get(m.UserAccount, user_id)
        is_counsellor = user is not None and any(r.role is Role.COUNSELLOR for r in user.roles)
        works_here = user_id == station_supervisor(session, station_id) or (
            session.get(m.UserStation, (user_id, station_id)) is not None
        )
        if (
            user is None
            or not user.active
            or not is_counsellor
            or counsellor_kind(session, user_id) is not CounsellorKind.EXPERT
            or not works_here
        ):
            return _(
                "The co-signer must be an active expert counsellor of this station. Choose "
                "another co-signer."
            )
        return None

    def sign(
        self,
        actor: Actor,
        note_id: int,
        *,
        expected_version: int,
        cosigner_id: int | None = None,
    ) -> Note:
        """Signs the draft. An expert's note is then final. An emotion regulator's or a mind
        mentor's note waits for an expert's co-signature: the one named, else the station's
        supervisor if an expert. The note's text never changes after this."""
        self.ensure_key()
        with self.guarded(actor), self.db.write() as session:
            note, appointment, code = self._note(session, note_id, lock=True)
            if not actor.can(Permission.KEEP_CASE_RECORDS) or note.author_id != actor.user_id:
                raise Refusal("sign_note", code)
            if note.status is not NoteStatus.DRAFT:
                raise Conflict(_("This note is already signed."))
            if note.version != expected_version:
                raise _stale_note()
            sections = self._sections(session, note, appointment, code, action="sign_note")
            if not any(text.strip() for text in sections.values()):
                raise ValidationError(
                    {
                        "body": _(
                            "Nothing is written in this note yet. Write the note, then sign it."
                        )
                    }
                )
            now = self.clock.now()
            if counsellor_kind(session, actor.user_id) is CounsellorKind.EXPERT:
                note.status = NoteStatus.FINAL
            else:
                chosen = (
                    cosigner_id
                    or note.cosigner_id
                    or station_supervisor(session, appointment.station_id)
                )
                problem = (
                    None
                    if chosen is None
                    else self._cosigner_problem(
                        session, chosen, note.author_id, appointment.station_id
                    )
                )
                if chosen is None or (problem is not None and cosigner_id is None):
                    problem = _(
                        "A note by an emotion regulator or a mind mentor needs an expert's "
                        "co-signature. Choose the expert who will co-sign it."
                    )
                if problem is not None:
                    raise ValidationError({"cosigner_id": problem})
                note.status = NoteStatus.AWAITING_COSIGN
                note.cosigner_id = chosen
            note.signed_at = now
            note.updated_at = now
            note.version += 1
            self.audit.record(
                session,
                actor=actor,
                action="sign_note",
                object_type="note",
                object_ref=code,
                detail=note.status.value,
            )
            session.flush()
            zone = self._zone(session, appointment.station_id)
            addenda = self._addenda(session, note, appointment, code, zone, action="sign_note")
            return self._value(session, note, appointment, code, sections, addenda)

    def cosign(self, actor: Actor, note_id: int) -> NoteHeader:
        """The named expert co-signs: the note is final."""
        with self.guarded(actor), self.db.write() as session:
            note, _appointment, code = self._note(session, note_id, lock=True)
            if not actor.can(Permission.KEEP_CASE_RECORDS) or note.cosigner_id != actor.user_id:
                raise Refusal("cosign_note", code)
            if note.status is not NoteStatus.AWAITING_COSIGN:
                raise Conflict(_("This note is not waiting for a co-signature."))
            now = self.clock.now()
            note.status = NoteStatus.FINAL
            note.cosigned_at = now
            note.updated_at = now
            note.version += 1
            self.audit.record(
                session, actor=actor, action="cosign_note", object_type="note", object_ref=code
            )
            return self._header(session, note.id)

    def return_for_changes(self, actor: Actor, note_id: int, reason: str) -> NoteHeader:
        """The named co-signer sends the note back to its author as a draft; the reason is kept
        as an addendum by the co-signer."""
        text = (reason or "").strip()
        if not text:
            raise ValidationError(
                {"reason": _("Say what the author should change before you return the note.")}
            )
        if len(text) > MAX_SECTION_CHARS:
            raise ValidationError(
                {
                    "reason": _("The reason is too long; keep it under {count} characters.").format(
                        count=MAX_SECTION_CHARS
                    )
                }
            )
        self.ensure_key()
        with self.guarded(actor), self.db.write() as session:
            note, appointment, code = self._note(session, note_id, lock=True)
            if not actor.can(Permission.KEEP_CASE_RECORDS) or note.cosigner_id != actor.user_id:
                raise Refusal("return_note", code)
            if note.status is not NoteStatus.AWAITING_COSIGN:
                raise Conflict(_("This note is not waiting for a co-signature."))
            now = self.clock.now()
            self._new_addendum(session, note, appointment, actor, text, now)
            note.status = NoteStatus.DRAFT
            note.signed_at = None
            note.updated_at = now
            note.version += 1
            self.audit.record(
                session, actor=actor, action="return_note", object_type="note", object_ref=code
            )
            return self._header(session, note.id)

    # --- addenda -------------------------------------------------------------------------------

    def _new_addendum(
        self,
        session: Session,
        note: m.SessionNote,
        appointment: m.Appointment,
        actor: Actor,
        text: str,
        now: datetime,
    ) -> m.NoteAddendum:
        assert appointment.client_id is not None
        row = m.NoteAddendum(
            note_id=note.id,
            author_id=actor.user_id,
            created_at=now,
            body_ciphertext=b"",  # sealed below, once the row has its id
            key_version=0,
        )
        session.add(row)
        session.flush()
        row.body_ciphertext, row.key_version = self.vault.seal(
            session, appointment.client_id, text, table=ADDENDUM_TABLE, column="body", row_id=row.id
        )
        return row

    def add_addendum(self, actor: Actor, note_id: int, text: str) -> Addendum:
        """A dated addition to a signed note, by its author, its co-signer or the station's
        supervisor. The note itself is not touched."""
        body = text or ""
        if not body.strip():
            raise ValidationError({"text": _("Write the addendum before saving it.")})
        if len(body) > MAX_SECTION_CHARS:
            raise ValidationError(
                {
                    "text": _("The addendum is too long; keep it under {count} characters.").format(
                        count=MAX_SECTION_CHARS
                    )
                }
            )
        self.ensure_key()
        with self.guarded(actor), self.db.write() as session:
            note, appointment, code = self._note(session, note_id, lock=True)
            if not self._may_read(session, actor, note, appointment):
                raise Refusal("add_addendum", code)
            if note.status is NoteStatus.DRAFT:
                raise Conflict(
                    _(
                        "This note is still a draft: change the note itself. Addenda are added to "
                        "signed notes."
                    )
                )
            now = self.clock.now()
            row = self._new_addendum(session, note, appointment, actor, body, now)
            self.audit.record(
                session, actor=actor, action="add_addendum", object_type="note", object_ref=code
            )
            zone = self._zone(session, appointment.station_id)
            return Addendum(
                id=row.id,
                note_id=note.id,
                author_id=actor.user_id,
                author_name=self._name(session, actor.user_id),
                created_at=local(now, zone),
                text=body,
            )
