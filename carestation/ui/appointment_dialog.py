"""One appointment: what it is, check in / complete / no-show, move, cancel, and its history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from carestation.domain.booking import Appointment, BookingRefused, ChangeRecord
from carestation.domain.errors import CareStationError, Conflict
from carestation.domain.roles import Permission
from carestation.domain.scheduling import DEFAULT_RULES, TYPE_SPECS
from carestation.domain.validation import MAX_TEXT
from carestation.domain.values import Actor
from carestation.domain.vocab import AppointmentStatus, CancelReason, ChangeKind, Modality
from carestation.i18n import N_, _
from carestation.services.container import Services
from carestation.ui.booking_dialog import (
    FiveMinuteEdit,
    day_text,
    fit_height,
    slot_text,
    span_text,
)
from carestation.ui.keyboard import buttons_last
from carestation.ui.prompts import Prompter
from carestation.ui.style import set_tone
from carestation.ui.table_model import Column, RecordTableModel
from carestation.ui.views.base import attempt

R = TypeVar("R")
KEEP = -1  # "keep the counsellor / room it has" in the move dialog's combos


def _moment(moment: datetime | None) -> str:
    return f"{day_text(moment)} {moment:%H:%M}" if moment is not None else ""


@dataclass(frozen=True)
class HistoryRow:
    record: ChangeRecord
    what: str


def history_rows(records: list[ChangeRecord], now: Appointment) -> list[HistoryRow]:
    """What each change did. A move keeps only the old time, counsellor and room; the new ones
    are those the next move started from, or the appointment's current ones."""
    after = (now.starts_at, now.counsellor_name, now.room_name)
    texts: list[str] = []
    for change in reversed(records):
        if change.kind is ChangeKind.MOVED:
            old = (change.old_starts_at or after[0], change.old_counsellor, change.old_room)
            parts = [
                _("Moved from {old} to {new}").format(old=_moment(old[0]), new=_moment(after[0]))
            ]
            if old[1] != after[1]:
                parts.append(
                    _("counsellor {old} → {new}").format(old=old[1] or "—", new=after[1] or "—")
                )
            if old[2] != after[2]:
                parts.append(_("room {old} → {new}").format(old=old[2] or "—", new=after[2] or "—"))
            texts.append("; ".join(parts))
            after = old
        elif change.old_status is not None and change.new_status is not None:
            texts.append(
                _("{old} → {new}").format(old=change.old_status.title, new=change.new_status.title)
            )
        else:
            texts.append(change.kind.title)
    return [HistoryRow(r, t) for r, t in zip(records, reversed(texts), strict=True)]


def reason_text(change: ChangeRecord) -> str:
    """Cancellations keep their reason as "client: note"; show the reason's title."""
    code, _sep, note = change.reason.partition(": ")
    if change.kind is ChangeKind.CANCELLED and code in set(CancelReason):
        title = CancelReason(code).title
        return f"{title}: {note}" if note else title
    return change.reason


def history_columns() -> list[Column[HistoryRow]]:
    return [
        Column(lambda: _("When"), lambda h: _moment(h.record.changed_at)),
        Column(lambda: _("By"), lambda h: h.record.changed_by),
        Column(lambda: _("What changed"), lambda h: h.what),
        Column(lambda: _("Reason"), lambda h: reason_text(h.record)),
    ]


def scope_buttons(parent: QWidget, layout: QVBoxLayout) -> QButtonGroup:
    """This one / this and the following ones / all of the series still to come."""
    group = QButtonGroup(parent)
    box = QGroupBox(_("Which sessions of the series"), parent, objectName="scope_box")
    column = QVBoxLayout(box)
    for scope, text in (
        ("this", _("&Only this one")),
        ("following", _("This one and the &following ones")),
        ("all", _("&All sessions still to come")),
    ):
        button = QRadioButton(text, box, objectName=f"scope_{scope}")
        button.setProperty("scope", scope)
        group.addButton(button)
        column.addWidget(button)
    group.buttons()[0].setChecked(True)
    layout.addWidget(box)
    return group


