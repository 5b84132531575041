"""Values the assessment, risk-alert and campaign services take and return (no Qt, no SQL), and
the risk rules: which results need a person to act now."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from carestation.assessments import ChangeVerdict, Score
from carestation.domain.vocab import (
    AgeBand,
    AssessmentMode,
    Gender,
    Industry,
    PodPhase,
    RiskAction,
)
from carestation.i18n import N_, _

# --------------------------------------------------------------------------- risk rules

# The results that raise a risk alert (and, for an identified client, a crisis flag). Keys are
# stored on alerts and flags; the texts are what the counsellor on duty reads, never the person
# who answered (the self-service screen shows help lines instead of a label).
RISK_RULES: dict[str, str] = {
    "self_harm_item": N_(
        "PHQ-9 question 9 (thoughts of being better off dead or of self-harm) was answered above "
        "'not at all'."
    ),
    "k10_very_high": N_("The K10 total is 30 or more (very high psychological distress)."),
}


def risk_reasons(result: Score) -> tuple[str, ...]:
    """The RISK_RULES keys a scored form triggers, in rule order (empty when none)."""
    reasons: list[str] = []
    if result.instrument == "phq9" and "suicidal_ideation" in result.flags:
        reasons.append("self_harm_item")
    if result.instrument == "k10" and result.total >= 30:
        reasons.append("k10_very_high")
    return tuple(reasons)


def risk_reason_text(key: str) -> str:
    if key in RISK_RULES:
        return _(RISK_RULES[key])
    return _("An assessment result needs attention ({key}).").format(key=key)


# --------------------------------------------------------------------------- input


@dataclass(frozen=True)
class FormAnswers:
    """One completed questionnaire as the person answered it.

    `answers`: raw codes in questionnaire order (None only for a K10 item left out, when
    `prorate` is set). `extra_answers`: the unscored questions, by item id ("10" for the PHQ-9
    difficulty question). `language`: the language the questions were read in.
    """

    instrument: str
    answers: tuple[int | None, ...]
    extra_answers: tuple[tuple[str, int], ...] = ()
    language: str = "zh_CN"
    prorate: bool = False


@dataclass(frozen=True)
class AnonymousProfile:
    """All an anonymous visitor is asked about themselves, each optional."""

    age_band: AgeBand | None = None
    gender: Gender | None = None
    industry: Industry | None = None


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class AssessmentRecord:
    """One stored questionnaire as a permitted reader sees it; times in the station's zone.

    `answers` is None when the reader may not see item answers (mind mentors see totals only).
    """

    id: int
    instrument: str
    instrument_version: str
    taken_at: datetime
    mode: AssessmentMode
    total: int
    band: str
    percent: int | None
    flags: tuple[str, ...]
    prorated: bool
    answers: tuple[int | None, ...] | None
    extra_answers: tuple[tuple[str, int], ...] | None
    language: str | None
    station_name: str
    administered_by_name: str = ""
    case_id: int | None = None
    appointment_id: int | None = None
    phase: PodPhase | None = None


@dataclass(frozen=True)
class RecordedForm:
    """What saving one form did: its score, and whether someone must act now."""

    score: Score
    assessment_id: int | None  # None for anonymous and campaign forms: nothing to link back
    risk_reasons: tuple[str, ...] = ()
    alert_id: int | None = None
    crisis_flag_id: int | None = None

    @property
    def needs_help_now(self) -> bool:
        return bool(self.risk_reasons)


@dataclass(frozen=True)
class RecordedSession:
    """A self-service or campaign session saved in one transaction."""

    forms: tuple[RecordedForm, ...]

    @property
    def needs_help_now(self) -> bool:
        return any(f.needs_help_now for f in self.forms)


@dataclass(frozen=True)
class TrendPoint:
    assessment_id: int
    taken_at: datetime
    total: int
    value: int  # on the band basis: the total, or for WHO-5 the percent
    band: str


@dataclass(frozen=True)
class InstrumentTrend:
    """One client's scores on one instrument over time, oldest first, and what changed.

    `change`: reliable change between the first and the latest score (None with one score or
    for instruments without a threshold). `recovered`: for instruments with a caseness
    threshold, True when the first score was at or above it and the latest is below; False when
    it started at caseness and did not recover; None otherwise.
    """

    instrument: str
    points: tuple[TrendPoint, ...]
    change: ChangeVerdict | None = None
    recovered: bool | None = None


@dataclass(frozen=True)
class ClientAssessments:
    client_id: int
    client_code: str
    records: tuple[AssessmentRecord, ...]  # newest first
    trends: tuple[InstrumentTrend, ...]  # in instrument_codes() order, only those taken
    answers_visible: bool


@dataclass(frozen=True)
class PodRatings:
    appointment_id: int
    before: int | None
    after: int | None


@dataclass(frozen=True)
class RiskAlertInfo:
    """An alert as the people on duty see it. `client_code` is empty for an anonymous form."""

    id: int
    station_id: int
    station_name: str
    raised_at: datetime
    mode: AssessmentMode
    instrument: str
    reason: str  # a RISK_RULES key
    client_id: int | None = None
    client_code: str = ""
    crisis_flag_id: int | None = None
    acted_at: datetime | None = None
    acted_by_name: str = ""
    action: RiskAction | None = None
    note: str = ""

    @property
    def is_open(self) -> bool:
        return self.acted_at is None


@dataclass(frozen=True)
class BandCount:
    """One cell of a distribution. `count` is None when suppressed; `shown` is what to print
    ("<10", "37", or "·" for a cell hidden only to protect another)."""

    band: str
    count: int | None
    shown: str


@dataclass(frozen=True)
class BandDistribution:
    instrument: str
    cells: tuple[BandCount, ...]  # in band order
    total: BandCount


@dataclass(frozen=True)
class BandDistributionRow:
    """One group of the statistics query: forms by station, month, instrument and band."""

    station_id: int
    month: date  # the first of the month, in the station's time zone
    instrument: str
    band: str
    count: int


# --------------------------------------------------------------------------- campaigns


@dataclass(frozen=True)
class CampaignInput:
    name: str
    work_unit: str
    instruments: tuple[str, ...]
    starts_on: date
    ends_on: date
    codes: int  # how many one-time codes to issue now


@dataclass(frozen=True)
class CampaignInfo:
    id: int
    station_id: int
    station_name: str
    name: str
    work_unit: str
    instruments: tuple[str, ...]
    starts_on: date
    ends_on: date
    issued: int
    used: int
    follow_ups: int
    closed_at: datetime | None
    version: int

    def is_open_on(self, day: date) -> bool:
        return self.closed_at is None and self.starts_on <= day <= self.ends_on


@dataclass(frozen=True)
class CampaignCodeCheck:
    """A code that may be used now: which campaign and which questionnaires it unlocks."""

    code: str
    campaign_id: int
    campaign_name: str
    instruments: tuple[str, ...]


@dataclass(frozen=True)
class CampaignSummary:
    """The anonymised summary for the employer's union: counts only, small cells suppressed."""

    campaign: CampaignInfo
    k: int
    participants: BandCount
    distributions: tuple[BandDistribution, ...]
    generated_at: datetime
    notes: tuple[str, ...] = field(default_factory=tuple)
