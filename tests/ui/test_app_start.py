"""Start-up: the protection key is unlocked (or set up) before anyone can sign in."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from carestation.app import AppController
from carestation.db import models as m
from carestation.db.engine import Database
from carestation.db.migrate import open_database
from carestation.security.secret_store import MemorySecretStore
from carestation.services.container import Services, build_services
from carestation.services.keys import KeyState, KeyVault
from carestation.settings import Settings
from carestation.ui import key_dialogs
from carestation.ui.prompts import RecordingPrompter
from carestation.ui.sign_in_dialog import SignInDialog

PASSPHRASE = "jiaxing station passphrase"


@pytest.fixture
def db(sqlite_url: str) -> Iterator[Database]:
    engine, _r = open_database(sqlite_url)
    yield Database(engine)
    engine.dispose()


def _controller(qapp, services: Services, tmp_path: Path) -> AppController:  # type: ignore[no-untyped-def]
    return AppController(
        qapp, services, Settings(tmp_path / "settings.json"), RecordingPrompter(), []
    )


def _actions(db: Database) -> list[str]:
    with db.read() as session:
        return list(session.scalars(select(m.AuditEvent.action).order_by(m.AuditEvent.seq)))


def test_a_locked_database_asks_for_the_passphrase_and_quits_on_cancel(
    qapp, qtbot: QtBot, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    KeyVault(db, None).set_up(passphrase=PASSPHRASE)  # set up on a PC without a key store
    services = build_services(db, vault=KeyVault(db, None))
    controller = _controller(qapp, services, tmp_path)
    monkeypatch.setattr(key_dialogs.UnlockDialog, "exec", lambda self: QDialog.DialogCode.Rejected)
    assert controller.unlock_keys() is False
    assert services.vault.state() is KeyState.LOCKED

    def type_and_unlock(dialog: key_dialogs.UnlockDialog) -> int:
        assert dialog.passphrase is not None
        dialog.passphrase.setText("a wrong passphrase here")
        dialog.on_unlock()
        assert not services.vault.is_unlocked  # refused, dialog stays
        dialog.passphrase.setText(PASSPHRASE)
        dialog.on_unlock()
        return dialog.result()

    monkeypatch.setattr(key_dialogs.UnlockDialog, "exec", type_and_unlock)
    assert controller.unlock_keys() is True
    assert services.vault.is_unlocked
    assert _actions(db)[-1] == "unlock_keys"
    assert services.audit.verify().ok


def test_the_keyring_unlocks_without_asking(
    qapp, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    store = MemorySecretStore()
    KeyVault(db, store).set_up()
    services = build_services(db, vault=KeyVault(db, store))

    def never(self: QDialog) -> int:
        raise AssertionError("no dialog expected")

    monkeypatch.setattr(key_dialogs.UnlockDialog, "exec", never)
    assert _controller(qapp, services, tmp_path).unlock_keys() is True


def test_a_database_from_an_older_version_gets_its_key_set_up_and_the_code_shown(
    qapp, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    store = MemorySecretStore()
    services = build_services(db, vault=KeyVault(db, store))
    assert services.vault.state() is KeyState.NOT_SET_UP
    shown: list[str] = []

    def accept_setup(dialog: key_dialogs.KeySetupDialog) -> int:
        dialog.on_ok()
        return dialog.result()

    def write_down(dialog: key_dialogs.RecoveryCodeDialog) -> int:
        shown.append(dialog.code_text())
        dialog.force_close()
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(key_dialogs.KeySetupDialog, "exec", accept_setup)
    monkeypatch.setattr(key_dialogs.RecoveryCodeDialog, "exec", write_down)
    assert _controller(qapp, services, tmp_path).unlock_keys() is True
    assert services.vault.state() is KeyState.UNLOCKED
    assert len(shown) == 1
    assert "".join(shown[0].split()).replace("-", "") == services.vault.recovery_code().replace(
        "-", ""
    )
    assert services.vault.code_shown_at() is not None
    assert "show_recovery_code" in _actions(db)


# --- the sign-in window comes first -----------------------------------------------------------


@pytest.fixture
def station_file(sqlite_url: str) -> str:
    """A station database with accounts whose key is in this PC's (test) key store."""
    from carestation.security import secret_store
    from tests.factories import build_world

    engine, _r = open_database(sqlite_url)
    db = Database(engine)
    vault = KeyVault(db, secret_store.open_os_store())
    vault.set_up()
    build_world(build_services(db, vault=vault))
    engine.dispose()
    return sqlite_url


