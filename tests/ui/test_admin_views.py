"""The administrator's stations and users screens, driven as a user would, on a real database."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any, TypeVar

import pytest
from PySide6.QtCore import Qt, QTime
from PySide6.QtWidgets import QDialog, QLabel, QPushButton, QTableView, QWidget
from pytestqt.qtbot import QtBot

from carestation.domain.errors import AuthenticationFailed
from carestation.domain.roles import Role
from carestation.domain.values import (
    Actor,
    CounsellorProfile,
    OpeningHours,
    Station,
    StationInput,
    UserInput,
)
from carestation.domain.vocab import CounsellorKind, RoomKind
from carestation.i18n import set_language
from carestation.services.container import Services
from carestation.ui.prompts import RecordingPrompter
from carestation.ui.views.admin_stations import (
    RecordPanel,
    RoomDialog,
    StationDialog,
    StationsView,
    hours_summary,
)
from carestation.ui.views.admin_users import (
    ResetPasswordDialog,
    UserDialog,
    UsersView,
    local_time,
)
from tests.ui.typing import type_text

# The offscreen platform warns whenever a window with a minimum size is shown; nothing is wrong.

D = TypeVar("D", bound=QDialog)
PASSWORD = "correct horse battery"
STATION = "诸暨市职工情绪管理服务站"
WEEKDAYS_8_30_TO_17 = tuple(OpeningHours(d, time(8, 30), time(17, 0)) for d in range(5))


@dataclass
class Env:
    services: Services
    station: Station
    admin: Actor
    prompter: RecordingPrompter


@pytest.fixture
def env(sqlite_services: Services) -> Env:
    """A real SQLite file (conftest's `sqlite_services`, on a fake clock) with its first admin."""
    set_language("en")
    services = sqlite_services
    station, admin = services.setup.create_first_admin(
        station=StationInput(name=STATION, hours=WEEKDAYS_8_30_TO_17),
        username="admin",
        display_name="管理员",
        password=PASSWORD,
    )
    return Env(services, station, admin, RecordingPrompter())


@pytest.fixture
def stations_view(qtbot: QtBot, env: Env) -> StationsView:
    view = StationsView(env.services.admin, env.admin, env.prompter)
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    qtbot.waitExposed(view)
    view.refresh()
    return view


@pytest.fixture
def users_view(qtbot: QtBot, env: Env) -> UsersView:
    view = UsersView(env.services.admin, env.admin, env.prompter)
    qtbot.addWidget(view)
    view.resize(1200, 600)
    view.show()
    qtbot.waitExposed(view)
    view.refresh()
    return view


# --- helpers ------------------------------------------------------------------------------------
def click(qtbot: QtBot, parent: QWidget, name: str) -> QPushButton:
    button = parent.findChild(QPushButton, name)
    assert button is not None, name
    assert button.isEnabled(), f"{name} is disabled"
    button.click()
    return button


def open_dialog(parent: QWidget, kind: type[D]) -> D:
    dialogs = [d for d in parent.findChildren(kind) if d.isVisible()]
    assert len(dialogs) == 1, dialogs
    return dialogs[0]


def table_texts(panel: RecordPanel) -> list[list[str]]:
    proxy = panel.table.model()
    return [
        [proxy.index(row, col).data() for col in range(proxy.columnCount())]
        for row in range(proxy.rowCount())
    ]


def select_row(qtbot: QtBot, table: QTableView, first_column: str, *, double: bool = False) -> None:
    proxy = table.model()
    for row in range(proxy.rowCount()):
        index = proxy.index(row, 0)
        if index.data() == first_column:
            table.scrollTo(index)
            pos = table.visualRect(index).center()
            qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=pos)
            if double:  # QTest's double click is only the second half of one
                qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=pos)
            return
    raise AssertionError(f"no row {first_column!r} in {table.objectName()}")


def error_text(dialog: QDialog, key: str) -> str:
    label = dialog.findChild(QLabel, f"error_{key}")
    assert label is not None, key
    return label.text() if label.isVisibleTo(dialog) else ""


