"""Reading one client's stored questionnaires: records and trends, rescored from the raw answers."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from carestation.assessments import (
    ChangeVerdict,
    instrument_codes,
    is_caseness,
    load_instrument,
    reliable_change,
)
from carestation.db import models as m
from carestation.domain.assessment_values import (
    AssessmentRecord,
    InstrumentTrend,
    PodRatings,
    TrendPoint,
)
from carestation.domain.vocab import PodPhase
from carestation.services.assessment_forms import MOOD, rescore
from carestation.services.cases import local
from carestation.services.conversions import display_names

# --------------------------------------------------------------------------- one client


def may_read_client(session: Session, user_id: int, client_id: int) -> bool:
    """Whether a counsellor has a relationship with the client that lets them read the client's
    questionnaires: a case (open or closed), an appointment, a form they gave, or the
    supervision of a station where the client has a case."""
    supervised = select(m.Station.id).where(m.Station.supervisor_id == user_id)
    found = session.scalar(
        select(
            or_(
                exists().where(
                    m.Case.client_id == client_id,
                    or_(m.Case.counsellor_id == user_id, m.Case.station_id.in_(supervised)),
                ),
                exists().where(
                    m.Appointment.client_id == client_id, m.Appointment.counsellor_id == user_id
                ),
                exists().where(
                    m.Assessment.client_id == client_id, m.Assessment.administered_by == user_id
                ),
            )
        )
    )
    return bool(found)


def client_records(
    session: Session, client_id: int, *, answers_visible: bool
) -> tuple[list[AssessmentRecord], list[InstrumentTrend]]:
    """The client's forms (newest first) and a trend per instrument taken (not the pod rating),
    every score recomputed from the stored raw answers."""
    rows = session.execute(
        select(m.Assessment, m.Station.name, m.Station.time_zone)
        .join(m.Station, m.Station.id == m.Assessment.station_id)
        .where(m.Assessment.client_id == client_id)
        .order_by(m.Assessment.taken_at.desc(), m.Assessment.id.desc())
    ).all()
    names = display_names(session, (a.administered_by for a, _n, _z in rows))
    records = [
        _record(a, station_name, zone, names, answers_visible) for a, station_name, zone in rows
    ]
    return records, trends(records)


def _record(
    row: m.Assessment, station_name: str, zone: str, names: dict[int, str], answers_visible: bool
) -> AssessmentRecord:
    scored = rescore(row.instrument, row.answers)
    if scored is not None:
        total, band, percent = scored.total, scored.band, scored.percent
        flags, prorated = scored.flags, scored.prorated
    else:  # answers that no longer score (a damaged row): show what was stored, flag nothing
        total, band, percent, flags, prorated = row.total, row.band, None, (), False
    extra = tuple(sorted((str(k), int(v)) for k, v in (row.extra_answers or {}).items()))
    return AssessmentRecord(
        id=row.id,
        instrument=row.instrument,
        instrument_version=row.instrument_version,
        taken_at=local(row.taken_at, zone),
        mode=row.mode,
        total=total,
        band=band,
        percent=percent,
        flags=tuple(flags),
        prorated=prorated,
        answers=tuple(row.answers) if answers_visible else None,
        extra_answers=extra if answers_visible else None,
        language=row.language,
        station_name=station_name,
        administered_by_name=names.get(row.administered_by, "") if row.administered_by else "",
        case_id=row.case_id,
        appointment_id=row.appointment_id,
        phase=row.phase,
    )


def trends(records: Sequence[AssessmentRecord]) -> list[InstrumentTrend]:
    """Per instrument in the app's order (the pod rating left out), oldest first, with reliable
    change between the first and the latest score and, where there is a caseness threshold,
    whether a person who started at caseness ended below it."""
    result = []
    for code in instrument_codes():
        if code == MOOD:
            continue
        mine = sorted(
            (r for r in records if r.instrument == code), key=lambda r: (r.taken_at, r.id)
        )
        if not mine:
            continue
        definition = load_instrument(code)
        points = tuple(
            TrendPoint(
                assessment_id=r.id,
                taken_at=r.taken_at,
                total=r.total,
                value=r.percent
                if definition.band_basis == "percent" and r.percent is not None
                else r.total,
                band=r.band,
            )
            for r in mine
        )
        first, latest = points[0], points[-1]
        change: ChangeVerdict | None = None
        recovered: bool | None = None
        if len(points) >= 2:
            if definition.reliable_change is not None:
                try:
                    change = reliable_change(code, first.value, latest.value)
                except ValueError:
                    change = None
            if definition.caseness is not None:
                try:
                    if is_caseness(code, first.total):
                        recovered = not is_caseness(code, latest.total)
                except ValueError:
                    recovered = None
        result.append(
            InstrumentTrend(instrument=code, points=points, change=change, recovered=recovered)
        )
    return result


def pod_ratings_of(session: Session, appointment_id: int) -> PodRatings:
    """The distress ratings taken before and after one emotion-pod booking."""
    values = {
        phase: answers
        for phase, answers in session.execute(
            select(m.Assessment.phase, m.Assessment.answers).where(
                m.Assessment.appointment_id == appointment_id,
                m.Assessment.instrument == MOOD,
                m.Assessment.phase.is_not(None),
            )
        )
    }

    def value(phase: PodPhase) -> int | None:
        answers = values.get(phase)
        return int(answers[0]) if answers and answers[0] is not None else None

    return PodRatings(
        appointment_id=appointment_id, before=value(PodPhase.BEFORE), after=value(PodPhase.AFTER)
    )
