"""The managers' summary report: figures per station and month or quarter, and for the stations
chosen together, computed by the database (GROUP BY; no row about a person is loaded), with every
count of people suppressed so that no report, or set of reports, lets anyone work out a number
below k (domain/summary_suppression.py).

What the figures mean (per station and block; the selection adds its stations' figures):

- Appointments by type, modality and status: every appointment starting in the block (station-
  local time), counted in full; they describe the service, not people.
- No-show rate: no-shows out of appointments that were due (completed, checked in or no-show);
  late-cancellation rate: cancellations flagged late out of all appointments. Lectures are left
  out of both (a lecture's attendance is counted on its list).
- Counsellor hours use: booked minutes of counselling, online and crisis appointments with a
  counsellor (not cancelled; no-shows included, the time was reserved) out of the counsellors'
  scheduled minutes at the station: their weekly hours on open days (no public holidays, no
  closed days), less recorded leave and training, plus recorded extra hours.
- Room use, per room kind (counselling rooms, relief areas, emotion pods, group rooms): booked
  minutes of appointments in rooms of that kind (not cancelled) out of the station's opening
  minutes times its active rooms of that kind.
- Lectures held: lectures completed or checked in. Attendance: registrations marked attended
  (people, suppressed).
- Topics: distinct clients with, at the station in the block, an appointment (not cancelled)
  of that topic or belonging to a case with that topic, or a case of that topic opened there.
  Each topic is a cell on its own: a person may have several, so there is no total.
- Waiting: days from first contact (registration, or an earlier first waitlist entry) to the
  first completed counselling, online or crisis session, for the people whose first session
  happened in the block; how many, the median and the 90th percentile (nearest rank), shown
  only for k people or more.
- Bands: per questionnaire (the pod distress rating left out), each person's latest form in the
  block, by band; each anonymous form is a person of its own. Forms of clients who withdrew
  their questionnaires consent are left out.
- Change: cases closed in the block; per client and questionnaire with a reliable-change
  threshold (PHQ-9, GAD-7, WHO-5), the first and the last form of those cases (at least two):
  improved / deteriorated / no reliable change, and recovered (from caseness to below it, PHQ-9
  and GAD-7).
- Crisis flags: distinct people with a flag raised in the block, and with one cleared.

People are distinct within a station and block; the selection adds its stations' cells and
shows a cell only where every station shows it; a quarter shows a station's cell only where each
of its three months shows it (the rules and why: domain/summary_suppression.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from carestation.db import models as m
from carestation.domain.errors import ValidationError
from carestation.domain.roles import Permission
from carestation.domain.summary_values import (
    DEFAULT_K,
    GROUPINGS,
    MAX_MONTHS,
    Grouping,
    StationFigures,
    StationRef,
    SummaryBlock,
    SummaryReportData,
)
from carestation.domain.suppression import MIN_K
from carestation.domain.values import Actor
from carestation.i18n import _
from carestation.services.assessment_stats import month_start, next_month
from carestation.services.base import Service
from carestation.services.report_numbers import next_report_counter, report_number
from carestation.services.summary_assembly import Assembler, RawFigures, gather
from carestation.services.summary_queries import Frame

META_K = "suppression_k"
MAX_K = 100
# What a numbered copy of a report is made for, and the audit action it is recorded under.
OUTPUTS: dict[str, str] = {
    "print": "print_summary_report",  # previewed, then printed from the preview
    "pdf": "export_summary_report",
    "csv": "export_summary_report",
    "xlsx": "export_summary_report",
}


class SummaryReportService(Service):
    # -- the threshold ----------------------------------------------------------------------

    def suppression_k(self, actor: Actor) -> int:
        """The smallest number of people the reports show (admin setting; 10 unless changed)."""
        if not (actor.can(Permission.VIEW_SUMMARY) or actor.can(Permission.MANAGE_STATIONS)):
            self.deny(actor, action="view_suppression_k")
        with self.db.read() as session:
            return _stored_k(session)

    def set_suppression_k(self, actor: Actor, *, k: int) -> int:
        self.require(actor, Permission.MANAGE_STATIONS, action="set_suppression_k")
        if isinstance(k, bool) or not isinstance(k, int) or not MIN_K <= k <= MAX_K:
            raise ValidationError(
                {
                    "k": _(
                        "Numbers of people below the threshold are hidden; it must be a whole "
                        "number from {low} to {high} (never below {low})."
                    ).format(low=MIN_K, high=MAX_K)
                }
            )
        with self.db.write() as session:
            before = _stored_k(session)
            row = session.get(m.Meta, META_K)
            if row is None:
                session.add(m.Meta(key=META_K, value=str(k)))
            else:
                row.value = str(k)
            self.audit.record(
                session, actor=actor, action="set_suppression_k", detail=f"{before} -> {k}"
            )
        return k

    # -- numbered copies ----------------------------------------------------------------------

    def issue(self, actor: Actor, data: SummaryReportData, *, output: str) -> str:
        """A report number (R-000123, the same counter as the personal reports) for one printed
        or exported copy of `data`, recorded in the audit trail with the period, grouping,
        stations and threshold it shows. Call it once per copy, just before writing it."""
        action = OUTPUTS.get(output)
        if action is None:
            raise ValueError(f"unknown output {output!r}; use one of {sorted(OUTPUTS)}")
        self.require(actor, Permission.VIEW_SUMMARY, action=action)
        ids = ",".join(str(s.id) for s in data.stations)
        with self.db.write() as session:
            number = report_number(next_report_counter(session, is_sqlite=self.db.is_sqlite))
            self.audit.record(
                session,
                actor=actor,
                action=action,
                object_type="summary_report",
                object_ref=number,
                detail=f"{output}; {data.first_month:%Y-%m}..{data.last_month:%Y-%m}; "
                f"{data.grouping}; stations {ids}; k={data.k}",
            )
        return number

    # -- the report ---------------------------------------------------------------------------

    def summary(
        self,
        actor: Actor,
        *,
        first_month: date,
        last_month: date,
        station_ids: Sequence[int] | None,
        grouping: Grouping,
        k: int | None = None,
    ) -> SummaryReportData:
        """The report for whole months `first_month`..`last_month` (the day is ignored) in blocks
        of a month or a quarter, for `station_ids` (each its own block row; None: every active
        station). `k` may only raise the administrator's threshold, never lower it."""
        self.require(actor, Permission.VIEW_SUMMARY, action="view_summary_report")
        first, after = _period(first_month, last_month, grouping)
        with self.db.read() as session:
            k = _report_k(_stored_k(session), k)
            stations = _stations(session, station_ids)
            zones: dict[str, list[int]] = {}
            for sid, _name, zone in stations:
                zones.setdefault(zone, []).append(sid)
            frame = Frame(
                is_sqlite=self.db.is_sqlite,
                zones={z: tuple(ids) for z, ids in zones.items()},
                first=first,
                after=after,
                grouping=grouping,
            )
            raw: RawFigures = gather(session, frame)
            months = None
            if grouping == "quarter":
                months = gather(session, replace(frame, grouping="month"), operations=False)
        assembler = Assembler(raw, k, months)
        blocks = []
        for start in frame.block_starts():
            rows = tuple(
                StationFigures(sid, name, assembler.station(sid, start))
                for sid, name, _zone in stations
            )
            last = start if grouping == "month" else next_month(next_month(start))
            blocks.append(
                SummaryBlock(
                    first_month=start,
                    last_month=last,
                    label=f"{start:%Y-%m}"
                    if grouping == "month"
                    else f"{start.year} Q{(start.month + 2) // 3}",
                    stations=rows,
                    selection=assembler.selection(start, rows),
                )
            )
        ids = ",".join(str(sid) for sid, _n, _z in stations)
        self.audit.record_now(
            actor=actor,
            action="view_summary_report",
            detail=f"{first:%Y-%m}..{blocks[-1].last_month:%Y-%m}; {grouping}; "
            f"stations {ids}; k={k}",
        )
        return SummaryReportData(
            first_month=first,
            last_month=blocks[-1].last_month,
            grouping=grouping,
            k=k,
            stations=tuple(StationRef(sid, name) for sid, name, _zone in stations),
            blocks=tuple(blocks),
            # the stations' local time (the first station's zone if they differ)
            generated_at=self.clock.now().astimezone(ZoneInfo(stations[0][2])),
            hidden_mark_used=assembler.hidden_mark_used,
        )


