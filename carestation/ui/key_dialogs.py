"""Dialogs about the key that protects confidential records: setting it up, unlocking it at start,
choosing a passphrase, and showing the recovery code once for the administrator to write down."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QFont, QFontDatabase
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from carestation.domain.errors import CareStationError
from carestation.i18n import _
from carestation.security.crypto import KEY_BYTES
from carestation.security.keys import GROUP, recovery_code
from carestation.security.secret_store import PASSPHRASE_MIN
from carestation.services.keys import KeyVault
from carestation.ui.forms import FieldErrors
from carestation.ui.prompts import Prompter
from carestation.ui.style import heading
from carestation.ui.views.base import attempt

# The code's groups are laid out in rows of this many, so a row fits on one line of paper.
GROUPS_PER_LINE = 4
NEUTRAL_TITLE = "CareStation"  # nothing about keys or codes in a title others may see


def _group_count() -> int:
    return len(code_groups(recovery_code(bytes(KEY_BYTES))))


def code_groups(code: str) -> list[str]:
    """The recovery code's groups of five, whether or not it is written with dashes."""
    text = "".join(ch for ch in code if ch.isalnum())
    return [text[i : i + GROUP] for i in range(0, len(text), GROUP)]


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("heading")
    label.setWordWrap(True)
    heading(label, 1.4)
    return label


