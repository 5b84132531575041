"""The sign-in window; with --demo it also lists the demo accounts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from carestation import __version__
from carestation.domain.errors import AuthenticationFailed, CareStationError
from carestation.domain.values import Actor
from carestation.i18n import _
from carestation.services.auth import AuthService
from carestation.ui import style
from carestation.ui.keyboard import order_box


@dataclass(frozen=True)
class DemoAccountHint:
    username: str
    password: str
    role_title: str


class SignInDialog(QDialog):
    # The "Database connection..." button: the controller opens the dialog, before sign-in.
    connection_requested = Signal()

    def __init__(
        self,
        auth: AuthService,
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
        self.actor: Actor | None = None
        self.setWindowTitle(_("CareStation: sign in"))
        self.setObjectName("sign_in_dialog")

        layout = QVBoxLayout(self)
        heading = QLabel(_("CareStation · employee emotion-management station"))
        heading.setObjectName("heading")
        style.heading(heading, 1.6)
        layout.addWidget(heading)
        if station_name:
            layout.addWidget(QLabel(_("This PC: {station}").format(station=station_name)))

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

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.sign_in_button = buttons.addButton(
            _("Sign in"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.sign_in_button.setObjectName("sign_in")
        self.sign_in_button.setDefault(True)
        quit_button = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        quit_button.setText(_("Quit"))
        quit_button.setAutoDefault(False)  # Enter signs in; it never quits
        buttons.accepted.connect(self.on_sign_in)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        order_box(buttons)

        if demo_accounts:
            layout.addWidget(self._demo_panel(demo_accounts))
        footer_row = QHBoxLayout()
        self.connection_button = QPushButton(_("Database connection..."))
        self.connection_button.setObjectName("database_connection")
        self.connection_button.setFlat(True)
        self.connection_button.setAutoDefault(False)
        self.connection_button.setStyleSheet("color: palette(link); text-decoration: underline;")
        self.connection_button.setCursor(Qt.CursorShape.PointingHandCursor)
        if database:
            # Where the data is, with any password hidden (the caller passes a safe text).
            self.connection_button.setToolTip(_("Database: {where}").format(where=database))
        self.connection_button.clicked.connect(self.connection_requested)
        footer_row.addWidget(self.connection_button)
        footer_row.addStretch(1)
        footer = QLabel(_("Version {version}").format(version=__version__))
        style.set_tone(footer, "hint")
        footer.setAlignment(Qt.AlignmentFlag.AlignRight)
        footer_row.addWidget(footer)
        layout.addLayout(footer_row)
        self.username.setFocus()

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