class _ChangeDialog(QDialog):
    """A small dialog that changes the appointment through a service; a stale version closes
    it and is reported through `conflicted`, other refusals stay in it."""

    conflicted = Signal(str)
    changed = Signal()

    def __init__(
        self,
        services: Services,
        actor: Actor,
        prompter: Prompter,
        appointment: Appointment,
        title: str,
        object_name: str,
        parent: QWidget | None,
    ) -> None:
        super().__init__(parent, objectName=object_name, windowTitle=title)
        self._services, self._actor, self._prompter = services, actor, prompter
        self.appointment = appointment
        self.form = QFormLayout()
        self.layout_ = QVBoxLayout(self)
        self.layout_.addLayout(self.form)
        self.scope: QButtonGroup | None = None
        if appointment.series_id is not None:
            self.scope = scope_buttons(self, self.layout_)
        self.problems_label = QLabel(objectName="problems_label", wordWrap=True)
        set_tone(self.problems_label, "error", boxed=True)
        self.problems_label.hide()
        self.layout_.addWidget(self.problems_label)

    def finish(self, ok_text: str, *, close: bool = False) -> None:
        """`close`: a Close button rather than Cancel, where "Cancel" would be ambiguous."""
        back = (
            QDialogButtonBox.StandardButton.Close
            if close
            else QDialogButtonBox.StandardButton.Cancel
        )
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | back, self)
        self.ok_button = box.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(ok_text)
        self.ok_button.setDefault(True)
        box.accepted.connect(self.on_ok)
        box.rejected.connect(self.reject)
        self.layout_.addWidget(box)
        buttons_last(self, box=box)
        self.resize(max(480, self.sizeHint().width()), self.sizeHint().height())

    def chosen_scope(self) -> str:
        checked = self.scope.checkedButton() if self.scope else None
        return str(checked.property("scope")) if checked else "this"

    def show_problems(self, problems: list[str]) -> None:
        self.problems_label.setText("\n".join(f"• {p}" for p in problems))
        self.problems_label.setVisible(bool(problems))

    def run(self, action: Callable[[], object]) -> None:
        def guarded() -> object:
            try:
                return action()
            except BookingRefused as refusal:
                self.refused(refusal)
            except Conflict as conflict:
                self.conflicted.emit(str(conflict))
                self.reject()
            return None

        self.show_problems([])
        if attempt(self, self._prompter, guarded) is not None:
            self.changed.emit()
            self.accept()

    def refused(self, refusal: BookingRefused) -> None:
        self.show_problems(refusal.problems)

    # Each dialog defines on_ok: it calls its service through run() above.
    on_ok: Callable[[], None]


