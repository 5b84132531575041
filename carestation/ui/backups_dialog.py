"""The administrator's Backups dialog: the list, back up now, restore, and the folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from carestation.db.backups import BackupInfo
from carestation.domain.errors import CareStationError
from carestation.domain.values import Actor
from carestation.i18n import N_, _
from carestation.services.backups import RestoreResult
from carestation.settings import Settings
from carestation.ui.prompts import Prompter
from carestation.ui.table_model import Column, RecordTableModel


class BackupsPort(Protocol):
    @property
    def available(self) -> bool: ...
    def folder(self, chosen: str) -> Path: ...
    def list(self, *, actor: Actor, folder: Path) -> list[BackupInfo]: ...
    def back_up_now(self, *, actor: Actor, folder: Path) -> BackupInfo: ...
    def check(self, *, actor: Actor, backup: Path) -> str | None: ...
    def restore(self, *, actor: Actor, backup: Path, folder: Path) -> RestoreResult: ...


def choose_backup_file(parent: QWidget, folder: Path) -> str:
    name, _filter = QFileDialog.getOpenFileName(
        parent, _("Choose a backup"), str(folder), _("CareStation backups (*.db)")
    )
    return name


def choose_backup_folder(parent: QWidget, folder: Path) -> str:
    return QFileDialog.getExistingDirectory(parent, _("Folder for backups"), str(folder))


RESTORE_WARNING = N_(
    "Restoring replaces everything in this database with the backup's content; whatever was "
    "recorded since the backup was made is no longer in it. A copy of the database as it is "
    "now is kept first, in the backups folder. Everyone is signed out afterwards.\n\n"
    "The confidential notes in a backup stay encrypted. On this PC they open as before; to "
    "restore on another PC you need this database's recovery code."
)


class _JobSignals(QObject):
    succeeded = Signal(object)
    failed = Signal(object)


class _Job(QRunnable):
    """Runs a service call off the GUI thread; the result comes back through signals."""

    def __init__(self, call: Callable[[], Any], signals: _JobSignals) -> None:
        super().__init__()
        self._call, self._signals = call, signals

    def run(self) -> None:
        try:
            result = self._call()
        except Exception as exc:  # reported to the user by the dialog
            self._signals.failed.emit(exc)
        else:
            self._signals.succeeded.emit(result)


class BackupsDialog(QDialog):
    restored = Signal()  # the database was replaced: everyone must sign in again
    work_finished = Signal()

    def __init__(
        self,
        service: BackupsPort,
        actor: Actor,
        settings: Settings,
        prompter: Prompter,
        *,
        choose_file: Callable[[QWidget, Path], str] = choose_backup_file,
        choose_folder: Callable[[QWidget, Path], str] = choose_backup_folder,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._service, self._actor, self._settings, self._prompter = (
            service,
            actor,
            settings,
            prompter,
        )
        self._choose_file, self._choose_folder = choose_file, choose_folder
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _JobSignals(self)
        self._on_success: Callable[[Any], None] = lambda _r: None
        self._signals.succeeded.connect(self._succeeded)
        self._signals.failed.connect(self._failed)
        self.setWindowTitle(_("Backups"))
        self.resize(640, 420)
        layout = QVBoxLayout(self)
        if not service.available:
            note = QLabel(
                _(
                    "This PC uses a database server. Backups of a server are the server's job: "
                    "schedule pg_dump there, as the README describes."
                )
            )
            note.setObjectName("server_note")
            note.setWordWrap(True)
            layout.addWidget(note)
            close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
            close.button(QDialogButtonBox.StandardButton.Close).setText(_("Close"))
            close.rejected.connect(self.reject)
            layout.addWidget(close)
            self.table = None
            return
        self.folder_label = QLabel()
        self.folder_label.setObjectName("folder")
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        change = QPushButton(_("Choose &folder..."))
        change.setObjectName("choose_folder")
        change.clicked.connect(self.choose_folder)
        row = QHBoxLayout()
        row.addWidget(QLabel(_("Folder:")))
        row.addWidget(self.folder_label, 1)
        row.addWidget(change)
        layout.addLayout(row)
        self.model: RecordTableModel[BackupInfo] = RecordTableModel(
            [
                Column(
                    title=lambda: _("Date"),
                    text=lambda b: b.taken_at.astimezone().strftime("%Y-%m-%d %H:%M"),
                    sort_key=lambda b: b.taken_at.timestamp(),
                ),
                Column(title=lambda: _("Kind"), text=lambda b: b.kind.label),
                Column(
                    title=lambda: _("Size"),
                    text=lambda b: _("{size} MB").format(size=f"{b.size / 1_000_000:.1f}"),
                    sort_key=lambda b: b.size,
                ),
            ],
            self,
        )
        self.table = QTableView()
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.table.setObjectName("backups")
        self.table.setAccessibleName(_("Backups"))
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        # The date and the kind as wide as their text (the whole time, in any language).
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        layout.addWidget(self.table, 1)
        notes = QLabel(_(RESTORE_WARNING))
        notes.setObjectName("restore_note")
        notes.setWordWrap(True)
        layout.addWidget(notes)
        self.status = QLabel()
        self.status.setObjectName("status")
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        self.back_up_button = QPushButton(_("&Back up now"))
        self.back_up_button.setObjectName("back_up_now")
        self.back_up_button.clicked.connect(self.back_up_now)
        self.restore_button = QPushButton(_("&Restore..."))
        self.restore_button.setObjectName("restore")
        self.restore_button.clicked.connect(self.restore)
        close_button = QPushButton(_("Close"), objectName="close")
        close_button.clicked.connect(self.reject)
        buttons.addWidget(self.back_up_button)
        buttons.addWidget(self.restore_button)
        buttons.addStretch(1)
        buttons.addWidget(close_button)
        layout.addLayout(buttons)
        self.refresh()
        self.table.setFocus()  # the list first; Tab reaches its buttons, then the folder

    # --- the list ----------------------------------------------------------------------------
    def folder(self) -> Path:
        return self._service.folder(self._settings.get("backup_folder"))

    def refresh(self) -> None:
        assert self.table is not None
        folder = self.folder()
        self.folder_label.setText(str(folder))
        try:
            self.backups = self._service.list(actor=self._actor, folder=folder)
        except CareStationError as exc:
            self._prompter.error(self, _("Backups"), str(exc))
            self.backups = []
        self.model.set_rows(self.backups)  # newest first

    def selected_path(self) -> Path | None:
        assert self.table is not None
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.model.row_value(rows[0].row()).path

    # --- actions -----------------------------------------------------------------------------
    def choose_folder(self) -> None:
        chosen = self._choose_folder(self, self.folder())
        if not chosen:
            return
        self._settings.set("backup_folder", chosen)
        self._settings.save()
        self.refresh()

    def _run(
        self,
        call: Callable[[], Any],
        on_success: Callable[[Any], None],
        *,
        title: str | None = None,
    ) -> None:
        self._error_title = title or _("Backups")
        self.back_up_button.setEnabled(False)
        self.restore_button.setEnabled(False)
        self.status.setText(_("Working..."))
        self._on_success = on_success
        self._pool.start(_Job(call, self._signals))

    def _idle(self) -> None:
        self.back_up_button.setEnabled(True)
        self.restore_button.setEnabled(True)

    def _succeeded(self, result: object) -> None:
        self._idle()
        self.status.setText("")
        self._on_success(result)
        self.work_finished.emit()

    def _failed(self, exc: object) -> None:
        self._idle()
        self.status.setText("")
        self._prompter.error(self, self._error_title, str(exc))
        self.work_finished.emit()

    def back_up_now(self) -> None:
        folder = self.folder()

        def done(info: object) -> None:
            assert isinstance(info, BackupInfo)
            self.status.setText(_("Backup written: {name}").format(name=info.path.name))
            self.refresh()

        self._run(lambda: self._service.back_up_now(actor=self._actor, folder=folder), done)

    def restore(self) -> None:
        path = self.selected_path()
        if path is None:
            chosen = self._choose_file(self, self.folder())
            if not chosen:
                return
            path = Path(chosen)
        # The check reads the whole file (integrity_check): in the worker, like the restore.
        self._run(
            lambda: self._service.check(actor=self._actor, backup=path),
            lambda _revision: self._confirm_restore(path),
            title=_("Restore"),
        )

    def _confirm_restore(self, path: Path) -> None:
        self.status.setText("")
        if not self._prompter.confirm(
            self,
            _("Restore"),
            _("Restore the database from {name}?").format(name=path.name)
            + "\n\n"
            + _(RESTORE_WARNING),
        ):
            return
        folder = self.folder()

        def restored(result: object) -> None:
            assert isinstance(result, RestoreResult)
            text = _(
                "The database was restored. The database as it was is kept as {name}. "
                "Sign in again."
            ).format(name=result.saved.path.name)
            if result.needs_recovery_code:
                text += "\n\n" + _(
                    "The restored database's confidential records are protected by a key this "
                    "PC does not hold: type that database's recovery code at the next step."
                )
            self._prompter.info(self, _("Restore"), text)
            self.restored.emit()
            self.accept()

        self._run(
            lambda: self._service.restore(actor=self._actor, backup=path, folder=folder),
            restored,
            title=_("Restore"),
        )

    def done(self, result: int) -> None:
        self._pool.waitForDone()
        super().done(result)