def _stored_k(session: Session) -> int:
    row = session.get(m.Meta, META_K)
    try:
        value = int(row.value) if row is not None else DEFAULT_K
    except ValueError:
        value = DEFAULT_K
    return max(value, MIN_K)


def _report_k(stored: int, asked: int | None) -> int:
    if asked is None:
        return stored
    if isinstance(asked, bool) or not isinstance(asked, int) or asked < stored:
        raise ValidationError(
            {
                "k": _(
                    "The administrator has set the reports to hide numbers of people below "
                    "{k}; a report may hide more, never less."
                ).format(k=stored)
            }
        )
    return asked


def _months_between(first: date, last: date) -> int:
    return (last.year - first.year) * 12 + last.month - first.month + 1


def _period(first_month: date, last_month: date, grouping: str) -> tuple[date, date]:
    """(first month, the month after the last), checked: whole blocks, at most MAX_MONTHS."""
    if grouping not in GROUPINGS:
        raise ValidationError({"grouping": _("Choose blocks of a month or of a quarter.")})
    first, last = month_start(first_month), month_start(last_month)
    if last < first:
        raise ValidationError({"period": _("The period ends before it starts.")})
    if grouping == "quarter" and (first.month % 3 != 1 or last.month % 3 != 0):
        start = first.replace(month=first.month - (first.month - 1) % 3)
        end = last.replace(month=last.month + (3 - last.month % 3) % 3)
        raise ValidationError(
            {
                "period": _(
                    "A report by quarter covers whole quarters: start in January, April, July "
                    "or October and end in March, June, September or December (for example "
                    "{first} to {last}), or choose blocks of a month."
                ).format(first=f"{start:%Y-%m}", last=f"{end:%Y-%m}")
            }
        )
    if _months_between(first, last) > MAX_MONTHS:
        raise ValidationError(
            {
                "period": _(
                    "A report covers at most {months} months; choose a shorter period."
                ).format(months=MAX_MONTHS)
            }
        )
    return first, next_month(last)


def _stations(session: Session, station_ids: Sequence[int] | None) -> list[tuple[int, str, str]]:
    """(id, name, time zone) in report order: as chosen, or every active station by name."""
    s = m.Station
    query = select(s.id, s.name, s.time_zone)
    if station_ids is None:
        rows = session.execute(query.where(s.active).order_by(s.name)).all()
        if not rows:
            raise ValidationError({"stations": _("There is no active station to report on.")})
        return [(sid, name, zone) for sid, name, zone in rows]
    chosen = list(dict.fromkeys(station_ids))
    if not chosen:
        raise ValidationError({"stations": _("Choose at least one station.")})
    found = {
        sid: (sid, name, zone) for sid, name, zone in session.execute(query.where(s.id.in_(chosen)))
    }
    if len(found) != len(chosen):
        raise ValidationError({"stations": _("One of the chosen stations no longer exists.")})
    return [found[sid] for sid in chosen]
