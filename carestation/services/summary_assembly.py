"""Turns the summary report's grouped counts into its values: operational figures added up,
people suppressed per station, and the selection built from the stations' printed cells."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy.orm import Session

from carestation.assessments import load_instrument
from carestation.domain.assessment_values import BandCount
from carestation.domain.summary_suppression import (
    nested_cell,
    nested_group,
    people_cell,
    people_group,
    selection_cell,
    selection_group,
    statistic_shown,
)
from carestation.domain.summary_values import (
    NOT_SHOWN,
    AppointmentFigures,
    BlockFigures,
    ChangeFigures,
    PeopleGroup,
    Rate,
    StationFigures,
    Use,
    WaitingFigures,
)
from carestation.domain.suppression import HIDDEN_MARK
from carestation.domain.vocab import AppointmentStatus, AppointmentType, Modality, RoomKind, Topic
from carestation.services import summary_capacity as capacity
from carestation.services import summary_people as people
from carestation.services.assessment_stats import next_month
from carestation.services.summary_queries import (
    SESSION_TYPES,
    Frame,
    appointment_groups,
    crisis_people,
    lecture_attendance,
)

Key = tuple[int, date]
VERDICTS = ("improved", "deteriorated", "no_reliable_change")
_DUE = (AppointmentStatus.COMPLETED, AppointmentStatus.CHECKED_IN, AppointmentStatus.NO_SHOW)
_HELD = (AppointmentStatus.COMPLETED, AppointmentStatus.CHECKED_IN)


@dataclass
class Operations:
    """Operational counts of one station (or a selection) in one block, added up as they come."""

    by_type: Counter[AppointmentType] = field(default_factory=Counter)
    by_modality: Counter[Modality] = field(default_factory=Counter)
    by_status: Counter[AppointmentStatus] = field(default_factory=Counter)
    no_shows: int = 0
    due: int = 0
    late_cancels: int = 0
    individual: int = 0
    counsellor_minutes: int = 0
    room_minutes: Counter[RoomKind] = field(default_factory=Counter)
    lectures_held: int = 0
    scheduled_minutes: int = 0
    room_available: Counter[RoomKind] = field(default_factory=Counter)

    def add(self, other: Operations) -> None:
        for name in ("by_type", "by_modality", "by_status", "room_minutes", "room_available"):
            getattr(self, name).update(getattr(other, name))
        for name in (
            "no_shows", "due", "late_cancels", "individual", "counsellor_minutes",
            "lectures_held", "scheduled_minutes",
        ):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class RawFigures:
    """Everything the database counted for one report, keyed by (station, block start)."""

    operations: dict[Key, Operations]
    attendance: dict[Key, int]
    raised: dict[Key, int]
    cleared: dict[Key, int]
    topics: dict[Key, dict[str, int]]
    waiting: dict[Key, people.WaitingStats]
    waiting_selection: dict[date, people.WaitingStats]
    bands: dict[Key, dict[str, dict[str, int]]]
    band_orders: dict[str, list[str]]
    changes: dict[Key, dict[str, dict[str, int]]]
    change_instruments: list[str]


def _operations(session: Session, frame: Frame) -> dict[Key, Operations]:
    operations: dict[Key, Operations] = defaultdict(Operations)
    for g in appointment_groups(session, frame):
        ops = operations[(g.station_id, g.block)]
        ops.by_type[g.type] += g.count
        ops.by_modality[Modality(g.modality)] += g.count
        ops.by_status[g.status] += g.count
        booked = g.status is not AppointmentStatus.CANCELLED
        if g.type is AppointmentType.LECTURE:
            ops.lectures_held += g.count if g.status in _HELD else 0
        else:
            ops.individual += g.count
            ops.due += g.count if g.status in _DUE else 0
            ops.no_shows += g.count if g.status is AppointmentStatus.NO_SHOW else 0
            ops.late_cancels += g.count if not booked and g.late_cancel else 0
        if booked and g.type in SESSION_TYPES and g.with_counsellor:
            ops.counsellor_minutes += g.minutes
        if booked and g.room_kind is not None:
            ops.room_minutes[RoomKind(g.room_kind)] += g.minutes
    calendar = capacity.DayCalendar(frame.first, frame.after)
    for key, minutes in capacity.counsellor_minutes(session, frame, calendar).items():
        operations[key].scheduled_minutes += minutes
    rooms = capacity.active_rooms(session, frame)
    for (station, block), minutes in capacity.opening_minutes(session, frame, calendar).items():
        for kind, n in rooms.get(station, {}).items():
            operations[(station, block)].room_available[kind] += minutes * n
    return dict(operations)


def gather(session: Session, frame: Frame, *, operations: bool = True) -> RawFigures:
    """Everything the report counts in `frame`; people only when `operations` is False (the
    months inside a quarterly report's quarters)."""
    raised, cleared = crisis_people(session, frame)
    waiting, waiting_selection = people.waiting_times(session, frame)
    bands = people.band_people(session, frame)
    orders = {c: [b.slug for b in load_instrument(c).bands] for c in people.band_instruments()}
    for per in bands.values():  # a band an older definition had is kept, after the known ones
        for instrument, counts in per.items():
            orders[instrument].extend(sorted(set(counts) - set(orders[instrument])))
    changes = people.change_instruments()
    return RawFigures(
        operations=_operations(session, frame) if operations else {},
        attendance=lecture_attendance(session, frame),
        raised=raised,
        cleared=cleared,
        topics=people.topic_people(session, frame),
        waiting=waiting,
        waiting_selection=waiting_selection,
        bands=bands,
        band_orders=orders,
        changes=people.change_people(session, frame, changes),
        change_instruments=changes,
    )


def _appointments(ops: Operations) -> AppointmentFigures:
    return AppointmentFigures(
        by_type={t: ops.by_type.get(t, 0) for t in AppointmentType},
        by_modality={x: ops.by_modality.get(x, 0) for x in Modality},
        by_status={s: ops.by_status.get(s, 0) for s in AppointmentStatus},
        no_show=Rate(ops.no_shows, ops.due),
        late_cancellation=Rate(ops.late_cancels, ops.individual),
    )


def _operational(ops: Operations) -> dict[str, object]:
    return {
        "appointments": _appointments(ops),
        "counsellor_hours": Use(ops.counsellor_minutes, ops.scheduled_minutes),
        "rooms": {
            r: Use(ops.room_minutes.get(r, 0), ops.room_available.get(r, 0)) for r in RoomKind
        },
        "lectures_held": ops.lectures_held,
    }


class Assembler:
    """Builds the blocks' values. `months`: for a quarterly report, the same people counted by
    month, so that a quarter shows only what each of its months shows (summary_suppression)."""

    def __init__(self, raw: RawFigures, k: int, months: RawFigures | None = None) -> None:
        self.raw = raw
        self.k = k
        self.months = None if months is None else Assembler(months, k)
        self.hidden_mark_used = False

    def _seen(self, cells: list[BandCount]) -> None:
        if any(c.shown in (HIDDEN_MARK, NOT_SHOWN) for c in cells):
            self.hidden_mark_used = True

    def station(self, station_id: int, block: date) -> BlockFigures:
        raw, k, key = self.raw, self.k, (station_id, block)
        topics = raw.topics.get(key, {})
        stats = raw.waiting.get(key, people.WaitingStats(0, None, None))
        waiting_people = people_cell("people", stats.people, k=k)
        median, shown_median = statistic_shown(waiting_people, stats.median_days, k=k)
        p90, shown_p90 = statistic_shown(waiting_people, stats.p90_days, k=k)
        bands = raw.bands.get(key, {})
        changes = raw.changes.get(key, {})
        figures = BlockFigures(
            **_operational(raw.operations.get(key, Operations())),  # type: ignore[arg-type]
            lecture_attendance=people_cell("attended", raw.attendance.get(key, 0), k=k),
            topics=tuple(people_cell(t.value, topics.get(t.value, 0), k=k) for t in Topic),
            waiting=WaitingFigures(waiting_people, median, p90, shown_median, shown_p90),
            bands=tuple(
                people_group(code, bands.get(code, {}), order, k=k)
                for code, order in raw.band_orders.items()
            ),
            changes=tuple(
                self._change(code, changes.get(code, {})) for code in raw.change_instruments
            ),
            crisis_raised=people_cell("raised", raw.raised.get(key, 0), k=k),
            crisis_closed=people_cell("closed", raw.cleared.get(key, 0), k=k),
        )
        if self.months is not None:
            month = block
            monthly = []
            for _ in range(3):
                monthly.append(self.months.station(station_id, month))
                month = next_month(month)
            figures = _nested(figures, monthly)
        self._seen(_people_cells(figures))
        return figures

    def _change(self, code: str, counts: dict[str, int]) -> ChangeFigures:
        outcomes = people_group(code, {v: counts.get(v, 0) for v in VERDICTS}, VERDICTS, k=self.k)
        recovered = None
        if load_instrument(code).caseness is not None:
            recovered = people_cell("recovered", counts.get("recovered", 0), k=self.k)
        return ChangeFigures(instrument=code, outcomes=outcomes, recovered=recovered)

    def selection(self, block: date, rows: Sequence[StationFigures]) -> BlockFigures:
        """The stations together: operational figures added up; people from the stations'
        printed cells only (summary_suppression: nothing hidden can be worked back)."""
        ops = Operations()
        for row in rows:
            ops.add(self.raw.operations.get((row.station_id, block), Operations()))
        members = [row.figures for row in rows]
        stats = self.raw.waiting_selection.get(block, people.WaitingStats(0, None, None))
        waiting_people = selection_cell("people", [f.waiting.people for f in members])
        median, shown_median = statistic_shown(waiting_people, stats.median_days, k=self.k)
        p90, shown_p90 = statistic_shown(waiting_people, stats.p90_days, k=self.k)
        figures = BlockFigures(
            **_operational(ops),  # type: ignore[arg-type]
            lecture_attendance=selection_cell("attended", [f.lecture_attendance for f in members]),
            topics=tuple(
                selection_cell(cell.band, [f.topics[i] for f in members])
                for i, cell in enumerate(members[0].topics)
            ),
            waiting=WaitingFigures(waiting_people, median, p90, shown_median, shown_p90),
            bands=tuple(
                selection_group([f.bands[i] for f in members]) for i in range(len(members[0].bands))
            ),
            changes=tuple(
                ChangeFigures(
                    instrument=c.instrument,
                    outcomes=selection_group([f.changes[i].outcomes for f in members]),
                    recovered=None
                    if c.recovered is None
                    else selection_cell(
                        "recovered",
                        [r for f in members if (r := f.changes[i].recovered) is not None],
                    ),
                )
                for i, c in enumerate(members[0].changes)
            ),
            crisis_raised=selection_cell("raised", [f.crisis_raised for f in members]),
            crisis_closed=selection_cell("closed", [f.crisis_closed for f in members]),
        )
        self._seen(_people_cells(figures))
        return figures


def _nested(q: BlockFigures, months: list[BlockFigures]) -> BlockFigures:
    """The quarter's people figures, each hidden where one of its months hides it."""
    people_ = nested_cell(q.waiting.people, [f.waiting.people for f in months])
    waiting = q.waiting
    if people_ != waiting.people:
        waiting = WaitingFigures(people_, None, None, NOT_SHOWN, NOT_SHOWN)
    return replace(
        q,
        lecture_attendance=nested_cell(
            q.lecture_attendance, [f.lecture_attendance for f in months]
        ),
        topics=tuple(
            nested_cell(cell, [f.topics[i] for f in months]) for i, cell in enumerate(q.topics)
        ),
        waiting=waiting,
        bands=tuple(
            nested_group(group, [f.bands[i] for f in months]) for i, group in enumerate(q.bands)
        ),
        changes=tuple(
            ChangeFigures(
                instrument=c.instrument,
                outcomes=nested_group(c.outcomes, [f.changes[i].outcomes for f in months]),
                recovered=None
                if c.recovered is None
                else nested_cell(
                    c.recovered,
                    [r for f in months if (r := f.changes[i].recovered) is not None],
                ),
            )
            for i, c in enumerate(q.changes)
        ),
        crisis_raised=nested_cell(q.crisis_raised, [f.crisis_raised for f in months]),
        crisis_closed=nested_cell(q.crisis_closed, [f.crisis_closed for f in months]),
    )


def _people_cells(f: BlockFigures) -> list[BandCount]:
    cells = [f.lecture_attendance, *f.topics, f.waiting.people, f.crisis_raised, f.crisis_closed]
    cells.append(BandCount("median", f.waiting.median_days, f.waiting.shown_median))
    for group in (*f.bands, *(c.outcomes for c in f.changes)):
        cells.extend(_group_cells(group))
    cells.extend(c.recovered for c in f.changes if c.recovered is not None)
    return cells


def _group_cells(group: PeopleGroup) -> list[BandCount]:
    return [*group.cells, group.total]