def _paragraph(text: str, object_name: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    if object_name:
        label.setObjectName(object_name)
    return label


def _fit(dialog: QDialog) -> None:
    """Grows the window for messages just shown, so they never overlap the next field."""
    layout = dialog.layout()
    if layout is not None:
        layout.activate()
    dialog.resize(dialog.width(), max(dialog.height(), dialog.sizeHint().height()))


def _secret_edit(object_name: str, accessible_name: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setObjectName(object_name)
    edit.setAccessibleName(accessible_name)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    return edit


def monospace_font(scale: float = 0) -> QFont:
    """The system's fixed-width font: every character as wide as the next, so groups line up;
    `scale`: that many times the application's font size (so it follows the system's)."""
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setFixedPitch(True)
    base = QApplication.font().pointSizeF()
    if scale and base > 0:
        font.setPointSizeF(base * scale)
    return font


def _monospace_edit(object_name: str, accessible_name: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setObjectName(object_name)
    edit.setAccessibleName(accessible_name)
    edit.setFont(monospace_font())
    return edit


class PassphraseFields(QWidget):
    """A passphrase typed twice, with the rule and what it is for explained beneath. Its errors go
    to `errors` (the dialog's own, so the service's "passphrase" messages land here too)."""

    def __init__(
        self,
        errors: FieldErrors | None = None,
        *,
        required: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("passphrase_fields")
        self.required = required
        self.errors = errors if errors is not None else FieldErrors()
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.passphrase = _secret_edit("passphrase", _("Passphrase"))
        self.repeat = _secret_edit("passphrase_repeat", _("Repeat passphrase"))
        self.errors.add_row(form, "passphrase", _("Passphrase"), self.passphrase)
        self.errors.add_row(form, "passphrase_repeat", _("Repeat passphrase"), self.repeat)
        note = _paragraph(
            _(
                "At least {count} characters; a short sentence is easy to remember and hard to "
                "guess. It is typed at every start of CareStation on this PC. Keep it apart from "
                "your password and tell it only to the administrators who start this PC."
            ).format(count=PASSPHRASE_MIN),
            "passphrase_note",
        )
        form.addRow(note)

    def value(self) -> str | None:
        """The passphrase typed, or None when the field is empty."""
        return self.passphrase.text() or None

    def problems(self) -> dict[str, str]:
        """What is wrong before asking the service, by field ("passphrase", "passphrase_repeat")."""
        text, repeat = self.passphrase.text(), self.repeat.text()
        if not text and not repeat and not self.required:
            return {}
        if not text:
            return {
                "passphrase": _("Choose a passphrase of at least {count} characters.").format(
                    count=PASSPHRASE_MIN
                )
            }
        if len(text) < PASSPHRASE_MIN:
            return {
                "passphrase": _("A passphrase has at least {count} characters.").format(
                    count=PASSPHRASE_MIN
                )
            }
        if text != repeat:
            return {
                "passphrase_repeat": _(
                    "The two passphrases differ; type the same passphrase twice."
                )
            }
        return {}

    def problem(self) -> str | None:
        problems = self.problems()
        return next(iter(problems.values())) if problems else None

    def clear(self) -> None:
        self.passphrase.clear()
        self.repeat.clear()


class RecoveryCodeDialog(QDialog):
    """Shows the recovery code once, large, with what it is and how to keep it. It closes only
    after the administrator ticks that the code is written down."""

    def __init__(self, code: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("recovery_code_dialog")
        self.setWindowTitle(NEUTRAL_TITLE)
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        layout.addWidget(_heading(_("Recovery code")))
        layout.addWidget(
            _paragraph(
                _(
                    "This code is the key that protects confidential records. With it and a copy "
                    "of the database, anyone can open all confidential notes."
                )
            )
        )

        groups = code_groups(code)
        lines = [
            "  ".join(groups[i : i + GROUPS_PER_LINE])
            for i in range(0, len(groups), GROUPS_PER_LINE)
        ]
        self.code_label = QLabel("\n".join(lines))
        self.code_label.setObjectName("recovery_code")
        self.code_label.setAccessibleName(_("Recovery code"))
        self.code_label.setTextFormat(Qt.TextFormat.PlainText)
        self.code_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.code_label.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        # Left-aligned so the groups line up in columns; the block itself is centred.
        self.code_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        font = monospace_font(2.2)  # about 20 points at the usual 9
        font.setBold(True)
        self.code_label.setFont(font)
        frame = QFrame()
        frame.setFrameShape(QFrame.Shape.StyledPanel)
        frame_layout = QHBoxLayout(frame)
        frame_layout.setContentsMargins(16, 16, 16, 16)
        frame_layout.addStretch(1)
        frame_layout.addWidget(self.code_label)
        frame_layout.addStretch(1)
        layout.addWidget(frame)
        layout.addWidget(
            _paragraph(
                _(
                    "{count} groups of {size} characters: capital letters and the digits 2 to 7 "
                    "only, so O is never zero and I is never one."
                ).format(count=len(groups), size=GROUP)
            )
        )

        layout.addWidget(
            _paragraph(
                _(
                    "You need it to restore a backup on another PC, and to enrol a second "
                    "station PC with this database."
                )
            )
        )
        warning = _paragraph(
            _(
                "Write it down by hand on paper, check every group, and keep the paper locked "
                "away. Do not photograph, print, e-mail or save it in a file."
            ),
            "keep_safe",
        )
        warning.setStyleSheet("font-weight: bold;")
        layout.addWidget(warning)
        layout.addWidget(
            _paragraph(
                _(
                    "It is shown only now. Later only an administrator who types their password "
                    "again can see it, and each showing is recorded in the audit trail."
                )
            )
        )

        self.written_down = QCheckBox(_("I have &written the code down"))
        self.written_down.setObjectName("written_down")
        layout.addWidget(self.written_down)
        buttons = QDialogButtonBox()
        self.close_button = buttons.addButton(_("Close"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.close_button.setObjectName("close")
        self.close_button.setEnabled(False)
        buttons.accepted.connect(self.accept)
        self.written_down.toggled.connect(self._ticked)
        layout.addWidget(buttons)
        self.setTabOrder(self.code_label, self.written_down)
        self.setTabOrder(self.written_down, self.close_button)
        # Not the code: a text cursor blinking in it looks like something to type.
        self.written_down.setFocus()
        self._forced = False

    def _ticked(self, checked: bool) -> None:
        self.close_button.setEnabled(checked)
        self.close_button.setDefault(checked)

    def code_text(self) -> str:
        """The code as shown (empty once the dialog has closed)."""
        return self.code_label.text()

    def reject(self) -> None:
        # Escape and the window's close button do nothing until the code is written down.
        if self.written_down.isChecked() or self._forced:
            super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.written_down.isChecked() or self._forced:
            super().closeEvent(event)
        else:
            event.ignore()

    def force_close(self) -> None:
        """Closes without the tick: the screen is being locked or the user signs out."""
        self._forced = True
        self.reject()

    def done(self, result: int) -> None:
        self.code_label.clear()
        super().done(result)


class KeySetupDialog(QDialog):
    """For a database from an older version that has no key yet: makes the key (with a passphrase
    on a PC without a secure key store). On success `recovery_code` holds the code to show."""

    def __init__(self, vault: KeyVault, prompter: Prompter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._vault = vault
        self._prompter = prompter
        self.recovery_code: str | None = None
        self.setObjectName("key_setup_dialog")
        self.setWindowTitle(NEUTRAL_TITLE)
        self.setMinimumWidth(560)
        self.errors = FieldErrors()
        layout = QVBoxLayout(self)
        layout.addWidget(_heading(_("Protecting confidential records")))
        layout.addWidget(
            _paragraph(
                _(
                    "This database comes from an older version of CareStation. From now on its "
                    "confidential records are protected by a key. CareStation makes the key now, "
                    "then shows its recovery code once for you to write down."
                )
            )
        )
        self.passphrase_fields: PassphraseFields | None = None
        if vault.has_secure_store():
            layout.addWidget(
                _paragraph(
                    _(
                        "This PC keeps the key in the operating system's secure key store, so "
                        "CareStation will not ask for it at start."
                    ),
                    "store_note",
                )
            )
        else:
            box = QGroupBox(_("Passphrase for this PC"))
            box_layout = QVBoxLayout(box)
            box_layout.addWidget(
                _paragraph(
                    _(
                        "This PC has no secure key store, so the key is protected by a passphrase "
                        "that you choose now."
                    ),
                    "store_note",
                )
            )
            self.passphrase_fields = PassphraseFields(self.errors)
            box_layout.addWidget(self.passphrase_fields)
            layout.addWidget(box)
        layout.addStretch(1)

        buttons = QDialogButtonBox()
        self.ok_button = buttons.addButton(
            _("Set up the key"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.ok_button.setObjectName("set_up_key")
        self.ok_button.setDefault(True)
        quit_button = buttons.addButton(_("Quit"), QDialogButtonBox.ButtonRole.RejectRole)
        quit_button.setObjectName("quit")
        quit_button.setAutoDefault(False)
        buttons.accepted.connect(self.on_ok)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def on_ok(self) -> None:
        self.errors.clear()
        fields = self.passphrase_fields
        if fields is not None:
            problems = fields.problems()
            if problems:
                self.errors.show(problems)
                _fit(self)
                return
        passphrase = fields.value() if fields is not None else None
        done = attempt(
            self,
            self._prompter,
            lambda: self._vault.set_up(passphrase=passphrase) or True,
            errors=self.errors,
        )
        if done:
            self.recovery_code = self._vault.recovery_code()
            self.accept()
        else:
            _fit(self)

    def done(self, result: int) -> None:
        if self.passphrase_fields is not None:
            self.passphrase_fields.clear()
        super().done(result)


class UnlockDialog(QDialog):
    """At start, when this PC does not have the database's key: unlock it with the passphrase,
    or restore it with the recovery code (a new or replaced PC). Accepted once unlocked."""

    def __init__(self, vault: KeyVault, prompter: Prompter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._vault = vault
        self._prompter = prompter
        self.setObjectName("unlock_dialog")
        self.setWindowTitle(NEUTRAL_TITLE)
        self.setMinimumWidth(560)
        self.errors = FieldErrors()
        layout = QVBoxLayout(self)
        layout.addWidget(_heading(_("Unlock confidential records")))

        self.passphrase: QLineEdit | None = None
        with_passphrase = vault.has_passphrase()
        if with_passphrase:
            layout.addWidget(
                _paragraph(
                    _(
                        "Confidential records in this database are protected by a key. Type the "
                        "passphrase to open them on this PC."
                    )
                )
            )
            form = QFormLayout()
            self.passphrase = _secret_edit("passphrase", _("Passphrase"))
            self.errors.add_row(form, "passphrase", _("&Passphrase"), self.passphrase)
            layout.addLayout(form)
        else:
            layout.addWidget(
                _paragraph(
                    _(
                        "Confidential records in this database are protected by a key that this "
                        "PC does not have yet."
                    )
                )
            )

        box = QGroupBox(_("Restore with the recovery code"))
        box.setObjectName("recovery_box")
        box_layout = QVBoxLayout(box)
        explain = _(
            "On a new or replaced PC, type the recovery code that was written down when the key "
            "was set up: {count} groups of {size} letters and digits."
        ).format(count=_group_count(), size=GROUP)
        if vault.has_secure_store():
            remember = _(
                "This PC then keeps the key in its secure key store and will not ask again."
            )
        elif with_passphrase:
            remember = _(
                "This PC has no secure key store, so at the next start it asks for the "
                "passphrase again."
            )
        else:
            remember = _(
                "This PC has no secure key store, so it asks for the recovery code at every "
                "start until an administrator sets a passphrase."
            )
        box_layout.addWidget(_paragraph(explain))
        box_layout.addWidget(_paragraph(remember, "recovery_note"))
        code_form = QFormLayout()
        self.recovery_code = _monospace_edit("recovery_code", _("Recovery code"))
        self.recovery_code.setPlaceholderText("-".join(["XXXXX"] * 3) + "-...")
        self.errors.add_row(code_form, "recovery_code", _("&Recovery code"), self.recovery_code)
        box_layout.addLayout(code_form)
        layout.addWidget(box)
        layout.addStretch(1)

        buttons = QDialogButtonBox()
        self.unlock_button: QPushButton = buttons.addButton(
            _("Unlock"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.unlock_button.setObjectName("unlock")
        self.unlock_button.setDefault(True)
        self.quit_button: QPushButton = buttons.addButton(
            _("Quit"), QDialogButtonBox.ButtonRole.RejectRole
        )
        self.quit_button.setObjectName("quit")
        self.quit_button.setAutoDefault(False)
        buttons.accepted.connect(self.on_unlock)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        first = self.passphrase or self.recovery_code
        first.setFocus()

    def on_unlock(self) -> None:
        """Tries what was typed: the passphrase first, then the recovery code."""
        self.errors.clear()
        passphrase = self.passphrase.text() if self.passphrase is not None else ""
        code = self.recovery_code.text().strip()
        if not passphrase and not code:
            if self.passphrase is not None:
                missing = {"passphrase": _("Type the passphrase, or the recovery code below.")}
            else:
                missing = {"recovery_code": _("Type the recovery code.")}
            self.errors.show(missing)
            _fit(self)
            return
        problems: dict[str, str] = {}
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)  # the passphrase takes ~0.3 s
        try:
            if passphrase:
                try:
                    self._vault.unlock_with_passphrase(passphrase)
                except CareStationError as exc:
                    problems["passphrase"] = str(exc)
            if code and not self._vault.is_unlocked:
                try:
                    self._vault.unlock_with_recovery_code(code)
                except CareStationError as exc:
                    problems["recovery_code"] = str(exc)
                except Exception:
                    # The code was right but the OS key store refused to keep it.
                    if not self._vault.is_unlocked:
                        raise
                    self._prompter.error(
                        self,
                        _("Unlock confidential records"),
                        _(
                            "The records are unlocked, but this PC's key store could not keep the "
                            "key: CareStation will ask for the recovery code again at next start."
                        ),
                    )
        finally:
            QApplication.restoreOverrideCursor()
        if self._vault.is_unlocked:
            self.accept()
            return
        if self.passphrase is not None:
            self.passphrase.clear()
        self.errors.show(problems)
        _fit(self)

    def done(self, result: int) -> None:
        if self.passphrase is not None:
            self.passphrase.clear()
        self.recovery_code.clear()
        super().done(result)
