"""The key dialogs and the administrator's key screen, driven as a user would, on a real database:
set-up with and without a secure key store, unlocking at start, the recovery code, the passphrase."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeVar

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QPushButton, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, select

from carestation.db.engine import Database
from carestation.db.models import AuditEvent
from carestation.domain.values import Actor, StationInput
from carestation.security import crypto, keys
from carestation.security.secret_store import MemorySecretStore
from carestation.services.container import Services, build_services
from carestation.services.keys import KeyState, KeyVault
from carestation.ui.key_dialogs import (
    KeySetupDialog,
    PassphraseFields,
    RecoveryCodeDialog,
    UnlockDialog,
    code_groups,
)
from carestation.ui.prompts import RecordingPrompter
from carestation.ui.setup_dialog import SetupDialog
from carestation.ui.views.key_view import KeyView, RevealCodeDialog, SetPassphraseDialog
from tests.conftest import FakeClock
from tests.factories import PASSWORD
from tests.ui.typing import type_text

PASSPHRASE = "correct horse battery"
WRONG_PASSPHRASE = "incorrect horse battery"
STATION = "诸暨市职工情绪管理服务站"


# --- helpers ------------------------------------------------------------------------------------
def error_text(dialog: QWidget, key: str) -> str:
    label = dialog.findChild(QLabel, f"error_{key}")
    assert label is not None, key
    return label.text() if label.isVisibleTo(dialog) else ""


def button(parent: QWidget, name: str) -> QPushButton:
    found = parent.findChild(QPushButton, name)
    assert found is not None, name
    return found


D = TypeVar("D", bound=QDialog)


def shown(qtbot: QtBot, dialog: D) -> D:
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def unnamed_inputs(widget: QWidget) -> list[str]:
    return [e.objectName() for e in widget.findChildren(QLineEdit) if not e.accessibleName()]


def open_child(parent: QWidget, kind: type[D]) -> D:
    dialogs = [d for d in parent.findChildren(kind) if d.isVisible()]
    assert len(dialogs) == 1, dialogs
    return dialogs[0]


@pytest.fixture
def db(engine: Engine) -> Database:
    """An empty database with no key yet (as one upgraded from an older version)."""
    return Database(engine)


@pytest.fixture
def passphrase_vault(db: Database) -> Iterator[tuple[KeyVault, str]]:
    """A database whose key is protected by a passphrase (no secure key store), locked again
    after set-up; with its recovery code."""
    vault = KeyVault(db, None)
    vault.set_up(passphrase=PASSPHRASE)
    code = vault.recovery_code()
    vault.lock()
    yield vault, code
    vault.lock()


# --- the recovery code --------------------------------------------------------------------------
def test_the_recovery_code_is_shown_in_its_groups_and_closes_only_once_written_down(
    qtbot: QtBot, services: Services
) -> None:
    code = services.vault.recovery_code()
    dialog = shown(qtbot, RecoveryCodeDialog(code))
    assert dialog.windowTitle() == "CareStation"
    lines = dialog.code_text().split("\n")
    assert [line.split() for line in lines] == [
        code.split("-")[0:4],
        code.split("-")[4:8],
        code.split("-")[8:11],
    ]
    assert dialog.code_label.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
    assert dialog.code_label.font().fixedPitch()  # asks for a monospace face
    text = " ".join(label.text() for label in dialog.findChildren(QLabel))
    for phrase in ("enrol a second", "restore a backup", "Do not photograph", "shown only now"):
        assert phrase in text

    assert not dialog.close_button.isEnabled()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    dialog.close()
    assert dialog.isVisible()  # neither Escape nor the window's close button dismiss it

    assert dialog.focusWidget() is dialog.written_down
    qtbot.keyClick(dialog.written_down, Qt.Key.Key_Space)
    assert dialog.close_button.isEnabled()
    qtbot.keyClick(dialog.written_down, Qt.Key.Key_Return)  # the default button now
    assert not dialog.isVisible()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.code_text() == ""  # nothing left in the widget


def test_code_groups_accepts_the_code_with_or_without_dashes() -> None:
    assert code_groups("ABCDE-FGHIJ-KL") == ["ABCDE", "FGHIJ", "KL"]
    assert code_groups("ABCDEFGHIJ") == ["ABCDE", "FGHIJ"]


# --- setting the key up on an upgraded database -------------------------------------------------
def test_key_setup_on_a_pc_without_a_key_store_needs_a_repeated_passphrase(
    qtbot: QtBot, db: Database
) -> None:
    vault = KeyVault(db, None)
    prompter = RecordingPrompter()
    dialog = shown(qtbot, KeySetupDialog(vault, prompter))
    assert dialog.windowTitle() == "CareStation"
    assert unnamed_inputs(dialog) == []
    fields = dialog.findChild(PassphraseFields)
    assert fields is not None
    assert fields.isVisibleTo(dialog)

    type_text(qtbot, fields.passphrase, "too short")
    type_text(qtbot, fields.repeat, "too short")
    button(dialog, "set_up_key").click()
    assert dialog.isVisible()
    assert error_text(dialog, "passphrase") == "A passphrase has at least 12 characters."

    fields.clear()
    type_text(qtbot, fields.passphrase, PASSPHRASE)
    type_text(qtbot, fields.repeat, PASSPHRASE + "!")
    button(dialog, "set_up_key").click()
    assert dialog.isVisible()
    assert error_text(dialog, "passphrase") == ""
    assert error_text(dialog, "passphrase_repeat") == (
        "The two passphrases differ; type the same passphrase twice."
    )
    assert vault.state() is KeyState.NOT_SET_UP

    fields.repeat.clear()
    type_text(qtbot, fields.repeat, PASSPHRASE)
    button(dialog, "set_up_key").click()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.recovery_code == vault.recovery_code()
    assert (fields.passphrase.text(), fields.repeat.text()) == ("", "")
    assert prompter.shown == []
    # Another start of this PC opens the key with the passphrase, another PC with the code.
    assert vault.has_passphrase()
    KeyVault(db, None).unlock_with_passphrase(PASSPHRASE)
    KeyVault(db, None).unlock_with_recovery_code(dialog.recovery_code)


def test_key_setup_on_a_pc_with_a_key_store_asks_for_no_passphrase(
    qtbot: QtBot, db: Database
) -> None:
    store = MemorySecretStore()
    vault = KeyVault(db, store)
    dialog = shown(qtbot, KeySetupDialog(vault, RecordingPrompter()))
    assert dialog.findChild(PassphraseFields) is None
    assert "secure key store" in dialog.findChild(QLabel, "store_note").text()
    button(dialog, "set_up_key").click()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.recovery_code == vault.recovery_code()
    assert not vault.has_passphrase()
    assert KeyVault(db, store).try_unlock()  # this PC remembers it


def test_quitting_key_setup_makes_no_key(qtbot: QtBot, db: Database) -> None:
    vault = KeyVault(db, None)
    dialog = shown(qtbot, KeySetupDialog(vault, RecordingPrompter()))
    type_text(qtbot, dialog.passphrase_fields.passphrase, PASSPHRASE)
    button(dialog, "quit").click()
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert dialog.passphrase_fields.passphrase.text() == ""
    assert vault.state() is KeyState.NOT_SET_UP
    assert dialog.recovery_code is None


# --- unlocking at start -------------------------------------------------------------------------
def test_a_wrong_passphrase_is_shown_beside_the_field_and_the_right_one_unlocks(
    qtbot: QtBot, passphrase_vault: tuple[KeyVault, str]
) -> None:
    vault, _code = passphrase_vault
    prompter = RecordingPrompter()
    dialog = shown(qtbot, UnlockDialog(vault, prompter))
    assert dialog.windowTitle() == "CareStation"
    assert unnamed_inputs(dialog) == []
    assert dialog.passphrase is not None
    assert dialog.passphrase.echoMode() == QLineEdit.EchoMode.Password

    dialog.unlock_button.click()
    assert error_text(dialog, "passphrase") == "Type the passphrase, or the recovery code below."

    type_text(qtbot, dialog.passphrase, WRONG_PASSPHRASE)
    qtbot.keyClick(dialog.passphrase, Qt.Key.Key_Return)
    assert dialog.isVisible()
    assert error_text(dialog, "passphrase") == (
        "That passphrase does not open this database's protected records."
    )
    assert dialog.passphrase.text() == ""
    assert not vault.is_unlocked

    type_text(qtbot, dialog.passphrase, PASSPHRASE)
    qtbot.keyClick(dialog.passphrase, Qt.Key.Key_Return)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert vault.is_unlocked
    assert dialog.passphrase.text() == ""
    assert prompter.shown == []


def test_the_recovery_code_unlocks_a_passphrase_database_too(
    qtbot: QtBot, passphrase_vault: tuple[KeyVault, str]
) -> None:
    vault, code = passphrase_vault
    dialog = shown(qtbot, UnlockDialog(vault, RecordingPrompter()))
    type_text(qtbot, dialog.recovery_code, code.lower().replace("-", " "))
    dialog.unlock_button.click()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert vault.is_unlocked
    assert dialog.recovery_code.text() == ""


def test_a_new_pc_is_enrolled_with_the_recovery_code_and_remembers_the_key(
    qtbot: QtBot, db: Database
) -> None:
    first_pc = KeyVault(db, MemorySecretStore())
    first_pc.set_up()
    code = first_pc.recovery_code()
    new_store = MemorySecretStore()
    new_pc = KeyVault(db, new_store)
    assert not new_pc.try_unlock()

    dialog = shown(qtbot, UnlockDialog(new_pc, RecordingPrompter()))
    assert dialog.passphrase is None  # none was ever set
    assert dialog.findChild(QLineEdit, "passphrase") is None
    assert "will not ask again" in dialog.findChild(QLabel, "recovery_note").text()

    dialog.unlock_button.click()
    assert error_text(dialog, "recovery_code") == "Type the recovery code."

    groups = code.split("-")
    typo = "-".join([*groups[:-1], groups[-1][::-1]])
    type_text(qtbot, dialog.recovery_code, typo)
    dialog.unlock_button.click()
    assert dialog.isVisible()
    assert error_text(dialog, "recovery_code").startswith("That recovery code is not right")
    assert dialog.recovery_code.text() == typo  # kept, to correct one group

    dialog.recovery_code.clear()
    type_text(qtbot, dialog.recovery_code, keys.recovery_code(crypto.new_key()))
    dialog.unlock_button.click()
    assert error_text(dialog, "recovery_code").startswith(
        "That recovery code belongs to another database."
    )

    dialog.recovery_code.clear()
    type_text(qtbot, dialog.recovery_code, code)
    dialog.unlock_button.click()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert new_pc.is_unlocked
    assert KeyVault(db, new_store).try_unlock()  # the next start asks nothing


def test_quit_leaves_the_key_locked_and_forgets_what_was_typed(
    qtbot: QtBot, passphrase_vault: tuple[KeyVault, str]
) -> None:
    vault, code = passphrase_vault
    dialog = shown(qtbot, UnlockDialog(vault, RecordingPrompter()))
    assert dialog.passphrase is not None
    type_text(qtbot, dialog.passphrase, PASSPHRASE)
    type_text(qtbot, dialog.recovery_code, code)
    dialog.quit_button.click()
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert not vault.is_unlocked
    assert (dialog.passphrase.text(), dialog.recovery_code.text()) == ("", "")


# --- first set-up on a PC without a key store ---------------------------------------------------
@pytest.fixture
def keystore_less_services(db: Database, clock: FakeClock) -> Services:
    """An empty database, opened as on a PC without a secure key store."""
    return build_services(db, clock, vault=KeyVault(db, None, clock=clock))


def test_first_set_up_without_a_key_store_asks_for_a_passphrase(
    qtbot: QtBot, keystore_less_services: Services
) -> None:
    services = keystore_less_services
    dialog = shown(qtbot, SetupDialog(services.setup, RecordingPrompter()))
    assert dialog.passphrase_fields is not None
    assert dialog.findChild(QWidget, "passphrase_box").title() == (
        "Protecting confidential records"
    )
    type_text(qtbot, dialog.station_name, "枫桥镇职工情绪管理服务站")
    type_text(qtbot, dialog.display_name, "系统管理员")
    qtbot.keyClicks(dialog.password, PASSWORD)
    qtbot.keyClicks(dialog.confirm, PASSWORD)
    fields = dialog.passphrase_fields
    type_text(qtbot, fields.passphrase, PASSPHRASE)
    type_text(qtbot, fields.repeat, PASSPHRASE + "?")
    dialog.on_ok()
    assert dialog.isVisible()
    assert dialog.errors.text("passphrase_repeat") == (
        "The two passphrases differ; type the same passphrase twice."
    )
    assert dialog.errors.text("password") == ""  # the password typed was fine
    assert services.setup.needs_setup()

    fields.repeat.clear()
    dialog.on_ok()  # an empty repeat differs too
    assert services.setup.needs_setup()
    type_text(qtbot, fields.repeat, PASSPHRASE)
    dialog.on_ok()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert not services.setup.needs_setup()
    assert services.vault.has_passphrase()
    assert fields.value() is None  # cleared
    KeyVault(services.db, None).unlock_with_passphrase(PASSPHRASE)


def test_first_set_up_without_a_passphrase_is_refused_beside_the_field(
    qtbot: QtBot, keystore_less_services: Services
) -> None:
    services = keystore_less_services
    dialog = shown(qtbot, SetupDialog(services.setup, RecordingPrompter()))
    type_text(qtbot, dialog.station_name, "站")
    type_text(qtbot, dialog.display_name, "管理员")
    qtbot.keyClicks(dialog.password, PASSWORD)
    qtbot.keyClicks(dialog.confirm, PASSWORD)
    dialog.on_ok()
    assert dialog.errors.text("passphrase") == "Choose a passphrase of at least 12 characters."
    assert services.setup.needs_setup()


def test_first_set_up_with_a_key_store_has_no_passphrase_group(
    qtbot: QtBot, services: Services
) -> None:
    dialog = shown(qtbot, SetupDialog(services.setup, RecordingPrompter()))
    assert dialog.passphrase_fields is None
    assert dialog.findChild(QWidget, "passphrase_box") is None


# --- the administrator's key screen -------------------------------------------------------------
@dataclass
class KeyEnv:
    services: Services
    admin: Actor
    prompter: RecordingPrompter
    view: KeyView


@pytest.fixture
def key_env(qtbot: QtBot, services: Services) -> KeyEnv:
    _station, admin = services.setup.create_first_admin(
        station=StationInput(name=STATION),
        username="admin",
        display_name="管理员",
        password=PASSWORD,
    )
    prompter = RecordingPrompter()
    view = KeyView(services.keys, admin, prompter)
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    qtbot.waitExposed(view)
    view.refresh()
    return KeyEnv(services, admin, prompter, view)


def label_text(view: QWidget, name: str) -> str:
    label = view.findChild(QLabel, name)
    assert label is not None, name
    return label.text()


def audit_results(services: Services, action: str) -> list[str]:
    with services.db.read() as session:
        return list(
            session.scalars(
                select(AuditEvent.result).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


def test_the_key_screen_says_where_the_key_is_and_warns_that_no_code_was_written_down(
    key_env: KeyEnv,
) -> None:
    view = key_env.view
    assert view.title() == "Protection key"
    assert "secure key store" in label_text(view, "key_where")
    assert label_text(view, "key_passphrase").startswith("No passphrase is set.")
    assert label_text(view, "key_code").startswith(
        "The recovery code has never been shown, so nobody has written it down yet."
    )
    text = " ".join(label.text() for label in view.findChildren(QLabel))
    assert "same database" in text  # how to enrol a second PC
    assert "Restore the backup there and type the recovery code" in text


def test_showing_the_recovery_code_asks_for_the_password_and_is_recorded(
    qtbot: QtBot, key_env: KeyEnv, clock: FakeClock
) -> None:
    view, services = key_env.view, key_env.services
    button(view, "show_recovery_code").click()
    ask = open_child(view, RevealCodeDialog)
    assert unnamed_inputs(ask) == []
    type_text(qtbot, ask.password_edit, "not my password")
    qtbot.mouseClick(ask.ok_button, Qt.MouseButton.LeftButton)
    assert ask.isVisible()
    assert error_text(ask, "password") == "Your password is not right; type it again."
    assert open_child(view, RevealCodeDialog) is ask
    assert audit_results(services, "show_recovery_code") == ["failed"]

    ask.password_edit.clear()
    type_text(qtbot, ask.password_edit, PASSWORD)
    qtbot.mouseClick(ask.ok_button, Qt.MouseButton.LeftButton)
    assert not ask.isVisible()
    code_dialog = open_child(view, RecoveryCodeDialog)
    assert "".join(code_dialog.code_text().split()) == services.vault.recovery_code().replace(
        "-", ""
    )
    assert audit_results(services, "show_recovery_code") == ["failed", "ok"]
    shown_at = clock.now().astimezone().strftime("%Y-%m-%d %H:%M")
    assert label_text(view, "key_code") == (
        f"The recovery code was last shown on {shown_at}. Keep the paper copy locked away."
    )
    code_dialog.written_down.click()
    code_dialog.close_button.click()
    assert not code_dialog.isVisible()


def test_setting_a_passphrase_lets_a_pc_without_a_key_store_unlock(
    qtbot: QtBot, key_env: KeyEnv
) -> None:
    view, services, prompter = key_env.view, key_env.services, key_env.prompter
    button(view, "set_passphrase").click()
    dialog = open_child(view, SetPassphraseDialog)
    assert unnamed_inputs(dialog) == []
    type_text(qtbot, dialog.password_edit, PASSWORD)
    type_text(qtbot, dialog.passphrase_fields.passphrase, PASSPHRASE)
    type_text(qtbot, dialog.passphrase_fields.repeat, "something else entirely")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert error_text(dialog, "passphrase_repeat") == (
        "The two passphrases differ; type the same passphrase twice."
    )
    assert not services.vault.has_passphrase()

    dialog.passphrase_fields.repeat.clear()
    type_text(qtbot, dialog.passphrase_fields.repeat, PASSPHRASE)
    dialog.password_edit.clear()
    type_text(qtbot, dialog.password_edit, "not my password")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert error_text(dialog, "password") == "Your password is not right; type it again."
    assert not services.vault.has_passphrase()

    dialog.password_edit.clear()
    type_text(qtbot, dialog.password_edit, PASSWORD)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert prompter.shown[-1][0] == "info"
    assert label_text(view, "key_passphrase").startswith("A passphrase is set.")
    assert audit_results(services, "set_key_passphrase") == ["ok"]
    KeyVault(services.db, None).unlock_with_passphrase(PASSPHRASE)


def test_clear_closes_a_shown_recovery_code_and_forgets_the_state(
    qtbot: QtBot, key_env: KeyEnv
) -> None:
    view = key_env.view
    button(view, "show_recovery_code").click()
    ask = open_child(view, RevealCodeDialog)
    type_text(qtbot, ask.password_edit, PASSWORD)
    ask.on_ok()
    code_dialog = open_child(view, RecoveryCodeDialog)

    view.clear()
    assert not code_dialog.isVisible()
    assert code_dialog.code_text() == ""
    assert [d for d in view.findChildren(QDialog) if d.isVisible()] == []
    assert label_text(view, "key_code") == ""
    assert not button(view, "show_recovery_code").isEnabled()


def test_clear_closes_a_half_typed_password_dialog(qtbot: QtBot, key_env: KeyEnv) -> None:
    view = key_env.view
    button(view, "set_passphrase").click()
    dialog = open_child(view, SetPassphraseDialog)
    type_text(qtbot, dialog.password_edit, PASSWORD)
    view.clear()
    assert not dialog.isVisible()
    assert dialog.password_edit.text() == ""
