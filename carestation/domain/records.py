"""Values of the confidential records: cases (个案), session notes and their addenda.

Plain, frozen values the services return; the UI never sees ORM rows. Values meant for lists
name the client by code, never by name, and note text appears only in `Note` and `Addendum`,
which only the note's readers ever receive.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from carestation.domain.vocab import (
    AppointmentStatus,
    AppointmentType,
    CaseOutcome,
    CaseStatus,
    NoteStatus,
    NoteTemplate,
    RiskLevel,
    Topic,
)
from carestation.i18n import N_, _

# -- note templates -------------------------------------------------------------------------------

# The sections of each template, in the order they are shown and stored.
TEMPLATE_SECTIONS: dict[NoteTemplate, tuple[str, ...]] = {
    NoteTemplate.SOAP: ("subjective", "objective", "assessment", "plan"),
    NoteTemplate.DAP: ("data", "assessment", "plan"),
    NoteTemplate.FREE: ("text",),
}

_SECTION_TITLES = {
    "subjective": N_("Subjective (what the client reports)"),
    "objective": N_("Objective (what the counsellor observed)"),
    "data": N_("Data (what was said and observed)"),
    "assessment": N_("Assessment"),
    "plan": N_("Plan"),
    "text": N_("Note"),
}

# Longest text accepted in one section or addendum (characters): a generous page or ten.
MAX_SECTION_CHARS = 20_000


def section_title(name: str) -> str:
    """The translated heading of a note section."""
    return _(_SECTION_TITLES[name]) if name in _SECTION_TITLES else name


def template_sections(template: NoteTemplate) -> tuple[str, ...]:
    return TEMPLATE_SECTIONS[NoteTemplate(template)]


# -- cases ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseSummary:
    """One case, as a line in a list: the client by code only."""

    id: int
    client_id: int
    client_code: str
    station_id: int
    station_name: str
    counsellor_id: int
    counsellor_name: str
    status: CaseStatus
    risk_level: RiskLevel
    outcome: CaseOutcome | None
    topics: tuple[Topic, ...]  # in the vocabulary's order
    opened_at: datetime  # in the station's time zone
    closed_at: datetime | None
    version: int

    @property
    def is_open(self) -> bool:
        return self.status is CaseStatus.OPEN


@dataclass(frozen=True)
class CaseDetail:
    """A case as its reader sees it. `closing_summary` is the decrypted closing summary, given
    only to the case's counsellor and the station's supervisor (None for other readers and
    while the case is open)."""

    case: CaseSummary
    closing_summary: str | None
    closed_by_name: str = ""


class TimelineKind(StrEnum):
    CASE_OPENED = "case_opened"
    APPOINTMENT = "appointment"
    NOTE = "note"
    ASSESSMENT = "assessment"
    FLAG_RAISED = "flag_raised"
    FOLLOW_UP = "follow_up"
    FLAG_CLEARED = "flag_cleared"
    CASE_CLOSED = "case_closed"

    @property
    def title(self) -> str:  # type: ignore[override]
        return _(_TIMELINE_TITLES[self])


_TIMELINE_TITLES = {
    TimelineKind.CASE_OPENED: N_("Case opened"),
    TimelineKind.APPOINTMENT: N_("Appointment"),
    TimelineKind.NOTE: N_("Session note"),
    TimelineKind.ASSESSMENT: N_("Assessment"),
    TimelineKind.FLAG_RAISED: N_("Crisis flag raised"),
    TimelineKind.FOLLOW_UP: N_("Crisis follow-up"),
    TimelineKind.FLAG_CLEARED: N_("Crisis flag cleared"),
    TimelineKind.CASE_CLOSED: N_("Case closed"),
}

# Items at the same moment are shown in this order (an appointment before its note ...).
TIMELINE_ORDER = {kind: i for i, kind in enumerate(TimelineKind)}


@dataclass(frozen=True)
class TimelineItem:
    """One event of a case, in time order. Never carries note text, reasons or answers: only
    what happened, when, and its status. Fields that do not apply to the kind are None."""

    at: datetime  # in the station's time zone
    kind: TimelineKind
    ref_id: int | None = None  # the appointment, note, assessment, flag or follow-up
    appointment_id: int | None = None
    appointment_type: AppointmentType | None = None
    appointment_status: AppointmentStatus | None = None
    note_status: NoteStatus | None = None
    addenda_count: int | None = None
    author_name: str | None = None
    instrument: str | None = None
    total: int | None = None
    band: str | None = None
    flag_id: int | None = None
    done: bool | None = None  # a follow-up: done (at `at`) or still due (at `at`)
    outcome: CaseOutcome | None = None


# -- notes ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Addendum:
    id: int
    note_id: int
    author_id: int
    author_name: str
    created_at: datetime
    text: str


@dataclass(frozen=True)
class Note:
    """A session note with its text: given only to the note's readers (the author, the station's
    supervisor, and the named co-signer)."""

    id: int
    appointment_id: int
    case_id: int | None
    client_code: str
    station_id: int
    appointment_starts_at: datetime  # in the station's time zone
    author_id: int
    author_name: str
    template: NoteTemplate
    sections: Mapping[str, str]  # every section of the template, in its order
    status: NoteStatus
    version: int
    created_at: datetime
    updated_at: datetime
    signed_at: datetime | None = None
    cosigner_id: int | None = None
    cosigner_name: str = ""
    cosigned_at: datetime | None = None
    addenda: tuple[Addendum, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "sections", MappingProxyType(dict(self.sections)))

    @property
    def is_draft(self) -> bool:
        return self.status is NoteStatus.DRAFT

    @property
    def is_blank(self) -> bool:
        return not any(text.strip() for text in self.sections.values())


@dataclass(frozen=True)
class NoteHeader:
    """A note in a list or queue: no text. `waiting_since` is when it was signed, for a note
    awaiting co-signature."""

    id: int
    appointment_id: int
    case_id: int | None
    client_code: str
    appointment_starts_at: datetime  # in the station's time zone
    author_id: int
    author_name: str
    template: NoteTemplate
    status: NoteStatus
    version: int
    created_at: datetime
    updated_at: datetime
    signed_at: datetime | None
    cosigner_id: int | None
    cosigner_name: str
    cosigned_at: datetime | None
    addenda_count: int

    @property
    def waiting_since(self) -> datetime | None:
        return self.signed_at if self.status is NoteStatus.AWAITING_COSIGN else None


@dataclass(frozen=True)
class Colleague:
    """A counsellor one may choose (a co-signer): id and display name only."""

    id: int
    display_name: str
