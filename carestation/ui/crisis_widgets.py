"""Crisis flags on screen: the banner shown wherever a flagged client appears, and the dialogs
to raise a flag, clear it with what was done, and record a follow-up."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from carestation.domain.crisis import (
    ChecklistStep,
    CrisisFlagInfo,
    FollowUpItem,
    follow_up_label,
)
from carestation.domain.values import Actor
from carestation.domain.vocab import FlagSource
from carestation.i18n import _
from carestation.services.crisis import CrisisService
from carestation.ui.prompts import Prompter
from carestation.ui.record_panel import FormDialog, open_dialog
from carestation.ui.style import heading, set_tone
from carestation.ui.views.base import attempt


def when_text(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M}"


def raised_text(flag: CrisisFlagInfo) -> str:
    """'Flag raised 2026-11-23 10:00 by 陈静' (or 'from an assessment result')."""
    if flag.source is FlagSource.ASSESSMENT or not flag.raised_by_name:
        return _("Flag raised {date} from an assessment result").format(
            date=when_text(flag.raised_at)
        )
    return _("Flag raised {date} by {name}").format(
        date=when_text(flag.raised_at), name=flag.raised_by_name
    )


def _text_box(object_name: str, accessible: str, placeholder: str) -> QPlainTextEdit:
    edit = QPlainTextEdit(objectName=object_name, placeholderText=placeholder)
    edit.setAccessibleName(accessible)
    edit.setTabChangesFocus(True)  # Tab moves on, as in every other field
    edit.setMinimumHeight(90)
    return edit


def _plain_label(text: str = "", object_name: str = "") -> QLabel:
    """A label that never interprets what a user typed as rich text."""
    label = QLabel(text, objectName=object_name, wordWrap=True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class CrisisBanner(QFrame):
    """A red banner with the client's open crisis flag, for the counsellors who may see it;
    hidden for everyone else and for clients without a flag. Besides the colour, it says
    "At risk" in bold words, so the warning does not depend on seeing red."""

    flag_cleared = Signal(int)  # the flag's id

    def __init__(
        self,
        crisis: CrisisService,
        actor: Actor,
        prompter: Prompter,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, objectName="crisis_banner")
        self._crisis, self._actor, self._prompter = crisis, actor, prompter
        self.client_id: int | None = None
        self.flag: CrisisFlagInfo | None = None
        self.setFrameShape(QFrame.Shape.StyledPanel)
        set_tone(self, "error", boxed=True)  # the heading says "At risk" in words
        self.setAccessibleName(_("Crisis flag"))
        self.heading_label = QLabel(_("At risk"), objectName="crisis_heading")
        heading(self.heading_label, 1.35)
        self.raised_label = _plain_label(object_name="crisis_raised")
        self.reason_label = _plain_label(object_name="crisis_reason")
        self.next_label = _plain_label(object_name="crisis_next_follow_up")
        self.clear_button = QPushButton(
            _("Record actions and &clear..."), self, objectName="clear_flag", autoDefault=False
        )
        self.clear_button.clicked.connect(self.open_clear_dialog)
        top = QHBoxLayout()
        top.addWidget(self.heading_label)
        top.addWidget(self.raised_label, 1)
        top.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.reason_label)
        layout.addWidget(self.next_label)
        self.hide()

    def show_for(self, client_id: int | None) -> None:
        """Shows the client's open flag, or hides the banner (no flag, or not for this user)."""
        self.client_id = client_id
        flag = None
        if client_id is not None and self._crisis.has_open_flag(self._actor, client_id):
            flag = attempt(
                self, self._prompter, lambda: self._crisis.open_flag(self._actor, client_id)
            )
        self._show(flag)

    def _show(self, flag: CrisisFlagInfo | None) -> None:
        self.flag = flag
        if flag is None:
            self._forget()
            return
        self.raised_label.setText(raised_text(flag))
        self.reason_label.setText(_("Reason: {reason}").format(reason=flag.reason))
        pending = [f for f in flag.follow_ups if not f.done]
        if pending:
            due = pending[0]
            template = (
                _("Follow-up overdue since {when} ({after})")
                if due.due_at < self._crisis.clock.now()
                else _("Next follow-up: {when} ({after})")
            )
            self.next_label.setText(
                template.format(when=when_text(due.due_at), after=follow_up_label(due.after))
            )
            self.next_label.show()
        else:
            self.next_label.clear()
            self.next_label.hide()
        self.setAccessibleDescription(
            " ".join([_("At risk"), self.raised_label.text(), self.reason_label.text()])
        )
        self.show()

    def _forget(self) -> None:
        for label in (self.raised_label, self.reason_label, self.next_label):
            label.clear()
        self.setAccessibleDescription("")
        self.hide()

    def clear(self) -> None:
        """Forgets the client and the flag (on lock and sign-out)."""
        self.client_id = None
        self.flag = None
        self._forget()

    def open_clear_dialog(self) -> ClearFlagDialog | None:
        flag = self.flag
        if flag is None:
            return None
        dialog = ClearFlagDialog(self._crisis, self._actor, self._prompter, flag, parent=self)
        open_dialog(dialog, lambda: self._cleared(flag.id))
        return dialog

    def _cleared(self, flag_id: int) -> None:
        self.show_for(self.client_id)
        self.flag_cleared.emit(flag_id)


