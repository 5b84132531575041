"""Dialogs of the lectures screen: a new lecture, and registering a client for one."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QSpinBox,
    QWidget,
)

from carestation.domain.booking import Appointment, BookingDraft, BookingRefused, Registration
from carestation.domain.validation import MAX_NAME, MAX_TEXT
from carestation.domain.values import Actor
from carestation.domain.vocab import AppointmentType, RoomKind
from carestation.i18n import _
from carestation.services.container import Services
from carestation.ui.client_picker import ClientPicker
from carestation.ui.prompts import Prompter
from carestation.ui.record_panel import FormDialog
from carestation.ui.style import set_tone
from carestation.ui.views.schedule_dialogs import aware, date_time_edit, short_when

DEFAULT_CAPACITY = 30
MAX_ALTERNATIVES = 5


def lecture_title(lecture: Appointment) -> str:
    return lecture.title or _("Untitled lecture")


def lecture_when(lecture: Appointment) -> str:
    """'11-25 Wed 14:00–15:30'."""
    return f"{short_when(lecture.starts_at)}–{lecture.ends_at:%H:%M}"


def refusal_text(refused: BookingRefused) -> str:
    """The rules' problems, then the nearest times that would work."""
    text = "\n".join(refused.problems)
    options = refused.alternatives[:MAX_ALTERNATIVES]
    if options:
        lines = [f"{short_when(o.starts_at)}–{o.ends_at:%H:%M} {o.room_name}" for o in options]
        text += "\n\n" + _("Free times that would work:") + "\n" + "\n".join(lines)
    return text


