"""Crafted data for the summary report's tests: clients, appointments, forms, cases and flags
written straight into the database, at Shanghai local times."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from carestation.db import models as m
from carestation.domain.values import StationInput
from carestation.domain.vocab import (
    AppointmentStatus,
    AppointmentType,
    AssessmentMode,
    ConsentPurpose,
    FlagSource,
    Modality,
    RegistrationStatus,
    Topic,
)
from carestation.services.container import Services
from carestation.services.summary_report import SummaryReportService
from tests.factories import HOURS, World

SHANGHAI = ZoneInfo("Asia/Shanghai")
_codes = itertools.count(1)


def local(y: int, mo: int, d: int, h: int = 10, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SHANGHAI)


def reports(services: Services) -> SummaryReportService:
    wired = getattr(services, "summary_report", None)
    if isinstance(wired, SummaryReportService):
        return wired
    return SummaryReportService(services.db, services.audit, services.audit.clock)


def add_station(services: Services, world: World, name: str) -> int:
    return services.admin.create_station(
        actor=world.admin, data=StationInput(name=name, hours=HOURS)
    ).id


def add_clients(services: Services, n: int, *, created: datetime, station_id: int) -> list[int]:
    with services.db.write() as session:
        return list(
            session.execute(
                insert(m.Client).returning(m.Client.id),
                [
                    {
                        "client_code": f"T{next(_codes):06d}",
                        "name": "测试",
                        "home_station_id": station_id,
                        "created_at": created,
                    }
                    for _ in range(n)
                ],
            ).scalars()
        )


def add_appointment(
    services: Services,
    *,
    station_id: int,
    starts: datetime,
    minutes: int = 50,
    client_id: int | None = None,
    counsellor_id: int | None = None,
    room_id: int | None = None,
    case_id: int | None = None,
    type_: AppointmentType = AppointmentType.COUNSELLING,
    status: AppointmentStatus = AppointmentStatus.COMPLETED,
    modality: Modality = Modality.IN_PERSON,
    topic: Topic | None = None,
    late_cancel: bool = False,
) -> int:
    with services.db.write() as session:
        return session.execute(
            insert(m.Appointment).returning(m.Appointment.id),
            [
                {
                    "station_id": station_id,
                    "client_id": client_id,
                    "counsellor_id": counsellor_id,
                    "room_id": room_id,
                    "case_id": case_id,
                    "type": type_,
                    "modality": modality,
                    "status": status,
                    "topic": topic,
                    "starts_at": starts,
                    "ends_at": starts + timedelta(minutes=minutes),
                    "created_at": starts - timedelta(days=7),
                    "late_cancel": late_cancel,
                    "cancelled_at": starts - timedelta(hours=2)
                    if status is AppointmentStatus.CANCELLED
                    else None,
                }
            ],
        ).scalar_one()


def add_form(
    services: Services,
    *,
    station_id: int,
    taken: datetime,
    total: int,
    instrument: str = "phq9",
    client_id: int | None = None,
    case_id: int | None = None,
) -> None:
    from carestation.assessments import load_instrument

    definition = load_instrument(instrument)
    value = (
        total * (definition.percent_multiplier or 1)
        if definition.band_basis == "percent"
        else total
    )
    with services.db.write() as session:
        session.execute(
            insert(m.Assessment),
            [
                {
                    "client_id": client_id,
                    "case_id": case_id,
                    "station_id": station_id,
                    "instrument": instrument,
                    "instrument_version": "1",
                    "answers": [],
                    "total": total,
                    "band": definition.band_for(value).slug,
                    "mode": AssessmentMode.COUNSELLOR if client_id else AssessmentMode.ANONYMOUS,
                    "taken_at": taken,
                }
            ],
        )


def add_case(
    services: Services,
    *,
    station_id: int,
    client_id: int,
    counsellor_id: int,
    opened: datetime,
    closed: datetime | None = None,
    topics: tuple[Topic, ...] = (),
) -> int:
    with services.db.write() as session:
        case = m.Case(
            client_id=client_id,
            station_id=station_id,
            counsellor_id=counsellor_id,
            opened_at=opened,
            closed_at=closed,
            status="closed" if closed else "open",
        )
        session.add(case)
        session.flush()
        for topic in topics:
            session.add(m.CaseTopic(case_id=case.id, topic=topic))
        return case.id


def add_flag(
    services: Services,
    *,
    station_id: int,
    client_id: int,
    raised: datetime,
    cleared: datetime | None = None,
) -> None:
    with services.db.write() as session:
        session.add(
            m.CrisisFlag(
                client_id=client_id,
                station_id=station_id,
                source=FlagSource.COUNSELLOR,
                raised_at=raised,
                reason_ciphertext=b"-",
                key_version=1,
                cleared_at=cleared,
            )
        )


def register(services: Services, lecture_id: int, client_id: int, *, attended: bool) -> None:
    with services.db.write() as session:
        session.add(
            m.LectureRegistration(
                appointment_id=lecture_id,
                client_id=client_id,
                status=RegistrationStatus.REGISTERED,
                attended=attended,
                registered_at=local(2026, 1, 1),
            )
        )


def withdraw_assessment_consent(services: Services, client_id: int, station_id: int) -> None:
    with services.db.write() as session:
        session.add(
            m.Consent(
                client_id=client_id,
                purpose=ConsentPurpose.ASSESSMENT,
                wording_version="1",
                language="zh_CN",
                station_id=station_id,
                given_at=local(2026, 1, 1),
                withdrawn_at=local(2026, 4, 1),
            )
        )


def months(first: date, last: date) -> list[date]:
    out, d = [], first
    while d <= last:
        out.append(d)
        d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return out
