"""Start-up: the protection key is unlocked (or set up) before anyone can sign in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
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