class LectureDialog(FormDialog):
    """Books a lecture: a speaker, a group room at the station or an address away from it, and
    a capacity. The rules' refusal is shown in the dialog with everything typed kept."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        prompter: Prompter,
        *,
        station_id: int,
        zone: ZoneInfo,
        today: date,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(prompter, _("New lecture"), "lecture_dialog", parent)
        self._services, self._actor = services, actor
        self._station_id, self._zone = station_id, zone
        rules = services.schedule_admin.rules(actor=actor, station_id=station_id)
        self._rooms = [
            r
            for r in services.admin.list_rooms(actor=actor, station_id=station_id)
            if r.kind is RoomKind.GROUP_ROOM
        ]
        self.title_edit = self.row(
            "title", _("T&itle"), QLineEdit(objectName="lecture_title_edit", maxLength=MAX_NAME)
        )
        start = datetime.combine(today + timedelta(days=7), time(14, 0))
        self.start_edit = self.row(
            "starts_at", _("&Starts at"), date_time_edit(start, "lecture_start_edit")
        )
        self.length_spin = self.row(
            "length",
            _("&Length"),
            QSpinBox(objectName="lecture_length_spin", minimum=15, maximum=720, singleStep=15),
        )
        self.length_spin.setSuffix(_(" minutes"))
        self.length_spin.setValue(rules[AppointmentType.LECTURE].default_minutes)
        self.speaker_combo = self.row(
            "counsellor", _("S&peaker"), QComboBox(objectName="speaker_combo")
        )
        for user in services.admin.list_counsellors(actor=actor, station_id=station_id):
            self.speaker_combo.addItem(user.display_name, user.id)
        self.room_radio = QRadioButton(_("In a &group room"), objectName="in_room_radio")
        self.away_radio = QRadioButton(_("Off-site, a&t"), objectName="off_site_radio")
        group = QButtonGroup(self)
        group.addButton(self.room_radio)
        group.addButton(self.away_radio)
        self.room_combo = QComboBox(objectName="lecture_room_combo")
        self.room_combo.setAccessibleName(_("Group room"))
        for room in self._rooms:
            self.room_combo.addItem(
                _("{room} ({n} places)").format(room=room.name, n=room.capacity), room.id
            )
        self.address_edit = QLineEdit(
            objectName="lecture_address_edit",
            maxLength=MAX_TEXT,
            placeholderText=_("The workplace's address, such as 城西工业园区 3 号楼会议室"),
        )
        self.address_edit.setAccessibleName(_("Off-site address"))
        self.row("room", _("Place"), self._pair(self.room_radio, self.room_combo))
        self.row("address", "", self._pair(self.away_radio, self.address_edit))
        self.capacity_spin = self.row(
            "capacity",
            _("&Capacity"),
            QSpinBox(objectName="lecture_capacity_spin", minimum=1, maximum=1000),
        )
        self.capacity_spin.setSuffix(_(" people"))
        self.problem_label = QLabel(objectName="lecture_problems", wordWrap=True)
        set_tone(self.problem_label, "error", boxed=True)
        self.problem_label.hide()
        self.layout().addWidget(self.problem_label)
        self.finish()
        if self._rooms:
            self.room_radio.setChecked(True)
        else:
            self.room_radio.setEnabled(False)
            self.room_combo.setEnabled(False)
            self.away_radio.setChecked(True)
        self.capacity_spin.setValue(self._rooms[0].capacity if self._rooms else DEFAULT_CAPACITY)
        self.room_radio.toggled.connect(self._place_changed)
        self.room_combo.currentIndexChanged.connect(self._room_changed)
        self._place_changed()
        self.title_edit.setFocus()

    @staticmethod
    def _pair(radio: QRadioButton, field: QWidget) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(radio)
        row.addWidget(field, 1)
        return box

    def in_room(self) -> bool:
        return self.room_radio.isChecked()

    def _place_changed(self) -> None:
        self.room_combo.setEnabled(self.in_room())
        self.address_edit.setEnabled(not self.in_room())

    def _room_changed(self) -> None:
        room = next((r for r in self._rooms if r.id == self.room_combo.currentData()), None)
        if room is not None:
            self.capacity_spin.setValue(room.capacity)

    def draft(self) -> BookingDraft:
        starts_at = aware(self.start_edit.dateTime(), self._zone)
        return BookingDraft(
            type=AppointmentType.LECTURE,
            station_id=self._station_id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=self.length_spin.value()),
            counsellor_id=self.speaker_combo.currentData(),
            room_id=self.room_combo.currentData() if self.in_room() else None,
            address="" if self.in_room() else self.address_edit.text().strip(),
            title=self.title_edit.text().strip(),
            capacity=self.capacity_spin.value(),
        )

    def problems(self) -> dict[str, str]:
        problems = {}
        if not self.title_edit.text().strip():
            problems["title"] = _("Give the lecture a title.")
        if self.speaker_combo.currentData() is None:
            problems["counsellor"] = _("No counsellor works at this station yet.")
        if not self.in_room() and not self.address_edit.text().strip():
            problems["address"] = _("Give the address where the lecture takes place.")
        if problems:
            self.problem_label.hide()
        return problems

    def save(self) -> Appointment | None:
        self.errors.clear()
        try:
            booked = self._services.booking.book(actor=self._actor, draft=self.draft())
        except BookingRefused as refused:
            self.problem_label.setText(refusal_text(refused))
            self.problem_label.show()
            return None
        self.problem_label.hide()
        return booked


class RegisterDialog(FormDialog):
    """Registers a client for a lecture; the service puts them on its waitlist when it is full."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        prompter: Prompter,
        lecture: Appointment,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(prompter, _("Register for a lecture"), "register_dialog", parent)
        self._services, self._actor, self._lecture = services, actor, lecture
        about = QLabel(
            _("{title}, {when}").format(title=lecture_title(lecture), when=lecture_when(lecture)),
            objectName="register_lecture_label",
            wordWrap=True,
        )
        self.form.addRow(_("Lecture"), about)
        self.picker = self.row(
            "client",
            _("&Client"),
            ClientPicker(services.clients, actor, prompter, station_id=lecture.station_id),
        )
        self.finish()
        # Once a client is chosen, Enter registers them.
        self.picker.client_chosen.connect(lambda _client: self.ok_button.setFocus())
        self.picker.setFocus()

    def problems(self) -> dict[str, str]:
        if self.picker.chosen is None:
            return {"client": _("Find the client and choose them from the list first.")}
        return {}

    def save(self) -> Registration:
        assert self.picker.chosen is not None
        return self._services.lectures.register(
            actor=self._actor, lecture_id=self._lecture.id, client_id=self.picker.chosen.id
        )
