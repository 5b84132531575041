"""Keyboard-only use: the Tab order of the main dialogs follows the screen (top-left to bottom-right,
buttons last), tables open their row on Enter, and the main window's shortcuts are in its menus,
each once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QAction, QShortcut
from PySide6.QtWidgets import QAbstractButton, QDialog, QMenu, QWidget
from pytestqt.qtbot import QtBot

from carestation.domain.roles import Role
from carestation.domain.values import UserInput
from carestation.security.secret_store import MemorySecretStore
from carestation.services.container import Services
from carestation.settings import Settings
from carestation.ui.appointment_dialog import AppointmentDialog
from carestation.ui.assessment_dialog import AssessmentDialog
from carestation.ui.backups_dialog import BackupsDialog
from carestation.ui.booking_dialog import BookingDialog
from carestation.ui.client_picker import ClientDialog
from carestation.ui.connection_dialog import ConnectionDialog
from carestation.ui.keyboard import visual_buttons
from carestation.ui.main_window import MainWindow
from carestation.ui.note_editor import NoteEditor
from carestation.ui.prompts import RecordingPrompter
from carestation.ui.sign_in_dialog import SignInDialog
from carestation.ui.views.clients_view import ClientsView
from carestation.ui.views.day_list import StationDayView
from tests.conftest import FakeClock
from tests.factories import PASSWORD, World, add_appointment, build_world
from tests.ui.assessment_fakes import FakeAssessments
from tests.ui.test_assessment_dialog import COUNSELLOR
from tests.ui.test_note_editor import Env, build_env

SH = ZoneInfo("Asia/Shanghai")


def _name(widget: QWidget) -> str:
    if widget.objectName():
        return widget.objectName()
    text = widget.text() if isinstance(widget, QAbstractButton) else ""
    return text.replace("&", "") or type(widget).__name__


def tab_ring(qtbot: QtBot, dialog: QDialog, limit: int = 80) -> list[str]:
    """The widgets Tab visits, from the one that has the focus when the dialog opens (or the
    first Tab gives it) until Tab comes back to it. A date or time edit is named once, though
    Tab first steps through its parts (day, month, year, hour, minute), as Qt does."""
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    if dialog.focusWidget() is None:
        qtbot.keyClick(dialog, Qt.Key.Key_Tab)
    start = dialog.focusWidget()
    assert start is not None
    ring = [_name(start)]
    for _ in range(limit):
        qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Tab)
        if dialog.focusWidget() is start:
            return ring
        if _name(dialog.focusWidget()) != ring[-1]:
            ring.append(_name(dialog.focusWidget()))
    raise AssertionError(f"Tab never came back to {ring[0]}: {ring}")


def buttons(dialog: QDialog) -> list[str]:
    """A button box's buttons as this platform lays them out (OK/Cancel order differs)."""
    from PySide6.QtWidgets import QDialogButtonBox

    boxes = [b for b in dialog.findChildren(QDialogButtonBox) if b.isVisibleTo(dialog)]
    assert len(boxes) == 1, boxes
    return [_name(b) for b in visual_buttons(boxes[0]) if b.isVisibleTo(dialog)]


def test_sign_in_tab_order(qtbot: QtBot, sqlite_services: Services) -> None:
    world = build_world(sqlite_services)
    dialog = SignInDialog(sqlite_services.auth, station_id=world.station_id, station_name="暨阳")
    # Its own two buttons (no button box: it shows before the heavier parts of Qt load).
    assert tab_ring(qtbot, dialog) == [
        "username",
        "password",
        "sign_in",
        "quit",
        "database_connection",
    ]


def test_booking_dialog_tab_order(qtbot: QtBot, sqlite_services: Services) -> None:
    world: World = build_world(sqlite_services)
    dialog = BookingDialog(
        sqlite_services, world.staff, RecordingPrompter(), station_id=world.station_id
    )
    # The form on the left, then the free-time finder on the right, then the buttons.
    assert tab_ring(qtbot, dialog) == [
        "type_combo",
        "client_search_edit",
        "new_client_button",
        "counsellor_combo",
        "room_combo",
        "topic_combo",
        "start_edit",
        "length_spin",
        "walk_in_check",
        "repeat_check",
        "from_edit",
        "to_edit",
        "find_button",
        "slot_table",
        *buttons(dialog),
    ]


