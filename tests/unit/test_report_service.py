"""The personal wellbeing report's data: who may print it, what it holds, its number and audit
entry, and the batch for a day's clients. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select, update

from carestation.db import models as m
from carestation.domain.assessment_values import FormAnswers
from carestation.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from carestation.domain.report_values import InstrumentSection, ReportPoint
from carestation.domain.values import Actor
from carestation.domain.vocab import (
    AppointmentStatus,
    AppointmentType,
    AssessmentMode,
    ConsentPurpose,
    CounsellorKind,
    RiskLevel,
    Topic,
)
from carestation.services.assessments import AssessmentService
from carestation.services.audit_labels import ACTIONS
from carestation.services.consent_rules import ConsentMissing
from carestation.services.container import Services
from carestation.services.report_numbers import COUNTER_KEY
from carestation.services.reports import (
    FOLLOW_UP_BANDS,
    ReportService,
    follow_up_advised,
)
from tests.conftest import FakeClock
from tests.factories import (
    World,
    add_appointment,
    add_counsellor,
    assessment_services,
    build_world,
    give_consent,
)

CODE = "ABCD-EFGH-1"
PHQ9_SEVERE = (3, 3, 3, 3, 2, 2, 2, 2, 0)  # 20
PHQ9_MODERATE = (2, 2, 2, 2, 1, 1, 1, 1, 0)  # 12
PHQ9_MILD = (1, 1, 1, 1, 1, 1, 1, 1, 0)  # 8
PHQ9_ITEM9 = (1, 1, 0, 0, 0, 0, 0, 0, 1)  # 3, minimal, but item 9 answered
GAD7_10 = (2, 2, 2, 1, 1, 1, 1)
GAD7_12 = (2, 2, 2, 2, 2, 1, 1)
WHO5_LOW = (1, 1, 1, 1, 1)  # 5 -> 20 %


@dataclass
class Env:
    services: Services
    world: World
    clock: FakeClock
    assessments: AssessmentService
    reports: ReportService

    @property
    def counsellor(self) -> Actor:
        return self.world.counsellor

    def record(
        self, instrument: str, answers: tuple[int, ...], client_id: int | None = None
    ) -> None:
        self.assessments.record_in_session(
            self.counsellor,
            client_id=client_id or self.world.client_id,
            form=FormAnswers(instrument=instrument, answers=answers),
        )

    def report(self, actor: Actor | None = None, **kwargs: object):  # type: ignore[no-untyped-def]
        args: dict[str, object] = {
            "client_id": self.world.client_id,
            "include_name": False,
            "lang": "zh_CN",
        }
        args.update(kwargs)
        return self.reports.personal_report(actor or self.counsellor, **args)  # type: ignore[arg-type]

    def last_id(self) -> int:
        with self.services.db.read() as session:
            return session.scalar(select(func.max(m.AuditEvent.id))) or 0

    def audit_since(self, after: int) -> list[tuple[str, str, str, str, str, str]]:
        with self.services.db.read() as session:
            return [
                (e.username, e.action, e.object_type, e.object_ref, e.result, e.detail)
                for e in session.scalars(
                    select(m.AuditEvent).where(m.AuditEvent.id > after).order_by(m.AuditEvent.id)
                )
            ]

    def counter(self) -> str | None:
        with self.services.db.read() as session:
            row = session.get(m.Meta, COUNTER_KEY)
            return row.value if row else None

    def denied(self, actor: Actor, call: Callable[[], object], ref: str) -> None:
        before = self.last_id()
        with pytest.raises(PermissionDenied):
            call()
        assert self.audit_since(before) == [
            (actor.username, "print_personal_report", "", ref, "denied", "")
        ]

    def add_client(self, code: str, name: str) -> int:
        with self.services.db.write() as session:
            return session.execute(
                insert(m.Client).returning(m.Client.id),
                [
                    {
                        "client_code": code,
                        "name": name,
                        "created_at": datetime(2026, 1, 1, tzinfo=UTC),
                    }
                ],
            ).scalar_one()

    def seen(
        self,
        client_id: int,
        starts_at: datetime,
        *,
        counsellor: Actor | None = None,
        status: AppointmentStatus = AppointmentStatus.COMPLETED,
    ) -> None:
        with self.services.db.write() as session:
            session.execute(
                insert(m.Appointment),
                [
                    {
                        "station_id": self.world.station_id,
                        "client_id": client_id,
                        "counsellor_id": (counsellor or self.counsellor).user_id,
                        "room_id": self.world.room_id,
                        "type": AppointmentType.COUNSELLING,
                        "status": status,
                        "starts_at": starts_at,
                        "ends_at": starts_at + timedelta(minutes=50),
                        "created_at": starts_at,
                    }
                ],
            )


@pytest.fixture
def env(services: Services, clock: FakeClock) -> Env:
    world = build_world(services)
    give_consent(services, world, ConsentPurpose.ASSESSMENT)
    give_consent(services, world, ConsentPurpose.REPORT_PRINTING)
    assessments, _alerts = assessment_services(services)
    reports = ReportService(services.db, services.audit, clock, services.vault)
    return Env(services, world, clock, assessments, reports)


@pytest.fixture
def history(env: Env) -> Env:
    """PHQ-9 three times (severe, moderate, mild), GAD-7 twice (10, 12), WHO-5 once (20 %), all
    at 10:00 Shanghai time on the first of September, October and November."""
    env.clock.current = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
    env.record("phq9", PHQ9_SEVERE)
    env.clock.current = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
    env.record("phq9", PHQ9_MODERATE)
    env.record("gad7", GAD7_10)
    env.clock.current = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
    env.record("who5", WHO5_LOW)
    env.record("gad7", GAD7_12)
    env.record("phq9", PHQ9_MILD)
    env.clock.current = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    return env


# --- what a report holds -------------------------------------------------------------------------


def test_a_report_holds_the_latest_results_and_their_history(history: Env) -> None:
    data = history.report()
    assert data.report_number == "R-000001"
    assert data.lang == "zh_CN"
    assert (data.station_name, data.station_address, data.station_phone) == (
        "暨阳街道职工情绪管理服务站",
        "",
        "0575-87001234",
    )
    assert (data.client_code, data.client_name, data.counsellor_name) == (CODE, None, "陈静")
    assert data.issued_on == date(2026, 11, 23)
    sep, oct_, nov = date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)
    assert data.sections == (
        InstrumentSection(
            instrument="phq9",
            latest_total=8,
            latest_value=8,
            latest_band="mild",
            latest_on=nov,
            points=(ReportPoint(sep, 20), ReportPoint(oct_, 12), ReportPoint(nov, 8)),
            change="improved",
            follow_up_advised=False,
        ),
        InstrumentSection(
            instrument="gad7",
            latest_total=12,
            latest_value=12,
            latest_band="moderate",
            latest_on=nov,
            points=(ReportPoint(oct_, 10), ReportPoint(nov, 12)),
            change="no_reliable_change",
            follow_up_advised=True,
        ),
        InstrumentSection(
            instrument="who5",
            latest_total=5,
            latest_value=20,  # on the band basis: percent
            latest_band="likely_depression",
            latest_on=nov,
            points=(ReportPoint(nov, 20),),
            change=None,  # one form: no change to tell
            follow_up_advised=True,
        ),
    )


def test_scores_are_recomputed_from_the_raw_answers(history: Env) -> None:
    with history.services.db.write() as session:
        session.execute(update(m.Assessment).values(total=0, band="minimal"))
    [phq9, *_rest] = history.report().sections
    assert [p.value for p in phq9.points] == [20, 12, 8]
    assert (phq9.latest_total, phq9.latest_band) == (8, "mild")


def test_the_name_is_printed_only_when_asked_and_the_audit_entry_says_so(history: Env) -> None:
    before = history.last_id()
    assert history.report().client_name is None
    named = history.report(include_name=True)
    assert named.client_name == "张三"
    assert named.report_number == "R-000002"
    user = history.counsellor.username
    assert history.audit_since(before) == [
        (user, "print_personal_report", "client", CODE, "ok", "R-000001; code only"),
        (user, "print_personal_report", "client", CODE, "ok", "R-000002; name printed"),
    ]
    assert "print_personal_report" in ACTIONS


def test_the_date_is_the_stations_local_day(history: Env) -> None:
    history.clock.current = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)  # 00:30 on the 24th
    assert history.report().issued_on == date(2026, 11, 24)


def test_the_station_is_the_one_the_counsellor_is_signed_in_at(history: Env) -> None:
    other = dataclasses.replace(history.counsellor, station_id=history.world.other_station_id)
    assert history.report(other).station_name == "店口镇服务站"


def test_item_9_calls_for_a_follow_up_whatever_the_total(env: Env) -> None:
    env.record("phq9", PHQ9_ITEM9)
    [section] = env.report().sections
    assert (section.latest_total, section.latest_band) == (3, "minimal")
    assert section.follow_up_advised


def test_which_bands_call_for_a_follow_up() -> None:
    assert not follow_up_advised("phq9", "mild", ())
    assert follow_up_advised("phq9", "moderate", ())
    assert follow_up_advised("phq9", "minimal", ("suicidal_ideation",))
    assert follow_up_advised("who5", "adequate", ("item_score_le_1",))
    assert not follow_up_advised("who5", "adequate", ())
    assert follow_up_advised("k10", "high", ())
    assert not follow_up_advised("k10", "moderate", ())
    assert follow_up_advised("pss10", "high", ())
    assert not follow_up_advised("pss10", "moderate", ())
    assert follow_up_advised("gad7", "severe", ())
    assert not follow_up_advised("gad7", "mild", ())
    # Every band named exists in its instrument's definition.
    from carestation.assessments import load_instrument

    for code, bands in FOLLOW_UP_BANDS.items():
        assert bands <= {b.slug for b in load_instrument(code).bands}, code


def test_the_pod_rating_is_not_a_questionnaire(env: Env) -> None:
    with env.services.db.write() as session:
        session.add(
            m.Assessment(
                client_id=env.world.client_id,
                station_id=env.world.station_id,
                instrument="mood",
                instrument_version="1",
                answers=[6],
                total=6,
                band="",
                mode=AssessmentMode.COUNSELLOR,
                administered_by=env.counsellor.user_id,
                taken_at=env.clock.now(),
                language="zh_CN",
            )
        )
    with pytest.raises(Conflict, match="has no questionnaires yet"):
        env.report()


def test_a_client_without_questionnaires_gets_no_report_and_no_number(env: Env) -> None:
    start = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    add_appointment(env.services, env.world, start, start + timedelta(minutes=50))
    before = env.last_id()
    with pytest.raises(Conflict, match=f"{CODE} has no questionnaires yet"):
        env.report()
    assert env.audit_since(before) == []
    assert env.counter() in (None, "0")
    env.record("phq9", PHQ9_MILD)
    assert env.report().report_number == "R-000001"


def test_the_report_language_must_be_one_the_app_ships(history: Env) -> None:
    assert history.report(lang="en").lang == "en"
    with pytest.raises(ValidationError):
        history.report(lang="fr")


# --- the number ----------------------------------------------------------------------------------


def test_numbers_count_up_and_are_never_given_twice(history: Env) -> None:
    numbers = [history.report().report_number for _ in range(3)]
    assert numbers == ["R-000001", "R-000002", "R-000003"]
    assert history.counter() == "3"


def test_numbers_stay_unique_when_counsellors_print_at_the_same_time(history: Env) -> None:
    results: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def worker() -> None:
        start.wait()
        try:
            for _ in range(3):
                results.append(history.report().report_number)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results) == [f"R-{n:06d}" for n in range(1, 19)]
    with history.services.db.read() as session:
        details = session.scalars(
            select(m.AuditEvent.detail).where(m.AuditEvent.action == "print_personal_report")
        ).all()
    assert sorted(d.split(";")[0] for d in details) == sorted(results)


# --- who may print -------------------------------------------------------------------------------


@dataclass
class Readers:
    supervisor: Actor  # supervises the station where the client has a case
    mentor: Actor  # had an appointment with the client
    case_counsellor: Actor  # counsels the client's case
    stranger: Actor  # a counsellor with no link to the client


@pytest.fixture
def readers(history: Env) -> Readers:
    s, w = history.services, history.world
    give_consent(s, w, ConsentPurpose.COUNSELLING)
    sup = add_counsellor(s, w, "sup01", "孙督导", CounsellorKind.EXPERT)
    mentor = add_counsellor(s, w, "men01", "吴导师", CounsellorKind.MENTOR)
    reg = add_counsellor(s, w, "reg01", "刘调节", CounsellorKind.REGULATOR)
    stranger = add_counsellor(s, w, "str01", "钱陌生", CounsellorKind.EXPERT)
    with s.db.write() as session:
        session.get_one(m.Station, w.station_id).supervisor_id = sup.user_id
    s.cases.open_case(
        reg, client_id=w.client_id, topics={Topic.WORK_STRESS}, risk_level=RiskLevel.LOW
    )
    start = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    add_appointment(s, w, start, start + timedelta(minutes=50), counsellor_id=mentor.user_id)
    return Readers(sup, mentor, reg, stranger)


def test_who_may_print_a_clients_report(history: Env, readers: Readers) -> None:
    w = history.world
    for actor in (history.counsellor, readers.supervisor, readers.mentor, readers.case_counsellor):
        before = history.last_id()
        data = history.report(actor)
        assert data.counsellor_name == actor.display_name
        assert [s.instrument for s in data.sections] == ["phq9", "gad7", "who5"]
        assert history.audit_since(before) == [
            (
                actor.username,
                "print_personal_report",
                "client",
                CODE,
                "ok",
                f"{data.report_number}; code only",
            )
        ]
    # A counsellor without a link to the client: refused, named by code.
    history.denied(readers.stranger, lambda: history.report(readers.stranger), CODE)
    # Roles that never print reports: refused before anything is read.
    for actor in (w.staff, w.other_staff, w.manager, w.admin):
        history.denied(actor, lambda a=actor: history.report(a), str(w.client_id))
    assert history.counter() == "4"


def test_report_printing_consent_is_required(history: Env) -> None:
    with history.services.db.write() as session:
        session.execute(
            update(m.Consent)
            .where(m.Consent.purpose == ConsentPurpose.REPORT_PRINTING)
            .values(withdrawn_at=datetime(2026, 11, 2, tzinfo=UTC))
        )
    before = history.last_id()
    with pytest.raises(ConsentMissing) as exc:
        history.report()
    assert exc.value.purpose is ConsentPurpose.REPORT_PRINTING
    assert history.audit_since(before) == []
    assert history.counter() is None
    give_consent(history.services, history.world, ConsentPurpose.REPORT_PRINTING)
    assert history.report().report_number == "R-000001"


def test_unknown_and_erased_clients_are_not_found(history: Env) -> None:
    with pytest.raises(NotFound):
        history.report(client_id=999_999)
    with history.services.db.write() as session:
        session.execute(
            update(m.Client)
            .where(m.Client.id == history.world.client_id)
            .values(erased_at=datetime(2026, 11, 22, tzinfo=UTC), name="")
        )
    with pytest.raises(NotFound):
        history.report()
    with pytest.raises(NotFound):
        history.reports.find_client(history.counsellor, code=CODE)


def test_finding_a_client_by_a_typed_code(history: Env) -> None:
    cid = history.world.client_id
    assert history.reports.find_client(history.counsellor, code=f"  {CODE} ") == cid
    with pytest.raises(NotFound, match="No client has the code ZZZZ"):
        history.reports.find_client(history.counsellor, code="ZZZZ")
    history.denied(
        history.world.staff,
        lambda: history.reports.find_client(history.world.staff, code=CODE),
        CODE,
    )


# --- a day's clients -----------------------------------------------------------------------------

DAY = date(2026, 11, 23)


@pytest.fixture
def day(history: Env) -> dict[str, int]:
    """Clients seen on 2026-11-23 (Shanghai) and around it."""
    s, w = history.services, history.world
    ids = {"main": w.client_id}
    for key, code in (
        ("no_consent", "BBBB-0000-1"),
        ("no_forms", "CCCC-0000-1"),
        ("booked", "DDDD-0000-1"),
        ("next_day", "EEEE-0000-1"),
        ("early", "AAAA-0000-1"),
        ("other", "FFFF-0000-1"),
    ):
        ids[key] = history.add_client(code, f"客户{key}")
        give_consent(s, w, ConsentPurpose.ASSESSMENT, client_id=ids[key])
        if key != "no_consent":
            give_consent(s, w, ConsentPurpose.REPORT_PRINTING, client_id=ids[key])
        if key != "no_forms":
            history.record("k10", (2,) * 10, client_id=ids[key])
    morning = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 Shanghai
    history.seen(ids["main"], morning)
    history.seen(ids["main"], morning + timedelta(hours=5))  # twice: listed once
    history.seen(ids["no_consent"], morning + timedelta(hours=1))
    history.seen(ids["no_forms"], morning + timedelta(hours=2))
    history.seen(ids["booked"], morning + timedelta(hours=3), status=AppointmentStatus.BOOKED)
    history.seen(ids["next_day"], datetime(2026, 11, 23, 16, 30, tzinfo=UTC))  # 00:30 on the 24th
    history.seen(ids["early"], datetime(2026, 11, 22, 16, 30, tzinfo=UTC))  # 00:30 on the 23rd
    colleague = add_counsellor(s, w, "reg02", "周调节", CounsellorKind.REGULATOR)
    history.seen(ids["other"], morning + timedelta(hours=4), counsellor=colleague)
    return ids


def test_clients_seen_on_a_day(history: Env, day: dict[str, int]) -> None:
    assert history.reports.clients_seen_on(history.counsellor, day=DAY) == [
        (day["early"], "AAAA-0000-1"),
        (day["main"], CODE),
    ]
    assert history.reports.clients_seen_on(history.counsellor, day=DAY + timedelta(days=1)) == [
        (day["next_day"], "EEEE-0000-1")
    ]
    assert history.reports.clients_seen_on(history.counsellor, day=DAY - timedelta(days=2)) == []
    history.denied(
        history.world.staff,
        lambda: history.reports.clients_seen_on(history.world.staff, day=DAY),
        "",
    )


def test_a_supervisor_sees_the_clients_of_their_station_they_may_read(
    history: Env, day: dict[str, int]
) -> None:
    s, w = history.services, history.world
    give_consent(s, w, ConsentPurpose.COUNSELLING, client_id=day["other"])
    sup = add_counsellor(s, w, "sup02", "孙督导", CounsellorKind.EXPERT)
    assert history.reports.clients_seen_on(sup, day=DAY) == []
    with s.db.write() as session:
        session.get_one(m.Station, w.station_id).supervisor_id = sup.user_id
    # Only a case at the station lets the supervisor read a client's questionnaires.
    s.cases.open_case(
        history.counsellor,
        client_id=day["other"],
        topics={Topic.WORK_STRESS},
        risk_level=RiskLevel.LOW,
    )
    assert history.reports.clients_seen_on(sup, day=DAY) == [(day["other"], "FFFF-0000-1")]


def test_reports_for_a_day_one_number_and_entry_each(history: Env, day: dict[str, int]) -> None:
    before = history.last_id()
    reports = history.reports.personal_reports_for_day(history.counsellor, day=DAY, lang="en")
    assert [(r.report_number, r.client_code, r.client_name, r.lang) for r in reports] == [
        ("R-000001", "AAAA-0000-1", None, "en"),
        ("R-000002", CODE, None, "en"),
    ]
    assert [s.instrument for s in reports[0].sections] == ["k10"]
    assert [s.instrument for s in reports[1].sections] == ["phq9", "gad7", "who5"]
    user = history.counsellor.username
    assert history.audit_since(before) == [
        (user, "print_personal_report", "client", "AAAA-0000-1", "ok", "R-000001; code only"),
        (user, "print_personal_report", "client", CODE, "ok", "R-000002; code only"),
    ]
    assert (
        history.reports.personal_reports_for_day(
            history.counsellor, day=date(2026, 1, 1), lang="en"
        )
        == []
    )
    history.denied(
        history.world.manager,
        lambda: history.reports.personal_reports_for_day(history.world.manager, day=DAY, lang="en"),
        "",
    )
    assert history.counter() == "2"