class MoveDialog(_ChangeDialog):
    """A new time, and optionally another counsellor or room (for this session only)."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        prompter: Prompter,
        appointment: Appointment,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            services, actor, prompter, appointment, _("Move appointment"), "move_dialog", parent
        )
        spec = TYPE_SPECS[appointment.type]
        self.start_edit = FiveMinuteEdit(appointment.starts_at.tzinfo, self)  # type: ignore[arg-type]
        self.start_edit.setObjectName("move_start_edit")
        self.start_edit.set_moment(appointment.starts_at)
        self.form.addRow(_("&New start"), self.start_edit)
        self.counsellor_combo = QComboBox(objectName="move_counsellor_combo")
        self.counsellor_combo.addItem(
            _("Keep {name}").format(name=appointment.counsellor_name or "—"), KEEP
        )
        for user in services.admin.list_counsellors(actor=actor, station_id=appointment.station_id):
            if user.id != appointment.counsellor_id:
                self.counsellor_combo.addItem(user.display_name, user.id)
        if spec.needs_counsellor:
            self.form.addRow(_("&Counsellor"), self.counsellor_combo)
        self.room_combo = QComboBox(objectName="move_room_combo")
        self.room_combo.addItem(_("Keep {name}").format(name=appointment.room_name or "—"), KEEP)
        for room in services.admin.list_rooms(actor=actor, station_id=appointment.station_id):
            if room.kind in spec.room_kinds and room.id != appointment.room_id:
                self.room_combo.addItem(room.name, room.id)
        if spec.room_kinds and appointment.modality is Modality.IN_PERSON:
            self.form.addRow(_("&Room"), self.room_combo)
        self.alternatives_list = QListWidget(objectName="alternatives_list")
        self.alternatives_list.setAccessibleName(_("The nearest times that work"))
        self.alternatives_list.currentItemChanged.connect(self._alternative_chosen)
        self.alternatives_label = QLabel(_("The nearest times that work:"))
        for widget in (self.alternatives_label, self.alternatives_list):
            self.layout_.addWidget(widget)
            widget.hide()
        if self.scope is not None:
            self.scope.buttonToggled.connect(self._scope_changed)
        self.finish(_("&Move"))

    def _scope_changed(self) -> None:
        # The whole series moves by the same shift; other people or rooms are for one session.
        single = self.chosen_scope() == "this"
        self.counsellor_combo.setEnabled(single)
        self.room_combo.setEnabled(single)
        if not single:
            self.counsellor_combo.setCurrentIndex(0)
            self.room_combo.setCurrentIndex(0)

    def _alternative_chosen(self, item: QListWidgetItem | None) -> None:
        if item is None:
            return
        slot = item.data(Qt.ItemDataRole.UserRole)
        self.start_edit.set_moment(slot.starts_at)
        if self.chosen_scope() == "this" and slot.room_id != self.appointment.room_id:
            index = self.room_combo.findData(slot.room_id)
            self.room_combo.setCurrentIndex(max(index, 0))

    def refused(self, refusal: BookingRefused) -> None:
        super().refused(refusal)
        self.alternatives_list.clear()
        for slot in refusal.alternatives:
            QListWidgetItem(slot_text(slot), self.alternatives_list).setData(
                Qt.ItemDataRole.UserRole, slot
            )
        self.alternatives_label.setVisible(bool(refusal.alternatives))
        self.alternatives_list.setVisible(bool(refusal.alternatives))
        QTimer.singleShot(0, self, lambda: fit_height(self))

    def on_ok(self) -> None:
        booking, a = self._services.booking, self.appointment
        start, scope = self.start_edit.moment(), self.chosen_scope()
        counsellor, room = self.counsellor_combo.currentData(), self.room_combo.currentData()
        if scope == "this":
            self.run(
                lambda: booking.move(
                    actor=self._actor,
                    appointment_id=a.id,
                    starts_at=start,
                    expected_version=a.version,
                    counsellor_id=None if counsellor == KEEP else counsellor,
                    room_id=None if room == KEEP else room,
                    keep_counsellor=counsellor == KEEP,
                    keep_room=room == KEEP,
                )
            )
        else:
            self.run(
                lambda: booking.move_series(
                    actor=self._actor,
                    appointment_id=a.id,
                    starts_at=start,
                    scope=scope,
                    expected_version=a.version,
                )
            )


class CancelDialog(_ChangeDialog):
    """Why it is cancelled, a note, and (for a series) how many sessions; says if it is late."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        prompter: Prompter,
        appointment: Appointment,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            services, actor, prompter, appointment, _("Cancel appointment"), "cancel_dialog", parent
        )
        self.reason_combo = QComboBox(objectName="reason_combo")
        self.reason_combo.setPlaceholderText(_("Choose a reason"))
        for reason in CancelReason:
            self.reason_combo.addItem(reason.title, reason.value)
        self.reason_combo.setCurrentIndex(-1)  # a deliberate choice, it ends up in reports
        self.form.addRow(_("&Reason"), self.reason_combo)
        self.note_edit = QLineEdit(objectName="note_edit", maxLength=MAX_TEXT)
        self.form.addRow(_("&Note"), self.note_edit)
        self.late_label = QLabel(objectName="late_label", wordWrap=True)
        self.form.addRow(self.late_label)
        # The station may have its own window; the service decides and the dialog shows it after.
        hours = DEFAULT_RULES[appointment.type].late_cancel_hours
        late = appointment.starts_at - services.booking.clock.now() < timedelta(hours=hours)
        self.late_label.setText(
            _(
                "This is less than {hours} hours before the start: it will count as a late "
                "cancellation."
            ).format(hours=hours)
            if late
            else _("This is not a late cancellation.")
        )
        self.finish(_("Cancel the a&ppointment"), close=True)

    def on_ok(self) -> None:
        if self.reason_combo.currentIndex() < 0:
            self.show_problems([_("Choose why the appointment is cancelled.")])
            self.reason_combo.setFocus()
            return
        booking, a = self._services.booking, self.appointment
        reason = CancelReason(self.reason_combo.currentData())
        note, scope = self.note_edit.text(), self.chosen_scope()
        if scope == "this":
            self.run(
                lambda: booking.cancel(
                    actor=self._actor,
                    appointment_id=a.id,
                    reason=reason,
                    note=note,
                    expected_version=a.version,
                )
            )
        else:
            self.run(
                lambda: booking.cancel_series(
                    actor=self._actor, appointment_id=a.id, scope=scope, reason=reason, note=note
                )
            )


