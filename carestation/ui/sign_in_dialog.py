"""The sign-in window; with --demo it also lists the demo accounts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from carestation import __version__
from carestation.domain.errors import AuthenticationFailed, CareStationError
from carestation.i18n import _
from carestation.ui import style

if TYPE_CHECKING:  # the window shows before the services are imported (see app.run_gui)
    from carestation.domain.values import Actor
    from carestation.services.auth import AuthService


@dataclass(frozen=True)
class DemoAccountHint:
    username: str
    password: str
    role_title: str


class SignInDialog(QDialog):
    """Made with `auth=None` while the database is still opening: the fields take input at
    once, and Sign in pressed meanwhile signs in when `set_ready` is called."""

    # The "Database connection..." button: the controller opens the dialog, before sign-in.
    connection_requested = Signal()

    def __init__(
        self,
        auth: AuthService | None,
        *,
        station_id: int | None,
        station_name: str = "",
        demo_accounts: Sequence[DemoAccountHint] = (),
        database: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._auth = auth
        self._station_id = station_id
        self._sign_in_when_ready = False
        self.actor: Actor | None = None
        self.setWindowTitle(_("CareStation: sign in"))
        self.setObjectName("sign_in_dialog")

        layout = QVBoxLayout(self)
        heading = QLabel(_("CareStation · employee emotion-management station"))
        heading.setObjectName("heading")
        style.heading(heading, 1.6)
        layout.addWidget(heading)
        self.station_label = QLabel()
        self.station_label.setObjectName("station")
        self.station_label.hide()
        layout.addWidget(self.station_label)

        form = QFormLayout()
        self.username = QLineEdit()
        self.username.setObjectName("username")
        self.username.setAccessibleName(_("User name"))
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName(_("Password"))
        form.addRow(_("&User name"), self.username)
        form.addRow(_("&Password"), self.password)
        layout.addLayout(form)

        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        style.set_tone(self.message, "error")
        self.message.hide()
        layout.addWidget(self.message)
        self.status = QLabel(_("Opening the database..."))
        self.status.setObjectName("status")
        self.status.setWordWrap(True)
        self.status.setVisible(auth is None)
        layout.addWidget(self.status)

        # Plain buttons rather than a QDialogButtonBox, whose enums cost 20 ms at start-up.
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.sign_in_button = QPushButton(_("Sign in"))
        self.sign_in_button.setObjectName("sign_in")
        self.sign_in_button.setDefault(True)
        self.sign_in_button.clicked.connect(self.on_sign_in)
        self.quit_button = QPushButton(_("Quit"))
        self.quit_button.setObjectName("quit")
        self.quit_button.setAutoDefault(False)  # Enter signs in; it never quits
        self.quit_button.clicked.connect(self.reject)
        buttons.addWidget(self.sign_in_button)
        buttons.addWidget(self.quit_button)
        layout.addLayout(buttons)

        self.demo_panel: QWidget | None = None
        self._demo_at = layout.count()  # the demo accounts go here, above the footer
        footer_row = QHBoxLayout()
        self.connection_button = QPushButton(_("Database connection..."))
        self.connection_button.setObjectName("database_connection")
        self.connection_button.setFlat(True)
        self.connection_button.setAutoDefault(False)
        self.connection_button.setStyleSheet("color: palette(link); text-decoration: underline;")
        self.connection_button.setEnabled(auth is not None)
        self.connection_button.clicked.connect(self.connection_requested)
        footer_row.addWidget(self.connection_button)
        footer_row.addStretch(1)
        footer = QLabel(_("Version {version}").format(version=__version__))
        style.set_tone(footer, "hint")
        footer_row.addWidget(footer)
        layout.addLayout(footer_row)
        self._layout = layout
        if auth is not None:
            self.set_ready(
                auth,
                station_id=station_id,
                station_name=station_name,
                demo_accounts=demo_accounts,
                database=database,
            )
        self.username.setFocus()

    @property
    def is_ready(self) -> bool:
        return self._auth is not None

    def set_ready(
        self,
        auth: AuthService,
        *,
        station_id: int | None,
        station_name: str = "",
        demo_accounts: Sequence[DemoAccountHint] = (),
        database: str = "",
    ) -> None:
        """The database is open: this PC's station, the demo accounts and where the data is are
        shown, and a Sign in pressed while it was opening goes ahead now."""
        self._auth, self._station_id = auth, station_id
        self.station_label.setText(_("This PC: {station}").format(station=station_name))
        self.station_label.setVisible(bool(station_name))
        if demo_accounts and self.demo_panel is None:
            self.demo_panel = self._demo_panel(demo_accounts)
            self._layout.insertWidget(self._demo_at, self.demo_panel)
        # Where the data is, with any password hidden (the caller passes a safe text).
        self.connection_button.setToolTip(
            _("Database: {where}").format(where=database) if database else ""
        )
        self.connection_button.setEnabled(True)
        # Qt's `Qt` namespace costs 20 ms to import; the window shows without it (the stretch
        # before the version keeps it on the right), and the link cursor comes with the data.
        from PySide6.QtCore import Qt

        self.connection_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.status.hide()
        if self._sign_in_when_ready:
            self._sign_in_when_ready = False
            self.on_sign_in()

    def _demo_panel(self, accounts: Sequence[DemoAccountHint]) -> QWidget:
        box = QWidget()
        box.setObjectName("demo_accounts")
        v = QVBoxLayout(box)
        v.setContentsMargins(0, 8, 0, 0)
        v.addWidget(
            QLabel(
                _("Demo database: sign in with one of these accounts (double-click to fill in).")
            )
        )
        from PySide6.QtWidgets import QTableWidget, QTableWidgetItem  # only with --demo

        table = QTableWidget(len(accounts), 3)
        table.setHorizontalHeaderLabels([_("User name"), _("Password"), _("Role")])
        table.verticalHeader().hide()
        table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        for row, acc in enumerate(accounts):
            for col, text in enumerate((acc.username, acc.password, acc.role_title)):
                table.setItem(row, col, QTableWidgetItem(text))
        table.resizeColumnsToContents()
        table.horizontalHeader().setStretchLastSection(True)
        table.setMinimumHeight(min(260, 30 + 28 * len(accounts)))

        def fill(row: int, _col: int) -> None:
            self.username.setText(accounts[row].username)
            self.password.setText(accounts[row].password)
            self.password.setFocus()

        table.cellDoubleClicked.connect(fill)
        v.addWidget(table)
        return box

    def on_sign_in(self) -> None:
        username, password = self.username.text(), self.password.text()
        if not username.strip() or not password:
            self._show(_("Enter your user name and password."))
            return
        if self._auth is None:
            self._sign_in_when_ready = True
            self.status.setText(
                _("Opening the database... you are signed in as soon as it is open.")
            )
            return
        try:
            self.actor = self._auth.sign_in(
                username=username, password=password, station_id=self._station_id
            )
        except AuthenticationFailed as exc:
            self.password.clear()
            self.password.setFocus()
            self._show(str(exc))
            return
        except CareStationError as exc:
            self._show(str(exc))
            return
        self.password.clear()
        self.accept()

    def _show(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()
