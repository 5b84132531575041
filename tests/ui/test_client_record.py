"""The clients screen and a client's record (details, consents, cases, disclosures), driven as
station staff and a counsellor would, on real SQLite."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import subprocess
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QDialog, QLabel, QPushButton, QTableView, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from carestation.db import models as m
from carestation.domain.values import Actor
from carestation.domain.vocab import ConsentPurpose, DisclosureBasis, Gender, RiskLevel, Topic
from carestation.services.container import Services
from carestation.ui.client_picker import ClientDialog
from carestation.ui.client_record import (
    ClientRecordDialog,
    CorrectClientDialog,
    DisclosureDialog,
    RecordConsentDialog,
    consent_form_name,
)
from carestation.ui.crisis_widgets import RaiseFlagDialog
from carestation.ui.printing import Printable, save_pdf
from carestation.ui.prompts import Prompter, RecordingPrompter
from carestation.ui.views.clients_view import ClientsView
from tests.conftest import FakeClock
from tests.factories import World, add_appointment, add_counsellor, build_world, give_consent
from tests.ui.typing import type_text

STATION = "暨阳街道职工情绪管理服务站"
CODE = "ABCD-EFGH-1"
NAME = "张三"
D = TypeVar("D", bound=QDialog)


@dataclass
class Previews:
    shown: list[tuple[str, Printable]] = field(default_factory=list)

    def __call__(self, parent: QWidget | None, doc: Printable, name: str, p: Prompter) -> None:
        self.shown.append((name, doc))


@dataclass
class Env:
    services: Services
    world: World
    prompter: RecordingPrompter
    clock: FakeClock
    previews: Previews

    def record(self, qtbot: QtBot, actor: Actor | None = None) -> ClientRecordDialog:
        dialog = ClientRecordDialog(
            self.services,
            actor or self.world.staff,
            self.prompter,
            client_id=self.world.client_id,
            show_preview=self.previews,
        )
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        return dialog

    def consent_rows(self) -> int:
        with self.services.db.read() as session:
            return session.scalar(select(func.count()).select_from(m.Consent)) or 0


@pytest.fixture
def env(sqlite_services: Services, clock: FakeClock) -> Env:
    return Env(
        sqlite_services, build_world(sqlite_services), RecordingPrompter(), clock, Previews()
    )


def the_dialog(parent: QWidget, kind: type[D]) -> D:
    dialogs = [d for d in parent.findChildren(kind) if d.isVisible()]
    assert len(dialogs) == 1, dialogs
    return dialogs[0]


def error_text(dialog: QDialog, key: str) -> str:
    label = dialog.findChild(QLabel, f"error_{key}")
    assert label is not None, key
    return label.text() if label.isVisibleTo(dialog) else ""


def click(parent: QWidget, name: str) -> None:
    button = parent.findChild(QPushButton, name)
    assert button is not None, name
    assert button.isVisible(), f"{name} is hidden"
    assert button.isEnabled(), f"{name} is disabled"
    button.click()


def detail(record: ClientRecordDialog, key: str) -> str:
    label = record.findChild(QLabel, f"detail_{key}")
    assert label is not None, key
    return label.text()


def state(record: ClientRecordDialog, purpose: ConsentPurpose) -> str:
    return record.consent_state_labels[purpose].text()


def cells(table: QTableView, row: int) -> list[str]:
    model = table.model()
    return [model.index(row, c).data() for c in range(model.columnCount())]


# --- the clients screen ---------------------------------------------------------------------------
def test_search_as_you_type_then_open_the_record(
    qtbot: QtBot, env: Env, qtmodeltester: object
) -> None:
    view = ClientsView(env.services, env.world.staff, env.prompter, show_preview=env.previews)
    qtbot.addWidget(view)
    view.show()
    view.refresh()
    type_text(qtbot, view.search_edit, "三")
    qtbot.waitUntil(lambda: len(view.results()) == 1, timeout=2000)
    table = view.panel.table
    assert cells(table, 0) == [CODE, NAME, "138****0000", "市水务集团", ""]
    assert view.status_label.text() == "1 client found"
    qtmodeltester.check(view.panel.model)  # type: ignore[attr-defined]
    assert view.selected() is not None  # a single match is selected: Enter opens it

    qtbot.keyClick(view.search_edit, Qt.Key.Key_Down)
    assert table.hasFocus()
    qtbot.keyClick(table, Qt.Key.Key_Return)
    record = the_dialog(view, ClientRecordDialog)
    qtbot.waitExposed(record)
    assert record.windowTitle() == f"Client record {CODE}"
    assert NAME not in record.windowTitle()
    assert [detail(record, k) for k in ("name", "phone", "work_unit", "gender", "birth_year")] == [
        NAME,
        "13800000000",
        "市水务集团",
        "Not stated",
        "Not given",
    ]
    assert detail(record, "client_code") == CODE
    assert detail(record, "registered") == "2026-01-01"

    view.search_edit.clear()
    type_text(qtbot, view.search_edit, "王五")
    qtbot.waitUntil(lambda: view.status_label.text() != "1 client found", timeout=2000)
    assert view.results() == []
    assert view.status_label.text() == (
        'Nobody matches "王五". Check the spelling, or register a new client.'
    )

    view.clear()  # on lock: the search, the results and the open record go
    assert view.search_edit.text() == ""
    assert view.panel.model.rowCount() == 0
    assert view.status_label.text() == ""
    assert not record.isVisible()
    assert detail(record, "name") == ""


def test_registering_offers_the_existing_record_and_opens_the_record(
    qtbot: QtBot, env: Env
) -> None:
    view = ClientsView(env.services, env.world.staff, env.prompter, show_preview=env.previews)
    qtbot.addWidget(view)
    view.show()
    type_text(qtbot, view.search_edit, NAME)
    form = view.register_client()
    assert form.name_edit.text() == NAME  # prefilled from the search
    type_text(qtbot, form.phone_edit, "13800000000")
    form.on_ok()  # the same name and phone: the user chooses to use the existing record
    assert env.prompter.shown[0][:2] == ("confirm", "Already registered")
    record = the_dialog(view, ClientRecordDialog)
    assert record.client_id == env.world.client_id
    record.reject()

    view.search_edit.clear()
    form = view.register_client()
    type_text(qtbot, form.name_edit, "李四")
    type_text(qtbot, form.phone_edit, "13912345678")
    form.gender_combo.setCurrentIndex(form.gender_combo.findData(Gender.FEMALE.value))
    form.on_ok()
    assert form.result() == QDialog.DialogCode.Accepted
    (new,) = view.results()
    assert new.name == "李四"
    assert view.search_edit.text() == new.client_code
    record = the_dialog(view, ClientRecordDialog)
    assert record.client_id == new.id
    assert detail(record, "gender") == "Female"
    assert detail(record, "registered") == "2026-11-23"


# --- details ----------------------------------------------------------------------------------------
def test_a_bad_phone_is_shown_at_the_field_and_nothing_is_saved_then_a_good_correction_is(
    qtbot: QtBot, env: Env
) -> None:
    record = env.record(qtbot)
    changed: list[int] = []
    record.client_changed.connect(changed.append)
    click(record, "correct_client")
    dialog = the_dialog(record, CorrectClientDialog)
    assert dialog.windowTitle() == "Correct the client's details"
    assert (dialog.name_edit.text(), dialog.phone_edit.text()) == (NAME, "13800000000")
    assert dialog.work_unit_edit.text() == "市水务集团"

    dialog.phone_edit.setText("12345")
    dialog.on_ok()
    assert dialog.isVisible()
    assert error_text(dialog, "phone") != ""
    assert error_text(dialog, "name") == ""
    assert env.services.clients.get(actor=env.world.staff, client_id=env.world.client_id).phone == (
        "13800000000"
    )
    assert changed == []

    dialog.phone_edit.setText("13900001111")
    dialog.work_unit_edit.setText("市供水公司")
    dialog.birth_year_spin.setValue(1985)
    dialog.on_ok()
    assert dialog.result() == QDialog.DialogCode.Accepted
    saved = env.services.clients.get(actor=env.world.staff, client_id=env.world.client_id)
    assert (saved.phone, saved.work_unit, saved.birth_year, saved.name) == (
        "13900001111",
        "市供水公司",
        1985,
        NAME,
    )
    assert detail(record, "phone") == "13900001111"
    assert detail(record, "birth_year") == "1985"
    assert record.message_label.text() == "The client's details were corrected."
    assert changed == [env.world.client_id]


# --- consents ---------------------------------------------------------------------------------------
def test_consent_is_recorded_per_purpose_and_withdrawn(qtbot: QtBot, env: Env) -> None:
    record = env.record(qtbot)
    assert record.show_tab("consents_tab")
    for purpose in ConsentPurpose:
        assert state(record, purpose) == "Never given"
        assert not record.withdraw_buttons[purpose].isEnabled()

    click(record, "record_consent")
    dialog = the_dialog(record, RecordConsentDialog)
    boxes = dialog.findChildren(QCheckBox)
    assert [b.text() for b in boxes] == [
        "Counselling",
        "Questionnaires and assessments",
        "Printing a personal report",
    ]
    assert not any(b.isChecked() for b in boxes)  # nothing ticked in advance
    wording = dialog.wording_view.toPlainText()
    assert "Welcome to " + STATION in wording
    assert "1. Counselling" in wording
    dialog.on_ok()  # nothing ticked: refused at the boxes
    assert dialog.isVisible()
    assert error_text(dialog, "purposes") == (
        "Tick each purpose the client has agreed to and signed for."
    )
    assert env.consent_rows() == 0

    dialog.purpose_checks[ConsentPurpose.COUNSELLING].click()
    dialog.on_ok()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert state(record, ConsentPurpose.COUNSELLING) == (
        "Given on 2026-11-23 (taken by 王芳, form version 2026-11)"
    )
    assert state(record, ConsentPurpose.ASSESSMENT) == "Never given"
    assert record.withdraw_buttons[ConsentPurpose.COUNSELLING].isEnabled()
    assert not record.withdraw_buttons[ConsentPurpose.ASSESSMENT].isEnabled()
    assert record.consent_history.model.rowCount() == 1

    env.prompter.answer = False  # the user thinks again
    assert record.on_withdraw(ConsentPurpose.COUNSELLING) is False
    assert state(record, ConsentPurpose.COUNSELLING).startswith("Given on 2026-11-23")

    env.prompter.answer = True
    env.clock.advance(days=2)
    click(record, "withdraw_counselling")
    assert env.prompter.shown[-1][:2] == ("confirm", "Withdraw consent")
    assert state(record, ConsentPurpose.COUNSELLING) == "Withdrawn on 2026-11-25"
    assert not record.withdraw_buttons[ConsentPurpose.COUNSELLING].isEnabled()
    assert record.consent_history.model.rowCount() == 1
    assert cells(record.consent_history.table, 0) == [
        "Counselling",
        "No",
        "2026-11-23 10:00",
        "王芳",
        "2026-11",
        "2026-11-25 10:00",
        "王芳",
        STATION,
    ]
    assert [s for s in env.prompter.shown if s[0] == "error"] == []


def test_the_printed_consent_form_carries_version_and_signature_lines_but_a_neutral_name(
    qtbot: QtBot, env: Env, tmp_path: Path
) -> None:
    record = env.record(qtbot)
    record.show_tab("consents_tab")
    click(record, "print_consent_form")
    ((name, form),) = env.previews.shown
    assert name == consent_form_name() == "CareStation consent form"
    assert NAME not in name
    assert CODE not in name
    text = form.plain_text()
    assert "Form version 2026-11" in text
    assert "Employee's signature: ____________________" in text
    assert text.count("Signature: ____________________") == 3  # one per purpose
    for expected in (CODE, NAME, STATION, "2026-11-23", "0575-87001234"):
        assert expected in text
    assert "{station_name}" not in text
    assert form.footer == f"Consent form, version 2026-11; client code {CODE}"

    pdf = tmp_path / "form.pdf"
    save_pdf(form, pdf, name)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "Title:           CareStation consent form" in info
    assert NAME not in info
    printed = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert NAME in printed
    assert "Form version 2026-11" in printed
    # The printing is in the audit trail, by code.
    printed_entries = [
        e for e in env.services.audit.entries(action="print") if e.object_type == "consent_form"
    ]
    assert [e.object_ref for e in printed_entries] == [CODE]


# --- what counsellors see ---------------------------------------------------------------------------
def test_staff_see_details_and_consents_only_counsellors_also_cases_and_disclosures(
    qtbot: QtBot, env: Env
) -> None:
    env.services.crisis.raise_flag(
        env.world.counsellor, client_id=env.world.client_id, reason="多次表达轻生念头"
    )
    staff = env.record(qtbot, env.world.staff)
    assert staff.tab_names() == ["details_tab", "consents_tab"]
    assert [staff.tabs.tabText(i) for i in range(staff.tabs.count())] == [
        "&Details",
        "Co&nsents",
    ]
    assert staff.banner.isHidden()  # staff are never told who is at risk
    assert staff.findChild(QPushButton, "raise_flag") is None

    counsellor = env.record(qtbot, env.world.counsellor)
    assert counsellor.tab_names() == [
        "details_tab",
        "consents_tab",
        "cases_tab",
        "disclosures_tab",
        "questionnaires_tab",
    ]
    assert not counsellor.banner.isHidden()
    assert counsellor.banner.reason_label.text() == "Reason: 多次表达轻生念头"
    assert [s for s in env.prompter.shown if s[0] == "error"] == []


def test_a_disclosure_is_recorded_and_listed(qtbot: QtBot, env: Env) -> None:
    start = env.clock.current - timedelta(days=7)
    add_appointment(env.services, env.world, start, start + timedelta(minutes=50))  # serves
    consent_id = give_consent(env.services, env.world)
    record = env.record(qtbot, env.world.counsellor)
    assert record.show_tab("disclosures_tab")
    assert record.disclosures_panel is not None
    assert record.disclosures_panel.model.rowCount() == 0
    assert not record.disclosures_note.isVisible()

    click(record, "record_disclosure")
    dialog = the_dialog(record, DisclosureDialog)
    assert not dialog.consent_combo.isEnabled()
    dialog.on_ok()
    assert dialog.isVisible()
    assert error_text(dialog, "basis") == "Choose the basis on which the information was given."

    type_text(qtbot, dialog.recipient_edit, "市人民医院值班医生")
    type_text(qtbot, dialog.what_edit, "风险评估结论")
    type_text(qtbot, dialog.why_edit, "当事人同意转介就医")
    dialog.basis_combo.setCurrentIndex(dialog.basis_combo.findData(DisclosureBasis.CONSENT.value))
    assert dialog.consent_combo.isEnabled()
    assert dialog.consent_combo.count() == 1
    dialog.consent_combo.setCurrentIndex(0)
    dialog.on_ok()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert record.disclosures_panel.model.rowCount() == 1
    assert cells(record.disclosures_panel.table, 0) == [
        "2026-11-23",
        "市人民医院值班医生",
        "风险评估结论",
        "当事人同意转介就医",
        "With the client's written consent",
        "陈静",
    ]
    (saved,) = env.services.disclosures.for_client(env.world.counsellor, env.world.client_id)
    assert saved.consent_id == consent_id
    assert record.message_label.text() == "The disclosure was recorded."


def test_a_counsellor_who_does_not_serve_the_client_is_told_in_the_tab(
    qtbot: QtBot, env: Env
) -> None:
    from carestation.domain.vocab import CounsellorKind

    other = add_counsellor(env.services, env.world, "c002", "刘敏", CounsellorKind.EXPERT)
    record = env.record(qtbot, other)
    record.show_tab("disclosures_tab")
    assert record.disclosures_note.isVisible()
    assert record.disclosures_note.text().startswith("Only the client's own counsellors")
    assert env.prompter.shown == []  # no message box for merely opening the tab


def test_a_case_is_opened_from_the_record_and_shown(qtbot: QtBot, env: Env) -> None:
    try:
        from carestation.ui.case_window import CaseDialog, OpenCaseDialog
    except ImportError:
        pytest.skip("carestation.ui.case_window (OpenCaseDialog, CaseDialog) is not there yet")
    give_consent(env.services, env.world)
    record = env.record(qtbot, env.world.counsellor)
    assert record.show_tab("cases_tab")
    assert record.cases_panel is not None
    assert record.cases_panel.model.rowCount() == 0

    click(record, "open_case")
    dialog = the_dialog(record, OpenCaseDialog)
    dialog.topic_checks[Topic.WORK_STRESS].setChecked(True)
    dialog.risk.setCurrentIndex(dialog.risk.findData(RiskLevel.LOW.value))
    dialog.on_ok()
    assert dialog.result() == QDialog.DialogCode.Accepted, env.prompter.shown
    assert record.cases_panel.model.rowCount() == 1
    row = cells(record.cases_panel.table, 0)
    assert row[:2] == ["2026-11-23", "陈静"]
    assert row[4] == RiskLevel.LOW.title
    assert record.message_label.text() == f"A case is open for {CODE}."

    click(record, "show_case")
    case = the_dialog(record, CaseDialog)
    assert case.case_id == record.cases_panel.model.row_value(0).id
    case.reject()


def test_raising_a_crisis_flag_from_the_record_shows_the_banner(qtbot: QtBot, env: Env) -> None:
    record = env.record(qtbot, env.world.counsellor)
    record.show_tab("cases_tab")
    assert record.banner.isHidden()
    click(record, "raise_flag")
    dialog = the_dialog(record, RaiseFlagDialog)
    type_text(qtbot, dialog.reason_edit, "表达轻生念头")
    dialog.on_ok()
    assert dialog.result() == QDialog.DialogCode.Accepted, env.prompter.shown
    assert not record.banner.isHidden()
    assert record.banner.reason_label.text() == "Reason: 表达轻生念头"


def test_clear_wipes_the_record_and_closes_it(qtbot: QtBot, env: Env) -> None:
    give_consent(env.services, env.world)
    record = env.record(qtbot, env.world.counsellor)
    click(record, "correct_client")
    correcting = the_dialog(record, CorrectClientDialog)
    record.show_tab("cases_tab")
    record.clear()
    assert not record.isVisible()
    assert not correcting.isVisible()
    assert record.windowTitle() == "Client record"
    assert all(label.text() == "" for label in record.detail_labels.values())
    assert all(label.text() == "" for label in record.consent_state_labels.values())
    assert record.consent_history.model.rowCount() == 0
    assert record.cases_panel is not None
    assert record.cases_panel.model.rowCount() == 0
    assert record.client is None
    assert record.consents == []
    assert isinstance(correcting, ClientDialog)