class AppointmentDialog(QDialog):
    """Shows one appointment and changes it, always against the version shown; emits `changed`
    with its id after every change."""

    changed = Signal(int)

    def __init__(
        self,
        services: Services,
        actor: Actor,
        prompter: Prompter,
        appointment_id: int,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, objectName="appointment_dialog", windowTitle=_("Appointment"))
        self._services, self._actor, self._prompter = services, actor, prompter
        self.appointment_id = appointment_id
        self.appointment: Appointment | None = None
        form = QFormLayout()
        self.labels: dict[str, QLabel] = {}
        for key, title in (
            ("type", _("Type")),
            ("status", _("Status")),
            ("when", _("When")),
            ("client", _("Client")),
            ("counsellor", _("Counsellor")),
            ("place", _("Where")),
            ("details", _("Details")),
            ("series", _("Series")),
            ("marks", _("Notes")),
        ):
            label = QLabel(objectName=f"{key}_value", wordWrap=True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.labels[key] = label
            form.addRow(title, label)
        self.message_label = QLabel(objectName="message_label", wordWrap=True)
        set_tone(self.message_label, "warning", boxed=True)
        self.message_label.hide()
        actions = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for key, text, slot in (
            ("check_in", _("Check &in"), lambda: self.set_status(AppointmentStatus.CHECKED_IN)),
            ("complete", _("Co&mplete"), lambda: self.set_status(AppointmentStatus.COMPLETED)),
            ("no_show", _("No-&show"), lambda: self.set_status(AppointmentStatus.NO_SHOW)),
            ("undo", _("&Undo"), self.undo_status),
            ("move", _("Mo&ve..."), self.on_move),
            ("cancel", _("&Cancel appointment..."), self.on_cancel),
            ("history", _("&History"), self.toggle_history),
        ):
            button = QPushButton(text, objectName=f"{key}_button", autoDefault=False)
            button.clicked.connect(slot)
            self.buttons[key] = button
            actions.addWidget(button)
        # Only for the session's own counsellor; the note service checks the same again.
        self.note_button = QPushButton(
            _("Session &note..."), objectName="session_note", autoDefault=False
        )
        self.note_button.clicked.connect(self.open_note)
        self.note_button.hide()
        actions.addWidget(self.note_button)
        self.history_model: RecordTableModel[HistoryRow] = RecordTableModel(history_columns(), self)
        self.history_table = QTableView(objectName="history_table", accessibleName=_("History"))
        self.history_table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.history_table.setModel(self.history_model)
        self.history_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history_table.verticalHeader().hide()
        self.history_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.history_table.horizontalHeader().setStretchLastSection(True)
        self.history_table.hide()
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message_label)
        layout.addLayout(actions)
        layout.addWidget(self.history_table)
        layout.addWidget(close)
        self.reload()
        from carestation.ui.pod_rating import add_pod_rating_box

        # Before and after ratings belong to pod bookings only; None for every other kind.
        self.pod_box = add_pod_rating_box(self, services.assessments, actor, prompter)
        buttons_last(self, box=close)
        self.resize(max(640, self.sizeHint().width()), self.sizeHint().height())

    # --- showing --------------------------------------------------------------------------
    def reload(self) -> None:
        schedule = self._services.schedule
        appointment = attempt(
            self,
            self._prompter,
            lambda: schedule.get(actor=self._actor, appointment_id=self.appointment_id),
        )
        if appointment is not None:
            self.appointment = appointment
        self._fill()
        if self.history_table.isVisibleTo(self):
            self.load_history()

    def _fill(self) -> None:
        a = self.appointment
        for label in self.labels.values():
            label.clear()
        for button in self.buttons.values():
            button.setEnabled(a is not None)
        if a is None:
            return
        text = self.labels
        text["type"].setText(a.type.title)
        text["status"].setText(a.status.title)
        text["when"].setText(f"{day_text(a.starts_at)}  {span_text(a.starts_at, a.ends_at)}")
        if a.client_id is not None:
            text["client"].setText(
                _("{name}, code {code}, phone {phone}").format(
                    name=a.client_name, code=a.client_code, phone=a.client_phone or "—"
                )
            )
        else:
            text["client"].setText("—")
        text["counsellor"].setText(a.counsellor_name or "—")
        place = [a.room_name or a.address, a.modality.title]
        text["place"].setText(", ".join(p for p in place if p))
        details = [
            a.topic.title if a.topic else "",
            a.pod_programme.title if a.pod_programme else "",
            a.title,
            _("{registered} of {capacity} places taken").format(
                registered=a.registered, capacity=a.capacity
            )
            if a.capacity
            else "",
        ]
        text["details"].setText("; ".join(d for d in details if d) or "—")
        text["series"].setText(_("Part of a repeating series") if a.series_id else "—")
        marks = [
            _("Walk-in (recorded afterwards)") if a.walk_in else "",
            _("Late cancellation") if a.late_cancel else "",
            reason_text_of(a),
        ]
        text["marks"].setText("\n".join(m for m in marks if m) or "—")
        status = a.status
        booked = status is AppointmentStatus.BOOKED
        self.buttons["check_in"].setEnabled(booked)
        self.buttons["complete"].setEnabled(status in _COMPLETABLE)
        self.buttons["no_show"].setEnabled(booked)
        self.buttons["move"].setEnabled(booked)
        self.buttons["cancel"].setEnabled(status in _COMPLETABLE)
        undo = _UNDO.get(status)
        self.buttons["undo"].setEnabled(undo is not None)
        self.buttons["undo"].setText(_(undo[1]) if undo else _("&Undo"))
        self.note_button.setVisible(self.may_write_note())

    def may_write_note(self) -> bool:
        a = self.appointment
        return (
            a is not None
            and self._actor.can(Permission.KEEP_CASE_RECORDS)
            and a.counsellor_id == self._actor.user_id
            and a.client_id is not None
            and a.status is not AppointmentStatus.CANCELLED
        )

    def open_note(self) -> QDialog | None:
        """The session's confidential note, in its own window."""
        from carestation.ui.note_editor import NoteEditor

        if not self.may_write_note():
            return None
        editor = NoteEditor(
            self._services,
            self._actor,
            self._prompter,
            appointment_id=self.appointment_id,
            appointment=self.appointment,
            parent=self,
        )
        editor.finished.connect(editor.deleteLater)
        editor.open()
        return editor

    def show_message(self, message: str) -> None:
        self.message_label.setText(message)
        self.message_label.setVisible(bool(message))

    # --- changing -------------------------------------------------------------------------
    def _changed(self) -> None:
        self.reload()
        self.changed.emit(self.appointment_id)

    def _conflict(self, message: str) -> None:
        self.reload()
        self.show_message(message)

    def _run(self, action: Callable[[], R]) -> R | None:
        self.show_message("")
        try:
            result = action()
        except Conflict as conflict:
            self._conflict(str(conflict))
            return None
        except CareStationError as error:
            self._prompter.error(self, _("The action could not be completed"), str(error))
            return None
        self._changed()
        return result

    def set_status(self, status: AppointmentStatus) -> None:
        a = self.appointment
        if a is None:
            return
        booking = self._services.booking
        self._run(
            lambda: booking.set_status(
                actor=self._actor, appointment_id=a.id, status=status, expected_version=a.version
            )
        )

    def undo_status(self) -> None:
        undo = _UNDO.get(self.appointment.status) if self.appointment else None
        if undo is not None:
            self.set_status(undo[0])

    def _open(self, dialog: _ChangeDialog) -> _ChangeDialog:
        dialog.changed.connect(self._changed)
        dialog.conflicted.connect(self._conflict)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def move_dialog(self) -> MoveDialog:
        assert self.appointment is not None
        return MoveDialog(self._services, self._actor, self._prompter, self.appointment, self)

    def cancel_dialog(self) -> CancelDialog:
        assert self.appointment is not None
        return CancelDialog(self._services, self._actor, self._prompter, self.appointment, self)

    def on_move(self) -> _ChangeDialog | None:
        self.show_message("")
        return self._open(self.move_dialog()) if self.appointment else None

    def on_cancel(self) -> _ChangeDialog | None:
        self.show_message("")
        return self._open(self.cancel_dialog()) if self.appointment else None

    def load_history(self) -> None:
        schedule = self._services.schedule
        records = attempt(
            self,
            self._prompter,
            lambda: schedule.history(actor=self._actor, appointment_id=self.appointment_id),
        )
        if self.appointment is not None:
            self.history_model.set_rows(history_rows(records or [], self.appointment))

    def toggle_history(self) -> None:
        showing = not self.history_table.isVisibleTo(self)
        if showing:
            self.load_history()
        self.history_table.setVisible(showing)


def reason_text_of(a: Appointment) -> str:
    if a.cancel_reason is None:
        return ""
    return f"{a.cancel_reason.title}: {a.cancel_note}" if a.cancel_note else a.cancel_reason.title


_COMPLETABLE = (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN)
# The status an undo goes back to, and the button's words for it.
_UNDO: dict[AppointmentStatus, tuple[AppointmentStatus, str]] = {
    AppointmentStatus.CHECKED_IN: (AppointmentStatus.BOOKED, N_("&Undo check-in")),
    AppointmentStatus.NO_SHOW: (AppointmentStatus.BOOKED, N_("&Undo no-show")),
    AppointmentStatus.COMPLETED: (AppointmentStatus.CHECKED_IN, N_("Re&open")),
}
