"""The waitlist, lectures and schedule-settings screens, driven as a user would, on real SQLite."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QDate, QDateTime, Qt, QTime
from PySide6.QtWidgets import QDialog, QLabel, QPushButton, QTableView, QWidget
from pytestqt.qtbot import QtBot

from carestation.domain.booking import Appointment, BookingDraft, ClientInput
from carestation.domain.scheduling import DEFAULT_RULES, BookingRules, WeeklyPeriod
from carestation.domain.vocab import (
    AppointmentStatus,
    AppointmentType,
    CancelReason,
    ExceptionKind,
    RegistrationStatus,
    RoomKind,
)
from carestation.services.container import Services
from carestation.ui.client_picker import ClientPicker
from carestation.ui.prompts import RecordingPrompter
from carestation.ui.record_panel import RecordPanel
from carestation.ui.views.lecture_dialogs import LectureDialog, RegisterDialog
from carestation.ui.views.lectures_view import LecturesView
from carestation.ui.views.schedule_dialogs import AbsenceDialog, ClosureDialog, RulesDialog
from carestation.ui.views.schedule_settings_view import ScheduleSettingsView
from carestation.ui.views.waitlist_view import WaitlistDialog, WaitlistView
from tests.conftest import FakeClock
from tests.factories import World, add_room, build_world, set_counsellor_hours
from tests.ui.typing import type_text

SH = ZoneInfo("Asia/Shanghai")
STATION = "暨阳街道职工情绪管理服务站"
D = TypeVar("D", bound=QDialog)
V = TypeVar("V", bound=QWidget)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SH)


@dataclass
class Env:
    services: Services
    world: World
    prompter: RecordingPrompter
    clock: FakeClock

    def client(self, name: str, phone: str) -> int:
        return self.services.clients.register(
            actor=self.world.staff, data=ClientInput(name=name, phone=phone)
        ).id

    def book(self, hour: int, client_id: int, day: int = 24) -> Appointment:
        return self.services.booking.book(
            actor=self.world.staff,
            draft=BookingDraft(
                type=AppointmentType.COUNSELLING,
                station_id=self.world.station_id,
                starts_at=at(day, hour),
                client_id=client_id,
                counsellor_id=self.world.counsellor.user_id,
                room_id=self.world.room_id,
            ),
        )


@pytest.fixture
def env(sqlite_services: Services, clock: FakeClock) -> Env:
    """build_world's stations and people; 陈静 works Monday to Friday, 09:00-12:00."""
    world = build_world(sqlite_services)
    set_counsellor_hours(
        sqlite_services, world.counsellor.user_id, world.station_id, range(5), time(9), time(12)
    )
    return Env(sqlite_services, world, RecordingPrompter(), clock)


def shown(qtbot: QtBot, view: V) -> V:
    qtbot.addWidget(view)
    view.resize(1200, 760)
    view.show()
    qtbot.waitExposed(view)
    view.refresh()  # what the main window does when it first shows a screen
    return view


# --- helpers ------------------------------------------------------------------------------------
def click(parent: QWidget, name: str) -> None:
    button = parent.findChild(QPushButton, name)
    assert button is not None, name
    assert button.isEnabled(), f"{name} is disabled"
    button.click()


def the_dialog(parent: QWidget, kind: type[D]) -> D:
    dialogs = [d for d in parent.findChildren(kind) if d.isVisible()]
    assert len(dialogs) == 1, dialogs
    return dialogs[0]


def table_texts(panel: RecordPanel) -> list[list[str]]:
    proxy = panel.table.model()
    return [
        [proxy.index(row, col).data() for col in range(proxy.columnCount())]
        for row in range(proxy.rowCount())
    ]


def select_row(qtbot: QtBot, table: QTableView, column: int, text: str) -> None:
    proxy = table.model()
    for row in range(proxy.rowCount()):
        index = proxy.index(row, column)
        if index.data() == text:
            table.scrollTo(index)
            qtbot.mouseClick(
                table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualRect(index).center()
            )
            return
    raise AssertionError(f"no row with {text!r} in {table.objectName()}")


