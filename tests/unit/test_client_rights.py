"""The person's rights: finding their record, correcting it, exporting everything held about
them, and erasing it (with crypto-shredding); and the disclosures recorded for them."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carestation.db import models as m
from carestation.domain.booking import ClientInput
from carestation.domain.errors import (
    Conflict,
    KeyUnavailable,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from carestation.domain.roles import Role
from carestation.domain.values import Actor
from carestation.domain.vocab import (
    AppointmentStatus,
    AppointmentType,
    AssessmentMode,
    CaseOutcome,
    CaseStatus,
    ConsentPurpose,
    CounsellorKind,
    DisclosureBasis,
    FlagSource,
    Gender,
    NoteStatus,
    NoteTemplate,
    RegistrationStatus,
    RiskLevel,
    Topic,
    WaitlistStatus,
)
from carestation.services.client_rights import ClientRightsService
from carestation.services.clients import client_summary
from carestation.services.consent import ConsentService
from carestation.services.container import Services
from carestation.services.disclosures import DisclosureService
from tests.conftest import FakeClock
from tests.factories import World, add_appointment, add_counsellor, build_world

NOTE_TEXT = "来访者自述近期失眠，与主管冲突。"
ADDENDUM_TEXT = "补充：已约定下周复诊。"
SUMMARY_TEXT = "结案小结：睡眠明显改善。"
REASON_TEXT = "来访者提到轻生念头。"
ACTIONS_TEXT = "陪同来访者并拨打 12351。"
FOLLOW_UP_TEXT = "电话随访，情绪平稳。"
OTHER_NAME, OTHER_CODE, OTHER_PHONE = "李四", "WXYZ-2345-Q", "13912340000"


@dataclass
class Rights:
    consent: ConsentService
    rights: ClientRightsService
    disclosures: DisclosureService


def make_rights(services: Services, clock: FakeClock) -> Rights:
    args = (services.db, services.audit, clock, services.vault)
    return Rights(ConsentService(*args), ClientRightsService(*args), DisclosureService(*args))


@dataclass
class Seeded:
    world: World
    past_appointment: int
    future_appointment: int
    lecture_id: int
    case_id: int
    note_id: int
    addendum_id: int
    flag_id: int
    follow_up_id: int
    assessment_id: int
    other_client_id: int
    consent_id: int
    disclosure_id: int


def seal(
    services: Services,
    session: Session,
    client_id: int,
    text: str,
    table: str,
    column: str,
    row_id: int,
) -> tuple[bytes, int]:
    return services.vault.seal(session, client_id, text, table=table, column=column, row_id=row_id)


def seed(services: Services, clock: FakeClock, world: World | None = None) -> Seeded:
    """A client with something of every kind: consents, a past and a future appointment, a
    closed case with a summary, a signed note with an addendum, an assessment, a cleared crisis
    flag with a follow-up, a lecture attended with another person, a waitlist entry and a
    disclosure."""
    world = world or build_world(services)
    r = make_rights(services, clock)
    given = r.consent.give(
        world.staff,
        client_id=world.client_id,
        purposes=frozenset({ConsentPurpose.COUNSELLING, ConsentPurpose.ASSESSMENT}),
        language="zh_CN",
    )
    consent_id = next(c.id for c in given if c.purpose is ConsentPurpose.COUNSELLING)
    past = add_appointment(
        services,
        world,
        datetime(2026, 11, 20, 2, 0, tzinfo=UTC),
        datetime(2026, 11, 20, 2, 50, tzinfo=UTC),
        status=AppointmentStatus.COMPLETED,
    )
    future = add_appointment(
        services,
        world,
        datetime(2026, 11, 25, 2, 0, tzinfo=UTC),
        datetime(2026, 11, 25, 2, 50, tzinfo=UTC),
    )
    cid, counsellor = world.client_id, world.counsellor.user_id
    with services.db.write() as session:
        case = m.Case(
            client_id=cid,
            station_id=world.station_id,
            counsellor_id=counsellor,
            status=CaseStatus.CLOSED,
            risk_level=RiskLevel.MEDIUM,
            outcome=CaseOutcome.IMPROVED,
            opened_at=datetime(2026, 11, 2, 2, 0, tzinfo=UTC),
            closed_at=datetime(2026, 11, 21, 2, 0, tzinfo=UTC),
            closed_by=counsellor,
            topics=[m.CaseTopic(topic=Topic.WORK_STRESS), m.CaseTopic(topic=Topic.INTERPERSONAL)],
        )
        session.add(case)
        session.flush()
        case.summary_ciphertext, case.key_version = seal(
            services, session, cid, SUMMARY_TEXT, "care_case", "summary", case.id
        )
        session.get(m.Appointment, past).case_id = case.id
        note = m.SessionNote(
            appointment_id=past,
            case_id=case.id,
            author_id=counsellor,
            template=NoteTemplate.FREE,
            body_ciphertext=b"",
            key_version=0,
            status=NoteStatus.FINAL,
            signed_at=datetime(2026, 11, 20, 3, 0, tzinfo=UTC),
            created_at=datetime(2026, 11, 20, 2, 55, tzinfo=UTC),
            updated_at=datetime(2026, 11, 20, 3, 0, tzinfo=UTC),
        )
        session.add(note)
        session.flush()
        note.body_ciphertext, note.key_version = seal(
            services,
            session,
            cid,
            json.dumps({"text": NOTE_TEXT}, ensure_ascii=False),
            "session_note",
            "body",
            note.id,
        )
        addendum = m.NoteAddendum(
            note_id=note.id,
            author_id=counsellor,
            created_at=datetime(2026, 11, 21, 2, 0, tzinfo=UTC),
            body_ciphertext=b"",
            key_version=0,
        )
        session.add(addendum)
        session.flush()
        addendum.body_ciphertext, addendum.key_version = seal(
            services, session, cid, ADDENDUM_TEXT, "note_addendum", "body", addendum.id
        )
        assessment = m.Assessment(
            client_id=cid,
            case_id=case.id,
            appointment_id=past,
            station_id=world.station_id,
            instrument="phq9",
            instrument_version="1",
            answers=[1, 2, 0, 1, 0, 0, 1, None, 0],
            total=5,
            band="mild",
            mode=AssessmentMode.COUNSELLOR,
            taken_at=datetime(2026, 11, 20, 2, 10, tzinfo=UTC),
            administered_by=counsellor,
        )
        session.add(assessment)
        flag = m.CrisisFlag(
            client_id=cid,
            case_id=case.id,
            station_id=world.station_id,
            source=FlagSource.COUNSELLOR,
            raised_at=datetime(2026, 11, 20, 2, 30, tzinfo=UTC),
            raised_by=counsellor,
            reason_ciphertext=b"",
            key_version=0,
            cleared_at=datetime(2026, 11, 20, 4, 0, tzinfo=UTC),
            cleared_by=counsellor,
            actions=["called_hotline", "安排同事陪同回家"],
        )
        session.add(flag)
        session.flush()
        flag.reason_ciphertext, flag.key_version = seal(
            services, session, cid, REASON_TEXT, "crisis_flag", "reason", flag.id
        )
        flag.actions_ciphertext, _v = seal(
            services, session, cid, ACTIONS_TEXT, "crisis_flag", "actions", flag.id
        )
        follow_up = m.CrisisFollowUp(
            flag_id=flag.id,
            due_at=datetime(2026, 11, 21, 2, 30, tzinfo=UTC),
            done_at=datetime(2026, 11, 21, 3, 0, tzinfo=UTC),
            done_by=counsellor,
        )
        session.add(follow_up)
        session.flush()
        follow_up.note_ciphertext, follow_up.key_version = seal(
            services, session, cid, FOLLOW_UP_TEXT, "crisis_followup", "note", follow_up.id
        )
        other = m.Client(
            client_code=OTHER_CODE,
            name=OTHER_NAME,
            phone=OTHER_PHONE,
            work_unit="市供电公司",
            created_at=datetime(2026, 1, 2, tzinfo=UTC),
        )
        lecture = m.Appointment(
            station_id=world.station_id,
            counsellor_id=counsellor,
            room_id=world.room_id,
            type=AppointmentType.LECTURE,
            status=AppointmentStatus.COMPLETED,
            starts_at=datetime(2026, 11, 10, 6, 0, tzinfo=UTC),
            ends_at=datetime(2026, 11, 10, 7, 30, tzinfo=UTC),
            created_at=datetime(2026, 11, 1, tzinfo=UTC),
            title="职场压力管理讲座",
            capacity=30,
        )
        session.add_all([other, lecture])
        session.flush()
        for who in (cid, other.id):
            session.add(
                m.LectureRegistration(
                    appointment_id=lecture.id,
                    client_id=who,
                    status=RegistrationStatus.REGISTERED,
                    attended=True,
                    registered_at=datetime(2026, 11, 3, tzinfo=UTC),
                )
            )
        session.add(
            m.WaitlistEntry(
                client_id=cid,
                station_id=world.station_id,
                counsellor_id=counsellor,
                type=AppointmentType.COUNSELLING,
                earliest=date(2026, 11, 24),
                latest=date(2026, 12, 5),
                time_from=datetime(2026, 1, 1, 13).time(),
                time_to=datetime(2026, 1, 1, 17).time(),
                note="只能下午来",
                status=WaitlistStatus.WAITING,
                created_at=datetime(2026, 11, 22, tzinfo=UTC),
            )
        )
        session.flush()
        ids = (case.id, note.id, addendum.id, assessment.id, flag.id, follow_up.id, other.id)
        lecture_id = lecture.id
    disclosure = r.disclosures.record(
        world.counsellor,
        client_id=cid,
        disclosed_on=date(2026, 11, 22),
        recipient="市精神卫生中心接诊医生",
        what="风险评估结果与近期情况",
        why="转介进一步评估",
        basis=DisclosureBasis.CONSENT,
        consent_id=consent_id,
    )
    case_id, note_id, addendum_id, assessment_id, flag_id, follow_up_id, other_id = ids
    return Seeded(
        world=world,
        past_appointment=past,
        future_appointment=future,
        lecture_id=lecture_id,
        case_id=case_id,
        note_id=note_id,
        addendum_id=addendum_id,
        flag_id=flag_id,
        follow_up_id=follow_up_id,
        assessment_id=assessment_id,
        other_client_id=other_id,
        consent_id=consent_id,
        disclosure_id=disclosure.id,
    )


def last_audit(services: Services) -> m.AuditEvent:
    with services.db.read() as session:
        row = session.scalars(select(m.AuditEvent).order_by(m.AuditEvent.id.desc()).limit(1)).one()
        session.expunge(row)
        return row


def count(services: Services, model: type, **where: object) -> int:
    with services.db.read() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(session.scalar(query) or 0)


@pytest.fixture
def world(services: Services) -> World:
    return build_world(services)


@pytest.fixture
def r(services: Services, clock: FakeClock) -> Rights:
    return make_rights(services, clock)


def assert_matrix(
    services: Services,
    world: World,
    action: str,
    allowed: set[Role],
    call: Callable[[Actor], object],
) -> None:
    for role in (Role.STAFF, Role.COUNSELLOR, Role.MANAGER, Role.ADMIN):
        actor = world.actor(role)
        if role in allowed:
            call(actor)
            continue
        with pytest.raises(PermissionDenied):
            call(actor)
        entry = last_audit(services)
        assert (entry.action, entry.result, entry.username) == (action, "denied", actor.username)


# -- finding the person -------------------------------------------------------------------------


def test_find_for_request_by_code_phone_or_exact_name(
    services: Services, world: World, r: Rights
) -> None:
    found = r.rights.find_for_request(world.admin, "abcd efgh 1")
    assert [c.client_code for c in found] == ["ABCD-EFGH-1"]
    assert [c.id for c in r.rights.find_for_request(world.admin, "138 0000 0000")] == [
        world.client_id
    ]
    assert [c.name for c in r.rights.find_for_request(world.admin, " 张三 ")] == ["张三"]
    # Exact matches only: no browsing by a fragment of a name or a number.
    assert r.rights.find_for_request(world.admin, "张") == []
    assert r.rights.find_for_request(world.admin, "1380000") == []
    assert r.rights.find_for_request(world.admin, "   ") == []
    entry = last_audit(services)
    assert (entry.action, entry.detail, entry.object_ref) == ("find_client_for_request", "0", "")
    with services.db.read() as session:
        details = " ".join(
            f"{e.object_ref} {e.detail}"
            for e in session.scalars(
                select(m.AuditEvent).where(m.AuditEvent.action == "find_client_for_request")
            )
        )
    assert "张" not in details
    assert "1380000" not in details


def test_find_for_request_matches_a_landline_typed_without_its_dash(
    services: Services, world: World, r: Rights
) -> None:
    with services.db.write() as session:
        session.get(m.Client, world.client_id).phone = "0575-87009999"
    assert [c.id for c in r.rights.find_for_request(world.admin, "057587009999")] == [
        world.client_id
    ]


def test_who_may_find_export_and_erase(services: Services, world: World, r: Rights) -> None:
    admin_only = {Role.ADMIN}
    cid = world.client_id
    assert_matrix(
        services,
        world,
        "find_client_for_request",
        admin_only,
        lambda a: r.rights.find_for_request(a, "张三"),
    )
    assert_matrix(services, world, "export_client", admin_only, lambda a: r.rights.export(a, cid))
    assert_matrix(
        services, world, "export_client", admin_only, lambda a: r.rights.export_json(a, cid)
    )
    assert_matrix(
        services,
        world,
        "erase_client",
        admin_only,
        lambda a: r.rights.erase(a, client_id=cid, request_ref="2026-REQ-01"),
    )


def test_who_may_correct(services: Services, world: World, r: Rights) -> None:
    phones = iter(["13800000001", "13800000002", "13800000003", "13800000004"])
    assert_matrix(
        services,
        world,
        "correct_client",
        {Role.STAFF, Role.COUNSELLOR, Role.ADMIN},
        lambda a: r.rights.correct(
            a, client_id=world.client_id, data=ClientInput(name="张三", phone=next(phones))
        ),
    )
    with services.db.read() as session:
        assert session.get(m.Client, world.client_id).phone == "13800000004"  # the admin's


def test_who_may_record_and_read_disclosures(services: Services, world: World, r: Rights) -> None:
    add_appointment(
        services,
        world,
        datetime(2026, 11, 20, 2, 0, tzinfo=UTC),
        datetime(2026, 11, 20, 2, 50, tzinfo=UTC),
    )
    assert_matrix(
        services,
        world,
        "record_disclosure",
        {Role.COUNSELLOR},
        lambda a: r.disclosures.record(
            a,
            client_id=world.client_id,
            disclosed_on=date(2026, 11, 22),
            recipient="派出所民警",
            what="来访者的联系方式",
            why="紧急情况下寻找来访者",
            basis=DisclosureBasis.VITAL_INTEREST,
        ),
    )
    assert_matrix(
        services,
        world,
        "view_disclosures",
        {Role.COUNSELLOR},
        lambda a: r.disclosures.for_client(a, world.client_id),
    )


# -- correction ---------------------------------------------------------------------------------


def test_correct_changes_the_details_and_audits_field_names_only(
    services: Services, world: World, r: Rights, clock: FakeClock
) -> None:
    before = client_summary_of(services, world.client_id)
    after = r.rights.correct(
        world.staff,
        client_id=world.client_id,
        data=ClientInput(
            name=" 张三 ",
            phone="139 0000 1111",
            work_unit="市水务集团  供水所",
            gender=Gender.MALE,
            birth_year=1985,
        ),
        expected=before,
    )
    assert (after.name, after.phone, after.work_unit, after.gender, after.birth_year) == (
        "张三",
        "13900001111",
        "市水务集团 供水所",
        Gender.MALE,
        1985,
    )
    assert after.client_code == "ABCD-EFGH-1"
    with services.db.read() as session:
        row = session.get(m.Client, world.client_id)
        assert (row.updated_at, row.updated_by) == (clock.now(), world.staff.user_id)
    entry = last_audit(services)
    assert (entry.action, entry.object_ref, entry.detail) == (
        "correct_client",
        "ABCD-EFGH-1",
        "phone,work_unit,gender,birth_year",
    )
    assert "1390000" not in entry.detail
    assert "供水所" not in entry.detail


def client_summary_of(services: Services, client_id: int):  # type: ignore[no-untyped-def]
    with services.db.read() as session:
        return client_summary(session.get(m.Client, client_id))


def test_correct_refuses_bad_input_stale_forms_and_duplicates(
    services: Services, world: World, r: Rights
) -> None:
    shown = client_summary_of(services, world.client_id)
    with pytest.raises(ValidationError) as exc:
        r.rights.correct(
            world.staff,
            client_id=world.client_id,
            data=ClientInput(name="", phone="12345", birth_year=1850),
        )
    assert set(exc.value.errors) == {"name", "phone", "birth_year"}
    assert exc.value.errors["birth_year"] == (
        "Enter a birth year between 1900 and this year, or leave it empty."
    )
    # Someone else corrected the record after this form was opened.
    r.rights.correct(
        world.counsellor, client_id=world.client_id, data=ClientInput("张三", "13911112222")
    )
    with pytest.raises(Conflict) as stale:
        r.rights.correct(
            world.staff,
            client_id=world.client_id,
            data=ClientInput("张三", "13933334444"),
            expected=shown,
        )
    assert "changed this client's details after you opened them" in str(stale.value)
    with services.db.write() as session:
        session.add(
            m.Client(
                client_code="QQQQ-RRRR-S",
                name="张三",
                phone="13955556666",
                created_at=datetime(2026, 2, 1, tzinfo=UTC),
            )
        )
    with pytest.raises(Conflict) as duplicate:
        r.rights.correct(
            world.staff, client_id=world.client_id, data=ClientInput("张三", "13955556666")
        )
    assert "Another record (code QQQQ-RRRR-S) has this name and phone number" in str(
        duplicate.value
    )
    assert client_summary_of(services, world.client_id).phone == "13911112222"


def test_correct_without_a_change_writes_nothing(
    services: Services, world: World, r: Rights
) -> None:
    entries = count(services, m.AuditEvent)
    r.rights.correct(
        world.staff,
        client_id=world.client_id,
        data=ClientInput("张三", "13800000000", "市水务集团"),
    )
    assert count(services, m.AuditEvent) == entries
    with services.db.read() as session:
        assert session.get(m.Client, world.client_id).updated_at is None


# -- export -------------------------------------------------------------------------------------


def test_export_holds_everything_about_the_person(
    services: Services, clock: FakeClock, r: Rights
) -> None:
    s = seed(services, clock)
    export = r.rights.export(s.world.admin, s.world.client_id)

    assert (export.identity.client_code, export.identity.name, export.identity.phone) == (
        "ABCD-EFGH-1",
        "张三",
        "13800000000",
    )
    assert export.generated_by == "管理员"
    assert [(c.purpose, c.in_force) for c in export.consents] == [
        (ConsentPurpose.ASSESSMENT, True),
        (ConsentPurpose.COUNSELLING, True),
    ]
    assert [(a.status, a.counsellor, a.station) for a in export.appointments] == [
        (AppointmentStatus.COMPLETED, "陈静", "暨阳街道职工情绪管理服务站"),
        (AppointmentStatus.BOOKED, "陈静", "暨阳街道职工情绪管理服务站"),
    ]
    assert export.appointments[0].starts_at.isoformat() == "2026-11-20T10:00:00+08:00"
    assert [(x.title, x.attended, x.speaker) for x in export.lectures] == [
        ("职场压力管理讲座", True, "陈静")
    ]
    assert [(w.status, w.note) for w in export.waitlist] == [(WaitlistStatus.WAITING, "只能下午来")]
    (case,) = export.cases
    assert (case.topics, case.outcome, case.risk_level, case.summary) == (
        (Topic.INTERPERSONAL, Topic.WORK_STRESS),
        CaseOutcome.IMPROVED,
        RiskLevel.MEDIUM,
        SUMMARY_TEXT,
    )
    (assessment,) = export.assessments
    assert (assessment.instrument, assessment.answers, assessment.total, assessment.band) == (
        "phq9",
        (1, 2, 0, 1, 0, 0, 1, None, 0),
        5,
        "mild",
    )
    (flag,) = export.crisis_flags
    assert flag.actions == ("Called the 12351 union hotline", "安排同事陪同回家")
    assert not flag.open
    assert len(flag.follow_ups) == 1
    (disclosure,) = export.disclosures
    assert (disclosure.recipient, disclosure.why, disclosure.basis, disclosure.consent_id) == (
        "市精神卫生中心接诊医生",
        "转介进一步评估",
        DisclosureBasis.CONSENT,
        s.consent_id,
    )
    (note,) = export.notes
    assert (note.author, note.status, len(note.addenda)) == ("陈静", NoteStatus.FINAL, 1)
    entry = last_audit(services)
    assert (entry.action, entry.object_ref, entry.username, entry.result) == (
        "export_client",
        "ABCD-EFGH-1",
        "admin",
        "ok",
    )


def test_an_administrators_export_has_no_note_text(
    services: Services, clock: FakeClock, r: Rights
) -> None:
    s = seed(services, clock)
    export = r.rights.export(s.world.admin, s.world.client_id)
    assert not export.note_text_included
    assert export.notes[0].text is None
    assert export.notes[0].addenda[0].text is None
    notes = next(x for x in export.sections() if x.key == "notes")
    assert notes.columns == ("Session", "Written by", "Status", "Signed on")
    assert notes.remark == (
        "The contents of session notes are not part of this export. The counsellor who wrote "
        "them releases them to the person, on request."
    )
    everything = repr(export) + r.rights.export_json(s.world.admin, s.world.client_id).decode()
    for secret in (NOTE_TEXT, ADDENDUM_TEXT, REASON_TEXT, ACTIONS_TEXT, FOLLOW_UP_TEXT):
        assert secret not in everything


def test_a_reader_of_the_note_gets_its_text(
    services: Services, clock: FakeClock, r: Rights
) -> None:
    s = seed(services, clock)
    c = s.world.counsellor
    # The author also administers the system: the note's own rule lets them read it.
    both = dataclasses.replace(c, roles=frozenset({Role.ADMIN, Role.COUNSELLOR}))
    export = r.rights.export(both, s.world.client_id)
    assert export.note_text_included
    assert export.notes[0].text == "Note: " + NOTE_TEXT
    assert export.notes[0].addenda[0].text == ADDENDUM_TEXT
    notes = next(x for x in export.sections() if x.key == "notes")
    assert notes.remark == ""
    assert dict(notes.entries[0])["Text"] == "Note: " + NOTE_TEXT
    # Another counsellor who also administers does not read it.
    other = add_counsellor(services, s.world, "c002", "刘洋", CounsellorKind.EXPERT)
    stranger = dataclasses.replace(other, roles=frozenset({Role.ADMIN, Role.COUNSELLOR}))
    assert r.rights.export(stranger, s.world.client_id).notes[0].text is None


def test_an_export_never_names_other_lecture_participants(
    services: Services, clock: FakeClock, r: Rights
) -> None:
    s = seed(services, clock)
    export = r.rights.export(s.world.admin, s.world.client_id)
    raw = r.rights.export_json(s.world.admin, s.world.client_id).decode("utf-8")
    sections = repr(export.sections())
    assert len(export.lectures) == 1
    for text in (repr(export), raw, sections):
        assert "张三" in text  # the person themselves
        for other in (OTHER_NAME, OTHER_CODE, OTHER_PHONE, "市供电公司"):
            assert other not in text


def test_the_json_export_parses_with_stable_keys_and_iso_dates(
    services: Services, clock: FakeClock, r: Rights
) -> None:
    s = seed(services, clock)
    raw = r.rights.export_json(s.world.admin, s.world.client_id)
    assert "张三".encode() in raw  # UTF-8, not \u escapes
    data = json.loads(raw)
    assert data["format"] == "carestation.client_export/1"
    assert sorted(data) == sorted(
        [
            "format",
            "generated_at",
            "generated_by",
            "identity",
            "consents",
            "appointments",
            "lectures",
            "waitlist",
            "cases",
            "assessments",
            "crisis_flags",
            "disclosures",
            "notes",
        ]
    )
    assert data["identity"]["name"] == "张三"
    assert data["identity"]["gender"] == "unspecified"
    assert data["appointments"][0]["starts_at"] == "2026-11-20T10:00:00+08:00"
    assert data["appointments"][0]["type"] == "counselling"
    assert data["cases"][0]["topics"] == ["interpersonal", "work_stress"]
    assert data["assessments"][0]["answers"] == [1, 2, 0, 1, 0, 0, 1, None, 0]
    assert data["disclosures"][0]["disclosed_on"] == "2026-11-22"
    assert data["notes"][0]["text"] is None
    assert data["waitlist"][0]["time_from"] == "13:00:00"
    assert raw == r.rights.export_json(s.world.admin, s.world.client_id)  # stable
    assert raw.startswith(b'{\n  "appointments"')  # indent 2, sorted keys
    entry = last_audit(services)
    assert (entry.action, entry.detail) == ("export_client", "json")


def test_export_sections_are_translated_rows(
    services: Services, clock: FakeClock, r: Rights
) -> None:
    from carestation.i18n import set_language

    s = seed(services, clock)
    export = r.rights.export(s.world.admin, s.world.client_id)
    sections = export.sections()
    assert [x.key for x in sections] == [
        "identity",
        "consents",
        "appointments",
        "lectures",
        "waitlist",
        "cases",
        "assessments",
        "crisis_flags",
        "disclosures",
        "notes",
    ]
    identity = dict(sections[0].entries[0])
    assert identity["Full name"] == "张三"
    assert identity["Client code"] == "ABCD-EFGH-1"
    appointments = sections[2]
    assert appointments.table[0][:4] == (
        "2026-11-20 10:00",
        "2026-11-20 10:50",
        "暨阳街道职工情绪管理服务站",
        "Individual counselling",
    )
    set_language("zh_CN")
    assert export.sections()[0].columns[:2] == ("服务对象编号", "姓名")  # follows the language


# -- erasure ------------------------------------------------------------------------------------


def ciphertexts(services: Services, s: Seeded) -> dict[str, tuple[bytes, str, str, int, int]]:
    with services.db.read() as session:
        note = session.get(m.SessionNote, s.note_id)
        case = session.get(m.Case, s.case_id)
        disclosure = session.get(m.Disclosure, s.disclosure_id)
        return {
            "note": (note.body_ciphertext, "session_note", "body", note.id, note.key_version),
            "summary": (case.summary_ciphertext, "care_case", "summary", case.id, case.key_version),
            "disclosure": (
                disclosure.detail_ciphertext,
                "disclosure",
                "detail",
                disclosure.id,
                disclosure.key_version,
            ),
        }


def open_blob(services: Services, client_id: int, item: tuple[bytes, str, str, int, int]) -> str:
    blob, table, column, row_id, version = item
    with services.db.read() as session:
        return services.vault.open(
            session, client_id, blob, table=table, column=column, row_id=row_id, key_version=version
        )


def test_erase_removes_identity_and_texts_and_keeps_the_counts(
    services: Services, clock: FakeClock, r: Rights
) -> None:
    s = seed(services, clock)
    cid = s.world.client_id
    copies = ciphertexts(services, s)
    assert open_blob(services, cid, copies["summary"]) == SUMMARY_TEXT  # readable before

    report = r.rights.erase(s.world.admin, client_id=cid, request_ref="2026-REQ-07")

    assert report.counts() == {
        "notes": 1,
        "addenda": 1,
        "case_summaries": 1,
        "crisis_texts": 1,
        "follow_up_notes": 1,
        "disclosures": 1,
        "keys": 1,
        "consents_withdrawn": 2,
        "appointments_cancelled": 1,
        "registrations_cancelled": 0,  # the lecture is over
        "waitlist_withdrawn": 1,
        "appointments_kept": 2,
        "cases_kept": 1,
        "assessments_kept": 1,
    }
    assert report.checkpointed
    assert report.erased_at == clock.now()
    with services.db.read() as session:
        client = session.get(m.Client, cid)
        assert (client.name, client.phone, client.work_unit, client.birth_year) == (
            "",
            "",
            "",
            None,
        )
        assert client.gender is Gender.UNSPECIFIED
        assert client.client_code != "ABCD-EFGH-1"
        assert client.erased_at == clock.now()
        assert session.scalar(select(func.count()).select_from(m.ClientKey)) == 0
        case = session.get(m.Case, s.case_id)
        assert case.summary_ciphertext is None
        assert (case.outcome, case.status, {t.topic for t in case.topics}) == (
            CaseOutcome.IMPROVED,
            CaseStatus.CLOSED,
            {Topic.WORK_STRESS, Topic.INTERPERSONAL},
        )
        flag = session.get(m.CrisisFlag, s.flag_id)
        assert (flag.reason_ciphertext, flag.actions_ciphertext) == (b"", None)
        assert session.get(m.CrisisFollowUp, s.follow_up_id).note_ciphertext is None
        assessment = session.get(m.Assessment, s.assessment_id)
        assert (assessment.client_id, assessment.total, assessment.band) == (cid, 5, "mild")
        future = session.get(m.Appointment, s.future_appointment)
        assert future.status is AppointmentStatus.CANCELLED
        past = session.get(m.Appointment, s.past_appointment)
        assert (past.status, past.type) == (
            AppointmentStatus.COMPLETED,
            AppointmentType.COUNSELLING,
        )
        assert all(
            c.withdrawn_at == clock.now()
            for c in session.scalars(select(m.Consent).where(m.Consent.client_id == cid))
        )
        waiting = session.scalars(select(m.WaitlistEntry).where(m.WaitlistEntry.client_id == cid))
        assert [(w.status, w.note) for w in waiting] == [(WaitlistStatus.WITHDRAWN, "")]
        # The other participant of the lecture is untouched.
        other = session.get(m.Client, s.other_client_id)
        assert (other.name, other.client_code) == (OTHER_NAME, OTHER_CODE)
    assert count(services, m.SessionNote) == 0
    assert count(services, m.NoteAddendum) == 0
    assert count(services, m.Disclosure) == 0
    assert count(services, m.Appointment, client_id=cid) == 2

    # Crypto-shredding: ciphertexts copied before the erasure can no longer be opened.
    for item in copies.values():
        with pytest.raises(KeyUnavailable):
            open_blob(services, cid, item)

    entry = last_audit(services)
    assert (entry.action, entry.object_ref, entry.username) == (
        "erase_client",
        "ABCD-EFGH-1",
        "admin",
    )
    assert entry.detail.startswith("request 2026-REQ-07; notes 1, addenda 1,")
    assert "张三" not in entry.detail


def test_erased_means_gone_for_every_service(
    services: Services, clock: FakeClock, r: Rights
) -> None:
    s = seed(services, clock)
    cid = s.world.client_id
    r.rights.erase(s.world.admin, client_id=cid, request_ref="2026-REQ-07")
    with pytest.raises(Conflict) as twice:
        r.rights.erase(s.world.admin, client_id=cid, request_ref="2026-REQ-07")
    assert str(twice.value) == (
        "This person's information was already erased on 2026-11-23; there is nothing left "
        "to erase."
    )
    with pytest.raises(Conflict):
        r.rights.export(s.world.admin, cid)
    with pytest.raises(Conflict):
        r.consent.give(
            s.world.staff,
            client_id=cid,
            purposes=frozenset({ConsentPurpose.COUNSELLING}),
            language="zh_CN",
        )
    with pytest.raises(Conflict):
        r.rights.correct(s.world.staff, client_id=cid, data=ClientInput("张三", "13800000000"))
    assert r.rights.find_for_request(s.world.admin, "张三") == []
    with pytest.raises(NotFound):
        r.rights.erase(s.world.admin, client_id=cid + 999, request_ref="x")


def test_erase_needs_a_request_reference_without_personal_data(
    services: Services, world: World, r: Rights
) -> None:
    for ref, field_message in (
        ("  ", "Enter the reference of the person's written request"),
        ("张三的申请", "must not contain the person's name or phone number"),
        ("tel 138 0000 0000", "must not contain the person's name or phone number"),
        ("x" * 65, "at most 64 characters"),
    ):
        with pytest.raises(ValidationError) as exc:
            r.rights.erase(world.admin, client_id=world.client_id, request_ref=ref)
        assert field_message in exc.value.errors["request_ref"]
    with services.db.read() as session:
        assert session.get(m.Client, world.client_id).erased_at is None


def test_erase_cancels_future_lecture_registrations(
    services: Services, world: World, r: Rights, clock: FakeClock
) -> None:
    lecture = add_appointment(
        services,
        world,
        clock.now() + timedelta(days=2),
        clock.now() + timedelta(days=2, hours=1),
        type_=AppointmentType.LECTURE,
    )
    with services.db.write() as session:
        session.add(
            m.LectureRegistration(
                appointment_id=lecture,
                client_id=world.client_id,
                status=RegistrationStatus.REGISTERED,
                registered_at=clock.now(),
            )
        )
    report = r.rights.erase(world.admin, client_id=world.client_id, request_ref="R1")
    assert report.registrations_cancelled == 1
    assert report.keys == 0  # nothing was ever encrypted for this client


# -- disclosures --------------------------------------------------------------------------------


def test_a_disclosure_is_sealed_and_read_back(
    services: Services, clock: FakeClock, r: Rights
) -> None:
    s = seed(services, clock)
    with services.db.read() as session:
        row = session.get(m.Disclosure, s.disclosure_id)
        assert "市精神卫生中心".encode() not in row.detail_ciphertext
        assert (row.recorded_by, row.station_id, row.basis) == (
            s.world.counsellor.user_id,
            s.world.station_id,
            DisclosureBasis.CONSENT,
        )
    (record,) = r.disclosures.for_client(s.world.counsellor, s.world.client_id)
    assert (record.recipient, record.what, record.why, record.recorded_by) == (
        "市精神卫生中心接诊医生",
        "风险评估结果与近期情况",
        "转介进一步评估",
        "陈静",
    )
    entry = last_audit(services)
    assert (entry.action, entry.object_ref) == ("view_disclosures", "ABCD-EFGH-1")


def test_a_disclosure_needs_who_what_why_and_a_valid_basis(
    services: Services, clock: FakeClock, r: Rights
) -> None:
    s = seed(services, clock)
    w = s.world

    def record(**kw: object) -> None:
        fields: dict[str, object] = {
            "client_id": w.client_id,
            "disclosed_on": date(2026, 11, 22),
            "recipient": "医院",
            "what": "诊断",
            "why": "转介",
            "basis": DisclosureBasis.CLIENT_REQUEST,
        }
        r.disclosures.record(w.counsellor, **{**fields, **kw})  # type: ignore[arg-type]

    with pytest.raises(ValidationError) as exc:
        record(recipient=" ", what="", why="\n")
    assert set(exc.value.errors) == {"recipient", "what", "why"}
    with pytest.raises(ValidationError) as exc:
        record(basis=DisclosureBasis.CONSENT)
    assert list(exc.value.errors) == ["consent_id"]
    with pytest.raises(ValidationError) as exc:
        record(consent_id=s.consent_id)
    assert "only when the basis is the client's consent" in exc.value.errors["consent_id"]
    with pytest.raises(ValidationError) as exc:
        record(disclosed_on=date(2026, 11, 24))
    assert list(exc.value.errors) == ["disclosed_on"]
    r.consent.withdraw(w.staff, client_id=w.client_id, purpose=ConsentPurpose.COUNSELLING)
    with pytest.raises(ValidationError) as exc:
        record(basis=DisclosureBasis.CONSENT, consent_id=s.consent_id)
    assert "not one of this client's consents in force" in exc.value.errors["consent_id"]
    with services.db.write() as session:  # the counsellor serves the other client too
        session.add(
            m.Appointment(
                station_id=w.station_id,
                client_id=s.other_client_id,
                counsellor_id=w.counsellor.user_id,
                type=AppointmentType.COUNSELLING,
                status=AppointmentStatus.COMPLETED,
                starts_at=datetime(2026, 11, 19, 2, 0, tzinfo=UTC),
                ends_at=datetime(2026, 11, 19, 2, 50, tzinfo=UTC),
                created_at=datetime(2026, 11, 19, 2, 0, tzinfo=UTC),
            )
        )
    (fresh,) = r.consent.give(
        w.staff,
        client_id=w.client_id,
        purposes=frozenset({ConsentPurpose.COUNSELLING}),
        language="zh_CN",
    )
    with pytest.raises(ValidationError) as exc:  # the consent is in force, but not theirs
        record(client_id=s.other_client_id, basis=DisclosureBasis.CONSENT, consent_id=fresh.id)
    assert list(exc.value.errors) == ["consent_id"]
    record(basis=DisclosureBasis.CONSENT, consent_id=fresh.id)
    assert count(services, m.Disclosure) == 2


def test_only_the_clients_own_counsellors_record_disclosures(
    services: Services, clock: FakeClock, r: Rights
) -> None:
    s = seed(services, clock)
    stranger = add_counsellor(services, s.world, "c003", "周敏", CounsellorKind.EXPERT)
    with pytest.raises(PermissionDenied):
        r.disclosures.for_client(stranger, s.world.client_id)
    entry = last_audit(services)
    assert (entry.action, entry.result, entry.username) == ("view_disclosures", "denied", "c003")
    with pytest.raises(PermissionDenied):
        r.disclosures.record(
            stranger,
            client_id=s.world.client_id,
            disclosed_on=date(2026, 11, 22),
            recipient="单位领导",
            what="咨询情况",
            why="单位询问",
            basis=DisclosureBasis.CLIENT_REQUEST,
        )
    assert count(services, m.Disclosure) == 1
    # The station's supervisor is one of the client's counsellors.
    with services.db.write() as session:
        session.get(m.Station, s.world.station_id).supervisor_id = stranger.user_id
    assert len(r.disclosures.for_client(stranger, s.world.client_id)) == 1
