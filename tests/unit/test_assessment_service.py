"""The assessment service: saving forms in a session, on the self-service screen and anonymously,
pod ratings, who may read a client's results, trends, risk, and the band statistics. Runs on
SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, func, select, update

from carestation.db import models as m
from carestation.domain.assessment_values import AnonymousProfile, FormAnswers
from carestation.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from carestation.domain.values import Actor
from carestation.domain.vocab import (
    AgeBand,
    AppointmentStatus,
    AppointmentType,
    AssessmentMode,
    ConsentPurpose,
    CounsellorKind,
    FlagSource,
    Gender,
    Industry,
    PodPhase,
    RiskLevel,
    Topic,
)
from carestation.services.assessments import AssessmentService
from carestation.services.consent_rules import ConsentMissing
from carestation.services.container import Services
from carestation.services.risk_alerts import RiskAlertService
from tests.conftest import FakeClock
from tests.factories import (
    World,
    add_appointment,
    add_counsellor,
    assessment_services,
    build_world,
    give_consent,
)

SH = ZoneInfo("Asia/Shanghai")
CODE = "ABCD-EFGH-1"
PHQ9_MILD = (1, 1, 1, 1, 1, 1, 1, 1, 0)  # total 8, mild, no risk
PHQ9_ITEM9 = (1, 1, 0, 0, 0, 0, 0, 0, 1)  # total 3, but item 9 answered "several days"
K10_30 = (3,) * 10
K10_29 = (3,) * 9 + (2,)


@dataclass
class Env:
    services: Services
    world: World
    clock: FakeClock
    assessments: AssessmentService
    alerts: RiskAlertService

    @property
    def counsellor(self) -> Actor:
        return self.world.counsellor

    @property
    def away(self) -> Actor:
        """The other station's staff member with a session claiming the main station."""
        return dataclasses.replace(self.world.other_staff, station_id=self.world.station_id)

    def record(self, form: FormAnswers, **kwargs: Any) -> Any:
        return self.assessments.record_in_session(
            self.counsellor, client_id=self.world.client_id, form=form, **kwargs
        )

    def count(self, model: Any) -> int:
        with self.services.db.read() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)

    def last_id(self) -> int:
        with self.services.db.read() as session:
            return session.scalar(select(func.max(m.AuditEvent.id))) or 0

    def audit_since(self, after: int) -> list[m.AuditEvent]:
        with self.services.db.read() as session:
            return list(
                session.scalars(
                    select(m.AuditEvent).where(m.AuditEvent.id > after).order_by(m.AuditEvent.id)
                )
            )

    def rows(self) -> list[m.Assessment]:
        with self.services.db.read() as session:
            return list(session.scalars(select(m.Assessment).order_by(m.Assessment.id)))

    def denied(self, actor: Actor, action: str, call: Callable[[], object]) -> None:
        """Refused, and exactly one entry written: this actor, this action, denied."""
        before = self.last_id()
        with pytest.raises(PermissionDenied):
            call()
        assert [(e.username, e.action, e.result) for e in self.audit_since(before)] == [
            (actor.username, action, "denied")
        ]


@pytest.fixture
def env(services: Services, clock: FakeClock) -> Env:
    world = build_world(services)
    give_consent(services, world, ConsentPurpose.ASSESSMENT)
    assessments, alerts = assessment_services(services)
    return Env(services, world, clock, assessments, alerts)


def phq9(answers: tuple[int | None, ...] = PHQ9_MILD, **kwargs: Any) -> FormAnswers:
    return FormAnswers(instrument="phq9", answers=answers, **kwargs)


def k10(answers: tuple[int | None, ...], **kwargs: Any) -> FormAnswers:
    return FormAnswers(instrument="k10", answers=answers, **kwargs)


# --- a counsellor in a session -------------------------------------------------------------------


def test_record_in_session_stores_raw_answers_and_scores_exactly(env: Env) -> None:
    before = env.last_id()
    saved = env.record(phq9(extra_answers=(("10", 1),), language="en"))
    assert (saved.score.total, saved.score.band, saved.score.flags) == (8, "mild", ())
    assert (saved.risk_reasons, saved.alert_id, saved.crisis_flag_id) == ((), None, None)
    assert not saved.needs_help_now
    [row] = env.rows()
    assert saved.assessment_id == row.id
    assert row.client_id == env.world.client_id
    assert row.station_id == env.world.station_id
    assert (row.instrument, row.instrument_version) == ("phq9", saved.score.version)
    assert row.answers == list(PHQ9_MILD)
    assert row.extra_answers == {"10": 1}
    assert (row.total, row.band, row.language) == (8, "mild", "en")
    assert row.mode is AssessmentMode.COUNSELLOR
    assert row.administered_by == env.counsellor.user_id
    assert row.taken_at == env.clock.now()
    assert (row.phase, row.campaign_id) == (None, None)
    [entry] = env.audit_since(before)
    assert (entry.action, entry.object_type, entry.object_ref, entry.result) == (
        "record_assessment",
        "client",
        CODE,
        "ok",
    )
    assert entry.detail == f"assessment {row.id}; phq9; counsellor"
    assert "8" not in entry.detail.replace(str(row.id), "")  # no score in the trail