def pick_client(qtbot: QtBot, picker: ClientPicker, name: str) -> None:
    """Types the name and presses Enter: a single match is chosen."""
    type_text(qtbot, picker.search_edit, name)
    qtbot.keyClick(picker.search_edit, Qt.Key.Key_Return)
    assert picker.chosen is not None
    assert picker.chosen.name == name


def set_moment(edit: Any, moment: datetime) -> None:
    edit.setDateTime(
        QDateTime(QDate(moment.year, moment.month, moment.day), QTime(moment.hour, moment.minute))
    )


def error_text(dialog: QDialog, key: str) -> str:
    label = dialog.findChild(QLabel, f"error_{key}")
    assert label is not None, key
    return label.text() if label.isVisibleTo(dialog) else ""


# --- waitlist -----------------------------------------------------------------------------------
@pytest.fixture
def waitlist(qtbot: QtBot, env: Env) -> WaitlistView:
    view = shown(qtbot, WaitlistView(env.services, env.world.staff, env.prompter))
    settled(qtbot, view)
    return view


def settled(qtbot: QtBot, view: WaitlistView) -> None:
    """Free slots are looked for in a worker thread; wait for its answer."""
    qtbot.waitUntil(lambda: not view.searching, timeout=10_000)


def _full_tuesday_morning(env: Env) -> list[Appointment]:
    return [env.book(h, env.client(f"客{h}", f"135000000{h:02d}")) for h in (9, 10, 11)]


def _add_zhao_min_for_tuesday(qtbot: QtBot, env: Env, view: WaitlistView) -> None:
    env.client("赵敏", "13600000002")
    click(view, "add_waiting")
    dialog = the_dialog(view, WaitlistDialog)
    pick_client(qtbot, dialog.picker, "赵敏")
    dialog.counsellor_combo.setCurrentIndex(dialog.counsellor_combo.findText("陈静"))
    dialog.first_edit.setDate(QDate(2026, 11, 24))
    dialog.last_edit.setDate(QDate(2026, 11, 24))
    type_text(qtbot, dialog.note_edit, "只能上午")
    dialog.on_ok()
    assert dialog.result() == QDialog.DialogCode.Accepted
    settled(qtbot, view)


def test_a_freed_slot_is_offered_and_booking_it_takes_the_entry_off_the_list(
    qtbot: QtBot, env: Env, waitlist: WaitlistView
) -> None:
    booked = _full_tuesday_morning(env)
    _add_zhao_min_for_tuesday(qtbot, env, waitlist)
    assert table_texts(waitlist.panel) == [
        [
            "1",
            "赵敏 (" + waitlist.selected().client_code + ")",
            "Individual counselling",
            "陈静",
            "11-24 Tue",
            "08:00–18:00",
            "只能上午",
            "No free time yet",
        ]
    ]
    assert waitlist.summary_label.text() == "1 waiting, 0 with a free slot now"
    assert not waitlist.book_button.isEnabled()

    env.services.booking.cancel(
        actor=env.world.staff, appointment_id=booked[1].id, reason=CancelReason.CLIENT
    )
    waitlist.hide()
    waitlist.show()  # coming back to the screen works the offers out again
    assert waitlist.summary_label.text() == "1 waiting; looking for free slots..."
    settled(qtbot, waitlist)
    offer = waitlist.panel.table.model().index(0, 7)
    assert offer.data() == "11-24 Tue 10:00 陈静 个人咨询室一"
    assert offer.data(Qt.ItemDataRole.FontRole).bold()
    assert not offer.data(Qt.ItemDataRole.DecorationRole).isNull()
    assert not waitlist.panel.table.model().index(0, 6).data(Qt.ItemDataRole.FontRole)
    assert waitlist.summary_label.text() == "1 waiting, 1 with a free slot now"

    select_row(qtbot, waitlist.panel.table, 3, "陈静")
    click(waitlist, "book_offer")
    assert env.prompter.shown[-1][0] == "confirm"
    assert table_texts(waitlist.panel) == []
    assert waitlist.summary_label.text() == "0 waiting, 0 with a free slot now"
    assert waitlist.message_label.text().startswith("Booked 赵敏: 11-24 Tue 10:00")
    day = env.services.appointments.station_day(
        actor=env.world.staff, station_id=env.world.station_id, day=date(2026, 11, 24)
    )
    assert [(a.starts_at.hour, a.client_name) for a in day if a.status.value == "booked"] == [
        (9, "客9"),
        (10, "赵敏"),
        (11, "客11"),
    ]


