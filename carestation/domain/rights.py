"""Values for consent, the person's rights (export, erasure), disclosures and retention.

Plain Python: the services fill these from the database, the UI and the PDF render them.
An export carries typed data (for JSON) and builds translated sections of (label, value) rows
from it when asked, so the text follows the language chosen at that moment.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from carestation.domain.vocab import (
    AppointmentStatus,
    AppointmentType,
    AssessmentMode,
    CaseOutcome,
    CaseStatus,
    ConsentPurpose,
    DisclosureBasis,
    FlagSource,
    Gender,
    Modality,
    NoteStatus,
    RegistrationStatus,
    RiskLevel,
    Topic,
    WaitlistStatus,
)
from carestation.i18n import _

# -- consent ------------------------------------------------------------------------------------

WORDING_PLACEHOLDERS = ("station_name", "station_phone", "retention_months")
_VERSION = re.compile(r"^version:\s*([0-9A-Za-z.\-]{1,16})\s*$")
_HEADING_ID = re.compile(r"^(.*?)\s*\{#([a-z_]+)\}\s*$")


@dataclass(frozen=True)
class ConsentSection:
    """One part of the consent form. `purpose` is set on the part a person signs for that
    purpose; None marks the parts that apply to all (rights, contact, signature)."""

    title: str
    text: str
    purpose: ConsentPurpose | None = None


@dataclass(frozen=True)
class ConsentWording:
    """The consent form in one language. `version` is stored with every consent taken on it."""

    language: str
    version: str
    title: str
    introduction: str
    sections: tuple[ConsentSection, ...]

    def section(self, purpose: ConsentPurpose) -> ConsentSection:
        for s in self.sections:
            if s.purpose is purpose:
                return s
        raise KeyError(purpose)

    @property
    def general_sections(self) -> tuple[ConsentSection, ...]:
        return tuple(s for s in self.sections if s.purpose is None)

    def filled(self, **values: str) -> ConsentWording:
        """The form with the station's details in place of {station_name}, {station_phone} and
        {retention_months}. Other braces are left alone (the text is not a format string)."""
        unknown = set(values) - set(WORDING_PLACEHOLDERS)
        if unknown:
            raise KeyError(", ".join(sorted(unknown)))

        def fill(text: str) -> str:
            for key, value in values.items():
                text = text.replace("{" + key + "}", value)
            return text

        return ConsentWording(
            language=self.language,
            version=self.version,
            title=fill(self.title),
            introduction=fill(self.introduction),
            sections=tuple(
                ConsentSection(fill(s.title), fill(s.text), s.purpose) for s in self.sections
            ),
        )


def parse_consent_wording(text: str, *, language: str) -> ConsentWording:
    """Reads a consent text: a `version: ...` line, a `# title`, an introduction, then `## `
    sections; a section for a purpose ends its heading with `{#purpose}`. Every purpose must
    have exactly one section. Raises ValueError on a malformed file (a packaging mistake)."""
    lines = text.lstrip("\ufeff").splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    match = _VERSION.match(lines[0]) if lines else None
    if match is None:
        raise ValueError("a consent text starts with a line 'version: <at most 16 characters>'")
    version = match.group(1)
    title = ""
    introduction: list[str] = []
    sections: list[tuple[str, ConsentPurpose | None, list[str]]] = []
    for line in lines[1:]:
        if line.startswith("## "):
            heading = line[3:].strip()
            purpose: ConsentPurpose | None = None
            id_match = _HEADING_ID.match(heading)
            if id_match:
                heading = id_match.group(1).strip()
                try:
                    purpose = ConsentPurpose(id_match.group(2))
                except ValueError as exc:
                    raise ValueError(f"unknown consent purpose {id_match.group(2)!r}") from exc
            sections.append((heading, purpose, []))
        elif line.startswith("# ") and not title and not sections:
            title = line[2:].strip()
        elif sections:
            sections[-1][2].append(line)
        else:
            introduction.append(line)
    if not title:
        raise ValueError("a consent text has a '# ' title line after its version")
    purposes = [p for _h, p, _b in sections if p is not None]
    if sorted(purposes) != sorted(ConsentPurpose) or len(set(purposes)) != len(purposes):
        raise ValueError("a consent text has exactly one section for each purpose")
    return ConsentWording(
        language=language,
        version=version,
        title=title,
        introduction="\n".join(introduction).strip(),
        sections=tuple(
            ConsentSection(heading, "\n".join(body).strip(), purpose)
            for heading, purpose, body in sections
        ),
    )


@dataclass(frozen=True)
class ConsentRecord:
    """One consent as given, and its withdrawal. Times are in the station's time zone."""

    id: int
    client_id: int
    purpose: ConsentPurpose
    wording_version: str
    language: str
    station_name: str
    given_at: datetime
    taken_by: str
    withdrawn_at: datetime | None = None
    withdrawn_by: str = ""
    # The consent that counts for its purpose now: the latest given and not withdrawn.
    in_force: bool = False