def test_record_in_session_links_the_case_and_appointment(env: Env) -> None:
    give_consent(env.services, env.world, ConsentPurpose.COUNSELLING)
    case = env.services.cases.open_case(
        env.counsellor,
        client_id=env.world.client_id,
        topics={Topic.WORK_STRESS},
        risk_level=RiskLevel.LOW,
    )
    start = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    appointment = add_appointment(
        env.services,
        env.world,
        start,
        start + timedelta(minutes=50),
        station_id=env.world.other_station_id,
    )
    saved = env.record(phq9(), case_id=case.id, appointment_id=appointment)
    [row] = env.rows()
    assert (row.id, row.case_id, row.appointment_id) == (saved.assessment_id, case.id, appointment)
    # Given in that appointment: stored at the appointment's station.
    assert row.station_id == env.world.other_station_id


def test_record_in_session_refuses_other_clients_cases_closed_cases_and_cancelled_sessions(
    env: Env,
) -> None:
    give_consent(env.services, env.world, ConsentPurpose.COUNSELLING)
    with env.services.db.write() as session:
        other = m.Client(client_code="WXYZ-2345-2", name="李四", created_at=env.clock.now())
        session.add(other)
        session.flush()
        other_id = other.id
    give_consent(env.services, env.world, ConsentPurpose.COUNSELLING, client_id=other_id)
    others_case = env.services.cases.open_case(
        env.counsellor, client_id=other_id, topics={Topic.WORK_STRESS}, risk_level=RiskLevel.LOW
    )
    with pytest.raises(ValidationError) as wrong_case:
        env.record(phq9(), case_id=others_case.id)
    assert "not this client's" in wrong_case.value.errors["case"]
    own = env.services.cases.open_case(
        env.counsellor,
        client_id=env.world.client_id,
        topics={Topic.WORK_STRESS},
        risk_level=RiskLevel.LOW,
    )
    with env.services.db.write() as session:
        session.execute(update(m.Case).where(m.Case.id == own.id).values(status="closed"))
    with pytest.raises(ValidationError) as closed:
        env.record(phq9(), case_id=own.id)
    assert "closed" in closed.value.errors["case"]
    start = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    cancelled = add_appointment(
        env.services,
        env.world,
        start,
        start + timedelta(minutes=50),
        status=AppointmentStatus.CANCELLED,
    )
    with pytest.raises(ValidationError) as was_cancelled:
        env.record(phq9(), appointment_id=cancelled)
    assert "cancelled" in was_cancelled.value.errors["appointment"]
    with env.services.db.write() as session:
        session.execute(
            update(m.Appointment).where(m.Appointment.id == cancelled).values(client_id=other_id)
        )
    with pytest.raises(ValidationError) as wrong_appointment:
        env.record(phq9(), appointment_id=cancelled)
    assert "not this client's" in wrong_appointment.value.errors["appointment"]
    assert env.rows() == []


def test_record_in_session_needs_assessment_consent(env: Env) -> None:
    with env.services.db.write() as session:
        session.execute(update(m.Consent).values(withdrawn_at=env.clock.now()))
    with pytest.raises(ConsentMissing) as missing:
        env.record(phq9(PHQ9_ITEM9))
    assert missing.value.purpose is ConsentPurpose.ASSESSMENT
    assert "consent" in str(missing.value)
    assert (env.count(m.Assessment), env.count(m.RiskAlert), env.count(m.CrisisFlag)) == (0, 0, 0)


def test_record_in_session_unknown_client(env: Env) -> None:
    with pytest.raises(NotFound):
        env.assessments.record_in_session(env.counsellor, client_id=999_999, form=phq9())


@pytest.mark.parametrize("who", ["staff", "other_staff", "manager", "admin"])
def test_only_counsellors_give_assessments(env: Env, who: str) -> None:
    actor = getattr(env.world, who)
    env.denied(
        actor,
        "record_assessment",
        lambda: env.assessments.record_in_session(
            actor, client_id=env.world.client_id, form=phq9()
        ),
    )
    assert env.rows() == []


