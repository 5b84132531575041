"""Every focusable widget of every screen and main dialog has a name a screen reader can say."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDialog,
    QLabel,
    QTabBar,
    QTabWidget,
    QWidget,
)
from pytestqt.qtbot import QtBot

from carestation.db.engine import Database
from carestation.db.migrate import open_database
from carestation.domain.roles import Role
from carestation.security.secret_store import MemorySecretStore
from carestation.services.container import Services
from carestation.services.keys import KeyVault
from carestation.settings import Settings
from carestation.ui import style
from carestation.ui.about_instruments import AboutInstrumentsDialog
from carestation.ui.account_dialogs import ChangePasswordDialog, PreferencesDialog
from carestation.ui.appointment_dialog import AppointmentDialog, CancelDialog, MoveDialog
from carestation.ui.assessment_dialog import AssessmentDialog
from carestation.ui.backups_dialog import BackupsDialog
from carestation.ui.booking_dialog import BookingDialog
from carestation.ui.case_window import CaseDialog, OpenCaseDialog
from carestation.ui.client_picker import ClientDialog
from carestation.ui.client_record import ClientRecordDialog
from carestation.ui.connection_dialog import ConnectionDialog
from carestation.ui.crisis_widgets import RaiseFlagDialog
from carestation.ui.fonts import apply_app_font
from carestation.ui.key_dialogs import KeySetupDialog, RecoveryCodeDialog, UnlockDialog
from carestation.ui.main_window import MainWindow
from carestation.ui.note_editor import NoteEditor
from carestation.ui.personal_report_dialog import DayReportsDialog
from carestation.ui.prompts import RecordingPrompter
from carestation.ui.setup_dialog import SetupDialog
from carestation.ui.sign_in_dialog import SignInDialog
from carestation.ui.views.admin_stations import StationDialog
from carestation.ui.views.admin_users import UserDialog
from carestation.ui.views.lecture_dialogs import LectureDialog
from carestation.ui.views.schedule_dialogs import ClosureDialog
from carestation.ui.views.waitlist_view import WaitlistDialog
from tests.conftest import FakeClock
from tests.factories import add_appointment, build_world
from tests.ui.assessment_fakes import FakeAssessments
from tests.ui.test_note_editor import Env, build_env

SH = ZoneInfo("Asia/Shanghai")


def _described(widget: QWidget, buddies: set[int]) -> bool:
    if widget.accessibleName().strip() or id(widget) in buddies:
        return True
    if isinstance(widget, QAbstractButton) and widget.text().replace("&", "").strip():
        return True
    if isinstance(widget, QTabBar):  # each tab is named by its text
        return all(widget.tabText(i) for i in range(widget.count()))
    return isinstance(widget, QLabel) and bool(widget.text().strip())


def _inner(widget: QWidget) -> bool:
    """Parts of a composite widget (a spin box's line edit, an editable combo's line edit, a
    table's corner button): the composite itself carries the name."""
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, (QAbstractSpinBox, QComboBox)):
            return True
        if parent.focusProxy() is widget:
            return True
        parent = parent.parentWidget()
    return False


def unnamed(top: QWidget, where: str = "") -> list[str]:
    """Focusable, visible widgets under `top` that have neither an accessible name, a text of
    their own, nor a label whose buddy they are; every page of every tab widget is looked at."""
    missing = _unnamed_now(top, where)
    for tabs in top.findChildren(QTabWidget):
        if not tabs.isVisibleTo(top):
            continue
        current = tabs.currentIndex()
        for index in range(tabs.count()):
            tabs.setCurrentIndex(index)
            missing += _unnamed_now(tabs.widget(index), where)
        tabs.setCurrentIndex(current)
    return list(dict.fromkeys(missing))


def _unnamed_now(top: QWidget, where: str) -> list[str]:
    buddies: set[int] = set()
    for label in top.window().findChildren(QLabel):
        buddy = label.buddy()
        if buddy is not None and label.text().strip():
            buddies.add(id(buddy))
    missing = []
    for widget in [top, *top.findChildren(QWidget)]:
        if not widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
            continue
        if not widget.isVisibleTo(top) or _inner(widget) or widget.focusProxy() is not None:
            continue
        if not _described(widget, buddies):
            name = widget.objectName() or "?"
            missing.append(f"{where}{type(widget).__name__}#{name}")
    return missing


def tab_bound_lists(top: QWidget, where: str = "") -> list[str]:
    """Tables and lists where Tab moves from cell to cell (Qt's default for tables): with many
    rows Tab would hardly ever leave them. The arrow keys move inside instead."""
    return [
        f"{where}{type(view).__name__}#{view.objectName() or '?'}"
        for view in top.findChildren(QAbstractItemView)
        if view.tabKeyNavigation()
    ]


