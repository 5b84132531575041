"""Risk alerts: who sees them, the open count, acting on one (once, with an encrypted note) and the
recent list. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select, text, update

from carestation.db import models as m
from carestation.domain.assessment_values import AnonymousProfile, FormAnswers
from carestation.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from carestation.domain.values import Actor
from carestation.domain.vocab import AssessmentMode, ConsentPurpose, RiskAction
from carestation.security import crypto
from carestation.services.assessments import AssessmentService
from carestation.services.container import Services
from carestation.services.risk_alerts import RiskAlertService
from tests.conftest import FakeClock
from tests.factories import World, assessment_services, build_world, give_consent

SH = ZoneInfo("Asia/Shanghai")
CODE = "ABCD-EFGH-1"
STATION = "暨阳街道职工情绪管理服务站"
PHQ9_ITEM9 = FormAnswers("phq9", (1, 1, 0, 0, 0, 0, 0, 0, 1))
K10_30 = FormAnswers("k10", (3,) * 10)
NOTE = "已陪同来访者联系值班专家，约定明天复诊"


@dataclass
class Env:
    services: Services
    world: World
    clock: FakeClock
    assessments: AssessmentService
    alerts: RiskAlertService
    identified: int = 0  # a kiosk K10 of 30 by the client, raised at 10:00
    anonymous: int = 0  # an anonymous PHQ-9 with question 9 answered, raised at 10:05

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

    def denied(self, actor: Actor, action: str, call: Callable[[], object]) -> None:
        before = self.last_id()
        with pytest.raises(PermissionDenied):
            call()
        assert [(e.username, e.action, e.result) for e in self.audit_since(before)] == [
            (actor.username, action, "denied")
        ]

    def row(self, alert_id: int) -> m.RiskAlert:
        with self.services.db.read() as session:
            row = session.get_one(m.RiskAlert, alert_id)
            session.expunge(row)
            return row


@pytest.fixture
def env(services: Services, clock: FakeClock) -> Env:
    world = build_world(services)
    give_consent(services, world, ConsentPurpose.ASSESSMENT)
    assessments, alerts = assessment_services(services)
    e = Env(services, world, clock, assessments, alerts)
    saved = assessments.record_kiosk_for_client(
        world.staff, client_id=world.client_id, forms=[K10_30]
    )
    e.identified = saved.forms[0].alert_id or 0
    clock.advance(minutes=5)
    anonymous = assessments.record_anonymous(
        world.staff, forms=[PHQ9_ITEM9], profile=AnonymousProfile()
    )
    e.anonymous = anonymous.forms[0].alert_id or 0
    clock.advance(minutes=5)
    return e


def test_open_alerts_at_the_station_oldest_first(env: Env) -> None:
    flag = env.services.crisis.open_flag(env.world.counsellor, env.world.client_id)
    assert flag is not None
    before = env.last_id()
    alerts = env.alerts.open_alerts(env.world.staff)
    [entry] = env.audit_since(before)
    assert (entry.action, entry.result, entry.detail) == ("view_risk_alerts", "ok", "2 alerts")
    assert [a.id for a in alerts] == [env.identified, env.anonymous]
    identified, anonymous = alerts
    assert identified == type(identified)(
        id=env.identified,
        station_id=env.world.station_id,
        station_name=STATION,
        raised_at=datetime(2026, 11, 23, 10, 0, tzinfo=SH),
        mode=AssessmentMode.KIOSK,
        instrument="k10",
        reason="k10_very_high",
        client_id=env.world.client_id,
        client_code=CODE,
        crisis_flag_id=flag.id,
    )
    assert identified.raised_at.utcoffset() == timedelta(hours=8)
    assert anonymous == type(anonymous)(
        id=env.anonymous,
        station_id=env.world.station_id,
        station_name=STATION,
        raised_at=datetime(2026, 11, 23, 10, 5, tzinfo=SH),
        mode=AssessmentMode.ANONYMOUS,
        instrument="phq9",
        reason="self_harm_item",
    )
    assert all(a.is_open for a in alerts)
    # A counsellor of the station sees the same list.
    assert [a.id for a in env.alerts.open_alerts(env.world.counsellor)] == [
        env.identified,
        env.anonymous,
    ]


def test_other_stations_see_none_and_managers_are_refused(env: Env) -> None:
    assert env.alerts.open_alerts(env.world.other_staff) == []
    assert env.alerts.count_open(env.world.other_staff) == 0
    for actor in (env.world.manager, env.world.admin):
        env.denied(actor, "view_risk_alerts", lambda a=actor: env.alerts.open_alerts(a))
        env.denied(actor, "view_recent_risk_alerts", lambda a=actor: env.alerts.recent(a))
        env.denied(
            actor,
            "act_on_risk_alert",
            lambda a=actor: env.alerts.act(
                a, alert_id=env.identified, action=RiskAction.SPOKE_WITH_PERSON
            ),
        )


def test_count_open_is_quiet_and_counts_the_actors_stations(env: Env) -> None:
    before = env.last_id()
    assert env.alerts.count_open(env.world.staff) == 2
    assert env.alerts.count_open(env.world.counsellor) == 2
    assert env.alerts.count_open(env.world.manager) == 0
    assert env.alerts.count_open(env.world.admin) == 0
    assert env.audit_since(before) == []  # polled every few seconds: no trail, no refusals


def test_acting_records_what_was_done_and_closes_the_alert(env: Env) -> None:
    before = env.last_id()
    env.clock.advance(minutes=3)
    done = env.alerts.act(
        env.world.staff, alert_id=env.identified, action=RiskAction.CONTACTED_EXPERT, note=NOTE
    )
    [entry] = env.audit_since(before)
    assert (entry.action, entry.object_type, entry.object_ref, entry.detail) == (
        "act_on_risk_alert",
        "client",
        CODE,
        f"alert {env.identified}; contacted_expert",
    )
    assert (done.acted_at, done.acted_by_name, done.action, done.note) == (
        datetime(2026, 11, 23, 10, 13, tzinfo=SH),
        "王芳",
        RiskAction.CONTACTED_EXPERT,
        NOTE,
    )
    assert not done.is_open
    assert (done.client_code, done.reason) == (CODE, "k10_very_high")
    assert env.alerts.count_open(env.world.staff) == 1
    assert [a.id for a in env.alerts.open_alerts(env.world.staff)] == [env.anonymous]
    row = env.row(env.identified)
    assert (row.acted_by, row.action, row.key_version) == (
        env.world.staff.user_id,
        RiskAction.CONTACTED_EXPERT,
        1,
    )
    assert row.note_ciphertext is not None
    assert NOTE.encode() not in row.note_ciphertext
    with env.services.db.read() as session:
        assert (
            env.services.vault.open(
                session,
                env.world.client_id,
                row.note_ciphertext,
                table="risk_alert",
                column="note",
                row_id=row.id,
                key_version=1,
            )
            == NOTE
        )
    # The crisis flag stays until a counsellor clears it with what was done.
    assert env.services.crisis.has_open_flag(env.world.counsellor, env.world.client_id)


def test_the_note_of_an_anonymous_alert_is_under_the_derived_key(env: Env) -> None:
    before = env.last_id()
    done = env.alerts.act(
        env.world.counsellor, alert_id=env.anonymous, action=RiskAction.GAVE_HOTLINES, note=NOTE
    )
    [entry] = env.audit_since(before)
    assert (entry.object_type, entry.object_ref, entry.detail) == (
        "risk_alert",
        f"alert {env.anonymous}",
        f"alert {env.anonymous}; gave_hotlines",
    )
    assert (done.client_code, done.note, done.acted_by_name) == ("", NOTE, "陈静")
    row = env.row(env.anonymous)
    assert row.note_ciphertext is not None
    assert NOTE.encode() not in row.note_ciphertext
    key = env.services.vault.derived_key("carestation risk alert notes v1")
    assert (
        crypto.decrypt(
            key,
            row.note_ciphertext,
            table="risk_alert",
            column="note",
            row_id=row.id,
            key_version=row.key_version or 0,
        )
        == NOTE
    )


def test_acting_twice_is_a_conflict_naming_who_acted(env: Env) -> None:
    env.alerts.act(env.world.staff, alert_id=env.identified, action=RiskAction.GAVE_HOTLINES)
    with pytest.raises(Conflict) as twice:
        env.alerts.act(
            env.world.counsellor, alert_id=env.identified, action=RiskAction.BOOKED_SESSION
        )
    assert "王芳" in str(twice.value)
    assert "2026-11-23 10:10" in str(twice.value)
    row = env.row(env.identified)
    assert (row.acted_by, row.action, row.note_ciphertext) == (
        env.world.staff.user_id,
        RiskAction.GAVE_HOTLINES,
        None,
    )


def test_acting_needs_an_action_a_short_note_and_the_station(env: Env) -> None:
    with pytest.raises(ValidationError) as no_action:
        env.alerts.act(env.world.staff, alert_id=env.identified, action="shrugged")  # type: ignore[arg-type]
    assert "action" in no_action.value.errors
    with pytest.raises(ValidationError) as long_note:
        env.alerts.act(
            env.world.staff,
            alert_id=env.identified,
            action=RiskAction.SPOKE_WITH_PERSON,
            note="字" * 1001,
        )
    assert "1000" in long_note.value.errors["note"]
    with pytest.raises(NotFound):
        env.alerts.act(env.world.staff, alert_id=999_999, action=RiskAction.SPOKE_WITH_PERSON)
    env.denied(
        env.world.other_staff,
        "act_on_risk_alert",
        lambda: env.alerts.act(
            env.world.other_staff, alert_id=env.identified, action=RiskAction.SPOKE_WITH_PERSON
        ),
    )
    assert env.row(env.identified).acted_at is None
    # Exactly 1000 characters is fine.
    done = env.alerts.act(
        env.world.staff,
        alert_id=env.identified,
        action=RiskAction.SPOKE_WITH_PERSON,
        note="字" * 1000,
    )
    assert len(done.note) == 1000


def test_recent_lists_newest_first_with_notes(env: Env) -> None:
    env.alerts.act(
        env.world.staff, alert_id=env.identified, action=RiskAction.PERSON_LEFT, note=NOTE
    )
    env.alerts.act(
        env.world.counsellor, alert_id=env.anonymous, action=RiskAction.GAVE_HOTLINES, note="已给"
    )
    # A week later: one more alert, still open.
    env.clock.advance(days=7)
    third = env.assessments.record_anonymous(
        env.world.staff, forms=[K10_30], profile=AnonymousProfile()
    ).forms[0]
    before = env.last_id()
    recent = env.alerts.recent(env.world.staff)
    assert [(a.id, a.note, a.is_open) for a in recent] == [
        (third.alert_id, "", True),
        (env.anonymous, "已给", False),
        (env.identified, NOTE, False),
    ]
    assert recent[2].action is RiskAction.PERSON_LEFT
    [entry] = env.audit_since(before)
    assert (entry.action, entry.detail) == ("view_recent_risk_alerts", "3 alerts")
    # Two weeks on, the acted ones drop off; one still open stays whatever its age.
    env.clock.advance(days=10)
    assert [a.id for a in env.alerts.recent(env.world.staff)] == [third.alert_id]
    assert [a.id for a in env.alerts.recent(env.world.staff, days=30)] == [
        third.alert_id,
        env.anonymous,
        env.identified,
    ]
    assert env.alerts.recent(env.world.other_staff) == []


def test_recent_refuses_a_moved_note_and_records_the_failure(env: Env) -> None:
    env.alerts.act(
        env.world.staff, alert_id=env.identified, action=RiskAction.PERSON_LEFT, note=NOTE
    )
    env.alerts.act(env.world.staff, alert_id=env.anonymous, action=RiskAction.PERSON_LEFT, note="x")
    with env.services.db.write() as session:
        blob = session.execute(
            text("SELECT note_ciphertext FROM risk_alert WHERE id = :id"),
            {"id": env.identified},
        ).scalar_one()
        session.execute(
            update(m.RiskAlert)
            .where(m.RiskAlert.id == env.anonymous)
            .values(note_ciphertext=bytes(blob))
        )
    before = env.last_id()
    with pytest.raises(crypto.TamperedCiphertext):
        env.alerts.recent(env.world.staff)
    [entry] = env.audit_since(before)
    assert (entry.action, entry.result, entry.object_ref) == (
        "view_recent_risk_alerts",
        "failed",
        f"alert {env.anonymous}",
    )


def test_an_erased_clients_alert_shows_without_its_note(env: Env) -> None:
    env.alerts.act(
        env.world.staff, alert_id=env.identified, action=RiskAction.PERSON_LEFT, note=NOTE
    )
    with env.services.db.write() as session:
        session.execute(
            update(m.Client)
            .where(m.Client.id == env.world.client_id)
            .values(erased_at=env.clock.now())
        )
        session.execute(delete(m.ClientKey).where(m.ClientKey.client_id == env.world.client_id))
    recent = {a.id: a for a in env.alerts.recent(env.world.staff)}
    assert (recent[env.identified].note, recent[env.identified].action) == (
        "",
        RiskAction.PERSON_LEFT,
    )


def test_raising_an_alert_is_in_the_callers_transaction(env: Env) -> None:
    before = env.last_id()

    def failing_save() -> None:
        with env.services.db.write() as session:
            env.alerts.raise_alert(
                session,
                station_id=env.world.station_id,
                mode=AssessmentMode.ANONYMOUS,
                instrument="phq9",
                reason="self_harm_item",
            )
            raise RuntimeError("the form failed to save")

    with pytest.raises(RuntimeError):
        failing_save()
    assert env.alerts.count_open(env.world.staff) == 2
    assert env.audit_since(before) == []
    with env.services.db.write() as session:
        new = env.alerts.raise_alert(
            session,
            station_id=env.world.station_id,
            mode=AssessmentMode.ANONYMOUS,
            instrument="phq9",
            reason="self_harm_item",
            assessment_id=None,
            actor=env.world.staff,
        )
    assert env.alerts.count_open(env.world.staff) == 3
    [entry] = env.audit_since(before)
    assert (entry.action, entry.username, entry.object_ref, entry.detail) == (
        "raise_risk_alert",
        "staff01",
        f"alert {new}",
        f"alert {new}; phq9",
    )


def test_a_counsellor_sees_alerts_of_every_station_they_work_at(env: Env) -> None:
    saved = env.assessments.record_anonymous(
        env.world.other_staff, forms=[K10_30], profile=AnonymousProfile()
    )
    alert_id = saved.forms[0].alert_id
    assert [a.id for a in env.alerts.open_alerts(env.world.other_staff)] == [alert_id]
    assert env.alerts.count_open(env.world.counsellor) == 3
    assert env.alerts.count_open(env.world.staff) == 2
    [info] = [a for a in env.alerts.open_alerts(env.world.counsellor) if a.id == alert_id]
    assert info.station_name == "店口镇服务站"