def test_a_counsellor_records_only_at_a_station_they_work_at(env: Env) -> None:
    elsewhere = add_counsellor(
        env.services,
        env.world,
        "c009",
        "周敏",
        CounsellorKind.REGULATOR,
        station_ids={env.world.other_station_id},
    )
    assert elsewhere.station_id == env.world.other_station_id
    start = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    at_main = add_appointment(env.services, env.world, start, start + timedelta(minutes=50))
    # The session was held at the main station, where this counsellor does not work.
    env.denied(
        elsewhere,
        "record_assessment",
        lambda: env.assessments.record_in_session(
            elsewhere, client_id=env.world.client_id, form=phq9(), appointment_id=at_main
        ),
    )
    # Nor can a session be pretended to be at a station they do not work at.
    pretending = dataclasses.replace(elsewhere, station_id=env.world.station_id)
    env.denied(
        pretending,
        "record_assessment",
        lambda: env.assessments.record_in_session(
            pretending, client_id=env.world.client_id, form=phq9()
        ),
    )
    assert env.rows() == []
    # At their own station they may.
    env.assessments.record_in_session(elsewhere, client_id=env.world.client_id, form=phq9())
    [row] = env.rows()
    assert row.station_id == env.world.other_station_id


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "field", "words"),
    [
        (phq9((1,) * 8), "answers", "9 questions but 8 answers"),
        (phq9((1, 1, 1, None, 1, 1, 1, 1, 0)), "answers", "Question 4 of PHQ-9 has no answer"),
        (phq9((1, 1, 1, 4, 1, 1, 1, 1, 0)), "answers", "question 4 of PHQ-9 is not one of its"),
        (phq9((1, 1, True, 1, 1, 1, 1, 1, 0)), "answers", "question 3 of PHQ-9"),
        (phq9((1, 1, 1.0, 1, 1, 1, 1, 1, 0)), "answers", "question 3 of PHQ-9"),  # type: ignore[arg-type]
        (phq9(extra_answers=(("11", 1),)), "extra_answers", "no extra question 11"),
        (phq9(extra_answers=(("10", 7),)), "extra_answers", "extra question 10 of PHQ-9"),
        (phq9(extra_answers=(("10", 1), ("10", 2))), "extra_answers", "answered twice"),
        (phq9(language="fr"), "language", "Chinese or English"),
        (FormAnswers(instrument="bdi", answers=(1,)), "instrument", "'bdi' is not one"),
        (FormAnswers(instrument="mood", answers=(5,)), "instrument", "emotion-pod"),
        # One K10 answer may be left out only when prorating was asked for.
        (k10((3,) * 9 + (None,)), "answers", "Question 10 of K10 has no answer"),
        (k10((3,) * 8 + (None, None), prorate=True), "answers", "Questions 9, 10 of K10"),
        # No other instrument is ever prorated.
        (phq9((1, 1, 1, 1, 1, 1, 1, 1, None), prorate=True), "answers", "Question 9 of PHQ-9"),
        (FormAnswers(instrument="k10", answers=(6,) * 10), "answers", "(1 to 5)"),
    ],
)
def test_bad_answers_are_refused_and_nothing_is_written(
    env: Env, form: FormAnswers, field: str, words: str
) -> None:
    before = env.last_id()
    with pytest.raises(ValidationError) as refused:
        env.record(form)
    assert list(refused.value.errors) == [field]
    assert words in refused.value.errors[field]
    assert (env.count(m.Assessment), env.count(m.RiskAlert)) == (0, 0)
    assert env.audit_since(before) == []


def test_a_k10_with_one_answer_left_out_is_prorated_when_asked(env: Env) -> None:
    answers = (2, 3, 2, 3, 2, 3, 2, 3, 2, None)  # sum 22 over 9 items
    saved = env.record(k10(answers, prorate=True))
    assert (saved.score.total, saved.score.band, saved.score.prorated) == (24, "high", True)
    [row] = env.rows()
    assert row.answers == list(answers)
    assert row.total == 24


# --- risk ----------------------------------------------------------------------------------------


def test_phq9_item9_raises_an_alert_and_a_crisis_flag_whatever_the_total(env: Env) -> None:
    saved = env.record(phq9(PHQ9_ITEM9))
    assert (saved.score.total, saved.score.band) == (3, "minimal")
    assert saved.risk_reasons == ("self_harm_item",)
    assert saved.needs_help_now
    assert saved.alert_id is not None
    assert saved.crisis_flag_id is not None
    with env.services.db.read() as session:
        alert = session.get_one(m.RiskAlert, saved.alert_id)
        flag = session.get_one(m.CrisisFlag, saved.crisis_flag_id)
        assert (alert.client_id, alert.assessment_id, alert.crisis_flag_id) == (
            env.world.client_id,
            saved.assessment_id,
            saved.crisis_flag_id,
        )
        assert (alert.station_id, alert.mode, alert.instrument, alert.reason) == (
            env.world.station_id,
            AssessmentMode.COUNSELLOR,
            "phq9",
            "self_harm_item",
        )
        assert (alert.raised_at, alert.acted_at) == (env.clock.now(), None)
        assert (flag.source, flag.assessment_id, flag.client_id) == (
            FlagSource.ASSESSMENT,
            saved.assessment_id,
            env.world.client_id,
        )
    shown = env.services.crisis.open_flag(env.counsellor, env.world.client_id)
    assert shown is not None
    assert shown.reason == "An answer about self-harm or suicide needs attention at once."


