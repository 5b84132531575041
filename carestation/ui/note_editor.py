"""The confidential session note of one appointment: a draft saved as the counsellor types, signed
once (and co-signed by an expert for emotion regulators and mind mentors), then dated addenda."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from carestation.domain.booking import Appointment
from carestation.domain.errors import (
    CareStationError,
    DatabaseProblem,
    DatabaseUnavailable,
    KeyUnavailable,
    PermissionDenied,
    ValidationError,
)
from carestation.domain.records import Addendum, Note, section_title, template_sections
from carestation.domain.roles import Permission
from carestation.domain.values import Actor
from carestation.domain.vocab import AppointmentStatus, CounsellorKind, NoteStatus, NoteTemplate
from carestation.i18n import _
from carestation.services.container import Services
from carestation.ui.prompts import Prompter
from carestation.ui.record_panel import FormDialog, open_dialog
from carestation.ui.style import set_tone
from carestation.ui.views.base import attempt

# Save this long after typing stops, and at least this often while typing goes on.
AUTOSAVE_IDLE_MS = 2_000
AUTOSAVE_MAX_MS = 10_000
DEFAULT_TEMPLATE = NoteTemplate.SOAP


def moment_text(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M}"


def note_status_text(note: Note) -> str:
    """Draft by X / Signed by X on date; awaiting co-signature by Y / ... co-signed by Y."""
    if note.status is NoteStatus.DRAFT or note.signed_at is None:
        return _("Draft by {author}").format(author=note.author_name)
    signed = moment_text(note.signed_at)
    if note.status is NoteStatus.AWAITING_COSIGN:
        return _("Signed by {author} on {date}; awaiting co-signature by {cosigner}").format(
            author=note.author_name, date=signed, cosigner=note.cosigner_name or "—"
        )
    if note.cosigned_at is not None:
        return _("Signed by {author} on {date}, co-signed by {cosigner} on {cosigned}").format(
            author=note.author_name,
            date=signed,
            cosigner=note.cosigner_name or "—",
            cosigned=moment_text(note.cosigned_at),
        )
    return _("Signed by {author} on {date}").format(author=note.author_name, date=signed)


def addenda_text(addenda: tuple[Addendum, ...]) -> str:
    """Each addendum under a line with its date and author, oldest first."""
    return "\n\n".join(f"{moment_text(a.created_at)} · {a.author_name}\n{a.text}" for a in addenda)


def _text_box(object_name: str, accessible: str, placeholder: str = "") -> QPlainTextEdit:
    edit = QPlainTextEdit(objectName=object_name, placeholderText=placeholder)
    edit.setAccessibleName(accessible)
    edit.setTabChangesFocus(True)  # Tab moves on, as in every other field
    edit.setMinimumHeight(110)
    return edit


class AddendumDialog(FormDialog):
    """A dated addition to a signed note; the note itself never changes."""

    def __init__(
        self, services: Services, actor: Actor, prompter: Prompter, note: Note, parent: QWidget
    ) -> None:
        super().__init__(prompter, _("Add an addendum"), "addendum_dialog", parent)
        self._services, self._actor, self._note = services, actor, note
        self.text_edit = self.row(
            "text",
            _("&Addendum"),
            _text_box(
                "addendum_edit",
                _("Addendum"),
                _("What to correct or add. It is saved with today's date and your name."),
            ),
        )
        self.finish()
        self.ok_button.setText(_("&Add the addendum"))
        self.text_edit.setFocus()

    def save(self) -> Addendum:
        return self._services.notes.add_addendum(
            self._actor, self._note.id, self.text_edit.toPlainText()
        )


class ReturnDialog(FormDialog):
    """The co-signer sends the note back to its author as a draft, saying what to change."""

    def __init__(
        self, services: Services, actor: Actor, prompter: Prompter, note: Note, parent: QWidget
    ) -> None:
        super().__init__(prompter, _("Return the note for changes"), "return_dialog", parent)
        self._services, self._actor, self._note = services, actor, note
        self.reason_edit = self.row(
            "reason",
            _("&What should change?"),
            _text_box(
                "return_reason_edit",
                _("What should change?"),
                _("The author sees this as an addendum to the note."),
            ),
        )
        self.finish()
        self.ok_button.setText(_("&Return to the author"))
        self.reason_edit.setFocus()

    def save(self) -> object:
        return self._services.notes.return_for_changes(
            self._actor, self._note.id, self.reason_edit.toPlainText()
        )


class SignDialog(FormDialog):
    """Signing by an emotion regulator or a mind mentor: the note then waits for the co-signature
    of the expert chosen here (by default the station's supervisor)."""

    def __init__(
        self, services: Services, actor: Actor, prompter: Prompter, note: Note, parent: QWidget
    ) -> None:
        super().__init__(prompter, _("Sign the note"), "sign_dialog", parent)
        self._services, self._actor, self._note = services, actor, note
        explanation = QLabel(
            _(
                "Once signed, the note can no longer be changed. A note by an emotion regulator "
                "or a mind mentor is final when an expert co-signs it."
            ),
            objectName="sign_explanation",
            wordWrap=True,
        )
        self.form.addRow(explanation)
        self.cosigner_combo = self.row(
            "cosigner_id", _("&Co-signer"), QComboBox(objectName="cosigner_combo")
        )
        self.cosigner_combo.setAccessibleName(_("Co-signer"))
        choices = (
            attempt(self, prompter, lambda: services.notes.cosigner_choices(actor, note.id)) or []
        )
        previous = note.cosigner_id if any(c.id == note.cosigner_id for c in choices) else None
        if previous is None:
            # The service names the station's supervisor when no one is chosen.
            self.cosigner_combo.addItem(_("The station's supervisor (default)"), None)
        for colleague in choices:
            self.cosigner_combo.addItem(colleague.display_name, colleague.id)
        if previous is not None:
            self.cosigner_combo.setCurrentIndex(self.cosigner_combo.findData(previous))
        self.finish()
        self.ok_button.setText(_("&Sign"))
        self.cosigner_combo.setFocus()

    def save(self) -> Note:
        return self._services.notes.sign(
            self._actor,
            self._note.id,
            expected_version=self._note.version,
            cosigner_id=self.cosigner_combo.currentData(),
        )


class NoteEditor(QDialog):
    """One appointment's session note. The author writes a draft that saves itself; everybody
    else who may read the note (the station's supervisor, the co-signer) sees it read-only.
    Nothing typed is dropped by the editor: a failed save leaves the text in place and says why.

    `flush()` saves at once (the main window calls it before locking or signing out); `clear()`
    saves what it can, wipes the text and closes."""

    note_changed = Signal(int)  # the appointment's id: created, signed, co-signed, returned ...

    def __init__(
        self,
        services: Services,
        actor: Actor,
        prompter: Prompter,
        *,
        appointment_id: int,
        appointment: Appointment | None = None,
        parent: QWidget | None = None,
    ) -> None:
        # The title stays neutral: window lists and screen sharing show it.
        super().__init__(parent, objectName="note_editor", windowTitle=_("Session note"))
        self._services, self._actor, self._prompter = services, actor, prompter
        self.appointment_id = appointment_id
        self.appointment = appointment
        self.note: Note | None = None
        self.template = DEFAULT_TEMPLATE
        self.can_write = False
        self.dirty = False
        self.last_error = ""
        self._loading = False
        self._wiped = False
        self._kind: CounsellorKind | None = None
        self.section_edits: dict[str, QPlainTextEdit] = {}
        self._section_labels: list[QLabel] = []

        self.session_label = QLabel(objectName="note_session", wordWrap=True)
        self.status_label = QLabel(objectName="note_status", wordWrap=True)
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.template_combo = QComboBox(objectName="template_combo")
        self.template_combo.setAccessibleName(_("Note template"))
        for template in NoteTemplate:
            self.template_combo.addItem(template.title, template.value)
        self.template_combo.currentIndexChanged.connect(self._template_chosen)
        template_label = QLabel(_("&Template"))
        template_label.setBuddy(self.template_combo)
        form = QFormLayout()
        form.addRow(_("Session"), self.session_label)
        form.addRow(_("Status"), self.status_label)
        form.addRow(template_label, self.template_combo)

        self.sections_box = QWidget(objectName="note_sections")
        self._sections_layout = QVBoxLayout(self.sections_box)
        self._sections_layout.setContentsMargins(0, 0, 0, 0)

        self.addenda_box = QGroupBox(_("Addenda"), objectName="addenda_box")
        self.addenda_view = QPlainTextEdit(objectName="addenda_view", readOnly=True)
        self.addenda_view.setAccessibleName(_("Addenda"))
        self.addenda_view.setTabChangesFocus(True)
        self.addenda_view.setMinimumHeight(90)
        QVBoxLayout(self.addenda_box).addWidget(self.addenda_view)
        self.addenda_box.hide()

        self.save_status = QLabel(objectName="save_status", wordWrap=True)
        self.save_status.setTextFormat(Qt.TextFormat.PlainText)
        self.readonly_label = QLabel(
            _("Read only: only the note's author changes a draft."),
            objectName="readonly_label",
            wordWrap=True,
        )
        set_tone(self.readonly_label, "hint")
        self.readonly_label.hide()

        save_keys = QKeySequence(QKeySequence.StandardKey.Save)
        self.save_button = self._button(_("Save &now"), "save_now", self.save_now)
        self.save_button.setShortcut(save_keys)
        self.save_button.setToolTip(
            _("Save the draft now ({keys}). It also saves by itself as you type.").format(
                keys=save_keys.toString(QKeySequence.SequenceFormat.NativeText)
            )
        )
        self.sign_button = self._button(_("&Sign..."), "sign_note", self.on_sign)
        self.sign_button.setToolTip(_("Sign the note: after that it can no longer be changed."))
        self.cosign_button = self._button(_("C&o-sign"), "cosign_note", self.on_cosign)
        self.return_button = self._button(
            _("&Return for changes..."), "return_note", self.on_return
        )
        self.addendum_button = self._button(
            _("Add &addendum..."), "add_addendum", self.on_add_addendum
        )
        close_box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close_box.rejected.connect(self.reject)
        self.close_button = close_box.button(QDialogButtonBox.StandardButton.Close)
        self.close_button.setObjectName("close_note")
        self.close_button.setAutoDefault(False)
        buttons = QHBoxLayout()
        for button in self._action_buttons():
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close_box)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.readonly_label)
        layout.addWidget(self.sections_box, 3)
        layout.addWidget(self.addenda_box, 1)
        layout.addWidget(self.save_status)
        layout.addLayout(buttons)

        self.autosave_timer = QTimer(self, objectName="autosave_timer")
        self.autosave_timer.setSingleShot(True)
        self.autosave_timer.setInterval(AUTOSAVE_IDLE_MS)
        self.autosave_timer.timeout.connect(self._autosave)
        self.periodic_timer = QTimer(self, objectName="periodic_save_timer")
        self.periodic_timer.setSingleShot(True)
        self.periodic_timer.setInterval(AUTOSAVE_MAX_MS)
        self.periodic_timer.timeout.connect(self._autosave)

        self.load()
        self.resize(820, 760)

    def _button(self, text: str, object_name: str, slot: object) -> QPushButton:
        button = QPushButton(text, self, objectName=object_name, autoDefault=False)
        button.clicked.connect(lambda _checked=False: slot())  # type: ignore[operator]
        return button

    def _action_buttons(self) -> list[QPushButton]:
        return [
            self.save_button,
            self.sign_button,
            self.cosign_button,
            self.return_button,
            self.addendum_button,
        ]

    # --- loading ------------------------------------------------------------------------------
    def load(self) -> None:
        """Reads the session's note (or prepares a new one) and shows it."""
        self._stop_timers()
        try:
            note = self._services.notes.note_for_appointment(self._actor, self.appointment_id)
        except CareStationError as exc:
            self.note, self.can_write = None, False
            self._show_sections(self.template, {})
            self.status_label.setText(str(exc))
            set_tone(self.status_label, "error")
            self._update_controls()
            return
        self.status_label.setStyleSheet("")
        self.note = note
        if note is None:
            self._prepare_new()
        else:
            self.can_write = note.is_draft and note.author_id == self._actor.user_id
            self._show_note(note)
        self.dirty = False
        self._update_controls()
        first = next(iter(self.section_edits.values()), None)
        if self.can_write and first is not None:
            first.setFocus()

    def _prepare_new(self) -> None:
        a, problem = self.appointment, ""
        if a is None:
            try:
                a = self._services.schedule.get(
                    actor=self._actor, appointment_id=self.appointment_id
                )
            except PermissionDenied:
                a = None  # a supervisor looking at a session that has no note yet
            except CareStationError as exc:
                a, problem = None, str(exc)
            self.appointment = a
        self.can_write = (
            a is not None
            and self._actor.can(Permission.KEEP_CASE_RECORDS)
            and a.counsellor_id == self._actor.user_id
            and a.client_id is not None
            and a.status is not AppointmentStatus.CANCELLED
        )
        if a is not None:
            self.session_label.setText(
                _("{when} · client code {code}").format(
                    when=moment_text(a.starts_at), code=a.client_code or "—"
                )
            )
        if self.can_write:
            self.status_label.setText(_("New note: nothing is saved until you start writing."))
        else:
            self.status_label.setText(
                problem or _("No note has been written for this session yet.")
            )
        self._set_template_combo(self.template)
        self._show_sections(self.template, {})
        self._show_addenda(())

    def _show_note(self, note: Note) -> None:
        self.session_label.setText(
            _("{when} · client code {code}").format(
                when=moment_text(note.appointment_starts_at), code=note.client_code
            )
        )
        self.status_label.setText(note_status_text(note))
        self.template = note.template
        self._set_template_combo(note.template)
        self._show_sections(note.template, note.sections)
        self._show_addenda(note.addenda)

    def _set_template_combo(self, template: NoteTemplate) -> None:
        self.template_combo.blockSignals(True)
        self.template_combo.setCurrentIndex(self.template_combo.findData(template.value))
        self.template_combo.blockSignals(False)

    def _show_sections(self, template: NoteTemplate, texts: Mapping[str, str]) -> None:
        self._loading = True
        for edit in self.section_edits.values():
            edit.clear()  # the text goes with the widget, not later with the garbage collector
            edit.hide()
            edit.deleteLater()
        for label in self._section_labels:
            label.hide()
            label.deleteLater()
        self.section_edits, self._section_labels = {}, []
        for name in template_sections(template):
            title = section_title(name)
            label = QLabel(title, self.sections_box, objectName=f"title_{name}")
            label.setStyleSheet("font-weight: 600;")
            edit = _text_box(f"section_{name}", title)
            edit.setParent(self.sections_box)
            edit.setPlainText(texts.get(name, ""))
            edit.setReadOnly(not self.can_write)
            edit.textChanged.connect(self._edited)
            label.setBuddy(edit)
            self._sections_layout.addWidget(label)
            self._sections_layout.addWidget(edit, 1)
            self.section_edits[name] = edit
            self._section_labels.append(label)
        self._loading = False
        self._chain_tab_order()

    def _chain_tab_order(self) -> None:
        chain: list[QWidget] = [
            self.template_combo,
            *self.section_edits.values(),
            self.addenda_view,
            *self._action_buttons(),
            self.close_button,
        ]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)

    def _show_addenda(self, addenda: tuple[Addendum, ...]) -> None:
        self.addenda_view.setPlainText(addenda_text(addenda))
        self.addenda_box.setVisible(bool(addenda))

    def _update_controls(self) -> None:
        note, me = self.note, self._actor.user_id
        self.template_combo.setEnabled(self.can_write)
        for edit in self.section_edits.values():
            edit.setReadOnly(not self.can_write)
        self.save_button.setVisible(self.can_write)
        self.sign_button.setVisible(self.can_write)
        awaiting_me = (
            note is not None
            and note.status is NoteStatus.AWAITING_COSIGN
            and note.cosigner_id == me
        )
        self.cosign_button.setVisible(awaiting_me)
        self.return_button.setVisible(awaiting_me)
        self.addendum_button.setVisible(note is not None and not note.is_draft)
        self.readonly_label.setVisible(note is not None and note.is_draft and note.author_id != me)
        self.save_status.setVisible(self.can_write or bool(self.save_status.text()))

    def texts(self) -> dict[str, str]:
        """What is in the section boxes now, by section name."""
        return {name: edit.toPlainText() for name, edit in self.section_edits.items()}

    # --- the template -------------------------------------------------------------------------
    def _template_chosen(self, index: int) -> None:
        chosen = NoteTemplate(self.template_combo.itemData(index))
        if chosen is self.template or not self.can_write:
            return
        texts = self.texts()
        if any(t.strip() for t in texts.values()):
            keep = template_sections(chosen)
            lost = [section_title(n) for n, t in texts.items() if t.strip() and n not in keep]
            question = _("Change the note to the {template} template?").format(
                template=chosen.title
            )
            if lost:
                question += "\n\n" + _(
                    "The new template has no place for the text in: {sections}. That text "
                    "will be removed."
                ).format(sections=", ".join(lost))
            else:
                question += "\n\n" + _("Everything written so far is kept.")
            if not self._prompter.confirm(self, _("Change the template"), question):
                self._set_template_combo(self.template)
                return
        self.template = chosen
        self._show_sections(chosen, texts)
        self._edited()

    # --- saving -------------------------------------------------------------------------------
    def _edited(self) -> None:
        if self._loading or not self.can_write:
            return
        self.dirty = True
        self.autosave_timer.start()  # restarted by every keystroke
        if not self.periodic_timer.isActive():
            self.periodic_timer.start()  # but never more than this long without a save

    def _stop_timers(self) -> None:
        self.autosave_timer.stop()
        self.periodic_timer.stop()

    def _autosave(self) -> None:
        if self.dirty:
            self.save_now()

    def save_now(self) -> bool:
        """Saves the draft if anything changed; True when nothing is left unsaved."""
        self._stop_timers()
        if not self.can_write or not self.dirty:
            return True
        texts = self.texts()
        previous = self.note
        if previous is None and not any(t.strip() for t in texts.values()):
            self.dirty = False  # nothing written: no note is created
            return True
        self._set_save_status(_("Saving..."))
        self.save_status.repaint()
        try:
            saved = self._services.notes.save_draft(
                self._actor,
                appointment_id=self.appointment_id,
                template=self.template,
                sections=texts,
                expected_version=previous.version if previous is not None else None,
            )
        except CareStationError as exc:
            self._save_failed(exc)
            return False
        # The draft's save returns no addenda (a returned note has the co-signer's reason).
        self.note = replace(saved, addenda=previous.addenda if previous is not None else ())
        self.dirty = self.texts() != texts
        self.last_error = ""
        self._set_save_status(
            _("Draft saved {time}").format(time=f"{self.note.updated_at:%H:%M:%S}")
        )
        self.status_label.setText(note_status_text(self.note))
        if previous is None:
            self.note_changed.emit(self.appointment_id)
        return not self.dirty

    def _save_failed(self, exc: CareStationError) -> None:
        problem = "\n".join(exc.errors.values()) if isinstance(exc, ValidationError) else str(exc)
        self.last_error = problem
        self._set_save_status(
            _("Not saved: {problem} What you typed is still here.").format(problem=problem),
            error=True,
        )
        if isinstance(exc, DatabaseProblem | KeyUnavailable):
            self.periodic_timer.start()  # try again later: the connection may come back
        if isinstance(exc, DatabaseUnavailable):
            from carestation.ui.connection_status import report_connection_lost

            report_connection_lost(self, exc)  # the main window's banner, at once

    def _set_save_status(self, text: str, *, error: bool = False) -> None:
        self.save_status.setText(text)
        set_tone(self.save_status, "error" if error else "hint")
        self.save_status.setVisible(bool(text))

    def flush(self) -> bool:
        """Saves any unsaved typing at once. True when nothing is left unsaved."""
        if self._wiped:
            return True
        return self.save_now()

    # --- signing ------------------------------------------------------------------------------
    def _my_kind(self) -> CounsellorKind | None:
        if self._kind is None:
            me = self._actor.user_id
            for user in self._services.admin.list_counsellors(actor=self._actor):
                if user.id == me and user.counsellor is not None:
                    self._kind = user.counsellor.kind
        return self._kind

    def on_sign(self) -> SignDialog | None:
        """An expert confirms and signs; others choose the co-signer in the returned dialog."""
        if not self.can_write:
            return None
        title = _("Sign the note")
        if not self.flush():
            self._prompter.error(
                self,
                title,
                _("The draft could not be saved, so it cannot be signed yet: {problem}").format(
                    problem=self.last_error
                ),
            )
            return None
        note = self.note
        if note is None or note.is_blank:
            self._prompter.error(
                self, title, _("Nothing is written in this note yet. Write the note, then sign it.")
            )
            return None
        if self._my_kind() is CounsellorKind.EXPERT:
            question = _(
                "Sign this note? Once signed it can no longer be changed; corrections and "
                "additions are made as dated addenda."
            )
            if not self._prompter.confirm(self, title, question):
                return None
            signed = attempt(
                self,
                self._prompter,
                lambda: self._services.notes.sign(
                    self._actor, note.id, expected_version=note.version
                ),
            )
            if signed is not None:
                self._signed(signed)
            return None
        dialog = SignDialog(self._services, self._actor, self._prompter, note, self)
        open_dialog(dialog, lambda: self._signed(dialog.saved))
        return dialog

    def _signed(self, note: Note) -> None:
        self.note, self.can_write, self.dirty = note, False, False
        self._stop_timers()
        self._show_note(note)
        self._set_save_status("")
        self._update_controls()
        self.note_changed.emit(self.appointment_id)

    def on_cosign(self) -> bool:
        note = self.note
        if note is None:
            return False
        question = _("Co-sign this note by {author}? It then becomes final.").format(
            author=note.author_name
        )
        if not self._prompter.confirm(self, _("Co-sign the note"), question):
            return False
        header = attempt(
            self, self._prompter, lambda: self._services.notes.cosign(self._actor, note.id)
        )
        if header is None:
            return False
        self.note = replace(
            note,
            status=header.status,
            version=header.version,
            cosigned_at=header.cosigned_at,
            updated_at=header.updated_at,
        )
        self._show_note(self.note)
        self._update_controls()
        self.note_changed.emit(self.appointment_id)
        return True

    def on_return(self) -> ReturnDialog | None:
        if self.note is None:
            return None
        dialog = ReturnDialog(self._services, self._actor, self._prompter, self.note, self)
        open_dialog(dialog, self._returned)
        return dialog

    def _returned(self) -> None:
        self.load()
        self.note_changed.emit(self.appointment_id)

    def on_add_addendum(self) -> AddendumDialog | None:
        if self.note is None or self.note.is_draft:
            return None
        dialog = AddendumDialog(self._services, self._actor, self._prompter, self.note, self)
        open_dialog(dialog, lambda: self._addendum_added(dialog.saved))
        return dialog

    def _addendum_added(self, addendum: Addendum) -> None:
        if self.note is None:
            return
        self.note = replace(self.note, addenda=(*self.note.addenda, addendum))
        self._show_addenda(self.note.addenda)
        self.note_changed.emit(self.appointment_id)

    # --- closing ------------------------------------------------------------------------------
    def done(self, result: int) -> None:
        if not self._wiped and not self.flush():
            question = _(
                "The note could not be saved: {problem}\n\nClose it anyway? What you typed since "
                "the last save will be lost. Choose No to keep the window open (you can copy the "
                "text)."
            ).format(problem=self.last_error)
            if not self._prompter.confirm(self, _("Close the note"), question):
                return
        self._wipe()
        super().done(result)

    def clear(self) -> None:
        """Saves what it can, wipes the text from the window and closes it (on lock and
        sign-out). Never asks: the screen must be clean whatever happens."""
        if self._wiped:
            return
        self.flush()
        self._wipe()
        super().done(QDialog.DialogCode.Rejected)

    def _wipe(self) -> None:
        self._stop_timers()
        self._loading = True
        for edit in self.section_edits.values():
            edit.clear()
        self._loading = False
        self.addenda_view.clear()
        for label in (self.session_label, self.status_label, self.save_status):
            label.clear()
        self.note, self.appointment = None, None
        self.can_write = self.dirty = False
        self._wiped = True

    @property
    def wiped(self) -> bool:
        return self._wiped