def test_an_offer_taken_meanwhile_is_refused_and_the_list_reloads(
    qtbot: QtBot, env: Env, waitlist: WaitlistView
) -> None:
    booked = _full_tuesday_morning(env)
    _add_zhao_min_for_tuesday(qtbot, env, waitlist)
    env.services.booking.cancel(
        actor=env.world.staff, appointment_id=booked[1].id, reason=CancelReason.CLIENT
    )
    waitlist.refresh()
    settled(qtbot, waitlist)
    select_row(qtbot, waitlist.panel.table, 3, "陈静")
    env.book(10, env.client("钱多", "13600000003"))  # at another desk, before staff click

    click(waitlist, "book_offer")
    kind, title, text = env.prompter.shown[-1]
    assert (kind, title) == ("error", "The free slot could not be booked")
    assert "already has an appointment at 11-24 10:00" in text
    settled(qtbot, waitlist)
    assert [row[7] for row in table_texts(waitlist.panel)] == ["No free time yet"]


def test_the_waitlist_dialog_needs_a_client(qtbot: QtBot, env: Env, waitlist: WaitlistView) -> None:
    click(waitlist, "add_waiting")
    dialog = the_dialog(waitlist, WaitlistDialog)
    dialog.on_ok()
    assert dialog.isVisible()
    assert error_text(dialog, "client") == "Find the client and choose them from the list first."
    assert [dialog.type_combo.itemText(i) for i in range(dialog.type_combo.count())] == [
        "Individual counselling",
        "Emotion-pod session",
        "Online counselling",
    ]
    dialog.type_combo.setCurrentIndex(1)  # the pod has no counsellor
    assert not dialog.counsellor_combo.isEnabled()
    dialog.reject()
    waitlist.clear()
    assert waitlist.summary_label.text() == ""


# --- lectures -----------------------------------------------------------------------------------
@pytest.fixture
def lectures(qtbot: QtBot, env: Env) -> LecturesView:
    add_room(env.services, env.world, "团体活动室", RoomKind.GROUP_ROOM, capacity=30)
    set_counsellor_hours(
        env.services,
        env.world.counsellor.user_id,
        env.world.station_id,
        range(5),
        time(14),
        time(17),
    )
    return shown(qtbot, LecturesView(env.services, env.world.staff, env.prompter))


def _register(qtbot: QtBot, view: LecturesView, name: str) -> None:
    click(view, "register")
    dialog = the_dialog(view, RegisterDialog)
    pick_client(qtbot, dialog.picker, name)
    dialog.on_ok()
    assert dialog.result() == QDialog.DialogCode.Accepted


