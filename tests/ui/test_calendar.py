"""The calendar: block geometry, columns by counsellor or room, moving by mouse and keyboard."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import time as timer
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from carestation.domain.booking import Appointment, BookingDraft, ClientInput
from carestation.domain.periods import Period
from carestation.domain.values import Actor
from carestation.domain.vocab import AppointmentStatus, AppointmentType, Modality, RoomKind
from carestation.services.container import Services
from carestation.ui.calendar_grid import STEP, CalendarGrid, GridMode, Resource
from carestation.ui.prompts import RecordingPrompter
from carestation.ui.views.calendar_view import CounsellorCalendarView, StationCalendarView
from tests.factories import World, add_room, build_world, set_counsellor_hours

SH = ZoneInfo("Asia/Shanghai")
MakeView = Callable[[], StationCalendarView]
TUESDAY = 1  # column of Tuesday 24 November in the week view with one counsellor


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SH)


@pytest.fixture
def world(sqlite_services: Services) -> World:
    w = build_world(sqlite_services)
    for station in (w.station_id, w.other_station_id):
        set_counsellor_hours(
            sqlite_services, w.counsellor.user_id, station, range(5), time(9), time(17)
        )
    return w


def book(
    services: Services, world: World, start: datetime, *, by: Actor | None = None, **kw: object
) -> Appointment:
    fields: dict[str, object] = {
        "type": AppointmentType.COUNSELLING,
        "station_id": world.station_id,
        "starts_at": start,
        "client_id": world.client_id,
        "counsellor_id": world.counsellor.user_id,
        "room_id": world.room_id,
    }
    draft = BookingDraft(**{**fields, **kw})  # type: ignore[arg-type]
    return services.booking.book(actor=by or world.staff, draft=draft)


def second_client(services: Services, world: World) -> int:
    return services.clients.register(
        actor=world.staff, data=ClientInput(name="李四", phone="13900000000")
    ).id


def starts(services: Services, world: World, appointment_id: int) -> datetime:
    return services.schedule.get(actor=world.staff, appointment_id=appointment_id).starts_at


@pytest.fixture
def prompter() -> RecordingPrompter:
    return RecordingPrompter()


@pytest.fixture
def make_view(
    qtbot: QtBot, sqlite_services: Services, world: World, prompter: RecordingPrompter
) -> MakeView:
    def make() -> StationCalendarView:
        view = StationCalendarView(sqlite_services, world.staff, prompter)
        qtbot.addWidget(view)
        view.resize(1400, 900)
        view.show()
        qtbot.waitExposed(view)
        view.refresh()
        return view

    return make


def centre(grid: CalendarGrid, appointment_id: int) -> QPoint:
    return grid.block_rect(appointment_id).center()


def drag(grid: CalendarGrid, appointment_id: int, column: int, minute: int) -> None:
    """Press on the block, move in steps to where its top should land, release."""
    start = centre(grid, appointment_id)
    grab = start.y() - grid.block_rect(appointment_id).top()
    target = grid.point_at(column, minute).toPoint() + QPoint(30, grab)
    port = grid.viewport()
    QTest.mousePress(port, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(port, start + QPoint(0, 12))
    QTest.mouseMove(port, target)
    QTest.mouseRelease(port, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, target)


def test_block_sits_on_its_rows_and_column(
    make_view: MakeView, sqlite_services: Services, world: World
) -> None:
    appt = book(sqlite_services, world, at(24, 9))
    view = make_view()
    grid = view.grid
    assert view.shown_days()[0] == date(2026, 11, 23)  # the fake clock's Monday
    assert grid.column_count() == 7  # one counsellor, seven days
    assert grid.column_of(appt.id) == TUESDAY
    rect = grid.block_rect(appt.id)
    nine = grid.point_at(TUESDAY, 9 * 60)
    row = grid.point_at(TUESDAY, 9 * 60 + STEP).y() - nine.y()
    assert abs(rect.top() - nine.y()) <= 2
    assert abs(rect.left() - nine.x()) <= 3
    assert abs(rect.height() - 50 / STEP * row) <= 3  # 09:00-09:50
    assert grid.point_at(TUESDAY, 9 * 60 + 45).y() < rect.bottom() < grid.point_at(TUESDAY, 600).y()
    assert view.status_label.text() == "1 appointment shown  ·  0 cancelled"


def test_by_room_puts_a_block_in_its_rooms_column(
    make_view: MakeView, sqlite_services: Services, world: World
) -> None:
    room2 = add_room(sqlite_services, world, "个人咨询室二", RoomKind.COUNSELLING_ROOM)
    first = book(sqlite_services, world, at(24, 9))
    second = book(
        sqlite_services,
        world,
        at(24, 14),
        room_id=room2,
        client_id=second_client(sqlite_services, world),
    )
    view = make_view()
    grid = view.grid
    assert grid.column_of(first.id) == grid.column_of(second.id)  # same counsellor
    view.set_by_room(True)
    assert grid.column_resource(grid.column_of(first.id)) == world.room_id
    assert grid.column_resource(grid.column_of(second.id)) == room2
    assert grid.column_of(second.id) != grid.column_of(first.id)
    assert grid.block_rect(second.id).left() > grid.block_rect(first.id).left()


def test_dragging_a_block_moves_the_appointment(
    make_view: MakeView, sqlite_services: Services, world: World
) -> None:
    appt = book(sqlite_services, world, at(24, 9))
    view = make_view()
    drag(view.grid, appt.id, TUESDAY + 1, 11 * 60 + 5)  # Wednesday 11:05 snaps to 11:00
    assert starts(sqlite_services, world, appt.id) == at(25, 11)
    assert view.grid.column_of(appt.id) == TUESDAY + 1
    assert abs(view.grid.block_rect(appt.id).top() - view.grid.point_at(2, 660).y()) <= 2


def test_escape_cancels_a_drag(
    qtbot: QtBot, make_view: MakeView, sqlite_services: Services, world: World
) -> None:
    appt = book(sqlite_services, world, at(24, 9))
    view = make_view()
    grid, port = view.grid, view.grid.viewport()
    start = centre(grid, appt.id)
    QTest.mousePress(port, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(port, start + QPoint(0, 100))
    QTest.keyClick(grid, Qt.Key.Key_Escape)
    with qtbot.assertNotEmitted(grid.appointment_move_requested):
        QTest.mouseRelease(
            port, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + QPoint(0, 100)
        )
    assert starts(sqlite_services, world, appt.id) == at(24, 9)


def test_drop_on_a_clash_is_refused_and_snaps_back(
    make_view: MakeView, sqlite_services: Services, world: World, prompter: RecordingPrompter
) -> None:
    book(sqlite_services, world, at(24, 9))
    later = book(
        sqlite_services, world, at(24, 11), client_id=second_client(sqlite_services, world)
    )
    view = make_view()
    drag(view.grid, later.id, TUESDAY, 9 * 60 + 30)
    kind, title, text = prompter.shown[-1]
    assert (kind, title) == ("error", "The appointment cannot be moved there")
    assert "counsellor already has an appointment at 11-24 09:00" in text
    assert "Free times that would work:" in text
    alternatives = text.split("Free times that would work:\n")[1].splitlines()
    assert 1 <= len(alternatives) <= 5
    assert starts(sqlite_services, world, later.id) == at(24, 11)
    top = view.grid.block_rect(later.id).top()
    assert abs(top - view.grid.point_at(TUESDAY, 11 * 60).y()) <= 2  # back where it was


def test_stale_version_is_reported_and_reloaded(
    make_view: MakeView, sqlite_services: Services, world: World, prompter: RecordingPrompter
) -> None:
    appt = book(sqlite_services, world, at(24, 9))
    view = make_view()
    sqlite_services.booking.move(actor=world.staff, appointment_id=appt.id, starts_at=at(24, 13))
    view.grid.appointment_move_requested.emit(appt.id, at(24, 15), world.counsellor.user_id)
    assert prompter.shown[-1][0] == "error"
    assert "Someone else changed this appointment" in prompter.shown[-1][2]
    assert starts(sqlite_services, world, appt.id) == at(24, 13)
    assert abs(view.grid.block_rect(appt.id).top() - view.grid.point_at(TUESDAY, 780).y()) <= 2


def test_keyboard_selects_and_moves(
    qtbot: QtBot, make_view: MakeView, sqlite_services: Services, world: World
) -> None:
    tuesday = book(sqlite_services, world, at(24, 9))
    thursday = book(
        sqlite_services, world, at(26, 10), client_id=second_client(sqlite_services, world)
    )
    view = make_view()
    grid = view.grid
    grid.setFocus()
    QTest.keyClick(grid, Qt.Key.Key_Home)
    assert grid.selected_id() == tuesday.id
    QTest.keyClick(grid, Qt.Key.Key_Right)
    assert grid.selected_id() == thursday.id
    QTest.keyClick(grid, Qt.Key.Key_Left)
    assert grid.selected_id() == tuesday.id
    assert "2026-11-24 09:00–09:50" in grid.accessibleDescription()
    QTest.keyClick(grid, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    assert starts(sqlite_services, world, tuesday.id) == at(24, 9, 15)
    assert grid.selected_id() == tuesday.id  # still selected after the reload
    assert "2026-11-24 09:15–10:05" in grid.accessibleDescription()
    QTest.keyClick(grid, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    assert starts(sqlite_services, world, tuesday.id) == at(25, 9, 15)  # next column: Wednesday
    with qtbot.waitSignal(view.appointment_opened) as opened:
        QTest.keyClick(grid, Qt.Key.Key_Return)
    assert opened.args == [tuesday.id]
    top = grid.verticalScrollBar().value()
    QTest.keyClick(grid, Qt.Key.Key_PageDown)
    assert grid.verticalScrollBar().value() > top


def test_moving_a_finished_session_by_keyboard_is_explained(
    make_view: MakeView, sqlite_services: Services, world: World, prompter: RecordingPrompter
) -> None:
    visit = book(sqlite_services, world, at(23, 8, 30), walk_in=True)  # already happened
    assert visit.status is AppointmentStatus.COMPLETED
    view = make_view()
    view.grid.setFocus()
    QTest.keyClick(view.grid, Qt.Key.Key_Home)
    QTest.keyClick(view.grid, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    assert prompter.shown[-1][:2] == ("error", "The appointment was not moved")
    assert "Only a booked appointment can be moved" in prompter.shown[-1][2]
    assert starts(sqlite_services, world, visit.id) == at(23, 8, 30)


def test_double_click_opens_or_asks_to_book(
    qtbot: QtBot, make_view: MakeView, sqlite_services: Services, world: World
) -> None:
    appt = book(sqlite_services, world, at(24, 9))
    view = make_view()
    port = view.grid.viewport()
    with qtbot.waitSignal(view.appointment_opened) as opened:
        QTest.mouseDClick(port, Qt.MouseButton.LeftButton, pos=centre(view.grid, appt.id))
    assert opened.args == [appt.id]
    empty = view.grid.point_at(TUESDAY + 1, 14 * 60 + 20).toPoint() + QPoint(20, 0)
    with qtbot.waitSignal(view.booking_requested) as asked:
        QTest.mouseDClick(port, Qt.MouseButton.LeftButton, pos=empty)
    assert asked.args == [at(25, 14, 15), world.counsellor.user_id]


def test_clear_leaves_nothing(make_view: MakeView, sqlite_services: Services, world: World) -> None:
    appt = book(sqlite_services, world, at(24, 9))
    view = make_view()
    view.grid.select(appt.id)
    assert "张三" in view.grid.accessibleDescription()
    view.clear()
    assert view.grid.appointments() == []
    assert view.grid.column_count() == 0
    assert view.grid.block_rect(appt.id).isEmpty()
    assert view.grid.accessibleDescription() == ""
    assert view.status_label.text() == ""
    assert view.grid.grab().isNull() is False


def test_counsellors_own_calendar_spans_stations(
    qtbot: QtBot, sqlite_services: Services, world: World
) -> None:
    here = book(sqlite_services, world, at(24, 9))
    there = book(
        sqlite_services,
        world,
        at(25, 10),
        by=world.other_staff,
        client_id=second_client(sqlite_services, world),
        station_id=world.other_station_id,
        room_id=add_room(
            sqlite_services,
            world,
            "咨询室",
            RoomKind.COUNSELLING_ROOM,
            station_id=world.other_station_id,
        ),
    )
    prompter = RecordingPrompter()
    view = CounsellorCalendarView(sqlite_services, world.counsellor, prompter)
    qtbot.addWidget(view)
    view.resize(1200, 800)
    view.show()
    qtbot.waitExposed(view)
    view.refresh()
    assert view.grid.column_count() == 7
    assert {a.id: view.grid.column_of(a.id) for a in (here, there)} == {here.id: 1, there.id: 2}
    view.grid.select(there.id)
    assert "Station: 店口镇服务站" in view.grid.accessibleDescription()
    drag(view.grid, here.id, 1, 11 * 60)
    assert prompter.shown == []
    assert starts(sqlite_services, world, here.id) == at(24, 11)


def _busy_week(per_day: int = 9) -> tuple[list[date], list[Resource], list[Appointment]]:
    monday = date(2026, 11, 23)
    days = [monday + timedelta(days=i) for i in range(7)]
    ids = [100 + i for i in range(5)]
    resources = [Resource(i, f"咨询师{i}") for i in ids]
    template = Appointment(
        id=0, version=1, station_id=1, station_name="站", type=AppointmentType.COUNSELLING,
        modality=Modality.IN_PERSON, status=AppointmentStatus.BOOKED,
        starts_at=at(23, 8), ends_at=at(23, 8, 50), client_id=1, client_name="张三",
        client_code="ABCD-EFGH-1", client_phone="", counsellor_id=100, counsellor_name="咨询师0",
        room_id=1, room_name="个人咨询室一",
    )  # fmt: skip
    types = list(AppointmentType)
    statuses = list(AppointmentStatus)
    appts: list[Appointment] = []
    for d, day in enumerate(days):
        for r in ids:
            for k in range(per_day):
                start = datetime.combine(day, time(8 + k), tzinfo=SH)
                appts.append(
                    replace(
                        template,
                        id=len(appts) + 1,
                        starts_at=start,
                        ends_at=start + timedelta(minutes=50),
                        counsellor_id=r,
                        type=types[(k + d) % len(types)],
                        status=statuses[(k + r) % len(statuses)],
                    )
                )
    return days, resources, appts


def test_a_busy_week_lays_out_and_paints(qtbot: QtBot) -> None:
    days, resources, appts = _busy_week()
    # Two cancelled bookings under a live one: the three sit side by side.
    base = appts[0]
    overlap = [
        replace(base, id=9001, status=AppointmentStatus.CANCELLED),
        replace(base, id=9002, status=AppointmentStatus.CANCELLED, starts_at=at(23, 8, 30)),
    ]
    appts += overlap
    assert len(appts) >= 300
    grid = CalendarGrid()
    qtbot.addWidget(grid)
    grid.resize(1600, 900)
    open_periods = {
        d: [Period(datetime.combine(d, time(8, 30), SH), datetime.combine(d, time(17), SH))]
        for d in days
    }
    started = timer.perf_counter()
    grid.set_schedule(
        days=days, appointments=appts, mode=GridMode.BY_COUNSELLOR, resources=resources,
        open_periods=open_periods,
    )  # fmt: skip
    pixmap = grid.grab()
    elapsed = timer.perf_counter() - started
    assert not pixmap.isNull()
    assert pixmap.width() == 1600
    assert elapsed < 2.0  # generous: the benchmark measures the real figure
    assert grid.column_count() == 35
    rects = [grid.block_rect(i) for i in (base.id, 9001, 9002)]
    assert len({r.left() for r in rects}) == 3  # three lanes
    assert all(not a.intersects(b) for a, b in [(rects[0], rects[1]), (rects[1], rects[2])])
    assert all(r.width() < grid.block_rect(appts[5].id).width() / 2 for r in rects)
    # Scrolled to the end of the week, the last block is painted there too.
    grid.horizontalScrollBar().setValue(grid.horizontalScrollBar().maximum())
    assert not grid.grab().isNull()
    assert grid.viewport().rect().contains(grid.block_rect(appts[-3].id).center())


def test_a_free_time_is_booked_from_the_keyboard(
    qtbot: QtBot, make_view: MakeView, sqlite_services: Services, world: World
) -> None:
    appt = book(sqlite_services, world, at(24, 9))
    view = make_view()
    grid = view.grid
    grid.setFocus()
    QTest.keyClick(grid, Qt.Key.Key_Home)
    assert grid.selected_id() == appt.id
    # Shift+arrows: a cursor over free time, starting where the selected appointment ends.
    QTest.keyClick(grid, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    assert grid.selected_id() is None
    assert grid.cursor() == (at(24, 10), world.counsellor.user_id)  # 09:00-09:50, next row
    QTest.keyClick(grid, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    QTest.keyClick(grid, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert grid.cursor() == (at(25, 10, 15), world.counsellor.user_id)
    assert "2026-11-25 10:15" in grid.accessibleDescription()
    with qtbot.waitSignal(view.booking_requested) as asked:
        QTest.keyClick(grid, Qt.Key.Key_Return)
    assert asked.args == [at(25, 10, 15), world.counsellor.user_id]
    QTest.keyClick(grid, Qt.Key.Key_Escape)
    assert grid.cursor() is None
    QTest.keyClick(grid, Qt.Key.Key_Home)  # back to the appointments
    assert grid.selected_id() == appt.id


def test_high_contrast_draws_blocks_white_on_black_and_names_their_type(qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QApplication

    from carestation.ui import style
    from carestation.ui.calendar_grid import block_texts

    days, resources, appts = _busy_week(per_day=1)
    one = appts[0]  # individual counselling, booked, in the first column
    grid = CalendarGrid()
    qtbot.addWidget(grid)
    grid.resize(900, 600)
    grid.set_schedule(
        days=days[:1], appointments=[one], mode=GridMode.BY_COUNSELLOR, resources=resources[:1]
    )

    def inside() -> tuple[str, int]:
        """The block's fill (inside, below its text) and how light its bottom frame is (the
        lightest pixel across the anti-aliased line)."""
        image = grid.viewport().grab().toImage()
        r = grid.block_rect(one.id)
        frame = max(
            image.pixelColor(r.center().x(), y).lightness()
            for y in range(r.bottom() - 2, r.bottom() + 3)
        )
        return image.pixelColor(r.right() - 4, r.bottom() - 4).name(), frame

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    normal_fill, _frame = inside()
    assert normal_fill == "#d7e7fb"  # the counselling colour
    try:
        style.apply_look(app, high_contrast=True)
        fill, frame = inside()
        assert fill == "#000000"
        assert frame > 200  # a white frame on black
    finally:
        style.apply_look(app, high_contrast=False)
    assert inside()[0] == "#d7e7fb"
    # The type in words when the colours no longer tell it.
    assert block_texts(one, GridMode.BY_COUNSELLOR)[1] == "张三"
    assert block_texts(one, GridMode.BY_COUNSELLOR, name_type=True)[1] == (
        f"{AppointmentType.COUNSELLING.title}: 张三"
    )


def test_on_a_dark_theme_closed_hours_stay_darker_than_open_ones(qtbot: QtBot) -> None:
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QColor, QPalette
    from PySide6.QtWidgets import QApplication

    days, resources, _appts = _busy_week(per_day=1)
    opening = Period(
        datetime.combine(days[0], time(9), SH), datetime.combine(days[0], time(17), SH)
    )
    grid = CalendarGrid()
    qtbot.addWidget(grid)
    grid.resize(600, 900)

    def closed_and_open() -> tuple[int, int]:
        grid.set_schedule(
            days=days[:1], appointments=[], mode=GridMode.BY_COUNSELLOR,
            resources=resources[:1], open_periods={days[0]: [opening]},
        )  # fmt: skip
        grid.scroll_to_minute(8 * 60)
        image = grid.viewport().grab().toImage()

        def lightness(minute: int) -> int:
            at = grid.point_at(0, minute) + QPointF(25, 0)
            assert 0 <= at.y() < image.height()
            return image.pixelColor(at.toPoint()).lightness()

        return lightness(8 * 60 + 20), lightness(12 * 60 + 20)  # 08:20 closed, 12:20 open

    closed, open_ = closed_and_open()
    assert closed < open_  # a light theme: closed hours greyed
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    before = QPalette(app.palette())
    dark = QPalette(before)
    for role, colour in (
        (QPalette.ColorRole.Window, "#202020"),
        (QPalette.ColorRole.Base, "#1c1c1c"),
    ):
        dark.setColor(role, QColor(colour))
    try:
        app.setPalette(dark)
        app.processEvents()  # the widgets take the new palette from a posted event
        closed, open_ = closed_and_open()
        assert open_ < 60  # the open hours are the dark base
        assert closed < open_  # and the closed ones darker still, not a light band
    finally:
        app.setPalette(before)
        app.processEvents()
