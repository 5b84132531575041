"""Covers the whole window when the session is locked; only the password brings it back."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from carestation.domain.errors import AccountLocked, CareStationError
from carestation.domain.values import Actor
from carestation.i18n import _
from carestation.services.auth import AuthService
from carestation.ui.style import heading, set_tone


class LockScreen(QWidget):
    unlocked = Signal()
    sign_out_requested = Signal()

    def __init__(self, auth: AuthService, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._auth = auth
        self._actor = actor
        self.setObjectName("lock_screen")
        title = QLabel(_("CareStation is locked"))
        heading(title, 2.0)
        who = QLabel(
            _("Only {name} can unlock it. Others: sign out first.").format(name=actor.display_name)
        )
        who.setWordWrap(True)
        self.password = QLineEdit()
        self.password.setObjectName("unlock_password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText(_("Password"))
        self.password.setAccessibleName(_("Password"))
        self.password.returnPressed.connect(self.on_unlock)
        unlock = QPushButton(_("Unlock"))
        unlock.setObjectName("unlock")
        unlock.setDefault(True)
        unlock.clicked.connect(self.on_unlock)
        sign_out = QPushButton(_("Sign out"))
        sign_out.setObjectName("lock_sign_out")
        sign_out.clicked.connect(self.sign_out_requested)
        self.message = QLabel()
        self.message.setObjectName("unlock_message")
        set_tone(self.message, "error")
        self.message.setWordWrap(True)

        box = QWidget()
        # A fixed width lets the wrapped sentence work out its height (no overlapping lines).
        box.setFixedWidth(440)
        v = QVBoxLayout(box)
        v.setSpacing(10)
        v.addWidget(title)
        v.addWidget(who)
        v.addWidget(self.password)
        row = QHBoxLayout()
        row.addWidget(unlock)
        row.addWidget(sign_out)
        v.addLayout(row)
        v.addWidget(self.message)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(box, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)

    def prepare(self) -> None:
        self.password.clear()
        self.message.clear()
        self.password.setFocus()

    def on_unlock(self) -> None:
        try:
            self._auth.unlock(actor=self._actor, password=self.password.text())
        except AccountLocked:
            # Too many wrong passwords: the account is now locked, so this session ends.
            self.password.clear()
            self.sign_out_requested.emit()
            return
        except CareStationError as exc:
            self.password.clear()
            self.message.setText(str(exc))
            return
        self.password.clear()
        self.message.clear()
        self.unlocked.emit()
