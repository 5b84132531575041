"""The database-connection dialog (before sign-in), the start-up that offers it, and the one-time
choice of this PC's station."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot
from sqlalchemy.engine import make_url

from carestation import app as app_module
from carestation.app import AppController, start_url
from carestation.db import connection as conn
from carestation.db.migrate import head_revision, open_database
from carestation.security.secret_store import MemorySecretStore
from carestation.services.container import Services
from carestation.settings import Settings
from carestation.ui import connection_dialog
from carestation.ui.connection_dialog import ConnectionDialog, StationChoiceDialog
from carestation.ui.prompts import RecordingPrompter
from tests.conftest import IN_CI, PG_URL
from tests.factories import PASSWORD, World, build_world
from tests.ui.typing import type_text

SECRET = "Zj#2026:pw/暨阳"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _dialog(
    qtbot: QtBot, settings: Settings, store: MemorySecretStore | None, **kw: object
) -> ConnectionDialog:
    dialog = ConnectionDialog(settings, store, RecordingPrompter(), **kw)  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _run_test(qtbot: QtBot, dialog: ConnectionDialog) -> conn.ProbeResult:
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    assert not dialog.test_button.isEnabled()  # in the background; the dialog stays usable
    qtbot.waitUntil(lambda: not dialog.testing, timeout=15000)
    assert dialog.test_button.isEnabled()
    assert dialog.last_result is not None
    return dialog.last_result


def _fill_server(
    qtbot: QtBot, dialog: ConnectionDialog, url_text: str, password: str, port: int | None = None
) -> None:
    url = make_url(url_text)
    dialog.server_choice.setChecked(True)
    for edit, value in (
        (dialog.host, url.host or ""),
        (dialog.database, url.database or ""),
        (dialog.username, url.username or ""),
    ):
        edit.clear()
        qtbot.keyClicks(edit, value)
    dialog.port.setValue(port or url.port or 5432)
    dialog.password_edit.clear()
    type_text(qtbot, dialog.password_edit, password)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(tmp_path / "settings.json")


@pytest.fixture
def pg_url() -> str:
    if not PG_URL:
        if IN_CI:
            pytest.fail("CI=true but CARESTATION_TEST_PG_URL is not set")
        pytest.skip("set CARESTATION_TEST_PG_URL to run against PostgreSQL")
    return PG_URL


def test_an_embedded_file_is_tested_and_saved(
    qtbot: QtBot, settings: Settings, sqlite_url: str
) -> None:
    engine, _r = open_database(sqlite_url)
    engine.dispose()
    dialog = _dialog(qtbot, settings, MemorySecretStore())
    assert dialog.embedded_choice.isChecked()  # nothing saved yet: the embedded default
    assert dialog.pages.currentIndex() == 0
    qtbot.keyClicks(dialog.path, make_url(sqlite_url).database or "")
    result = _run_test(qtbot, dialog)
    assert result.state is conn.ProbeState.CURRENT
    assert dialog.message.text() == (
        f"The database file can be read. Schema version {head_revision()}: the same as this "
        "version of CareStation."
    )
    dialog.on_save()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert Settings(settings.path).get("database_url") == sqlite_url


def test_the_default_file_is_saved_as_empty(qtbot: QtBot, settings: Settings) -> None:
    settings.set("database_url", "postgresql+psycopg://station@db.example:5432/carestation")
    settings.set("station_id", 3)
    dialog = _dialog(qtbot, settings, MemorySecretStore())
    assert dialog.server_choice.isChecked()
    assert dialog.host.text() == "db.example"
    dialog.embedded_choice.setChecked(True)
    dialog.on_save()
    assert settings.get("database_url") == ""
    # Another database: its station ids mean other stations, so the choice is asked again.
    assert settings.get("station_id") == 0


def test_a_failed_test_says_why_and_never_shows_the_password(
    qtbot: QtBot, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    dialog = _dialog(qtbot, settings, MemorySecretStore())
    dialog.server_choice.setChecked(True)
    dialog.on_test()
    assert dialog.message.text() == "Fill in: host, database, user name."
    port = _free_port()
    _fill_server(qtbot, dialog, "postgresql+psycopg://station@127.0.0.1/carestation", SECRET, port)
    result = _run_test(qtbot, dialog)
    assert result.state is conn.ProbeState.FAILED
    text = dialog.message.text()
    assert text.startswith(
        f"Could not connect to postgresql+psycopg://station:***@127.0.0.1:{port}/carestation: "
    )
    assert "Connection refused" in text
    assert dialog.message.property("tone") == "error"  # in the problem colour, and in words
    for record in caplog.records:
        assert "Zj#2026" not in record.getMessage()
    assert "Zj#2026" not in text


def test_a_server_connection_is_tested_saved_and_used_at_the_next_start(
    qtbot: QtBot, settings: Settings, pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine, _r = open_database(pg_url)
    engine.dispose()
    caplog.set_level(logging.DEBUG)
    store = MemorySecretStore()
    dialog = _dialog(qtbot, settings, store)
    password = make_url(pg_url).password or SECRET  # a trusting test server ignores it
    _fill_server(qtbot, dialog, pg_url, password)
    dialog.sslmode.setCurrentIndex(dialog.sslmode.findData("prefer"))
    result = _run_test(qtbot, dialog)
    assert result.state is conn.ProbeState.CURRENT, result.message
    assert dialog.message.text().startswith("Connected to PostgreSQL ")
    assert f"Schema version {head_revision()}: the same as this version" in dialog.message.text()
    assert dialog.message.property("tone") == "success"  # in the success colour, and in words
    assert dialog.remember.isChecked()
    dialog.on_save()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.password_edit.text() == ""

    saved = json.loads(settings.path.read_text(encoding="utf-8"))["values"]["database_url"]
    expected = make_url(pg_url)._replace(password=None)
    assert make_url(saved) == expected
    assert password not in settings.path.read_text(encoding="utf-8")
    assert conn.stored_password(store, expected) == password
    for record in caplog.records:
        assert password not in record.getMessage()

    # The next start: no --db, a fresh Settings from the file, the password from the keyring.
    url = start_url(None, Settings(settings.path), store)
    assert url.password == password
    engine, opened = open_database(url.render_as_string(hide_password=False))
    engine.dispose()
    assert opened.revision_before == head_revision()

    # Opened again, the dialog shows the saved server and that the password is kept.
    again = _dialog(qtbot, Settings(settings.path), store)
    assert again.server_choice.isChecked()
    assert again.database.text() == make_url(pg_url).database
    assert again.password_edit.text() == ""
    assert again.password_edit.placeholderText() == "kept in this PC's key store"


def test_without_a_secure_key_store_the_password_is_only_for_this_run(
    qtbot: QtBot, settings: Settings
) -> None:
    dialog = _dialog(qtbot, settings, None)
    assert not dialog.remember.isEnabled()
    assert not dialog.remember.isChecked()
    assert dialog.findChild(object, "no_keyring") is not None
    _fill_server(qtbot, dialog, "postgresql+psycopg://station@db.example/carestation", SECRET)
    dialog.sslmode.setCurrentIndex(dialog.sslmode.findData("verify-full"))
    qtbot.keyClicks(dialog.rootcert, "/etc/carestation/root.crt")
    dialog.on_save()
    assert dialog.password == SECRET
    assert settings.get("database_url") == (
        "postgresql+psycopg://station@db.example:5432/carestation"
        "?sslmode=verify-full&sslrootcert=%2Fetc%2Fcarestation%2Froot.crt"
    )
    assert SECRET not in settings.path.read_text(encoding="utf-8")


def test_unticking_remember_forgets_the_kept_password(qtbot: QtBot, settings: Settings) -> None:
    store = MemorySecretStore()
    url = make_url("postgresql+psycopg://station@db.example:5432/carestation")
    conn.store_password(store, url, SECRET)
    settings.set("database_url", url.render_as_string())
    dialog = _dialog(qtbot, settings, store)
    dialog.remember.setChecked(False)
    dialog.on_save()
    assert conn.stored_password(store, url) is None


# --- the sign-in window and the controller ---------------------------------------------------


@pytest.fixture
def world(sqlite_services: Services) -> World:
    return build_world(sqlite_services)


def test_the_sign_in_window_opens_the_connection_dialog_and_reconnects(
    qapp, qtbot: QtBot, sqlite_services: Services, world: World, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(tmp_path / "settings.json")
    store = MemorySecretStore()
    shown = make_url("postgresql+psycopg://station:hidden-pw@db.example/carestation")
    controller = AppController(
        qapp, sqlite_services, settings, RecordingPrompter(), [], store=store, url=shown
    )
    controller.show_sign_in()
    sign_in = controller.sign_in
    assert sign_in is not None
    qtbot.addWidget(sign_in)
    assert sign_in.connection_button.text() == "Database connection..."
    assert "hidden-pw" not in sign_in.connection_button.toolTip()
    assert "db.example" in sign_in.connection_button.toolTip()

    def fill_and_save(dialog: ConnectionDialog) -> int:
        assert dialog.server_choice.isChecked()  # opened on the connection in use
        dialog.embedded_choice.setChecked(True)
        dialog.path.setText(str(tmp_path / "other.db"))
        dialog.on_save()
        return dialog.result()

    exits: list[int] = []
    monkeypatch.setattr(ConnectionDialog, "exec", fill_and_save)
    monkeypatch.setattr(qapp, "exit", exits.append)
    qtbot.mouseClick(sign_in.connection_button, Qt.MouseButton.LeftButton)
    assert exits == [app_module.RECONNECT]
    assert controller.next_connection is not None
    assert controller.next_connection[0] == conn.sqlite_url(tmp_path / "other.db")
    assert controller.sign_in is None
    assert settings.get("database_url") == f"sqlite:///{(tmp_path / 'other.db').as_posix()}"


def test_a_cancelled_connection_dialog_keeps_the_sign_in_window(
    qapp, qtbot: QtBot, sqlite_services: Services, world: World, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    controller = AppController(
        qapp, sqlite_services, Settings(tmp_path / "s.json"), RecordingPrompter(), []
    )
    controller.show_sign_in()
    assert controller.sign_in is not None
    qtbot.addWidget(controller.sign_in)
    monkeypatch.setattr(ConnectionDialog, "exec", lambda self: QDialog.DialogCode.Rejected)
    assert controller.open_connection_dialog() is False
    assert controller.sign_in is not None
    assert controller.next_connection is None


def test_an_unreachable_database_at_start_offers_the_dialog(
    start_gui: RecordingPrompter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"postgresql+psycopg://station:{SECRET}@127.0.0.1:{_free_port()}/carestation"
    start_gui.answer = False
    assert app_module.run_gui(db_url=url, lang="en", demo=False) == 1
    kind, title, text = start_gui.shown[0]
    assert (kind, title) == ("confirm", "CareStation cannot open the database")
    assert text.endswith("\n\nOpen the database connection settings?")
    assert "Connection refused" in text
    assert "Zj#2026" not in text

    # Yes: the dialog opens on that address; after Save the chosen database is opened.
    start_gui.answer = True
    start_gui.shown.clear()
    opened: list[str] = []

    def choose_embedded(dialog: ConnectionDialog) -> int:
        assert dialog.host.text() == "127.0.0.1"
        assert dialog.password_edit.text() == ""  # never filled from a URL
        dialog.embedded_choice.setChecked(True)
        dialog.path.setText(str(tmp_path / "chosen.db"))
        dialog.on_save()
        return dialog.result()

    def no_sign_in(self: AppController) -> bool:
        opened.append(str(self.url))
        return False

    monkeypatch.setattr(ConnectionDialog, "exec", choose_embedded)
    monkeypatch.setattr(AppController, "start", no_sign_in)
    assert app_module.run_gui(db_url=url, lang="en", demo=False) == 0
    assert opened == [f"sqlite:///{(tmp_path / 'chosen.db').as_posix()}"]
    assert (tmp_path / "chosen.db").exists()


# --- this PC's station, chosen once ----------------------------------------------------------


def test_a_multi_station_user_chooses_this_pcs_station_once(
    qapp, qtbot: QtBot, sqlite_services: Services, world: World, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(tmp_path / "settings.json")
    controller = AppController(qapp, sqlite_services, settings, RecordingPrompter(), [])
    # staff01 works at one station: nothing to ask.
    staff = sqlite_services.auth.sign_in(username="staff01", password=PASSWORD)
    monkeypatch.setattr(StationChoiceDialog, "exec", _never)
    assert controller.choose_station(staff) is staff

    offered: list[list[str]] = []

    def pick_the_other(dialog: StationChoiceDialog) -> int:
        names = [dialog.stations.item(i).text() for i in range(dialog.stations.count())]
        offered.append(names)
        dialog.stations.setCurrentRow(names.index("店口镇服务站"))
        dialog.on_ok()
        return dialog.result()

    monkeypatch.setattr(StationChoiceDialog, "exec", pick_the_other)
    counsellor = sqlite_services.auth.sign_in(username="c001", password=PASSWORD)
    assert counsellor.station_id == world.station_id  # the lowest id, before the choice
    chosen = controller.choose_station(counsellor)
    assert offered == [sorted(["暨阳街道职工情绪管理服务站", "店口镇服务站"])]
    assert chosen.station_id == world.other_station_id
    assert Settings(settings.path).get("station_id") == world.other_station_id
    assert controller._station()[0] == world.other_station_id

    # Asked once: the next sign-in is at the chosen station without a question.
    monkeypatch.setattr(StationChoiceDialog, "exec", _never)
    again = sqlite_services.auth.sign_in(
        username="c001", password=PASSWORD, station_id=controller._station()[0]
    )
    assert controller.choose_station(again).station_id == world.other_station_id


def test_asking_later_leaves_the_station_unchosen(
    qapp, sqlite_services: Services, world: World, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(tmp_path / "settings.json")
    controller = AppController(qapp, sqlite_services, settings, RecordingPrompter(), [])
    monkeypatch.setattr(StationChoiceDialog, "exec", lambda self: QDialog.DialogCode.Rejected)
    counsellor = sqlite_services.auth.sign_in(username="c001", password=PASSWORD)
    assert controller.choose_station(counsellor) == counsellor
    assert settings.get("station_id") == 0


def _never(self: QDialog) -> int:
    raise AssertionError("no question expected")


def test_the_module_builds_without_a_database(qtbot: QtBot, settings: Settings) -> None:
    dialog = connection_dialog.ConnectionDialog(settings, None, RecordingPrompter())
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "Database connection"
    assert [dialog.sslmode.itemData(i) for i in range(dialog.sslmode.count())] == list(
        conn.SSL_MODES
    )
