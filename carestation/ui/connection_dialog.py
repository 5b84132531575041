"""Setting up this PC before anyone signs in: which database it uses (the embedded file or a
PostgreSQL server, with the password in the OS keyring) and, once, which station it is at."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.engine import URL

from carestation.db import connection as conn
from carestation.domain.errors import CareStationError
from carestation.domain.values import Station
from carestation.i18n import _
from carestation.settings import Settings, data_dir, default_database_url
from carestation.ui.keyboard import order_box
from carestation.ui.prompts import Prompter
from carestation.ui.style import set_tone


def ssl_mode_titles() -> dict[str, str]:
    return {
        "disable": _("Off (disable)"),
        "prefer": _("If the server offers it (prefer)"),
        "require": _("Required, certificate not checked (require)"),
        "verify-full": _("Required, server certificate and name checked (verify-full)"),
    }


class _ProbeSignals(QObject):
    finished = Signal(int, object)  # generation, ProbeResult


class _ProbeJob(QRunnable):
    def __init__(self, url: URL, generation: int, signals: _ProbeSignals) -> None:
        super().__init__()
        self._url, self._generation, self._signals = url, generation, signals

    def run(self) -> None:
        try:
            result = conn.probe(self._url)
        except Exception as exc:  # reported on the GUI thread, never raised in a worker
            result = conn.ProbeResult(
                state=conn.ProbeState.FAILED,
                message=conn.scrub(str(exc), self._url.password),  # type: ignore[arg-type]
                where=conn.safe_text(self._url),
            )
        with contextlib.suppress(RuntimeError):  # the dialog was closed meanwhile
            self._signals.finished.emit(self._generation, result)


class ConnectionDialog(QDialog):
    """After Save: `chosen_url` (no password) and `password` (typed now, for this run)."""

    def __init__(
        self,
        settings: Settings,
        store: conn.PasswordStore | None,
        prompter: Prompter,
        *,
        current: URL | str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._settings, self._store, self._prompter = settings, store, prompter
        self.chosen_url: URL | None = None
        self.password = ""
        self.last_result: conn.ProbeResult | None = None
        self.testing = False
        self.setWindowTitle(_("Database connection"))
        self.setObjectName("connection_dialog")
        # Created first, so it is destroyed first: its destructor waits for a running test.
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _ProbeSignals(self)
        self._signals.finished.connect(self._tested)
        self._generation = 0

        layout = QVBoxLayout(self)
        intro = QLabel(
            _(
                "Where this PC keeps its data: a database file on this PC (one station), or the "
                "city network's PostgreSQL server (several stations)."
            )
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.embedded_choice = QRadioButton(_("&Embedded database on this PC"))
        self.embedded_choice.setObjectName("embedded_choice")
        self.server_choice = QRadioButton(_("Postgre&SQL server"))
        self.server_choice.setObjectName("server_choice")
        group = QButtonGroup(self)
        group.addButton(self.embedded_choice)
        group.addButton(self.server_choice)
        choices = QHBoxLayout()
        choices.addWidget(self.embedded_choice)
        choices.addWidget(self.server_choice)
        choices.addStretch(1)
        layout.addLayout(choices)

        self.pages = QStackedWidget()
        self.pages.addWidget(self._embedded_page())
        self.pages.addWidget(self._server_page())
        layout.addWidget(self.pages)
        self.embedded_choice.toggled.connect(self._kind_changed)

        test_row = QHBoxLayout()
        self.test_button = QPushButton(_("&Test connection"))
        self.test_button.setObjectName("test_connection")
        self.test_button.clicked.connect(self.on_test)
        test_row.addWidget(self.test_button)
        test_row.addStretch(1)
        layout.addLayout(test_row)
        self.message = QLabel()
        self.message.setObjectName("result")
        self.message.setWordWrap(True)
        self.message.setMinimumHeight(self.fontMetrics().lineSpacing() * 3)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Save).setText(_("Save"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("Cancel"))
        buttons.accepted.connect(self.on_save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        order_box(buttons)
        self.setMinimumWidth(560)

        self._fill(current if current is not None else settings.get("database_url"))

    # -- building ---------------------------------------------------------------------------

    def _embedded_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        self.path = QLineEdit()
        self.path.setObjectName("path")
        self.path.setPlaceholderText(str(default_path()))
        browse = QPushButton(_("Browse..."), objectName="browse_file")
        browse.setAccessibleName(_("Choose the database file"))
        browse.clicked.connect(self._browse_database)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        form.addRow(_buddy(_("Database &file"), self.path), row)
        hint = QLabel(_("Default: {path}").format(path=default_path()))
        hint.setWordWrap(True)
        set_tone(hint, "hint")
        form.addRow("", hint)
        return page

    def _server_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        self.host = QLineEdit()
        self.host.setObjectName("host")
        self.host.setPlaceholderText("db.example.org")
        self.port = QSpinBox()
        self.port.setObjectName("port")
        self.port.setRange(1, 65535)
        self.port.setValue(conn.DEFAULT_PORT)
        self.port.setMaximumWidth(self.port.sizeHint().width() + 48)
        self.database = QLineEdit()
        self.database.setObjectName("database")
        self.username = QLineEdit()
        self.username.setObjectName("username")
        self.password_edit = QLineEdit()
        self.password_edit.setObjectName("password")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.remember = QCheckBox(_("&Keep the password in this PC's key store"))
        self.remember.setObjectName("remember")
        self.remember.setChecked(self._store is not None)
        self.sslmode = QComboBox()
        self.sslmode.setObjectName("sslmode")
        for mode, title in ssl_mode_titles().items():
            self.sslmode.addItem(title, mode)
        self.sslmode.setCurrentIndex(self.sslmode.findData(conn.DEFAULT_SSL_MODE))
        self.rootcert = QLineEdit()
        self.rootcert.setObjectName("rootcert")
        self.rootcert.setPlaceholderText(_("optional, e.g. the city's root.crt"))
        browse = QPushButton(_("Browse..."), objectName="browse_certificate")
        browse.setAccessibleName(_("Choose the root certificate"))
        browse.clicked.connect(self._browse_certificate)
        cert_row = QHBoxLayout()
        cert_row.addWidget(self.rootcert, 1)
        cert_row.addWidget(browse)
        form.addRow(_("&Host"), self.host)
        form.addRow(_("P&ort"), self.port)
        form.addRow(_("&Database"), self.database)
        form.addRow(_("&User name"), self.username)
        form.addRow(_("&Password"), self.password_edit)
        form.addRow("", self.remember)
        if self._store is None:
            self.remember.setChecked(False)
            self.remember.setEnabled(False)
            note = QLabel(
                _(
                    "This PC has no secure key store, so the password cannot be kept: it is used "
                    "until CareStation closes and asked for at the next start."
                )
            )
            note.setObjectName("no_keyring")
            note.setWordWrap(True)
            set_tone(note, "hint")
            form.addRow("", note)
        form.addRow(_("&Encryption (TLS)"), self.sslmode)
        form.addRow(_buddy(_("&Root certificate"), self.rootcert), cert_row)
        return page

    def _fill(self, current: URL | str) -> None:
        url: URL | None
        try:
            url = conn.parse(current) if isinstance(current, str) and current else None
        except CareStationError:
            url = None
        if isinstance(current, URL):
            url = current
        address = conn.server_address(url) if url is not None else None
        if address is None:
            self.embedded_choice.setChecked(True)
            if url is not None and url.database and url.database != ":memory:":
                path = Path(url.database)
                if path != default_path():
                    self.path.setText(str(path))
            self._kind_changed()
            return
        self.server_choice.setChecked(True)
        self.host.setText(address.host)
        self.port.setValue(address.port)
        self.database.setText(address.database)
        self.username.setText(address.username)
        self.sslmode.setCurrentIndex(max(0, self.sslmode.findData(address.sslmode)))
        self.rootcert.setText(address.sslrootcert)
        if conn.stored_password(self._store, conn.postgres_url(address)) is not None:
            self.password_edit.setPlaceholderText(_("kept in this PC's key store"))
        self._kind_changed()

    def _kind_changed(self) -> None:
        current = 0 if self.embedded_choice.isChecked() else 1
        self.pages.setCurrentIndex(current)
        # The hidden page takes no room, so the short embedded page leaves no gap.
        for index in range(self.pages.count()):
            policy = (
                QSizePolicy.Policy.Preferred if index == current else QSizePolicy.Policy.Ignored
            )
            self.pages.widget(index).setSizePolicy(policy, policy)
        self.pages.adjustSize()
        self.adjustSize()
        self._show("", ok=True)

    # -- reading the fields ------------------------------------------------------------------

    def url(self) -> URL:
        """The address the fields describe, without a password. ValueError names what is
        missing."""
        if self.embedded_choice.isChecked():
            text = self.path.text().strip()
            # Absolute, so the next start finds the file whatever folder it starts in.
            return conn.sqlite_url(Path(text).expanduser().absolute() if text else default_path())
        missing = [
            title
            for title, edit in (
                (_("host"), self.host),
                (_("database"), self.database),
                (_("user name"), self.username),
            )
            if not edit.text().strip()
        ]
        if missing:
            raise ValueError(_("Fill in: {fields}.").format(fields=", ".join(missing)))
        return conn.postgres_url(
            conn.ServerAddress(
                host=self.host.text(),
                database=self.database.text(),
                username=self.username.text(),
                port=self.port.value(),
                sslmode=self.sslmode.currentData(),
                sslrootcert=self.rootcert.text(),
            )
        )

    def _url_to_connect(self, url: URL) -> URL:
        return conn.with_password(url, self._store, self.password_edit.text() or None)

    # -- actions -----------------------------------------------------------------------------

    def on_test(self) -> None:
        try:
            url = self._url_to_connect(self.url())
        except ValueError as exc:
            self._show(str(exc), ok=False)
            return
        self._generation += 1
        self.testing = True
        self.test_button.setEnabled(False)
        self._show(_("Testing the connection to {where}...").format(where=conn.safe_text(url)))
        self._pool.start(_ProbeJob(url, self._generation, self._signals))

    def _tested(self, generation: int, result: conn.ProbeResult) -> None:
        if generation != self._generation:
            return
        self.testing = False
        self.test_button.setEnabled(True)
        self.last_result = result
        lines = [result.message]
        if result.tls is True:
            lines.append(_("The connection is encrypted (TLS)."))
        elif result.tls is False:
            lines.append(_("The connection is not encrypted."))
        if result.state is conn.ProbeState.TOO_NEW:
            lines.append(_("This version of CareStation cannot use it."))
        ok = result.state in (
            conn.ProbeState.CURRENT,
            conn.ProbeState.BEHIND,
            conn.ProbeState.EMPTY,
        )
        self._show("\n".join(lines), ok=ok)

    def on_save(self) -> None:
        try:
            url = self.url()
        except ValueError as exc:
            self._show(str(exc), ok=False)
            return
        password = self.password_edit.text() if self.server_choice.isChecked() else ""
        if self.server_choice.isChecked() and self._store is not None:
            try:
                if self.remember.isChecked() and password:
                    conn.store_password(self._store, url, password)
                elif not self.remember.isChecked():
                    conn.forget_password(self._store, url)
            except Exception as exc:  # a keyring that refuses: say so, keep the dialog open
                self._prompter.error(
                    self,
                    _("Database connection"),
                    _("The password could not be kept in this PC's key store: {reason}").format(
                        reason=conn.scrub(str(exc), password)
                    ),
                )
                return
        is_default = self.embedded_choice.isChecked() and (
            conn.safe_text(url) == conn.safe_text(default_database_url())
        )
        stored = "" if is_default else conn.safe_text(url)
        if stored != self._settings.get("database_url"):
            # Station ids belong to a database: another database needs its station chosen anew.
            self._settings.set("station_id", 0)
        self._settings.set("database_url", stored)
        self._settings.save()
        self.chosen_url = url
        self.password = password
        self.password_edit.clear()
        self.accept()

    def reject(self) -> None:
        self.password_edit.clear()
        super().reject()

    def _show(self, text: str, *, ok: bool | None = None) -> None:
        self.message.setText(text)
        set_tone(self.message, None if ok is None else ("success" if ok else "error"))

    def _browse_database(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(
            self,
            _("Database file"),
            self.path.text() or str(default_path()),
            _("CareStation database (*.db);;All files (*)"),
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if path:
            self.path.setText(path)

    def _browse_certificate(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self,
            _("Root certificate"),
            self.rootcert.text(),
            _("Certificates (*.crt *.pem);;All files (*)"),
        )
        if path:
            self.rootcert.setText(path)


def _buddy(text: str, widget: QWidget) -> QLabel:
    # A row whose field is a layout gets no buddy from QFormLayout: without one, the & shows.
    label = QLabel(text)
    label.setBuddy(widget)
    return label


def default_path() -> Path:
    return data_dir() / "carestation.db"


class StationChoiceDialog(QDialog):
    """Asked once, after the first sign-in on a PC of a multi-station network that has no
    station yet, by someone who works at several of them."""

    def __init__(self, stations: Sequence[Station], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("This PC's station"))
        self.setObjectName("station_choice_dialog")
        self.chosen: int | None = None
        layout = QVBoxLayout(self)
        text = QLabel(
            _(
                "This PC is connected to a server with several stations. Which station is it "
                "at? This is asked only once; an administrator can change it later in "
                "Preferences."
            )
        )
        text.setWordWrap(True)
        layout.addWidget(text)
        self.stations = QListWidget()
        self.stations.setObjectName("stations")
        for station in sorted(stations, key=lambda s: s.name):
            item = QListWidgetItem(station.name)
            item.setData(Qt.ItemDataRole.UserRole, station.id)
            self.stations.addItem(item)
        self.stations.setCurrentRow(0)
        self.stations.itemDoubleClicked.connect(lambda _item: self.on_ok())
        layout.addWidget(self.stations)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(_("This station"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("Ask me later"))
        buttons.accepted.connect(self.on_ok)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.setMinimumWidth(420)

    def on_ok(self) -> None:
        item = self.stations.currentItem()
        if item is None:
            return
        self.chosen = int(item.data(Qt.ItemDataRole.UserRole))
        self.accept()