# --- the screens of each role ------------------------------------------------------------------
@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_every_screen_names_its_focusable_widgets(
    qtbot: QtBot, sqlite_services: Services, role: Role, tmp_path: Path
) -> None:
    world = build_world(sqlite_services)
    window = MainWindow(
        sqlite_services, world.actor(role), Settings(tmp_path / "s.json"), RecordingPrompter()
    )
    qtbot.addWidget(window)
    window.show()
    missing = unnamed(window.menuBar()) + unnamed(window.nav)
    for index, view in enumerate(window.views):
        window.nav.setCurrentRow(index)
        missing += unnamed(view, f"{type(view).__name__}: ")
    assert missing == []
    assert tab_bound_lists(window) == []


# --- the main dialogs --------------------------------------------------------------------------
def _dialogs(env: Env, tmp_path: Path) -> Iterator[QDialog]:
    s, w, p = env.services, env.world, env.prompter
    settings = Settings(tmp_path / "s.json")
    yield SignInDialog(s.auth, station_id=w.station_id, station_name="暨阳")
    yield SetupDialog(s.setup, p)
    yield BookingDialog(s, w.staff, p, station_id=w.station_id)
    yield ClientDialog(s.clients, w.staff, p, station_id=w.station_id)
    yield AppointmentDialog(s, w.staff, p, env.appointment_id)
    start = datetime(2026, 11, 24, 9, 0, tzinfo=SH)
    booked_id = add_appointment(s, w, start, start + timedelta(minutes=50))
    booked = s.schedule.get(actor=w.staff, appointment_id=booked_id)
    yield MoveDialog(s, w.staff, p, booked)
    yield CancelDialog(s, w.staff, p, booked)
    today = date(2026, 11, 23)
    yield WaitlistDialog(s, w.staff, p, w.station_id, today)
    yield LectureDialog(s, w.staff, p, station_id=w.station_id, zone=SH, today=today)
    yield StationDialog(s.admin, w.admin, p)
    yield ClosureDialog(s.schedule_admin, w.admin, p, w.station_id, today)
    yield UserDialog(s.admin, w.admin, p, s.admin.list_stations(actor=w.admin))
    yield OpenCaseDialog(s, env.reg, p, client_id=w.client_id, client_label="ABCD-EFGH-1")
    yield RaiseFlagDialog(s.crisis, env.reg, p, client_id=w.client_id, client_label="ABCD")
    yield ClientRecordDialog(s, env.reg, p, client_id=w.client_id, show_preview=lambda *a: None)
    yield CaseDialog(s, env.reg, p, case_id=env.case_id)
    yield NoteEditor(s, env.reg, p, appointment_id=env.appointment_id)
    yield AssessmentDialog(
        FakeAssessments(),
        env.reg,
        p,
        client_id=w.client_id,
        client_label="C-000123",
        case_id=env.case_id,
        appointment_id=env.appointment_id,
        instrument="phq9",
    )
    yield ConnectionDialog(settings, MemorySecretStore(), p)
    yield AboutInstrumentsDialog()
    yield BackupsDialog(s.backups, w.admin, settings, p)
    yield ChangePasswordDialog(s.auth, w.staff, p)
    yield PreferencesDialog(settings, w.admin, s.admin.list_stations(actor=w.admin), p)
    yield DayReportsDialog(s.reports, env.reg, p)
    engine, _result = open_database(f"sqlite:///{(tmp_path / 'keys.db').as_posix()}")
    vault = KeyVault(Database(engine), None)
    yield KeySetupDialog(vault, p)
    vault.set_up(passphrase="correct horse battery")
    code = vault.recovery_code()
    vault.lock()
    yield UnlockDialog(vault, p)
    yield RecoveryCodeDialog(code)
    engine.dispose()


def _traps(qtbot: QtBot, dialog: QDialog, limit: int = 150) -> list[str]:
    """The widgets Tab cannot leave (a text box that takes Tab as a character, say): Tab from
    the first field must come back to it. Staying a few presses is allowed: Tab steps through a
    date's parts and a text's links before it moves on."""
    if dialog.focusWidget() is None:
        qtbot.keyClick(dialog, Qt.Key.Key_Tab)
    start = dialog.focusWidget()
    if start is None:
        return [f"{type(dialog).__name__}: nothing takes the focus"]
    stayed = 0
    for _ in range(limit):
        before = dialog.focusWidget()
        qtbot.keyClick(before, Qt.Key.Key_Tab)
        if dialog.focusWidget() is start:
            return []
        stayed = stayed + 1 if dialog.focusWidget() is before else 0
        if stayed > 20:
            return [f"{type(dialog).__name__}: {type(before).__name__}#{before.objectName()}"]
    return [f"{type(dialog).__name__}: Tab never came back to {start.objectName()}"]


