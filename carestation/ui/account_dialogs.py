"""Small dialogs about the signed-in user and this PC: change password, preferences, about."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from carestation import __version__
from carestation.domain.roles import Permission
from carestation.domain.values import Actor, Station
from carestation.i18n import _
from carestation.services.auth import AuthService
from carestation.settings import SPECS, Settings
from carestation.ui.forms import FieldErrors
from carestation.ui.prompts import Prompter
from carestation.ui.views.base import attempt


def _buttons(dialog: QDialog, ok_text: str) -> QDialogButtonBox:
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
    )
    buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ok_text)
    buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("Cancel"))
    buttons.rejected.connect(dialog.reject)
    return buttons


class ChangePasswordDialog(QDialog):
    def __init__(
        self, auth: AuthService, actor: Actor, prompter: Prompter, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._auth, self._actor, self._prompter = auth, actor, prompter
        self.setWindowTitle(_("Change password"))
        self.errors = FieldErrors()
        form = QFormLayout()
        self.old = QLineEdit()
        self.new = QLineEdit()
        self.confirm = QLineEdit()
        for edit, name in (
            (self.old, "old_password"),
            (self.new, "new_password"),
            (self.confirm, "confirm"),
        ):
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            edit.setObjectName(name)
        self.errors.add_row(form, "old_password", _("Current password"), self.old)
        self.errors.add_row(form, "new_password", _("New password"), self.new)
        self.errors.add_row(form, "confirm", _("Repeat new password"), self.confirm)
        buttons = _buttons(self, _("Change password"))
        buttons.accepted.connect(self.on_ok)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def on_ok(self) -> None:
        if self.new.text() != self.confirm.text():
            self.errors.show(
                {"confirm": _("The two passwords differ; type the same password twice.")}
            )
            return
        done = attempt(
            self,
            self._prompter,
            lambda: (
                self._auth.change_password(
                    actor=self._actor, old_password=self.old.text(), new_password=self.new.text()
                )
                or True
            ),
            errors=self.errors,
        )
        if done:
            self.accept()


class PreferencesDialog(QDialog):
    """Per-PC settings. Language for everyone; idle lock and this PC's station for admins."""

    def __init__(
        self,
        settings: Settings,
        actor: Actor,
        stations: list[Station],
        prompter: Prompter,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._settings, self._prompter = settings, prompter
        self.setWindowTitle(_("Preferences"))
        titles = {s.key: _(s.title) for s in SPECS}
        form = QFormLayout()
        self.language = QComboBox()
        self.language.setObjectName("language")
        for code, label in (("", _("Follow the system")), ("zh_CN", "简体中文"), ("en", "English")):
            self.language.addItem(label, code)
        self.language.setCurrentIndex(max(0, self.language.findData(settings.get("language"))))
        form.addRow(titles["language"], self.language)
        admin = actor.can(Permission.CONFIGURE_THIS_PC)
        self.idle = QSpinBox()
        self.idle.setObjectName("idle_lock_minutes")
        self.idle.setRange(1, 120)
        self.idle.setSuffix(" " + _("min"))
        self.idle.setValue(settings.get("idle_lock_minutes"))
        self.idle.setEnabled(admin)
        form.addRow(titles["idle_lock_minutes"], self.idle)
        self.station = QComboBox()
        self.station.setObjectName("pc_station")
        self.station.addItem(_("Not chosen"), 0)
        for s in stations:
            self.station.addItem(s.name, s.id)
        self.station.setCurrentIndex(max(0, self.station.findData(settings.get("station_id"))))
        self.station.setEnabled(admin)
        form.addRow(titles["station_id"], self.station)
        if not admin:
            form.addRow(
                "", QLabel(_("Only an administrator can change the lock time and the station."))
            )
        buttons = _buttons(self, _("Save"))
        buttons.accepted.connect(self.on_ok)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self._old_language = settings.get("language")

    def on_ok(self) -> None:
        self._settings.set("language", self.language.currentData())
        self._settings.set("idle_lock_minutes", self.idle.value())
        self._settings.set("station_id", self.station.currentData())
        self._settings.save()
        if self.language.currentData() != self._old_language:
            self._prompter.info(
                self,
                _("Preferences"),
                _("The new language applies the next time CareStation starts."),
            )
        self.accept()


def about_text() -> str:
    return _(
        "CareStation {version}\n\nBooking, assessments and confidential notes for trade-union employee "
        "emotion-management stations.\n\nChinese text uses the bundled WenQuanYi Micro Hei font "
        "(Apache License 2.0)."
    ).format(version=__version__)
