"""The Backups dialog: back up, change data, restore through the dialog, sign in again and see
the old data; the refusals and the server case."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from carestation.app import AppController
from carestation.db import backups
from carestation.db.backups import BackupKind
from carestation.db.engine import Database
from carestation.db.migrate import open_database
from carestation.domain.roles import Role
from carestation.domain.values import UserInput
from carestation.i18n import set_language
from carestation.services.container import Services, build_services
from carestation.settings import Settings
from carestation.ui.backups_dialog import BackupsDialog
from carestation.ui.main_window import MainWindow
from carestation.ui.prompts import RecordingPrompter
from carestation.ui.views.admin_users import UsersView
from tests.conftest import FakeClock
from tests.factories import PASSWORD, World, build_world


@pytest.fixture
def live(tmp_path: Path) -> Path:
    return tmp_path / "data" / "carestation.db"


@pytest.fixture
def services(live: Path, clock: FakeClock) -> Iterator[Services]:
    live.parent.mkdir()
    engine, _r = open_database(f"sqlite:///{live.as_posix()}")
    yield build_services(Database(engine), clock)
    engine.dispose()


@pytest.fixture
def world(services: Services) -> World:
    return build_world(services)


def test_the_backups_model_passes_qtmodeltester(
    qtmodeltester, qtbot: QtBot, services: Services, world: World, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    services.backups.back_up_now(actor=world.admin, folder=tmp_path / "b")
    settings = Settings(tmp_path / "settings.json")
    settings.set("backup_folder", str(tmp_path / "b"))
    dialog = BackupsDialog(services.backups, world.admin, settings, RecordingPrompter())
    qtbot.addWidget(dialog)
    assert dialog.model.rowCount() == 1
    qtmodeltester.check(dialog.model)


def _click(parent: QWidget, name: str) -> None:
    button = parent.findChild(QPushButton, name)
    assert button is not None, name
    assert button.isEnabled(), name
    button.click()


def _sign_in(qtbot: QtBot, controller: AppController, username: str) -> MainWindow | None:
    dialog = controller.sign_in
    assert dialog is not None
    qtbot.keyClicks(dialog.username, username)
    qtbot.keyClicks(dialog.password, PASSWORD)
    dialog.on_sign_in()
    return controller.window if controller.sign_in is None else None


def _user_names(window: MainWindow) -> list[str]:
    view = next(v for v in window.views if isinstance(v, UsersView))
    window.show_view(window.views.index(view))
    proxy = view.users.table.model()
    return sorted(proxy.index(row, 0).data() for row in range(proxy.rowCount()))


def test_restore_through_the_dialog_brings_back_the_old_data_after_signing_in_again(
    qapp,
    qtbot: QtBot,
    services: Services,
    world: World,
    live: Path,
    tmp_path: Path,
    clock: FakeClock,
) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(tmp_path / "settings.json")
    prompter = RecordingPrompter()
    controller = AppController(qapp, services, settings, prompter, [])
    controller.show_sign_in()
    window = _sign_in(qtbot, controller, "admin")
    assert window is not None
    qtbot.addWidget(window)
    assert window.backups_action is not None
    assert window.backups_action.text() == "&Backups..."
    before = _user_names(window)
    assert before == ["admin", "c001", "manager", "staff01", "staff02"]

    dialog = window.open_backups()
    assert isinstance(dialog, BackupsDialog)
    folder = live.parent / "backups"  # the default: beside the database file
    assert dialog.folder_label.text() == str(folder)
    note = dialog.findChild(QLabel, "restore_note")
    assert "stay encrypted" in note.text()
    assert "recovery code" in note.text()
    with qtbot.waitSignal(dialog.work_finished, timeout=10_000):
        _click(dialog, "back_up_now")
    assert dialog.table is not None
    assert dialog.model.rowCount() == 1
    assert dialog.model.index(0, 1).data() == "Manual"
    assert dialog.model.index(0, 2).data().endswith(" MB")

    # Data changes after the backup.
    clock.advance(hours=1)
    services.admin.create_user(
        actor=world.admin,
        data=UserInput(
            username="late.user",
            display_name="新来的",
            roles=frozenset({Role.MANAGER}),
            station_ids=frozenset(),
        ),
        password=PASSWORD,
    )
    window.refresh_current()
    assert "late.user" in _user_names(window)

    dialog.table.selectRow(0)
    with qtbot.waitSignal(dialog.restored, timeout=10_000):
        _click(dialog, "restore")
    # Confirmed with the warning about encrypted notes and the recovery code.
    kind, title, text = prompter.shown[0]
    assert (kind, title) == ("confirm", "Restore")
    assert "recovery code" in text
    # Back to the sign-in window.
    qtbot.waitUntil(lambda: controller.sign_in is not None and controller.sign_in.isVisible())
    assert not window.isVisible()
    assert prompter.shown[1][0] == "info"
    assert "Sign in again" in prompter.shown[1][2]

    # The account made after the backup is gone; the admin signs in and sees the old list.
    assert _sign_in(qtbot, controller, "late.user") is None
    controller.sign_in.username.clear()  # type: ignore[union-attr]
    again = _sign_in(qtbot, controller, "admin")
    assert again is not None
    assert again is not window
    qtbot.addWidget(again)
    assert _user_names(again) == before
    kinds = [b.kind for b in backups.list_backups(folder)]
    assert kinds == [BackupKind.BEFORE_RESTORE, BackupKind.MANUAL]
    again.close()


def test_a_foreign_file_is_refused_and_nothing_is_replaced(
    qtbot: QtBot, services: Services, world: World, tmp_path: Path
) -> None:
    foreign = tmp_path / "holiday-photos.db"
    foreign.write_bytes(b"not a database at all\n" * 100)
    settings = Settings(tmp_path / "settings.json")
    settings.set("backup_folder", str(tmp_path / "chosen"))
    prompter = RecordingPrompter()
    dialog = BackupsDialog(
        services.backups,
        world.admin,
        settings,
        prompter,
        choose_file=lambda _parent, _folder: str(foreign),
    )
    qtbot.addWidget(dialog)
    assert dialog.folder_label.text() == str(tmp_path / "chosen")
    with qtbot.waitSignal(dialog.work_finished, timeout=10_000):
        _click(dialog, "restore")  # nothing selected: a file is chosen
    assert [(k, t) for k, t, _text in prompter.shown] == [("error", "Restore")]
    assert "nothing was restored" in prompter.shown[0][2]
    assert not (tmp_path / "chosen").exists()


def test_the_folder_is_chosen_and_saved(
    qtbot: QtBot, services: Services, world: World, tmp_path: Path
) -> None:
    settings = Settings(tmp_path / "settings.json")
    chosen = tmp_path / "usb"
    dialog = BackupsDialog(
        services.backups,
        world.admin,
        settings,
        RecordingPrompter(),
        choose_folder=lambda _parent, _folder: str(chosen),
    )
    qtbot.addWidget(dialog)
    _click(dialog, "choose_folder")
    assert Settings(tmp_path / "settings.json").get("backup_folder") == str(chosen)
    assert dialog.folder_label.text() == str(chosen)


class _ServerBackups:
    available = False


def test_on_a_server_the_dialog_only_points_to_pg_dump(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = BackupsDialog(
        _ServerBackups(),  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        Settings(tmp_path / "settings.json"),
        RecordingPrompter(),
    )
    qtbot.addWidget(dialog)
    assert "pg_dump" in dialog.findChild(QLabel, "server_note").text()
    assert dialog.findChild(QPushButton, "back_up_now") is None
    assert dialog.findChild(QPushButton, "restore") is None


def test_only_administrators_get_the_menu_entry(
    qtbot: QtBot, services: Services, world: World, tmp_path: Path
) -> None:
    for role in (Role.STAFF, Role.COUNSELLOR, Role.MANAGER):
        window = MainWindow(
            services, world.actor(role), Settings(tmp_path / "s.json"), RecordingPrompter()
        )
        qtbot.addWidget(window)
        assert window.backups_action is None


def test_the_daily_backup_is_taken_in_the_background_at_start_and_when_a_day_old(
    qtbot: QtBot, services: Services, world: World, live: Path, clock: FakeClock
) -> None:
    from carestation.ui.backup_scheduler import BackupScheduler

    scheduler = BackupScheduler(services.backups, lambda: "", check_ms=3_600_000)
    folder = live.parent / "backups"
    with qtbot.waitSignal(scheduler.backup_finished, timeout=10_000) as first:
        scheduler.start()
    assert first.args[0].kind is BackupKind.DAILY
    with qtbot.waitSignal(scheduler.backup_finished, timeout=10_000) as second:
        clock.advance(hours=23)
        scheduler.check()
    assert second.args == [None]  # not yet a day old
    with qtbot.waitSignal(scheduler.backup_finished, timeout=10_000) as third:
        clock.advance(hours=1)
        scheduler.check()
    assert third.args[0].kind is BackupKind.DAILY
    assert [b.kind for b in backups.list_backups(folder)] == [BackupKind.DAILY] * 2
    scheduler.shut_down()


def test_after_restoring_another_databases_backup_the_key_is_asked_before_sign_in(
    qapp, qtbot: QtBot, services: Services, world: World, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    controller = AppController(
        qapp, services, Settings(tmp_path / "settings.json"), RecordingPrompter(), []
    )
    services.vault.forget()  # what a restore does when this PC's keyring lacks the key
    asked: list[str] = []

    def refuse() -> bool:
        asked.append("unlock")
        return False

    monkeypatch.setattr(controller, "unlock_keys", refuse)
    monkeypatch.setattr(qapp, "quit", lambda: asked.append("quit"))
    controller.show_sign_in()
    assert asked == ["unlock", "quit"]
    assert controller.sign_in is None

    monkeypatch.setattr(controller, "unlock_keys", services.vault.try_unlock)
    controller.show_sign_in()  # this PC's keyring has the key: no dialog, the sign-in window
    assert controller.sign_in is not None
    qtbot.addWidget(controller.sign_in)


def test_the_date_column_shows_the_whole_time_in_chinese(
    qtbot: QtBot, services: Services, world: World, tmp_path: Path
) -> None:
    set_language("zh_CN")
    services.backups.back_up_now(actor=world.admin, folder=tmp_path / "b")
    settings = Settings(tmp_path / "settings.json")
    settings.set("backup_folder", str(tmp_path / "b"))
    dialog = BackupsDialog(services.backups, world.admin, settings, RecordingPrompter())
    qtbot.addWidget(dialog)
    dialog.show()
    table = dialog.table
    assert table is not None
    text = table.model().index(0, 0).data()
    assert len(text) == len("2026-11-24 10:00")
    needed = table.fontMetrics().horizontalAdvance(text)
    assert table.columnWidth(0) > needed  # not "2026-11-24 …"
    assert table.columnWidth(0) >= table.sizeHintForColumn(0)