def test_every_main_dialog_names_its_widgets_and_has_no_focus_trap(
    qtbot: QtBot, sqlite_services: Services, clock: FakeClock, tmp_path: Path
) -> None:
    env = build_env(sqlite_services, clock)
    missing: list[str] = []
    traps: list[str] = []
    for dialog in _dialogs(env, tmp_path):
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        missing += unnamed(dialog, f"{type(dialog).__name__}: ")
        traps += _traps(qtbot, dialog) + tab_bound_lists(dialog, f"{type(dialog).__name__}: ")
        dialog.close()
    assert missing == []
    assert traps == []


# --- high contrast, colours and font size ------------------------------------------------------
@pytest.fixture
def restore_look(qapp: QApplication) -> Iterator[QApplication]:
    """The application is shared by every test: put its look back afterwards."""
    palette, style_name, font = QPalette(qapp.palette()), qapp.style().name(), QFont(qapp.font())
    yield qapp
    style.apply_look(qapp, high_contrast=False)
    qapp.setStyleSheet("")
    qapp.setStyle(style_name)
    qapp.setPalette(palette)
    qapp.setFont(font)


def _text_colour(label: QLabel) -> str:
    label.ensurePolished()
    return label.palette().color(QPalette.ColorRole.WindowText).name()


def test_high_contrast_from_the_view_menu_at_once_and_at_the_next_start(
    qtbot: QtBot, sqlite_services: Services, restore_look: QApplication
) -> None:
    app = restore_look
    saved = lambda: bool(Settings().get("high_contrast"))  # noqa: E731
    style.start_look(app, saved)  # as at start: the ordinary look, with the meaning colours
    assert not style.is_high_contrast()
    world = build_world(sqlite_services)
    window = MainWindow(sqlite_services, world.staff, Settings(), RecordingPrompter())
    qtbot.addWidget(window)
    window.show()
    problem = QLabel("Problem: the phone number is too short", window)
    style.set_tone(problem, "error")
    assert _text_colour(problem) == "#b3261e"
    assert not window.contrast_action.isChecked()

    window.contrast_action.trigger()  # View → High contrast
    assert style.is_high_contrast()
    assert app.palette().color(QPalette.ColorRole.Window).name() == "#000000"
    assert app.palette().color(QPalette.ColorRole.Highlight).name() == "#ffff00"
    assert _text_colour(problem) == "#ffff00"  # the open window changed at once
    assert "QPushButton:focus { border: 3px solid #ffff00;" in app.styleSheet()  # the focus
    assert Settings().get("high_contrast") == 1  # saved for this PC

    # The next start: the saved choice is applied (app.run_gui).
    style.apply_look(app, high_contrast=False)
    assert not style.is_high_contrast()
    style.start_look(app, saved)
    sign_in = SignInDialog(sqlite_services.auth, station_id=world.station_id)
    qtbot.addWidget(sign_in)
    sign_in.show()
    assert style.is_high_contrast()
    assert sign_in.palette().color(QPalette.ColorRole.Window).name() == "#000000"

    window.contrast_action.trigger()  # off again
    assert not style.is_high_contrast()
    assert Settings().get("high_contrast") == 0
    assert _text_colour(problem) == "#b3261e"


def test_the_systems_high_contrast_setting_wins(
    qtbot: QtBot,
    sqlite_services: Services,
    restore_look: QApplication,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(style, "system_wants_high_contrast", lambda: True)
    style.start_look(restore_look, lambda: False)
    assert style.is_high_contrast()
    world = build_world(sqlite_services)
    window = MainWindow(sqlite_services, world.admin, Settings(), RecordingPrompter())
    qtbot.addWidget(window)
    assert window.contrast_action.isChecked()
    assert not window.contrast_action.isEnabled()  # turned off in the system's settings


def test_the_system_font_size_is_kept(restore_look: QApplication) -> None:
    app = restore_look
    big = QFont(app.font())
    big.setPointSizeF(15.0)  # a user who chose larger text in the system's settings
    app.setFont(big)
    apply_app_font(app)
    assert app.font().pointSizeF() == 15.0
    label = QLabel("CareStation")
    style.heading(label, 2.0)
    assert label.font().pointSizeF() == 30.0  # headings grow with it
    assert label.font().bold()


def test_a_change_of_the_systems_contrast_while_running_is_followed(
    restore_look: QApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication

    app = restore_look
    style.start_look(app, lambda: False)
    assert not style.is_high_contrast()
    problem = QLabel("Problem")
    style.set_tone(problem, "error")
    monkeypatch.setattr(style, "system_wants_high_contrast", lambda: True)
    hints = QGuiApplication.styleHints()
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)  # as the platform does
    assert style.is_high_contrast()
    assert _text_colour(problem) == "#ffff00"
    monkeypatch.setattr(style, "system_wants_high_contrast", lambda: False)
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert not style.is_high_contrast()
    assert _text_colour(problem) == "#b3261e"
