"""Crisis flags: who may raise, see and clear them, the follow-ups they schedule, and that their
texts are stored encrypted. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select, text

from carestation.db import models as m
from carestation.domain.crisis import ChecklistStep, CrisisFlagInfo, follow_up_label
from carestation.domain.errors import Conflict, PermissionDenied, ValidationError
from carestation.domain.roles import Role
from carestation.domain.values import Actor, CounsellorProfile, UserInput
from carestation.domain.vocab import CaseStatus, CounsellorKind, CrisisAction, FlagSource
from carestation.services.container import Services
from carestation.services.crisis import CrisisService, open_flag_blocking_case
from tests.conftest import FakeClock
from tests.factories import PASSWORD, World, build_world

SH = ZoneInfo("Asia/Shanghai")
REASON = "工作中多次表达轻生念头，情绪激动"
DONE = "陪同至情绪稳定；联系值班专家王医生；与家属约定今晚陪伴"
DEFAULT_KEYS = [
    "stayed_with_person",
    "contacted_expert",
    "called_emergency",
    "called_hotline",
    "informed_contact",
    "safety_plan",
]


@dataclass
class Env:
    services: Services
    world: World
    crisis: CrisisService
    clock: FakeClock
    elsewhere: Actor  # a counsellor who works only at the other station

    def raise_flag(self, **kwargs: object) -> CrisisFlagInfo:
        return self.crisis.raise_flag(
            self.world.counsellor, client_id=self.world.client_id, reason=REASON, **kwargs
        )

    def last_audit(self) -> m.AuditEvent:
        with self.services.db.read() as session:
            row = session.scalars(
                select(m.AuditEvent).order_by(m.AuditEvent.id.desc()).limit(1)
            ).one()
            session.expunge(row)
            return row


def make_crisis(services: Services, clock: FakeClock) -> CrisisService:
    return CrisisService(services.db, services.audit, clock, services.vault)


def counsellor_elsewhere(services: Services, world: World) -> Actor:
    services.admin.create_user(
        actor=world.admin,
        data=UserInput(
            username="c002",
            display_name="周敏",
            roles=frozenset({Role.COUNSELLOR}),
            station_ids=frozenset({world.other_station_id}),
            counsellor=CounsellorProfile(kind=CounsellorKind.REGULATOR),
        ),
        password=PASSWORD,
    )
    return services.auth.sign_in(
        username="c002", password=PASSWORD, station_id=world.other_station_id
    )


@pytest.fixture
def env(services: Services, clock: FakeClock) -> Env:
    world = build_world(services)
    return Env(
        services, world, make_crisis(services, clock), clock, counsellor_elsewhere(services, world)
    )


# --- raising ------------------------------------------------------------------------------------
def test_a_raised_flag_schedules_follow_ups_at_24_hours_72_hours_and_7_days(env: Env) -> None:
    flag = env.raise_flag()
    raised = datetime(2026, 11, 23, 10, 0, tzinfo=SH)
    assert flag.is_open
    assert flag.raised_at == raised
    assert flag.raised_at.utcoffset() == timedelta(hours=8)  # shown in the station's time
    assert (flag.source, flag.raised_by_name, flag.reason) == (
        FlagSource.COUNSELLOR,
        "陈静",
        REASON,
    )
    assert (flag.client_code, flag.station_id) == ("ABCD-EFGH-1", env.world.station_id)
    assert [f.due_at for f in flag.follow_ups] == [
        datetime(2026, 11, 24, 10, 0, tzinfo=SH),
        datetime(2026, 11, 26, 10, 0, tzinfo=SH),
        datetime(2026, 11, 30, 10, 0, tzinfo=SH),
    ]
    assert [follow_up_label(f.after) for f in flag.follow_ups] == ["24 hours", "72 hours", "7 days"]
    assert not any(f.done for f in flag.follow_ups)
    with env.services.db.read() as session:
        due = session.scalars(
            select(m.CrisisFollowUp.due_at).where(m.CrisisFollowUp.flag_id == flag.id)
        ).all()
    assert sorted(d.astimezone(UTC) for d in due) == [
        datetime(2026, 11, 24, 2, 0, tzinfo=UTC),
        datetime(2026, 11, 26, 2, 0, tzinfo=UTC),
        datetime(2026, 11, 30, 2, 0, tzinfo=UTC),
    ]
    entry = env.last_audit()
    assert (entry.action, entry.object_ref, entry.result) == (
        "raise_crisis_flag",
        "ABCD-EFGH-1",
        "ok",
    )
    assert REASON not in entry.detail


def test_the_reason_is_stored_encrypted(env: Env) -> None:
    flag = env.raise_flag()
    with env.services.db.read() as session:
        blob = session.execute(
            text("SELECT reason_ciphertext FROM crisis_flag WHERE id = :id"), {"id": flag.id}
        ).scalar_one()
    blob = bytes(blob)
    assert len(blob) > len(REASON.encode())
    assert REASON.encode("utf-8") not in blob
    assert "轻生".encode() not in blob
    assert env.crisis.open_flag(env.world.counsellor, env.world.client_id).reason == REASON


def test_the_reason_is_required_and_short(env: Env) -> None:
    with pytest.raises(ValidationError) as empty:
        env.crisis.raise_flag(env.world.counsellor, client_id=env.world.client_id, reason="  \n ")
    assert set(empty.value.errors) == {"reason"}
    with pytest.raises(ValidationError) as long:
        env.crisis.raise_flag(env.world.counsellor, client_id=env.world.client_id, reason="x" * 501)
    assert "at most 500 characters" in long.value.errors["reason"]
    assert env.crisis.has_open_flag(env.world.counsellor, env.world.client_id) is False


def test_a_client_has_at_most_one_open_flag(env: Env) -> None:
    first = env.raise_flag()
    with pytest.raises(Conflict) as again:
        env.raise_flag()
    message = str(again.value)
    assert "already has an open crisis flag (raised 2026-11-23 10:00 at 暨阳街道" in message
    assert REASON not in message
    with env.services.db.read() as session:
        assert session.scalar(select(m.CrisisFlag.id)) == first.id
        assert len(session.scalars(select(m.CrisisFollowUp.id)).all()) == 3
    env.crisis.clear_flag(
        env.world.counsellor,
        first.id,
        actions=frozenset({CrisisAction.STAYED_WITH_PERSON.value}),
        what_was_done=DONE,
    )
    env.clock.advance(days=10)
    second = env.raise_flag()
    assert second.id != first.id
    assert second.is_open


def test_a_flag_on_a_case_defaults_to_the_case_station_and_blocks_closing_it(env: Env) -> None:
    with env.services.db.write() as session:
        case_id = session.execute(
            insert(m.Case).returning(m.Case.id),
            [
                {
                    "client_id": env.world.client_id,
                    "station_id": env.world.other_station_id,
                    "counsellor_id": env.world.counsellor.user_id,
                    "status": CaseStatus.OPEN,
                    "opened_at": datetime(2026, 11, 1, tzinfo=UTC),
                }
            ],
        ).scalar_one()
    flag = env.raise_flag(case_id=case_id)
    assert (flag.case_id, flag.station_id) == (case_id, env.world.other_station_id)
    with env.services.db.read() as session:
        assert open_flag_blocking_case(session, case_id) == flag.id
    env.crisis.clear_flag(
        env.world.counsellor,
        flag.id,
        actions=frozenset({"contacted_expert"}),
        what_was_done=DONE,
    )
    with env.services.db.read() as session:
        assert open_flag_blocking_case(session, case_id) is None


def test_an_assessment_raises_a_flag_inside_its_own_transaction_once(env: Env) -> None:
    with env.services.db.write() as session:
        raised = env.crisis.raise_from_assessment(
            session,
            client_id=env.world.client_id,
            station_id=env.world.station_id,
            assessment_id=_assessment(session, env),
            reason_key="self_harm_item",
        )
    with env.services.db.write() as session:
        again = env.crisis.raise_from_assessment(
            session,
            client_id=env.world.client_id,
            station_id=env.world.station_id,
            assessment_id=_assessment(session, env),
            reason_key="severe_band",
        )
    assert again.id == raised.id
    shown = env.crisis.open_flag(env.world.counsellor, env.world.client_id)
    assert shown is not None
    assert (shown.source, shown.raised_by_name) == (FlagSource.ASSESSMENT, "")
    assert shown.reason == "An answer about self-harm or suicide needs attention at once."
    assert len(shown.follow_ups) == 3
    with env.services.db.read() as session:
        assert len(session.scalars(select(m.CrisisFlag.id)).all()) == 1
        assert len(session.scalars(select(m.CrisisFollowUp.id)).all()) == 3


def _assessment(session, env: Env) -> int:  # type: ignore[no-untyped-def]
    return session.execute(
        insert(m.Assessment).returning(m.Assessment.id),
        [
            {
                "client_id": env.world.client_id,
                "station_id": env.world.station_id,
                "instrument": "PHQ-9",
                "instrument_version": "1",
                "answers": [3] * 9,
                "total": 27,
                "band": "severe",
                "mode": "counsellor",
                "taken_at": env.clock.now(),
            }
        ],
    ).scalar_one()


# --- the checklist ------------------------------------------------------------------------------
def test_the_checklist_is_the_standard_one_until_the_station_writes_its_plan(env: Env) -> None:
    steps = env.crisis.checklist(env.world.station_id)
    assert [s.key for s in steps] == DEFAULT_KEYS
    assert steps[1] == ChecklistStep("contacted_expert", "Contacted the on-duty expert")
    assert steps[3].title == "Called the 12351 union hotline"
    with env.services.db.write() as session:
        station = session.get(m.Station, env.world.station_id)
        assert station is not None
        station.crisis_plan = "  陪伴当事人，不让其独处\n\n电话联系值班专家 0575-87001234\n 必要时拨打 120 或 12351 \n"
    assert env.crisis.checklist(env.world.station_id) == [
        ChecklistStep("陪伴当事人，不让其独处", "陪伴当事人，不让其独处"),
        ChecklistStep("电话联系值班专家 0575-87001234", "电话联系值班专家 0575-87001234"),
        ChecklistStep("必要时拨打 120 或 12351", "必要时拨打 120 或 12351"),
    ]
    assert [s.key for s in env.crisis.checklist(env.world.other_station_id)] == DEFAULT_KEYS


# --- clearing -----------------------------------------------------------------------------------
def test_a_flag_is_not_cleared_without_what_was_done_and_a_ticked_step(env: Env) -> None:
    flag = env.raise_flag()
    with pytest.raises(ValidationError) as nothing:
        env.crisis.clear_flag(env.world.counsellor, flag.id, actions=frozenset(), what_was_done=" ")
    assert set(nothing.value.errors) == {"what_was_done", "actions"}
    assert nothing.value.errors["what_was_done"].startswith("Write what was done before clearing")
    assert nothing.value.errors["actions"] == "Tick the steps of the checklist that were taken."
    with pytest.raises(ValidationError) as no_text:
        env.crisis.clear_flag(
            env.world.counsellor, flag.id, actions=frozenset({"safety_plan"}), what_was_done=""
        )
    assert set(no_text.value.errors) == {"what_was_done"}
    with pytest.raises(ValidationError) as no_steps:
        env.crisis.clear_flag(
            env.world.counsellor, flag.id, actions=frozenset(), what_was_done=DONE
        )
    assert set(no_steps.value.errors) == {"actions"}
    assert env.crisis.open_flag(env.world.counsellor, env.world.client_id) is not None


def test_clearing_records_the_steps_and_what_was_done_and_keeps_the_follow_ups(env: Env) -> None:
    flag = env.raise_flag()
    env.clock.advance(hours=2)
    cleared = env.crisis.clear_flag(
        env.world.counsellor,
        flag.id,
        actions=frozenset({"safety_plan", "stayed_with_person", "contacted_expert"}),
        what_was_done=f"  {DONE}\n  明天上午电话回访  ",
    )
    assert not cleared.is_open
    assert cleared.cleared_at == datetime(2026, 11, 23, 12, 0, tzinfo=SH)
    assert cleared.cleared_by_name == "陈静"
    assert cleared.actions == ("stayed_with_person", "contacted_expert", "safety_plan")
    assert cleared.what_was_done == f"{DONE}\n明天上午电话回访"
    assert env.crisis.open_flag(env.world.counsellor, env.world.client_id) is None
    assert env.crisis.has_open_flag(env.world.counsellor, env.world.client_id) is False
    (listed,) = env.crisis.flags_for_client(env.world.counsellor, env.world.client_id)
    assert listed == cleared
    with env.services.db.read() as session:
        row = session.get(m.CrisisFlag, flag.id)
        assert row is not None
        assert row.actions == ["stayed_with_person", "contacted_expert", "safety_plan"]
        assert row.actions_ciphertext is not None
        assert DONE.encode() not in row.actions_ciphertext
    with pytest.raises(Conflict):
        env.crisis.clear_flag(
            env.world.counsellor, flag.id, actions=frozenset({"safety_plan"}), what_was_done=DONE
        )
    # The checks after the crisis stay on the counsellor's day until they are recorded.
    due = env.crisis.followups_due(env.world.counsellor, day=date(2026, 11, 30))
    assert [(d.flag_id, d.flag_open) for d in due] == [(flag.id, False)] * 3
    assert env.last_audit().action == "view_crisis_followups"


def test_only_steps_of_the_checklist_can_be_recorded(env: Env) -> None:
    flag = env.raise_flag()
    with pytest.raises(ValidationError) as unknown:
        env.crisis.clear_flag(
            env.world.counsellor, flag.id, actions=frozenset({"made_up"}), what_was_done=DONE
        )
    assert set(unknown.value.errors) == {"actions"}


# --- follow-ups ---------------------------------------------------------------------------------
def test_follow_ups_fall_due_by_the_day_and_are_overdue_once_their_time_has_passed(
    env: Env,
) -> None:
    flag = env.raise_flag()
    counsellor = env.world.counsellor
    assert env.crisis.followups_due(counsellor, day=date(2026, 11, 23)) == []
    (tomorrow,) = env.crisis.followups_due(counsellor, day=date(2026, 11, 24))
    assert tomorrow.due_at == datetime(2026, 11, 24, 10, 0, tzinfo=SH)
    assert (tomorrow.client_code, tomorrow.flag_raised_at) == (
        "ABCD-EFGH-1",
        datetime(2026, 11, 23, 10, 0, tzinfo=SH),
    )
    assert (tomorrow.overdue, tomorrow.flag_open, tomorrow.flag_id) == (False, True, flag.id)
    assert "张三" not in repr(tomorrow)

    env.clock.advance(hours=25)  # 11-24 11:00: the 24-hour check is an hour late
    (late,) = env.crisis.followups_due(counsellor, day=date(2026, 11, 24))
    assert late.overdue is True
    by_sunday = env.crisis.followups_due(counsellor, day=date(2026, 11, 29))
    assert [(follow_up_label(d.after), d.overdue) for d in by_sunday] == [
        ("24 hours", True),
        ("72 hours", False),
    ]
    assert env.crisis.followups_due(
        counsellor, day=date(2026, 11, 24), station_id=env.world.station_id
    )
    assert not env.crisis.followups_due(
        counsellor, day=date(2026, 11, 24), station_id=env.world.other_station_id
    )
    # A counsellor who works only at the other station does not have them on their day.
    assert env.crisis.followups_due(env.elsewhere, day=date(2026, 11, 30)) == []


def test_recording_a_follow_up_needs_a_note_and_takes_it_off_the_list(env: Env) -> None:
    flag = env.raise_flag()
    first = flag.follow_ups[0]
    with pytest.raises(ValidationError) as empty:
        env.crisis.record_followup(env.world.counsellor, first.id, note="   ")
    assert set(empty.value.errors) == {"note"}
    env.clock.advance(hours=26)
    done = env.crisis.record_followup(env.world.counsellor, first.id, note="电话回访，情绪平稳")
    assert done.done_at == datetime(2026, 11, 24, 12, 0, tzinfo=SH)
    assert (done.done_by_name, done.note) == ("陈静", "电话回访，情绪平稳")
    assert env.crisis.followups_due(env.world.counsellor, day=date(2026, 11, 24)) == []
    with pytest.raises(Conflict):
        env.crisis.record_followup(env.world.counsellor, first.id, note="again")
    with env.services.db.read() as session:
        blob = session.get(m.CrisisFollowUp, first.id).note_ciphertext  # type: ignore[union-attr]
    assert blob is not None
    assert "情绪平稳".encode() not in blob
    shown = env.crisis.open_flag(env.world.counsellor, env.world.client_id)
    assert shown is not None
    assert [f.done for f in shown.follow_ups] == [True, False, False]
    assert shown.follow_ups[0].note == "电话回访，情绪平稳"
    entry = env.last_audit()
    assert (entry.action, entry.object_ref) == ("view_crisis_flag", "ABCD-EFGH-1")


# --- who may ------------------------------------------------------------------------------------
OPERATIONS = [
    "raise_flag",
    "open_flag",
    "flags_for_client",
    "clear_flag",
    "record_followup",
    "followups_due",
]


def _call(env: Env, operation: str, actor: Actor, flag: CrisisFlagInfo) -> object:
    crisis, client_id = env.crisis, env.world.client_id
    if operation == "raise_flag":
        return crisis.raise_flag(
            actor, client_id=client_id, reason="再次评估", station_id=env.world.station_id
        )
    if operation == "open_flag":
        return crisis.open_flag(actor, client_id)
    if operation == "flags_for_client":
        return crisis.flags_for_client(actor, client_id)
    if operation == "clear_flag":
        return crisis.clear_flag(
            actor, flag.id, actions=frozenset({"stayed_with_person"}), what_was_done=DONE
        )
    if operation == "record_followup":
        return crisis.record_followup(actor, flag.follow_ups[0].id, note="回访")
    if operation == "followups_due":
        return crisis.followups_due(actor, day=date(2026, 11, 30), station_id=env.world.station_id)
    raise AssertionError(operation)


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("who", ["staff", "manager", "admin", "elsewhere"])
def test_only_counsellors_at_the_flags_station_may_see_or_handle_it(
    env: Env, operation: str, who: str
) -> None:
    flag = env.raise_flag()
    actor = {
        "staff": env.world.staff,
        "manager": env.world.manager,
        "admin": env.world.admin,
        "elsewhere": env.elsewhere,
    }[who]
    assert env.crisis.has_open_flag(actor, env.world.client_id) is False  # never refuses
    if operation == "flags_for_client" and who == "elsewhere":
        # A counsellor elsewhere is told only of the flags raised at their own stations.
        assert env.crisis.flags_for_client(actor, env.world.client_id) == []
        return
    with pytest.raises(PermissionDenied):
        _call(env, operation, actor, flag)
    entry = env.last_audit()
    assert (entry.username, entry.result) == (actor.username, "denied")
    assert REASON not in entry.detail
    assert "张三" not in entry.object_ref
    with env.services.db.read() as session:
        row = session.get(m.CrisisFlag, flag.id)
        assert row is not None
        assert row.cleared_at is None
        assert session.scalar(select(m.CrisisFollowUp.done_at).limit(1)) is None


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_counsellor_at_the_station_may_do_each(env: Env, operation: str) -> None:
    flag = env.raise_flag()
    assert env.crisis.has_open_flag(env.world.counsellor, env.world.client_id) is True
    if operation == "raise_flag":
        with pytest.raises(Conflict):  # allowed, but the client already has an open flag
            _call(env, operation, env.world.counsellor, flag)
        return
    _call(env, operation, env.world.counsellor, flag)
    assert env.last_audit().result == "ok"


def test_a_counsellor_may_raise_a_flag_only_at_a_station_they_work_at(env: Env) -> None:
    with pytest.raises(PermissionDenied):
        env.crisis.raise_flag(
            env.elsewhere,
            client_id=env.world.client_id,
            reason=REASON,
            station_id=env.world.station_id,
        )
    assert (env.last_audit().action, env.last_audit().result) == ("raise_crisis_flag", "denied")
    flag = env.crisis.raise_flag(env.elsewhere, client_id=env.world.client_id, reason=REASON)
    assert flag.station_id == env.world.other_station_id  # the station of their session
    # 陈静 works at both stations and sees it; the banner shows for her too.
    assert env.crisis.has_open_flag(env.world.counsellor, env.world.client_id) is True