def test_a_lecture_fills_up_and_a_cancellation_moves_the_first_waiting_up(
    qtbot: QtBot, env: Env, lectures: LecturesView
) -> None:
    assert lectures.from_edit.date() == QDate(2026, 11, 1)
    assert lectures.to_edit.date() == QDate(2026, 12, 31)
    click(lectures, "new_lecture")
    dialog = the_dialog(lectures, LectureDialog)
    type_text(qtbot, dialog.title_edit, "职场压力与情绪调节")
    set_moment(dialog.start_edit, at(25, 14))
    assert dialog.length_spin.value() == 90  # the lecture rule's default
    assert dialog.room_radio.isChecked()
    dialog.capacity_spin.setValue(2)
    dialog.on_ok()
    assert dialog.result() == QDialog.DialogCode.Accepted
    booked = AppointmentStatus.BOOKED.title
    assert table_texts(lectures.lectures) == [
        ["2026-11-25 Wed 14:00–15:30", "职场压力与情绪调节", "陈静", "团体活动室", "0 / 2", booked]
    ]
    assert lectures.roster.title() == "Registrations: 职场压力与情绪调节, 11-25 Wed 14:00–15:30"

    for i, name in enumerate(["甲", "乙", "丙"]):
        env.client(name, f"1330000000{i}")
        env.clock.advance(minutes=1)  # registration order is by time
        _register(qtbot, lectures, name)
    assert lectures.message_label.text() == (
        "All places at 职场压力与情绪调节 are taken: 丙 is number 1 on its waitlist and moves "
        "up when someone cancels."
    )
    assert [r[1:5] for r in table_texts(lectures.roster)] == [
        ["甲", env.services.clients.search(actor=env.world.staff, text="甲")[0].client_code,
         "133****0000", "Registered"],
        ["乙", env.services.clients.search(actor=env.world.staff, text="乙")[0].client_code,
         "133****0001", "Registered"],
        ["丙", env.services.clients.search(actor=env.world.staff, text="丙")[0].client_code,
         "133****0002", "On the waitlist"],
    ]  # fmt: skip
    assert [r[0] for r in table_texts(lectures.roster)] == [
        "11-23 Mon 10:01",
        "11-23 Mon 10:02",
        "11-23 Mon 10:03",
    ]  # in the station's time, in the order they registered
    assert table_texts(lectures.lectures)[0][4] == "2 / 2 (1 waiting)"
    assert lectures.roster_summary.text() == "2 / 2 (1 waiting)"

    select_row(qtbot, lectures.roster.table, 1, "甲")
    click(lectures, "unregister")
    note = "丙 moved up from the waitlist and now has a place: let them know."
    assert env.prompter.shown[-1] == ("info", "Moved up from the waitlist", note)
    assert lectures.message_label.text() == f"甲's registration is cancelled. {note}"
    assert [(r[1], r[4]) for r in table_texts(lectures.roster)] == [
        ("甲", RegistrationStatus.CANCELLED.title),
        ("乙", "Registered"),
        ("丙", "Registered"),
    ]
    assert table_texts(lectures.lectures)[0][4] == "2 / 2"


def test_attendance_can_be_ticked_once_the_lecture_has_begun(
    qtbot: QtBot, env: Env, lectures: LecturesView
) -> None:
    lecture = env.services.booking.book(
        actor=env.world.staff,
        draft=BookingDraft(
            type=AppointmentType.LECTURE,
            station_id=env.world.station_id,
            starts_at=at(25, 14),
            counsellor_id=env.world.counsellor.user_id,
            address="城西工业园区 3 号楼会议室",
            title="睡眠与情绪",
            capacity=20,
        ),
    )
    reg = env.services.lectures.register(
        actor=env.world.staff, lecture_id=lecture.id, client_id=env.world.client_id
    )
    lectures.refresh()
    select_row(qtbot, lectures.lectures.table, 1, "睡眠与情绪")
    assert table_texts(lectures.lectures)[0][3] == "Off-site: 城西工业园区 3 号楼会议室"
    cell = lectures.roster_index(0, 5)
    assert not (cell.flags() & Qt.ItemFlag.ItemIsUserCheckable)

    env.clock.current = at(25, 14, 5)
    lectures.refresh()
    assert not lectures.roster.findChild(QPushButton, "register").isEnabled()
    cell = lectures.roster_index(0, 5)
    assert cell.flags() & Qt.ItemFlag.ItemIsUserCheckable
    table = lectures.roster.table
    table.setFocus()
    table.setCurrentIndex(cell)
    qtbot.keyClick(table, Qt.Key.Key_Space)  # ticks the box, as with the mouse
    assert cell.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    (saved,) = env.services.lectures.roster(actor=env.world.staff, lecture_id=lecture.id)
    assert (saved.id, saved.attended, saved.status) == (reg.id, True, RegistrationStatus.REGISTERED)