def add_user(env: Env, username: str, roles: set[Role], **kwargs: Any) -> None:
    env.services.admin.create_user(
        actor=env.admin,
        data=UserInput(
            username=username,
            display_name=kwargs.pop("display_name", username),
            roles=frozenset(roles),
            station_ids=frozenset({env.station.id}),
            **kwargs,
        ),
        password=PASSWORD,
    )


# --- stations -----------------------------------------------------------------------------------
def test_hours_summary_groups_consecutive_days_with_the_same_hours() -> None:
    hours = (*WEEKDAYS_8_30_TO_17, OpeningHours(5, time(8, 30), time(12, 0)))
    assert hours_summary(hours) == "Mon-Fri 08:30-17:00; Sat 08:30-12:00"
    split = (OpeningHours(0, time(9), time(12)), OpeningHours(0, time(14), time(17)))
    assert hours_summary((*split, OpeningHours(2, time(9), time(12)))) == (
        "Mon 09:00-12:00, 14:00-17:00; Wed 09:00-12:00"
    )
    assert hours_summary(()) == "Closed all week"


def test_a_new_station_typed_into_the_dialog_appears_in_the_table(
    qtbot: QtBot, env: Env, stations_view: StationsView
) -> None:
    assert table_texts(stations_view.stations) == [[STATION, "", "", "Mon-Fri 08:30-17:00", "Yes"]]
    click(qtbot, stations_view, "new_station")
    dialog = open_dialog(stations_view, StationDialog)
    assert dialog.windowTitle() == "New station"
    assert dialog.zone_combo.currentText() == "Asia/Shanghai"
    type_text(qtbot, dialog.name_edit, "枫桥镇服务站")
    type_text(qtbot, dialog.address_edit, "枫桥镇工会大楼二楼")
    type_text(qtbot, dialog.phone_edit, "0575-87001234")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    assert not dialog.isVisible()
    assert dialog.result() == QDialog.DialogCode.Accepted
    rows = table_texts(stations_view.stations)
    assert [
        "枫桥镇服务站",
        "枫桥镇工会大楼二楼",
        "0575-87001234",
        "Mon-Fri 08:30-17:00",
        "Yes",
    ] in rows
    assert stations_view.selected_station().name == "枫桥镇服务站"
    assert stations_view.rooms.title() == "Rooms at 枫桥镇服务站"
    saved = [s.name for s in env.services.admin.list_stations(actor=env.admin)]
    assert sorted(saved) == sorted([STATION, "枫桥镇服务站"])


def test_a_duplicate_station_name_is_shown_beside_the_field_and_nothing_is_saved(
    qtbot: QtBot, env: Env, stations_view: StationsView
) -> None:
    click(qtbot, stations_view, "new_station")
    dialog = open_dialog(stations_view, StationDialog)
    type_text(qtbot, dialog.name_edit, STATION)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    assert dialog.isVisible()
    assert error_text(dialog, "name") == f"Another station is already called {STATION}."
    assert error_text(dialog, "phone") == ""
    assert env.prompter.shown == []  # beside the field, not in a message box
    assert len(env.services.admin.list_stations(actor=env.admin, include_inactive=True)) == 1
    assert len(table_texts(stations_view.stations)) == 1
    dialog.reject()


def test_an_impossible_opening_period_is_shown_under_the_hours_naming_the_day(
    qtbot: QtBot, env: Env, stations_view: StationsView
) -> None:
    select_row(qtbot, stations_view.stations.table, STATION, double=True)
    dialog = open_dialog(stations_view, StationDialog)
    assert dialog.windowTitle() == "Edit station"
    assert dialog.name_edit.text() == STATION
    sunday_open, sunday_from, sunday_to = dialog.hours_editor.row_widgets(6)
    sunday_open.setChecked(True)
    sunday_from.setTime(QTime(18, 0))
    sunday_to.setTime(QTime(9, 0))
    dialog.on_ok()
    assert dialog.isVisible()
    assert error_text(dialog, "hours") == "Sunday: Closing time must be after opening time."
    assert env.services.admin.list_stations(actor=env.admin)[0].hours == WEEKDAYS_8_30_TO_17
    dialog.reject()


