"""The fixed vocabularies of the domain, stored as their string values, shown through gettext."""

from __future__ import annotations

from enum import StrEnum

from carestation.i18n import N_, _


class _Titled(StrEnum):
    """A StrEnum whose members have a translated `title` for display."""

    @property
    def title(self) -> str:
        return _(_TITLES[(type(self), self.value)])

    @property
    def msgid(self) -> str:
        """The untranslated title, for a document written in a language of its own
        (`translator(lang)(member.msgid)`, see carestation.reports)."""
        return _TITLES[(type(self), self.value)]


class RoomKind(_Titled):
    COUNSELLING_ROOM = "counselling_room"
    RELIEF_AREA = "relief_area"
    EMOTION_POD = "emotion_pod"
    GROUP_ROOM = "group_room"


class CounsellorKind(_Titled):
    EXPERT = "expert"
    REGULATOR = "regulator"
    MENTOR = "mentor"


class Gender(_Titled):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNSPECIFIED = "unspecified"


class AppointmentType(_Titled):
    COUNSELLING = "counselling"
    POD = "pod"
    ONLINE = "online"
    CRISIS = "crisis"
    LECTURE = "lecture"


class Modality(_Titled):
    IN_PERSON = "in_person"
    PHONE = "phone"
    VIDEO = "video"


class AppointmentStatus(_Titled):
    BOOKED = "booked"
    CHECKED_IN = "checked_in"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class CaseStatus(_Titled):
    OPEN = "open"
    CLOSED = "closed"


class CaseOutcome(_Titled):
    IMPROVED = "improved"
    UNCHANGED = "unchanged"
    REFERRED = "referred"
    DROPPED_OUT = "dropped_out"


class RiskLevel(_Titled):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Topic(_Titled):
    WORK_STRESS = "work_stress"
    INTERPERSONAL = "interpersonal"
    EMOTION_REGULATION = "emotion_regulation"
    MARRIAGE_FAMILY = "marriage_family"
    PARENT_CHILD = "parent_child"
    CAREER = "career"
    PHYSICAL_HEALTH = "physical_health"
    CRISIS = "crisis"
    OTHER = "other"


class AssessmentMode(_Titled):
    COUNSELLOR = "counsellor"
    KIOSK = "kiosk"
    ANONYMOUS = "anonymous"


class CancelReason(_Titled):
    CLIENT = "client"
    COUNSELLOR = "counsellor"
    STATION = "station"


class PodProgramme(_Titled):
    BREATHING = "breathing"
    RELAXATION = "relaxation"
    RELEASE = "release"


class ExceptionKind(_Titled):
    LEAVE = "leave"
    TRAINING = "training"
    EXTRA = "extra"


class WaitlistStatus(_Titled):
    WAITING = "waiting"
    BOOKED = "booked"
    WITHDRAWN = "withdrawn"


class RegistrationStatus(_Titled):
    REGISTERED = "registered"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class ChangeKind(_Titled):
    CREATED = "created"
    MOVED = "moved"
    CANCELLED = "cancelled"
    STATUS = "status"


class NoteTemplate(_Titled):
    SOAP = "soap"
    DAP = "dap"
    FREE = "free"


class NoteStatus(_Titled):
    DRAFT = "draft"
    AWAITING_COSIGN = "awaiting_cosign"
    FINAL = "final"


class ConsentPurpose(_Titled):
    COUNSELLING = "counselling"
    ASSESSMENT = "assessment"
    REPORT_PRINTING = "report_printing"


class FlagSource(_Titled):
    COUNSELLOR = "counsellor"
    ASSESSMENT = "assessment"


class CrisisAction(_Titled):
    STAYED_WITH_PERSON = "stayed_with_person"
    CONTACTED_EXPERT = "contacted_expert"
    CALLED_EMERGENCY = "called_emergency"
    CALLED_HOTLINE = "called_hotline"
    INFORMED_CONTACT = "informed_contact"
    SAFETY_PLAN = "safety_plan"


class DisclosureBasis(_Titled):
    CLIENT_REQUEST = "client_request"
    CONSENT = "consent"
    VITAL_INTEREST = "vital_interest"
    LEGAL_DUTY = "legal_duty"


class AgeBand(_Titled):
    """Age in broad bands: all an anonymous visitor is asked, and only if they wish."""

    UNDER_25 = "under_25"
    FROM_25_TO_34 = "25_34"
    FROM_35_TO_44 = "35_44"
    FROM_45_TO_54 = "45_54"
    FROM_55 = "55_plus"


