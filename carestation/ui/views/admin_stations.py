"""The administrator's stations screen: stations with their opening hours, and each one's rooms."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from carestation.domain.errors import ValidationError
from carestation.domain.validation import MAX_NAME, MAX_TEXT
from carestation.domain.values import Actor, OpeningHours, Room, RoomInput, Station, StationInput
from carestation.domain.vocab import RoomKind
from carestation.i18n import N_, _
from carestation.services.admin import AdminService
from carestation.services.station_records import (
    MAX_RETENTION_MONTHS,
    MIN_RETENTION_MONTHS,
    RecordsPolicy,
    StationRecordsService,
    default_plan,
)
from carestation.ui.hours_editor import WEEKDAYS, HoursEditor
from carestation.ui.keyboard import enter_opens
from carestation.ui.prompts import Prompter
from carestation.ui.record_panel import FormDialog, RecordPanel, open_dialog, yes_no
from carestation.ui.table_model import Column, RecordTableModel
from carestation.ui.views.base import View, attempt

WEEKDAY_ABBREVIATIONS = (
    N_("Mon"),
    N_("Tue"),
    N_("Wed"),
    N_("Thu"),
    N_("Fri"),
    N_("Sat"),
    N_("Sun"),
)
TIME_ZONES = ("Asia/Shanghai", "Asia/Urumqi", "Asia/Hong_Kong", "Asia/Macau", "Asia/Taipei", "UTC")


def hours_summary(hours: Sequence[OpeningHours]) -> str:
    """'Mon-Fri 08:30-17:00; Sat 08:30-12:00': runs of consecutive days with the same periods."""
    by_day: dict[int, list[str]] = {}
    for h in sorted(hours, key=lambda h: (h.weekday, h.opens)):
        by_day.setdefault(h.weekday, []).append(f"{h.opens:%H:%M}-{h.closes:%H:%M}")
    if not by_day:
        return _("Closed all week")
    runs: list[list[int]] = []
    for day in sorted(by_day):
        if runs and runs[-1][-1] == day - 1 and by_day[runs[-1][-1]] == by_day[day]:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = []
    for run in runs:
        first, last = _(WEEKDAY_ABBREVIATIONS[run[0]]), _(WEEKDAY_ABBREVIATIONS[run[-1]])
        days = first if len(run) == 1 else _("{first}-{last}").format(first=first, last=last)
        parts.append(_("{days} {hours}").format(days=days, hours=", ".join(by_day[run[0]])))
    return "; ".join(parts)


class StationDialog(FormDialog):
    def __init__(
        self,
        admin: AdminService,
        actor: Actor,
        prompter: Prompter,
        station: Station | None = None,
        parent: QWidget | None = None,
    ) -> None:
        title = _("New station") if station is None else _("Edit station")
        super().__init__(prompter, title, "station_dialog", parent)
        self._admin, self._actor, self._station = admin, actor, station
        self.name_edit = self.row("name", _("Name"), QLineEdit(maxLength=MAX_NAME))
        self.address_edit = self.row("address", _("Address"), QLineEdit(maxLength=MAX_TEXT))
        self.phone_edit = self.row("phone", _("Phone"), QLineEdit(maxLength=32))
        self.zone_combo = self.row("time_zone", _("Time zone"), QComboBox(editable=True))
        self.zone_combo.addItems(TIME_ZONES)
        self.hours_editor = self.row("hours", _("Opening hours"), HoursEditor())
        self.finish()
        self.zone_combo.setCurrentText(station.time_zone if station else "Asia/Shanghai")
        if station is not None:
            self.name_edit.setText(station.name)
            self.address_edit.setText(station.address)
            self.phone_edit.setText(station.phone)
            self.hours_editor.set_hours(station.hours)

    def station_input(self) -> StationInput:
        return StationInput(
            name=self.name_edit.text(),
            address=self.address_edit.text(),
            phone=self.phone_edit.text(),
            time_zone=self.zone_combo.currentText(),
            hours=self.hours_editor.hours(),
        )

    def save(self) -> Station:
        data = self.station_input()
        try:
            if self._station is None:
                return self._admin.create_station(actor=self._actor, data=data)
            return self._admin.update_station(
                actor=self._actor, station_id=self._station.id, data=data
            )
        except ValidationError as exc:
            # Every "hours.<day>" message shows under the one hours editor: name the day.
            raise ValidationError({k: _day_prefixed(k, v) for k, v in exc.errors.items()}) from exc


def _day_prefixed(key: str, message: str) -> str:
    head, _dot, day = key.partition(".")
    if head != "hours" or not day.isdigit() or not 0 <= int(day) < len(WEEKDAYS):
        return message
    return _("{day}: {problem}").format(day=_(WEEKDAYS[int(day)]), problem=message)


class RoomDialog(FormDialog):
    def __init__(
        self,
        admin: AdminService,
        actor: Actor,
        prompter: Prompter,
        station_id: int,
        room: Room | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            prompter, _("New room") if room is None else _("Edit room"), "room_dialog", parent
        )
        self._admin, self._actor, self._station_id, self._room = admin, actor, station_id, room
        self.name_edit = self.row("name", _("Name"), QLineEdit(maxLength=MAX_NAME))
        self.kind_combo = self.row("kind", _("Kind"), QComboBox())
        for kind in RoomKind:
            self.kind_combo.addItem(kind.title, kind.value)
        capacity = QSpinBox(minimum=1, maximum=1000)
        self.capacity_spin = self.row("capacity", _("Capacity (people)"), capacity)
        self.finish()
        if room is not None:
            self.name_edit.setText(room.name)
            self.kind_combo.setCurrentIndex(self.kind_combo.findData(room.kind.value))
            self.capacity_spin.setValue(room.capacity)

    def room_input(self) -> RoomInput:
        return RoomInput(
            station_id=self._station_id,
            name=self.name_edit.text(),
            kind=RoomKind(self.kind_combo.currentData()),
            capacity=self.capacity_spin.value(),
        )

    def save(self) -> Room:
        if self._room is None:
            return self._admin.create_room(actor=self._actor, data=self.room_input())
        return self._admin.update_room(
            actor=self._actor, room_id=self._room.id, data=self.room_input()
        )


class RecordsPolicyDialog(FormDialog):
    """A station's rules for confidential records: its supervisor, how long notes are kept after
    a case closes, and the crisis plan shown with every crisis flag."""

    def __init__(
        self,
        records: StationRecordsService,
        actor: Actor,
        prompter: Prompter,
        station: Station,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            prompter,
            _("Confidential records: {station}").format(station=station.name),
            "records_policy_dialog",
            parent,
        )
        self._records, self._actor, self._station = records, actor, station
        policy: RecordsPolicy = records.policy(actor=actor, station_id=station.id)
        self.supervisor_combo = self.row("supervisor_id", _("Supervisor"), QComboBox())
        self.supervisor_combo.setAccessibleName(_("Supervisor"))
        self.supervisor_combo.addItem(_("None (co-signers are chosen note by note)"), None)
        for expert in records.supervisor_choices(actor=actor, station_id=station.id):
            self.supervisor_combo.addItem(expert.display_name, expert.user_id)
        index = self.supervisor_combo.findData(policy.supervisor_id)
        self.supervisor_combo.setCurrentIndex(max(index, 0))
        note = QLabel(
            _(
                "The supervisor is an expert counsellor of this station. They may read the notes "
                "of this station's sessions and co-sign regulators' and mentors' notes by default."
            )
        )
        note.setWordWrap(True)
        self.form.addRow("", note)
        retention = QSpinBox(minimum=MIN_RETENTION_MONTHS, maximum=MAX_RETENTION_MONTHS)
        retention.setSuffix(_(" months"))
        retention.setValue(policy.retention_months)
        retention.setAccessibleName(_("Keep notes after a case closes"))
        self.retention_spin = self.row(
            "retention_months", _("Keep notes after a case closes"), retention
        )
        self.plan_edit = self.row(
            "crisis_plan", _("Crisis plan (one step per line)"), QPlainTextEdit()
        )
        self.plan_edit.setAccessibleName(_("Crisis plan"))
        self.plan_edit.setTabChangesFocus(True)
        self.plan_edit.setPlaceholderText("\n".join(default_plan()))
        self.plan_edit.setPlainText("\n".join(policy.crisis_plan))
        hint = QLabel(_("Leave the plan empty to use the standard checklist shown in grey."))
        hint.setWordWrap(True)
        self.form.addRow("", hint)
        self.finish()

    def save(self) -> RecordsPolicy:
        return self._records.set_policy(
            actor=self._actor,
            station_id=self._station.id,
            supervisor_id=self.supervisor_combo.currentData(),
            retention_months=self.retention_spin.value(),
            crisis_plan=tuple(self.plan_edit.toPlainText().splitlines()),
        )


class StationsView(View):
    TITLE = N_("Stations")

    def __init__(
        self,
        admin: AdminService,
        actor: Actor,
        prompter: Prompter,
        parent: QWidget | None = None,
        records: StationRecordsService | None = None,
    ) -> None:
        super().__init__(parent, objectName="stations_view")
        self._admin, self._actor, self._prompter = admin, actor, prompter
        self._records = records
        active = Column(
            title=lambda: _("Active"), text=lambda v: yes_no(v.active), sort_key=lambda v: v.active
        )
        station_model: RecordTableModel[Station] = RecordTableModel(
            [
                Column(title=lambda: _("Name"), text=lambda s: s.name),
                Column(title=lambda: _("Address"), text=lambda s: s.address),
                Column(title=lambda: _("Phone"), text=lambda s: s.phone),
                Column(title=lambda: _("Opening hours"), text=lambda s: hours_summary(s.hours)),
                active,
            ]
        )
        self.stations = RecordPanel(_("Stations"), station_model, "stations_table")
        always = lambda _record: True  # noqa: E731
        self.stations.add_button(
            _("New station..."), "new_station", self.new_station, enabled_when=always
        )
        self.stations.add_button(_("Edit..."), "edit_station", self.edit_station)
        self.stations.add_button("", "station_active", self.toggle_station, toggle=True)
        if records is not None:
            self.stations.add_button(
                _("Confidential records..."), "records_policy", self.edit_records_policy
            )
        self.stations.buttons.addStretch(1)
        room_model: RecordTableModel[Room] = RecordTableModel(
            [
                Column(title=lambda: _("Name"), text=lambda r: r.name),
                Column(title=lambda: _("Kind"), text=lambda r: r.kind.title),
                Column(
                    title=lambda: _("Capacity"),
                    text=lambda r: str(r.capacity),
                    sort_key=lambda r: r.capacity,
                    align_right=True,
                ),
                active,
            ]
        )
        self.rooms = RecordPanel(_("Rooms"), room_model, "rooms_table")
        self.new_room_button = self.rooms.add_button(
            _("New room..."), "new_room", self.new_room, enabled_when=lambda _r: self._has_station()
        )
        self.rooms.add_button(_("Edit..."), "edit_room", self.edit_room)
        self.rooms.add_button("", "room_active", self.toggle_room, toggle=True)
        self.rooms.buttons.addStretch(1)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self.stations)
        splitter.addWidget(self.rooms)
        QVBoxLayout(self).addWidget(splitter)
        self.stations.table.selectionModel().selectionChanged.connect(self._station_changed)
        self.stations.table.doubleClicked.connect(self.edit_station)
        enter_opens(self.stations.table)
        self.rooms.table.doubleClicked.connect(self.edit_room)
        enter_opens(self.rooms.table)
        self.stations.update_buttons()
        self._station_changed()

    def selected_station(self) -> Station | None:
        return self.stations.selected()

    def selected_room(self) -> Room | None:
        return self.rooms.selected()

    def _has_station(self) -> bool:
        return self.selected_station() is not None

    def refresh(self) -> None:
        self.show_stations(select_id=getattr(self.selected_station(), "id", None))

    def clear(self) -> None:
        self.stations.set_rows([])
        self._station_changed()

    def show_stations(self, *, select_id: int | None) -> None:
        list_stations = self._admin.list_stations
        stations = attempt(
            self, self._prompter, lambda: list_stations(actor=self._actor, include_inactive=True)
        )
        if stations is not None:
            if select_id is None:
                # Start on this session's station (or the first), so its rooms show at once.
                ids = [s.id for s in stations]
                select_id = (
                    self._actor.station_id
                    if self._actor.station_id in ids
                    else min(ids, default=None)
                )
            self.stations.set_rows(stations, select_id=select_id)
            self._station_changed()

    def show_rooms(self, *, select_id: int | None) -> None:
        station, rooms = self.selected_station(), None
        if station is not None:
            list_rooms = self._admin.list_rooms
            rooms = attempt(
                self,
                self._prompter,
                lambda: list_rooms(actor=self._actor, station_id=station.id, include_inactive=True),
            )
        self.rooms.set_rows(rooms or [], select_id=select_id)

    def _station_changed(self) -> None:
        station = self.selected_station()
        self.rooms.setTitle(
            _("Rooms at {station}").format(station=station.name) if station else _("Rooms")
        )
        self.show_rooms(select_id=None)

    def new_station(self) -> StationDialog:
        dialog = StationDialog(self._admin, self._actor, self._prompter, parent=self)
        open_dialog(dialog, lambda: self.show_stations(select_id=dialog.saved.id))
        return dialog

    def edit_station(self) -> StationDialog | None:
        station = self.selected_station()
        if station is None:
            return None
        dialog = StationDialog(self._admin, self._actor, self._prompter, station, parent=self)
        open_dialog(dialog, lambda: self.show_stations(select_id=station.id))
        return dialog

    def toggle_station(self) -> None:
        station = self.selected_station()
        if station is not None and self.stations.toggle_selected(
            self._prompter,
            _("Deactivate station"),
            _(
                "Deactivate {name}? It will no longer be offered for bookings; its records are "
                "kept and it can be reactivated later."
            ).format(name=station.name),
            lambda active: self._admin.set_station_active(
                actor=self._actor, station_id=station.id, active=active
            ),
        ):
            self.show_stations(select_id=station.id)

    def new_room(self) -> RoomDialog | None:
        station = self.selected_station()
        if station is None:
            return None
        dialog = RoomDialog(self._admin, self._actor, self._prompter, station.id, parent=self)
        open_dialog(dialog, lambda: self.show_rooms(select_id=dialog.saved.id))
        return dialog

    def edit_records_policy(self) -> RecordsPolicyDialog | None:
        station = self.selected_station()
        if station is None or self._records is None:
            return None
        records = self._records
        dialog = attempt(
            self,
            self._prompter,
            lambda: RecordsPolicyDialog(records, self._actor, self._prompter, station, parent=self),
        )
        if dialog is not None:
            open_dialog(dialog, lambda: None)
        return dialog

    def edit_room(self) -> RoomDialog | None:
        room = self.selected_room()
        if room is None:
            return None
        dialog = RoomDialog(
            self._admin, self._actor, self._prompter, room.station_id, room, parent=self
        )
        open_dialog(dialog, lambda: self.show_rooms(select_id=room.id))
        return dialog

    def toggle_room(self) -> None:
        room = self.selected_room()
        if room is not None and self.rooms.toggle_selected(
            self._prompter,
            _("Deactivate room"),
            _("Deactivate the room {name}? It will no longer be offered for bookings.").format(
                name=room.name
            ),
            lambda active: self._admin.set_room_active(
                actor=self._actor, room_id=room.id, active=active
            ),
        ):
            self.show_rooms(select_id=room.id)
