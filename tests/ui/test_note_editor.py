"""The session-note editor, driven as counsellors would on real SQLite: autosave as they type, a
failed save that keeps every word, signing, co-signing from the queue, addenda, read-only readers."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QDialog, QLabel, QPlainTextEdit, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from carestation.db import models as m
from carestation.domain.errors import DatabaseUnavailable
from carestation.domain.records import Note
from carestation.domain.values import Actor
from carestation.domain.vocab import (
    AppointmentStatus,
    CounsellorKind,
    NoteStatus,
    NoteTemplate,
    RiskLevel,
    Topic,
)
from carestation.services.container import Services
from carestation.ui.appointment_dialog import AppointmentDialog
from carestation.ui.case_window import close_record_windows
from carestation.ui.note_editor import AddendumDialog, NoteEditor, ReturnDialog, SignDialog
from carestation.ui.prompts import RecordingPrompter
from carestation.ui.views.cases_view import CosignQueueView
from tests.conftest import FakeClock
from tests.factories import World, add_appointment, add_counsellor, build_world, give_consent
from tests.ui.typing import type_text

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai; the clock says 10:00
CLIENT_NAME = "张三"
CODE = "ABCD-EFGH-1"
TEXT = "来访者诉工作压力大，睡眠差"
D = TypeVar("D", bound=QDialog)


@dataclass
class Env:
    """A station whose supervisor is an expert (孙督导), an emotion regulator (刘调节) with an open
    case for the client and a completed session in it, another expert (周专家), and the world's
    expert counsellor (陈静) with a case and a session of their own."""

    services: Services
    world: World
    clock: FakeClock
    prompter: RecordingPrompter
    reg: Actor
    sup: Actor
    cos: Actor
    case_id: int
    appointment_id: int
    expert_case_id: int
    expert_appointment_id: int

    @property
    def expert(self) -> Actor:
        return self.world.counsellor

    def editor(
        self,
        qtbot: QtBot,
        actor: Actor,
        appointment_id: int | None = None,
        parent: QWidget | None = None,
    ) -> NoteEditor:
        editor = NoteEditor(
            self.services,
            actor,
            self.prompter,
            appointment_id=appointment_id or self.appointment_id,
            parent=parent,
        )
        if parent is None:
            qtbot.addWidget(editor)
        editor.show()
        qtbot.waitExposed(editor)
        return editor

    def stored(self, actor: Actor | None = None, appointment_id: int | None = None) -> Note:
        """The note as the service gives it to `actor` (the regulator by default)."""
        note = self.services.notes.note_for_appointment(
            actor or self.reg, appointment_id or self.appointment_id
        )
        assert note is not None, "no note saved yet"
        return note

    def nothing_stored(self) -> bool:
        return self.services.notes.note_for_appointment(self.reg, self.appointment_id) is None


def session(services: Services, world: World, counsellor: Actor, start: datetime) -> int:
    return add_appointment(
        services,
        world,
        start,
        start + timedelta(minutes=50),
        status=AppointmentStatus.COMPLETED,
        counsellor_id=counsellor.user_id,
    )


def build_env(services: Services, clock: FakeClock) -> Env:
    world = build_world(services)
    reg = add_counsellor(services, world, "reg01", "刘调节", CounsellorKind.REGULATOR)
    sup = add_counsellor(services, world, "sup01", "孙督导", CounsellorKind.EXPERT)
    cos = add_counsellor(services, world, "cos01", "周专家", CounsellorKind.EXPERT)
    with services.db.write() as s:
        s.get_one(m.Station, world.station_id).supervisor_id = sup.user_id
    give_consent(services, world)
    cases = services.cases
    case = cases.open_case(
        reg, client_id=world.client_id, topics={Topic.WORK_STRESS}, risk_level=RiskLevel.LOW
    )
    appointment_id = session(services, world, reg, T0)
    cases.attach_appointment(reg, case.id, appointment_id)
    expert_case = cases.open_case(
        world.counsellor,
        client_id=world.client_id,
        topics={Topic.INTERPERSONAL},
        risk_level=RiskLevel.MEDIUM,
    )
    expert_appointment = session(services, world, world.counsellor, T0 - timedelta(days=1))
    cases.attach_appointment(world.counsellor, expert_case.id, expert_appointment)
    return Env(
        services,
        world,
        clock,
        RecordingPrompter(),
        reg,
        sup,
        cos,
        case.id,
        appointment_id,
        expert_case.id,
        expert_appointment,
    )


@pytest.fixture
def env(sqlite_services: Services, clock: FakeClock) -> Env:
    return build_env(sqlite_services, clock)


def the_dialog(parent: QWidget, kind: type[D]) -> D:
    dialogs = [d for d in parent.findChildren(kind) if d.isVisible()]
    assert len(dialogs) == 1, dialogs
    return dialogs[0]


def button(parent: QWidget, name: str) -> QPushButton:
    found = parent.findChild(QPushButton, name)
    assert found is not None, name
    return found


def visible_buttons(editor: NoteEditor) -> list[str]:
    return [b.objectName() for b in editor._action_buttons() if b.isVisibleTo(editor)]


def error_text(dialog: QDialog, key: str) -> str:
    label = dialog.findChild(QLabel, f"error_{key}")
    assert label is not None, key
    return label.text() if label.isVisibleTo(dialog) else ""


def append(qtbot: QtBot, edit: QPlainTextEdit, text: str) -> None:
    """Types at the end of what is there, as a counsellor carrying on would."""
    edit.moveCursor(QTextCursor.MoveOperation.End)
    type_text(qtbot, edit, text)


def choose_template(editor: NoteEditor, template: NoteTemplate) -> None:
    editor.template_combo.setCurrentIndex(editor.template_combo.findData(template.value))


# --- writing and autosave -------------------------------------------------------------------------
def test_typing_saves_the_draft_by_itself_once_typing_pauses(qtbot: QtBot, env: Env) -> None:
    editor = env.editor(qtbot, env.reg)
    assert editor.windowTitle() == "Session note"  # never the client's name
    assert editor.session_label.text() == f"2026-11-23 09:00 · client code {CODE}"
    assert CLIENT_NAME not in editor.session_label.text()
    assert editor.status_label.text() == "New note: nothing is saved until you start writing."
    assert list(editor.section_edits) == ["subjective", "objective", "assessment", "plan"]
    assert editor.findChild(QLabel, "title_subjective").text() == (
        "Subjective (what the client reports)"
    )
    assert editor.section_edits["plan"].accessibleName() == "Plan"
    assert visible_buttons(editor) == ["save_now", "sign_note"]
    assert "Ctrl+S" in editor.save_button.toolTip()
    assert env.nothing_stored()

    editor.autosave_timer.setInterval(30)  # the real pause is 2 seconds
    type_text(qtbot, editor.section_edits["subjective"], TEXT)
    assert editor.dirty
    assert editor.autosave_timer.isActive()
    assert editor.periodic_timer.isActive()
    qtbot.waitUntil(lambda: not editor.dirty, timeout=3000)
    assert editor.save_status.text() == "Draft saved 10:00:00"
    saved = env.stored()
    assert saved is not None
    assert saved.template is NoteTemplate.SOAP
    assert saved.sections["subjective"] == TEXT
    assert saved.status is NoteStatus.DRAFT
    assert editor.status_label.text() == "Draft by 刘调节"

    # Typing on: every key restarts the pause, but the periodic save is not pushed back.
    editor.autosave_timer.setInterval(2000)
    type_text(qtbot, editor.section_edits["plan"], "one")
    periodic_left = editor.periodic_timer.remainingTime()
    qtbot.wait(40)
    type_text(qtbot, editor.section_edits["plan"], " two")
    assert editor.autosave_timer.remainingTime() > 1800
    assert 0 < editor.periodic_timer.remainingTime() < periodic_left
    env.clock.advance(seconds=7)
    editor.periodic_timer.timeout.emit()  # ten seconds of continuous typing
    assert editor.save_status.text() == "Draft saved 10:00:07"
    assert env.stored().sections["plan"] == "one two"
    assert env.stored().version == saved.version + 1

    # "Save now" (Ctrl+S) saves at once.
    type_text(qtbot, editor.section_edits["objective"], "x")
    assert editor.save_button.shortcut().toString() == "Ctrl+S"
    editor.save_button.click()
    assert not editor.dirty
    assert env.stored().sections["objective"] == "x"


def test_nothing_typed_creates_no_note(qtbot: QtBot, env: Env) -> None:
    editor = env.editor(qtbot, env.reg)
    assert editor.flush() is True
    editor.close()
    assert env.nothing_stored()


def test_a_failed_save_keeps_the_text_and_says_why(
    qtbot: QtBot, env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor = env.editor(qtbot, env.reg)
    choose_template(editor, NoteTemplate.FREE)
    lost = "The database cannot be reached. Check the network connection."

    def unavailable(*_args: object, **_kwargs: object) -> None:
        raise DatabaseUnavailable(lost)

    monkeypatch.setattr(env.services.notes, "save_draft", unavailable)
    type_text(qtbot, editor.section_edits["text"], TEXT)
    editor.autosave_timer.timeout.emit()
    assert editor.section_edits["text"].toPlainText() == TEXT
    assert editor.dirty
    assert editor.save_status.text() == f"Not saved: {lost} What you typed is still here."
    assert editor.save_status.property("tone") == "error"
    assert editor.periodic_timer.isActive()  # tries again by itself
    assert editor.flush() is False

    # Closing now asks; "No" keeps the window and the text.
    env.prompter.answer = False
    editor.reject()
    assert editor.isVisible()
    assert env.prompter.shown[-1][1] == "Close the note"
    assert lost in env.prompter.shown[-1][2]
    assert editor.section_edits["text"].toPlainText() == TEXT

    monkeypatch.undo()
    editor.periodic_timer.timeout.emit()
    assert not editor.dirty
    assert editor.save_status.text() == "Draft saved 10:00:00"
    assert env.stored().sections == {"text": TEXT}


def test_a_save_from_a_stale_window_is_refused_and_keeps_the_text(qtbot: QtBot, env: Env) -> None:
    first = env.editor(qtbot, env.reg)
    choose_template(first, NoteTemplate.FREE)
    type_text(qtbot, first.section_edits["text"], "first")
    assert first.save_now()
    second = env.editor(qtbot, env.reg)  # the same note in another window
    assert second.section_edits["text"].toPlainText() == "first"
    append(qtbot, first.section_edits["text"], " and more")
    assert first.save_now()

    append(qtbot, second.section_edits["text"], " typed elsewhere")
    assert second.save_now() is False
    assert second.section_edits["text"].toPlainText() == "first typed elsewhere"
    assert "changed in another window" in second.save_status.text()
    assert env.stored().sections["text"] == "first and more"


def test_changing_the_template_asks_and_keeps_sections_of_the_same_name(
    qtbot: QtBot, env: Env
) -> None:
    editor = env.editor(qtbot, env.reg)
    choose_template(editor, NoteTemplate.DAP)  # nothing written: no question
    assert env.prompter.shown == []
    assert list(editor.section_edits) == ["data", "assessment", "plan"]
    choose_template(editor, NoteTemplate.SOAP)
    type_text(qtbot, editor.section_edits["subjective"], "说")
    type_text(qtbot, editor.section_edits["assessment"], "评估")
    type_text(qtbot, editor.section_edits["plan"], "计划")

    env.prompter.answer = False
    choose_template(editor, NoteTemplate.DAP)
    kind, title, question = env.prompter.shown[-1]
    assert (kind, title) == ("confirm", "Change the template")
    assert question.startswith("Change the note to the DAP (data, assessment, plan) template?")
    assert "Subjective (what the client reports)" in question
    assert editor.template is NoteTemplate.SOAP
    assert editor.template_combo.currentData() == "soap"
    assert editor.texts()["subjective"] == "说"

    env.prompter.answer = True
    choose_template(editor, NoteTemplate.DAP)
    assert editor.texts() == {"data": "", "assessment": "评估", "plan": "计划"}
    assert editor.save_now()
    saved = env.stored()
    assert saved.template is NoteTemplate.DAP
    assert dict(saved.sections) == {"data": "", "assessment": "评估", "plan": "计划"}


# --- signing and addenda --------------------------------------------------------------------------
def test_an_expert_signs_after_confirming_then_adds_a_dated_addendum(
    qtbot: QtBot, env: Env
) -> None:
    editor = env.editor(qtbot, env.expert, env.expert_appointment_id)
    choose_template(editor, NoteTemplate.FREE)
    type_text(qtbot, editor.section_edits["text"], TEXT)
    env.clock.advance(minutes=5)
    assert editor.on_sign() is None  # no dialog: an expert's note is final when signed
    assert env.prompter.shown[-1][:2] == ("confirm", "Sign the note")
    note = env.stored(env.expert, env.expert_appointment_id)
    assert note.status is NoteStatus.FINAL
    assert note.sections["text"] == TEXT  # the last typing was saved before signing
    assert editor.status_label.text() == "Signed by 陈静 on 2026-11-23 10:05"
    assert editor.section_edits["text"].isReadOnly()
    assert not editor.template_combo.isEnabled()
    assert visible_buttons(editor) == ["add_addendum"]
    assert editor.addenda_box.isHidden()

    env.clock.advance(hours=2)
    editor.on_add_addendum()
    dialog = the_dialog(editor, AddendumDialog)
    dialog.on_ok()
    assert dialog.isVisible()
    assert error_text(dialog, "text") == "Write the addendum before saving it."
    type_text(qtbot, dialog.text_edit, "补充：已转介")
    dialog.on_ok()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert not editor.addenda_box.isHidden()
    assert editor.addenda_view.toPlainText() == "2026-11-23 12:05 · 陈静\n补充：已转介"
    assert [a.text for a in env.stored(env.expert, env.expert_appointment_id).addenda] == [
        "补充：已转介"
    ]


def test_signing_an_empty_note_is_refused(qtbot: QtBot, env: Env) -> None:
    editor = env.editor(qtbot, env.expert, env.expert_appointment_id)
    assert editor.on_sign() is None
    assert env.prompter.shown[-1] == (
        "error",
        "Sign the note",
        "Nothing is written in this note yet. Write the note, then sign it.",
    )
    assert editor.can_write


def queue_rows(view: CosignQueueView) -> list[list[str]]:
    proxy = view.panel.table.model()
    return [
        [proxy.index(r, c).data() for c in range(proxy.columnCount())]
        for r in range(proxy.rowCount())
    ]


def test_a_regulator_names_the_co_signer_who_co_signs_from_the_queue(
    qtbot: QtBot, qtmodeltester, env: Env
) -> None:
    editor = env.editor(qtbot, env.reg)
    choose_template(editor, NoteTemplate.FREE)
    type_text(qtbot, editor.section_edits["text"], TEXT)
    dialog = editor.on_sign()
    assert isinstance(dialog, SignDialog)
    combo = dialog.cosigner_combo
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "The station's supervisor (default)",
        "周专家",
        "孙督导",
        "陈静",
    ]
    combo.setCurrentIndex(combo.findText("周专家"))
    dialog.on_ok()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert editor.status_label.text() == (
        "Signed by 刘调节 on 2026-11-23 10:00; awaiting co-signature by 周专家"
    )
    assert editor.section_edits["text"].isReadOnly()
    assert visible_buttons(editor) == ["add_addendum"]

    env.clock.advance(hours=1)
    view = CosignQueueView(env.services, env.cos, env.prompter)
    qtbot.addWidget(view)
    view.show()
    view.refresh()
    assert view.title() == "Notes to co-sign"
    assert queue_rows(view) == [[CODE, "2026-11-23 09:00", "刘调节", "2026-11-23 10:00"]]
    assert view.summary_label.text() == "1 note is waiting for your co-signature"
    qtmodeltester.check(view.panel.model)

    view.panel.table.selectRow(0)
    button(view, "open_queued_note").click()
    reader = the_dialog(view, NoteEditor)
    assert reader.section_edits["text"].toPlainText() == TEXT
    assert reader.section_edits["text"].isReadOnly()
    assert visible_buttons(reader) == ["cosign_note", "return_note", "add_addendum"]
    assert reader.on_cosign() is True
    assert reader.status_label.text() == (
        "Signed by 刘调节 on 2026-11-23 10:00, co-signed by 周专家 on 2026-11-23 11:00"
    )
    assert visible_buttons(reader) == ["add_addendum"]
    assert env.stored().status is NoteStatus.FINAL
    assert queue_rows(view) == []  # the queue follows at once
    reader.close()

    view.clear()
    assert view.summary_label.text() == ""


def test_the_default_co_signer_is_the_station_supervisor(qtbot: QtBot, env: Env) -> None:
    editor = env.editor(qtbot, env.reg)
    choose_template(editor, NoteTemplate.FREE)
    type_text(qtbot, editor.section_edits["text"], TEXT)
    dialog = editor.on_sign()
    assert dialog is not None
    dialog.on_ok()
    assert env.stored().cosigner_name == "孙督导"
    assert editor.status_label.text().endswith("awaiting co-signature by 孙督导")


def test_the_co_signer_returns_the_note_and_the_author_sees_why(qtbot: QtBot, env: Env) -> None:
    editor = env.editor(qtbot, env.reg)
    choose_template(editor, NoteTemplate.FREE)
    type_text(qtbot, editor.section_edits["text"], TEXT)
    sign = editor.on_sign()
    assert sign is not None
    sign.cosigner_combo.setCurrentIndex(sign.cosigner_combo.findData(env.cos.user_id))
    sign.on_ok()
    editor.close()

    reader = env.editor(qtbot, env.cos)
    dialog = reader.on_return()
    assert isinstance(dialog, ReturnDialog)
    type_text(qtbot, dialog.reason_edit, "请补充风险评估")
    dialog.on_ok()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert reader.status_label.text() == "Draft by 刘调节"
    assert visible_buttons(reader) == []
    assert not reader.readonly_label.isHidden()

    author = env.editor(qtbot, env.reg)
    assert author.can_write
    assert not author.section_edits["text"].isReadOnly()
    assert author.addenda_view.toPlainText() == "2026-11-23 10:00 · 周专家\n请补充风险评估"
    append(qtbot, author.section_edits["text"], "。风险低")
    assert author.save_now()
    assert env.stored().sections["text"] == TEXT + "。风险低"
    assert [a.text for a in env.stored().addenda] == ["请补充风险评估"]  # kept after saving


def test_the_supervisor_reads_a_draft_without_changing_it(qtbot: QtBot, env: Env) -> None:
    env.services.notes.save_draft(
        env.reg,
        appointment_id=env.appointment_id,
        template=NoteTemplate.FREE,
        sections={"text": TEXT},
        expected_version=None,
    )
    reader = env.editor(qtbot, env.sup)
    assert reader.section_edits["text"].toPlainText() == TEXT
    assert reader.section_edits["text"].isReadOnly()
    assert not reader.template_combo.isEnabled()
    assert reader.status_label.text() == "Draft by 刘调节"
    assert reader.readonly_label.text() == "Read only: only the note's author changes a draft."
    assert not reader.readonly_label.isHidden()
    assert visible_buttons(reader) == []
    qtbot.keyClicks(reader.section_edits["text"], "changed")
    assert not reader.dirty
    assert reader.section_edits["text"].toPlainText() == TEXT


def test_clear_saves_then_wipes_the_window(qtbot: QtBot, env: Env) -> None:
    host = QWidget()
    qtbot.addWidget(host)
    editor = env.editor(qtbot, env.reg, parent=host)
    choose_template(editor, NoteTemplate.FREE)
    type_text(qtbot, editor.section_edits["text"], TEXT)
    assert close_record_windows(host) is True  # what the main window calls on lock
    assert not editor.isVisible()
    assert editor.wiped
    assert editor.section_edits["text"].toPlainText() == ""
    assert editor.session_label.text() == ""
    assert env.stored().sections["text"] == TEXT


# --- the appointment dialog's button ---------------------------------------------------------------
def test_the_appointment_dialog_opens_the_note_for_the_sessions_counsellor_only(
    qtbot: QtBot, env: Env
) -> None:
    def dialog_for(actor: Actor, appointment_id: int) -> AppointmentDialog:
        dialog = AppointmentDialog(env.services, actor, env.prompter, appointment_id)
        qtbot.addWidget(dialog)
        dialog.show()
        return dialog

    mine = dialog_for(env.reg, env.appointment_id)
    note_button = button(mine, "session_note")
    assert note_button.isVisible()
    assert note_button.text() == "Session &note..."
    note_button.click()
    editor = the_dialog(mine, NoteEditor)
    assert editor.can_write
    assert editor.session_label.text() == f"2026-11-23 09:00 · client code {CODE}"
    editor.close()

    assert not button(dialog_for(env.world.staff, env.appointment_id), "session_note").isVisible()
    cancelled = add_appointment(
        env.services,
        env.world,
        T0 + timedelta(days=2),
        T0 + timedelta(days=2, minutes=50),
        status=AppointmentStatus.CANCELLED,
        counsellor_id=env.reg.user_id,
    )
    assert not button(dialog_for(env.reg, cancelled), "session_note").isVisible()
