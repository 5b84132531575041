"""Session notes: who may read and write them, drafts with versions, signing and co-signing,
addenda that never touch the signed text, and audit entries without any text."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
from sqlalchemy import func, select, update

from carestation.db import models as m
from carestation.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from carestation.domain.records import Addendum, Note, NoteHeader
from carestation.domain.values import Actor
from carestation.domain.vocab import (
    AppointmentStatus,
    AppointmentType,
    CaseOutcome,
    CaseStatus,
    CounsellorKind,
    NoteStatus,
    NoteTemplate,
    RiskLevel,
    Topic,
)
from carestation.security import crypto
from carestation.services.consent_rules import ConsentMissing
from carestation.services.container import Services
from carestation.services.notes import NoteService, may_see_item_answers
from tests.conftest import FakeClock
from tests.factories import add_appointment, add_counsellor
from tests.unit.test_cases import (
    CLIENT_NAME,
    NOTE_TEXT,
    ROLE_NAMES,
    T0,
    Scene,
    assert_denied,
    assert_no_secrets_in_audit,
    audit_since,
    build_scene,
    last_audit_id,
)

SOAP = {
    "subjective": "主诉：近一个月失眠，易怒。",
    "objective": "语速快，坐立不安。",
    "assessment": "工作压力相关的情绪困扰。",
    "plan": "每周一次，教授呼吸放松。",
}


@pytest.fixture
def scene(services: Services, clock: FakeClock) -> Scene:
    return build_scene(services, clock)


def _draft(scene: Scene, appointment: int | None = None, **sections: str) -> Note:
    return scene.notes.save_draft(
        scene.reg,
        appointment_id=appointment or scene.spare_appointment,
        template=NoteTemplate.SOAP,
        sections=sections or SOAP,
        expected_version=None,
    )


def _raw_note(scene: Scene, note_id: int) -> m.SessionNote:
    with scene.services.db.read() as session:
        return session.get_one(m.SessionNote, note_id)


def _count(scene: Scene, action: str, result: str = "ok") -> int:
    with scene.services.db.read() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(m.AuditEvent)
                .where(m.AuditEvent.action == action, m.AuditEvent.result == result)
            )
            or 0
        )


# -- the role matrix -------------------------------------------------------------------------------

# The scene's note: written by the regulator (the case's counsellor), signed, awaiting the
# co-signature of the expert it names. `counsellor` is its author.
NOTE_OPERATIONS: dict[str, tuple[str, set[str]]] = {
    "get_note": ("view_note", {"counsellor", "supervisor", "cosigner"}),
    "note_for_appointment": ("view_note", {"counsellor", "supervisor", "cosigner"}),
    "add_addendum": ("add_addendum", {"counsellor", "supervisor", "cosigner"}),
    "cosign": ("cosign_note", {"cosigner"}),
    "return_for_changes": ("return_note", {"cosigner"}),
    "notes_for_case": ("list_case_notes", {"counsellor", "supervisor", "cosigner"}),
    "cosign_queue": ("view_cosign_queue", {"other", "counsellor", "supervisor", "cosigner"}),
    # On a second note, still a draft:
    "save_draft": ("save_note", {"counsellor"}),
    "sign": ("sign_note", {"counsellor"}),
}


def _note_call(scene: Scene, operation: str, actor: Actor, draft: Note | None) -> object:
    notes = scene.notes
    if operation == "get_note":
        return notes.get_note(actor, scene.note_id)
    if operation == "note_for_appointment":
        return notes.note_for_appointment(actor, scene.first_appointment)
    if operation == "add_addendum":
        return notes.add_addendum(actor, scene.note_id, f"{actor.username} 的补充")
    if operation == "cosign":
        return notes.cosign(actor, scene.note_id)
    if operation == "return_for_changes":
        return notes.return_for_changes(actor, scene.note_id, "请补充计划部分")
    if operation == "notes_for_case":
        return notes.notes_for_case(actor, scene.case_id)
    if operation == "cosign_queue":
        return notes.cosign_queue(actor)
    assert draft is not None
    if operation == "save_draft":
        return notes.save_draft(
            actor,
            appointment_id=draft.appointment_id,
            template=NoteTemplate.SOAP,
            sections={**SOAP, "plan": "改写"},
            expected_version=scene.note_version(draft.id),
        )
    if operation == "sign":
        return notes.sign(actor, draft.id, expected_version=scene.note_version(draft.id))
    raise AssertionError(operation)


@pytest.mark.parametrize("operation", sorted(NOTE_OPERATIONS))
def test_note_role_matrix(scene: Scene, operation: str) -> None:
    action, allowed = NOTE_OPERATIONS[operation]
    draft = _draft(scene) if operation in ("save_draft", "sign") else None
    body_before = _raw_note(scene, scene.note_id).body_ciphertext
    for name in ROLE_NAMES:
        if name not in allowed:
            actor = scene.role(name)
            assert_denied(
                scene.services,
                actor,
                action,
                partial(_note_call, scene, operation, actor, draft),
            )
    for name in ROLE_NAMES:
        if name in allowed:
            before = last_audit_id(scene.services)
            _note_call(scene, operation, scene.role(name), draft)
            if action == "view_note":
                rows = audit_since(scene.services, before)
                assert [(r.username, r.action, r.object_ref, r.result) for r in rows] == [
                    (scene.role(name).username, "view_note", "ABCD-EFGH-1", "ok")
                ]
    if operation != "return_for_changes":
        assert _raw_note(scene, scene.note_id).body_ciphertext == body_before
    assert_no_secrets_in_audit(scene.services, NOTE_TEXT, *SOAP.values(), "请补充计划部分", "补充")


def test_readers_get_the_text_and_others_get_nothing(scene: Scene) -> None:
    for reader in (scene.reg, scene.sup, scene.cos):
        note = scene.notes.get_note(reader, scene.note_id)
        assert note.sections == {"text": NOTE_TEXT}
        assert (note.client_code, note.author_name, note.cosigner_name) == (
            "ABCD-EFGH-1",
            "刘调节",
            "周专家",
        )
        assert CLIENT_NAME not in repr(note)
    for name in ("staff", "manager", "admin", "other"):
        with pytest.raises(PermissionDenied) as exc:
            scene.notes.get_note(scene.role(name), scene.note_id)
        assert NOTE_TEXT not in str(exc.value)
    # A mentor at the same station is just another counsellor here.
    with pytest.raises(PermissionDenied):
        scene.notes.get_note(scene.mentor, scene.note_id)


def test_note_for_appointment_without_a_note(scene: Scene) -> None:
    assert scene.notes.note_for_appointment(scene.reg, scene.spare_appointment) is None
    assert scene.notes.note_for_appointment(scene.sup, scene.spare_appointment) is None
    assert_denied(
        scene.services,
        scene.other,
        "view_note",
        lambda: scene.notes.note_for_appointment(scene.other, scene.spare_appointment),
    )
    with pytest.raises(NotFound):
        scene.notes.note_for_appointment(scene.reg, 999_999)


# -- drafts ----------------------------------------------------------------------------------------


def test_create_update_and_stale_draft(scene: Scene) -> None:
    before = last_audit_id(scene.services)
    created = _draft(scene, subjective="初稿")
    assert (created.status, created.version, created.template) == (
        NoteStatus.DRAFT,
        1,
        NoteTemplate.SOAP,
    )
    assert created.sections == {"subjective": "初稿", "objective": "", "assessment": "", "plan": ""}
    assert created.case_id == scene.case_id  # the counsellor's open case for the client
    second = scene.notes.save_draft(
        scene.reg,
        appointment_id=scene.spare_appointment,
        template=NoteTemplate.SOAP,
        sections=SOAP,
        expected_version=1,
    )
    assert (second.id, second.version) == (created.id, 2)
    for _ in range(5):  # autosave
        second = scene.notes.save_draft(
            scene.reg,
            appointment_id=scene.spare_appointment,
            template=NoteTemplate.SOAP,
            sections=SOAP,
            expected_version=second.version,
        )
    assert second.version == 7
    # One entry for the creation; none for the autosaves.
    assert [r.action for r in audit_since(scene.services, before)] == ["create_note"]
    with pytest.raises(Conflict, match="changed in another window"):
        scene.notes.save_draft(
            scene.reg,
            appointment_id=scene.spare_appointment,
            template=NoteTemplate.SOAP,
            sections={"subjective": "旧窗口的文字"},
            expected_version=3,
        )
    with pytest.raises(Conflict, match="already has a note, perhaps opened in another window"):
        _draft(scene, subjective="第二个窗口")
    assert scene.notes.get_note(scene.reg, created.id).sections == SOAP
    assert _raw_note(scene, created.id).version == 7


def test_template_sections_are_checked(scene: Scene) -> None:
    with pytest.raises(ValidationError) as exc:
        scene.notes.save_draft(
            scene.reg,
            appointment_id=scene.spare_appointment,
            template=NoteTemplate.DAP,
            sections={"subjective": "x"},
            expected_version=None,
        )
    assert "no section called subjective" in exc.value.errors["sections"]
    dap = scene.notes.save_draft(
        scene.reg,
        appointment_id=scene.spare_appointment,
        template=NoteTemplate.DAP,
        sections={"data": "数据", "plan": "计划"},
        expected_version=None,
    )
    assert list(dap.sections) == ["data", "assessment", "plan"]
    assert scene.notes.get_note(scene.reg, dap.id).sections == {
        "data": "数据",
        "assessment": "",
        "plan": "计划",
    }
    with pytest.raises(ValidationError):
        scene.notes.save_draft(
            scene.reg,
            appointment_id=scene.spare_appointment,
            template=NoteTemplate.DAP,
            sections={"data": "x" * 20_001},
            expected_version=dap.version,
        )


def test_text_is_kept_exactly(scene: Scene) -> None:
    odd = {"text": "  前后空格 \r\n第二行\t制表符 😀 \\ \" ' <b>  "}
    note = scene.notes.save_draft(
        scene.reg,
        appointment_id=scene.spare_appointment,
        template=NoteTemplate.FREE,
        sections=odd,
        expected_version=None,
    )
    assert scene.notes.get_note(scene.reg, note.id).sections == odd


def test_only_the_appointments_counsellor_writes_its_note(scene: Scene) -> None:
    # The supervisor may read the regulator's notes, but not write one for their session.
    assert_denied(
        scene.services,
        scene.sup,
        "save_note",
        lambda: scene.notes.save_draft(
            scene.sup,
            appointment_id=scene.spare_appointment,
            template=NoteTemplate.FREE,
            sections={"text": "x"},
            expected_version=None,
        ),
    )
    assert scene.notes.note_for_appointment(scene.reg, scene.spare_appointment) is None


def test_draft_needs_counselling_consent(scene: Scene) -> None:
    note = _draft(scene)
    with scene.services.db.write() as session:
        session.execute(
            update(m.Consent)
            .where(m.Consent.client_id == scene.world.client_id)
            .values(withdrawn_at=scene.clock.now())
        )
    with pytest.raises(ConsentMissing, match="Take the client's consent first"):
        scene.notes.save_draft(
            scene.reg,
            appointment_id=scene.spare_appointment,
            template=NoteTemplate.SOAP,
            sections={"plan": "x"},
            expected_version=note.version,
        )
    assert _raw_note(scene, note.id).version == note.version


def test_draft_needs_a_case(scene: Scene) -> None:
    # c001 has no case for this client: the note has nowhere to go.
    own = scene.appointment(T0 + timedelta(days=5), scene.other)
    with pytest.raises(Conflict, match=r"no open case with you\. Open a case"):
        scene.notes.save_draft(
            scene.other,
            appointment_id=own,
            template=NoteTemplate.FREE,
            sections={"text": "x"},
            expected_version=None,
        )
    with scene.services.db.read() as session:
        assert session.scalar(select(func.count()).select_from(m.SessionNote)) == 1
    # Naming another counsellor's case is refused; their own case works and links the session.
    with pytest.raises(Conflict, match="followed by another counsellor"):
        scene.notes.save_draft(
            scene.other,
            appointment_id=own,
            template=NoteTemplate.FREE,
            sections={"text": "x"},
            expected_version=None,
            case_id=scene.case_id,
        )
    case = scene.cases.open_case(
        scene.other,
        client_id=scene.world.client_id,
        topics={Topic.EMOTION_REGULATION},
        risk_level=RiskLevel.LOW,
    )
    note = scene.notes.save_draft(
        scene.other,
        appointment_id=own,
        template=NoteTemplate.FREE,
        sections={"text": "x"},
        expected_version=None,
        case_id=case.id,
    )
    assert note.case_id == case.id
    with scene.services.db.read() as session:
        assert session.get_one(m.Appointment, own).case_id == case.id


def test_no_note_for_a_cancelled_session_or_one_without_client(scene: Scene) -> None:
    cancelled = scene.appointment(T0 + timedelta(days=6), status=AppointmentStatus.CANCELLED)
    with pytest.raises(Conflict, match="cancelled"):
        _draft(scene, cancelled)
    pod = add_appointment(
        scene.services,
        scene.world,
        T0 + timedelta(days=7),
        T0 + timedelta(days=7, minutes=15),
        type_=AppointmentType.POD,
        counsellor_id=scene.reg.user_id,
    )
    with scene.services.db.write() as session:
        session.get_one(m.Appointment, pod).client_id = None
    with pytest.raises(Conflict, match="has no client"):
        _draft(scene, pod)


# -- signing ---------------------------------------------------------------------------------------


def test_empty_note_cannot_be_signed(scene: Scene) -> None:
    note = _draft(scene, subjective="   ", plan="\n\t")
    with pytest.raises(ValidationError) as exc:
        scene.notes.sign(scene.reg, note.id, expected_version=note.version)
    assert set(exc.value.errors) == {"body"}
    assert "Nothing is written in this note yet" in exc.value.errors["body"]
    assert _raw_note(scene, note.id).status is NoteStatus.DRAFT


def test_expert_signs_alone_and_the_note_is_locked(scene: Scene) -> None:
    own = scene.appointment(T0 + timedelta(days=5), scene.other)
    case = scene.cases.open_case(
        scene.other,
        client_id=scene.world.client_id,
        topics={Topic.CAREER},
        risk_level=RiskLevel.LOW,
    )
    note = scene.notes.save_draft(
        scene.other,
        appointment_id=own,
        template=NoteTemplate.SOAP,
        sections=SOAP,
        expected_version=None,
        case_id=case.id,
    )
    scene.clock.advance(minutes=30)
    before = last_audit_id(scene.services)
    signed = scene.notes.sign(scene.other, note.id, expected_version=note.version)
    assert (signed.status, signed.signed_at, signed.cosigner_id, signed.version) == (
        NoteStatus.FINAL,
        scene.clock.now(),
        None,
        2,
    )
    assert signed.sections == SOAP
    assert [(r.action, r.detail) for r in audit_since(scene.services, before)] == [
        ("sign_note", "final")
    ]
    body = _raw_note(scene, note.id).body_ciphertext
    with pytest.raises(Conflict, match=r"signed and can no longer be changed\. Add an addendum"):
        scene.notes.save_draft(
            scene.other,
            appointment_id=own,
            template=NoteTemplate.SOAP,
            sections={"plan": "签名后改写"},
            expected_version=signed.version,
        )
    with pytest.raises(Conflict, match="already signed"):
        scene.notes.sign(scene.other, note.id, expected_version=signed.version)
    assert _raw_note(scene, note.id).body_ciphertext == body
    assert scene.notes.cosign_queue(scene.sup) == []


def test_stale_sign_is_refused(scene: Scene) -> None:
    note = _draft(scene)
    with pytest.raises(Conflict, match="another window"):
        scene.notes.sign(scene.reg, note.id, expected_version=note.version + 1)


def test_regulator_needs_an_expert_cosigner_by_default_the_supervisor(scene: Scene) -> None:
    note = _draft(scene)
    signed = scene.notes.sign(scene.reg, note.id, expected_version=note.version)
    assert (signed.status, signed.cosigner_id, signed.cosigner_name) == (
        NoteStatus.AWAITING_COSIGN,
        scene.sup.user_id,
        "孙督导",
    )
    queue = scene.notes.cosign_queue(scene.sup)
    assert [h.id for h in queue] == [note.id]
    header = queue[0]
    assert isinstance(header, NoteHeader)
    assert (header.client_code, header.author_name, header.waiting_since) == (
        "ABCD-EFGH-1",
        "刘调节",
        scene.clock.now(),
    )
    assert header.appointment_starts_at == T0 + timedelta(days=1)
    text = repr(queue)
    assert CLIENT_NAME not in text
    for section in SOAP.values():
        assert section not in text


def test_regulator_without_an_expert_supervisor_must_choose(scene: Scene) -> None:
    with scene.services.db.write() as session:
        session.get_one(m.Station, scene.world.station_id).supervisor_id = scene.mentor.user_id
    note = _draft(scene)
    with pytest.raises(ValidationError) as exc:
        scene.notes.sign(scene.reg, note.id, expected_version=note.version)
    assert set(exc.value.errors) == {"cosigner_id"}
    assert "Choose the expert who will co-sign it" in exc.value.errors["cosigner_id"]
    assert _raw_note(scene, note.id).status is NoteStatus.DRAFT
    # Neither the author, nor a mentor, nor an expert of another station may co-sign.
    elsewhere = add_counsellor(
        scene.services,
        scene.world,
        "exp09",
        "钱专家",
        CounsellorKind.EXPERT,
        {scene.world.other_station_id},
    )
    for bad in (scene.reg, scene.mentor, elsewhere, scene.world.staff):
        with pytest.raises(ValidationError) as exc:
            scene.notes.sign(
                scene.reg, note.id, expected_version=note.version, cosigner_id=bad.user_id
            )
        assert set(exc.value.errors) == {"cosigner_id"}
    choices = scene.notes.cosigner_choices(scene.reg, note.id)
    # The experts of the station (not the mentor-supervisor, the author, or the other station's).
    assert {c.display_name for c in choices} == {"陈静", "周专家", "孙督导"}
    signed = scene.notes.sign(
        scene.reg, note.id, expected_version=note.version, cosigner_id=scene.cos.user_id
    )
    assert signed.status is NoteStatus.AWAITING_COSIGN
    assert [h.id for h in scene.notes.cosign_queue(scene.cos)] == [scene.note_id, note.id]


def test_mentor_needs_a_cosigner_too(scene: Scene) -> None:
    appointment = scene.appointment(T0 + timedelta(days=5), scene.mentor)
    case = scene.cases.open_case(
        scene.mentor,
        client_id=scene.world.client_id,
        topics={Topic.WORK_STRESS},
        risk_level=RiskLevel.LOW,
    )
    note = scene.notes.save_draft(
        scene.mentor,
        appointment_id=appointment,
        template=NoteTemplate.FREE,
        sections={"text": "导师记录"},
        expected_version=None,
        case_id=case.id,
    )
    signed = scene.notes.sign(scene.mentor, note.id, expected_version=note.version)
    assert (signed.status, signed.cosigner_id) == (NoteStatus.AWAITING_COSIGN, scene.sup.user_id)


def test_cosign_makes_it_final(scene: Scene) -> None:
    assert [h.id for h in scene.notes.cosign_queue(scene.cos)] == [scene.note_id]
    scene.clock.advance(hours=2)
    before = last_audit_id(scene.services)
    header = scene.notes.cosign(scene.cos, scene.note_id)
    assert (header.status, header.cosigned_at, header.cosigner_name) == (
        NoteStatus.FINAL,
        scene.clock.now(),
        "周专家",
    )
    assert [(r.action, r.username, r.object_ref) for r in audit_since(scene.services, before)] == [
        ("cosign_note", "cos01", "ABCD-EFGH-1")
    ]
    assert scene.notes.cosign_queue(scene.cos) == []
    with pytest.raises(Conflict, match="not waiting for a co-signature"):
        scene.notes.cosign(scene.cos, scene.note_id)
    note = scene.notes.get_note(scene.reg, scene.note_id)
    assert (note.status, note.sections) == (NoteStatus.FINAL, {"text": NOTE_TEXT})


def test_return_for_changes_then_sign_again(scene: Scene) -> None:
    header = scene.notes.return_for_changes(scene.cos, scene.note_id, "请补充风险评估")
    assert (header.status, header.signed_at, header.addenda_count) == (NoteStatus.DRAFT, None, 1)
    assert scene.notes.cosign_queue(scene.cos) == []
    note = scene.notes.get_note(scene.reg, scene.note_id)
    assert [(a.author_name, a.text) for a in note.addenda] == [("周专家", "请补充风险评估")]
    with pytest.raises(ValidationError, match="Say what the author should change"):
        scene.notes.return_for_changes(scene.cos, scene.note_id, " ")
    edited = scene.notes.save_draft(
        scene.reg,
        appointment_id=scene.first_appointment,
        template=NoteTemplate.FREE,
        sections={"text": NOTE_TEXT + " 风险低。"},
        expected_version=note.version,
    )
    signed = scene.notes.sign(scene.reg, edited.id, expected_version=edited.version)
    assert (signed.status, signed.cosigner_id) == (NoteStatus.AWAITING_COSIGN, scene.cos.user_id)
    final = scene.notes.cosign(scene.cos, scene.note_id)
    assert final.status is NoteStatus.FINAL


# -- addenda ---------------------------------------------------------------------------------------


def test_addendum_keeps_the_signed_text_byte_for_byte(scene: Scene) -> None:
    before = _raw_note(scene, scene.note_id)
    scene.clock.advance(days=1)
    added = scene.notes.add_addendum(scene.reg, scene.note_id, "补充：第二天电话随访，情况稳定。")
    assert isinstance(added, Addendum)
    assert (added.created_at, added.author_name) == (scene.clock.now(), "刘调节")
    scene.clock.advance(hours=1)
    scene.notes.add_addendum(scene.sup, scene.note_id, "督导意见：同意。")
    after = _raw_note(scene, scene.note_id)
    assert (after.body_ciphertext, after.key_version, after.version, after.updated_at) == (
        before.body_ciphertext,
        before.key_version,
        before.version,
        before.updated_at,
    )
    note = scene.notes.get_note(scene.cos, scene.note_id)
    assert note.sections == {"text": NOTE_TEXT}
    assert [(a.author_name, a.text) for a in note.addenda] == [
        ("刘调节", "补充：第二天电话随访，情况稳定。"),
        ("孙督导", "督导意见：同意。"),
    ]
    with scene.services.db.read() as session:
        for blob in session.scalars(select(m.NoteAddendum.body_ciphertext)):
            assert "补充".encode() not in blob


def test_addendum_rules(scene: Scene) -> None:
    with pytest.raises(ValidationError) as exc:
        scene.notes.add_addendum(scene.reg, scene.note_id, "  \n")
    assert set(exc.value.errors) == {"text"}
    draft = _draft(scene)
    with pytest.raises(Conflict, match="still a draft"):
        scene.notes.add_addendum(scene.reg, draft.id, "补充")
    with pytest.raises(NotFound):
        scene.notes.add_addendum(scene.reg, 999_999, "补充")


# -- lists -----------------------------------------------------------------------------------------


def test_notes_for_case_are_headers_in_session_order(scene: Scene) -> None:
    second = _draft(scene)
    headers = scene.notes.notes_for_case(scene.sup, scene.case_id)
    assert [(h.id, h.status) for h in headers] == [
        (scene.note_id, NoteStatus.AWAITING_COSIGN),
        (second.id, NoteStatus.DRAFT),
    ]
    text = repr(headers)
    for secret in (NOTE_TEXT, *SOAP.values(), CLIENT_NAME):
        assert secret not in text


def test_case_close_leaves_notes_readable(scene: Scene) -> None:
    scene.cases.close_case(
        scene.reg,
        scene.case_id,
        outcome=CaseOutcome.IMPROVED,
        summary="结案",
        expected_version=scene.case_version(),
    )
    assert scene.cases.get_case(scene.reg, scene.case_id).case.status is CaseStatus.CLOSED
    assert scene.notes.get_note(scene.reg, scene.note_id).sections == {"text": NOTE_TEXT}


def test_failures_to_open_are_audited_and_never_show_text(scene: Scene) -> None:
    """A damaged ciphertext: a clear error, a "failed" entry, nothing overwritten."""
    with scene.services.db.write() as session:
        row = session.get_one(m.SessionNote, scene.note_id)
        damaged = bytearray(row.body_ciphertext)
        damaged[-1] ^= 0x01
        row.body_ciphertext = bytes(damaged)
    before = last_audit_id(scene.services)
    with pytest.raises(crypto.TamperedCiphertext, match="failed its integrity check") as exc:
        scene.notes.get_note(scene.reg, scene.note_id)
    assert NOTE_TEXT not in str(exc.value)
    assert [
        (r.action, r.result, r.object_ref, r.detail) for r in audit_since(scene.services, before)
    ] == [("view_note", "failed", "ABCD-EFGH-1", "TamperedCiphertext")]
    assert _raw_note(scene, scene.note_id).body_ciphertext == bytes(damaged)
    assert _count(scene, "view_note") == 0


def test_item_answers_helper_is_shared(scene: Scene) -> None:
    with scene.services.db.read() as session:
        assert not may_see_item_answers(session, scene.mentor)
        assert may_see_item_answers(session, scene.cos)


def test_service_holds_its_vault(services: Services, clock: FakeClock) -> None:
    notes = NoteService(services.db, services.audit, clock, services.vault)
    assert notes.vault is services.vault