def test_a_refused_lecture_keeps_the_dialog_open_with_the_reasons(
    qtbot: QtBot, env: Env, lectures: LecturesView
) -> None:
    click(lectures, "new_lecture")
    dialog = the_dialog(lectures, LectureDialog)
    type_text(qtbot, dialog.title_edit, "亲子沟通")
    set_moment(dialog.start_edit, at(28, 14))  # a Saturday
    dialog.on_ok()
    assert dialog.isVisible()
    assert "陈静 does not work at this station on 2026-11-28." in dialog.problem_label.text()
    assert dialog.problem_label.isVisibleTo(dialog)
    assert table_texts(lectures.lectures) == []


# --- schedule settings --------------------------------------------------------------------------
@pytest.fixture
def settings(qtbot: QtBot, env: Env) -> ScheduleSettingsView:
    return shown(qtbot, ScheduleSettingsView(env.services, env.world.admin, env.prompter))


def test_the_rules_dialog_changes_a_rule_and_use_defaults_restores_it(
    qtbot: QtBot, env: Env, settings: ScheduleSettingsView
) -> None:
    assert settings.station_combo.currentText() == STATION
    assert table_texts(settings.rules_panel)[0] == [
        "Individual counselling",
        "50 minutes",
        "10 minutes",
        "1 hour",
        "1 day",
        "1",
        "Default",
    ]
    select_row(qtbot, settings.rules_panel.table, 0, "Individual counselling")
    click(settings, "edit_rules")
    dialog = the_dialog(settings, RulesDialog)
    dialog.length_spin.setValue(45)
    dialog.late_spin.setValue(48)
    dialog.cap_spin.setValue(0)
    assert dialog.cap_spin.text() == "No limit"
    dialog.on_ok()
    assert dialog.result() == QDialog.DialogCode.Accepted
    rules = env.services.schedule_admin.rules(
        actor=env.world.admin, station_id=env.world.station_id
    )
    assert rules[AppointmentType.COUNSELLING] == BookingRules(45, 10, 60, 48, None)
    assert table_texts(settings.rules_panel)[0] == [
        "Individual counselling",
        "45 minutes",
        "10 minutes",
        "1 hour",
        "2 days",
        "No limit",
        "This station",
    ]
    click(settings, "reset_rules")
    rules = env.services.schedule_admin.rules(
        actor=env.world.admin, station_id=env.world.station_id
    )
    assert rules[AppointmentType.COUNSELLING] == DEFAULT_RULES[AppointmentType.COUNSELLING]


def test_closed_days_list_holidays_and_refuse_a_day_with_bookings(
    qtbot: QtBot, env: Env, settings: ScheduleSettingsView
) -> None:
    env.book(9, env.world.client_id)  # Tuesday 24 November
    holidays = table_texts(settings.holidays_panel)
    assert ["2026-10-10 Sat", "Working day", "Working day (make-up for a holiday)"] in holidays
    assert any(r[0] == "2026-10-01 Thu" and r[1] == "Day off" for r in holidays)

    click(settings, "add_closure")
    dialog = the_dialog(settings, ClosureDialog)
    dialog.day_edit.setDate(QDate(2026, 11, 25))
    type_text(qtbot, dialog.reason_edit, "停电检修")
    dialog.on_ok()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert table_texts(settings.closures_panel) == [["2026-11-25 Wed", "停电检修"]]

    click(settings, "add_closure")
    dialog = the_dialog(settings, ClosureDialog)
    dialog.day_edit.setDate(QDate(2026, 11, 24))
    type_text(qtbot, dialog.reason_edit, "消防演练")
    dialog.on_ok()
    assert dialog.isVisible()
    assert env.prompter.shown[-1][0] == "error"
    assert env.prompter.shown[-1][2] == (
        "1 appointment is booked at the station on 2026-11-24. Move or cancel it first."
    )
    dialog.reject()
    assert table_texts(settings.closures_panel) == [["2026-11-25 Wed", "停电检修"]]

    select_row(qtbot, settings.closures_panel.table, 0, "2026-11-25 Wed")
    click(settings, "remove_closure")
    assert table_texts(settings.closures_panel) == []


