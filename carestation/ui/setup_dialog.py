"""First start on an empty database: create the first station and the administrator account."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from carestation.domain.validation import password_problem
from carestation.domain.values import Actor, Station, StationInput
from carestation.i18n import _
from carestation.services.setup import SetupService
from carestation.ui.forms import FieldErrors
from carestation.ui.hours_editor import HoursEditor
from carestation.ui.prompts import Prompter
from carestation.ui.views.base import attempt


class SetupDialog(QDialog):
    def __init__(
        self, setup: SetupService, prompter: Prompter, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._setup = setup
        self._prompter = prompter
        self.result_value: tuple[Station, Actor] | None = None
        self.setWindowTitle(_("CareStation: first start"))
        self.setObjectName("setup_dialog")
        self.errors = FieldErrors()

        layout = QVBoxLayout(self)
        intro = QLabel(
            _(
                "Welcome. This database is empty: describe your station and create the administrator "
                "account. You can add more stations, rooms and users afterwards."
            )
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)

        station_box = QGroupBox(_("Your station"))
        sf = QFormLayout(station_box)
        self.station_name = QLineEdit()
        self.station_name.setObjectName("station_name")
        self.address = QLineEdit()
        self.address.setObjectName("address")
        self.phone = QLineEdit()
        self.phone.setObjectName("phone")
        self.phone.setPlaceholderText("0575-87001234")
        self.errors.add_row(sf, "station.name", _("Station name"), self.station_name)
        self.errors.add_row(sf, "station.address", _("Address"), self.address)
        self.errors.add_row(sf, "station.phone", _("Phone"), self.phone)
        self.hours = HoursEditor()
        self.errors.add_row(sf, "station.hours", _("Opening hours"), self.hours)
        layout.addWidget(station_box)

        admin_box = QGroupBox(_("Administrator account"))
        af = QFormLayout(admin_box)
        self.username = QLineEdit("admin")
        self.username.setObjectName("username")
        self.display_name = QLineEdit()
        self.display_name.setObjectName("display_name")
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.confirm = QLineEdit()
        self.confirm.setObjectName("confirm")
        self.confirm.setEchoMode(QLineEdit.EchoMode.Password)
        self.errors.add_row(af, "username", _("User name"), self.username)
        self.errors.add_row(af, "display_name", _("Your name"), self.display_name)
        self.errors.add_row(af, "password", _("Password"), self.password)
        self.errors.add_row(af, "confirm", _("Repeat password"), self.confirm)
        note = QLabel(
            _(
                "At least 10 characters. The administrator manages stations and users but never sees clients' names or notes."
            )
        )
        note.setWordWrap(True)
        af.addRow("", note)
        layout.addWidget(admin_box)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        ok = buttons.addButton(_("Create and continue"), QDialogButtonBox.ButtonRole.AcceptRole)
        ok.setObjectName("create")
        ok.setDefault(True)
        quit_button = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        quit_button.setText(_("Quit"))
        quit_button.setAutoDefault(False)
        buttons.accepted.connect(self.on_ok)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def on_ok(self) -> None:
        self.errors.clear()
        local: dict[str, str] = {}
        problem = password_problem(self.password.text())
        if problem:
            local["password"] = problem
        elif self.password.text() != self.confirm.text():
            local["confirm"] = _("The two passwords differ; type the same password twice.")
        station = StationInput(
            name=self.station_name.text(),
            address=self.address.text(),
            phone=self.phone.text(),
            hours=self.hours.hours(),
        )
        if local:
            # Ask the service too, so every problem shows at once rather than one per click.
            try:
                self._setup.create_first_admin(
                    station=station,
                    username=self.username.text(),
                    display_name=self.display_name.text(),
                    password="",
                )
            except Exception as exc:
                local = {**getattr(exc, "errors", {}), **local}
            self.errors.show(local)
            return
        result = attempt(
            self,
            self._prompter,
            lambda: self._setup.create_first_admin(
                station=station,
                username=self.username.text(),
                display_name=self.display_name.text(),
                password=self.password.text(),
            ),
            errors=self.errors,
        )
        if result is not None:
            self.password.clear()
            self.confirm.clear()
            self.result_value = result
            self.accept()