def test_editing_hours_by_double_click_updates_the_summary(
    qtbot: QtBot, env: Env, stations_view: StationsView
) -> None:
    select_row(qtbot, stations_view.stations.table, STATION, double=True)
    dialog = open_dialog(stations_view, StationDialog)
    saturday_open, saturday_from, saturday_to = dialog.hours_editor.row_widgets(5)
    saturday_open.setChecked(True)
    saturday_from.setTime(QTime(8, 30))
    saturday_to.setTime(QTime(12, 0))
    dialog.on_ok()
    assert not dialog.isVisible()
    assert table_texts(stations_view.stations)[0][3] == "Mon-Fri 08:30-17:00; Sat 08:30-12:00"
    (station,) = env.services.admin.list_stations(actor=env.admin)
    assert station.hours == (*WEEKDAYS_8_30_TO_17, OpeningHours(5, time(8, 30), time(12, 0)))


def test_a_room_is_added_to_the_selected_station_and_deactivated_after_confirming(
    qtbot: QtBot, env: Env, stations_view: StationsView
) -> None:
    # The session's station is selected on arrival, so its rooms (none yet) show at once.
    assert stations_view.selected_station().id == env.station.id
    assert stations_view.new_room_button.isEnabled()
    select_row(qtbot, stations_view.stations.table, STATION)
    click(qtbot, stations_view, "new_room")
    dialog = open_dialog(stations_view, RoomDialog)
    type_text(qtbot, dialog.name_edit, "情绪调节舱一号")
    dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findText("Emotion pod"))
    dialog.capacity_spin.setValue(1)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert table_texts(stations_view.rooms) == [["情绪调节舱一号", "Emotion pod", "1", "Yes"]]
    (room,) = env.services.admin.list_rooms(actor=env.admin, station_id=env.station.id)
    assert (room.kind, room.capacity) == (RoomKind.EMOTION_POD, 1)

    toggle = stations_view.findChild(QPushButton, "room_active")
    assert toggle.text() == "Deactivate"  # the new room is selected
    env.prompter.answer = False
    toggle.click()
    assert env.prompter.shown[-1][:2] == ("confirm", "Deactivate room")
    assert table_texts(stations_view.rooms)[0][3] == "Yes"

    env.prompter.answer = True
    toggle.click()
    assert table_texts(stations_view.rooms) == [["情绪调节舱一号", "Emotion pod", "1", "No"]]
    assert toggle.text() == "Reactivate"
    assert env.services.admin.list_rooms(actor=env.admin, station_id=env.station.id) == []


def test_deactivating_a_station_asks_first_and_the_button_then_offers_reactivation(
    qtbot: QtBot, env: Env, stations_view: StationsView
) -> None:
    select_row(qtbot, stations_view.stations.table, STATION)
    toggle = click(qtbot, stations_view, "station_active")
    assert env.prompter.shown == [
        (
            "confirm",
            "Deactivate station",
            f"Deactivate {STATION}? It will no longer be offered for bookings; its records are "
            "kept and it can be reactivated later.",
        )
    ]
    assert table_texts(stations_view.stations)[0][4] == "No"
    assert toggle.text() == "Reactivate"
    toggle.click()
    assert len(env.prompter.shown) == 1  # reactivating needs no confirmation
    assert table_texts(stations_view.stations)[0][4] == "Yes"


