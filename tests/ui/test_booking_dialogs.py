"""The client picker, the booking dialog and the appointment dialog, driven on a real database."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QLabel,
    QPushButton,
    QTableView,
    QWidget,
)
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from carestation.db import models as m
from carestation.domain.booking import BookingDraft, ClientInput, ClientSummary
from carestation.domain.vocab import AppointmentStatus, AppointmentType, ChangeKind, RoomKind
from carestation.services.container import Services
from carestation.ui.appointment_dialog import AppointmentDialog, CancelDialog, MoveDialog
from carestation.ui.booking_dialog import BookingDialog
from carestation.ui.client_picker import ClientDialog, ClientListModel, ClientPicker, mask_phone
from carestation.ui.prompts import RecordingPrompter
from tests.factories import World, add_room, build_world, set_counsellor_hours
from tests.ui.typing import type_text

SH = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SH)


@dataclass
class Env:
    services: Services
    world: World
    prompter: RecordingPrompter

    def client(self) -> ClientSummary:
        return self.services.clients.search(actor=self.world.staff, text="张三")[0]

    def other_client(self) -> ClientSummary:
        return self.services.clients.register(
            actor=self.world.staff, data=ClientInput(name="李四", phone="13912345678")
        )

    def book(self, start: datetime, client_id: int | None = None) -> int:
        w = self.world
        draft = BookingDraft(
            type=AppointmentType.COUNSELLING,
            station_id=w.station_id,
            starts_at=start,
            client_id=client_id or w.client_id,
            counsellor_id=w.counsellor.user_id,
            room_id=w.room_id,
        )
        return self.services.booking.book(actor=w.staff, draft=draft).id

    def appointment_count(self) -> int:
        with self.services.db.read() as session:
            return session.scalar(select(func.count()).select_from(m.Appointment)) or 0


@pytest.fixture
def env(sqlite_services: Services) -> Env:
    world = build_world(sqlite_services)
    set_counsellor_hours(
        sqlite_services, world.counsellor.user_id, world.station_id, range(5), time(9), time(17)
    )
    return Env(sqlite_services, world, RecordingPrompter())


def shown(qtbot: QtBot, widget: QWidget) -> None:
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)


def booking_dialog(qtbot: QtBot, env: Env, **kwargs: object) -> BookingDialog:
    dialog = BookingDialog(
        env.services, env.world.staff, env.prompter, station_id=env.world.station_id, **kwargs
    )  # type: ignore[arg-type]
    shown(qtbot, dialog)
    return dialog


def search(qtbot: QtBot, picker: ClientPicker, text: str) -> list[ClientSummary]:
    picker.search_edit.clear()
    type_text(qtbot, picker.search_edit, text)
    qtbot.waitUntil(lambda: bool(picker.results()), timeout=2000)
    return picker.results()


def choose(qtbot: QtBot, picker: ClientPicker, text: str) -> ClientSummary:
    search(qtbot, picker, text)
    with qtbot.waitSignal(picker.client_chosen) as chosen:
        qtbot.keyClick(picker.search_edit, Qt.Key.Key_Down)
        qtbot.keyClick(picker.results_view, Qt.Key.Key_Return)
    return chosen.args[0]


def click_row(qtbot: QtBot, table: QTableView, row: int, *, double: bool = False) -> None:
    index = table.model().index(row, 0)
    pos = table.visualRect(index).center()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    if double:  # QTest's double click is only the second half of one
        qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def label(parent: QWidget, name: str) -> str:
    found = parent.findChild(QLabel, name)
    assert found is not None, name
    return found.text() if found.isVisibleTo(parent) else ""


# --- the client picker --------------------------------------------------------------------------
def test_search_as_you_type_finds_by_name_part_phone_prefix_and_code(
    qtbot: QtBot, env: Env, qtmodeltester: object
) -> None:
    picker = ClientPicker(env.services.clients, env.world.staff, env.prompter)
    shown(qtbot, picker)
    assert [c.name for c in search(qtbot, picker, "三")] == ["张三"]
    model = picker.results_view.model()
    assert isinstance(model, ClientListModel)
    assert model.index(0, 0).data() == "张三  ·  138****0000  ·  ABCD-EFGH-1  ·  市水务集团"
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    assert [c.name for c in search(qtbot, picker, "1380")] == ["张三"]
    assert [c.client_code for c in search(qtbot, picker, "abcd-efgh")] == ["ABCD-EFGH-1"]
    picker.search_edit.clear()
    type_text(qtbot, picker.search_edit, "王五")
    qtbot.waitUntil(lambda: label(picker, "client_status_label") != "")
    assert picker.results() == []
    assert not picker.results_view.isVisible()


def test_keyboard_down_and_enter_choose_a_client(qtbot: QtBot, env: Env) -> None:
    picker = ClientPicker(env.services.clients, env.world.staff, env.prompter)
    shown(qtbot, picker)
    client = choose(qtbot, picker, "张")
    assert (client.id, picker.chosen) == (env.world.client_id, client)
    assert label(picker, "chosen_client_label") == "Client: 张三, 138****0000, code ABCD-EFGH-1"
    picker.set_client(None)
    picker.search_edit.clear()
    qtbot.keyClicks(picker.search_edit, "1380")  # no wait: Enter searches at once
    with qtbot.waitSignal(picker.client_chosen):
        qtbot.keyClick(picker.search_edit, Qt.Key.Key_Return)
    assert picker.chosen is not None
    assert picker.chosen.id == env.world.client_id


def test_mask_phone() -> None:
    assert mask_phone("13812348000") == "138****8000"
    assert mask_phone("0575-87001234") == "0575-****1234"
    assert mask_phone("123") == "123"


def test_registering_a_new_client_chooses_them(qtbot: QtBot, env: Env) -> None:
    picker = ClientPicker(env.services.clients, env.world.staff, env.prompter)
    shown(qtbot, picker)
    type_text(qtbot, picker.search_edit, "李四")
    qtbot.mouseClick(picker.new_button, Qt.MouseButton.LeftButton)
    dialog = picker.findChild(ClientDialog)
    assert dialog is not None
    assert dialog.isVisible()  # opened with open(), not exec()
    assert dialog.name_edit.text() == "李四"  # carried over from the search
    type_text(qtbot, dialog.phone_edit, "139-1234")
    dialog.on_ok()
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert "Enter a mobile number" in label(dialog, "error_phone")
    dialog.phone_edit.clear()
    type_text(qtbot, dialog.phone_edit, "13912345678")
    type_text(qtbot, dialog.work_unit_edit, "诸暨市供电公司")
    dialog.birth_year_spin.setValue(1988)
    with qtbot.waitSignal(picker.client_chosen) as chosen:
        dialog.on_ok()
    assert dialog.result() == QDialog.DialogCode.Accepted
    new: ClientSummary = chosen.args[0]
    assert (new.name, new.phone, new.work_unit, new.birth_year) == (
        "李四",
        "13912345678",
        "诸暨市供电公司",
        1988,
    )
    assert picker.chosen == new
    assert env.services.clients.search(actor=env.world.staff, text="李四") == [new]


@pytest.mark.parametrize("use_existing", [True, False])
def test_a_duplicate_offers_the_existing_record(qtbot: QtBot, env: Env, use_existing: bool) -> None:
    env.prompter.answer = use_existing
    dialog = ClientDialog(
        env.services.clients, env.world.staff, env.prompter, name="张三", phone="13800000000"
    )
    qtbot.addWidget(dialog)
    dialog.on_ok()
    assert dialog.result() == QDialog.DialogCode.Accepted
    kind, title, text = env.prompter.shown[0]
    assert (kind, title) == ("confirm", "Already registered")
    assert "张三 with this phone number is already registered (code ABCD-EFGH-1)" in text
    found = env.services.clients.search(actor=env.world.staff, text="张三")
    if use_existing:
        assert dialog.saved.id == env.world.client_id
        assert len(found) == 1
    else:
        assert dialog.saved.id != env.world.client_id
        assert len(found) == 2


# --- the booking dialog -------------------------------------------------------------------------
def test_types_and_fields_follow_the_user_and_the_type(qtbot: QtBot, env: Env) -> None:
    dialog = booking_dialog(qtbot, env)
    types = [dialog.type_combo.itemData(i) for i in range(dialog.type_combo.count())]
    assert types == ["counselling", "pod", "online", "lecture"]  # crisis: counsellors only
    assert dialog.picker.isVisible()
    assert dialog.counsellor_combo.isVisible()
    assert dialog.length_spin.value() == 50
    dialog.type_combo.setCurrentIndex(types.index("lecture"))
    assert not dialog.picker.isVisible()
    assert dialog.title_edit.isVisible()
    assert dialog.address_edit.isVisible()
    assert dialog.room_combo.itemText(dialog.room_combo.count() - 1) == "None (off-site)"
    assert dialog.length_spin.value() == 90
    pod_room = add_room(env.services, env.world, "情绪调节舱1", RoomKind.EMOTION_POD)
    dialog = booking_dialog(qtbot, env)
    dialog.type_combo.setCurrentIndex(types.index("pod"))
    assert not dialog.counsellor_combo.isVisible()
    assert dialog.programme_combo.isVisible()
    assert [dialog.room_combo.itemData(i) for i in range(dialog.room_combo.count())] == [pod_room]
    counsellor = BookingDialog(
        env.services,
        env.world.counsellor,
        env.prompter,
        station_id=env.world.station_id,
    )
    qtbot.addWidget(counsellor)
    combo = counsellor.type_combo
    assert [combo.itemData(i) for i in range(combo.count())] == [
        "counselling",
        "online",
        "crisis",
        "lecture",
    ]
    assert counsellor.counsellor_combo.count() == 1
    assert counsellor.counsellor_combo.currentData() == env.world.counsellor.user_id


def test_booking_through_find_a_time(qtbot: QtBot, env: Env) -> None:
    dialog = booking_dialog(qtbot, env)
    type_text(qtbot, dialog.picker.search_edit, "张三")
    with qtbot.waitSignal(dialog.picker.client_chosen):
        qtbot.keyClick(dialog.picker.search_edit, Qt.Key.Key_Return)
    # Enter chose the client; it did not reach the Book button.
    assert dialog.isVisible()
    assert not dialog.problems()
    qtbot.mouseClick(dialog.find_button, Qt.MouseButton.LeftButton)
    slots = dialog.slot_model.rows()
    assert len(slots) == 10
    assert slots[0].starts_at == at(23, 11)  # now 10:00 plus an hour's notice
    assert dialog.slot_table.model().index(0, 1).data() == "11:00–11:50"
    click_row(qtbot, dialog.slot_table, 1)
    assert dialog.start_edit.moment() == slots[1].starts_at
    assert dialog.counsellor_combo.currentData() == env.world.counsellor.user_id
    assert dialog.room_combo.currentData() == env.world.room_id
    qtbot.mouseClick(dialog.book_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted
    [booked] = dialog.booked
    saved = env.services.schedule.get(actor=env.world.staff, appointment_id=booked.id)
    assert (saved.starts_at, saved.ends_at) == (slots[1].starts_at, slots[1].ends_at)
    assert (saved.client_name, saved.counsellor_name, saved.room_name) == (
        "张三",
        "陈静",
        "个人咨询室一",
    )
    assert saved.status is AppointmentStatus.BOOKED


def test_double_clicking_a_free_time_books_it_in_one_step(qtbot: QtBot, env: Env) -> None:
    dialog = booking_dialog(qtbot, env)
    choose(qtbot, dialog.picker, "张三")
    dialog.on_find()
    click_row(qtbot, dialog.slot_table, 0, double=True)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert [a.starts_at for a in dialog.booked] == [at(23, 11)]
    assert env.appointment_count() == 1


def test_minutes_step_by_five_and_a_walk_in_is_recorded_as_done(qtbot: QtBot, env: Env) -> None:
    dialog = booking_dialog(qtbot, env, start=at(23, 9, 7))
    edit = dialog.start_edit
    edit.setCurrentSection(QDateTimeEdit.Section.MinuteSection)
    edit.stepBy(1)
    assert edit.moment() == at(23, 9, 10)
    edit.stepBy(-1)
    assert edit.moment() == at(23, 9, 5)
    edit.set_moment(at(23, 9, 7))
    edit.stepBy(-1)
    assert edit.moment() == at(23, 9, 5)
    dialog.picker.choose(env.client())
    dialog.counsellor_combo.setCurrentIndex(
        dialog.counsellor_combo.findData(env.world.counsellor.user_id)
    )
    edit.set_moment(at(23, 9))
    dialog.on_book()
    assert dialog.problems() == [
        "That time has passed. To record a visit that happened, mark it as a walk-in."
    ]
    dialog.walk_in_check.setChecked(True)
    assert not dialog.repeat_check.isEnabled()
    dialog.on_book()
    assert [(a.status, a.walk_in) for a in dialog.booked] == [(AppointmentStatus.COMPLETED, True)]


def test_a_clash_shows_problems_and_alternatives_and_saves_nothing(qtbot: QtBot, env: Env) -> None:
    env.book(at(24, 9))
    other = env.other_client()
    dialog = booking_dialog(qtbot, env, start=at(24, 9, 30))
    dialog.picker.choose(other)
    dialog.counsellor_combo.setCurrentIndex(
        dialog.counsellor_combo.findData(env.world.counsellor.user_id)
    )
    qtbot.mouseClick(dialog.book_button, Qt.MouseButton.LeftButton)
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.problems_label.isVisible()
    assert (
        "The counsellor already has an appointment at 11-24 09:00 (with the break after it)."
        in dialog.problems()
    )
    alternatives = dialog.alternatives()
    assert alternatives
    assert all(a.starts_at >= at(24, 10) for a in alternatives)
    assert dialog.alternatives_list.isVisible()
    assert env.appointment_count() == 1
    # Everything typed is kept; choosing an alternative fills the time, and booking works.
    assert dialog.picker.chosen == other
    assert dialog.start_edit.moment() == at(24, 9, 30)
    dialog.alternatives_list.setCurrentRow(0)
    assert dialog.start_edit.moment() == alternatives[0].starts_at
    dialog.on_book()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.booked[0].starts_at == alternatives[0].starts_at


def test_the_weekly_cap_asks_for_a_reason_and_books_with_it(qtbot: QtBot, env: Env) -> None:
    env.book(at(24, 9))
    dialog = booking_dialog(qtbot, env, start=at(26, 9), counsellor_id=env.world.counsellor.user_id)
    choose(qtbot, dialog.picker, "张三")
    assert not dialog.override_edit.isVisible()
    dialog.on_book()
    assert dialog.problems() == [
        "The client already has 1 open Individual counselling booking that week (the limit is 1)."
        " Give a reason to book anyway."
    ]
    assert dialog.override_edit.isVisible()
    assert env.appointment_count() == 1
    type_text(qtbot, dialog.override_edit, "情绪波动较大")
    qtbot.keyClick(dialog.override_edit, Qt.Key.Key_Return)  # the default button books
    assert dialog.result() == QDialog.DialogCode.Accepted
    [booked] = dialog.booked
    history = env.services.schedule.history(actor=env.world.staff, appointment_id=booked.id)
    assert [(h.kind, h.reason) for h in history] == [(ChangeKind.CREATED, "情绪波动较大")]


def test_a_weekly_series_with_one_clash_skipped_books_two(qtbot: QtBot, env: Env) -> None:
    other = env.other_client()
    env.book(at(1, 9, month=12), client_id=other.id)  # the counsellor is busy for session 2
    dialog = booking_dialog(qtbot, env, start=at(24, 9), counsellor_id=env.world.counsellor.user_id)
    choose(qtbot, dialog.picker, "张三")
    dialog.repeat_check.setChecked(True)
    assert (dialog.interval_spin.value(), dialog.count_spin.value()) == (1, 3)
    dialog.on_book()
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.series_box.isVisible()
    assert dialog.problems() == [
        "1 session cannot be booked as planned. Choose another time for it or skip it, then "
        "book again."
    ]
    table = dialog.series_table
    assert table.item(0, 0).text() == "Session 1: 2026-11-24 Tue 09:00–09:50"
    assert table.item(0, 2).text() == "Book as planned"
    assert "The counsellor already has an appointment at 12-01 09:00" in table.item(1, 1).text()
    choice = dialog.findChild(QComboBox, "series_choice_1")
    assert choice is not None
    assert choice.currentIndex() == -1
    assert choice.itemText(0).startswith("Move to 2026-12-01 Tue 10:00")
    dialog.on_book()  # undecided: nothing booked
    assert dialog.problems() == ["Decide what to do with each session that clashes."]
    assert env.appointment_count() == 1
    choice.setCurrentIndex(choice.findData(-1))
    assert choice.currentText() == "Skip this session"
    dialog.on_book()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert [a.starts_at for a in dialog.booked] == [at(24, 9), at(8, 9, month=12)]
    assert len({a.series_id for a in dialog.booked}) == 1
    assert env.appointment_count() == 3


# --- the appointment dialog ---------------------------------------------------------------------
def appointment_dialog(qtbot: QtBot, env: Env, appointment_id: int) -> AppointmentDialog:
    dialog = AppointmentDialog(env.services, env.world.staff, env.prompter, appointment_id)
    shown(qtbot, dialog)
    return dialog


def button(dialog: QWidget, name: str) -> QPushButton:
    found = dialog.findChild(QPushButton, name)
    assert found is not None, name
    return found


def history_rows(dialog: AppointmentDialog) -> list[list[str]]:
    model = dialog.history_table.model()
    return [
        [model.index(r, c).data() for c in range(model.columnCount())]
        for r in range(model.rowCount())
    ]


def test_check_in_then_cancel_late_with_a_reason(qtbot: QtBot, env: Env) -> None:
    appointment_id = env.book(at(23, 11))
    dialog = appointment_dialog(qtbot, env, appointment_id)
    assert label(dialog, "status_value") == "Booked"
    assert label(dialog, "when_value") == "2026-11-23 Mon  11:00–11:50"
    assert label(dialog, "client_value") == "张三, code ABCD-EFGH-1, phone 13800000000"
    assert label(dialog, "place_value") == "个人咨询室一, In person"
    assert not button(dialog, "undo_button").isEnabled()
    with qtbot.waitSignal(dialog.changed) as changed:
        qtbot.mouseClick(button(dialog, "check_in_button"), Qt.MouseButton.LeftButton)
    assert changed.args == [appointment_id]
    assert label(dialog, "status_value") == "Checked in"
    assert not button(dialog, "check_in_button").isEnabled()
    assert not button(dialog, "move_button").isEnabled()
    assert button(dialog, "undo_button").text() == "&Undo check-in"

    cancel = dialog.on_cancel()
    assert isinstance(cancel, CancelDialog)
    assert cancel.isVisible()
    assert dialog.findChild(CancelDialog) is cancel
    assert label(cancel, "late_label") == (
        "This is less than 24 hours before the start: it will count as a late cancellation."
    )
    cancel.on_ok()  # no reason chosen yet
    assert label(cancel, "problems_label") == "• Choose why the appointment is cancelled."
    cancel.reason_combo.setCurrentIndex(cancel.reason_combo.findData("client"))
    type_text(qtbot, cancel.note_edit, "临时加班")
    with qtbot.waitSignal(dialog.changed):
        cancel.on_ok()
    assert cancel.result() == QDialog.DialogCode.Accepted
    saved = env.services.schedule.get(actor=env.world.staff, appointment_id=appointment_id)
    assert (saved.status, saved.late_cancel) == (AppointmentStatus.CANCELLED, True)
    assert label(dialog, "status_value") == "Cancelled"
    assert label(dialog, "marks_value") == "Late cancellation\nCancelled by the client: 临时加班"
    assert not any(
        button(dialog, name).isEnabled()
        for name in ("check_in_button", "complete_button", "move_button", "cancel_button")
    )
    qtbot.mouseClick(button(dialog, "history_button"), Qt.MouseButton.LeftButton)
    assert dialog.history_table.isVisible()
    rows = history_rows(dialog)
    assert [r[1:] for r in rows] == [
        ["王芳", "Booked", ""],
        ["王芳", "Booked → Checked in", ""],
        ["王芳", "Checked in → Cancelled", "Cancelled by the client: 临时加班"],
    ]
    assert rows[0][0] == "2026-11-23 Mon 10:00"


def test_moving_an_appointment_keeps_the_old_time_in_its_history(qtbot: QtBot, env: Env) -> None:
    appointment_id = env.book(at(24, 9))
    second_room = add_room(env.services, env.world, "个人咨询室二", RoomKind.COUNSELLING_ROOM)
    dialog = appointment_dialog(qtbot, env, appointment_id)
    move = dialog.on_move()
    assert isinstance(move, MoveDialog)
    assert move.isVisible()
    assert move.room_combo.currentText() == "Keep 个人咨询室一"
    move.room_combo.setCurrentIndex(move.room_combo.findData(second_room))
    move.start_edit.set_moment(at(25, 14))
    with qtbot.waitSignal(dialog.changed):
        qtbot.mouseClick(move.ok_button, Qt.MouseButton.LeftButton)
    assert move.result() == QDialog.DialogCode.Accepted
    assert label(dialog, "when_value") == "2026-11-25 Wed  14:00–14:50"
    assert label(dialog, "place_value") == "个人咨询室二, In person"
    dialog.toggle_history()
    assert history_rows(dialog)[1][2] == (
        "Moved from 2026-11-24 Tue 09:00 to 2026-11-25 Wed 14:00; room 个人咨询室一 → 个人咨询室二"
    )


def test_a_refused_move_stays_open_with_the_problems_and_alternatives(
    qtbot: QtBot, env: Env
) -> None:
    appointment_id = env.book(at(24, 9))
    env.book(at(25, 14), client_id=env.other_client().id)
    dialog = appointment_dialog(qtbot, env, appointment_id)
    move = dialog.on_move()
    assert isinstance(move, MoveDialog)
    move.start_edit.set_moment(at(25, 14))
    move.on_ok()
    assert move.isVisible()
    assert "The counsellor already has an appointment at 11-25 14:00" in label(
        move, "problems_label"
    )
    assert move.alternatives_list.count() > 0
    move.alternatives_list.setCurrentRow(0)
    move.on_ok()
    assert move.result() == QDialog.DialogCode.Accepted
    saved = env.services.schedule.get(actor=env.world.staff, appointment_id=appointment_id)
    assert (
        saved.starts_at == move.alternatives_list.item(0).data(Qt.ItemDataRole.UserRole).starts_at
    )


def test_a_stale_version_reloads_and_shows_the_conflict(qtbot: QtBot, env: Env) -> None:
    appointment_id = env.book(at(23, 11))
    dialog = appointment_dialog(qtbot, env, appointment_id)
    # Another PC moves it while this dialog is open.
    env.services.booking.move(
        actor=env.world.staff, appointment_id=appointment_id, starts_at=at(23, 14)
    )
    qtbot.mouseClick(button(dialog, "check_in_button"), Qt.MouseButton.LeftButton)
    assert label(dialog, "message_label").startswith(
        "Someone else changed this appointment a moment ago."
    )
    assert label(dialog, "when_value") == "2026-11-23 Mon  14:00–14:50"  # reloaded
    saved = env.services.schedule.get(actor=env.world.staff, appointment_id=appointment_id)
    assert saved.status is AppointmentStatus.BOOKED
    # The reloaded version is the one used next time, through the move dialog too.
    move = dialog.on_move()
    env.services.booking.move(
        actor=env.world.staff, appointment_id=appointment_id, starts_at=at(23, 15)
    )
    assert isinstance(move, MoveDialog)
    move.on_ok()
    assert not move.isVisible()
    assert "changed this appointment a moment ago" in label(dialog, "message_label")
    assert label(dialog, "when_value") == "2026-11-23 Mon  15:00–15:50"
    qtbot.mouseClick(button(dialog, "check_in_button"), Qt.MouseButton.LeftButton)
    assert label(dialog, "status_value") == "Checked in"
    assert label(dialog, "message_label") == ""


def test_series_sessions_can_be_cancelled_together(qtbot: QtBot, env: Env) -> None:
    w = env.world
    draft = BookingDraft(
        type=AppointmentType.COUNSELLING,
        station_id=w.station_id,
        starts_at=at(24, 9),
        client_id=w.client_id,
        counsellor_id=w.counsellor.user_id,
        room_id=w.room_id,
    )
    booked = env.services.booking.book_series(actor=w.staff, draft=draft, interval_weeks=1, count=3)
    dialog = appointment_dialog(qtbot, env, booked[1].id)
    assert label(dialog, "series_value") == "Part of a repeating series"
    cancel = dialog.on_cancel()
    assert isinstance(cancel, CancelDialog)
    assert label(cancel, "late_label") == "This is not a late cancellation."
    cancel.findChild(QWidget, "scope_following").click()  # type: ignore[union-attr]
    cancel.reason_combo.setCurrentIndex(cancel.reason_combo.findData("station"))
    cancel.on_ok()
    statuses = [
        env.services.schedule.get(actor=w.staff, appointment_id=a.id).status for a in booked
    ]
    assert statuses == [
        AppointmentStatus.BOOKED,
        AppointmentStatus.CANCELLED,
        AppointmentStatus.CANCELLED,
    ]