def test_client_registration_tab_order(qtbot: QtBot, sqlite_services: Services) -> None:
    world = build_world(sqlite_services)
    dialog = ClientDialog(
        sqlite_services.clients, world.staff, RecordingPrompter(), station_id=world.station_id
    )
    assert tab_ring(qtbot, dialog) == [
        "name_edit",
        "phone_edit",
        "work_unit_edit",
        "gender_combo",
        "birth_year_spin",
        *buttons(dialog),
    ]


def test_note_editor_tab_order(qtbot: QtBot, sqlite_services: Services, clock: FakeClock) -> None:
    env: Env = build_env(sqlite_services, clock)
    editor = NoteEditor(env.services, env.reg, env.prompter, appointment_id=env.appointment_id)
    # Opens in the first section, ready to type; the template chooser at the top comes after
    # the buttons at the bottom, as Tab wraps round.
    assert tab_ring(qtbot, editor) == [
        "section_subjective",
        "section_objective",
        "section_assessment",
        "section_plan",
        "save_now",
        "sign_note",
        "close_note",
        "template_combo",
    ]


def test_assessment_dialog_tab_order(qtbot: QtBot) -> None:
    dialog = AssessmentDialog(
        FakeAssessments(),
        COUNSELLOR,
        RecordingPrompter(),
        client_id=5,
        client_label="C-000123",
        case_id=11,
        appointment_id=12,
        instrument="k10",
    )
    ring = tab_ring(qtbot, dialog, limit=120)
    # The questionnaire and its language, the questions (each answer a Tab stop until one is
    # chosen; then the arrow keys move between answers), the prorating choice, the buttons.
    assert ring[:3] == ["instrument_combo", "language_combo", "questions_scroll"]
    assert ring[3:] == [
        *(f"option_{o}" for _question in range(10) for o in range(1, 6)),
        "prorate_check",
        *buttons(dialog),
    ]