# --- users --------------------------------------------------------------------------------------
def test_a_counsellor_is_created_with_a_station_and_a_kind(
    qtbot: QtBot, env: Env, users_view: UsersView
) -> None:
    click(qtbot, users_view, "new_user")
    dialog = open_dialog(users_view, UserDialog)
    assert dialog.windowTitle() == "New user"
    assert not dialog.counsellor_box.isVisibleTo(dialog)
    type_text(qtbot, dialog.username_edit, "wang.li")
    type_text(qtbot, dialog.display_name_edit, "王丽")
    dialog.role_boxes[Role.COUNSELLOR].click()
    assert dialog.counsellor_box.isVisibleTo(dialog)
    type_text(qtbot, dialog.password_edit, "a long enough secret")
    type_text(qtbot, dialog.confirm_edit, "a long enough secret")

    dialog.on_ok()  # no station and no kind yet: both refused beside their fields
    assert dialog.isVisible()
    assert error_text(dialog, "stations") == (
        "Staff and counsellors must work at one station at least."
    )
    assert error_text(dialog, "counsellor_kind") == "Choose what kind of counsellor this is."

    dialog.station_items()[env.station.id].setCheckState(Qt.CheckState.Checked)
    dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findText("Emotion regulator"))
    type_text(qtbot, dialog.qualifications_edit, "国家二级心理咨询师")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    assert not dialog.isVisible()
    row = next(r for r in table_texts(users_view.users) if r[0] == "wang.li")
    assert row == [
        "wang.li",
        "王丽",
        "Counsellor",
        STATION,
        "Emotion regulator",
        "Yes",
        "",
        "Never",
    ]
    user = next(
        u for u in env.services.admin.list_users(actor=env.admin) if u.username == "wang.li"
    )
    assert user.roles == {Role.COUNSELLOR}
    assert user.station_ids == {env.station.id}
    assert user.counsellor is not None
    assert (user.counsellor.kind, user.counsellor.qualifications) == (
        CounsellorKind.REGULATOR,
        "国家二级心理咨询师",
    )
    env.services.auth.sign_in(username="wang.li", password="a long enough secret")


def test_editing_a_user_keeps_the_user_name_read_only(
    qtbot: QtBot, env: Env, users_view: UsersView
) -> None:
    add_user(env, "staff01", {Role.STAFF}, display_name="王芳")
    users_view.refresh()
    select_row(qtbot, users_view.users.table, "staff01", double=True)
    dialog = open_dialog(users_view, UserDialog)
    assert dialog.windowTitle() == "Edit user"
    assert dialog.username_edit.isReadOnly()
    assert dialog.password_edit is None
    assert dialog.role_boxes[Role.STAFF].isChecked()
    dialog.role_boxes[Role.MANAGER].click()
    dialog.on_ok()
    assert not dialog.isVisible()
    row = next(r for r in table_texts(users_view.users) if r[0] == "staff01")
    assert row[2] == "Station staff, Manager"


def test_differing_passwords_are_reported_before_asking_the_service(
    qtbot: QtBot, env: Env, users_view: UsersView
) -> None:
    click(qtbot, users_view, "new_user")
    dialog = open_dialog(users_view, UserDialog)
    type_text(qtbot, dialog.username_edit, "zhao")
    type_text(qtbot, dialog.display_name_edit, "赵")
    dialog.role_boxes[Role.MANAGER].click()
    type_text(qtbot, dialog.password_edit, "a long enough secret")
    type_text(qtbot, dialog.confirm_edit, "a long enough secreT")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    assert dialog.isVisible()
    assert error_text(dialog, "password_confirm") == (
        "The two passwords differ; type the same password twice."
    )
    assert env.prompter.shown == []
    assert [u.username for u in env.services.admin.list_users(actor=env.admin)] == ["admin"]
    dialog.reject()


def test_deactivating_the_last_admin_is_refused_through_the_prompter(
    qtbot: QtBot, env: Env, users_view: UsersView
) -> None:
    select_row(qtbot, users_view.users.table, "admin")
    click(qtbot, users_view, "user_active")
    assert [kind for kind, _title, _text in env.prompter.shown] == ["confirm", "error"]
    assert env.prompter.shown[1][2].startswith("This is the last active administrator.")
    (admin,) = env.services.admin.list_users(actor=env.admin)
    assert admin.active
    assert table_texts(users_view.users)[0][5] == "Yes"


