"""First start on an empty database: create the first station and the administrator account."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
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
from carestation.ui.key_dialogs import PassphraseFields
from carestation.ui.keyboard import order_box
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

        # Without a trusted OS key store, the key that protects confidential records is wrapped
        # by a passphrase chosen here.
        self.passphrase_fields: PassphraseFields | None = None
        if setup.needs_passphrase():
            key_box = QGroupBox(_("Protecting confidential records"))
            key_box.setObjectName("passphrase_box")
            kl = QVBoxLayout(key_box)
            key_note = QLabel(
                _(
                    "Confidential records are protected by a key. This PC has no secure key "
                    "store to keep it in, so choose a passphrase that protects the key."
                )
            )
            key_note.setWordWrap(True)
            kl.addWidget(key_note)
            self.passphrase_fields = PassphraseFields(self.errors)
            kl.addWidget(self.passphrase_fields)
            # Side by side, so the taller dialog still fits a 768-pixel-high screen.
            columns = QHBoxLayout()
            columns.addWidget(station_box, 1)
            right = QVBoxLayout()
            right.addWidget(admin_box)
            right.addWidget(key_box)
            right.addStretch(1)
            columns.addLayout(right, 1)
            layout.addLayout(columns)
        else:
            layout.addWidget(station_box)
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
        order_box(buttons)

    def on_ok(self) -> None:
        self.errors.clear()
        local: dict[str, str] = {}
        problem = password_problem(self.password.text())
        if problem:
            local["password"] = problem
        elif self.password.text() != self.confirm.text():
            local["confirm"] = _("The two passwords differ; type the same password twice.")
        passphrase = None
        if self.passphrase_fields is not None:
            local.update(self.passphrase_fields.problems())
            passphrase = self.passphrase_fields.value()
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
                    passphrase=passphrase,
                )
            except Exception as exc:
                # The password was checked here (the same rule); the empty one sent is not a problem.
                found = {k: v for k, v in getattr(exc, "errors", {}).items() if k != "password"}
                local = {**found, **local}
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
                passphrase=passphrase,
            ),
            errors=self.errors,
        )
        if result is not None:
            self.password.clear()
            self.confirm.clear()
            if self.passphrase_fields is not None:
                self.passphrase_fields.clear()
            self.result_value = result
            self.accept()
