"""Two station PCs, one PostgreSQL server: the staff of two stations book the same shared
counsellor for the same time at the same moment. Exactly one booking is saved; the other
window shows the conflict and the nearest times that work, and books one of them.

Each "PC" is a main window over its own engine and services (its key unlocked with the
recovery code, as a second PC would be), signed in as staff of its own station. The two service
calls run at the same time in worker threads (a barrier starts them together) while each
window's Book button waits for its answer, as on two machines."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from carestation.db import models as m
from carestation.db.engine import Database, make_engine
from carestation.domain.booking import Appointment, ClientInput, ClientSummary
from carestation.domain.vocab import AppointmentStatus, RoomKind
from carestation.security.secret_store import MemorySecretStore
from carestation.services.container import Services, build_services
from carestation.services.keys import KeyVault
from carestation.settings import Settings
from carestation.ui.booking_dialog import BookingDialog
from carestation.ui.main_window import MainWindow
from carestation.ui.prompts import RecordingPrompter
from tests.conftest import FakeClock
from tests.factories import PASSWORD, World, add_room, build_world, set_counsellor_hours
from tests.integration.test_lost_connection import pg_services, require_postgres  # noqa: F401

SH = ZoneInfo("Asia/Shanghai")
WHEN = datetime(2026, 11, 25, 10, tzinfo=SH)  # a Wednesday; the clock stands on the Monday
pytestmark = pytest.mark.postgres


@dataclass
class Station:
    services: Services
    window: MainWindow
    dialog: BookingDialog
    client: ClientSummary
    prompter: RecordingPrompter
    booked: list[Appointment]  # what the dialog booked, kept when it closes (and is deleted)

    @property
    def won(self) -> bool:
        return bool(self.booked)


@pytest.fixture
def world(pg_services: Services) -> World:  # noqa: F811
    world = build_world(pg_services)
    for station_id in (world.station_id, world.other_station_id):
        set_counsellor_hours(
            pg_services, world.counsellor.user_id, station_id, range(5), time(9), time(17)
        )
    add_room(
        pg_services, world, "咨询室A", RoomKind.COUNSELLING_ROOM, station_id=world.other_station_id
    )
    return world


@pytest.fixture
def second_pc(pg_services: Services, clock: FakeClock) -> Iterator[Services]:  # noqa: F811
    """The other station's PC: its own engine, and the key through the recovery code."""
    db = Database(make_engine(require_postgres()))
    vault = KeyVault(db, MemorySecretStore())
    vault.unlock_with_recovery_code(pg_services.vault.recovery_code())
    yield build_services(db, clock, vault=vault)
    db.dispose()


def open_station(
    qtbot: QtBot,
    tmp_path: Path,
    services: Services,
    world: World,
    username: str,
    station_id: int,
    client: ClientSummary,
) -> Station:
    actor = services.auth.sign_in(username=username, password=PASSWORD, station_id=station_id)
    assert actor.station_id == station_id
    prompter = RecordingPrompter()
    window = MainWindow(
        services,
        actor,
        Settings(tmp_path / f"{username}.json"),
        prompter,
        station_name=str(station_id),
    )
    qtbot.addWidget(window)
    window.show()
    dialog = window.new_booking(start=WHEN, counsellor_id=world.counsellor.user_id)
    assert isinstance(dialog, BookingDialog)
    qtbot.waitExposed(dialog)
    dialog.picker.choose(client)
    assert dialog.counsellor_combo.currentData() == world.counsellor.user_id
    station = Station(services, window, dialog, client, prompter, [])
    dialog.accepted.connect(lambda: station.booked.extend(dialog.booked))
    return station


@pytest.fixture
def stations(
    qtbot: QtBot,
    tmp_path: Path,
    pg_services: Services,  # noqa: F811
    second_pc: Services,
    world: World,
) -> Iterator[tuple[Station, Station]]:
    zhang = pg_services.clients.search(actor=world.staff, text="张三")[0]
    li = second_pc.clients.register(
        actor=world.other_staff, data=ClientInput(name="李四", phone="13912345678")
    )
    first = open_station(qtbot, tmp_path, pg_services, world, "staff01", world.station_id, zhang)
    second = open_station(qtbot, tmp_path, second_pc, world, "staff02", world.other_station_id, li)
    yield first, second
    for station in (first, second):
        station.window.connection_banner.shut_down(5000)


def at_the_same_moment(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, pcs: tuple[Station, ...]
) -> list[object]:
    """Each PC's booking call runs in a worker thread, and none starts before all have been
    asked; the window waits for its answer (handling events meanwhile, as a second PC would)."""
    barrier = threading.Barrier(len(pcs), timeout=20)
    answers: list[object] = []
    for pc in pcs:
        real: Callable[..., Any] = pc.services.booking.book

        def book(real: Callable[..., Any] = real, **kwargs: Any) -> Any:
            def together() -> Any:
                barrier.wait()
                return real(**kwargs)

            with ThreadPoolExecutor(1) as pool:
                answer = pool.submit(together)
                qtbot.waitUntil(answer.done, timeout=30_000)
                answers.append(answer.exception() or answer.result())
                return answer.result()

        monkeypatch.setattr(pc.services.booking, "book", book)
    return answers


