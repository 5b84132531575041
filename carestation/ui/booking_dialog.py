"""Quick booking: one appointment or a repeating series, with find-a-time and the rules' answers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, QDateTime, QModelIndex, Qt, QTime, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
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
    QSpinBox,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from carestation.domain.booking import (
    Appointment,
    BookingDraft,
    BookingRefused,
    SeriesOccurrence,
    SlotOption,
    SlotRequest,
)
from carestation.domain.roles import Permission, Role
from carestation.domain.scheduling import DEFAULT_RULES, TYPE_SPECS
from carestation.domain.validation import MAX_NAME, MAX_TEXT
from carestation.domain.values import Actor, OpeningHours, Station
from carestation.domain.vocab import AppointmentType, Modality, PodProgramme, Topic
from carestation.i18n import N_, _, ngettext
from carestation.services.container import Services
from carestation.ui.client_picker import ClientPicker
from carestation.ui.forms import FieldErrors
from carestation.ui.keyboard import buttons_last
from carestation.ui.prompts import Prompter
from carestation.ui.style import set_tone
from carestation.ui.table_model import Column, RecordTableModel
from carestation.ui.views.base import attempt

R = TypeVar("R")
W = TypeVar("W", bound=QWidget)
WEEKDAY_ABBREVIATIONS = (
    N_("Mon"),
    N_("Tue"),
    N_("Wed"),
    N_("Thu"),
    N_("Fri"),
    N_("Sat"),
    N_("Sun"),
)
TOPIC_TYPES = (AppointmentType.COUNSELLING, AppointmentType.ONLINE, AppointmentType.CRISIS)
FIND_WEEKS = 4
SLOT_LIMIT = 10


def day_text(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d} {_(WEEKDAY_ABBREVIATIONS[moment.weekday()])}"


def span_text(start: datetime, end: datetime) -> str:
    return f"{start:%H:%M}–{end:%H:%M}"


def slot_text(slot: SlotOption) -> str:
    parts = [day_text(slot.starts_at), span_text(slot.starts_at, slot.ends_at)]
    return "  ·  ".join(p for p in [*parts, slot.counsellor_name, slot.room_name] if p)


def station_of(services: Services, actor: Actor, station_id: int) -> Station | None:
    stations = services.admin.list_stations(actor=actor, include_inactive=True)
    return next((s for s in stations if s.id == station_id), None)


def first_opening(soonest: datetime, hours: Sequence[OpeningHours]) -> datetime:
    """The first time from `soonest` on when the station is open (weekly hours only: the
    service has the last word on holidays), on the hour where possible."""
    for offset in range(8):
        day = soonest.date() + timedelta(days=offset)
        for h in sorted((h for h in hours if h.weekday == day.weekday()), key=lambda h: h.opens):
            opens = datetime.combine(day, h.opens, tzinfo=soonest.tzinfo)
            closes = datetime.combine(day, h.closes, tzinfo=soonest.tzinfo)
            start = max(opens, soonest)
            if start < closes:
                return start
    return soonest


class FiveMinuteEdit(QDateTimeEdit):
    """A date and time whose minutes step by five; reads and writes aware datetimes."""

    def __init__(self, zone: ZoneInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent, calendarPopup=True, displayFormat="yyyy-MM-dd  HH:mm")
        self._zone = zone

    def stepBy(self, steps: int) -> None:
        if self.currentSection() != QDateTimeEdit.Section.MinuteSection:
            super().stepBy(steps)
            return
        moment = self.dateTime()
        off_grid = moment.time().minute() % 5
        # Off the grid, the first step lands on the neighbouring multiple of five.
        shift = 5 * steps - off_grid if steps > 0 or not off_grid else 5 * (steps + 1) - off_grid
        self.setDateTime(moment.addSecs(60 * shift))

    def moment(self) -> datetime:
        value = self.dateTime()
        naive = datetime.combine(value.date().toPython(), value.time().toPython())
        return naive.replace(second=0, microsecond=0, tzinfo=self._zone)

    def set_moment(self, moment: datetime) -> None:
        local = moment.astimezone(self._zone)
        self.setDateTime(
            QDateTime(QDate(local.year, local.month, local.day), QTime(local.hour, local.minute))
        )


def fit_height(window: QWidget) -> None:
    """Grows a window to show what appeared in it (a refusal, a plan, search results): word-
    wrapped text makes Qt's minimum too small, and the layout would squeeze the fields."""
    screen = window.screen()
    room = screen.availableGeometry().height() - 80 if screen else window.sizeHint().height()
    wanted = min(window.sizeHint().height(), room)
    if window.height() < wanted:
        window.resize(window.width(), wanted)