def test_counsellor_hours_are_saved_from_the_weekly_editor(
    qtbot: QtBot, env: Env, settings: ScheduleSettingsView
) -> None:
    tab = settings.hours_tab
    settings.tabs.setCurrentWidget(tab)
    assert tab.counsellor_combo.currentText() == "陈静"
    editor = tab.hours_editor
    assert editor.periods() == [WeeklyPeriod(d, time(9), time(12)) for d in range(5)]

    *_first, second, start2, end2 = editor.row_widgets(0)
    qtbot.keyClick(second, Qt.Key.Key_Space)
    assert start2.isEnabled()
    assert (start2.time(), end2.time()) == (QTime(14, 0), QTime(17, 0))
    works, _start, end, *_rest = editor.row_widgets(5)
    works.setChecked(True)
    end.setTime(QTime(11, 30))
    click(settings, "save_hours")
    (here,) = [
        h
        for h in env.services.schedule_admin.counsellor_hours(
            actor=env.world.admin, counsellor_id=env.world.counsellor.user_id
        )
        if h.station_id == env.world.station_id
    ]
    assert here.periods == (
        WeeklyPeriod(0, time(9), time(12)),
        WeeklyPeriod(0, time(14), time(17)),
        *(WeeklyPeriod(d, time(9), time(12)) for d in range(1, 5)),
        WeeklyPeriod(5, time(9), time(11, 30)),
    )
    assert tab.hours_saved_label.text() == "Saved the hours of 陈静."

    _works, _start, end, *_rest = editor.row_widgets(1)
    end.setTime(QTime(8, 0))
    click(settings, "save_hours")
    assert tab.hours_error.text() == "Tuesday: Each period must end after it starts."


def test_adding_leave_lists_the_appointment_it_falls_on(
    qtbot: QtBot, env: Env, settings: ScheduleSettingsView
) -> None:
    env.book(9, env.world.client_id)
    tab = settings.hours_tab
    settings.tabs.setCurrentWidget(tab)
    assert not tab.affected_panel.isVisibleTo(settings)
    click(settings, "add_absence")
    dialog = the_dialog(settings, AbsenceDialog)
    assert dialog.kind_combo.currentText() == "Leave"
    assert not dialog.station_combo.isEnabled()
    set_moment(dialog.start_edit, at(24, 0))
    set_moment(dialog.end_edit, at(25, 0))
    type_text(qtbot, dialog.note_edit, "病假")
    dialog.on_ok()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert table_texts(tab.absences_panel) == [
        ["2026-11-24 Tue 00:00", "2026-11-25 Wed 00:00", "Leave", "All stations", "病假"]
    ]
    assert tab.affected_panel.isVisibleTo(settings)
    assert table_texts(tab.affected_panel) == [
        ["2026-11-24 Tue 09:00–09:50", "Individual counselling", STATION]
    ]
    assert tab.affected_label.text().startswith("1 booked appointment falls in this time.")
    (absence,) = env.services.schedule_admin.absences(
        actor=env.world.admin,
        counsellor_id=env.world.counsellor.user_id,
        first_day=date(2026, 11, 24),
        last_day=date(2026, 11, 24),
    )
    assert (absence.kind, absence.starts_at, absence.ends_at, absence.note) == (
        ExceptionKind.LEAVE,
        at(24, 0),
        at(25, 0),
        "病假",
    )

    select_row(qtbot, tab.absences_panel.table, 2, "Leave")
    click(settings, "remove_absence")
    assert table_texts(tab.absences_panel) == []