def test_k10_of_30_raises_and_29_does_not(env: Env) -> None:
    calm = env.record(k10(K10_29))
    assert (calm.score.total, calm.score.band, calm.risk_reasons) == (29, "high", ())
    assert (env.count(m.RiskAlert), env.count(m.CrisisFlag)) == (0, 0)
    risky = env.record(k10(K10_30))
    assert (risky.score.total, risky.score.band) == (30, "very_high")
    assert risky.risk_reasons == ("k10_very_high",)
    assert (env.count(m.RiskAlert), env.count(m.CrisisFlag)) == (1, 1)
    shown = env.services.crisis.open_flag(env.counsellor, env.world.client_id)
    assert shown is not None
    assert "30 or more" in shown.reason


def test_one_open_crisis_flag_per_client_but_an_alert_per_form(env: Env) -> None:
    first = env.record(phq9(PHQ9_ITEM9))
    second = env.record(k10(K10_30))
    assert second.crisis_flag_id == first.crisis_flag_id
    assert second.alert_id != first.alert_id
    assert (env.count(m.RiskAlert), env.count(m.CrisisFlag)) == (2, 1)


# --- the self-service screen ---------------------------------------------------------------------


def test_check_kiosk_client(env: Env) -> None:
    env.assessments.check_kiosk_client(env.world.staff, client_id=env.world.client_id)
    with pytest.raises(NotFound):
        env.assessments.check_kiosk_client(env.world.staff, client_id=999_999)
    with env.services.db.write() as session:
        session.execute(update(m.Consent).values(withdrawn_at=env.clock.now()))
    with pytest.raises(ConsentMissing):
        env.assessments.check_kiosk_client(env.world.staff, client_id=env.world.client_id)
    for actor in (env.world.manager, env.world.admin, env.away):
        env.denied(
            actor,
            "start_kiosk",
            lambda a=actor: env.assessments.check_kiosk_client(a, client_id=env.world.client_id),
        )


def test_kiosk_saves_every_form_in_one_transaction(env: Env) -> None:
    session_result = env.assessments.record_kiosk_for_client(
        env.world.staff,
        client_id=env.world.client_id,
        forms=[phq9(extra_answers=(("10", 0),)), k10(K10_30)],
    )
    assert [f.score.total for f in session_result.forms] == [8, 30]
    assert session_result.needs_help_now
    assert [f.risk_reasons for f in session_result.forms] == [(), ("k10_very_high",)]
    rows = env.rows()
    assert [(r.instrument, r.mode, r.administered_by, r.client_id) for r in rows] == [
        ("phq9", AssessmentMode.KIOSK, None, env.world.client_id),
        ("k10", AssessmentMode.KIOSK, None, env.world.client_id),
    ]
    assert [f.assessment_id for f in session_result.forms] == [r.id for r in rows]
    assert all(r.taken_at == env.clock.now() for r in rows)


def test_kiosk_saves_nothing_when_one_form_is_bad(env: Env) -> None:
    with pytest.raises(ValidationError):
        env.assessments.record_kiosk_for_client(
            env.world.staff,
            client_id=env.world.client_id,
            forms=[k10(K10_30), phq9((1, 1, None, 1, 1, 1, 1, 1, 1))],
        )
    with pytest.raises(ValidationError) as empty:
        env.assessments.record_kiosk_for_client(
            env.world.staff, client_id=env.world.client_id, forms=[]
        )
    assert "nothing to save" in empty.value.errors["forms"]
    assert (env.count(m.Assessment), env.count(m.RiskAlert), env.count(m.CrisisFlag)) == (0, 0, 0)


def test_kiosk_saves_nothing_without_consent(env: Env) -> None:
    with env.services.db.write() as session:
        session.execute(update(m.Consent).values(withdrawn_at=env.clock.now()))
    with pytest.raises(ConsentMissing):
        env.assessments.record_kiosk_for_client(
            env.world.staff, client_id=env.world.client_id, forms=[k10(K10_30)]
        )
    assert (env.count(m.Assessment), env.count(m.RiskAlert)) == (0, 0)


def test_kiosk_only_at_the_staff_members_own_station(env: Env) -> None:
    for actor in (env.away, env.world.manager, env.world.admin):
        env.denied(
            actor,
            "record_assessment",
            lambda a=actor: env.assessments.record_kiosk_for_client(
                a, client_id=env.world.client_id, forms=[phq9()]
            ),
        )
    assert env.rows() == []
    # The other station's staff run their own station's screen.
    env.assessments.record_kiosk_for_client(
        env.world.other_staff, client_id=env.world.client_id, forms=[phq9()]
    )
    [row] = env.rows()
    assert row.station_id == env.world.other_station_id


# --- anonymous visitors --------------------------------------------------------------------------