class Industry(_Titled):
    """Broad industries for anonymous statistics (the unions' own groupings, not a registry)."""

    MANUFACTURING = "manufacturing"
    CONSTRUCTION = "construction"
    TRANSPORT_DELIVERY = "transport_delivery"
    RETAIL_HOSPITALITY = "retail_hospitality"
    HEALTH_CARE = "health_care"
    EDUCATION = "education"
    PUBLIC_SERVICE = "public_service"
    FINANCE_IT = "finance_it"
    SANITATION_SERVICES = "sanitation_services"
    OTHER = "other"


class PodPhase(_Titled):
    """When a distress rating was taken, relative to an emotion-pod session."""

    BEFORE = "before"
    AFTER = "after"


class RiskAction(_Titled):
    """What was done about a risk alert; one must be recorded before the alert goes away."""

    SPOKE_WITH_PERSON = "spoke_with_person"
    CONTACTED_EXPERT = "contacted_expert"
    GAVE_HOTLINES = "gave_hotlines"
    CALLED_EMERGENCY = "called_emergency"
    BOOKED_SESSION = "booked_session"
    PERSON_LEFT = "person_left"


# Keyed by (enum class, value): members of different enums with the same value (BOOKED,
# CANCELLED, OTHER ...) are equal as strings and would collide as plain dictionary keys.
_PAIRS: tuple[tuple[StrEnum, str], ...] = (
    (RoomKind.COUNSELLING_ROOM, N_("Counselling room")),
    (RoomKind.RELIEF_AREA, N_("Relief area")),
    (RoomKind.EMOTION_POD, N_("Emotion pod")),
    (RoomKind.GROUP_ROOM, N_("Group room")),
    (CounsellorKind.EXPERT, N_("Expert")),
    (CounsellorKind.REGULATOR, N_("Emotion regulator")),
    (CounsellorKind.MENTOR, N_("Mind mentor")),
    (Gender.FEMALE, N_("Female")),
    (Gender.MALE, N_("Male")),
    (Gender.OTHER, N_("Other")),
    (Gender.UNSPECIFIED, N_("Not stated")),
    (AppointmentType.COUNSELLING, N_("Individual counselling")),
    (AppointmentType.POD, N_("Emotion-pod session")),
    (AppointmentType.ONLINE, N_("Online counselling")),
    (AppointmentType.CRISIS, N_("Crisis session")),
    (AppointmentType.LECTURE, N_("Lecture or workshop")),
    (Modality.IN_PERSON, N_("In person")),
    (Modality.PHONE, N_("Phone")),
    (Modality.VIDEO, N_("Video")),
    (AppointmentStatus.BOOKED, N_("Booked")),
    (AppointmentStatus.CHECKED_IN, N_("Checked in")),
    (AppointmentStatus.COMPLETED, N_("Completed")),
    (AppointmentStatus.CANCELLED, N_("Cancelled")),
    (AppointmentStatus.NO_SHOW, N_("No-show")),
    (CaseStatus.OPEN, N_("In progress")),
    (CaseStatus.CLOSED, N_("Closed")),
    (CaseOutcome.IMPROVED, N_("Improved")),
    (CaseOutcome.UNCHANGED, N_("Unchanged")),
    (CaseOutcome.REFERRED, N_("Referred")),
    (CaseOutcome.DROPPED_OUT, N_("Dropped out")),
    (RiskLevel.LOW, N_("Low")),
    (RiskLevel.MEDIUM, N_("Medium")),
    (RiskLevel.HIGH, N_("High")),
    (Topic.WORK_STRESS, N_("Work stress")),
    (Topic.INTERPERSONAL, N_("Interpersonal relations")),
    (Topic.EMOTION_REGULATION, N_("Emotion regulation")),
    (Topic.MARRIAGE_FAMILY, N_("Marriage and family")),
    (Topic.PARENT_CHILD, N_("Parent-child")),
    (Topic.CAREER, N_("Career")),
    (Topic.PHYSICAL_HEALTH, N_("Physical health")),
    (Topic.CRISIS, N_("Crisis")),
    (Topic.OTHER, N_("Other")),
    (AssessmentMode.COUNSELLOR, N_("With a counsellor")),
    (AssessmentMode.KIOSK, N_("Self-service screen")),
    (AssessmentMode.ANONYMOUS, N_("Anonymous walk-in")),
    (CancelReason.CLIENT, N_("Cancelled by the client")),
    (CancelReason.COUNSELLOR, N_("Cancelled by the counsellor")),
    (CancelReason.STATION, N_("Cancelled by the station")),
    (PodProgramme.BREATHING, N_("Guided breathing meditation")),
    (PodProgramme.RELAXATION, N_("Relaxation")),
    (PodProgramme.RELEASE, N_("Emotional release")),
    (ExceptionKind.LEAVE, N_("Leave")),
    (ExceptionKind.TRAINING, N_("Training day")),
    (ExceptionKind.EXTRA, N_("Extra hours")),
    (WaitlistStatus.WAITING, N_("Waiting")),
    (WaitlistStatus.BOOKED, N_("Booked from the waitlist")),
    (WaitlistStatus.WITHDRAWN, N_("Withdrawn")),
    (RegistrationStatus.REGISTERED, N_("Registered")),
    (RegistrationStatus.WAITLISTED, N_("On the waitlist")),
    (RegistrationStatus.CANCELLED, N_("Registration cancelled")),
    (ChangeKind.CREATED, N_("Booked")),
    (ChangeKind.MOVED, N_("Moved")),
    (ChangeKind.CANCELLED, N_("Cancelled")),
    (ChangeKind.STATUS, N_("Status changed")),
    (NoteTemplate.SOAP, N_("SOAP (subjective, objective, assessment, plan)")),
    (NoteTemplate.DAP, N_("DAP (data, assessment, plan)")),
    (NoteTemplate.FREE, N_("Free text")),
    (NoteStatus.DRAFT, N_("Draft")),
    (NoteStatus.AWAITING_COSIGN, N_("Awaiting co-signature")),
    (NoteStatus.FINAL, N_("Signed")),
    (ConsentPurpose.COUNSELLING, N_("Counselling")),
    (ConsentPurpose.ASSESSMENT, N_("Questionnaires and assessments")),
    (ConsentPurpose.REPORT_PRINTING, N_("Printing a personal report")),
    (FlagSource.COUNSELLOR, N_("Raised by a counsellor")),
    (FlagSource.ASSESSMENT, N_("Raised by an assessment result")),
    (CrisisAction.STAYED_WITH_PERSON, N_("Stayed with the person")),
    (CrisisAction.CONTACTED_EXPERT, N_("Contacted the on-duty expert")),
    (CrisisAction.CALLED_EMERGENCY, N_("Called emergency services (120 / 110)")),
    (CrisisAction.CALLED_HOTLINE, N_("Called the 12351 union hotline")),
    (CrisisAction.INFORMED_CONTACT, N_("Informed an emergency contact")),
    (CrisisAction.SAFETY_PLAN, N_("Made a safety plan with the person")),
    (DisclosureBasis.CLIENT_REQUEST, N_("At the client's own request")),
    (DisclosureBasis.CONSENT, N_("With the client's written consent")),
    (DisclosureBasis.VITAL_INTEREST, N_("To protect life or health in an emergency")),
    (DisclosureBasis.LEGAL_DUTY, N_("Required by law")),
    (AgeBand.UNDER_25, N_("Under 25")),
    (AgeBand.FROM_25_TO_34, N_("25 to 34")),
    (AgeBand.FROM_35_TO_44, N_("35 to 44")),
    (AgeBand.FROM_45_TO_54, N_("45 to 54")),
    (AgeBand.FROM_55, N_("55 or over")),
    (Industry.MANUFACTURING, N_("Manufacturing")),
    (Industry.CONSTRUCTION, N_("Construction")),
    (Industry.TRANSPORT_DELIVERY, N_("Transport, logistics and delivery")),
    (Industry.RETAIL_HOSPITALITY, N_("Retail, catering and hotels")),
    (Industry.HEALTH_CARE, N_("Health care")),
    (Industry.EDUCATION, N_("Education")),
    (Industry.PUBLIC_SERVICE, N_("Public service")),
    (Industry.FINANCE_IT, N_("Finance and IT")),
    (Industry.SANITATION_SERVICES, N_("Sanitation, cleaning and property services")),
    (Industry.OTHER, N_("Other industry")),
    (PodPhase.BEFORE, N_("Before the session")),
    (PodPhase.AFTER, N_("After the session")),
    (RiskAction.SPOKE_WITH_PERSON, N_("Spoke with the person in private")),
    (RiskAction.CONTACTED_EXPERT, N_("Contacted the on-duty expert")),
    (RiskAction.GAVE_HOTLINES, N_("Gave the help lines (12356, 12351, 120)")),
    (RiskAction.CALLED_EMERGENCY, N_("Called emergency services (120 / 110)")),
    (RiskAction.BOOKED_SESSION, N_("Booked a session with a counsellor")),
    (RiskAction.PERSON_LEFT, N_("The person had left; nothing more could be done")),
)
_TITLES: dict[tuple[type, str], str] = {
    (type(member), member.value): title for member, title in _PAIRS
}