# -- disclosures --------------------------------------------------------------------------------

MAX_RECIPIENT = 200
MAX_DISCLOSURE_TEXT = 2000


@dataclass(frozen=True)
class DisclosureRecord:
    id: int
    client_id: int
    station_name: str
    disclosed_on: date
    recorded_at: datetime
    recorded_by: str
    basis: DisclosureBasis
    consent_id: int | None
    recipient: str
    what: str
    why: str


# -- export -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportIdentity:
    client_code: str
    name: str
    phone: str
    work_unit: str
    gender: Gender
    birth_year: int | None
    home_station: str
    registered_at: datetime
    updated_at: datetime | None


@dataclass(frozen=True)
class ExportAppointment:
    starts_at: datetime
    ends_at: datetime
    station: str
    type: AppointmentType
    modality: Modality
    status: AppointmentStatus
    counsellor: str


@dataclass(frozen=True)
class ExportLecture:
    """The person's own registration for a lecture: never who else came."""

    starts_at: datetime
    ends_at: datetime
    station: str
    title: str
    speaker: str
    status: RegistrationStatus
    attended: bool
    registered_at: datetime


@dataclass(frozen=True)
class ExportWaitlistEntry:
    created_at: datetime
    station: str
    type: AppointmentType
    counsellor: str
    earliest: date
    latest: date
    time_from: time
    time_to: time
    status: WaitlistStatus
    note: str


@dataclass(frozen=True)
class ExportCase:
    opened_at: datetime
    closed_at: datetime | None
    station: str
    counsellor: str
    status: CaseStatus
    risk_level: RiskLevel
    topics: tuple[Topic, ...]
    outcome: CaseOutcome | None
    summary: str


@dataclass(frozen=True)
class ExportAssessment:
    taken_at: datetime
    station: str
    instrument: str
    instrument_version: str
    answers: tuple[int | None, ...]
    total: int
    band: str
    mode: AssessmentMode


@dataclass(frozen=True)
class ExportCrisisFlag:
    raised_at: datetime
    station: str
    source: FlagSource
    cleared_at: datetime | None
    actions: tuple[str, ...]  # the steps taken, by their titles
    follow_ups: tuple[tuple[datetime, datetime | None], ...]  # (due, done)

    @property
    def open(self) -> bool:
        return self.cleared_at is None


@dataclass(frozen=True)
class ExportAddendum:
    created_at: datetime
    author: str
    text: str | None


@dataclass(frozen=True)
class ExportNote:
    """A session note as listed in an export. `text` is None unless the person exporting may
    read it (an administrator never may: the author releases notes)."""

    session_at: datetime
    author: str
    status: NoteStatus
    signed_at: datetime | None
    text: str | None = None
    addenda: tuple[ExportAddendum, ...] = ()


@dataclass(frozen=True)
class ExportSection:
    """A titled part of the export. Each entry is one record as (label, value) pairs, already
    translated; every entry of a section has the same labels, so it can print as a table."""

    key: str
    title: str
    entries: tuple[tuple[tuple[str, str], ...], ...]
    remark: str = ""

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(label for label, _value in self.entries[0]) if self.entries else ()

    @property
    def table(self) -> tuple[tuple[str, ...], ...]:
        return tuple(tuple(value for _label, value in entry) for entry in self.entries)


EXPORT_FORMAT = "carestation.client_export/1"


@dataclass(frozen=True)
class ClientExport:
    """Everything held about one person, as of `generated_at`."""

    generated_at: datetime
    generated_by: str
    identity: ExportIdentity
    consents: tuple[ConsentRecord, ...] = ()
    appointments: tuple[ExportAppointment, ...] = ()
    lectures: tuple[ExportLecture, ...] = ()
    waitlist: tuple[ExportWaitlistEntry, ...] = ()
    cases: tuple[ExportCase, ...] = ()
    assessments: tuple[ExportAssessment, ...] = ()
    crisis_flags: tuple[ExportCrisisFlag, ...] = ()
    disclosures: tuple[DisclosureRecord, ...] = ()
    notes: tuple[ExportNote, ...] = ()

    @property
    def note_text_included(self) -> bool:
        """Whether any note's text is in the export (never for an administrator)."""
        return any(n.text is not None for n in self.notes)

    def sections(self) -> tuple[ExportSection, ...]:
        return _export_sections(self)

    def to_data(self) -> dict[str, Any]:
        """JSON-ready data with stable English keys and vocabulary values (not titles)."""
        data: dict[str, Any] = {"format": EXPORT_FORMAT}
        for f in fields(self):
            data[f.name] = _plain(getattr(self, f.name))
        for consent in data["consents"]:
            consent.pop("client_id", None)
        for disclosure in data["disclosures"]:
            disclosure.pop("client_id", None)
        return data