def test_anonymous_forms_keep_the_local_day_only_and_nothing_that_links_to_a_person(
    env: Env,
) -> None:
    # 01:00 on 23 November in Shanghai, still 22 November in UTC.
    env.clock.current = datetime(2026, 11, 22, 17, 0, tzinfo=UTC)
    profile = AnonymousProfile(
        age_band=AgeBand.FROM_35_TO_44, gender=Gender.FEMALE, industry=Industry.MANUFACTURING
    )
    before = env.last_id()
    result = env.assessments.record_anonymous(
        env.world.staff, forms=[phq9(PHQ9_ITEM9), FormAnswers("gad7", (0,) * 7)], profile=profile
    )
    assert [f.assessment_id for f in result.forms] == [None, None]
    assert result.forms[0].risk_reasons == ("self_harm_item",)
    assert result.forms[0].crisis_flag_id is None
    assert result.forms[1].alert_id is None
    rows = env.rows()
    midnight = datetime(2026, 11, 23, 0, 0, tzinfo=SH)
    assert [
        (
            r.instrument,
            r.client_id,
            r.administered_by,
            r.mode,
            r.taken_at,
            r.age_band,
            r.respondent_gender,
            r.industry,
        )
        for r in rows
    ] == [
        (
            code,
            None,
            None,
            AssessmentMode.ANONYMOUS,
            midnight,
            AgeBand.FROM_35_TO_44,
            Gender.FEMALE,
            Industry.MANUFACTURING,
        )
        for code in ("phq9", "gad7")
    ]
    assert rows[0].taken_at == datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
    with env.services.db.read() as session:
        [alert] = session.scalars(select(m.RiskAlert)).all()
        assert (alert.assessment_id, alert.client_id, alert.crisis_flag_id) == (None, None, None)
        assert (alert.mode, alert.instrument, alert.station_id) == (
            AssessmentMode.ANONYMOUS,
            "phq9",
            env.world.station_id,
        )
    assert env.count(m.CrisisFlag) == 0
    entries = env.audit_since(before)
    assert [(e.action, e.detail) for e in entries if e.action == "record_assessment"] == [
        ("record_assessment", "anonymous phq9"),
        ("record_assessment", "anonymous gad7"),
    ]
    for entry in entries:
        assert "assessment" not in entry.detail, entry.detail
        assert entry.object_type in ("station", "risk_alert"), entry.object_type
    assert {e.object_ref for e in entries if e.action == "record_assessment"} == {
        str(env.world.station_id)
    }


def test_anonymous_profile_may_be_empty_and_must_come_from_the_lists(env: Env) -> None:
    env.assessments.record_anonymous(env.world.staff, forms=[phq9()], profile=AnonymousProfile())
    [row] = env.rows()
    assert (row.age_band, row.respondent_gender, row.industry) == (None, None, None)
    with pytest.raises(ValidationError) as bad:
        env.assessments.record_anonymous(
            env.world.staff,
            forms=[phq9()],
            profile=AnonymousProfile(age_band="seventy"),  # type: ignore[arg-type]
        )
    assert "profile" in bad.value.errors
    assert env.count(m.Assessment) == 1


def test_anonymous_forms_only_by_station_workers_at_their_station(env: Env) -> None:
    for actor in (env.away, env.world.manager, env.world.admin):
        env.denied(
            actor,
            "record_assessment",
            lambda a=actor: env.assessments.record_anonymous(
                a, forms=[phq9()], profile=AnonymousProfile()
            ),
        )
    # A counsellor may run the screen too, and staff at their own station.
    env.assessments.record_anonymous(env.counsellor, forms=[phq9()], profile=AnonymousProfile())
    env.assessments.record_anonymous(
        env.world.other_staff, forms=[phq9()], profile=AnonymousProfile()
    )
    assert [r.station_id for r in env.rows()] == [env.world.station_id, env.world.other_station_id]


# --- the emotion pod -----------------------------------------------------------------------------


def pod(
    env: Env,
    *,
    client: bool = True,
    status: AppointmentStatus = AppointmentStatus.BOOKED,
    type_: AppointmentType = AppointmentType.POD,
) -> int:
    start = datetime(2026, 11, 23, 3, 0, tzinfo=UTC) + timedelta(hours=env.count(m.Appointment))
    appointment = add_appointment(
        env.services,
        env.world,
        start,
        start + timedelta(minutes=15),
        status=status,
        type_=type_,
        counsellor_id=None,
    )
    if not client:
        with env.services.db.write() as session:
            session.execute(
                update(m.Appointment).where(m.Appointment.id == appointment).values(client_id=None)
            )
    return appointment


