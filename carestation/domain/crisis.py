"""Crisis flags: the standard checklist, when follow-ups fall due, and the values shown for them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from carestation.domain.vocab import CrisisAction, FlagSource
from carestation.i18n import N_, _, ngettext

# A raised flag schedules a check at each of these times after it was raised.
FOLLOW_UP_AFTER: tuple[timedelta, ...] = (
    timedelta(hours=24),
    timedelta(hours=72),
    timedelta(days=7),
)

# The standard crisis checklist, used when a station has not written its own plan. Recording
# what was done is not a step to tick: clearing the flag requires it.
DEFAULT_CHECKLIST: tuple[CrisisAction, ...] = (
    CrisisAction.STAYED_WITH_PERSON,
    CrisisAction.CONTACTED_EXPERT,
    CrisisAction.CALLED_EMERGENCY,
    CrisisAction.CALLED_HOTLINE,
    CrisisAction.INFORMED_CONTACT,
    CrisisAction.SAFETY_PLAN,
)

MAX_REASON = 500
MAX_WHAT_WAS_DONE = 2000
MAX_FOLLOW_UP_NOTE = 2000
MAX_PLAN_STEP = 200

# Why an assessment raised a flag, by the key the scoring gives. The text is looked up when the
# flag is shown, so it follows the language; an unknown key is shown as it is.
ASSESSMENT_REASONS: dict[str, str] = {
    "self_harm_item": N_("An answer about self-harm or suicide needs attention at once."),
    "k10_very_high": N_(
        "The K10 total shows very high psychological distress (30 or more); talk with the person "
        "today."
    ),
    "severe_band": N_("The assessment score is in the severe range."),
}


def assessment_reason(key: str) -> str:
    if key in ASSESSMENT_REASONS:
        return _(ASSESSMENT_REASONS[key])
    return _("An assessment result needs attention ({key}).").format(key=key)


def plan_steps(plan: str) -> list[str]:
    """A station's crisis plan as steps: one per non-empty line, trimmed."""
    return [line.strip()[:MAX_PLAN_STEP] for line in plan.splitlines() if line.strip()]


def step_title(key: str) -> str:
    """A recorded step as text: a standard step by its translated title, a station's own step
    (recorded as its words) as it is."""
    try:
        return CrisisAction(key).title
    except ValueError:
        return key


def follow_up_label(after: timedelta) -> str:
    """'24 hours', '72 hours', '7 days': how long after the flag the check falls due."""
    hours = round(after.total_seconds() / 3600)
    if hours % 24 == 0 and hours >= 24 * 7:
        days = hours // 24
        return ngettext("{n} day", "{n} days", days).format(n=days)
    return ngettext("{n} hour", "{n} hours", hours).format(n=hours)


@dataclass(frozen=True)
class ChecklistStep:
    """One step of a crisis checklist. `key` is what a cleared flag records: a CrisisAction value
    for the standard steps, the step's own words for a station's plan."""

    key: str
    title: str


@dataclass(frozen=True)
class FollowUpInfo:
    """One scheduled check on a flag; times in the station's time zone."""

    id: int
    due_at: datetime
    after: timedelta  # how long after the flag was raised
    done_at: datetime | None = None
    done_by_name: str = ""
    note: str = ""  # decrypted for the counsellors who may see the flag

    @property
    def done(self) -> bool:
        return self.done_at is not None


@dataclass(frozen=True)
class CrisisFlagInfo:
    """A flag as its counsellors see it; times in the station's time zone."""

    id: int
    client_id: int
    client_code: str
    case_id: int | None
    station_id: int
    station_name: str
    source: FlagSource
    raised_at: datetime
    raised_by_name: str  # empty when an assessment raised it
    reason: str
    cleared_at: datetime | None = None
    cleared_by_name: str = ""
    actions: tuple[str, ...] = ()  # the ticked steps' keys
    what_was_done: str = ""
    follow_ups: tuple[FollowUpInfo, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None


@dataclass(frozen=True)
class FollowUpItem:
    """A follow-up still to be recorded, as listed on a counsellor's day. Identifies the client
    by code only; times in the station's time zone."""

    id: int
    flag_id: int
    client_id: int
    client_code: str
    station_id: int
    station_name: str
    due_at: datetime
    after: timedelta
    flag_raised_at: datetime
    flag_open: bool
    overdue: bool