def counsellor_bookings(services: Services, counsellor_id: int) -> list[tuple[int, datetime]]:
    with services.db.read() as session:
        rows = session.execute(
            select(m.Appointment.station_id, m.Appointment.starts_at)
            .where(
                m.Appointment.counsellor_id == counsellor_id,
                m.Appointment.status != AppointmentStatus.CANCELLED,
            )
            .order_by(m.Appointment.starts_at)
        )
        return [(r.station_id, r.starts_at.astimezone(SH)) for r in rows]


def test_two_stations_book_the_same_counsellor_at_once_and_exactly_one_wins(
    qtbot: QtBot,
    monkeypatch: pytest.MonkeyPatch,
    stations: tuple[Station, Station],
    world: World,
) -> None:
    first, second = stations
    answers = at_the_same_moment(qtbot, monkeypatch, (first, second))
    # Both staff press Book: the second press happens while the first is still waiting.
    QTimer.singleShot(0, second.dialog.book_button.click)
    qtbot.mouseClick(first.dialog.book_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(answers) == 2, timeout=30_000)

    assert [pc.won for pc in stations].count(True) == 1, answers
    [winner] = [pc for pc in stations if pc.won]
    [loser] = [pc for pc in stations if not pc.won]
    winner_station = winner.window._actor.station_id
    assert counsellor_bookings(winner.services, world.counsellor.user_id) == [
        (winner_station, WHEN)
    ]
    assert [(a.client_id, a.starts_at) for a in winner.booked] == [(winner.client.id, WHEN)]

    # The other window stays open with its input, says why, and offers other times.
    assert loser.dialog.isVisible()
    assert loser.dialog.picker.chosen == loser.client
    assert loser.dialog.start_edit.moment() == WHEN
    [problem] = loser.dialog.problems()
    assert "counsellor" in problem.lower()
    alternatives = loser.dialog.alternatives()
    assert loser.dialog.alternatives_list.isVisible()
    assert len(alternatives) >= 3
    winner_end = winner.booked[0].ends_at
    for slot in alternatives:
        assert slot.counsellor_id == world.counsellor.user_id
        assert slot.ends_at <= WHEN or slot.starts_at >= winner_end  # never the taken hour
    assert loser.prompter.shown == []  # a refusal in the dialog, not an error box

    # Choosing the first alternative and booking again (on its own now) works.
    monkeypatch.undo()
    loser.dialog.alternatives_list.setCurrentRow(0)
    assert loser.dialog.start_edit.moment() == alternatives[0].starts_at
    qtbot.mouseClick(loser.dialog.book_button, Qt.MouseButton.LeftButton)
    assert loser.won
    loser_station = loser.window._actor.station_id
    assert counsellor_bookings(winner.services, world.counsellor.user_id) == sorted(
        [(winner_station, WHEN), (loser_station, alternatives[0].starts_at)],
        key=lambda b: b[1],
    )


def test_a_race_only_the_database_saw_is_refused_with_alternatives_too(
    qtbot: QtBot,
    monkeypatch: pytest.MonkeyPatch,
    stations: tuple[Station, Station],
    world: World,
) -> None:
    """The exclusion constraint is the last word: when a booking got past the service's own
    check (another PC committed in between), the dialog still gets a refusal with alternatives,
    not a crash or an error box."""
    first, second = stations
    qtbot.mouseClick(second.dialog.book_button, Qt.MouseButton.LeftButton)
    assert second.won
    booking = first.services.booking
    real_check = booking._check

    def check_that_missed_it(*args: Any, **kwargs: Any) -> Any:
        _problems, _cap, draft = real_check(*args, **kwargs)
        return [], None, draft  # as if the other PC's booking were not committed yet

    monkeypatch.setattr(booking, "_check", check_that_missed_it)
    qtbot.mouseClick(first.dialog.book_button, Qt.MouseButton.LeftButton)
    assert first.dialog.result() != QDialog.DialogCode.Accepted
    assert first.dialog.problems() == [
        "Someone else just booked this counsellor at that time. Choose another time."
    ]
    alternatives = first.dialog.alternatives()
    assert alternatives
    assert first.dialog.alternatives_list.isVisible()
    assert all(
        s.starts_at >= WHEN + timedelta(minutes=50) or s.ends_at <= WHEN for s in alternatives
    )
    assert first.prompter.shown == []
    assert counsellor_bookings(first.services, world.counsellor.user_id) == [
        (world.other_station_id, WHEN)
    ]
