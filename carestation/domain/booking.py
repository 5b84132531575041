"""Values of the scheduling use cases: drafts, slots, appointments as shown, and refusals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from carestation.domain.errors import CareStationError
from carestation.domain.vocab import (
    AppointmentStatus,
    AppointmentType,
    CancelReason,
    ChangeKind,
    Gender,
    Modality,
    PodProgramme,
    RegistrationStatus,
    Topic,
    WaitlistStatus,
)


@dataclass(frozen=True)
class BookingDraft:
    type: AppointmentType
    station_id: int
    starts_at: datetime
    ends_at: datetime | None = None  # None: the type's default length at this station
    client_id: int | None = None
    counsellor_id: int | None = None
    room_id: int | None = None
    modality: Modality = Modality.IN_PERSON
    topic: Topic | None = None
    pod_programme: PodProgramme | None = None
    title: str = ""
    address: str = ""
    capacity: int | None = None
    walk_in: bool = False  # recording a visit that already happened
    override_reason: str = ""  # why the per-client weekly cap may be exceeded
    case_id: int | None = None


@dataclass(frozen=True)
class SlotRequest:
    type: AppointmentType
    station_id: int
    first_day: date
    last_day: date
    counsellor_id: int | None = None
    client_id: int | None = None
    modality: Modality | None = None
    limit: int = 10


@dataclass(frozen=True)
class SlotOption:
    station_id: int
    station_name: str
    starts_at: datetime  # in the station's time zone
    ends_at: datetime
    counsellor_id: int | None
    counsellor_name: str
    room_id: int | None
    room_name: str


@dataclass(frozen=True)
class Appointment:
    """An appointment as the acting user may see it. Times are in the station's time zone."""

    id: int
    version: int
    station_id: int
    station_name: str
    type: AppointmentType
    modality: Modality
    status: AppointmentStatus
    starts_at: datetime
    ends_at: datetime
    client_id: int | None
    client_name: str
    client_code: str
    client_phone: str
    counsellor_id: int | None
    counsellor_name: str
    room_id: int | None
    room_name: str
    topic: Topic | None = None
    pod_programme: PodProgramme | None = None
    title: str = ""
    address: str = ""
    capacity: int | None = None
    registered: int = 0
    series_id: int | None = None
    walk_in: bool = False
    late_cancel: bool = False
    cancel_reason: CancelReason | None = None
    cancel_note: str = ""

    @property
    def active(self) -> bool:
        return self.status is not AppointmentStatus.CANCELLED


@dataclass(frozen=True)
class ChangeRecord:
    kind: ChangeKind
    changed_at: datetime
    changed_by: str
    old_starts_at: datetime | None
    old_ends_at: datetime | None
    old_counsellor: str
    old_room: str
    old_status: AppointmentStatus | None
    new_status: AppointmentStatus | None
    reason: str


@dataclass(frozen=True)
class SeriesOccurrence:
    index: int
    starts_at: datetime
    ends_at: datetime
    problems: tuple[str, ...] = ()
    alternatives: tuple[SlotOption, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class ReminderRow:
    """The 'tomorrow' list staff phone through."""

    starts_at: datetime
    client_name: str
    client_phone: str
    client_code: str
    type: AppointmentType
    counsellor_name: str
    room_name: str


@dataclass(frozen=True)
class ClientSummary:
    id: int
    client_code: str
    name: str
    phone: str
    work_unit: str
    gender: Gender
    birth_year: int | None
    # When the record was made (UTC), for the client record's details. Not compared: two
    # summaries of the same registered details are equal however they were read.
    registered_at: datetime | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ClientInput:
    name: str
    phone: str
    work_unit: str = ""
    gender: Gender = Gender.UNSPECIFIED
    birth_year: int | None = None
    home_station_id: int | None = None


@dataclass(frozen=True)
class Registration:
    id: int
    client_id: int
    client_name: str
    client_code: str
    client_phone: str
    status: RegistrationStatus
    attended: bool
    registered_at: datetime


@dataclass(frozen=True)
class WaitlistItem:
    id: int
    client_id: int
    client_name: str
    client_code: str
    client_phone: str
    station_id: int
    counsellor_id: int | None
    counsellor_name: str
    type: AppointmentType
    earliest: date
    latest: date
    time_from: time
    time_to: time
    note: str
    status: WaitlistStatus
    offer: SlotOption | None = None  # the first free slot that matches, if any


@dataclass(frozen=True)
class WaitlistInput:
    client_id: int
    station_id: int
    type: AppointmentType
    earliest: date
    latest: date
    time_from: time = time(8, 0)
    time_to: time = time(18, 0)
    counsellor_id: int | None = None
    note: str = ""


class BookingRefused(CareStationError):
    """A booking or move breaks a rule. `problems` says which; `alternatives` what would work.

    `overridable` is True when the only problem is the per-client weekly cap, which staff may
    override by giving a reason.
    """

    def __init__(
        self,
        problems: list[str],
        alternatives: list[SlotOption] | None = None,
        *,
        overridable: bool = False,
    ) -> None:
        self.problems = problems
        self.alternatives = alternatives or []
        self.overridable = overridable
        super().__init__("\n".join(problems))


class DuplicateClient(CareStationError):
    """The same person (name and phone) is already registered: offer the existing record."""

    def __init__(self, message: str, existing: ClientSummary) -> None:
        super().__init__(message)
        self.existing = existing


@dataclass(frozen=True)
class StatusChange:
    appointment: Appointment
    freed_offers: list[WaitlistItem] = field(default_factory=list)
