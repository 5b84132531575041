"""The administrator's screen for the key that protects confidential records: where it is kept,
the passphrase, the recovery code, and how to enrol another PC or restore a backup elsewhere."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtWidgets import (
    QDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from carestation.domain.values import Actor
from carestation.i18n import N_, _
from carestation.services.key_admin import KeyAdminService, KeyStatus
from carestation.services.keys import KeyState
from carestation.ui.key_dialogs import PassphraseFields, RecoveryCodeDialog
from carestation.ui.prompts import Prompter
from carestation.ui.record_panel import FormDialog, open_dialog
from carestation.ui.style import set_tone
from carestation.ui.views.base import View, attempt


def _password_edit() -> QLineEdit:
    edit = QLineEdit(objectName="password", accessibleName=_("Your password"))
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    return edit


def shown_at_text(iso: str) -> str:
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def where_text(status: KeyStatus) -> str:
    if status.state is KeyState.NOT_SET_UP:
        return _("The key that protects confidential records has not been set up yet.")
    if status.state is KeyState.LOCKED:
        return _(
            "The key is locked on this PC: confidential records cannot be opened until "
            "CareStation is restarted and unlocked."
        )
    if status.secure_store:
        return _(
            "On this PC the key is kept in the operating system's secure key store, so "
            "CareStation opens confidential records without asking at start."
        )
    return _(
        "This PC has no secure key store: the key is unlocked with the passphrase typed at every "
        "start of CareStation."
    )


def passphrase_text(status: KeyStatus) -> str:
    if status.has_passphrase:
        return _("A passphrase is set. Station PCs without a secure key store unlock with it.")
    return _(
        "No passphrase is set. A station PC without a secure key store needs one: set it before "
        "using such a PC."
    )


def code_text(status: KeyStatus) -> str:
    if status.code_shown_at:
        return _(
            "The recovery code was last shown on {when}. Keep the paper copy locked away."
        ).format(when=shown_at_text(status.code_shown_at))
    return _(
        "The recovery code has never been shown, so nobody has written it down yet. Without it, "
        "confidential records are lost when this PC breaks, and no backup can be restored on "
        "another PC. Show it now and write it down."
    )


class RevealCodeDialog(FormDialog):
    """Asks for the administrator's own password again; `saved` is then the recovery code."""

    def __init__(
        self,
        keys: KeyAdminService,
        actor: Actor,
        prompter: Prompter,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(prompter, _("Show the recovery code"), "reveal_code_dialog", parent)
        self.setMinimumWidth(460)
        self._keys, self._actor = keys, actor
        intro = QLabel(
            _(
                "Make sure nobody else can see the screen. Type your own password to show the "
                "recovery code; the showing is recorded in the audit trail."
            )
        )
        intro.setWordWrap(True)
        self.form.addRow(intro)
        self.password_edit = self.row("password", _("Your password"), _password_edit())
        self.finish()
        self.ok_button.setText(_("Show the code"))

    def save(self) -> str:
        return self._keys.reveal_recovery_code(
            actor=self._actor, password=self.password_edit.text()
        )

    def done(self, result: int) -> None:
        self.password_edit.clear()
        super().done(result)


class SetPassphraseDialog(FormDialog):
    """Sets or replaces the passphrase that unlocks the key on PCs without a secure key store."""

    def __init__(
        self,
        keys: KeyAdminService,
        actor: Actor,
        prompter: Prompter,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(prompter, _("Passphrase"), "set_passphrase_dialog", parent)
        self._keys, self._actor = keys, actor
        intro = QLabel(
            _(
                "Station PCs without a secure key store unlock confidential records with this "
                "passphrase at every start. A new passphrase replaces the old one on all PCs."
            )
        )
        intro.setWordWrap(True)
        self.form.addRow(intro)
        self.password_edit = self.row("password", _("Your password"), _password_edit())
        box = QGroupBox(_("New passphrase"))
        self.passphrase_fields = PassphraseFields(self.errors)
        QVBoxLayout(box).addWidget(self.passphrase_fields)
        self.form.addRow(box)
        self.finish()
        self.ok_button.setText(_("Set the passphrase"))

    def problems(self) -> dict[str, str]:
        return self.passphrase_fields.problems()

    def save(self) -> bool:
        self._keys.set_passphrase(
            actor=self._actor,
            password=self.password_edit.text(),
            passphrase=self.passphrase_fields.value() or "",
        )
        return True

    def done(self, result: int) -> None:
        self.password_edit.clear()
        self.passphrase_fields.clear()
        super().done(result)


class KeyView(View):
    TITLE = N_("Protection key")

    def __init__(
        self,
        keys: KeyAdminService,
        actor: Actor,
        prompter: Prompter,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, objectName="key_view")
        self._keys, self._actor, self._prompter = keys, actor, prompter
        self.status: KeyStatus | None = None

        state_box = QGroupBox(_("The key on this PC"))
        self.where_label = QLabel(objectName="key_where", wordWrap=True)
        self.passphrase_label = QLabel(objectName="key_passphrase", wordWrap=True)
        self.code_label = QLabel(objectName="key_code", wordWrap=True)
        state_layout = QVBoxLayout(state_box)
        for label in (self.where_label, self.passphrase_label, self.code_label):
            state_layout.addWidget(label)
        self.show_code_button = QPushButton(
            _("Show the recovery code..."), objectName="show_recovery_code", autoDefault=False
        )
        self.show_code_button.clicked.connect(self.show_recovery_code)
        self.passphrase_button = QPushButton(
            _("Set or change the passphrase..."), objectName="set_passphrase", autoDefault=False
        )
        self.passphrase_button.clicked.connect(self.set_passphrase)
        buttons = QHBoxLayout()
        buttons.addWidget(self.show_code_button)
        buttons.addWidget(self.passphrase_button)
        buttons.addStretch(1)
        state_layout.addLayout(buttons)

        help_box = QGroupBox(_("Other PCs and backups"))
        help_layout = QVBoxLayout(help_box)
        for heading, text in (
            (
                _("A second station PC"),
                _(
                    "Install CareStation on it and start it with the same database. It asks for "
                    "the recovery code once; after that it keeps the key in its own secure key "
                    "store, or asks for the passphrase at each start if it has none."
                ),
            ),
            (
                _("Restoring a backup on another PC"),
                _(
                    "A backup's confidential records open only with this database's key. Restore "
                    "the backup there and type the recovery code when CareStation asks for it. "
                    "Without the recovery code they cannot be read by anyone."
                ),
            ),
        ):
            title = QLabel(heading)
            title.setStyleSheet("font-weight: bold;")
            help_layout.addWidget(title)
            help_layout.addWidget(QLabel(text, wordWrap=True))
            help_layout.addSpacing(6)

        layout = QVBoxLayout(self)
        layout.addWidget(state_box)
        layout.addWidget(help_box)
        layout.addStretch(1)
        self._dialogs: list[QDialog] = []
        self._update_buttons()

    # --- loading ---------------------------------------------------------------------------
    def refresh(self) -> None:
        self.status = attempt(self, self._prompter, lambda: self._keys.status(actor=self._actor))
        self._show_status()

    def _show_status(self) -> None:
        status = self.status
        if status is None:
            for label in (self.where_label, self.passphrase_label, self.code_label):
                label.clear()
        else:
            self.where_label.setText(where_text(status))
            self.passphrase_label.setText(passphrase_text(status))
            self.code_label.setText(code_text(status))
            shown = bool(status.code_shown_at)
            set_tone(self.code_label, None if shown else "error", bold=not shown)
        self._update_buttons()

    def _update_buttons(self) -> None:
        unlocked = self.status is not None and self.status.state is KeyState.UNLOCKED
        self.show_code_button.setEnabled(unlocked)
        self.passphrase_button.setEnabled(unlocked)

    # --- actions ---------------------------------------------------------------------------
    def _open(self, dialog: QDialog, on_accepted: Callable[[], None]) -> None:
        self._dialogs.append(dialog)
        dialog.finished.connect(lambda _result: self._forget(dialog))
        open_dialog(dialog, on_accepted)

    def _forget(self, dialog: QDialog) -> None:
        if dialog in self._dialogs:
            self._dialogs.remove(dialog)

    def show_recovery_code(self) -> RevealCodeDialog:
        dialog = RevealCodeDialog(self._keys, self._actor, self._prompter, parent=self)
        self._open(dialog, lambda: self._reveal(dialog))
        return dialog

    def _reveal(self, dialog: RevealCodeDialog) -> None:
        code, dialog.saved = dialog.saved, None
        self.refresh()  # the time it was shown
        if code:
            self._open(RecoveryCodeDialog(code, parent=self), lambda: None)

    def set_passphrase(self) -> SetPassphraseDialog:
        dialog = SetPassphraseDialog(self._keys, self._actor, self._prompter, parent=self)
        self._open(dialog, self._passphrase_set)
        return dialog

    def _passphrase_set(self) -> None:
        self.refresh()
        self._prompter.info(
            self,
            _("Passphrase"),
            _(
                "The passphrase is set. Tell it only to the administrators who start station "
                "PCs without a secure key store."
            ),
        )

    def clear(self) -> None:
        # Dialogs opened here may show the recovery code: they go too.
        for dialog in list(self._dialogs):
            if isinstance(dialog, RecoveryCodeDialog):
                dialog.force_close()
            else:
                dialog.reject()
        self._dialogs.clear()
        self.status = None
        self._show_status()