def test_connection_dialog_tab_order(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = ConnectionDialog(
        Settings(tmp_path / "s.json"), MemorySecretStore(), RecordingPrompter()
    )
    assert tab_ring(qtbot, dialog) == [
        "embedded_choice",
        "server_choice",
        "path",
        "browse_file",
        "test_connection",
        *buttons(dialog),
    ]


def test_backups_dialog_tab_order(qtbot: QtBot, sqlite_services: Services, tmp_path: Path) -> None:
    world = build_world(sqlite_services)
    dialog = BackupsDialog(
        sqlite_services.backups, world.admin, Settings(tmp_path / "s.json"), RecordingPrompter()
    )
    assert tab_ring(qtbot, dialog) == [
        "backups",
        "back_up_now",
        "restore",
        "close",
        "choose_folder",
    ]


# --- the main window ---------------------------------------------------------------------------
def _window(
    qtbot: QtBot, services: Services, world: World, role: Role, tmp_path: Path
) -> MainWindow:
    window = MainWindow(
        services, world.actor(role), Settings(tmp_path / "s.json"), RecordingPrompter()
    )
    qtbot.addWidget(window)
    window.show()
    return window


def _menu_actions(window: MainWindow) -> list[QAction]:
    found: list[QAction] = []
    for top in window.menuBar().actions():
        menu = top.menu()
        if isinstance(menu, QMenu):
            found += [a for a in menu.actions() if not a.isSeparator()]
    return found


COMMON = {
    Role.STAFF: [
        "New booking...",
        "Print...",
        "Lock screen",
        "Sign out",
        "Quit",
        "Find...",
        "Refresh",
    ],
    Role.COUNSELLOR: [
        "New booking...",
        "Print...",
        "Lock screen",
        "Sign out",
        "Quit",
        "Find...",
        "Refresh",
    ],
    Role.MANAGER: ["Print...", "Lock screen", "Sign out", "Quit", "Find...", "Refresh"],
    Role.ADMIN: ["Print...", "Lock screen", "Sign out", "Quit", "Find...", "Refresh"],
}


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_menu_shortcuts_are_shown_and_never_shared(
    qtbot: QtBot, sqlite_services: Services, role: Role, tmp_path: Path
) -> None:
    window = _window(qtbot, sqlite_services, build_world(sqlite_services), role, tmp_path)
    actions = _menu_actions(window)
    keys = {a.text().replace("&", ""): a.shortcut().toString() for a in actions}
    # The common actions have a shortcut, and a menu entry shows it beside its text.
    assert [t for t in COMMON[role] if not keys.get(t)] == []
    # Each screen in the Go menu: Ctrl+1, Ctrl+2, ... in navigation order.
    titles = [v.title() for v in window.views]
    assert [keys[t] for t in titles[:9]] == [f"Ctrl+{i}" for i in range(1, min(len(titles), 9) + 1)]
    # No two actions share keys, and no screen's own shortcut takes one of theirs.
    taken = [a.shortcut().toString() for a in actions if not a.shortcut().isEmpty()]
    assert len(taken) == len(set(taken)), taken
    screen_keys = {s.key().toString() for s in window.findChildren(QShortcut)}
    assert screen_keys & set(taken) == set()


def test_find_goes_to_the_screens_search_box(
    qtbot: QtBot, sqlite_services: Services, tmp_path: Path
) -> None:
    window = _window(qtbot, sqlite_services, build_world(sqlite_services), Role.STAFF, tmp_path)
    calendar = 0
    assert not window.find_action.isEnabled()  # the calendar has no search box
    clients = next(i for i, v in enumerate(window.views) if isinstance(v, ClientsView))
    window.nav.setCurrentRow(clients)
    assert window.find_action.isEnabled()
    assert not window.print_action.isEnabled()
    window.nav.setFocus()
    window.find_action.trigger()
    assert window.focusWidget() is window.views[clients].search_field()
    window.nav.setCurrentRow(calendar)
    assert not window.find_action.isEnabled()


def test_enter_on_a_day_list_row_opens_the_appointment(
    qtbot: QtBot, sqlite_services: Services, tmp_path: Path, clock: FakeClock
) -> None:
    world = build_world(sqlite_services)
    start = clock.now().astimezone(SH).replace(hour=15, minute=0)
    appointment_id = add_appointment(sqlite_services, world, start, start + timedelta(minutes=50))
    window = _window(qtbot, sqlite_services, world, Role.STAFF, tmp_path)
    index = next(i for i, v in enumerate(window.views) if isinstance(v, StationDayView))
    window.nav.setCurrentRow(index)
    view = window.views[index]
    assert isinstance(view, StationDayView)
    view.date_edit.setDate(QDate(start.year, start.month, start.day))
    view.table.setFocus()
    view.table.setCurrentIndex(view.table.model().index(0, 0))
    with qtbot.waitSignal(view.appointment_opened) as opened:
        qtbot.keyClick(view.table, Qt.Key.Key_Return)
    assert opened.args == [appointment_id]
    dialogs = [d for d in window.findChildren(AppointmentDialog) if d.isVisible()]
    assert [d.appointment_id for d in dialogs] == [appointment_id]


def test_new_booking_from_a_day_list_books_at_the_station_shown(
    qtbot: QtBot, sqlite_services: Services, tmp_path: Path
) -> None:
    world = build_world(sqlite_services)
    sqlite_services.admin.create_user(
        actor=world.admin,
        data=UserInput(
            username="staff03",
            display_name="两站员工",
            roles=frozenset({Role.STAFF}),
            station_ids=frozenset({world.station_id, world.other_station_id}),
        ),
        password=PASSWORD,
    )
    staff = sqlite_services.auth.sign_in(
        username="staff03", password=PASSWORD, station_id=world.station_id
    )
    window = MainWindow(sqlite_services, staff, Settings(tmp_path / "s.json"), RecordingPrompter())
    qtbot.addWidget(window)
    window.show()
    index = next(i for i, v in enumerate(window.views) if isinstance(v, StationDayView))
    window.nav.setCurrentRow(index)
    view = window.views[index]
    assert isinstance(view, StationDayView)
    view.station_combo.setCurrentIndex(view.station_combo.findData(world.other_station_id))
    assert window.new_booking_action is not None
    window.new_booking_action.trigger()  # Ctrl+N
    dialogs = [d for d in window.findChildren(BookingDialog) if d.isVisible()]
    assert [d._station_id for d in dialogs] == [world.other_station_id]