def _held_open(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Holds the worker thread before it opens the database until the event is set."""
    from carestation import app as app_module

    gate = threading.Event()
    real_open = app_module._OpenThread._open

    def held(self: app_module._OpenThread) -> None:
        assert gate.wait(20), "the test never let the database open"
        real_open(self)

    monkeypatch.setattr(app_module._OpenThread, "_open", held)
    return gate


def _visible_sign_in(qapp) -> SignInDialog:  # type: ignore[no-untyped-def]
    shown = [w for w in qapp.topLevelWidgets() if isinstance(w, SignInDialog) and w.isVisible()]
    assert len(shown) == 1
    return shown[0]


def test_the_sign_in_window_takes_input_while_the_database_opens_and_signs_in_after(
    qapp, start_gui: RecordingPrompter, station_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from carestation import app as app_module
    from tests.factories import PASSWORD

    gate = _held_open(monkeypatch)
    seen: dict[str, object] = {}

    def while_opening() -> None:
        sign_in = _visible_sign_in(qapp)
        seen["ready"] = sign_in.is_ready
        seen["status"] = sign_in.status.text() if sign_in.status.isVisible() else ""
        seen["connection button"] = sign_in.connection_button.isEnabled()
        sign_in.username.setText("admin")
        sign_in.password.setText(PASSWORD)
        sign_in.sign_in_button.click()  # before the database is open
        seen["after press"] = sign_in.status.text()
        seen["accepted early"] = sign_in.result() == QDialog.DialogCode.Accepted
        gate.set()

    signed_in: list[str] = []

    def record_and_quit(self: AppController) -> None:
        assert self.sign_in is not None
        assert self.sign_in.actor is not None
        signed_in.append(self.sign_in.actor.username)
        QTimer.singleShot(0, lambda: self.app.exit(0))

    monkeypatch.setattr(AppController, "_signed_in", record_and_quit)
    QTimer.singleShot(0, while_opening)
    give_up = QTimer()  # a failure, not a hang; stopped after, or it would end a later test's loop
    give_up.setSingleShot(True)
    give_up.timeout.connect(lambda: qapp.exit(3))
    give_up.start(20_000)
    try:
        assert app_module.run_gui(db_url=station_file, lang="en", demo=False) == 0
    finally:
        give_up.stop()
    assert seen == {
        "ready": False,
        "status": "Opening the database...",
        "connection button": False,
        "after press": "Opening the database... you are signed in as soon as it is open.",
        "accepted early": False,
    }
    assert signed_in == ["admin"]  # the early press signed in once the database was open
    assert start_gui.shown == []


def test_quitting_while_the_database_opens_leaves_cleanly(
    qapp, start_gui: RecordingPrompter, station_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from carestation import app as app_module

    gate = _held_open(monkeypatch)
    started: list[bool] = []
    monkeypatch.setattr(AppController, "start", lambda self: started.append(True) or True)

    def press_quit() -> None:
        _visible_sign_in(qapp).reject()
        gate.set()

    QTimer.singleShot(0, press_quit)
    assert app_module.run_gui(db_url=station_file, lang="en", demo=False) == 0
    assert started == []  # nothing went on after Quit


def test_the_sign_in_window_does_not_wait_for_the_database_layer_to_import() -> None:
    """Start-up speed: importing the app (all the sign-in window needs) imports neither the
    database layer nor the services, reports or charts; those load behind the window."""
    import subprocess
    import sys

    heavy = ["sqlalchemy", "alembic", "reportlab", "keyring", "carestation.services.container"]
    heavy += ["PySide6.QtCharts", "carestation.ui.main_window", "argon2", "cryptography"]
    probe = (
        f"import sys, carestation.app; print(','.join(m for m in {heavy!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""


# --- one copy per user on a PC ------------------------------------------------------------------


def test_a_second_copy_says_the_app_is_already_open_and_leaves(
    qapp, start_gui: RecordingPrompter, station_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from carestation import app as app_module

    first = app_module.single_instance_lock()
    assert first is not None
    opened: list[bool] = []
    monkeypatch.setattr(app_module._OpenThread, "_open", lambda self: opened.append(True))
    try:
        assert app_module.run_gui(db_url=station_file, lang="en", demo=False) == 1
    finally:
        first.unlock()
    assert start_gui.shown[0][:2] == ("error", "CareStation is already open")
    assert opened == []  # nothing was opened, let alone replaced
    again = app_module.single_instance_lock()  # free once the first copy is gone
    assert again is not None
    again.unlock()


def test_the_lock_of_a_copy_that_crashed_is_taken_over(tmp_path: Path) -> None:
    import subprocess
    import sys

    from carestation import app as app_module

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from carestation.app import single_instance_lock; "
            "lock = single_instance_lock(); print(lock is not None, flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "True"
        assert app_module.single_instance_lock() is None  # held by a live copy
    finally:
        holder.kill()  # the copy crashes, leaving its lock file behind
        holder.wait()
    lock = app_module.single_instance_lock()
    assert lock is not None
    lock.unlock()