def slot_columns() -> list[Column[SlotOption]]:
    return [
        Column(
            lambda: _("Day"),
            lambda s: f"{s.starts_at:%m-%d} {_(WEEKDAY_ABBREVIATIONS[s.starts_at.weekday()])}",
        ),
        Column(lambda: _("Time"), lambda s: span_text(s.starts_at, s.ends_at)),
        Column(lambda: _("Counsellor"), lambda s: s.counsellor_name or "—"),
        Column(lambda: _("Room"), lambda s: s.room_name or "—"),
    ]


def _select(combo: QComboBox, data: object) -> None:
    index = combo.findData(data)
    if index >= 0:
        combo.setCurrentIndex(index)


class BookingDialog(QDialog):
    """Books after the service agrees, and keeps what it booked in `booked`; a refusal is shown
    in the dialog (problems, the nearest times that work) with everything typed kept."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        prompter: Prompter,
        *,
        station_id: int,
        start: datetime | None = None,
        counsellor_id: int | None = None,
        room_id: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, objectName="booking_dialog", windowTitle=_("Book an appointment"))
        self._services, self._actor, self._prompter = services, actor, prompter
        self._station_id = station_id
        station = station_of(services, actor, station_id)
        self._zone = ZoneInfo(station.time_zone if station else "Asia/Shanghai")
        self._staff = actor.can(Permission.BOOK_AT_STATION)
        self._rooms = services.admin.list_rooms(actor=actor, station_id=station_id)
        self._counsellors = services.admin.list_counsellors(actor=actor, station_id=station_id)
        self._length_touched = False
        self._override_shown = False
        self._plan: list[SeriesOccurrence] = []
        self._plan_key: object = None
        self._plan_choices: dict[int, QComboBox] = {}
        self._plan_starts: dict[int, list[datetime]] = {}
        self.booked: list[Appointment] = []
        self.errors = FieldErrors()
        now = services.booking.clock.now().astimezone(self._zone)

        self.form = QFormLayout()
        self.type_combo = self._row(_("&Type"), QComboBox(objectName="type_combo"))
        for kind in AppointmentType:
            needs_counsellor = TYPE_SPECS[kind].needs_counsellor
            if kind is AppointmentType.CRISIS and Role.COUNSELLOR not in actor.roles:
                continue  # crisis sessions are booked by the counsellor who runs them
            if self._staff or needs_counsellor:
                self.type_combo.addItem(kind.title, kind.value)
        self.picker = self._row(
            _("&Client"), ClientPicker(services.clients, actor, prompter, station_id=station_id)
        )
        self.counsellor_combo = self._row(
            _("C&ounsellor"), QComboBox(objectName="counsellor_combo")
        )
        if self._staff:
            self.counsellor_combo.addItem(_("Any counsellor"), None)
        for user in self._counsellors:
            if self._staff or user.id == actor.user_id:
                self.counsellor_combo.addItem(user.display_name, user.id)
        if self.counsellor_combo.count() == 0:
            self.counsellor_combo.addItem(actor.display_name, actor.user_id)
        _select(self.counsellor_combo, counsellor_id)
        self.modality_combo = self._row(_("&Modality"), QComboBox(objectName="modality_combo"))
        self.room_combo = self._row(_("&Room"), QComboBox(objectName="room_combo"))
        self.programme_combo = self._row(_("Pro&gramme"), QComboBox(objectName="programme_combo"))
        for programme in PodProgramme:
            self.programme_combo.addItem(programme.title, programme.value)
        self.topic_combo = self._row(_("To&pic"), QComboBox(objectName="topic_combo"))
        self.topic_combo.addItem(_("Not recorded"), None)
        for topic in Topic:
            self.topic_combo.addItem(topic.title, topic.value)
        self.title_edit = self._row(
            _("T&itle"), QLineEdit(objectName="title_edit", maxLength=MAX_NAME)
        )
        self.capacity_spin = self._row(
            _("C&apacity"), QSpinBox(objectName="capacity_spin", minimum=1, maximum=1000, value=30)
        )
        self.address_edit = self._row(
            _("Off-site a&ddress"),
            QLineEdit(
                objectName="address_edit",
                maxLength=MAX_TEXT,
                placeholderText=_("Only for a lecture away from the station"),
            ),
        )
        self.start_edit = self._row(_("&Starts at"), FiveMinuteEdit(self._zone))
        self.start_edit.setObjectName("start_edit")
        # By default the first full hour that leaves an hour's notice.
        soonest = (now + timedelta(minutes=119)).replace(minute=0, second=0, microsecond=0)
        self.start_edit.set_moment(
            start or first_opening(soonest, station.hours if station else ())
        )
        self.length_spin = self._row(
            _("&Length"),
            QSpinBox(objectName="length_spin", minimum=5, maximum=720, singleStep=5),
        )
        self.length_spin.setSuffix(_(" minutes"))
        self.length_spin.valueChanged.connect(self._length_edited)
        self.walk_in_check = self._row(
            "", QCheckBox(_("&Walk-in (already happened)"), objectName="walk_in_check")
        )
        self.form.addRow(self._repeat_row())
        self._build_find_box(now.date())
        self._build_outcome()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.book_button = buttons.addButton(_("&Book"), QDialogButtonBox.ButtonRole.ActionRole)
        self.book_button.setObjectName("book_button")
        self.book_button.setDefault(True)
        self.book_button.clicked.connect(self.on_book)
        buttons.rejected.connect(self.reject)

        columns = QHBoxLayout()
        columns.addLayout(self.form, 1)
        columns.addWidget(self.find_box, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(columns)
        layout.addWidget(self.outcome)
        layout.addWidget(buttons)
        self.type_combo.currentIndexChanged.connect(self._type_changed)
        self.modality_combo.currentIndexChanged.connect(self._modality_changed)
        self.walk_in_check.toggled.connect(self._walk_in_changed)
        self._type_changed()
        _select(self.room_combo, room_id)
        # Not a minimum size: that would stop the layout growing the window when the
        # problems, alternatives or the series plan appear.
        self.resize(1000, self.sizeHint().height())
        self.picker.model.modelReset.connect(self.fit_later)
        buttons_last(self, box=buttons)
        find = QShortcut(QKeySequence.StandardKey.Find, self)
        find.activated.connect(self.picker.search_edit.setFocus)
        self.type_combo.setFocus()

    def fit_later(self) -> None:
        QTimer.singleShot(0, self, lambda: fit_height(self))

    def _row(self, label: str, widget: W) -> W:
        self.form.addRow(label, widget)
        return widget

    def _repeat_row(self) -> QWidget:
        box = QWidget(objectName="repeat_row")
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        self.repeat_check = QCheckBox(_("R&epeat every"), objectName="repeat_check")
        self.interval_spin = QSpinBox(
            objectName="interval_spin", minimum=1, maximum=4, enabled=False
        )
        self.interval_spin.setAccessibleName(_("Weeks between sessions"))
        self.count_spin = QSpinBox(
            objectName="count_spin", minimum=2, maximum=52, value=3, enabled=False
        )
        self.count_spin.setAccessibleName(_("Number of sessions"))
        self.repeat_check.toggled.connect(self.interval_spin.setEnabled)
        self.repeat_check.toggled.connect(self.count_spin.setEnabled)
        for widget in (
            self.repeat_check,
            self.interval_spin,
            QLabel(_("weeks,")),
            self.count_spin,
            QLabel(_("sessions in all")),
        ):
            row.addWidget(widget)
        row.addStretch(1)
        error = QLabel(objectName="error_series", wordWrap=True)
        set_tone(error, "error")
        error.hide()
        wrapper = QWidget()
        column = QVBoxLayout(wrapper)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(box)
        column.addWidget(error)
        for key in ("interval", "count", "series"):
            self.errors.register(key, error, self.repeat_check)
        return wrapper

    def _build_find_box(self, today: date) -> None:
        self.find_box = QGroupBox(_("Find a time"), objectName="find_box")
        self.from_edit = QDateEdit(
            QDate(today.year, today.month, today.day),
            calendarPopup=True,
            objectName="from_edit",
            displayFormat="yyyy-MM-dd",
        )
        last = today + timedelta(weeks=FIND_WEEKS)
        self.to_edit = QDateEdit(
            QDate(last.year, last.month, last.day),
            calendarPopup=True,
            objectName="to_edit",
            displayFormat="yyyy-MM-dd",
        )
        self.from_edit.setAccessibleName(_("Look from"))
        self.to_edit.setAccessibleName(_("Look until"))
        self.find_button = QPushButton(
            _("&Find free times"), objectName="find_button", autoDefault=False
        )
        self.find_button.clicked.connect(self.on_find)
        period = QHBoxLayout()
        for widget in (QLabel(_("From")), self.from_edit, QLabel(_("to")), self.to_edit):
            period.addWidget(widget)
        period.addStretch(1)
        period_error = QLabel(objectName="error_period", wordWrap=True)
        set_tone(period_error, "error")
        period_error.hide()
        self.errors.register("period", period_error, self.from_edit)
        self.slot_model: RecordTableModel[SlotOption] = RecordTableModel(slot_columns(), self)
        self.slot_table = QTableView(objectName="slot_table", accessibleName=_("Free times"))
        self.slot_table.setModel(self.slot_model)
        self.slot_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.slot_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.slot_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.slot_table.setTabKeyNavigation(False)
        self.slot_table.verticalHeader().hide()
        header = self.slot_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.slot_table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.slot_table.selectionModel().currentRowChanged.connect(self._slot_selected)
        self.slot_table.doubleClicked.connect(self._slot_double_clicked)
        self.slots_label = QLabel(objectName="slots_label", wordWrap=True)
        layout = QVBoxLayout(self.find_box)
        layout.addLayout(period)
        layout.addWidget(period_error)
        layout.addWidget(self.find_button)
        layout.addWidget(self.slots_label)
        layout.addWidget(self.slot_table, 1)

    def _build_outcome(self) -> None:
        self.outcome = QWidget(objectName="outcome")
        self.problems_label = QLabel(objectName="problems_label", wordWrap=True)
        set_tone(self.problems_label, "error", boxed=True)
        self.problems_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.alternatives_label = QLabel(_("The nearest times that work:"))
        self.alternatives_list = QListWidget(objectName="alternatives_list")
        self.alternatives_list.setAccessibleName(_("The nearest times that work"))
        self.alternatives_list.setMaximumHeight(self.fontMetrics().height() * 6)
        self.alternatives_list.currentItemChanged.connect(self._alternative_selected)
        self.alternatives_list.itemDoubleClicked.connect(lambda _item: self.on_book())
        self.override_label = QLabel(_("Reason to book be&yond the weekly limit:"))
        self.override_edit = QLineEdit(objectName="override_edit", maxLength=MAX_TEXT)
        self.override_label.setBuddy(self.override_edit)
        self.series_box = QGroupBox(_("Sessions of the series"), objectName="series_box")
        self.series_table = QTableWidget(0, 3, objectName="series_table")
        self.series_table.setHorizontalHeaderLabels([_("When"), _("Problems"), _("What to do")])
        self.series_table.verticalHeader().setVisible(False)
        self.series_table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.series_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.series_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.series_table.horizontalHeader().setStretchLastSection(True)
        QVBoxLayout(self.series_box).addWidget(self.series_table)
        layout = QVBoxLayout(self.outcome)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (
            self.problems_label,
            self.alternatives_label,
            self.alternatives_list,
            self.override_label,
            self.override_edit,
            self.series_box,
        ):
            layout.addWidget(widget)
            widget.hide()

    # --- what the form says -----------------------------------------------------------------
    def current_type(self) -> AppointmentType:
        return AppointmentType(self.type_combo.currentData())

    def _modality(self) -> Modality:
        data = self.modality_combo.currentData()
        return Modality(data) if data else Modality.IN_PERSON

    def draft(self) -> BookingDraft:
        kind = self.current_type()
        spec = TYPE_SPECS[kind]
        start = self.start_edit.moment()
        client = self.picker.chosen if spec.needs_client else None
        in_room = bool(spec.room_kinds) and self._modality() is Modality.IN_PERSON
        topic, programme = self.topic_combo.currentData(), self.programme_combo.currentData()
        return BookingDraft(
            type=kind,
            station_id=self._station_id,
            starts_at=start,
            # Untouched, the length is the station's own default for the type.
            ends_at=start + timedelta(minutes=self.length_spin.value())
            if self._length_touched
            else None,
            client_id=client.id if client else None,
            counsellor_id=self.counsellor_combo.currentData() if spec.needs_counsellor else None,
            room_id=self.room_combo.currentData() if in_room else None,
            modality=self._modality(),
            topic=Topic(topic) if topic and kind in TOPIC_TYPES else None,
            pod_programme=PodProgramme(programme)
            if programme and kind is AppointmentType.POD
            else None,
            title=self.title_edit.text() if spec.group else "",
            address=self.address_edit.text() if spec.group else "",
            capacity=self.capacity_spin.value() if spec.group else None,
            walk_in=self.walk_in_check.isChecked(),
            override_reason=self.override_edit.text() if self._override_shown else "",
        )

    # --- reacting to the form ---------------------------------------------------------------
    def _type_changed(self) -> None:
        kind = self.current_type()
        spec = TYPE_SPECS[kind]
        visible = {
            self.picker: spec.needs_client,
            self.counsellor_combo: spec.needs_counsellor,
            self.modality_combo: len(spec.modalities) > 1,
            self.room_combo: bool(spec.room_kinds),
            self.programme_combo: kind is AppointmentType.POD,
            self.topic_combo: kind in TOPIC_TYPES,
            self.title_edit: spec.group,
            self.capacity_spin: spec.group,
            self.address_edit: spec.group,
        }
        for widget, on in visible.items():
            self.form.setRowVisible(widget, on)
        self.modality_combo.blockSignals(True)
        self.modality_combo.clear()
        for modality in spec.modalities:
            self.modality_combo.addItem(modality.title, modality.value)
        self.modality_combo.blockSignals(False)
        previous_room = self.room_combo.currentData()
        self.room_combo.clear()
        for room in self._rooms:
            if room.kind in spec.room_kinds:
                suffix = f" ({room.kind.title})" if len(spec.room_kinds) > 1 else ""
                self.room_combo.addItem(room.name + suffix, room.id)
        if spec.room_optional and spec.room_kinds:
            self.room_combo.addItem(_("None (off-site)") if spec.group else _("No room"), None)
        _select(self.room_combo, previous_room)
        if not self._length_touched:
            self._set_length(DEFAULT_RULES[kind].default_minutes)
        self.slot_model.clear()
        self.slots_label.setText(
            _("Choose the type (and the client), then find the next free times.")
        )
        self._modality_changed()
        self._forget_plan()

    def _modality_changed(self) -> None:
        remote = self._modality() is not Modality.IN_PERSON
        if remote:
            _select(self.room_combo, None)
        self.room_combo.setEnabled(not remote)

    def _walk_in_changed(self, walk_in: bool) -> None:
        if walk_in:
            self.repeat_check.setChecked(False)
        self.repeat_check.setEnabled(not walk_in)

    def _length_edited(self) -> None:
        self._length_touched = True

    def _set_length(self, minutes: int) -> None:
        self.length_spin.blockSignals(True)
        self.length_spin.setValue(minutes)
        self.length_spin.blockSignals(False)

    def apply_slot(self, slot: SlotOption) -> None:
        """Fills the time, counsellor and room from a free time found or offered."""
        self.start_edit.set_moment(slot.starts_at)
        if slot.counsellor_id is not None:
            _select(self.counsellor_combo, slot.counsellor_id)
        _select(self.room_combo, slot.room_id)
        if not self._length_touched:
            self._set_length(int((slot.ends_at - slot.starts_at).total_seconds() // 60))

    def _slot_selected(self, current: QModelIndex) -> None:
        if current.isValid():
            self.apply_slot(self.slot_model.row_value(current.row()))

    def _slot_double_clicked(self, index: QModelIndex) -> None:
        self._slot_selected(index)
        self.on_book()

    def _alternative_selected(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            self.apply_slot(item.data(Qt.ItemDataRole.UserRole))

    # --- find a time ------------------------------------------------------------------------
    def slot_request(self) -> SlotRequest:
        draft = self.draft()
        return SlotRequest(
            type=draft.type,
            station_id=self._station_id,
            first_day=self.from_edit.date().toPython(),
            last_day=self.to_edit.date().toPython(),
            counsellor_id=draft.counsellor_id,
            client_id=draft.client_id,
            modality=draft.modality,
            limit=SLOT_LIMIT,
        )

    def on_find(self) -> list[SlotOption] | None:
        self.errors.clear()
        request = self.slot_request()
        slots = attempt(
            self,
            self._prompter,
            lambda: self._services.booking.find_slots(actor=self._actor, request=request),
            errors=self.errors,
        )
        if slots is None:
            return None
        self.slot_model.set_rows(slots)
        if slots:
            self.slots_label.setText(
                ngettext(
                    "The next free time; choose it to fill in the booking.",
                    "The next {n} free times; choose one to fill in the booking.",
                    len(slots),
                ).format(n=len(slots))
            )
            self.slot_table.setFocus()
        else:
            self.slots_label.setText(
                _(
                    "Nothing is free in this period. Look further ahead or choose another counsellor."
                )
            )
        return slots

    # --- booking ----------------------------------------------------------------------------
    def _call(self, action: Callable[[], R]) -> R | None:
        """Runs a service call; a refusal is shown in the dialog, other errors as usual."""

        def guarded() -> R | None:
            try:
                return action()
            except BookingRefused as refusal:
                self.show_refusal(refusal)
                return None

        self.errors.clear()
        self.problems_label.hide()
        return attempt(self, self._prompter, guarded, errors=self.errors)

    def show_refusal(self, refusal: BookingRefused) -> None:
        self.show_problems(refusal.problems)
        self.alternatives_list.clear()
        for slot in refusal.alternatives:
            item = QListWidgetItem(slot_text(slot), self.alternatives_list)
            item.setData(Qt.ItemDataRole.UserRole, slot)
        self.alternatives_label.setVisible(bool(refusal.alternatives))
        self.alternatives_list.setVisible(bool(refusal.alternatives))
        if refusal.overridable:
            self._override_shown = True
            self.override_label.show()
            self.override_edit.show()
            self.override_edit.setFocus()

    def show_problems(self, problems: list[str]) -> None:
        self.problems_label.setText("\n".join(f"• {p}" for p in problems))
        self.problems_label.setVisible(bool(problems))
        self.fit_later()

    def problems(self) -> list[str]:
        text = self.problems_label.text() if self.problems_label.isVisibleTo(self) else ""
        return [line.removeprefix("• ") for line in text.splitlines()]

    def alternatives(self) -> list[SlotOption]:
        items = map(self.alternatives_list.item, range(self.alternatives_list.count()))
        return [item.data(Qt.ItemDataRole.UserRole) for item in items]

    def on_book(self) -> None:
        draft = self.draft()
        if self.repeat_check.isChecked() and not draft.walk_in:
            self._book_series(draft)
            return
        booking = self._services.booking
        result = self._call(lambda: booking.book(actor=self._actor, draft=draft))
        if result is not None:
            self.booked = [result]
            self.accept()

    # --- series -----------------------------------------------------------------------------
    def _forget_plan(self) -> None:
        self._plan, self._plan_key = [], None
        self.series_box.hide()

    def _book_series(self, draft: BookingDraft) -> None:
        interval, count = self.interval_spin.value(), self.count_spin.value()
        key = (draft, interval, count)
        booking = self._services.booking
        changes: dict[int, datetime | None] = {}
        if key != self._plan_key:
            plan = self._call(
                lambda: booking.plan_series(
                    actor=self._actor, draft=draft, interval_weeks=interval, count=count
                )
            )
            if plan is None:
                return
            self._plan, self._plan_key = plan, key
            if not all(o.ok for o in plan):
                self._show_plan(draft)
                clashes = sum(not o.ok for o in plan)
                self.show_problems(
                    [
                        ngettext(
                            "{n} session cannot be booked as planned. Choose another time for it "
                            "or skip it, then book again.",
                            "{n} sessions cannot be booked as planned. Choose another time for "
                            "each or skip it, then book again.",
                            clashes,
                        ).format(n=clashes)
                    ]
                )
                return
        else:
            undecided = [i for i, combo in self._plan_choices.items() if combo.currentIndex() < 0]
            if undecided:
                self.show_problems([_("Decide what to do with each session that clashes.")])
                self._plan_choices[undecided[0]].setFocus()
                return
            for index, combo in self._plan_choices.items():
                choice = combo.currentData()
                changes[index] = None if choice < 0 else self._plan_starts[index][choice]
        result = self._call(
            lambda: booking.book_series(
                actor=self._actor,
                draft=draft,
                interval_weeks=interval,
                count=count,
                changes=changes,
            )
        )
        if result is not None:
            self.booked = list(result)
            self.accept()

    def _show_plan(self, draft: BookingDraft) -> None:
        self.series_table.setRowCount(len(self._plan))
        self._plan_choices, self._plan_starts = {}, {}
        for row, occurrence in enumerate(self._plan):
            when = _("Session {n}: {day} {time}").format(
                n=occurrence.index + 1,
                day=day_text(occurrence.starts_at),
                time=span_text(occurrence.starts_at, occurrence.ends_at),
            )
            self.series_table.setItem(row, 0, QTableWidgetItem(when))
            problems = "\n".join(occurrence.problems) or _("Free")
            self.series_table.setItem(row, 1, QTableWidgetItem(problems))
            if occurrence.ok:
                self.series_table.setItem(row, 2, QTableWidgetItem(_("Book as planned")))
                continue
            combo = QComboBox(objectName=f"series_choice_{occurrence.index}")
            combo.setPlaceholderText(_("Choose..."))
            # Only a new start can be given per session: offer the times that keep the
            # counsellor and the room of the series.
            starts = [
                a.starts_at
                for a in occurrence.alternatives
                if a.room_id == draft.room_id and a.counsellor_id == draft.counsellor_id
            ]
            self._plan_starts[occurrence.index] = starts
            for i, start in enumerate(starts):
                combo.addItem(
                    _("Move to {day} {time}").format(day=day_text(start), time=f"{start:%H:%M}"),
                    i,
                )
            combo.addItem(_("Skip this session"), -1)
            combo.setCurrentIndex(-1)
            self._plan_choices[occurrence.index] = combo
            self.series_table.setCellWidget(row, 2, combo)
        self.series_table.resizeRowsToContents()
        self.series_box.show()
