"""The person's rights over their data (PIPL arts. 44-47): find their record when they ask,
correct it, give them a copy of everything held about them, and erase it.

Erasure removes identity and every confidential text, destroys the client's data keys (so the
encrypted texts in old backups cannot be read either: crypto-shredding), and keeps de-identified
rows so that statistics stay right: appointments with type, status and times, cases with topics,
outcome and dates, assessments with totals and bands. The client row stays, blank, under a new
random code, so a report printed earlier cannot be linked to what is left.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.orm import Session

from carestation.db import models as m
from carestation.db.engine import Database
from carestation.domain.booking import ClientInput, ClientSummary
from carestation.domain.client_code import new_client_code, normalise_client_code
from carestation.domain.crisis import step_title
from carestation.domain.errors import Conflict, NotFound, ValidationError
from carestation.domain.records import section_title
from carestation.domain.rights import (
    MAX_REQUEST_REF,
    ClientExport,
    ErasureReport,
    ExportAddendum,
    ExportAppointment,
    ExportAssessment,
    ExportCase,
    ExportCrisisFlag,
    ExportIdentity,
    ExportLecture,
    ExportNote,
    ExportWaitlistEntry,
)
from carestation.domain.roles import Permission
from carestation.domain.validation import (
    clean_text,
    validate_client_input,
)
from carestation.domain.values import Actor
from carestation.domain.vocab import (
    AppointmentStatus,
    CancelReason,
    ChangeKind,
    Gender,
    RegistrationStatus,
    WaitlistStatus,
)
from carestation.i18n import _
from carestation.security.crypto import TamperedCiphertext
from carestation.services.audit import AuditLog
from carestation.services.base import Service
from carestation.services.clients import client_summary
from carestation.services.clock import Clock
from carestation.services.consent import (
    consent_records,
    live_client,
    local_time,
    stations,
)
from carestation.services.conversions import display_names
from carestation.services.disclosures import disclosure_records
from carestation.services.keys import KeyVault
from carestation.services.notes import decode_sections, may_read_note

log = logging.getLogger("carestation.rights")

FIND_LIMIT = 20
# Where the confidential texts are sealed (the associated data binds each to its place).
NOTE_TABLE, ADDENDUM_TABLE = "session_note", "note_addendum"
CASE_TABLE = "care_case"


def _stale_client() -> Conflict:
    return Conflict(
        _(
            "Someone changed this client's details after you opened them. Close the form and open "
            "it again to see the current details; nothing was saved."
        )
    )


def _unreadable() -> str:
    return _("(damaged: this text could not be opened)")


def _client_notes(client_id: int, case_ids: list[int]) -> ColumnElement[bool]:
    """SQL condition: a session note about the client (on their appointment or in their case)."""
    on_appointment = m.SessionNote.appointment_id.in_(
        select(m.Appointment.id).where(m.Appointment.client_id == client_id)
    )
    if not case_ids:
        return on_appointment
    return or_(on_appointment, m.SessionNote.case_id.in_(case_ids))


class ClientRightsService(Service):
    def __init__(self, db: Database, audit: AuditLog, clock: Clock, vault: KeyVault) -> None:
        super().__init__(db, audit, clock)
        self.vault = vault

    # -- finding the person ---------------------------------------------------------------------

    def find_for_request(self, actor: Actor, text: str) -> list[ClientSummary]:
        """The records matching what the person gives to identify themselves: their client code,
        their phone number, or their exact name. Exact matches only: whoever handles requests
        does not browse the client list. The search is audited without what was typed."""
        self.require(actor, Permission.HANDLE_DATA_REQUESTS, action="find_client_for_request")
        query_text = clean_text(text)
        if not query_text:
            return []
        conditions: list[ColumnElement[bool]] = []
        code = normalise_client_code(query_text)
        compact = query_text.replace(" ", "")
        digits = compact.replace("-", "")
        raw = digits.upper()
        if code:
            conditions.append(m.Client.client_code == code)
        elif raw.isascii() and raw.isalnum() and len(raw) == 9:
            # A code typed with a slip in its check character still finds an exact record.
            conditions.append(m.Client.client_code == f"{raw[:4]}-{raw[4:8]}-{raw[8]}")
        if digits.isdigit() and len(digits) >= 7:
            conditions.append(m.Client.phone == compact)
            conditions.append(func.replace(m.Client.phone, "-", "") == digits)
        if not digits.isdigit():
            conditions.append(m.Client.name == query_text)
        with self.db.write() as session:
            rows = list(
                session.scalars(
                    select(m.Client)
                    .where(or_(*conditions), m.Client.erased_at.is_(None))
                    .order_by(m.Client.name, m.Client.id)
                    .limit(FIND_LIMIT)
                )
            )
            self.audit.record(
                session,
                actor=actor,
                action="find_client_for_request",
                object_type="client",
                detail=str(len(rows)),
            )
            return [client_summary(r) for r in rows]

    # -- correction -----------------------------------------------------------------------------

    def correct(
        self,
        actor: Actor,
        *,
        client_id: int,
        data: ClientInput,
        expected: ClientSummary | None = None,
    ) -> ClientSummary:
        """Corrects the registered details. `expected` is the record as it was shown when the
        form opened: if someone changed it since, the correction is refused, not merged. The
        audit trail names the fields that changed, never their values."""
        if not (
            actor.can(Permission.CORRECT_CLIENTS) or actor.can(Permission.HANDLE_DATA_REQUESTS)
        ):
            self.deny(actor, action="correct_client", ref=str(client_id))
        values = validate_client_input(data, this_year=self.clock.now().year)
        with self.db.write() as session:
            row = live_client(session, client_id, lock=True)
            if expected is not None and client_summary(row) != expected:
                raise _stale_client()
            station_id = values.get("home_station_id")
            if station_id is not None and session.get(m.Station, station_id) is None:
                raise ValidationError({"home_station_id": _("That station no longer exists.")})
            other = session.scalars(
                select(m.Client.client_code)
                .where(
                    m.Client.name == values["name"],
                    m.Client.phone == values["phone"],
                    m.Client.id != client_id,
                    m.Client.erased_at.is_(None),
                )
                .limit(1)
            ).first()
            if other is not None:
                raise Conflict(
                    _(
                        "Another record (code {code}) has this name and phone number. Check which "
                        "record is this person's before correcting this one."
                    ).format(code=other)
                )
            changed = [field for field, value in values.items() if getattr(row, field) != value]
            if not changed:
                return client_summary(row)
            for field in changed:
                setattr(row, field, values[field])
            row.updated_at = self.clock.now()
            row.updated_by = actor.user_id
            session.flush()
            self.audit.record(
                session,
                actor=actor,
                action="correct_client",
                object_type="client",
                object_ref=row.client_code,
                detail=",".join(changed),
            )
            return client_summary(row)

    # -- export ---------------------------------------------------------------------------------

    def export(self, actor: Actor, client_id: int) -> ClientExport:
        """Everything held about the person (PIPL art. 45): for the copy given to them, on
        screen or as a PDF. Session-note texts are included only for a reader of the note; an
        administrator gets the list of notes, and the author releases their contents."""
        return self._export(actor, client_id, form="")

    def export_json(self, actor: Actor, client_id: int) -> bytes:
        """The same export as UTF-8 JSON (stable English keys, ISO dates), for a portable copy."""
        export = self._export(actor, client_id, form="json")
        text = json.dumps(export.to_data(), ensure_ascii=False, indent=2, sort_keys=True)
        return (text + "\n").encode("utf-8")

    def _export(self, actor: Actor, client_id: int, *, form: str) -> ClientExport:
        self.require(
            actor, Permission.HANDLE_DATA_REQUESTS, action="export_client", ref=str(client_id)
        )
        _key = self.vault.kek  # a locked vault is a clear message, not a half-built export
        with self.db.write() as session:
            client = live_client(session, client_id)
            export = self._build_export(session, actor, client)
            self.audit.record(
                session,
                actor=actor,
                action="export_client",
                object_type="client",
                object_ref=client.client_code,
                detail=form,
            )
            return export

    def _open(
        self,
        session: Session,
        client_id: int,
        blob: bytes | None,
        *,
        table: str,
        column: str,
        row_id: int,
        key_version: int | None,
    ) -> str:
        if not blob or key_version is None:
            return ""
        try:
            return self.vault.open(
                session,
                client_id,
                blob,
                table=table,
                column=column,
                row_id=row_id,
                key_version=key_version,
            )
        except TamperedCiphertext:
            log.warning(
                "an unreadable %s.%s (row %d) was left out of an export", table, column, row_id
            )
            return _unreadable()

    def _note_text(self, session: Session, client_id: int, note: m.SessionNote) -> str:
        text = self._open(
            session,
            client_id,
            note.body_ciphertext,
            table=NOTE_TABLE,
            column="body",
            row_id=note.id,
            key_version=note.key_version,
        )
        try:
            sections = decode_sections(note.template, text)
        except ValueError:
            return text
        return "\n".join(f"{section_title(name)}: {body}" for name, body in sections.items())

    def _build_export(self, session: Session, actor: Actor, client: m.Client) -> ClientExport:
        cid = client.id
        known = stations(session)

        def station(station_id: int | None) -> str:
            return known[station_id][0] if station_id in known else ""

        def at(moment: Any, station_id: int | None) -> Any:
            return local_time(moment, station_id, known)

        appointments = list(
            session.scalars(
                select(m.Appointment)
                .where(m.Appointment.client_id == cid)
                .order_by(m.Appointment.starts_at, m.Appointment.id)
            )
        )
        # Only the person's own registrations, joined to the lecture: never the roster.
        lectures = list(
            session.execute(
                select(m.LectureRegistration, m.Appointment)
                .join(m.Appointment, m.Appointment.id == m.LectureRegistration.appointment_id)
                .where(m.LectureRegistration.client_id == cid)
                .order_by(m.Appointment.starts_at, m.LectureRegistration.id)
            )
        )
        waitlist = list(
            session.scalars(
                select(m.WaitlistEntry)
                .where(m.WaitlistEntry.client_id == cid)
                .order_by(m.WaitlistEntry.created_at, m.WaitlistEntry.id)
            )
        )
        cases = list(
            session.scalars(
                select(m.Case).where(m.Case.client_id == cid).order_by(m.Case.opened_at, m.Case.id)
            )
        )
        assessments = list(
            session.scalars(
                select(m.Assessment)
                .where(m.Assessment.client_id == cid)
                .order_by(m.Assessment.taken_at, m.Assessment.id)
            )
        )
        flags = list(
            session.scalars(
                select(m.CrisisFlag)
                .where(m.CrisisFlag.client_id == cid)
                .order_by(m.CrisisFlag.raised_at, m.CrisisFlag.id)
            )
        )
        follow_ups: dict[int, list[m.CrisisFollowUp]] = {}
        if flags:
            for f in session.scalars(
                select(m.CrisisFollowUp)
                .where(m.CrisisFollowUp.flag_id.in_([f.id for f in flags]))
                .order_by(m.CrisisFollowUp.due_at, m.CrisisFollowUp.id)
            ):
                follow_ups.setdefault(f.flag_id, []).append(f)
        case_ids = [c.id for c in cases]
        notes = list(
            session.execute(
                select(m.SessionNote, m.Appointment)
                .join(m.Appointment, m.Appointment.id == m.SessionNote.appointment_id)
                .where(_client_notes(cid, case_ids))
                .order_by(m.Appointment.starts_at, m.SessionNote.id)
            )
        )
        addenda: dict[int, list[m.NoteAddendum]] = {}
        if notes:
            for a in session.scalars(
                select(m.NoteAddendum)
                .where(m.NoteAddendum.note_id.in_([n.id for n, _a in notes]))
                .order_by(m.NoteAddendum.created_at, m.NoteAddendum.id)
            ):
                addenda.setdefault(a.note_id, []).append(a)
        supervisors = dict(session.execute(select(m.Station.id, m.Station.supervisor_id)).all())
        names = display_names(
            session,
            [a.counsellor_id for a in appointments]
            + [lec.counsellor_id for _r, lec in lectures]
            + [w.counsellor_id for w in waitlist]
            + [c.counsellor_id for c in cases]
            + [n.author_id for n, _a in notes]
            + [a.author_id for rows in addenda.values() for a in rows]
            + [actor.user_id],
        )

        export_notes = []
        for note, appointment in notes:
            readable = may_read_note(actor, note, supervisors.get(appointment.station_id))
            export_notes.append(
                ExportNote(
                    session_at=at(appointment.starts_at, appointment.station_id),
                    author=names.get(note.author_id, ""),
                    status=note.status,
                    signed_at=at(note.signed_at, appointment.station_id),
                    text=self._note_text(session, cid, note) if readable else None,
                    addenda=tuple(
                        ExportAddendum(
                            created_at=at(a.created_at, appointment.station_id),
                            author=names.get(a.author_id, ""),
                            text=self._open(
                                session,
                                cid,
                                a.body_ciphertext,
                                table=ADDENDUM_TABLE,
                                column="body",
                                row_id=a.id,
                                key_version=a.key_version,
                            )
                            if readable
                            else None,
                        )
                        for a in addenda.get(note.id, [])
                    ),
                )
            )

        return ClientExport(
            generated_at=at(self.clock.now(), actor.station_id),
            generated_by=names.get(actor.user_id, actor.display_name),
            identity=ExportIdentity(
                client_code=client.client_code,
                name=client.name,
                phone=client.phone,
                work_unit=client.work_unit,
                gender=client.gender,
                birth_year=client.birth_year,
                home_station=station(client.home_station_id),
                registered_at=at(client.created_at, client.home_station_id),
                updated_at=at(client.updated_at, client.home_station_id),
            ),
            consents=tuple(consent_records(session, cid)),
            appointments=tuple(
                ExportAppointment(
                    starts_at=at(a.starts_at, a.station_id),
                    ends_at=at(a.ends_at, a.station_id),
                    station=station(a.station_id),
                    type=a.type,
                    modality=a.modality,
                    status=a.status,
                    counsellor=names.get(a.counsellor_id or 0, ""),
                )
                for a in appointments
            ),
            lectures=tuple(
                ExportLecture(
                    starts_at=at(lec.starts_at, lec.station_id),
                    ends_at=at(lec.ends_at, lec.station_id),
                    station=station(lec.station_id),
                    title=lec.title,
                    speaker=names.get(lec.counsellor_id or 0, ""),
                    status=reg.status,
                    attended=reg.attended,
                    registered_at=at(reg.registered_at, lec.station_id),
                )
                for reg, lec in lectures
            ),
            waitlist=tuple(
                ExportWaitlistEntry(
                    created_at=at(w.created_at, w.station_id),
                    station=station(w.station_id),
                    type=w.type,
                    counsellor=names.get(w.counsellor_id or 0, ""),
                    earliest=w.earliest,
                    latest=w.latest,
                    time_from=w.time_from,
                    time_to=w.time_to,
                    status=w.status,
                    note=w.note,
                )
                for w in waitlist
            ),
            cases=tuple(
                ExportCase(
                    opened_at=at(c.opened_at, c.station_id),
                    closed_at=at(c.closed_at, c.station_id),
                    station=station(c.station_id),
                    counsellor=names.get(c.counsellor_id, ""),
                    status=c.status,
                    risk_level=c.risk_level,
                    topics=tuple(sorted(t.topic for t in c.topics)),
                    outcome=c.outcome,
                    summary=self._open(
                        session,
                        cid,
                        c.summary_ciphertext,
                        table=CASE_TABLE,
                        column="summary",
                        row_id=c.id,
                        key_version=c.key_version,
                    ),
                )
                for c in cases
            ),
            assessments=tuple(
                ExportAssessment(
                    taken_at=at(a.taken_at, a.station_id),
                    station=station(a.station_id),
                    instrument=a.instrument,
                    instrument_version=a.instrument_version,
                    answers=tuple(a.answers or ()),
                    total=a.total,
                    band=a.band,
                    mode=a.mode,
                )
                for a in assessments
            ),
            crisis_flags=tuple(
                ExportCrisisFlag(
                    raised_at=at(f.raised_at, f.station_id),
                    station=station(f.station_id),
                    source=f.source,
                    cleared_at=at(f.cleared_at, f.station_id),
                    actions=tuple(step_title(key) for key in f.actions or ()),
                    follow_ups=tuple(
                        (at(u.due_at, f.station_id), at(u.done_at, f.station_id))
                        for u in follow_ups.get(f.id, [])
                    ),
                )
                for f in flags
            ),
            disclosures=tuple(disclosure_records(session, self.vault, cid)),
            notes=tuple(export_notes),
        )

    # -- erasure --------------------------------------------------------------------------------

    def erase(self, actor: Actor, *, client_id: int, request_ref: str) -> ErasureReport:
        """Erases the person on their request (PIPL art. 47), in one transaction; see the module
        docstring for what goes and what stays. `request_ref` is the reference of the written
        request (never the person's name). Erasing twice is refused."""
        self.require(
            actor, Permission.HANDLE_DATA_REQUESTS, action="erase_client", ref=str(client_id)
        )
        ref = clean_text(request_ref)
        if not ref:
            raise ValidationError(
                {
                    "request_ref": _(
                        "Enter the reference of the person's written request (for example its "
                        "date and number), so the erasure can be traced to it."
                    )
                }
            )
        if len(ref) > MAX_REQUEST_REF:
            raise ValidationError(
                {
                    "request_ref": _(
                        "The request reference is too long: at most {count} characters."
                    ).format(count=MAX_REQUEST_REF)
                }
            )
        with self.db.write() as session:
            client = session.get(m.Client, client_id)
            if client is None:
                raise NotFound(_("That client's record no longer exists."))
            if client.erased_at is not None:
                raise Conflict(
                    _(
                        "This person's information was already erased on {date}; there is "
                        "nothing left to erase."
                    ).format(date=f"{local_time(client.erased_at, None, {}):%Y-%m-%d}")
                )
            lowered = ref.lower()
            if (client.name and client.name.lower() in lowered) or (
                client.phone and client.phone in ref.replace(" ", "")
            ):
                raise ValidationError(
                    {
                        "request_ref": _(
                            "The request reference must not contain the person's name or phone "
                            "number: the audit trail keeps it after the erasure."
                        )
                    }
                )
            old_code = client.client_code
            report = self._erase(session, actor, client)
            self.audit.record(
                session,
                actor=actor,
                action="erase_client",
                object_type="client",
                object_ref=old_code,
                detail="request {ref}; {counts}".format(
                    ref=ref,
                    counts=", ".join(f"{k} {v}" for k, v in report.counts().items()),
                ),
            )
        # Committed: fold the write-ahead log into the file, so the old text does not linger
        # in the -wal (secure_delete already zeroes it in the main file).
        return dataclasses.replace(report, checkpointed=self._checkpoint())

    def _erase(self, session: Session, actor: Actor, client: m.Client) -> ErasureReport:
        cid = client.id
        now = self.clock.now()

        def changed(statement: Any) -> int:
            return int(
                session.execute(
                    statement, execution_options={"synchronize_session": False}
                ).rowcount  # type: ignore[attr-defined]
                or 0
            )

        case_ids = list(session.scalars(select(m.Case.id).where(m.Case.client_id == cid)))
        note_ids = list(
            session.scalars(select(m.SessionNote.id).where(_client_notes(cid, case_ids)))
        )
        addenda = notes = 0
        if note_ids:
            addenda = changed(delete(m.NoteAddendum).where(m.NoteAddendum.note_id.in_(note_ids)))
            notes = changed(delete(m.SessionNote).where(m.SessionNote.id.in_(note_ids)))
        summaries = changed(
            update(m.Case)
            .where(m.Case.client_id == cid, m.Case.summary_ciphertext.is_not(None))
            .values(summary_ciphertext=None, key_version=None)
        )
        flag_ids = list(
            session.scalars(select(m.CrisisFlag.id).where(m.CrisisFlag.client_id == cid))
        )
        crisis_texts = follow_up_notes = 0
        if flag_ids:
            # reason_ciphertext is NOT NULL: an empty value stands for "erased" (it opens to
            # nothing; readers treat an empty blob as no text).
            crisis_texts = changed(
                update(m.CrisisFlag)
                .where(
                    m.CrisisFlag.id.in_(flag_ids),
                    or_(
                        m.CrisisFlag.reason_ciphertext != b"",
                        m.CrisisFlag.actions_ciphertext.is_not(None),
                    ),
                )
                .values(reason_ciphertext=b"", actions_ciphertext=None)
            )
            follow_up_notes = changed(
                update(m.CrisisFollowUp)
                .where(
                    m.CrisisFollowUp.flag_id.in_(flag_ids),
                    m.CrisisFollowUp.note_ciphertext.is_not(None),
                )
                .values(note_ciphertext=None, key_version=None)
            )
        disclosures = changed(delete(m.Disclosure).where(m.Disclosure.client_id == cid))
        consents = changed(
            update(m.Consent)
            .where(m.Consent.client_id == cid, m.Consent.withdrawn_at.is_(None))
            .values(withdrawn_at=now, withdrawn_by=actor.user_id)
        )

        # Future bookings would show a blank person on a calendar: cancel them, with history.
        future = list(
            session.scalars(
                select(m.Appointment).where(
                    m.Appointment.client_id == cid,
                    m.Appointment.status.in_(
                        [AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN]
                    ),
                    m.Appointment.starts_at > now,
                )
            )
        )
        for appointment in future:
            session.add(
                m.AppointmentChange(
                    appointment_id=appointment.id,
                    kind=ChangeKind.CANCELLED,
                    changed_at=now,
                    changed_by=actor.user_id,
                    old_starts_at=appointment.starts_at,
                    old_ends_at=appointment.ends_at,
                    old_counsellor_id=appointment.counsellor_id,
                    old_room_id=appointment.room_id,
                    old_status=appointment.status,
                    new_status=AppointmentStatus.CANCELLED,
                    reason="",
                )
            )
            appointment.status = AppointmentStatus.CANCELLED
            appointment.cancel_reason = CancelReason.CLIENT
            appointment.cancelled_at = now
            appointment.updated_at = now
            appointment.updated_by = actor.user_id
            appointment.version += 1
        session.flush()
        appointment_ids = select(m.Appointment.id).where(m.Appointment.client_id == cid)
        # Free text typed about the person's bookings goes too.
        changed(
            update(m.Appointment)
            .where(
                m.Appointment.client_id == cid,
                or_(m.Appointment.cancel_note != "", m.Appointment.cap_override_reason != ""),
            )
            .values(cancel_note="", cap_override_reason="")
        )
        changed(
            update(m.AppointmentChange)
            .where(
                m.AppointmentChange.appointment_id.in_(appointment_ids),
                m.AppointmentChange.reason != "",
            )
            .values(reason="")
        )
        future_lectures = select(m.Appointment.id).where(m.Appointment.starts_at > now)
        registrations = changed(
            update(m.LectureRegistration)
            .where(
                m.LectureRegistration.client_id == cid,
                m.LectureRegistration.status != RegistrationStatus.CANCELLED,
                m.LectureRegistration.appointment_id.in_(future_lectures),
            )
            .values(status=RegistrationStatus.CANCELLED)
        )
        waitlist = changed(
            update(m.WaitlistEntry)
            .where(
                m.WaitlistEntry.client_id == cid, m.WaitlistEntry.status == WaitlistStatus.WAITING
            )
            .values(status=WaitlistStatus.WITHDRAWN)
        )
        changed(
            update(m.WaitlistEntry)
            .where(m.WaitlistEntry.client_id == cid, m.WaitlistEntry.note != "")
            .values(note="")
        )

        keys = self.vault.destroy_client_keys(session, cid)

        code = new_client_code()
        while session.scalar(select(m.Client.id).where(m.Client.client_code == code)) is not None:
            code = new_client_code()
        client.client_code = code
        client.name = ""
        client.phone = ""
        client.work_unit = ""
        client.birth_year = None
        client.gender = Gender.UNSPECIFIED
        client.erased_at = now
        client.updated_at = now
        client.updated_by = actor.user_id
        session.flush()

        def count(model: Any) -> int:
            return int(
                session.scalar(
                    select(func.count()).select_from(model).where(model.client_id == cid)
                )
                or 0
            )

        return ErasureReport(
            client_id=cid,
            erased_at=now,
            notes=notes,
            addenda=addenda,
            case_summaries=summaries,
            crisis_texts=crisis_texts,
            follow_up_notes=follow_up_notes,
            disclosures=disclosures,
            keys=keys,
            consents_withdrawn=consents,
            appointments_cancelled=len(future),
            registrations_cancelled=registrations,
            waitlist_withdrawn=waitlist,
            appointments_kept=count(m.Appointment),
            cases_kept=len(case_ids),
            assessments_kept=count(m.Assessment),
        )

    def _checkpoint(self) -> bool:
        """SQLite: copy the write-ahead log into the file and truncate it. False when a reader
        kept part of it (the next checkpoint finishes the job)."""
        if not self.db.is_sqlite:
            return True
        connection = self.db.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            row = cursor.fetchone()
            cursor.close()
        finally:
            connection.close()
        busy = bool(row and row[0])
        if busy:
            log.warning("erasure: the write-ahead log could not be checkpointed yet (busy)")
        return not busy