def test_pod_ratings_before_and_after_replacing_a_phase_in_place(env: Env) -> None:
    appointment = pod(env)
    staff = env.world.staff
    first = env.assessments.record_pod_rating(
        staff, appointment_id=appointment, phase=PodPhase.BEFORE, value=7
    )
    assert (first.before, first.after) == (7, None)
    [before_row] = env.rows()
    env.clock.advance(minutes=20)
    env.assessments.record_pod_rating(
        staff, appointment_id=appointment, phase=PodPhase.AFTER, value=3
    )
    again = env.assessments.record_pod_rating(
        staff, appointment_id=appointment, phase=PodPhase.BEFORE, value=6
    )
    assert (again.appointment_id, again.before, again.after) == (appointment, 6, 3)
    assert env.assessments.pod_ratings(env.counsellor, appointment_id=appointment) == again
    rows = env.rows()
    assert [(r.id, r.phase, r.answers, r.total, r.band) for r in rows] == [
        (before_row.id, PodPhase.BEFORE, [6], 6, rows[0].band),
        (rows[1].id, PodPhase.AFTER, [3], 3, rows[1].band),
    ]
    assert all(
        (r.instrument, r.client_id, r.mode, r.appointment_id)
        == ("mood", env.world.client_id, AssessmentMode.KIOSK, appointment)
        for r in rows
    )


def test_pod_rating_rules(env: Env) -> None:
    staff = env.world.staff
    with pytest.raises(ValidationError) as out_of_range:
        env.assessments.record_pod_rating(
            staff, appointment_id=pod(env), phase=PodPhase.BEFORE, value=11
        )
    assert "0 to 10" in out_of_range.value.errors["value"]
    with pytest.raises(ValidationError):
        env.assessments.record_pod_rating(
            staff, appointment_id=pod(env), phase=PodPhase.BEFORE, value=True
        )
    with pytest.raises(ValidationError) as not_a_pod:
        env.assessments.record_pod_rating(
            staff,
            appointment_id=pod(env, type_=AppointmentType.COUNSELLING),
            phase=PodPhase.BEFORE,
            value=5,
        )
    assert "emotion-pod" in not_a_pod.value.errors["appointment"]
    with pytest.raises(Conflict):
        env.assessments.record_pod_rating(
            staff,
            appointment_id=pod(env, status=AppointmentStatus.CANCELLED),
            phase=PodPhase.BEFORE,
            value=5,
        )
    with pytest.raises(NotFound):
        env.assessments.record_pod_rating(
            staff, appointment_id=999_999, phase=PodPhase.BEFORE, value=5
        )
    assert env.rows() == []


def test_pod_rating_of_a_client_needs_consent_and_a_walk_in_does_not(env: Env) -> None:
    with env.services.db.write() as session:
        session.execute(update(m.Consent).values(withdrawn_at=env.clock.now()))
    with pytest.raises(ConsentMissing):
        env.assessments.record_pod_rating(
            env.world.staff, appointment_id=pod(env), phase=PodPhase.BEFORE, value=5
        )
    assert env.rows() == []
    walk_in = pod(env, client=False)
    rated = env.assessments.record_pod_rating(
        env.world.staff, appointment_id=walk_in, phase=PodPhase.AFTER, value=2
    )
    assert (rated.before, rated.after) == (None, 2)
    [row] = env.rows()
    assert row.client_id is None


def test_pod_ratings_only_at_the_station_and_never_by_managers(env: Env) -> None:
    appointment = pod(env)
    for actor in (env.world.other_staff, env.world.manager, env.world.admin):
        env.denied(
            actor,
            "record_pod_rating",
            lambda a=actor: env.assessments.record_pod_rating(
                a, appointment_id=appointment, phase=PodPhase.BEFORE, value=4
            ),
        )
        env.denied(
            actor,
            "view_pod_ratings",
            lambda a=actor: env.assessments.pod_ratings(a, appointment_id=appointment),
        )
    assert env.rows() == []


# --- reading a client's results ------------------------------------------------------------------


def test_client_assessments_records_trends_and_recovery(env: Env) -> None:
    env.clock.current = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
    env.record(phq9((2, 2, 2, 2, 2, 2, 2, 1, 0)))  # 15, caseness
    env.record(FormAnswers("who5", (2, 2, 2, 2, 2)))  # raw 10 -> 40 %
    env.record(FormAnswers("gad7", (1, 1, 1, 1, 1, 1, 1)))  # 7, below caseness
    env.clock.current = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
    env.record(phq9((1, 1, 1, 1, 1, 1, 1, 1, 0)))  # 8
    env.record(FormAnswers("who5", (3, 3, 3, 2, 2)))  # raw 13 -> 52 %
    env.record(k10(K10_29))
    appointment = pod(env)
    env.assessments.record_pod_rating(
        env.world.staff, appointment_id=appointment, phase=PodPhase.BEFORE, value=6
    )
    result = env.assessments.client_assessments(env.counsellor, client_id=env.world.client_id)
    assert (result.client_id, result.client_code, result.answers_visible) == (
        env.world.client_id,
        CODE,
        True,
    )
    assert [(r.instrument, r.total) for r in result.records] == [
        ("mood", 6),
        ("k10", 29),
        ("who5", 13),
        ("phq9", 8),
        ("gad7", 7),
        ("who5", 10),
        ("phq9", 15),
    ]
    newest_phq9 = result.records[3]
    assert newest_phq9.answers == (1, 1, 1, 1, 1, 1, 1, 1, 0)
    assert newest_phq9.taken_at == datetime(2026, 10, 1, 10, 0, tzinfo=SH)
    assert newest_phq9.taken_at.utcoffset() == timedelta(hours=8)
    assert (newest_phq9.station_name, newest_phq9.administered_by_name) == (
        "暨阳街道职工情绪管理服务站",
        "陈静",
    )
    assert result.records[2].percent == 52
    by_code = {t.instrument: t for t in result.trends}
    assert [t.instrument for t in result.trends] == ["phq9", "gad7", "who5", "k10"]
    assert [(p.total, p.value, p.band) for p in by_code["phq9"].points] == [
        (15, 15, "moderately_severe"),
        (8, 8, "mild"),
    ]
    assert (by_code["phq9"].change, by_code["phq9"].recovered) == ("improved", True)
    assert [(p.total, p.value) for p in by_code["who5"].points] == [(10, 40), (13, 52)]
    assert (by_code["who5"].change, by_code["who5"].recovered) == ("improved", None)
    assert (by_code["gad7"].change, by_code["gad7"].recovered) == (None, None)
    assert (by_code["k10"].change, by_code["k10"].recovered) == (None, None)


