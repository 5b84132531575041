"""The case window, opening and closing cases, and the counsellor's case list, on real SQLite."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from datetime import UTC, datetime, timedelta

from PySide6.QtWidgets import QCheckBox, QDialog, QLabel, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import insert

from carestation.db import models as m
from carestation.domain.vocab import (
    AppointmentStatus,
    AssessmentMode,
    CaseOutcome,
    NoteTemplate,
    RiskLevel,
    Topic,
)
from carestation.ui.case_window import (
    CaseDialog,
    CloseCaseDialog,
    EditCaseDialog,
    OpenCaseDialog,
)
from carestation.ui.crisis_widgets import RaiseFlagDialog
from carestation.ui.note_editor import NoteEditor
from carestation.ui.views.cases_view import MyCasesView
from tests.ui.test_note_editor import (
    CLIENT_NAME,
    CODE,
    TEXT,
    Env,
    button,
    env,
    error_text,
    the_dialog,
)
from tests.ui.typing import type_text

__all__ = ["env"]

REASON = "多次表达轻生念头"
SUMMARY = "三次咨询后睡眠与情绪恢复正常"


def case_dialog(qtbot: QtBot, env: Env, case_id: int | None = None, actor=None) -> CaseDialog:
    dialog = CaseDialog(
        env.services, actor or env.reg, env.prompter, case_id=case_id or env.case_id
    )
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def timeline(dialog: CaseDialog) -> list[list[str]]:
    model = dialog.timeline_model
    return [
        [model.index(r, c).data() for c in range(model.columnCount())]
        for r in range(model.rowCount())
    ]


def label(dialog: QWidget, key: str) -> str:
    found = dialog.findChild(QLabel, f"case_{key}")
    assert found is not None, key
    return found.text()


def write_note(env: Env) -> None:
    env.services.notes.save_draft(
        env.reg,
        appointment_id=env.appointment_id,
        template=NoteTemplate.FREE,
        sections={"text": TEXT},
        expected_version=None,
    )


def test_the_case_window_shows_the_case_and_its_timeline(
    qtbot: QtBot, qtmodeltester, env: Env
) -> None:
    write_note(env)
    dialog = case_dialog(qtbot, env)
    assert dialog.windowTitle() == "Case"
    assert label(dialog, "client_code") == CODE
    assert label(dialog, "counsellor") == "刘调节"
    assert label(dialog, "station") == "暨阳街道职工情绪管理服务站"
    assert label(dialog, "opened") == "2026-11-23 10:00"
    assert label(dialog, "status") == "In progress"
    assert label(dialog, "risk") == "Low"
    assert label(dialog, "topics") == "Work stress"
    assert dialog.banner.isHidden()
    assert dialog.closing_box.isHidden()
    assert timeline(dialog) == [
        ["2026-11-23 09:00", "Appointment", "Individual counselling · Completed"],
        ["2026-11-23 10:00", "Case opened", ""],
        ["2026-11-23 10:00", "Session note", "Draft · 刘调节"],
    ]
    qtmodeltester.check(dialog.timeline_model)
    texts = [w.text() for w in dialog.findChildren(QLabel)]
    assert CLIENT_NAME not in " ".join(texts)
    assert [b.isVisibleTo(dialog) for b in (dialog.edit_button, dialog.close_case_button)] == [
        True,
        True,
    ]

    # Selecting the session or its note opens the note; the case-opened row does not.
    dialog.timeline.selectRow(1)
    assert not dialog.note_button.isEnabled()
    dialog.timeline.selectRow(2)
    assert dialog.note_button.isEnabled()
    dialog.timeline.doubleClicked.emit(dialog.timeline_model.index(0, 1))
    editor = the_dialog(dialog, NoteEditor)
    assert editor.section_edits["text"].toPlainText() == TEXT
    assert editor.can_write
    type_text(qtbot, editor.section_edits["text"], "。")
    editor.close()  # saves on closing
    assert env.stored().sections["text"] == "。" + TEXT

    dialog.clear()  # on lock: the screen forgets everything
    assert not dialog.isVisible()
    assert timeline(dialog) == []
    assert label(dialog, "client_code") == ""


def test_the_timeline_counts_addenda_and_shows_assessments_and_flags(
    qtbot: QtBot, env: Env
) -> None:
    write_note(env)
    note = env.stored()
    signed = env.services.notes.sign(
        env.reg, note.id, expected_version=note.version, cosigner_id=env.cos.user_id
    )
    env.services.notes.add_addendum(env.reg, signed.id, "补充")
    env.services.notes.add_addendum(env.reg, signed.id, "再补充")
    with env.services.db.write() as session:
        session.add(
            m.Assessment(
                client_id=env.world.client_id,
                case_id=env.case_id,
                station_id=env.world.station_id,
                instrument="phq9",
                instrument_version="1",
                answers=[1, 2, 1, 2, 1, 2, 1, 2, 0],
                total=12,
                band="moderate",
                mode=AssessmentMode.COUNSELLOR,
                taken_at=datetime(2026, 11, 23, 1, 30, tzinfo=UTC),
            )
        )
    flag = env.services.crisis.raise_flag(
        env.reg, client_id=env.world.client_id, reason=REASON, case_id=env.case_id
    )
    dialog = case_dialog(qtbot, env)
    rows = timeline(dialog)
    assert rows[:5] == [
        ["2026-11-23 09:00", "Appointment", "Individual counselling · Completed"],
        ["2026-11-23 09:30", "Assessment", "PHQ-9: total 12, Moderate depressive symptoms"],
        ["2026-11-23 10:00", "Case opened", ""],
        ["2026-11-23 10:00", "Session note", "Awaiting co-signature · 刘调节 · 2 addenda"],
        ["2026-11-23 10:00", "Crisis flag raised", ""],
    ]
    assert rows[5][1:] == ["Crisis follow-up", "Due"]
    assert not dialog.banner.isHidden()  # the client's open flag, at the top
    assert flag.id == dialog.banner.flag.id


def test_closing_is_refused_while_a_crisis_flag_is_open_then_allowed(
    qtbot: QtBot, env: Env
) -> None:
    dialog = case_dialog(qtbot, env)
    dialog.on_raise_flag()
    raise_dialog = the_dialog(dialog, RaiseFlagDialog)
    type_text(qtbot, raise_dialog.reason_edit, REASON)
    raise_dialog.on_ok()
    assert raise_dialog.result() == QDialog.DialogCode.Accepted
    assert not dialog.banner.isHidden()
    assert [r[1] for r in timeline(dialog)][:3] == [
        "Appointment",
        "Case opened",
        "Crisis flag raised",
    ]

    dialog.on_close_case()
    closing = the_dialog(dialog, CloseCaseDialog)
    closing.on_ok()
    assert closing.isVisible()
    assert error_text(closing, "outcome") == "Choose the outcome of the case."
    assert error_text(closing, "summary").startswith("Write a closing summary")
    closing.outcome_combo.setCurrentIndex(closing.outcome_combo.findData("improved"))
    type_text(qtbot, closing.summary_edit, SUMMARY)
    closing.on_ok()
    assert closing.isVisible()
    assert error_text(closing, "refused") == (
        "This client has an open crisis flag. Clear it (recording what was done) before "
        "closing the case."
    )
    assert closing.summary_edit.toPlainText() == SUMMARY  # nothing typed is lost
    assert env.prompter.shown == []  # said in the dialog, not in a box on top of it

    flag = dialog.banner.flag
    assert flag is not None
    env.services.crisis.clear_flag(
        env.reg,
        flag.id,
        actions=frozenset({"stayed_with_person"}),
        what_was_done="陪同至情绪稳定",
    )
    closing.on_ok()
    assert closing.result() == QDialog.DialogCode.Accepted
    assert label(dialog, "status") == "Closed: Improved"
    assert not dialog.closing_box.isHidden()
    assert dialog.closed_label.text() == ("Closed on 2026-11-23 10:00 by 刘调节. Outcome: Improved")
    assert dialog.summary_view.toPlainText() == SUMMARY
    closed = [r for r in timeline(dialog) if r[1] == "Case closed"]
    assert closed == [["2026-11-23 10:00", "Case closed", "Outcome: Improved"]]
    for hidden in (dialog.edit_button, dialog.close_case_button, dialog.flag_button):
        assert not hidden.isVisibleTo(dialog)


def test_the_counsellor_changes_topics_and_risk(qtbot: QtBot, env: Env) -> None:
    dialog = case_dialog(qtbot, env)
    dialog.on_edit()
    edit = the_dialog(dialog, EditCaseDialog)
    assert edit.topic_checks[Topic.WORK_STRESS].isChecked()
    edit.topic_checks[Topic.WORK_STRESS].setChecked(False)
    edit.on_ok()
    assert edit.isVisible()
    assert error_text(edit, "topics") == "Choose at least one topic for the case."
    edit.topic_checks[Topic.INTERPERSONAL].setChecked(True)
    edit.topic_checks[Topic.CAREER].setChecked(True)
    edit.risk.setCurrentIndex(edit.risk.findData(RiskLevel.HIGH.value))
    with qtbot.waitSignal(dialog.case_changed):
        edit.on_ok()
    assert label(dialog, "topics") == "Interpersonal relations, Career"
    assert label(dialog, "risk") == "High"
    assert "700" in dialog.labels["risk"].styleSheet()  # in bold words, not colour alone


def test_the_supervisor_sees_the_case_but_changes_nothing(qtbot: QtBot, env: Env) -> None:
    dialog = case_dialog(qtbot, env, actor=env.sup)
    assert label(dialog, "client_code") == CODE
    assert not dialog.edit_button.isVisibleTo(dialog)
    assert not dialog.close_case_button.isVisibleTo(dialog)
    # A session without a note: nothing to read, and no refusal to audit.
    assert dialog.open_note_for(dialog.timeline_model.row_value(0)) is None
    assert env.prompter.shown[-1] == (
        "info",
        "Session note",
        "No note has been written for this session yet.",
    )


# --- opening a case ----------------------------------------------------------------------------
def test_opening_a_case_needs_consent_and_a_topic(qtbot: QtBot, env: Env) -> None:
    with env.services.db.write() as session:
        other = session.execute(
            insert(m.Client).returning(m.Client.id),
            [{"client_code": "WXYZ-2345-2", "name": "李四", "created_at": env.clock.now()}],
        ).scalar_one()
    dialog = OpenCaseDialog(
        env.services, env.sup, env.prompter, client_id=other, client_label="WXYZ-2345-2"
    )
    qtbot.addWidget(dialog)
    dialog.show()
    boxes = dialog.findChildren(QCheckBox)
    assert [b.text() for b in boxes][:3] == [
        "Work stress",
        "Interpersonal relations",
        "Emotion regulation",
    ]
    dialog.on_ok()
    assert error_text(dialog, "topics") == "Choose at least one topic for the case."
    dialog.topic_checks[Topic.PARENT_CHILD].setChecked(True)
    dialog.on_ok()
    assert error_text(dialog, "risk_level") == "Choose a risk level."
    dialog.risk.setCurrentIndex(dialog.risk.findData(RiskLevel.MEDIUM.value))
    dialog.on_ok()
    assert dialog.isVisible()
    assert error_text(dialog, "refused").startswith(
        "The client has not given consent for Counselling"
    )

    from tests.factories import give_consent

    give_consent(env.services, env.world, client_id=other)
    dialog.on_ok()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.saved.client_code == "WXYZ-2345-2"
    assert dialog.saved.topics == (Topic.PARENT_CHILD,)
    assert dialog.saved.counsellor_name == "孙督导"


# --- my cases --------------------------------------------------------------------------------------
def rows(view: MyCasesView) -> list[list[str]]:
    proxy = view.panel.table.model()
    return [
        [proxy.index(r, c).data() for c in range(proxy.columnCount())]
        for r in range(proxy.rowCount())
    ]


def test_my_cases_lists_codes_never_names(qtbot: QtBot, qtmodeltester, env: Env) -> None:
    view = MyCasesView(env.services, env.reg, env.prompter)
    qtbot.addWidget(view)
    view.resize(1100, 500)
    view.show()
    view.refresh()
    assert view.title() == "My cases"
    assert rows(view) == [
        [
            CODE,
            "2026-11-23",
            "Work stress",
            "Low",
            "In progress",
            "",
            "刘调节",
            "暨阳街道职工情绪管理服务站",
        ]
    ]
    assert CLIENT_NAME not in str(rows(view))
    qtmodeltester.check(view.panel.model)

    view.filter_combo.setCurrentIndex(view.filter_combo.findData("closed"))
    assert rows(view) == []
    view.filter_combo.setCurrentIndex(view.filter_combo.findData(None))
    assert len(rows(view)) == 1

    view.panel.table.selectRow(0)
    button(view, "show_case").click()
    dialog = the_dialog(view, CaseDialog)
    assert label(dialog, "client_code") == CODE

    view.clear()  # on lock: the list and the case window are gone
    assert rows(view) == []
    assert not dialog.isVisible()
    assert view.summary_label.text() == ""


def test_the_supervisor_also_sees_the_stations_open_cases(qtbot: QtBot, env: Env) -> None:
    env.services.cases.close_case(
        env.reg,
        env.case_id,
        outcome=CaseOutcome.IMPROVED,
        summary=SUMMARY,
        expected_version=1,
    )
    view = MyCasesView(env.services, env.sup, env.prompter)
    qtbot.addWidget(view)
    view.refresh()
    # Open cases at the supervised station: the expert's; the regulator's is closed.
    assert [r[6] for r in rows(view)] == ["陈静"]
    view.filter_combo.setCurrentIndex(view.filter_combo.findData(None))
    assert [r[6] for r in rows(view)] == ["陈静"]


def test_a_new_case_from_the_list_finds_the_client_first(qtbot: QtBot, env: Env) -> None:
    env.services.cases.close_case(
        env.reg, env.case_id, outcome=CaseOutcome.REFERRED, summary=SUMMARY, expected_version=1
    )
    view = MyCasesView(env.services, env.reg, env.prompter)
    qtbot.addWidget(view)
    view.show()
    view.refresh()
    assert rows(view) == []
    dialog = view.new_case()
    dialog.on_ok()
    assert error_text(dialog, "client") == "Find the client and choose them from the list first."
    picker = dialog.picker
    assert picker is not None
    type_text(qtbot, picker.search_edit, CODE)
    picker.search_now()
    picker.choose(picker.results()[0])
    dialog.topic_checks[Topic.WORK_STRESS].setChecked(True)
    dialog.risk.setCurrentIndex(0)
    dialog.on_ok()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert [r[0] for r in rows(view)] == [CODE]
    assert view.message_label.text() == f"A case is open for {CODE}."


def test_a_cancelled_session_stays_out_of_the_note_button(qtbot: QtBot, env: Env) -> None:
    from tests.factories import add_appointment

    start = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    cancelled = add_appointment(
        env.services,
        env.world,
        start,
        start + timedelta(minutes=50),
        status=AppointmentStatus.CANCELLED,
        counsellor_id=env.reg.user_id,
    )
    with env.services.db.write() as session:
        session.get_one(m.Appointment, cancelled).case_id = env.case_id
    dialog = case_dialog(qtbot, env)
    last = dialog.timeline_model.rows()[-1]
    assert last.appointment_id == cancelled
    editor = dialog.open_note_for(last)
    assert editor is not None
    assert not editor.can_write  # no note for a session that did not take place
    assert editor.status_label.text() == "No note has been written for this session yet."
