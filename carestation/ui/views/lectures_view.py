"""Lectures at a station: new lectures, each one's registrations and waitlist, and attendance."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from carestation.domain.booking import Appointment, Registration
from carestation.domain.values import Actor
from carestation.domain.vocab import AppointmentStatus, RegistrationStatus
from carestation.i18n import N_, _
from carestation.services.container import Services
from carestation.ui.client_picker import mask_phone
from carestation.ui.prompts import Prompter
from carestation.ui.record_panel import RecordPanel, open_dialog
from carestation.ui.table_model import Column, Index, RecordTableModel
from carestation.ui.views.base import View, attempt
from carestation.ui.views.lecture_dialogs import (
    LectureDialog,
    RegisterDialog,
    lecture_title,
    lecture_when,
)
from carestation.ui.views.schedule_dialogs import (
    date_edit,
    fill_stations,
    long_day,
    pydate,
    qdate,
    short_when,
)

ATTENDED_COLUMN = 5


def month_start(day: date, months_ahead: int = 0) -> date:
    month = day.month - 1 + months_ahead
    return date(day.year + month // 12, month % 12 + 1, 1)


@dataclass(frozen=True)
class LectureRow:
    id: int
    lecture: Appointment
    waiting: int


def places_text(row: LectureRow) -> str:
    """'12 / 30 (3 waiting)'."""
    places = _("{registered} / {capacity}").format(
        registered=row.lecture.registered,
        capacity="—" if row.lecture.capacity is None else row.lecture.capacity,
    )
    if not row.waiting:
        return places
    return _("{places} ({n} waiting)").format(places=places, n=row.waiting)


def _lecture_columns() -> list[Column[LectureRow]]:
    return [
        Column(
            lambda: _("When"),
            lambda r: (
                f"{long_day(r.lecture.starts_at.date())} "
                f"{r.lecture.starts_at:%H:%M}–{r.lecture.ends_at:%H:%M}"
            ),
            sort_key=lambda r: r.lecture.starts_at,
        ),
        Column(lambda: _("Title"), lambda r: lecture_title(r.lecture)),
        Column(lambda: _("Speaker"), lambda r: r.lecture.counsellor_name),
        Column(
            lambda: _("Place"),
            lambda r: (
                r.lecture.room_name or (_("Off-site: {address}").format(address=r.lecture.address))
            ),
        ),
        Column(
            lambda: _("Places taken"),
            places_text,
            sort_key=lambda r: r.lecture.registered,
            align_right=True,
        ),
        Column(lambda: _("Status"), lambda r: r.lecture.status.title),
    ]


def _roster_columns(zone: Callable[[], ZoneInfo]) -> list[Column[Registration]]:
    return [
        Column(
            lambda: _("Registered at"),
            lambda r: short_when(r.registered_at.astimezone(zone())),
            # Registration order: who moves up from the waitlist first.
            sort_key=lambda r: f"{r.registered_at.astimezone(UTC).isoformat()} {r.id:012d}",
        ),
        Column(lambda: _("Full name"), lambda r: r.client_name),
        Column(lambda: _("Client code"), lambda r: r.client_code),
        Column(lambda: _("Phone"), lambda r: mask_phone(r.client_phone)),
        Column(lambda: _("Status"), lambda r: r.status.title),
        Column(lambda: _("Attended"), lambda r: ""),
    ]


class RosterModel(RecordTableModel[Registration]):
    """Registrations, with a tick box for attendance on registered people once it may be set."""

    def __init__(
        self,
        may_tick: Callable[[], bool],
        on_tick: Callable[[Registration, bool], bool],
        zone: Callable[[], ZoneInfo],
        parent: Any = None,
    ) -> None:
        super().__init__(_roster_columns(zone), parent)
        self._may_tick, self._on_tick = may_tick, on_tick

    def _tickable(self, index: Index) -> Registration | None:
        if index.column() != ATTENDED_COLUMN or not 0 <= index.row() < self.rowCount():
            return None
        reg = self.row_value(index.row())
        return reg if reg.status is RegistrationStatus.REGISTERED else None

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if self._tickable(index) is not None and self._may_tick():
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        reg = self._tickable(index) if index.isValid() else None
        if reg is not None and role == Qt.ItemDataRole.CheckStateRole:
            return Qt.CheckState.Checked if reg.attended else Qt.CheckState.Unchecked
        if reg is not None and role == Qt.ItemDataRole.ToolTipRole and not self._may_tick():
            return _("Attendance can be ticked once the lecture has begun.")
        return super().data(index, role)

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        reg = self._tickable(index)
        if reg is None or role != Qt.ItemDataRole.CheckStateRole or not self._may_tick():
            return False
        attended = value in (Qt.CheckState.Checked, Qt.CheckState.Checked.value)
        if not self._on_tick(reg, attended):
            return False
        # Change the one row in place: a reset here would pull the cell from under the view.
        self._rows[index.row()] = replace(reg, attended=attended)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.CheckStateRole])
        return True


class LecturesView(View):
    TITLE = N_("Lectures")

    def __init__(
        self,
        services: Services,
        actor: Actor,
        prompter: Prompter,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, objectName="lectures_view")
        self._services, self._actor, self._prompter = services, actor, prompter
        self._loaded = False
        self._zones: dict[int, ZoneInfo] = {}
        self.station_combo = QComboBox(objectName="lectures_station_combo")
        today = self._today()
        self.from_edit = date_edit(month_start(today), "lectures_from_edit")
        self.to_edit = date_edit(month_start(today, 2) - timedelta(days=1), "lectures_to_edit")
        top = QHBoxLayout()
        for text, widget in (
            (_("&Station"), self.station_combo),
            (_("&From"), self.from_edit),
            (_("&To"), self.to_edit),
        ):
            label = QLabel(text)
            label.setBuddy(widget)
            top.addWidget(label)
            top.addWidget(widget)
        top.addStretch(1)

        self.lectures = RecordPanel(
            _("Lectures"), RecordTableModel(_lecture_columns()), "lectures_table"
        )
        self.lectures.add_button(
            _("&New lecture..."),
            "new_lecture",
            self.new_lecture,
            enabled_when=lambda _r: self._station() is not None,
        )
        self.lectures.buttons.addStretch(1)
        self.roster_model = RosterModel(self._may_tick, self._tick, self._zone)
        self.roster = RecordPanel(_("Registrations"), self.roster_model, "roster_table")
        self.roster.add_button(
            _("&Register..."),
            "register",
            self.register,
            enabled_when=lambda _r: self._open_for_registration(),
        )
        self.roster.add_button(
            _("&Cancel registration"),
            "unregister",
            self.unregister,
            enabled_when=lambda r: r is not None and r.status is not RegistrationStatus.CANCELLED,
        )
        self.roster.buttons.addStretch(1)
        self.roster_summary = QLabel(objectName="roster_summary")
        self.roster.buttons.addWidget(self.roster_summary)
        self.message_label = QLabel(objectName="lectures_message", wordWrap=True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        splitter = QSplitter(Qt.Orientation.Vertical)  # parented by the layout, after `top`
        splitter.addWidget(self.lectures)
        splitter.addWidget(self.roster)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.message_label)
        self.station_combo.currentIndexChanged.connect(lambda _i: self.reload())
        self.from_edit.dateChanged.connect(lambda _d: self.reload())
        self.to_edit.dateChanged.connect(lambda _d: self.reload())
        self.lectures.table.selectionModel().currentRowChanged.connect(
            lambda _a, _b: self.show_roster()
        )

    # --- loading --------------------------------------------------------------------------
    def _station(self) -> int | None:
        return self.station_combo.currentData()

    def _zone(self) -> ZoneInfo:
        return self._zones.get(self._station() or 0, ZoneInfo("Asia/Shanghai"))

    def _today(self) -> date:
        return self._services.lectures.clock.now().astimezone(self._zone()).date()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._loaded and not event.spontaneous():
            self.reload()  # registrations change at other desks too

    def refresh(self) -> None:
        if self.station_combo.count() == 0:
            stations = attempt(
                self, self._prompter, lambda: self._services.admin.list_stations(actor=self._actor)
            )
            mine = [s for s in stations or [] if s.id in self._actor.station_ids]
            self._zones = {s.id: ZoneInfo(s.time_zone) for s in mine}
            self.station_combo.blockSignals(True)
            fill_stations(self.station_combo, mine, self._actor.station_id)
            self.station_combo.blockSignals(False)
        self.reload()

    def reload(self, *, select_id: int | None = None) -> None:
        station_id = self._station()
        if select_id is None and (chosen := self.selected_lecture()) is not None:
            select_id = chosen.id
        rows: list[LectureRow] = []
        if station_id is not None:
            first, last = pydate(self.from_edit.date()), pydate(self.to_edit.date())
            found = attempt(
                self,
                self._prompter,
                lambda: [
                    LectureRow(lecture.id, lecture, self._waiting(lecture))
                    for lecture in self._services.lectures.lectures(
                        actor=self._actor, station_id=station_id, first_day=first, last_day=last
                    )
                ],
            )
            rows = found or []
        self.lectures.set_rows(rows, select_id=select_id)
        self._loaded = True
        self.show_roster()

    def _waiting(self, lecture: Appointment) -> int:
        # The lecture values count registered people only; the waitlist is in the roster.
        roster = self._services.lectures.roster(actor=self._actor, lecture_id=lecture.id)
        return sum(1 for r in roster if r.status is RegistrationStatus.WAITLISTED)

    def show_roster(self, *, select_id: int | None = None) -> list[Registration]:
        lecture = self.selected_lecture()
        regs: list[Registration] = []
        if lecture is None:
            self.roster.setTitle(_("Registrations"))
        else:
            self.roster.setTitle(
                _("Registrations: {title}, {when}").format(
                    title=lecture_title(lecture), when=lecture_when(lecture)
                )
            )
            regs = (
                attempt(
                    self,
                    self._prompter,
                    lambda: self._services.lectures.roster(
                        actor=self._actor, lecture_id=lecture.id
                    ),
                )
                or []
            )
        self.roster.set_rows(regs, select_id=select_id)
        self.roster_summary.setText(self._summary(lecture, regs))
        return regs

    @staticmethod
    def _summary(lecture: Appointment | None, regs: Sequence[Registration]) -> str:
        if lecture is None:
            return ""
        waiting = sum(1 for r in regs if r.status is RegistrationStatus.WAITLISTED)
        registered = sum(1 for r in regs if r.status is RegistrationStatus.REGISTERED)
        return places_text(LectureRow(lecture.id, replace(lecture, registered=registered), waiting))

    def clear(self) -> None:
        self.lectures.set_rows([])
        self.roster.set_rows([])
        self.roster.setTitle(_("Registrations"))
        self.roster_summary.clear()
        self.message_label.clear()
        self._loaded = False

    def selected_lecture(self) -> Appointment | None:
        row = self.lectures.selected()
        return row.lecture if row is not None else None

    def _started(self) -> bool:
        lecture = self.selected_lecture()
        return lecture is not None and lecture.starts_at <= self._services.lectures.clock.now()

    def _open_for_registration(self) -> bool:
        lecture = self.selected_lecture()
        return (
            lecture is not None
            and lecture.status is not AppointmentStatus.CANCELLED
            and not self._started()
        )

    def _may_tick(self) -> bool:
        lecture = self.selected_lecture()
        return self._started() and lecture is not None and lecture.active

    def _tick(self, reg: Registration, attended: bool) -> bool:
        done = attempt(
            self,
            self._prompter,
            lambda: (
                self._services.lectures.set_attendance(
                    actor=self._actor, registration_id=reg.id, attended=attended
                )
                or True
            ),
        )
        return bool(done)

    # --- actions --------------------------------------------------------------------------
    def new_lecture(self) -> LectureDialog | None:
        station_id = self._station()
        if station_id is None:
            return None
        dialog = LectureDialog(
            self._services,
            self._actor,
            self._prompter,
            station_id=station_id,
            zone=self._zone(),
            today=self._today(),
            parent=self,
        )
        open_dialog(dialog, lambda: self._lecture_booked(dialog.saved))
        return dialog

    def _lecture_booked(self, lecture: Appointment) -> None:
        day = lecture.starts_at.date()
        # Widen the range to take the new lecture in; reload() follows the date change.
        if day < pydate(self.from_edit.date()):
            self.from_edit.setDate(qdate(day))
        if day > pydate(self.to_edit.date()):
            self.to_edit.setDate(qdate(day))
        self.reload(select_id=lecture.id)
        self.message_label.setText(
            _("{title} is booked for {when}.").format(
                title=lecture_title(lecture), when=lecture_when(lecture)
            )
        )

    def register(self) -> RegisterDialog | None:
        lecture = self.selected_lecture()
        if lecture is None:
            return None
        dialog = RegisterDialog(self._services, self._actor, self._prompter, lecture, parent=self)
        open_dialog(dialog, lambda: self._registered(lecture, dialog.saved))
        return dialog

    def _registered(self, lecture: Appointment, reg: Registration) -> None:
        self.reload(select_id=lecture.id)
        regs = self.show_roster(select_id=reg.id)
        if reg.status is RegistrationStatus.REGISTERED:
            text = _("{name} has a place at {title}.").format(
                name=reg.client_name, title=lecture_title(lecture)
            )
        else:
            waiting = [r.id for r in regs if r.status is RegistrationStatus.WAITLISTED]
            position = waiting.index(reg.id) + 1 if reg.id in waiting else len(waiting)
            text = _(
                "All places at {title} are taken: {name} is number {n} on its waitlist and "
                "moves up when someone cancels."
            ).format(title=lecture_title(lecture), name=reg.client_name, n=position)
        self.message_label.setText(text)

    def unregister(self) -> None:
        lecture, reg = self.selected_lecture(), self.roster.selected()
        if lecture is None or reg is None:
            return
        question = _("Cancel {name}'s registration for {title}?").format(
            name=reg.client_name, title=lecture_title(lecture)
        )
        if not self._prompter.confirm(self, _("Cancel registration"), question):
            return
        outcome = attempt(
            self,
            self._prompter,
            lambda: (
                self._services.lectures.unregister(actor=self._actor, registration_id=reg.id),
            ),
        )
        self.reload(select_id=lecture.id)
        if outcome is None:
            return
        (promoted,) = outcome
        regs = self.show_roster(select_id=promoted or reg.id)
        text = _("{name}'s registration is cancelled.").format(name=reg.client_name)
        moved = next((r for r in regs if r.id == promoted), None)
        if moved is not None:
            note = _(
                "{name} moved up from the waitlist and now has a place: let them know."
            ).format(name=moved.client_name)
            text = f"{text} {note}"
            self._prompter.info(self, _("Moved up from the waitlist"), note)
        self.message_label.setText(text)

    def roster_index(self, row: int, column: int) -> QModelIndex:
        """The view index of a roster cell (row in registration order), for keyboard and tests."""
        return self.roster.proxy.mapFromSource(self.roster_model.index(row, column))