def test_trend_marks_deterioration_and_no_recovery(env: Env) -> None:
    env.record(FormAnswers("gad7", (2, 2, 1, 1, 1, 1, 1)))  # 9, caseness
    env.clock.advance(days=30)
    env.record(FormAnswers("gad7", (3, 3, 2, 2, 2, 2, 1)))  # 15
    result = env.assessments.client_assessments(env.counsellor, client_id=env.world.client_id)
    [trend] = result.trends
    assert ([p.value for p in trend.points], trend.change, trend.recovered) == (
        [9, 15],
        "deteriorated",
        False,
    )


def test_scores_are_recomputed_from_the_raw_answers(env: Env) -> None:
    saved = env.record(phq9(PHQ9_ITEM9))
    with env.services.db.write() as session:
        session.execute(
            update(m.Assessment)
            .where(m.Assessment.id == saved.assessment_id)
            .values(total=0, band="minimal")
        )
        session.execute(
            update(m.Assessment)
            .where(m.Assessment.id == saved.assessment_id)
            .values(answers=[3, 3, 3, 3, 3, 3, 3, 3, 1])
        )
    [record] = env.assessments.client_assessments(
        env.counsellor, client_id=env.world.client_id
    ).records
    assert (record.total, record.band, record.flags) == (25, "severe", ("suicidal_ideation",))


def test_a_prorated_k10_reads_back_prorated(env: Env) -> None:
    env.record(k10((3,) * 9 + (None,), prorate=True))
    [record] = env.assessments.client_assessments(
        env.counsellor, client_id=env.world.client_id
    ).records
    assert (record.total, record.prorated, record.answers) == (30, True, (3,) * 9 + (None,))


@dataclass
class Readers:
    gave: Actor  # administered the form
    supervisor: Actor  # supervises the station where the client has a case
    mentor: Actor  # had an appointment with the client
    case_counsellor: Actor  # counsels the client's case
    stranger: Actor  # a counsellor with no link to the client


@pytest.fixture
def readers(env: Env) -> Readers:
    s, w = env.services, env.world
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
    env.record(phq9(extra_answers=(("10", 2),)))
    return Readers(env.counsellor, sup, mentor, reg, stranger)


def test_who_may_read_a_clients_results(env: Env, readers: Readers) -> None:
    for reader in (readers.gave, readers.supervisor, readers.case_counsellor):
        before = env.last_id()
        result = env.assessments.client_assessments(reader, client_id=env.world.client_id)
        [record] = result.records
        assert result.answers_visible
        assert (record.total, record.answers, record.extra_answers) == (
            8,
            PHQ9_MILD,
            (("10", 2),),
        )
        assert [
            (e.username, e.action, e.object_type, e.object_ref, e.result)
            for e in env.audit_since(before)
        ] == [(reader.username, "view_assessments", "client", CODE, "ok")]
    for actor in (
        readers.stranger,
        env.world.staff,
        env.world.other_staff,
        env.world.manager,
        env.world.admin,
    ):
        env.denied(
            actor,
            "view_assessments",
            lambda a=actor: env.assessments.client_assessments(a, client_id=env.world.client_id),
        )


def test_a_mind_mentor_sees_totals_but_not_answers(env: Env, readers: Readers) -> None:
    result = env.assessments.client_assessments(readers.mentor, client_id=env.world.client_id)
    [record] = result.records
    assert not result.answers_visible
    assert (record.total, record.band, record.answers, record.extra_answers) == (
        8,
        "mild",
        None,
        None,
    )
    assert [p.total for p in result.trends[0].points] == [8]


