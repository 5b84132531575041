"""The managers' summary report as plain values: per block (station x month or quarter) and for
the whole selection, people counted as suppressed cells, the service's own work counted in full.

Every count of people is a `BandCount` (`count` None when hidden, `shown` what to print: "37",
"<10" or "·"); operational counts (appointments, minutes) are plain ints. What each figure means
is written in `carestation/services/summary_report.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from carestation.domain.assessment_values import BandCount
from carestation.domain.vocab import AppointmentStatus, AppointmentType, Modality, RoomKind

Grouping = Literal["month", "quarter"]
GROUPINGS: tuple[Grouping, ...] = ("month", "quarter")
# The longest period one report may cover, in months.
MAX_MONTHS = 60
DEFAULT_K = 10
# What the selection shows for a median or percentile it may not show (see summary_suppression).
NOT_SHOWN = "·"
# What a figure shows when there is nothing to measure (a median of nobody, a rate out of 0).
NO_FIGURE = "—"


@dataclass(frozen=True)
class PeopleGroup:
    """People over categories that split them (bands, change outcomes), suppressed together:
    `total` is the number of people, the sum of the cells."""

    key: str  # an instrument code
    cells: tuple[BandCount, ...]
    total: BandCount

    def cell(self, key: str) -> BandCount:
        for c in self.cells:
            if c.band == key:
                return c
        raise KeyError(key)


@dataclass(frozen=True)
class Rate:
    """`events` out of `out_of` (for example no-shows out of appointments that were due)."""

    events: int
    out_of: int

    @property
    def value(self) -> float | None:
        return self.events / self.out_of if self.out_of else None


@dataclass(frozen=True)
class Use:
    """Booked minutes against available minutes."""

    used_minutes: int
    available_minutes: int

    @property
    def ratio(self) -> float | None:
        return self.used_minutes / self.available_minutes if self.available_minutes else None


@dataclass(frozen=True)
class AppointmentFigures:
    """Operational: every appointment that starts in the block, by type, modality and status
    (each dict holds every member of its vocabulary, 0 when none)."""

    by_type: dict[AppointmentType, int]
    by_modality: dict[Modality, int]
    by_status: dict[AppointmentStatus, int]
    no_show: Rate  # no-shows out of the appointments that were due (lectures left out)
    late_cancellation: Rate  # late cancellations out of all appointments (lectures left out)

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


@dataclass(frozen=True)
class WaitingFigures:
    """Days from first contact to the first completed session, for the people whose first
    session fell in the block. Median and 90th percentile only when `people` is shown and at
    least k; otherwise None with `shown_*` "<k" (or "·" for a selection that may not show it)."""

    people: BandCount
    median_days: int | None
    p90_days: int | None
    shown_median: str
    shown_p90: str


@dataclass(frozen=True)
class ChangeFigures:
    """First against last form of one instrument, for the people whose case closed in the block.

    `outcomes`: improved / deteriorated / no_reliable_change (they split the people measured at
    least twice; the total is those people). `recovered`: started at or above caseness and ended
    below it (None for an instrument without caseness); a separate count, not part of the split.
    """

    instrument: str
    outcomes: PeopleGroup
    recovered: BandCount | None


@dataclass(frozen=True)
class BlockFigures:
    appointments: AppointmentFigures
    counsellor_hours: Use
    rooms: dict[RoomKind, Use]  # every room kind; available 0 where the station has none
    lectures_held: int
    lecture_attendance: BandCount  # people: registrations marked attended
    topics: tuple[
        BandCount, ...
    ]  # people per topic, each cell on its own (a person may have several)
    waiting: WaitingFigures
    bands: tuple[PeopleGroup, ...]  # per instrument (app order, mood left out)
    changes: tuple[ChangeFigures, ...]  # per instrument with a reliable-change threshold
    crisis_raised: BandCount  # people with a crisis flag raised in the block
    crisis_closed: BandCount  # people with a crisis flag cleared in the block

    def band_group(self, instrument: str) -> PeopleGroup:
        for group in self.bands:
            if group.key == instrument:
                return group
        raise KeyError(instrument)

    def change(self, instrument: str) -> ChangeFigures:
        for figures in self.changes:
            if figures.instrument == instrument:
                return figures
        raise KeyError(instrument)

    def topic(self, topic: str) -> BandCount:
        for c in self.topics:
            if c.band == topic:
                return c
        raise KeyError(topic)


@dataclass(frozen=True)
class StationFigures:
    station_id: int
    station_name: str
    figures: BlockFigures


@dataclass(frozen=True)
class SummaryBlock:
    """One month or quarter: each station's figures, and the selection's (its stations together)."""

    first_month: date
    last_month: date
    label: str  # "2026-01" or "2026 Q1"
    stations: tuple[StationFigures, ...]
    selection: BlockFigures

    def station(self, station_id: int) -> BlockFigures:
        for s in self.stations:
            if s.station_id == station_id:
                return s.figures
        raise KeyError(station_id)


@dataclass(frozen=True)
class StationRef:
    id: int
    name: str


@dataclass(frozen=True)
class SummaryReportData:
    first_month: date
    last_month: date
    grouping: Grouping
    k: int
    stations: tuple[StationRef, ...]  # in report order
    blocks: tuple[SummaryBlock, ...]  # oldest first
    generated_at: datetime
    hidden_mark_used: bool  # some cell shows "·" (the printout then explains the mark)
