"""The offline banner: shown in words when the database server cannot be reached, retried in a
worker thread, hidden (and the screen reloaded) when the server is back; and a booking dialog
whose save failed meanwhile keeps what was typed and saves afterwards."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLineEdit, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from carestation.db import models as m
from carestation.domain.errors import Conflict, DatabaseUnavailable
from carestation.i18n import set_language
from carestation.services.container import Services
from carestation.settings import Settings
from carestation.ui.booking_dialog import BookingDialog
from carestation.ui.connection_status import ConnectionBanner, report_connection_lost
from carestation.ui.main_window import MainWindow
from carestation.ui.prompts import RecordingPrompter
from carestation.ui.views.base import attempt
from tests.factories import World, build_world, set_counsellor_hours
from tests.integration.test_lost_connection import Outage, outage, pg_services  # noqa: F401

SH = ZoneInfo("Asia/Shanghai")
LOST = DatabaseUnavailable("The database cannot be reached.")
OFFLINE_TEXT = (
    "No connection to the database server. Your work is kept; CareStation retries every 5 s."
)


class FlakyServer:
    """A probe for the banner: fails while `down`, and counts the calls."""

    def __init__(self) -> None:
        self.down = False
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1
        if self.down:
            raise LOST


def banner(qtbot: QtBot, server: FlakyServer, **kwargs: object) -> tuple[QWidget, ConnectionBanner]:
    window = QWidget()
    bar = ConnectionBanner(server, window, **kwargs)  # type: ignore[arg-type]
    window.connection_banner = bar  # type: ignore[attr-defined]
    qtbot.addWidget(window)
    window.resize(900, 200)
    window.show()
    return window, bar


def test_a_lost_connection_shows_words_retries_by_itself_and_hides_when_back(
    qtbot: QtBot,
) -> None:
    server = FlakyServer()
    _window, bar = banner(qtbot, server, retry_ms=30, check_ms=None)
    bar.start()
    assert not bar.isVisible()
    assert not bar.timer.isActive()
    server.down = True
    with qtbot.waitSignal(bar.went_offline):
        bar.connection_lost(LOST)
    assert bar.isVisible()
    assert bar.text_label.text() == (
        "No connection to the database server. Your work is kept; CareStation retries every 1 s."
    )
    assert bar.accessibleDescription() == bar.text_label.text()
    # It keeps asking in the background, and says when it last tried.
    qtbot.waitUntil(lambda: server.calls >= 2, timeout=3000)
    qtbot.waitUntil(lambda: bar.detail_label.text().startswith("Last tried at "), timeout=3000)
    assert bar.isVisible()
    server.down = False
    with qtbot.waitSignal(bar.restored, timeout=3000):
        pass
    assert not bar.isVisible()
    assert not bar.offline
    calls = server.calls
    qtbot.wait(100)
    assert server.calls == calls  # online, with no periodic check: no more asking
    bar.shut_down(1000)


def test_the_periodic_check_notices_an_idle_station_going_offline(qtbot: QtBot) -> None:
    server = FlakyServer()
    _window, bar = banner(qtbot, server, retry_ms=40, check_ms=20)
    bar.start()
    qtbot.waitUntil(lambda: server.calls >= 1, timeout=3000)
    assert not bar.isVisible()
    server.down = True
    with qtbot.waitSignal(bar.went_offline, timeout=3000):
        pass
    assert bar.isVisible()
    assert bar.timer.interval() == 40
    server.down = False
    with qtbot.waitSignal(bar.restored, timeout=3000):
        pass
    assert bar.timer.interval() == 20
    bar.shut_down(1000)


def test_the_retry_button_asks_at_once(qtbot: QtBot) -> None:
    server = FlakyServer()
    _window, bar = banner(qtbot, server, retry_ms=60_000, check_ms=None)
    bar.connection_lost(LOST)
    server.down = False
    with qtbot.waitSignal(bar.restored, timeout=3000):
        qtbot.mouseClick(bar.retry_button, Qt.MouseButton.LeftButton)
    assert not bar.isVisible()
    bar.shut_down(1000)


def test_attempt_in_a_dialog_reports_to_its_windows_banner_and_keeps_the_dialog(
    qtbot: QtBot,
) -> None:
    server = FlakyServer()
    window, bar = banner(qtbot, server, retry_ms=60_000, check_ms=None)
    dialog = QDialog(window)
    edit = QLineEdit("王芳 typed this", dialog)
    dialog.show()
    prompter = RecordingPrompter()

    def save() -> None:
        raise LOST

    assert attempt(dialog, prompter, save) is None
    assert dialog.isVisible()
    assert edit.text() == "王芳 typed this"
    assert bar.isVisible()
    assert bar.offline
    assert prompter.shown == [
        (
            "error",
            "No connection to the database",
            "The database cannot be reached.\n\nWhat you entered is still here. Try again when "
            "the connection is back: the banner at the top of the main window disappears then.",
        )
    ]
    # Other refusals are not about the connection: no banner for them.
    bar.shut_down()
    bar.offline = False
    bar.hide()

    def refuse() -> None:
        raise Conflict("That name is taken.")

    assert attempt(dialog, prompter, refuse) is None
    assert not bar.isVisible()
    assert report_connection_lost(QWidget()) is False  # a widget with no window banner


# --- on a real PostgreSQL server --------------------------------------------------------------
@pytest.fixture
def pg_world(pg_services: Services) -> World:  # noqa: F811
    world = build_world(pg_services)
    set_counsellor_hours(
        pg_services, world.counsellor.user_id, world.station_id, range(5), time(9), time(17)
    )
    return world


@pytest.fixture
def window(
    qtbot: QtBot,
    pg_services: Services,  # noqa: F811
    pg_world: World,
    tmp_path: Path,
) -> Iterator[MainWindow]:
    win = MainWindow(
        pg_services,
        pg_world.staff,
        Settings(tmp_path / "settings.json"),
        RecordingPrompter(),
        station_name="暨阳",
    )
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.connection_banner.shut_down(10_000)


def appointments(services: Services) -> int:
    with services.db.read() as session:
        return session.scalar(select(func.count()).select_from(m.Appointment)) or 0


@pytest.mark.postgres
def test_the_main_window_shows_offline_and_carries_on_when_the_server_is_back(
    qtbot: QtBot,
    window: MainWindow,
    pg_services: Services,  # noqa: F811
    pg_world: World,
    outage: Outage,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bar = window.connection_banner
    assert not bar.isVisible()
    assert bar.timer.isActive()
    assert bar.timer.interval() == 30_000
    # A client's details, half typed into the booking dialog when the server goes away.
    dialog = window.new_booking(start=datetime(2026, 11, 25, 10, tzinfo=SH))
    assert isinstance(dialog, BookingDialog)
    client = pg_services.clients.search(actor=pg_world.staff, text="张三")[0]
    dialog.picker.choose(client)
    dialog.counsellor_combo.setCurrentIndex(
        dialog.counsellor_combo.findData(pg_world.counsellor.user_id)
    )
    outage.start()
    qtbot.mouseClick(dialog.book_button, Qt.MouseButton.LeftButton)
    prompter = window._prompter
    assert isinstance(prompter, RecordingPrompter)
    assert prompter.shown[-1][:2] == ("error", "No connection to the database")
    assert "nothing was saved" in prompter.shown[-1][2]
    # The dialog stays, with what was chosen; the window says it is offline, in words.
    assert dialog.isVisible()
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.picker.chosen == client
    assert dialog.counsellor_combo.currentData() == pg_world.counsellor.user_id
    assert dialog.start_edit.moment() == datetime(2026, 11, 25, 10, tzinfo=SH)
    assert bar.isVisible()
    assert bar.text_label.text() == OFFLINE_TEXT
    assert bar.timer.interval() == 5_000
    # A retry while the server is still away keeps the banner.
    with qtbot.waitSignal(bar._signals.done, timeout=15_000):
        bar.check_now()
    assert bar.isVisible()
    assert bar.detail_label.text().startswith("Last tried at ")

    refreshed: list[bool] = []
    monkeypatch.setattr(window, "refresh_current", lambda: refreshed.append(True))
    outage.end()
    with qtbot.waitSignal(bar.restored, timeout=15_000):
        qtbot.mouseClick(bar.retry_button, Qt.MouseButton.LeftButton)
    assert not bar.isVisible()
    assert refreshed == [True]  # the current screen reloads
    assert appointments(pg_services) == 0
    # Save again: it goes through with what was kept.
    qtbot.mouseClick(dialog.book_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert [(a.client_id, a.starts_at) for a in dialog.booked] == [
        (client.id, datetime(2026, 11, 25, 10, tzinfo=SH))
    ]
    assert appointments(pg_services) == 1


@pytest.mark.postgres
def test_the_check_of_an_idle_window_finds_the_server_gone(
    qtbot: QtBot,
    window: MainWindow,
    outage: Outage,  # noqa: F811
) -> None:
    bar = window.connection_banner
    outage.start()
    with qtbot.waitSignal(bar.went_offline, timeout=15_000):
        bar.timer.timeout.emit()  # what the 30 s timer does
    assert bar.isVisible()
    outage.end()
    with qtbot.waitSignal(bar.restored, timeout=15_000):
        bar.timer.timeout.emit()  # what the 5 s retry does
    assert not bar.isVisible()


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_the_banner_text_fits_the_window(
    qtbot: QtBot, tmp_path: Path, language: str, request: pytest.FixtureRequest
) -> None:
    set_language(language)
    server = FlakyServer()
    window, bar = banner(qtbot, server, check_ms=None)
    window.resize(800, 120)
    QVBoxLayout(window).addWidget(bar)
    bar.connection_lost(LOST)
    qtbot.waitUntil(bar.isVisible)
    qtbot.wait(50)
    # Every line is shown whole: the label has the height its wrapped text needs, and the
    # button its full width.
    for label in (bar.text_label, bar.detail_label):
        assert label.height() >= label.heightForWidth(label.width())
    assert bar.retry_button.width() >= bar.retry_button.sizeHint().width()
    shots = os.environ.get("CARESTATION_SHOTS")
    if shots:
        bar.grab().save(str(Path(shots) / f"connection_banner_{language}.png"))
    bar.shut_down()


@pytest.mark.postgres
def test_a_client_registration_that_failed_offline_keeps_its_fields_and_saves_later(
    qtbot: QtBot,
    window: MainWindow,
    pg_services: Services,  # noqa: F811
    pg_world: World,
    outage: Outage,  # noqa: F811
) -> None:
    from carestation.ui.client_picker import ClientDialog

    prompter = RecordingPrompter()
    dialog = ClientDialog(pg_services.clients, pg_world.staff, prompter, parent=window)
    dialog.show()
    dialog.name_edit.setText("李四")
    dialog.phone_edit.setText("13912345678")
    outage.start()
    dialog.on_ok()
    assert dialog.isVisible()
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert (dialog.name_edit.text(), dialog.phone_edit.text()) == ("李四", "13912345678")
    assert prompter.shown[-1][1] == "No connection to the database"
    assert window.connection_banner.isVisible()
    outage.end()
    with qtbot.waitSignal(window.connection_banner.restored, timeout=15_000):
        window.connection_banner.check_now()
    dialog.on_ok()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert [c.name for c in pg_services.clients.search(actor=pg_world.staff, text="李四")] == [
        "李四"
    ]
