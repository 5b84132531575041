"""The summary report's counts of people, each one SQL query grouped by station and block:
topics, waiting time, questionnaire bands, change over closed cases. Nothing here suppresses;
summary_report.py does, on the counts these return. No row about a person leaves the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    case,
    exists,
    func,
    literal,
    select,
    type_coerce,
    union,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from carestation.assessments import instrument_codes, load_instrument
from carestation.db import models as m
from carestation.db.base import UTCDateTime
from carestation.domain.vocab import AppointmentStatus, ConsentPurpose
from carestation.services.summary_queries import SESSION_TYPES, Frame, from_yyyymm

# Not a screening questionnaire: the distress rating taken around emotion-pod sessions.
NOT_IN_BANDS = frozenset({"mood"})


def band_instruments() -> list[str]:
    return [code for code in instrument_codes() if code not in NOT_IN_BANDS]


def change_instruments() -> list[str]:
    return [c for c in band_instruments() if load_instrument(c).reliable_change is not None]


Key = tuple[int, date]


def topic_people(session: Session, frame: Frame) -> dict[Key, dict[str, int]]:
    """Distinct clients per topic: those with an appointment at the station in the block (not
    cancelled) whose own topic it is or whose case has it, or with a case of that topic opened
    there in the block."""
    a, c, ct = m.Appointment, m.Case, m.CaseTopic
    booked = and_(
        a.station_id.in_(frame.station_ids),
        frame.within(a.starts_at, a.station_id),
        a.status != AppointmentStatus.CANCELLED,
        a.client_id.is_not(None),
    )
    station_block = (
        a.station_id.label("station"),
        frame.block(a.starts_at, a.station_id).label("blk"),
        a.client_id.label("client"),
    )
    own = select(*station_block, a.topic.label("topic")).where(booked, a.topic.is_not(None))
    of_case = (
        select(*station_block, ct.topic.label("topic"))
        .join(ct, ct.case_id == a.case_id)
        .where(booked)
    )
    opened = (
        select(
            c.station_id.label("station"),
            frame.block(c.opened_at, c.station_id).label("blk"),
            c.client_id.label("client"),
            ct.topic.label("topic"),
        )
        .join(ct, ct.case_id == c.id)
        .where(c.station_id.in_(frame.station_ids), frame.within(c.opened_at, c.station_id))
    )
    pairs = union(own, of_case, opened).subquery()
    query = select(pairs.c.station, pairs.c.blk, pairs.c.topic, func.count()).group_by(
        pairs.c.station, pairs.c.blk, pairs.c.topic
    )
    result: dict[Key, dict[str, int]] = {}
    for station, blk, topic, n in session.execute(query):
        result.setdefault((station, from_yyyymm(blk)), {})[str(topic)] = int(n)
    return result


@dataclass(frozen=True)
class WaitingStats:
    people: int
    median_days: int | None
    p90_days: int | None


def waiting_times(
    session: Session, frame: Frame
) -> tuple[dict[Key, WaitingStats], dict[date, WaitingStats]]:
    """Days from first contact to first completed session, per station and block and for the
    whole selection per block: how many people, the median and the 90th percentile.

    First completed session: the client's earliest completed counselling, online or crisis
    appointment anywhere; it counts in the block and at the station where it happened. First
    contact: the earlier of the client's registration and their first waitlist entry. Days
    between the two station-local dates (0 when the contact is recorded after the session).
    Percentiles by nearest rank, in SQL: the value at rank ceil(p * n) of the sorted days.
    """
    a, earlier, w, client = m.Appointment, aliased(m.Appointment), m.WaitlistEntry, m.Client
    waits = (
        select(w.client_id.label("client"), func.min(w.created_at).label("first"))
        .group_by(w.client_id)
        .subquery()
    )
    contact = case(
        (and_(waits.c.first.is_not(None), waits.c.first < client.created_at), waits.c.first),
        else_=client.created_at,
    )
    sessions = (
        select(
            a.station_id.label("station"),
            frame.block(a.starts_at, a.station_id).label("blk"),
            frame.day_number(a.starts_at, a.station_id).label("session_day"),
            type_coerce(contact, UTCDateTime()).label("contact"),
        )
        .join(client, client.id == a.client_id)
        .outerjoin(waits, waits.c.client == a.client_id)
        .where(
            a.station_id.in_(frame.station_ids),
            frame.within(a.starts_at, a.station_id),
            a.status == AppointmentStatus.COMPLETED,
            a.type.in_(SESSION_TYPES),
            ~exists().where(
                earlier.client_id == a.client_id,
                earlier.status == AppointmentStatus.COMPLETED,
                earlier.type.in_(SESSION_TYPES),
                earlier.starts_at < a.starts_at,
            ),
        )
        .subquery()
    )
    gaps = select(
        sessions.c.station,
        sessions.c.blk,
        (
            sessions.c.session_day
            - frame.day_number(sessions.c.contact, sessions.c.station, earlier=True)
        ).label("gap"),
    ).subquery()
    g = gaps.c
    days = case((g.gap < 0, 0), else_=g.gap)
    ranked = select(
        g.station,
        g.blk,
        days.label("days"),
        func.row_number().over(partition_by=(g.station, g.blk), order_by=days).label("r1"),
        func.count().over(partition_by=(g.station, g.blk)).label("n1"),
        func.row_number().over(partition_by=g.blk, order_by=days).label("r2"),
        func.count().over(partition_by=g.blk).label("n2"),
    ).cte("ranked")
    r = ranked.c

    def stats(rank: Any, n: Any) -> tuple[ColumnElement[Any], ...]:
        # ceil(n / 2) and ceil(9 n / 10) in integer arithmetic, the same on both databases.
        return (
            func.max(n),
            func.max(case((rank == (n + 1) // 2, r.days))),
            func.max(case((rank == (n * 9 + 9) // 10, r.days))),
        )

    both = union_all(
        select(r.station, r.blk, *stats(r.r1, r.n1)).group_by(r.station, r.blk),
        select(literal(None, Integer), r.blk, *stats(r.r2, r.n2)).group_by(r.blk),
    )
    per_station: dict[Key, WaitingStats] = {}
    per_block: dict[date, WaitingStats] = {}
    for station, blk, n, median, p90 in session.execute(both):
        stats_ = WaitingStats(int(n), median, p90)
        if station is None:
            per_block[from_yyyymm(blk)] = stats_
        else:
            per_station[(station, from_yyyymm(blk))] = stats_
    return per_station, per_block


def _withdrawn_clients() -> Any:
    """Clients who withdrew their questionnaires consent and have not given it again: their
    forms leave the statistics (PIPL art. 15; security.md case 17)."""
    c = m.Consent
    return (
        select(c.client_id)
        .where(c.purpose == ConsentPurpose.ASSESSMENT)
        .group_by(c.client_id)
        .having(func.max(case((c.withdrawn_at.is_(None), 1), else_=0)) == 0)
    )


def _counted(form: Any) -> ColumnElement[bool]:
    return (form.client_id.is_(None)) | (form.client_id.not_in(_withdrawn_clients()))


def band_people(session: Session, frame: Frame) -> dict[Key, dict[str, dict[str, int]]]:
    """People per instrument and band: each person's latest form of the instrument in the block
    at the station; an anonymous form is a person of its own."""
    f = m.Assessment
    person = case((f.client_id.is_(None), -f.id), else_=f.client_id)
    forms = (
        select(
            f.station_id.label("station"),
            frame.block(f.taken_at, f.station_id).label("blk"),
            f.instrument.label("instrument"),
            f.band.label("band"),
            person.label("person"),
            f.taken_at.label("taken_at"),
            f.id.label("id"),
        )
        .where(
            f.station_id.in_(frame.station_ids),
            frame.within(f.taken_at, f.station_id),
            f.instrument.in_(band_instruments()),
            _counted(f),
        )
        .subquery()
    )
    s = forms.c
    latest = select(
        s.station,
        s.blk,
        s.instrument,
        s.band,
        func.row_number()
        .over(
            partition_by=(s.station, s.blk, s.instrument, s.person),
            order_by=(s.taken_at.desc(), s.id.desc()),
        )
        .label("rn"),
    ).subquery()
    t = latest.c
    query = (
        select(t.station, t.blk, t.instrument, t.band, func.count())
        .where(t.rn == 1)
        .group_by(t.station, t.blk, t.instrument, t.band)
    )
    result: dict[Key, dict[str, dict[str, int]]] = {}
    for station, blk, instrument, band, n in session.execute(query):
        per = result.setdefault((station, from_yyyymm(blk)), {})
        per.setdefault(str(instrument), {})[str(band)] = int(n)
    return result


def _by_instrument(column: Any, values: dict[str, Any]) -> ColumnElement[Any]:
    return case(*((column == code, value) for code, value in values.items()))


def change_people(
    session: Session, frame: Frame, instruments: Sequence[str]
) -> dict[Key, dict[str, dict[str, int]]]:
    """For cases closed in the block (at the case's station): each client's first and last form
    of the instrument among those cases' forms, people with at least two forms, by verdict
    ("improved", "deteriorated", "no_reliable_change") and "recovered" (a separate count).

    Gain is measured on the band basis (WHO-5 in percent: total x 4), in the better direction;
    a reliable change is a gain of at least the definition's threshold either way; recovery is
    a first total at or above caseness and a last one below."""
    c, f = m.Case, m.Assessment
    forms = (
        select(
            c.station_id.label("station"),
            frame.block(c.closed_at, c.station_id).label("blk"),
            c.client_id.label("client"),
            f.instrument.label("instrument"),
            f.total.label("total"),
            f.taken_at.label("taken_at"),
            f.id.label("id"),
        )
        .join(f, f.case_id == c.id)
        .where(
            c.station_id.in_(frame.station_ids),
            c.closed_at.is_not(None),
            frame.within(c.closed_at, c.station_id),
            f.instrument.in_(list(instruments)),
            _counted(f),
        )
        .subquery()
    )
    s = forms.c
    part = (s.station, s.blk, s.client, s.instrument)
    ordered = select(
        *part,
        s.total,
        func.row_number().over(partition_by=part, order_by=(s.taken_at, s.id)).label("up"),
        func.row_number()
        .over(partition_by=part, order_by=(s.taken_at.desc(), s.id.desc()))
        .label("down"),
    ).subquery()
    o = ordered.c
    o_part = (o.station, o.blk, o.client, o.instrument)
    pairs = (
        select(
            *o_part,
            func.max(case((o.up == 1, o.total))).label("first"),
            func.max(case((o.down == 1, o.total))).label("last"),
        )
        .group_by(*o_part)
        .having(func.count() >= 2)
        .subquery()
    )
    p = pairs.c
    definitions = {code: load_instrument(code) for code in instruments}
    gain = (p.last - p.first) * _by_instrument(
        p.instrument,
        {
            code: literal((d.percent_multiplier or 1) * (1 if d.higher_is_better else -1))
            for code, d in definitions.items()
        },
    )
    threshold = _by_instrument(
        p.instrument, {code: literal(d.reliable_change) for code, d in definitions.items()}
    )
    verdict = case(
        (gain >= threshold, "improved"),
        (gain <= -threshold, "deteriorated"),
        else_="no_reliable_change",
    )
    caseness = {code: d.caseness for code, d in definitions.items() if d.caseness is not None}
    recovered = (
        case(
            *(
                (and_(p.instrument == code, p.first >= value, p.last < value), 1)
                for code, value in caseness.items()
            ),
            else_=0,
        )
        if caseness
        else literal(0)
    )
    verdicts = select(
        p.station, p.blk, p.instrument, verdict.label("verdict"), recovered.label("recovered")
    ).subquery()
    v = verdicts.c
    query = select(
        v.station, v.blk, v.instrument, v.verdict, func.count(), func.sum(v.recovered)
    ).group_by(v.station, v.blk, v.instrument, v.verdict)
    result: dict[Key, dict[str, dict[str, int]]] = {}
    for station, blk, instrument, verdict_, n, n_recovered in session.execute(query):
        per = result.setdefault((station, from_yyyymm(blk)), {}).setdefault(str(instrument), {})
        per[str(verdict_)] = int(n)
        per["recovered"] = per.get("recovered", 0) + int(n_recovered or 0)
    return result
