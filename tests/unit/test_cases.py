"""Cases (个案): who may see and change them, opening rules, closing with an encrypted summary,
the timeline, and what the audit trail keeps (codes, never names or text)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from sqlalchemy import insert, select, update

from carestation.db import models as m
from carestation.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from carestation.domain.records import CaseDetail, CaseSummary, TimelineKind
from carestation.domain.values import Actor
from carestation.domain.vocab import (
    AppointmentStatus,
    AppointmentType,
    AssessmentMode,
    CaseOutcome,
    CaseStatus,
    ConsentPurpose,
    CounsellorKind,
    FlagSource,
    NoteStatus,
    NoteTemplate,
    RiskLevel,
    Topic,
)
from carestation.services.cases import CaseService, may_see_item_answers
from carestation.services.consent_rules import ConsentMissing
from carestation.services.container import Services
from carestation.services.notes import NoteService
from tests.conftest import FakeClock
from tests.factories import World, add_appointment, add_counsellor, build_world, give_consent

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai; the clock says 10:00
CLIENT_NAME = "张三"
NOTE_TEXT = "来访者诉工作压力大，睡眠差"
ROLE_NAMES = ("staff", "manager", "admin", "other", "counsellor", "supervisor", "cosigner")


@dataclass
class Scene:
    """A station with a supervisor (expert), an emotion regulator who counsels one client in an
    open case and wrote one signed note awaiting a named expert's co-signature, an unrelated
    expert colleague (`other`), a mind mentor, and a second client with consent."""

    services: Services
    world: World
    clock: FakeClock
    cases: CaseService
    notes: NoteService
    reg: Actor
    sup: Actor
    cos: Actor
    mentor: Actor
    case_id: int = 0
    first_appointment: int = 0
    note_id: int = 0
    spare_appointment: int = 0
    second_client: int = 0

    @property
    def other(self) -> Actor:
        return self.world.counsellor

    def role(self, name: str) -> Actor:
        return {
            "staff": self.world.staff,
            "manager": self.world.manager,
            "admin": self.world.admin,
            "other": self.other,
            "counsellor": self.reg,
            "supervisor": self.sup,
            "cosigner": self.cos,
        }[name]

    def appointment(
        self,
        start: datetime,
        counsellor: Actor | None = None,
        *,
        status: AppointmentStatus = AppointmentStatus.COMPLETED,
        client_id: int | None = None,
    ) -> int:
        appointment_id = add_appointment(
            self.services,
            self.world,
            start,
            start + timedelta(minutes=50),
            status=status,
            counsellor_id=(counsellor or self.reg).user_id,
        )
        if client_id is not None:
            with self.services.db.write() as session:
                session.execute(
                    update(m.Appointment)
                    .where(m.Appointment.id == appointment_id)
                    .values(client_id=client_id)
                )
        return appointment_id

    def case_version(self, case_id: int | None = None) -> int:
        with self.services.db.read() as session:
            return session.get_one(m.Case, case_id or self.case_id).version

    def note_version(self, note_id: int | None = None) -> int:
        with self.services.db.read() as session:
            return session.get_one(m.SessionNote, note_id or self.note_id).version


def build_scene(services: Services, clock: FakeClock) -> Scene:
    world = build_world(services)
    reg = add_counsellor(services, world, "reg01", "刘调节", CounsellorKind.REGULATOR)
    sup = add_counsellor(services, world, "sup01", "孙督导", CounsellorKind.EXPERT)
    cos = add_counsellor(services, world, "cos01", "周专家", CounsellorKind.EXPERT)
    mentor = add_counsellor(services, world, "men01", "吴导师", CounsellorKind.MENTOR)
    with services.db.write() as session:
        session.get_one(m.Station, world.station_id).supervisor_id = sup.user_id
        second = session.execute(
            insert(m.Client).returning(m.Client.id),
            [
                {
                    "client_code": "WXYZ-2345-2",
                    "name": "李四",
                    "created_at": datetime(2026, 1, 1, tzinfo=UTC),
                }
            ],
        ).scalar_one()
    give_consent(services, world)
    give_consent(services, world, client_id=second)
    scene = Scene(
        services=services,
        world=world,
        clock=clock,
        cases=CaseService(services.db, services.audit, clock, services.vault),
        notes=NoteService(services.db, services.audit, clock, services.vault),
        reg=reg,
        sup=sup,
        cos=cos,
        mentor=mentor,
        second_client=second,
    )
    case = scene.cases.open_case(
        reg, client_id=world.client_id, topics={Topic.WORK_STRESS}, risk_level=RiskLevel.LOW
    )
    scene.case_id = case.id
    scene.first_appointment = scene.appointment(T0)
    scene.cases.attach_appointment(reg, case.id, scene.first_appointment)
    draft = scene.notes.save_draft(
        reg,
        appointment_id=scene.first_appointment,
        template=NoteTemplate.FREE,
        sections={"text": NOTE_TEXT},
        expected_version=None,
    )
    scene.notes.sign(reg, draft.id, expected_version=draft.version, cosigner_id=cos.user_id)
    scene.note_id = draft.id
    scene.spare_appointment = scene.appointment(T0 + timedelta(days=1))
    return scene


@pytest.fixture
def scene(services: Services, clock: FakeClock) -> Scene:
    return build_scene(services, clock)


# -- audit helpers ---------------------------------------------------------------------------------


def last_audit_id(services: Services) -> int:
    with services.db.read() as session:
        return session.scalar(select(m.AuditEvent.id).order_by(m.AuditEvent.id.desc())) or 0


def audit_since(services: Services, after: int) -> list[m.AuditEvent]:
    with services.db.read() as session:
        return list(
            session.scalars(
                select(m.AuditEvent).where(m.AuditEvent.id > after).order_by(m.AuditEvent.id)
            )
        )


def assert_denied(
    services: Services, actor: Actor, action: str, call: Callable[[], object]
) -> None:
    """The call is refused, and exactly one entry is written: this actor, this action, denied."""
    before = last_audit_id(services)
    with pytest.raises(PermissionDenied, match="not allowed"):
        call()
    rows = audit_since(services, before)
    assert [(r.username, r.action, r.result) for r in rows] == [(actor.username, action, "denied")]


def assert_no_secrets_in_audit(services: Services, *secrets: str) -> None:
    with services.db.read() as session:
        for row in session.scalars(select(m.AuditEvent)):
            text = f"{row.object_ref}|{row.detail}|{row.object_type}|{row.action}"
            for secret in (CLIENT_NAME, *secrets):
                assert secret not in text, (row.action, text)


# -- the role matrix -------------------------------------------------------------------------------

CASE_OPERATIONS: dict[str, tuple[str, set[str]]] = {
    # operation: (audit action, roles allowed)
    "get_case": ("view_case", {"counsellor", "supervisor", "cosigner"}),
    "timeline": ("view_case_timeline", {"counsellor", "supervisor", "cosigner"}),
    "update_case": ("update_case", {"counsellor"}),
    "close_case": ("close_case", {"counsellor"}),
    "attach_appointment": ("link_case_appointment", {"counsellor"}),
    "cases_for_client": ("view_client_cases", {"other", "counsellor", "supervisor", "cosigner"}),
    "my_cases": ("list_my_cases", {"other", "counsellor", "supervisor", "cosigner"}),
    "open_case": ("open_case", {"other", "counsellor", "supervisor", "cosigner"}),
}


def _case_call(scene: Scene, operation: str, actor: Actor) -> object:
    cases = scene.cases
    if operation == "get_case":
        return cases.get_case(actor, scene.case_id)
    if operation == "timeline":
        return cases.timeline(actor, scene.case_id)
    if operation == "update_case":
        return cases.update_case(
            actor,
            scene.case_id,
            topics={Topic.CAREER},
            risk_level=RiskLevel.MEDIUM,
            expected_version=scene.case_version(),
        )
    if operation == "close_case":
        return cases.close_case(
            actor,
            scene.case_id,
            outcome=CaseOutcome.IMPROVED,
            summary="三次会谈后情绪恢复",
            expected_version=scene.case_version(),
        )
    if operation == "attach_appointment":
        return cases.attach_appointment(actor, scene.case_id, scene.spare_appointment)
    if operation == "cases_for_client":
        return cases.cases_for_client(actor, scene.world.client_id)
    if operation == "my_cases":
        return cases.my_cases(actor)
    if operation == "open_case":
        return cases.open_case(
            actor,
            client_id=scene.second_client,
            topics={Topic.INTERPERSONAL},
            risk_level=RiskLevel.LOW,
            station_id=scene.world.station_id,
        )
    raise AssertionError(operation)


@pytest.mark.parametrize("operation", sorted(CASE_OPERATIONS))
def test_case_role_matrix(scene: Scene, operation: str) -> None:
    action, allowed = CASE_OPERATIONS[operation]
    # Refusals first: they must change nothing, so the allowed calls still find the case as built.
    for name in ROLE_NAMES:
        if name not in allowed:
            actor = scene.role(name)
            assert_denied(
                scene.services, actor, action, partial(_case_call, scene, operation, actor)
            )
    for name in ROLE_NAMES:
        if name in allowed:
            _case_call(scene, operation, scene.role(name))
    assert_no_secrets_in_audit(scene.services, NOTE_TEXT)


def test_views_are_audited_by_client_code(scene: Scene) -> None:
    before = last_audit_id(scene.services)
    detail = scene.cases.get_case(scene.sup, scene.case_id)
    scene.cases.timeline(scene.cos, scene.case_id)
    rows = audit_since(scene.services, before)
    assert [(r.username, r.action, r.object_type, r.object_ref, r.result) for r in rows] == [
        ("sup01", "view_case", "case", "ABCD-EFGH-1", "ok"),
        ("cos01", "view_case_timeline", "case", "ABCD-EFGH-1", "ok"),
    ]
    assert detail.case.client_code == "ABCD-EFGH-1"
    assert CLIENT_NAME not in repr(detail)


def test_lists_show_only_visible_cases_by_code(scene: Scene) -> None:
    case = scene.cases.cases_for_client(scene.reg, scene.world.client_id)
    assert [c.id for c in case] == [scene.case_id]
    assert case[0].client_code == "ABCD-EFGH-1"
    assert CLIENT_NAME not in repr(case)
    assert scene.cases.cases_for_client(scene.other, scene.world.client_id) == []
    assert scene.cases.cases_for_client(scene.mentor, scene.world.client_id) == []
    assert [c.id for c in scene.cases.cases_for_client(scene.cos, scene.world.client_id)] == [
        scene.case_id
    ]
    with pytest.raises(NotFound):
        scene.cases.cases_for_client(scene.reg, 999_999)


def test_my_cases_for_counsellor_and_supervisor(scene: Scene) -> None:
    assert [c.id for c in scene.cases.my_cases(scene.reg)] == [scene.case_id]
    assert [c.id for c in scene.cases.my_cases(scene.sup)] == [scene.case_id]  # supervised
    assert scene.cases.my_cases(scene.cos) == []  # co-signing a note is not counselling the case
    assert scene.cases.my_cases(scene.other) == []
    assert scene.cases.my_cases(scene.reg, status=CaseStatus.CLOSED) == []
    scene.cases.close_case(
        scene.reg,
        scene.case_id,
        outcome=CaseOutcome.IMPROVED,
        summary="结案",
        expected_version=scene.case_version(),
    )
    # Closed: still the counsellor's, no longer on the supervisor's list of open cases.
    assert [c.id for c in scene.cases.my_cases(scene.reg, status=CaseStatus.CLOSED)] == [
        scene.case_id
    ]
    assert scene.cases.my_cases(scene.reg, status=CaseStatus.OPEN) == []
    assert scene.cases.my_cases(scene.sup) == []
    # A case at another station is not supervised by this station's supervisor.
    other_case = scene.cases.open_case(
        scene.other,
        client_id=scene.second_client,
        topics={Topic.CAREER},
        risk_level=RiskLevel.LOW,
        station_id=scene.world.other_station_id,
    )
    assert [c.id for c in scene.cases.my_cases(scene.other)] == [other_case.id]
    assert scene.cases.my_cases(scene.sup) == []


def test_a_covering_colleague_who_writes_a_note_sees_the_case(scene: Scene) -> None:
    covered = scene.appointment(T0 + timedelta(days=2), scene.other)
    scene.cases.attach_appointment(scene.reg, scene.case_id, covered)
    assert_denied(
        scene.services,
        scene.other,
        "view_case",
        lambda: scene.cases.get_case(scene.other, scene.case_id),
    )
    note = scene.notes.save_draft(
        scene.other,
        appointment_id=covered,
        template=NoteTemplate.FREE,
        sections={"text": "代班记录"},
        expected_version=None,
    )
    assert note.case_id == scene.case_id
    assert scene.cases.get_case(scene.other, scene.case_id).case.id == scene.case_id
    # Seeing the case is not changing it.
    assert_denied(
        scene.services,
        scene.other,
        "update_case",
        lambda: scene.cases.update_case(
            scene.other,
            scene.case_id,
            topics={Topic.CAREER},
            risk_level=RiskLevel.LOW,
            expected_version=scene.case_version(),
        ),
    )


# -- opening ---------------------------------------------------------------------------------------


def test_open_case_values_and_audit(scene: Scene) -> None:
    before = last_audit_id(scene.services)
    case = scene.cases.open_case(
        scene.other,
        client_id=scene.second_client,
        topics=frozenset({Topic.PARENT_CHILD, Topic.WORK_STRESS}),
        risk_level=RiskLevel.MEDIUM,
    )
    assert isinstance(case, CaseSummary)
    assert (case.client_code, case.counsellor_name, case.station_id) == (
        "WXYZ-2345-2",
        "陈静",
        scene.world.station_id,
    )
    assert case.topics == (Topic.WORK_STRESS, Topic.PARENT_CHILD)  # the vocabulary's order
    assert (case.status, case.risk_level, case.outcome, case.version) == (
        CaseStatus.OPEN,
        RiskLevel.MEDIUM,
        None,
        1,
    )
    assert case.opened_at == scene.clock.now()
    assert str(case.opened_at.tzinfo) == "Asia/Shanghai"
    rows = audit_since(scene.services, before)
    assert [(r.action, r.object_type, r.object_ref, r.username) for r in rows] == [
        ("open_case", "case", "WXYZ-2345-2", "c001")
    ]


def test_open_case_needs_a_topic(scene: Scene) -> None:
    with pytest.raises(ValidationError) as exc:
        scene.cases.open_case(
            scene.other, client_id=scene.second_client, topics=frozenset(), risk_level=RiskLevel.LOW
        )
    assert exc.value.errors == {"topics": "Choose at least one topic for the case."}


def test_open_case_needs_counselling_consent(scene: Scene) -> None:
    with scene.services.db.write() as session:
        session.execute(
            update(m.Consent)
            .where(m.Consent.client_id == scene.second_client)
            .values(withdrawn_at=scene.clock.now())
        )
    with pytest.raises(ConsentMissing, match="has not given consent for Counselling"):
        scene.cases.open_case(
            scene.other,
            client_id=scene.second_client,
            topics={Topic.CAREER},
            risk_level=RiskLevel.LOW,
        )
    # Consent for another purpose is not consent for counselling.
    give_consent(
        scene.services, scene.world, ConsentPurpose.ASSESSMENT, client_id=scene.second_client
    )
    with pytest.raises(ConsentMissing):
        scene.cases.open_case(
            scene.other,
            client_id=scene.second_client,
            topics={Topic.CAREER},
            risk_level=RiskLevel.LOW,
        )
    with scene.services.db.read() as session:
        assert (
            session.scalars(select(m.Case).where(m.Case.client_id == scene.second_client)).all()
            == []
        )


def test_open_case_refused_for_an_erased_client(scene: Scene) -> None:
    with scene.services.db.write() as session:
        session.get_one(m.Client, scene.second_client).erased_at = scene.clock.now()
    with pytest.raises(Conflict, match="erased at their request"):
        scene.cases.open_case(
            scene.other,
            client_id=scene.second_client,
            topics={Topic.CAREER},
            risk_level=RiskLevel.LOW,
        )


def test_open_case_only_at_the_counsellors_own_station(scene: Scene) -> None:
    # reg01 works at the main station only.
    assert_denied(
        scene.services,
        scene.reg,
        "open_case",
        lambda: scene.cases.open_case(
            scene.reg,
            client_id=scene.second_client,
            topics={Topic.CAREER},
            risk_level=RiskLevel.LOW,
            station_id=scene.world.other_station_id,
        ),
    )
    # c001 works at both.
    case = scene.cases.open_case(
        scene.other,
        client_id=scene.second_client,
        topics={Topic.CAREER},
        risk_level=RiskLevel.LOW,
        station_id=scene.world.other_station_id,
    )
    assert case.station_name == "店口镇服务站"


def test_one_open_case_per_client_and_counsellor(scene: Scene) -> None:
    with pytest.raises(Conflict, match="already have an open case for this client"):
        scene.cases.open_case(
            scene.reg,
            client_id=scene.world.client_id,
            topics={Topic.CAREER},
            risk_level=RiskLevel.LOW,
        )
    # Another counsellor may open their own.
    scene.cases.open_case(
        scene.other,
        client_id=scene.world.client_id,
        topics={Topic.CAREER},
        risk_level=RiskLevel.LOW,
    )


def test_open_case_unknown_client(scene: Scene) -> None:
    with pytest.raises(NotFound):
        scene.cases.open_case(
            scene.reg, client_id=999_999, topics={Topic.CAREER}, risk_level=RiskLevel.LOW
        )


# -- changing --------------------------------------------------------------------------------------


def test_update_case_with_version(scene: Scene) -> None:
    before = last_audit_id(scene.services)
    updated = scene.cases.update_case(
        scene.reg,
        scene.case_id,
        topics={Topic.CAREER, Topic.WORK_STRESS},
        risk_level=RiskLevel.HIGH,
        expected_version=1,
    )
    assert (updated.topics, updated.risk_level, updated.version) == (
        (Topic.WORK_STRESS, Topic.CAREER),
        RiskLevel.HIGH,
        2,
    )
    again = scene.cases.update_case(
        scene.reg,
        scene.case_id,
        topics={Topic.CAREER},
        risk_level=RiskLevel.HIGH,
        expected_version=2,
    )
    assert (again.topics, again.version) == ((Topic.CAREER,), 3)
    rows = audit_since(scene.services, before)
    assert [(r.action, r.object_ref, r.detail) for r in rows] == [
        ("update_case", "ABCD-EFGH-1", "topics; risk_level low->high"),
        ("update_case", "ABCD-EFGH-1", "topics"),
    ]
    # From a stale window: refused, and nothing changes.
    with pytest.raises(Conflict, match="Reopen the case to see the latest version"):
        scene.cases.update_case(
            scene.reg,
            scene.case_id,
            topics={Topic.OTHER},
            risk_level=RiskLevel.LOW,
            expected_version=2,
        )
    detail = scene.cases.get_case(scene.reg, scene.case_id)
    assert (detail.case.topics, detail.case.risk_level, detail.case.version) == (
        (Topic.CAREER,),
        RiskLevel.HIGH,
        3,
    )
    with pytest.raises(ValidationError, match="at least one topic"):
        scene.cases.update_case(
            scene.reg, scene.case_id, topics=set(), risk_level=RiskLevel.LOW, expected_version=3
        )


def test_attach_appointment_rules(scene: Scene) -> None:
    summary = scene.cases.attach_appointment(scene.reg, scene.case_id, scene.spare_appointment)
    assert summary.id == scene.case_id
    # Again: nothing to do, no error.
    scene.cases.attach_appointment(scene.reg, scene.case_id, scene.spare_appointment)
    someone_else = scene.appointment(T0 + timedelta(days=3), client_id=scene.second_client)
    with pytest.raises(Conflict, match="for another client"):
        scene.cases.attach_appointment(scene.reg, scene.case_id, someone_else)
    other_case = scene.cases.open_case(
        scene.other,
        client_id=scene.world.client_id,
        topics={Topic.CAREER},
        risk_level=RiskLevel.LOW,
    )
    with pytest.raises(Conflict, match="already belongs to another case"):
        scene.cases.attach_appointment(scene.other, other_case.id, scene.spare_appointment)
    cancelled = scene.appointment(T0 + timedelta(days=4), status=AppointmentStatus.CANCELLED)
    with pytest.raises(Conflict, match="cancelled"):
        scene.cases.attach_appointment(scene.reg, scene.case_id, cancelled)
    with pytest.raises(NotFound):
        scene.cases.attach_appointment(scene.reg, scene.case_id, 999_999)
    with scene.services.db.read() as session:
        assert session.get_one(m.Appointment, scene.spare_appointment).case_id == scene.case_id


# -- closing ---------------------------------------------------------------------------------------


def _flag(
    scene: Scene, *, case_id: int | None, cleared: bool = False, client_id: int | None = None
) -> int:
    with scene.services.db.write() as session:
        return session.execute(
            insert(m.CrisisFlag).returning(m.CrisisFlag.id),
            [
                {
                    "client_id": client_id or scene.world.client_id,
                    "case_id": case_id,
                    "station_id": scene.world.station_id,
                    "source": FlagSource.COUNSELLOR,
                    "raised_at": scene.clock.now(),
                    "raised_by": scene.reg.user_id,
                    "reason_ciphertext": b"\x01not-a-real-ciphertext",
                    "key_version": 1,
                    "cleared_at": scene.clock.now() if cleared else None,
                    "actions": [],
                }
            ],
        ).scalar_one()


def _close(scene: Scene, summary: str = "三次会谈后恢复正常，结案。") -> CaseSummary:
    return scene.cases.close_case(
        scene.reg,
        scene.case_id,
        outcome=CaseOutcome.IMPROVED,
        summary=summary,
        expected_version=scene.case_version(),
    )


def test_close_refused_while_a_crisis_flag_of_the_case_is_open(scene: Scene) -> None:
    flag = _flag(scene, case_id=scene.case_id)
    with pytest.raises(Conflict, match=r"open crisis flag\. Clear it"):
        _close(scene)
    assert scene.case_version() == 1
    with scene.services.db.write() as session:
        session.get_one(m.CrisisFlag, flag).cleared_at = scene.clock.now()
    assert _close(scene).status is CaseStatus.CLOSED


def test_close_refused_while_a_client_flag_outside_any_case_is_open(scene: Scene) -> None:
    _flag(scene, case_id=None, cleared=True)  # cleared: no obstacle
    _flag(scene, case_id=None, client_id=scene.second_client)  # another client's: no obstacle
    open_flag = _flag(scene, case_id=None)
    with pytest.raises(Conflict, match="open crisis flag"):
        _close(scene)
    with scene.services.db.write() as session:
        session.get_one(m.CrisisFlag, open_flag).cleared_at = scene.clock.now()
    _close(scene)


def test_close_needs_a_summary(scene: Scene) -> None:
    for blank in ("", "   \n "):
        with pytest.raises(ValidationError) as exc:
            _close(scene, blank)
        assert set(exc.value.errors) == {"summary"}
        assert "Write a closing summary" in exc.value.errors["summary"]
    assert scene.case_version() == 1


def test_close_refused_on_a_stale_version_and_once_closed(scene: Scene) -> None:
    with pytest.raises(Conflict, match="Reopen the case"):
        scene.cases.close_case(
            scene.reg,
            scene.case_id,
            outcome=CaseOutcome.IMPROVED,
            summary="x",
            expected_version=7,
        )
    _close(scene)
    with pytest.raises(Conflict, match="closed and can no longer be changed"):
        _close(scene)
    with pytest.raises(Conflict, match="closed"):
        scene.cases.attach_appointment(scene.reg, scene.case_id, scene.spare_appointment)


def test_close_stores_the_summary_encrypted_and_only_counsellor_and_supervisor_read_it(
    scene: Scene,
) -> None:
    summary = "三次会谈后恢复正常，结案。Closing summary canary"
    before = last_audit_id(scene.services)
    closed = _close(scene, summary)
    assert (closed.status, closed.outcome, closed.version) == (
        CaseStatus.CLOSED,
        CaseOutcome.IMPROVED,
        2,
    )
    assert closed.closed_at == scene.clock.now()
    with scene.services.db.read() as session:
        row = session.get_one(m.Case, scene.case_id)
        assert row.summary_ciphertext is not None
        assert summary.encode() not in row.summary_ciphertext
        assert row.key_version == 1
        assert row.closed_by == scene.reg.user_id
    rows = audit_since(scene.services, before)
    assert [(r.action, r.object_ref, r.detail) for r in rows] == [
        ("close_case", "ABCD-EFGH-1", "improved")
    ]
    mine = scene.cases.get_case(scene.reg, scene.case_id)
    assert isinstance(mine, CaseDetail)
    assert mine.closing_summary == summary.strip()
    assert mine.closed_by_name == "刘调节"
    assert scene.cases.get_case(scene.sup, scene.case_id).closing_summary == summary
    # The co-signer of one note sees the case, not its closing summary.
    assert scene.cases.get_case(scene.cos, scene.case_id).closing_summary is None
    for name in ("staff", "manager", "admin", "other"):
        actor = scene.role(name)
        assert_denied(
            scene.services,
            actor,
            "view_case",
            partial(scene.cases.get_case, actor, scene.case_id),
        )
    assert_no_secrets_in_audit(scene.services, summary, "Closing summary canary")


# -- the timeline ----------------------------------------------------------------------------------


def test_timeline_in_time_order_without_text(scene: Scene) -> None:
    services, clock = scene.services, scene.clock
    # The case was opened at 02:00 UTC; the first appointment (01:00) predates it.
    # The note on it was created at 02:00 too (the clock has not moved).
    clock.advance(hours=1)  # 03:00: an assessment
    with services.db.write() as session:
        assessment = session.execute(
            insert(m.Assessment).returning(m.Assessment.id),
            [
                {
                    "client_id": scene.world.client_id,
                    "case_id": scene.case_id,
                    "station_id": scene.world.station_id,
                    "instrument": "PHQ9",
                    "instrument_version": "1",
                    "answers": [1, 2, 1, 0, 1, 2, 1, 0, 0],
                    "total": 8,
                    "band": "mild",
                    "mode": AssessmentMode.COUNSELLOR,
                    "taken_at": clock.now(),
                    "administered_by": scene.reg.user_id,
                }
            ],
        ).scalar_one()
    clock.advance(hours=1)  # 04:00: a crisis flag, with follow-ups at 05:00 (done) and 30 days on
    flag = _flag(scene, case_id=scene.case_id)
    with services.db.write() as session:
        session.add_all(
            [
                m.CrisisFollowUp(
                    flag_id=flag,
                    due_at=clock.now() + timedelta(hours=24),
                    done_at=clock.now() + timedelta(hours=1),
                    done_by=scene.reg.user_id,
                ),
                m.CrisisFollowUp(flag_id=flag, due_at=clock.now() + timedelta(days=30)),
            ]
        )
    clock.advance(hours=3)  # 07:00: the flag is cleared
    with services.db.write() as session:
        session.get_one(m.CrisisFlag, flag).cleared_at = clock.now()
    # Day 2, 01:00: a second session (attached), with an addendum on the first note.
    scene.cases.attach_appointment(scene.reg, scene.case_id, scene.spare_appointment)
    scene.notes.add_addendum(scene.reg, scene.note_id, "补充：联系了家属")
    clock.advance(days=2)  # 11-25 07:00: closed
    _close(scene)

    items = scene.cases.timeline(scene.sup, scene.case_id)
    assert [(i.kind, i.at.astimezone(UTC)) for i in items] == [
        (TimelineKind.APPOINTMENT, T0),
        (TimelineKind.CASE_OPENED, datetime(2026, 11, 23, 2, tzinfo=UTC)),
        (TimelineKind.NOTE, datetime(2026, 11, 23, 2, tzinfo=UTC)),
        (TimelineKind.ASSESSMENT, datetime(2026, 11, 23, 3, tzinfo=UTC)),
        (TimelineKind.FLAG_RAISED, datetime(2026, 11, 23, 4, tzinfo=UTC)),
        (TimelineKind.FOLLOW_UP, datetime(2026, 11, 23, 5, tzinfo=UTC)),
        (TimelineKind.FLAG_CLEARED, datetime(2026, 11, 23, 7, tzinfo=UTC)),
        (TimelineKind.APPOINTMENT, T0 + timedelta(days=1)),
        (TimelineKind.CASE_CLOSED, datetime(2026, 11, 25, 7, tzinfo=UTC)),
        (TimelineKind.FOLLOW_UP, datetime(2026, 12, 23, 4, tzinfo=UTC)),
    ]
    by_kind = {i.kind: i for i in items}
    first = items[0]
    assert (first.appointment_id, first.appointment_type, first.appointment_status) == (
        scene.first_appointment,
        AppointmentType.COUNSELLING,
        AppointmentStatus.COMPLETED,
    )
    note = by_kind[TimelineKind.NOTE]
    assert (note.ref_id, note.note_status, note.addenda_count, note.author_name) == (
        scene.note_id,
        NoteStatus.AWAITING_COSIGN,
        1,
        "刘调节",
    )
    taken = by_kind[TimelineKind.ASSESSMENT]
    assert (taken.ref_id, taken.instrument, taken.total, taken.band) == (
        assessment,
        "PHQ9",
        8,
        "mild",
    )
    assert [i.done for i in items if i.kind is TimelineKind.FOLLOW_UP] == [True, False]
    assert by_kind[TimelineKind.CASE_CLOSED].outcome is CaseOutcome.IMPROVED
    assert str(first.at.tzinfo) == "Asia/Shanghai"
    text = repr(items)
    for secret in (NOTE_TEXT, "联系了家属", CLIENT_NAME, "三次会谈"):
        assert secret not in text


def test_timeline_of_an_unknown_case(scene: Scene) -> None:
    with pytest.raises(NotFound):
        scene.cases.timeline(scene.reg, 999_999)


# -- item answers ----------------------------------------------------------------------------------


def test_mentors_may_not_see_item_answers(scene: Scene) -> None:
    with scene.services.db.read() as session:
        assert may_see_item_answers(session, scene.sup)
        assert may_see_item_answers(session, scene.reg)
        assert not may_see_item_answers(session, scene.mentor)
        for name in ("staff", "manager", "admin"):
            assert not may_see_item_answers(session, scene.role(name))
