"""The schema. Times are UTC (`UTCDateTime`); vocabularies are stored as their string values."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from carestation.db.base import Base, UTCDateTime
from carestation.domain.roles import Role
from carestation.domain.vocab import (
    AgeBand,
    AppointmentStatus,
    AppointmentType,
    AssessmentMode,
    CancelReason,
    CaseOutcome,
    CaseStatus,
    ChangeKind,
    ConsentPurpose,
    CounsellorKind,
    DisclosureBasis,
    ExceptionKind,
    FlagSource,
    Gender,
    Industry,
    Modality,
    NoteStatus,
    NoteTemplate,
    PodPhase,
    PodProgramme,
    RegistrationStatus,
    RiskAction,
    RiskLevel,
    RoomKind,
    Topic,
    WaitlistStatus,
)

SCHEMA_APPLICATION = "carestation"


E = TypeVar("E", bound=StrEnum)


class EnumText(TypeDecorator[E]):
    """A StrEnum kept as plain text, so adding a member later needs no schema change."""

    impl = String(24)
    cache_ok = True

    def __init__(self, enum_cls: type[E]) -> None:
        super().__init__()
        self.enum_cls = enum_cls

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return self.enum_cls(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> E | None:
        return None if value is None else self.enum_cls(value)


class Meta(Base):
    """Marks a database as CareStation's; a database without it is refused, not migrated."""

    __tablename__ = "carestation_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class Station(Base):
    __tablename__ = "station"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    address: Mapped[str] = mapped_column(String(500), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    time_zone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Confidential records (revision 0003)
    # The expert who may read this station's counsellors' notes and co-signs by default.
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # How long notes are kept after their case closes; then they are purged.
    retention_months: Mapped[int] = mapped_column(Integer, default=120, server_default="120")
    # The station's crisis plan, one step per line; empty means the standard checklist.
    crisis_plan: Mapped[str] = mapped_column(Text, default="", server_default="")

    hours: Mapped[list[StationHours]] = relationship(
        back_populates="station", cascade="all, delete-orphan", order_by="StationHours.weekday"
    )
    rooms: Mapped[list[Room]] = relationship(back_populates="station")


class StationHours(Base):
    """Weekly opening hours; a weekday with no row is a closed day."""

    __tablename__ = "station_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("closes > opens", name="order"),
        UniqueConstraint("station_id", "weekday", "opens"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(SmallInteger)
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)

    station: Mapped[Station] = relationship(back_populates="hours")


class Room(Base):
    __tablename__ = "room"
    __table_args__ = (
        UniqueConstraint("station_id", "name"),
        CheckConstraint("capacity >= 1", name="capacity"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[RoomKind] = mapped_column(EnumText(RoomKind))
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    station: Mapped[Station] = relationship(back_populates="rooms")


class UserAccount(Base):
    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    roles: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan")
    stations: Mapped[list[UserStation]] = relationship(cascade="all, delete-orphan")
    counsellor: Mapped[CounsellorProfile | None] = relationship(
        cascade="all, delete-orphan", uselist=False
    )


class UserRole(Base):
    __tablename__ = "user_role"
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(EnumText(Role), primary_key=True)


class UserStation(Base):
    __tablename__ = "user_station"
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), primary_key=True, index=True)


class CounsellorProfile(Base):
    __tablename__ = "counsellor_profile"
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[CounsellorKind] = mapped_column(EnumText(CounsellorKind))
    qualifications: Mapped[str] = mapped_column(String(500), default="")
    languages: Mapped[str] = mapped_column(String(100), default="")


class CounsellorHours(Base):
    """A counsellor's regular weekly hours at one station."""

    __tablename__ = "counsellor_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("ends > starts", name="order"),
        Index(None, "counsellor_id", "weekday"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    counsellor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    weekday: Mapped[int] = mapped_column(SmallInteger)
    starts: Mapped[time] = mapped_column(Time)
    ends: Mapped[time] = mapped_column(Time)


class Client(Base):
    """The employee. Every other table and every report refers to `client_code`, not the name."""

    __tablename__ = "client"
    __table_args__ = (
        CheckConstraint(
            "birth_year IS NULL OR birth_year BETWEEN 1900 AND 2100", name="birth_year"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    client_code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    phone: Mapped[str] = mapped_column(String(32), default="", index=True)
    work_unit: Mapped[str] = mapped_column(String(200), default="")
    gender: Mapped[Gender] = mapped_column(EnumText(Gender), default=Gender.UNSPECIFIED)
    birth_year: Mapped[int | None] = mapped_column(SmallInteger)
    home_station_id: Mapped[int | None] = mapped_column(ForeignKey("station.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Revision 0003
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Set when the person's identity was erased on request; the de-identified rest stays.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ClientKey(Base):
    """A client's data key, only ever stored wrapped by the key-encryption key (which is never in
    the database). Deleting the row makes everything encrypted under it unreadable for good,
    in old backups too."""

    __tablename__ = "client_key"
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Consent(Base):
    """A separate, explicit consent for one purpose (PIPL art. 29), and its withdrawal."""

    __tablename__ = "consent"
    __table_args__ = (Index(None, "client_id", "purpose"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"))
    purpose: Mapped[ConsentPurpose] = mapped_column(EnumText(ConsentPurpose))
    wording_version: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("station.id"))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime())
    taken_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class Case(Base):
    """An episode of care (个案)."""

    __tablename__ = "care_case"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    counsellor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    status: Mapped[CaseStatus] = mapped_column(EnumText(CaseStatus), default=CaseStatus.OPEN)
    risk_level: Mapped[RiskLevel] = mapped_column(EnumText(RiskLevel), default=RiskLevel.LOW)
    outcome: Mapped[CaseOutcome | None] = mapped_column(EnumText(CaseOutcome))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Revision 0003
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The closing summary is confidential: encrypted under the client's data key.
    summary_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    key_version: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    topics: Mapped[list[CaseTopic]] = relationship(cascade="all, delete-orphan")


class CaseTopic(Base):
    __tablename__ = "case_topic"
    case_id: Mapped[int] = mapped_column(
        ForeignKey("care_case.id", ondelete="CASCADE"), primary_key=True
    )
    topic: Mapped[Topic] = mapped_column(EnumText(Topic), primary_key=True)


class Appointment(Base):
    __tablename__ = "appointment"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index(None, "station_id", "starts_at"),
        Index(None, "counsellor_id", "starts_at"),
        Index(None, "room_id", "starts_at"),
        Index(None, "client_id", "starts_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("client.id"))
    counsellor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("room.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("care_case.id"), index=True)
    type: Mapped[AppointmentType] = mapped_column(EnumText(AppointmentType))
    modality: Mapped[Modality] = mapped_column(EnumText(Modality), default=Modality.IN_PERSON)
    status: Mapped[AppointmentStatus] = mapped_column(
        EnumText(AppointmentStatus), default=AppointmentStatus.BOOKED
    )
    topic: Mapped[Topic | None] = mapped_column(EnumText(Topic))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Scheduling (revision 0002)
    series_id: Mapped[int | None] = mapped_column(ForeignKey("appointment_series.id"), index=True)
    pod_programme: Mapped[PodProgramme | None] = mapped_column(EnumText(PodProgramme))
    title: Mapped[str] = mapped_column(String(200), default="", server_default="")
    address: Mapped[str] = mapped_column(String(500), default="", server_default="")
    capacity: Mapped[int | None] = mapped_column(Integer)
    walk_in: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    cap_override_reason: Mapped[str] = mapped_column(String(500), default="", server_default="")
    cancel_reason: Mapped[CancelReason | None] = mapped_column(EnumText(CancelReason))
    cancel_note: Mapped[str] = mapped_column(String(500), default="", server_default="")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    late_cancel: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Bumped on every change, so an edit made from a stale screen is refused, not lost.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class AppointmentSeries(Base):
    """A recurring booking: every occurrence is an appointment carrying this id."""

    __tablename__ = "appointment_series"
    __table_args__ = (CheckConstraint("interval_weeks BETWEEN 1 AND 4", name="interval"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    interval_weeks: Mapped[int] = mapped_column(SmallInteger)
    planned_count: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class AppointmentChange(Base):
    """History: where an appointment was before each change, who changed it, when and why."""

    __tablename__ = "appointment_change"
    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id"), index=True)
    kind: Mapped[ChangeKind] = mapped_column(EnumText(ChangeKind))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    old_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    old_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    old_counsellor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    old_room_id: Mapped[int | None] = mapped_column(ForeignKey("room.id"))
    old_status: Mapped[AppointmentStatus | None] = mapped_column(EnumText(AppointmentStatus))
    new_status: Mapped[AppointmentStatus | None] = mapped_column(EnumText(AppointmentStatus))
    reason: Mapped[str] = mapped_column(String(500), default="")


class StationClosure(Base):
    """A day a station is closed besides public holidays (a local event, repairs ...)."""

    __tablename__ = "station_closure"
    __table_args__ = (UniqueConstraint("station_id", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"))
    day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")


class BookingRule(Base):
    """A station's rules for one appointment type; absent rows fall back to the defaults."""

    __tablename__ = "booking_rule"
    __table_args__ = (
        UniqueConstraint("station_id", "type"),
        CheckConstraint("default_minutes BETWEEN 5 AND 720", name="duration"),
        CheckConstraint("buffer_minutes BETWEEN 0 AND 240", name="buffer"),
        CheckConstraint("min_notice_minutes >= 0", name="notice"),
        CheckConstraint("late_cancel_hours >= 0", name="late_cancel"),
        CheckConstraint("weekly_cap IS NULL OR weekly_cap >= 1", name="cap"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"))
    type: Mapped[AppointmentType] = mapped_column(EnumText(AppointmentType))
    default_minutes: Mapped[int] = mapped_column(Integer)
    buffer_minutes: Mapped[int] = mapped_column(Integer)
    min_notice_minutes: Mapped[int] = mapped_column(Integer)
    late_cancel_hours: Mapped[int] = mapped_column(Integer)
    weekly_cap: Mapped[int | None] = mapped_column(Integer)


class CounsellorAbsence(Base):
    """Leave, a training day, or extra hours at one station: exceptions to the weekly hours."""

    __tablename__ = "counsellor_exception"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="order"),
        Index(None, "counsellor_id", "starts_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    counsellor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("station.id"))
    kind: Mapped[ExceptionKind] = mapped_column(EnumText(ExceptionKind))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class WaitlistEntry(Base):
    """A client waiting for a counsellor, a station and/or a window of days and times."""

    __tablename__ = "waitlist_entry"
    __table_args__ = (Index(None, "station_id", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"))
    counsellor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    type: Mapped[AppointmentType] = mapped_column(EnumText(AppointmentType))
    earliest: Mapped[date] = mapped_column(Date)
    latest: Mapped[date] = mapped_column(Date)
    time_from: Mapped[time] = mapped_column(Time)
    time_to: Mapped[time] = mapped_column(Time)
    note: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[WaitlistStatus] = mapped_column(EnumText(WaitlistStatus))
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class LectureRegistration(Base):
    __tablename__ = "lecture_registration"
    __table_args__ = (UniqueConstraint("appointment_id", "client_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    status: Mapped[RegistrationStatus] = mapped_column(EnumText(RegistrationStatus))
    attended: Mapped[bool] = mapped_column(Boolean, default=False)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    registered_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class SessionNote(Base):
    """A counsellor's note on one appointment; the body is ciphertext, never plain text."""

    __tablename__ = "session_note"
    __table_args__ = (UniqueConstraint("appointment_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("care_case.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    template: Mapped[NoteTemplate] = mapped_column(EnumText(NoteTemplate))
    body_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    key_version: Mapped[int] = mapped_column(Integer)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Revision 0003
    status: Mapped[NoteStatus] = mapped_column(
        EnumText(NoteStatus), default=NoteStatus.DRAFT, server_default="draft"
    )
    # The expert who must co-sign a regulator's or mentor's note before it is final.
    cosigner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    cosigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class NoteAddendum(Base):
    """A dated addition to a signed note; the note itself never changes after signing."""

    __tablename__ = "note_addendum"
    id: Mapped[int] = mapped_column(primary_key=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("session_note.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    body_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    key_version: Mapped[int] = mapped_column(Integer)


class CrisisFlag(Base):
    """A client (or case) marked at risk; cleared only with the actions taken recorded."""

    __tablename__ = "crisis_flag"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("care_case.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"))
    source: Mapped[FlagSource] = mapped_column(EnumText(FlagSource))
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("assessment.id"))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    raised_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Why, in the counsellor's words: encrypted under the client's data key.
    reason_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    key_version: Mapped[int] = mapped_column(Integer)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cleared_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actions: Mapped[list[str]] = mapped_column(JSON, default=list)
    # What was done, in words: encrypted like the reason.
    actions_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)


class CrisisFollowUp(Base):
    """A scheduled check after a flag is raised (by default at 24 h, 72 h and 7 days)."""

    __tablename__ = "crisis_followup"
    __table_args__ = (Index(None, "done_at", "due_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("crisis_flag.id"), index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    note_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    key_version: Mapped[int | None] = mapped_column(Integer)


class Disclosure(Base):
    """A release of a client's information outside the station: to whom, what, why (encrypted),
    and on what basis."""

    __tablename__ = "disclosure"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("station.id"))
    disclosed_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    basis: Mapped[DisclosureBasis] = mapped_column(EnumText(DisclosureBasis))
    consent_id: Mapped[int | None] = mapped_column(ForeignKey("consent.id"))
    detail_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    key_version: Mapped[int] = mapped_column(Integer)


class Assessment(Base):
    """One completed questionnaire: raw answers and instrument version are kept, not only the total."""

    __tablename__ = "assessment"
    __table_args__ = (Index(None, "station_id", "taken_at"), Index(None, "client_id", "taken_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("client.id"))  # None: anonymous
    case_id: Mapped[int | None] = mapped_column(ForeignKey("care_case.id"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"))
    instrument: Mapped[str] = mapped_column(String(16))
    instrument_version: Mapped[str] = mapped_column(String(16))
    answers: Mapped[list[int | None]] = mapped_column(JSON)
    total: Mapped[int] = mapped_column(Integer)
    band: Mapped[str] = mapped_column(String(32))
    mode: Mapped[AssessmentMode] = mapped_column(EnumText(AssessmentMode))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime())
    administered_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Revision 0004
    # The unscored questions asked with the form (PHQ-9/GAD-7 "difficulty"): item id -> code.
    extra_answers: Mapped[dict[str, int] | None] = mapped_column(JSON)
    # The language the person read the questions in (the wording is part of the instrument).
    language: Mapped[str | None] = mapped_column(String(8))
    # A distress rating taken with an emotion-pod booking: before or after the session.
    phase: Mapped[PodPhase | None] = mapped_column(EnumText(PodPhase))
    # Anonymous forms: a screening campaign's, and what the visitor chose to tell about
    # themselves. Their taken_at is the day only (local midnight), so that no row can be matched
    # to a person by the minute they were at the station.
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id"), index=True)
    age_band: Mapped[AgeBand | None] = mapped_column(EnumText(AgeBand))
    respondent_gender: Mapped[Gender | None] = mapped_column(EnumText(Gender))
    industry: Mapped[Industry | None] = mapped_column(EnumText(Industry))


class RiskAlert(Base):
    """A result that needs a person to act now (PHQ-9 item 9 above 0, K10 of 30 or more): shown
    to everyone on duty at the station until someone records what was done.

    An alert for an anonymous form names no assessment: only the station, the time, the
    instrument and the rule, which is what the counsellor needs to go and find the person."""

    __tablename__ = "risk_alert"
    __table_args__ = (Index(None, "station_id", "acted_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("client.id"), index=True)
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("assessment.id"))
    crisis_flag_id: Mapped[int | None] = mapped_column(ForeignKey("crisis_flag.id"))
    mode: Mapped[AssessmentMode] = mapped_column(EnumText(AssessmentMode))
    instrument: Mapped[str] = mapped_column(String(16))
    # The rule that fired, e.g. "phq9_item9" or "k10_very_high" (keys of domain.risk.RISK_RULES).
    reason: Mapped[str] = mapped_column(String(32))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acted_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    action: Mapped[RiskAction | None] = mapped_column(EnumText(RiskAction))
    # What was done, in words: under the client's data key, or for an anonymous alert under a
    # key derived from the protection key.
    note_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    key_version: Mapped[int | None] = mapped_column(Integer)


class Campaign(Base):
    """A screening campaign (普测) for one employer or work unit: instruments, dates, codes."""

    __tablename__ = "campaign"
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="dates"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    work_unit: Mapped[str] = mapped_column(String(200))
    # Canonical instrument codes in the order they are asked, e.g. ["phq9", "gad7"].
    instruments: Mapped[list[str]] = mapped_column(JSON)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class CampaignCode(Base):
    """A one-time code handed out on a slip. It records that it was used (the day only), never
    by whom or with which result: the forms it unlocked carry the campaign, not the code."""

    __tablename__ = "campaign_code"
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_on: Mapped[date | None] = mapped_column(Date)
    # The holder asked for a follow-up with the code (staff booked it, or it was requested).
    follow_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    follow_up_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class AuditEvent(Base):
    """Append-only trail of sign-ins, views, changes and refusals. Never names or note text."""

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    username: Mapped[str] = mapped_column(String(32), default="")
    role: Mapped[str] = mapped_column(String(24), default="")
    station_id: Mapped[int | None] = mapped_column(ForeignKey("station.id"))
    action: Mapped[str] = mapped_column(String(48), index=True)
    object_type: Mapped[str] = mapped_column(String(32), default="")
    object_ref: Mapped[str] = mapped_column(String(64), default="")
    result: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text, default="")
    # Tamper evidence (revision 0003): position in the chain, and an HMAC-SHA256 over this entry
    # and the previous entry's MAC, keyed by a secret that is not in the database.
    seq: Mapped[int | None] = mapped_column(Integer, unique=True)
    mac: Mapped[str] = mapped_column(String(64), default="", server_default="")


class AuditChain(Base):
    """The head of the audit chain: the last sequence number and MAC. A single row, locked by
    every transaction that appends, so the chain has one order across all station PCs."""

    __tablename__ = "audit_chain"
    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    mac: Mapped[str] = mapped_column(String(64))
