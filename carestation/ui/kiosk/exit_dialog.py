"""The staff password that closes the self-service screen."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from carestation.domain.errors import CareStationError
from carestation.domain.values import Actor
from carestation.i18n import _
from carestation.ui.kiosk.protocols import KioskAuth
from carestation.ui.kiosk.widgets import button, label

# A half-typed user name must not stay on a visitor's screen: the dialog closes itself after
# this long without typing.
FORGET_AFTER_MS = 60_000


class StaffExitDialog(QDialog):
    verified = Signal(object)  # the Actor who closed the screen

    def __init__(self, auth: KioskAuth, station_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("kiosk_exit_dialog")
        self.setModal(True)
        self._auth = auth
        self._station_id = station_id
        self.setWindowTitle(_("Close the self-service screen"))
        self.intro = label(
            "body", _("Staff only: enter your own user name and password to close this screen.")
        )
        self.username = QLineEdit()
        self.username.setObjectName("exit_username")
        self.username.setAccessibleName(_("User name"))
        self.password = QLineEdit()
        self.password.setObjectName("exit_password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName(_("Password"))
        self.password.returnPressed.connect(self.try_close)
        self.username.returnPressed.connect(self.password.setFocus)
        self.message = label("error", name="exit_message")
        self.message.hide()
        form = QFormLayout()
        form.addRow(label("body", _("User name"), wrap=False), self.username)
        form.addRow(label("body", _("Password"), wrap=False), self.password)
        cancel = button("secondary", "exit_cancel", _("Cancel"))
        cancel.clicked.connect(self.reject)
        ok = button("primary", "exit_ok", _("Close the screen"))
        ok.clicked.connect(self.try_close)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(ok)
        box = QVBoxLayout(self)
        box.setContentsMargins(24, 20, 24, 20)
        box.setSpacing(12)
        box.addWidget(self.intro)
        box.addLayout(form)
        box.addWidget(self.message)
        box.addLayout(buttons)
        # A fixed width lets wrapped messages work out their height (no clipped lines).
        self.setFixedWidth(640)
        self._forget = QTimer(self)
        self._forget.setSingleShot(True)
        self._forget.setInterval(FORGET_AFTER_MS)
        self._forget.timeout.connect(self.reject)
        for field in (self.username, self.password):
            field.textEdited.connect(lambda _text: self._forget.start())
        self.finished.connect(lambda _result: self._wipe())
        self.setWindowFlag(Qt.WindowType.WindowContextHelpButtonHint, False)

    def showEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().showEvent(event)
        self._forget.start()
        self.username.setFocus()

    def try_close(self) -> None:
        try:
            actor: Actor = self._auth.verify_station_staff(
                username=self.username.text(),
                password=self.password.text(),
                station_id=self._station_id,
            )
        except CareStationError as exc:
            # Wrong password, locked account, or someone from elsewhere: say so, keep the name.
            self.password.clear()
            self.message.setText(str(exc))
            self.message.show()
            self._fit()
            self.password.setFocus()
            return
        self._wipe()
        self.verified.emit(actor)
        self.accept()

    def _fit(self) -> None:
        layout = self.layout()
        if layout is not None:
            layout.activate()
        self.adjustSize()

    def _wipe(self) -> None:
        self._forget.stop()
        self.username.clear()
        self.password.clear()
        self.message.clear()
        self.message.hide()