class RaiseFlagDialog(FormDialog):
    """Raises a crisis flag on a client: why, in a few words, with the station's checklist
    shown as guidance for what to do now."""

    def __init__(
        self,
        crisis: CrisisService,
        actor: Actor,
        prompter: Prompter,
        *,
        client_id: int,
        client_label: str,
        station_id: int | None = None,
        case_id: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(prompter, _("Raise a crisis flag"), "raise_flag_dialog", parent)
        self._crisis, self._actor = crisis, actor
        self._client_id, self._station_id, self._case_id = client_id, station_id, case_id
        self.row("client", _("Client"), _plain_label(client_label, "flag_client"))
        self.reason_edit = self.row(
            "reason",
            _("&Why is the person at risk?"),
            _text_box(
                "reason_edit",
                _("Why is the person at risk?"),
                _("A few words; the details belong in the session note."),
            ),
        )
        steps = self._steps()
        self.checklist_label = _plain_label(
            "\n".join(f"{n}. {step.title}" for n, step in enumerate(steps, 1)), "checklist_guide"
        )
        self.checklist_label.setAccessibleName(_("The station's crisis checklist"))
        self.form.addRow(_("What to do now"), self.checklist_label)
        self.finish()
        self.ok_button.setText(_("&Raise the flag"))
        self.reason_edit.setFocus()

    def _steps(self) -> list[ChecklistStep]:
        station_id = self._station_id or self._actor.station_id
        if station_id is None:
            return []
        return attempt(self, self._prompter, lambda: self._crisis.checklist(station_id)) or []

    def save(self) -> CrisisFlagInfo:
        return self._crisis.raise_flag(
            self._actor,
            client_id=self._client_id,
            reason=self.reason_edit.toPlainText(),
            case_id=self._case_id,
            station_id=self._station_id,
        )


class ClearFlagDialog(FormDialog):
    """Clears a flag: tick the steps taken and write what was done. Refused while either is
    missing; the dialog stays open with everything typed so far."""

    def __init__(
        self,
        crisis: CrisisService,
        actor: Actor,
        prompter: Prompter,
        flag: CrisisFlagInfo,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            prompter, _("Record actions and clear the flag"), "clear_flag_dialog", parent
        )
        self._crisis, self._actor, self._flag = crisis, actor, flag
        self.form.addRow(_("Flag"), _plain_label(raised_text(flag), "flag_raised"))
        self.form.addRow(_("Reason"), _plain_label(flag.reason, "flag_reason"))
        steps = attempt(self, prompter, lambda: crisis.checklist(flag.station_id)) or []
        box = QWidget(objectName="checklist")
        box.setAccessibleName(_("Steps taken"))
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        self.step_boxes: list[tuple[ChecklistStep, QCheckBox]] = []
        for n, step in enumerate(steps):
            check = QCheckBox(step.title, box, objectName=f"step_{n}")
            check.setAccessibleName(step.title)
            column.addWidget(check)
            self.step_boxes.append((step, check))
        self.row("actions", _("Steps taken"), box)
        self.done_edit = self.row(
            "what_was_done",
            _("&What was done"),
            _text_box(
                "what_was_done_edit",
                _("What was done"),
                _("Who stayed with the person, whom you contacted, what was agreed."),
            ),
        )
        self.finish()
        self.ok_button.setText(_("&Clear the flag"))
        if self.step_boxes:
            self.step_boxes[0][1].setFocus()

    def ticked(self) -> frozenset[str]:
        return frozenset(step.key for step, check in self.step_boxes if check.isChecked())

    def save(self) -> CrisisFlagInfo:
        return self._crisis.clear_flag(
            self._actor,
            self._flag.id,
            actions=self.ticked(),
            what_was_done=self.done_edit.toPlainText(),
        )


class RecordFollowUpDialog(FormDialog):
    """Records a follow-up check after a crisis: how the person is, what was agreed."""

    def __init__(
        self,
        crisis: CrisisService,
        actor: Actor,
        prompter: Prompter,
        item: FollowUpItem,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(prompter, _("Record a follow-up"), "record_followup_dialog", parent)
        self._crisis, self._actor, self._item = crisis, actor, item
        self.form.addRow(_("Client code"), _plain_label(item.client_code, "followup_client"))
        due = _("{when} ({after} after the flag)").format(
            when=when_text(item.due_at), after=follow_up_label(item.after)
        )
        if item.overdue:
            due = _("{due}: overdue").format(due=due)
        self.form.addRow(_("Due"), _plain_label(due, "followup_due"))
        self.note_edit = self.row(
            "note",
            _("&Note"),
            _text_box(
                "followup_note_edit",
                _("Note"),
                _("How the person is, how you reached them, what was agreed."),
            ),
        )
        self.finish()
        self.ok_button.setText(_("&Record"))
        self.note_edit.setFocus()

    def save(self) -> object:
        return self._crisis.record_followup(
            self._actor, self._item.id, note=self.note_edit.toPlainText()
        )
