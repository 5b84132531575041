"""The set-up and sign-in dialogs, each role's main window, locking and signing out."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableView
from pytestqt.qtbot import QtBot

from carestation.domain.roles import Role
from carestation.services.container import Services
from carestation.settings import Settings
from carestation.ui.main_window import MainWindow, nav_titles
from carestation.ui.prompts import RecordingPrompter
from carestation.ui.setup_dialog import SetupDialog
from carestation.ui.sign_in_dialog import DemoAccountHint, SignInDialog
from carestation.ui.views.base import View
from tests.factories import PASSWORD, World, add_appointment, build_world
from tests.ui.typing import type_text


@pytest.fixture
def world(sqlite_services: Services) -> World:
    return build_world(sqlite_services)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(tmp_path / "settings.json")


def _window(
    qtbot: QtBot, services: Services, world: World, role: Role, settings: Settings
) -> MainWindow:
    window = MainWindow(
        services, world.actor(role), settings, RecordingPrompter(), station_name="暨阳"
    )
    qtbot.addWidget(window)
    window.show()
    return window


# --- set-up ----------------------------------------------------------------------------------
def test_setup_dialog_creates_station_and_admin(qtbot: QtBot, sqlite_services: Services) -> None:
    dialog = SetupDialog(sqlite_services.setup, RecordingPrompter())
    qtbot.addWidget(dialog)
    type_text(qtbot, dialog.station_name, "枫桥镇职工情绪管理服务站")
    type_text(qtbot, dialog.display_name, "系统管理员")
    qtbot.keyClicks(dialog.password, PASSWORD)
    qtbot.keyClicks(dialog.confirm, PASSWORD)
    dialog.on_ok()
    assert dialog.result() == dialog.DialogCode.Accepted
    station, actor = dialog.result_value  # type: ignore[misc]
    assert station.name == "枫桥镇职工情绪管理服务站"
    assert len(station.hours) == 5
    assert actor.roles == frozenset({Role.ADMIN})
    assert not sqlite_services.setup.needs_setup()
    assert (
        sqlite_services.auth.sign_in(username="admin", password=PASSWORD).user_id == actor.user_id
    )


def test_setup_dialog_shows_every_problem_beside_its_field(
    qtbot: QtBot, sqlite_services: Services
) -> None:
    dialog = SetupDialog(sqlite_services.setup, RecordingPrompter())
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.phone, "12345")
    qtbot.keyClicks(dialog.password, "short")
    dialog.on_ok()
    assert dialog.result() != dialog.DialogCode.Accepted
    assert "Station name is required" in dialog.errors.text("station.name")
    assert "mobile number" in dialog.errors.text("station.phone")
    assert "at least 10 characters" in dialog.errors.text("password")
    assert "Your name is required" in dialog.errors.text("display_name")
    assert sqlite_services.setup.needs_setup()


def test_setup_dialog_password_confirmation(qtbot: QtBot, sqlite_services: Services) -> None:
    dialog = SetupDialog(sqlite_services.setup, RecordingPrompter())
    qtbot.addWidget(dialog)
    dialog.show()
    type_text(qtbot, dialog.station_name, "站")
    type_text(qtbot, dialog.display_name, "管理员")
    qtbot.keyClicks(dialog.password, PASSWORD)
    qtbot.keyClicks(dialog.confirm, PASSWORD + "x")
    dialog.on_ok()
    assert "differ" in dialog.errors.text("confirm")
    assert sqlite_services.setup.needs_setup()


# --- sign-in ---------------------------------------------------------------------------------
def test_sign_in_dialog_success(qtbot: QtBot, sqlite_services: Services, world: World) -> None:
    dialog = SignInDialog(sqlite_services.auth, station_id=world.station_id, station_name="暨阳")
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.username, "staff01")
    qtbot.keyClicks(dialog.password, PASSWORD)
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    assert dialog.actor is not None
    assert dialog.actor.username == "staff01"
    assert dialog.password.text() == ""


def test_enter_in_the_password_field_signs_in(
    qtbot: QtBot, sqlite_services: Services, world: World
) -> None:
    dialog = SignInDialog(sqlite_services.auth, station_id=world.station_id)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.username, "c001")
    qtbot.keyClicks(dialog.password, PASSWORD)
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    assert dialog.actor is not None
    assert dialog.actor.username == "c001"
    assert dialog.result() == dialog.DialogCode.Accepted


def test_sign_in_dialog_wrong_password_and_lockout(
    qtbot: QtBot, sqlite_services: Services, world: World
) -> None:
    dialog = SignInDialog(sqlite_services.auth, station_id=world.station_id)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.username, "staff01")
    for _ in range(4):
        qtbot.keyClicks(dialog.password, "wrong password")
        dialog.on_sign_in()
        assert "not right" in dialog.message.text()
        assert dialog.password.text() == ""
    qtbot.keyClicks(dialog.password, "wrong password")
    dialog.on_sign_in()
    assert "locked for 5 minutes" in dialog.message.text()
    qtbot.keyClicks(dialog.password, PASSWORD)
    dialog.on_sign_in()
    assert dialog.actor is None


def test_sign_in_dialog_empty_fields(qtbot: QtBot, sqlite_services: Services, world: World) -> None:
    dialog = SignInDialog(sqlite_services.auth, station_id=None)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.on_sign_in()
    assert dialog.message.text() == "Enter your user name and password."


def test_demo_accounts_are_listed_and_fill_the_form(
    qtbot: QtBot, sqlite_services: Services, world: World
) -> None:
    hints = [DemoAccountHint("staff01", PASSWORD, "Station staff")]
    dialog = SignInDialog(sqlite_services.auth, station_id=None, demo_accounts=hints)
    qtbot.addWidget(dialog)
    from PySide6.QtWidgets import QTableWidget

    table = dialog.findChild(QTableWidget)
    assert table is not None
    assert table.item(0, 0).text() == "staff01"
    table.cellDoubleClicked.emit(0, 0)
    assert dialog.username.text() == "staff01"
    assert dialog.password.text() == PASSWORD


# --- the main window per role ---------------------------------------------------------------
EXPECTED_SCREENS = {
    Role.STAFF: [
        "Calendar",
        "Today at the station",
        "Waitlist",
        "Lectures",
        "Reminders and printing",
        "Risk alerts",
        "Clients",
        "Screening campaigns",
    ],
    Role.COUNSELLOR: [
        "My calendar",
        "My day",
        "My cases",
        "Notes to co-sign",
        "Crisis follow-ups",
        "Risk alerts",
        "Clients",
    ],
    Role.MANAGER: ["Summary report", "Screening campaigns"],
    Role.ADMIN: [
        "Summary report",
        "Screening campaigns",
        "Stations",
        "Schedule settings",
        "Users and roles",
        "Audit trail",
        "Personal data requests",
        "Protection key",
    ],
}


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_each_role_sees_exactly_its_screens(
    qtbot: QtBot, sqlite_services: Services, world: World, role: Role, settings: Settings
) -> None:
    window = _window(qtbot, sqlite_services, world, role, settings)
    assert nav_titles(window) == EXPECTED_SCREENS[role]
    for index in range(len(window.views)):
        window.nav.setCurrentRow(index)
        assert window.stack.currentWidget() is window.views[index]
    assert not [s for s in window._prompter.shown if s[0] == "error"]  # type: ignore[attr-defined]
    assert window.windowTitle() == "CareStation · 暨阳"


def _day_view(window: MainWindow) -> View:
    """The day list, shown (as a user would navigate to it), so it has loaded."""
    index = next(
        i for i, v in enumerate(window.views) if v.TITLE in ("Today at the station", "My day")
    )
    window.nav.setCurrentRow(index)
    return window.views[index]


def _staff_table(window: MainWindow) -> QTableView:
    table = _day_view(window).findChild(QTableView, "appointments_table")
    assert table is not None
    return table


def test_staff_day_list_shows_the_days_appointments(
    qtbot: QtBot, sqlite_services: Services, world: World, settings: Settings
) -> None:
    add_appointment(
        sqlite_services,
        world,
        datetime(2026, 11, 23, 1, 0, tzinfo=UTC),
        datetime(2026, 11, 23, 1, 50, tzinfo=UTC),
    )
    window = _window(qtbot, sqlite_services, world, Role.STAFF, settings)
    view = _day_view(window)
    view.date_edit.setDate(view.date_edit.date().fromString("2026-11-23", "yyyy-MM-dd"))  # type: ignore[attr-defined]
    model = _staff_table(window).model()
    assert model.rowCount() == 1
    assert model.index(0, 0).data() == "09:00–09:50"
    assert model.index(0, 2).data() == "张三"


def test_day_list_opens_in_time_order(
    qtbot: QtBot, sqlite_services: Services, world: World, settings: Settings
) -> None:
    for hour in (7, 1, 4):  # UTC: 15:00, 09:00, 12:00 in Shanghai, inserted out of order
        add_appointment(
            sqlite_services,
            world,
            datetime(2026, 11, 23, hour, 0, tzinfo=UTC),
            datetime(2026, 11, 23, hour, 50, tzinfo=UTC),
        )
    window = _window(qtbot, sqlite_services, world, Role.STAFF, settings)
    view = _day_view(window)
    view.date_edit.setDate(view.date_edit.date().fromString("2026-11-23", "yyyy-MM-dd"))  # type: ignore[attr-defined]
    model = _staff_table(window).model()
    assert [model.index(r, 0).data() for r in range(3)] == [
        "09:00–09:50",
        "12:00–12:50",
        "15:00–15:50",
    ]


def test_lock_hides_everything_and_unlock_needs_the_password(
    qtbot: QtBot, sqlite_services: Services, world: World, settings: Settings
) -> None:
    add_appointment(
        sqlite_services,
        world,
        datetime(2026, 11, 23, 1, 0, tzinfo=UTC),
        datetime(2026, 11, 23, 1, 50, tzinfo=UTC),
    )
    window = _window(qtbot, sqlite_services, world, Role.STAFF, settings)
    view = _day_view(window)
    view.date_edit.setDate(view.date_edit.date().fromString("2026-11-23", "yyyy-MM-dd"))  # type: ignore[attr-defined]
    assert _staff_table(window).model().rowCount() == 1
    window.lock()
    assert window.is_locked
    assert window.pages.currentWidget() is window.lock_screen
    assert _staff_table(window).model().rowCount() == 0  # no personal data left in any model
    assert not window.menuBar().actions()[0].isVisible()
    qtbot.keyClicks(window.lock_screen.password, "wrong password")
    window.lock_screen.on_unlock()
    assert window.is_locked
    assert "not right" in window.lock_screen.message.text()
    qtbot.keyClicks(window.lock_screen.password, PASSWORD)
    window.lock_screen.on_unlock()
    assert not window.is_locked
    assert _staff_table(window).model().rowCount() == 1


def test_five_wrong_unlocks_sign_the_user_out(
    qtbot: QtBot, sqlite_services: Services, world: World, settings: Settings
) -> None:
    window = _window(qtbot, sqlite_services, world, Role.STAFF, settings)
    window.lock()
    with qtbot.waitSignal(window.signed_out, timeout=2000):
        for _ in range(5):
            qtbot.keyClicks(window.lock_screen.password, "wrong password")
            window.lock_screen.on_unlock()


def test_idle_time_locks_the_window(
    qtbot: QtBot, sqlite_services: Services, world: World, settings: Settings
) -> None:
    window = _window(qtbot, sqlite_services, world, Role.COUNSELLOR, settings)
    window.idle.set_minutes(0.001)  # 60 ms
    window.idle.start()
    qtbot.waitUntil(lambda: window.is_locked, timeout=3000)


def test_sign_out_clears_and_signals(
    qtbot: QtBot, sqlite_services: Services, world: World, settings: Settings
) -> None:
    window = _window(qtbot, sqlite_services, world, Role.MANAGER, settings)
    with qtbot.waitSignal(window.signed_out, timeout=2000):
        window.sign_out_action.trigger()
    assert window.views[0].model.rowCount() == 0  # type: ignore[attr-defined]
    assert not window.isVisible()


@pytest.mark.parametrize(
    ("role", "headers"),
    [
        (Role.STAFF, ["Time", "Type", "Client", "Client code", "Counsellor", "Room", "Status"]),
        (Role.COUNSELLOR, ["Time", "Station", "Type", "Client", "Client code", "Room", "Status"]),
    ],
    ids=["staff", "counsellor"],
)
def test_day_list_columns(
    qtbot: QtBot,
    sqlite_services: Services,
    world: World,
    settings: Settings,
    role: Role,
    headers: list[str],
) -> None:
    window = _window(qtbot, sqlite_services, world, role, settings)
    model = _staff_table(window).model()
    assert [
        model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())
    ] == headers


def test_calendar_opens_the_booking_and_appointment_dialogs(
    qtbot: QtBot, sqlite_services: Services, world: World, settings: Settings
) -> None:
    from carestation.ui.appointment_dialog import AppointmentDialog
    from carestation.ui.booking_dialog import BookingDialog

    appointment = add_appointment(
        sqlite_services,
        world,
        datetime(2026, 11, 24, 1, 0, tzinfo=UTC),
        datetime(2026, 11, 24, 1, 50, tzinfo=UTC),
    )
    window = _window(qtbot, sqlite_services, world, Role.STAFF, settings)
    calendar = window.views[0]
    calendar.appointment_opened.emit(appointment)  # type: ignore[attr-defined]
    dialog = window.findChild(AppointmentDialog)
    assert dialog is not None
    dialog.close()
    start = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    calendar.booking_requested.emit(start, world.counsellor.user_id)  # type: ignore[attr-defined]
    booking = window.findChild(BookingDialog)
    assert booking is not None
    booking.close()
    assert window.new_booking_action is not None
    assert window.new_booking_action.shortcut().toString() == "Ctrl+N"