def _plain(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else ""


def _day(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


def _yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def _export_sections(export: ClientExport) -> tuple[ExportSection, ...]:
    ident = export.identity
    sections: list[ExportSection] = [
        ExportSection(
            "identity",
            _("Registered details"),
            (
                (
                    (_("Client code"), ident.client_code),
                    (_("Full name"), ident.name),
                    (_("Phone"), ident.phone),
                    (_("Work unit"), ident.work_unit),
                    (_("Gender"), ident.gender.title),
                    (_("Birth year"), str(ident.birth_year) if ident.birth_year else ""),
                    (_("Home station"), ident.home_station),
                    (_("Registered on"), _when(ident.registered_at)),
                    (_("Last corrected on"), _when(ident.updated_at)),
                ),
            ),
        ),
        ExportSection(
            "consents",
            _("Consents"),
            tuple(
                (
                    (_("Purpose"), c.purpose.title),
                    (_("Given on"), _when(c.given_at)),
                    (_("Taken by"), c.taken_by),
                    (_("Station"), c.station_name),
                    (_("Form version"), c.wording_version),
                    (_("Withdrawn on"), _when(c.withdrawn_at)),
                    (_("In force"), _yes_no(c.in_force)),
                )
                for c in export.consents
            ),
        ),
        ExportSection(
            "appointments",
            _("Appointments"),
            tuple(
                (
                    (_("Starts"), _when(a.starts_at)),
                    (_("Ends"), _when(a.ends_at)),
                    (_("Station"), a.station),
                    (_("Type"), a.type.title),
                    (_("How"), a.modality.title),
                    (_("Status"), a.status.title),
                    (_("Counsellor"), a.counsellor),
                )
                for a in export.appointments
            ),
        ),
        ExportSection(
            "lectures",
            _("Lectures and workshops"),
            tuple(
                (
                    (_("Starts"), _when(lec.starts_at)),
                    (_("Station"), lec.station),
                    (_("Title"), lec.title),
                    (_("Speaker"), lec.speaker),
                    (_("Registration"), lec.status.title),
                    (_("Attended"), _yes_no(lec.attended)),
                )
                for lec in export.lectures
            ),
            _("Only the person's own registrations; other participants are never listed."),
        ),
        ExportSection(
            "waitlist",
            _("Waitlist"),
            tuple(
                (
                    (_("Added on"), _when(w.created_at)),
                    (_("Station"), w.station),
                    (_("Type"), w.type.title),
                    (_("Counsellor"), w.counsellor),
                    (_("Days"), f"{w.earliest} – {w.latest}"),
                    (
                        _("Times"),
                        f"{w.time_from:%H:%M}–{w.time_to:%H:%M}",
                    ),
                    (_("Status"), w.status.title),
                    (_("Note"), w.note),
                )
                for w in export.waitlist
            ),
        ),
        ExportSection(
            "cases",
            _("Cases"),
            tuple(
                (
                    (_("Opened"), _when(c.opened_at)),
                    (_("Closed"), _when(c.closed_at)),
                    (_("Station"), c.station),
                    (_("Counsellor"), c.counsellor),
                    (_("Status"), c.status.title),
                    (_("Risk"), c.risk_level.title),
                    (_("Topics"), ", ".join(t.title for t in c.topics)),
                    (_("Outcome"), c.outcome.title if c.outcome else ""),
                    (_("Closing summary"), c.summary),
                )
                for c in export.cases
            ),
        ),
        ExportSection(
            "assessments",
            _("Assessments"),
            tuple(
                (
                    (_("Taken on"), _when(a.taken_at)),
                    (_("Station"), a.station),
                    (_("Questionnaire"), a.instrument.upper()),
                    (_("Version"), a.instrument_version),
                    (
                        _("Answers"),
                        " ".join("-" if v is None else str(v) for v in a.answers),
                    ),
                    (_("Total"), str(a.total)),
                    (_("Result"), a.band),
                    (_("Taken"), a.mode.title),
                )
                for a in export.assessments
            ),
        ),
        ExportSection(
            "crisis_flags",
            _("Crisis flags"),
            tuple(
                (
                    (_("Raised on"), _when(f.raised_at)),
                    (_("Station"), f.station),
                    (_("Raised by"), f.source.title),
                    (_("Status"), _("Open") if f.open else _("Cleared")),
                    (_("Cleared on"), _when(f.cleared_at)),
                    (_("What was done"), "; ".join(f.actions)),
                    (
                        _("Follow-ups"),
                        "; ".join(
                            _("due {due}, done {done}").format(
                                due=_when(due), done=_when(done) or "–"
                            )
                            for due, done in f.follow_ups
                        ),
                    ),
                )
                for f in export.crisis_flags
            ),
        ),
        ExportSection(
            "disclosures",
            _("Information given to others"),
            tuple(
                (
                    (_("Date"), _day(d.disclosed_on)),
                    (_("To whom"), d.recipient),
                    (_("What"), d.what),
                    (_("Why"), d.why),
                    (_("Basis"), d.basis.title),
                    (_("Recorded by"), d.recorded_by),
                )
                for d in export.disclosures
            ),
        ),
    ]
    note_entries = []
    with_text = export.note_text_included
    withheld = _("(released by the counsellor who wrote it)")
    for n in export.notes:
        entry: list[tuple[str, str]] = [
            (_("Session"), _when(n.session_at)),
            (_("Written by"), n.author),
            (_("Status"), n.status.title),
            (_("Signed on"), _when(n.signed_at)),
        ]
        if with_text:
            entry.append((_("Text"), n.text if n.text is not None else withheld))
            entry.append(
                (
                    _("Addenda"),
                    "\n".join(
                        "{when} {author}: {text}".format(
                            when=_when(a.created_at), author=a.author, text=a.text or ""
                        )
                        for a in n.addenda
                    ),
                )
            )
        note_entries.append(tuple(entry))
    sections.append(
        ExportSection(
            "notes",
            _("Session notes"),
            tuple(note_entries),
            ""
            if all(n.text is not None for n in export.notes)
            else _(
                "The contents of session notes are not part of this export. The counsellor who "
                "wrote them releases them to the person, on request."
            ),
        )
    )
    return tuple(sections)


# -- erasure ------------------------------------------------------------------------------------

MAX_REQUEST_REF = 64


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure removed and what de-identified rows it kept (for the counts)."""

    client_id: int
    erased_at: datetime
    notes: int = 0
    addenda: int = 0
    case_summaries: int = 0
    crisis_texts: int = 0
    follow_up_notes: int = 0
    disclosures: int = 0
    keys: int = 0
    consents_withdrawn: int = 0
    appointments_cancelled: int = 0
    registrations_cancelled: int = 0
    waitlist_withdrawn: int = 0
    # Kept, without identity, so that statistics stay right.
    appointments_kept: int = 0
    cases_kept: int = 0
    assessments_kept: int = 0
    # False when SQLite could not fold its write-ahead log back at once (someone was reading);
    # the next checkpoint does it. Always True on PostgreSQL.
    checkpointed: bool = True

    def counts(self) -> dict[str, int]:
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("client_id", "erased_at", "checkpointed")
        }

    def rows(self) -> tuple[tuple[str, str], ...]:
        """(label, count) for the administrator's confirmation."""
        labels = {
            "notes": _("Session notes deleted"),
            "addenda": _("Note addenda deleted"),
            "case_summaries": _("Case summaries cleared"),
            "crisis_texts": _("Crisis-flag texts cleared"),
            "follow_up_notes": _("Follow-up notes cleared"),
            "disclosures": _("Disclosure records deleted"),
            "keys": _("Data keys destroyed"),
            "consents_withdrawn": _("Consents withdrawn"),
            "appointments_cancelled": _("Future appointments cancelled"),
            "registrations_cancelled": _("Lecture registrations cancelled"),
            "waitlist_withdrawn": _("Waitlist entries withdrawn"),
            "appointments_kept": _("Appointments kept without identity"),
            "cases_kept": _("Cases kept without identity"),
            "assessments_kept": _("Assessments kept without identity"),
        }
        return tuple((labels[k], str(v)) for k, v in self.counts().items())


# -- retention ----------------------------------------------------------------------------------


def months_before(moment: datetime, months: int) -> datetime:
    """The same moment `months` calendar months earlier; the 31st of a shorter month becomes
    its last day (2026-03-31 minus one month is 2026-02-28)."""
    if months < 0:
        raise ValueError("months must not be negative")
    index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


@dataclass(frozen=True)
class StationPurge:
    """Per station: what is (or would be) purged from cases closed before `cutoff`."""

    station_id: int
    station_name: str
    retention_months: int
    cutoff: datetime
    cases: int = 0
    notes: int = 0
    addenda: int = 0
    case_summaries: int = 0
    crisis_texts: int = 0
    follow_up_notes: int = 0

    @property
    def purged(self) -> int:
        return (
            self.notes
            + self.addenda
            + self.case_summaries
            + self.crisis_texts
            + self.follow_up_notes
        )


@dataclass(frozen=True)
class PurgeReport:
    ran_at: datetime
    dry_run: bool
    stations: tuple[StationPurge, ...] = field(default_factory=tuple)

    def total(self, name: str) -> int:
        return sum(getattr(s, name) for s in self.stations)

    @property
    def purged(self) -> int:
        return sum(s.purged for s in self.stations)