def test_reset_password_lets_the_user_sign_in_with_the_new_one(
    qtbot: QtBot, env: Env, users_view: UsersView
) -> None:
    add_user(env, "staff01", {Role.STAFF})
    users_view.refresh()
    select_row(qtbot, users_view.users.table, "staff01")
    click(qtbot, users_view, "reset_password")
    dialog = open_dialog(users_view, ResetPasswordDialog)
    assert "staff01" not in dialog.windowTitle()
    type_text(qtbot, dialog.password_edit, "short")
    type_text(qtbot, dialog.confirm_edit, "short")
    dialog.on_ok()
    assert error_text(dialog, "password") == "The password needs at least 10 characters."
    dialog.password_edit.clear()
    dialog.confirm_edit.clear()
    type_text(qtbot, dialog.password_edit, "a brand new secret")
    type_text(qtbot, dialog.confirm_edit, "a brand new secret")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    assert not dialog.isVisible()
    actor = env.services.auth.sign_in(username="staff01", password="a brand new secret")
    assert actor.roles == {Role.STAFF}
    with pytest.raises(AuthenticationFailed):
        env.services.auth.sign_in(username="staff01", password=PASSWORD)


def test_a_locked_out_user_can_be_unlocked(
    qtbot: QtBot, env: Env, users_view: UsersView, clock: Any
) -> None:
    add_user(env, "staff01", {Role.STAFF})
    for _attempt in range(5):
        with pytest.raises(AuthenticationFailed):
            env.services.auth.sign_in(username="staff01", password="wrong password!")
    users_view.refresh()
    select_row(qtbot, users_view.users.table, "staff01")
    row = next(r for r in table_texts(users_view.users) if r[0] == "staff01")
    assert row[6] == local_time(clock.now() + timedelta(minutes=5))
    click(qtbot, users_view, "unlock_user")
    row = next(r for r in table_texts(users_view.users) if r[0] == "staff01")
    assert row[6] == ""
    assert not users_view.findChild(QPushButton, "unlock_user").isEnabled()
    env.services.auth.sign_in(username="staff01", password=PASSWORD)


def test_the_filter_matches_user_name_or_display_name(
    qtbot: QtBot, env: Env, users_view: UsersView
) -> None:
    add_user(env, "staff01", {Role.STAFF}, display_name="王芳")
    add_user(env, "staff02", {Role.STAFF}, display_name="李强")
    users_view.refresh()
    type_text(qtbot, users_view.filter_edit, "王")
    assert [r[0] for r in table_texts(users_view.users)] == ["staff01"]
    users_view.filter_edit.clear()
    type_text(qtbot, users_view.filter_edit, "STAFF")
    assert [r[0] for r in table_texts(users_view.users)] == ["staff01", "staff02"]
    users_view.filter_edit.clear()
    type_text(qtbot, users_view.filter_edit, "Station staff")  # roles are not searched
    assert table_texts(users_view.users) == []


def test_clear_forgets_everything_shown(qtbot: QtBot, env: Env, users_view: UsersView) -> None:
    users_view.clear()
    assert table_texts(users_view.users) == []
    assert not users_view.findChild(QPushButton, "edit_user").isEnabled()


def test_the_table_models_pass_the_model_tester(
    qtbot: QtBot, qtmodeltester: Any, env: Env, stations_view: StationsView, users_view: UsersView
) -> None:
    add_user(
        env,
        "c001",
        {Role.COUNSELLOR},
        counsellor=CounsellorProfile(kind=CounsellorKind.EXPERT),
    )
    users_view.refresh()
    select_row(qtbot, stations_view.stations.table, STATION)
    qtmodeltester.check(stations_view.stations.model)
    qtmodeltester.check(stations_view.rooms.model)
    qtmodeltester.check(users_view.users.model)
    users_view.filter_edit.setText("c0")
    qtmodeltester.check(users_view.users.proxy)