def test_reading_an_unknown_client(env: Env) -> None:
    with pytest.raises(NotFound):
        env.assessments.client_assessments(env.counsellor, client_id=999_999)


# --- band statistics -----------------------------------------------------------------------------


def add_form(
    env: Env, station_id: int, local_time: datetime, instrument: str = "phq9", band: str = "mild"
) -> None:
    with env.services.db.write() as session:
        session.add(
            m.Assessment(
                station_id=station_id,
                instrument=instrument,
                instrument_version="1",
                answers=[],
                total=0,
                band=band,
                mode=AssessmentMode.ANONYMOUS,
                taken_at=local_time,
            )
        )


def test_band_distribution_counts_by_station_local_month(env: Env) -> None:
    main, other = env.world.station_id, env.world.other_station_id
    berlin = ZoneInfo("Europe/Berlin")
    with env.services.db.write() as session:
        session.get_one(m.Station, other).time_zone = "Europe/Berlin"
    # Shanghai: 23:30 on 31 October local is 15:30 UTC that day: October.
    add_form(env, main, datetime(2026, 10, 31, 23, 30, tzinfo=SH))
    # 01:00 on 1 November local is still 31 October in UTC: November.
    add_form(env, main, datetime(2026, 11, 1, 1, 0, tzinfo=SH))
    add_form(env, main, datetime(2026, 11, 1, 1, 0, tzinfo=SH), band="severe")
    add_form(env, main, datetime(2026, 11, 2, 9, 0, tzinfo=SH), "gad7", "minimal")
    # Outside the period, on both sides.
    add_form(env, main, datetime(2026, 6, 30, 23, 59, tzinfo=SH))
    add_form(env, main, datetime(2026, 12, 1, 0, 0, tzinfo=SH))
    # Berlin in summer time (UTC+2) and in winter time (UTC+1), around month ends.
    add_form(env, other, datetime(2026, 7, 31, 23, 30, tzinfo=berlin))  # 21:30 UTC: July
    add_form(env, other, datetime(2026, 8, 1, 0, 30, tzinfo=berlin))  # 22:30 UTC 31 July: August
    add_form(env, other, datetime(2026, 10, 31, 23, 30, tzinfo=berlin))  # October
    add_form(env, other, datetime(2026, 11, 1, 0, 30, tzinfo=berlin))  # 23:30 UTC: November
    rows = env.assessments.band_distribution(
        env.world.manager, first_month=date(2026, 7, 1), last_month=date(2026, 11, 30)
    )
    assert [(r.station_id, r.month, r.instrument, r.band, r.count) for r in rows] == [
        (main, date(2026, 10, 1), "phq9", "mild", 1),
        (main, date(2026, 11, 1), "phq9", "mild", 1),
        (main, date(2026, 11, 1), "phq9", "severe", 1),
        (main, date(2026, 11, 1), "gad7", "minimal", 1),
        (other, date(2026, 7, 1), "phq9", "mild", 1),
        (other, date(2026, 8, 1), "phq9", "mild", 1),
        (other, date(2026, 10, 1), "phq9", "mild", 1),
        (other, date(2026, 11, 1), "phq9", "mild", 1),
    ]
    only = env.assessments.band_distribution(
        env.world.admin,
        first_month=date(2026, 11, 1),
        last_month=date(2026, 11, 1),
        station_ids=[main],
        instruments=["GAD-7"],
    )
    assert [(r.station_id, r.month, r.instrument, r.band, r.count) for r in only] == [
        (main, date(2026, 11, 1), "gad7", "minimal", 1)
    ]


def test_band_distribution_is_one_grouped_query(env: Env) -> None:
    for day in range(1, 29):
        add_form(env, env.world.station_id, datetime(2026, 10, day, 12, 0, tzinfo=SH))
    statements: list[str] = []

    def remember(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = env.services.db.engine
    event.listen(engine, "before_cursor_execute", remember)
    try:
        rows = env.assessments.band_distribution(
            env.world.manager, first_month=date(2026, 10, 1), last_month=date(2026, 10, 1)
        )
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    assert [r.count for r in rows] == [28]
    on_assessments = [s for s in statements if "FROM assessment" in s]
    assert len(on_assessments) == 1
    assert "GROUP BY" in on_assessments[0]


def test_band_distribution_only_for_summary_readers(env: Env) -> None:
    for actor in (env.world.staff, env.counsellor):
        env.denied(
            actor,
            "view_band_distribution",
            lambda a=actor: env.assessments.band_distribution(
                a, first_month=date(2026, 1, 1), last_month=date(2026, 12, 1)
            ),
        )
    with pytest.raises(ValidationError):
        env.assessments.band_distribution(
            env.world.manager, first_month=date(2026, 12, 1), last_month=date(2026, 1, 1)
        )
    with pytest.raises(ValidationError):
        env.assessments.band_distribution(
            env.world.manager,
            first_month=date(2026, 1, 1),
            last_month=date(2026, 12, 1),
            instruments=["bdi"],
        )
