"""The counsellors' hours tab of the schedule settings: weekly hours, leave, training, extras."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from carestation.domain.booking import Appointment
from carestation.domain.errors import ValidationError
from carestation.domain.values import Actor, OpeningHours
from carestation.i18n import _, ngettext
from carestation.services.container import Services
from carestation.services.schedule_admin import Absence
from carestation.ui.forms import FieldErrors
from carestation.ui.prompts import Prompter
from carestation.ui.record_panel import RecordPanel, open_dialog
from carestation.ui.style import set_tone
from carestation.ui.table_model import Column, RecordTableModel
from carestation.ui.views.admin_stations import hours_summary
from carestation.ui.views.base import attempt
from carestation.ui.views.schedule_dialogs import (
    DEFAULT_ZONE,
    AbsenceDialog,
    AbsenceSaved,
    WeeklyHoursEditor,
    absence_columns,
    day_prefixed,
    long_when,
)

ABSENCE_DAYS_AHEAD = 183


class StationContext(Protocol):
    """The station chosen in the screen around the tab."""

    def station_id(self) -> int | None: ...
    def station_name(self, station_id: int | None) -> str: ...
    def zone(self) -> ZoneInfo: ...


class CounsellorHoursTab(QWidget):
    """One counsellor at a time: weekly hours at the chosen station, and leave, training days
    and extra hours, with the appointments a new absence falls on."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        prompter: Prompter,
        station: StationContext,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, objectName="counsellor_hours_tab")
        self._services, self._actor, self._prompter = services, actor, prompter
        self._schedule = services.schedule_admin
        self._context = station
        self.counsellor_combo = QComboBox(objectName="hours_counsellor_combo")
        counsellor_label = QLabel(_("C&ounsellor"))
        counsellor_label.setBuddy(self.counsellor_combo)
        self.no_counsellor_label = QLabel(objectName="no_counsellor_label", wordWrap=True)
        row = QHBoxLayout()
        row.addWidget(counsellor_label)
        row.addWidget(self.counsellor_combo)
        row.addWidget(self.no_counsellor_label, 1)

        self.hours_box = QGroupBox(_("Weekly hours"))
        self.hours_editor = WeeklyHoursEditor()
        self.hours_error = QLabel(objectName="error_hours", wordWrap=True)
        set_tone(self.hours_error, "error")
        self.hours_error.hide()
        self.hours_errors = FieldErrors()
        self.hours_errors.register("hours", self.hours_error, self.hours_editor)
        self.elsewhere_label = QLabel(objectName="hours_elsewhere_label", wordWrap=True)
        self.hours_saved_label = QLabel(objectName="hours_saved_label", wordWrap=True)
        self.save_hours_button = QPushButton(
            _("Sa&ve hours"), objectName="save_hours", autoDefault=False
        )
        self.save_hours_button.clicked.connect(self.save_hours)
        self.revert_hours_button = QPushButton(
            _("&Undo changes"), objectName="revert_hours", autoDefault=False
        )
        self.revert_hours_button.clicked.connect(self.show_hours)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_hours_button)
        buttons.addWidget(self.revert_hours_button)
        buttons.addWidget(self.hours_saved_label, 1)
        box = QVBoxLayout(self.hours_box)
        box.addWidget(self.hours_editor)
        box.addWidget(self.hours_error)
        box.addWidget(self.elsewhere_label)
        box.addLayout(buttons)
        box.addStretch(1)

        self.absences_panel = RecordPanel(
            _("Leave, training and extra hours (next six months)"),
            RecordTableModel(absence_columns(self._station_name, self._zone)),
            "absences_table",
        )
        self.absences_panel.add_button(
            _("&Add..."),
            "add_absence",
            self.add_absence,
            enabled_when=lambda _r: self._counsellor() is not None,
        )
        self.absences_panel.add_button(_("&Remove"), "remove_absence", self.remove_absence)
        self.absences_panel.buttons.addStretch(1)
        self.affected_panel = RecordPanel(
            _("Booked appointments in that time"),
            RecordTableModel(self._affected_columns()),
            "affected_table",
        )
        self.affected_label = QLabel(objectName="affected_label", wordWrap=True)
        self.affected_panel.layout().insertWidget(0, self.affected_label)
        self.affected_panel.hide()

        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.absences_panel)
        right.addWidget(self.affected_panel)
        columns = QHBoxLayout()
        columns.addWidget(self.hours_box)
        columns.addWidget(right, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addLayout(columns, 1)
        self.counsellor_combo.currentIndexChanged.connect(lambda _i: self.show_counsellor())

    # --- state -----------------------------------------------------------------------------
    def _station(self) -> int | None:
        return self._context.station_id()

    def _station_name(self, station_id: int | None) -> str:
        return self._context.station_name(station_id)

    def _zone(self) -> ZoneInfo:
        return self._context.zone()

    def _today(self) -> date:
        return self._schedule.clock.now().astimezone(self._zone()).date()

    def _counsellor(self) -> int | None:
        return self.counsellor_combo.currentData()

    def _affected_columns(self) -> list[Column[Appointment]]:
        # Admins do not see who is booked: time, type and station are enough to find them.
        return [
            Column(
                lambda: _("When"),
                lambda a: (
                    f"{long_when(a.starts_at, a.starts_at.tzinfo or DEFAULT_ZONE)}"
                    f"–{a.ends_at:%H:%M}"
                ),
                sort_key=lambda a: a.starts_at,
            ),
            Column(lambda: _("Type"), lambda a: a.type.title),
            Column(lambda: _("Station"), lambda a: a.station_name),
        ]

    # --- counsellors' hours ---------------------------------------------------------------
    def reload(self) -> None:
        """Lists the station's counsellors again and shows the chosen one."""
        station_id = self._station()
        chosen = self._counsellor()
        counsellors = []
        if station_id is not None:
            counsellors = (
                attempt(
                    self,
                    self._prompter,
                    lambda: self._services.admin.list_counsellors(
                        actor=self._actor, station_id=station_id
                    ),
                )
                or []
            )
        self.counsellor_combo.blockSignals(True)
        self.counsellor_combo.clear()
        for user in sorted(counsellors, key=lambda u: u.display_name):
            self.counsellor_combo.addItem(user.display_name, user.id)
        index = self.counsellor_combo.findData(chosen)
        self.counsellor_combo.setCurrentIndex(max(index, 0) if counsellors else -1)
        self.counsellor_combo.blockSignals(False)
        self.no_counsellor_label.setText(
            ""
            if counsellors
            else _(
                "No counsellor works at this station yet: add the station to a counsellor's "
                "account under Users."
            )
        )
        self.show_counsellor()

    def show_counsellor(self) -> None:
        has = self._counsellor() is not None
        self.hours_box.setEnabled(has)
        self.affected_panel.set_rows([])
        self.affected_panel.hide()
        self.hours_saved_label.clear()
        self.show_hours()
        self.show_absences()

    def show_hours(self) -> None:
        self.hours_errors.clear()
        station_id, counsellor_id = self._station(), self._counsellor()
        self.hours_box.setTitle(
            _("Weekly hours at {station}").format(station=self._station_name(station_id))
        )
        if counsellor_id is None:
            self.hours_editor.set_periods([])
            self.elsewhere_label.clear()
            return
        found = (
            attempt(
                self,
                self._prompter,
                lambda: self._schedule.counsellor_hours(
                    actor=self._actor, counsellor_id=counsellor_id
                ),
            )
            or []
        )
        here = next((h for h in found if h.station_id == station_id), None)
        self.hours_editor.set_periods(here.periods if here else [])
        elsewhere = [
            _("{station}: {hours}").format(
                station=h.station_name,
                hours=hours_summary([OpeningHours(p.weekday, p.start, p.end) for p in h.periods]),
            )
            for h in found
            if h.station_id != station_id
        ]
        self.elsewhere_label.setText(
            _("Also works at {places}").format(places="; ".join(elsewhere)) if elsewhere else ""
        )

    def save_hours(self) -> bool:
        station_id, counsellor_id = self._station(), self._counsellor()
        if station_id is None or counsellor_id is None:
            return False

        def save() -> bool:
            try:
                self._schedule.set_counsellor_hours(
                    actor=self._actor,
                    counsellor_id=counsellor_id,
                    station_id=station_id,
                    periods=self.hours_editor.periods(),
                )
            except ValidationError as exc:
                raise ValidationError(day_prefixed(exc.errors)) from exc
            return True

        done = attempt(self, self._prompter, save, errors=self.hours_errors)
        if done:
            self.show_hours()
            self.hours_saved_label.setText(
                _("Saved the hours of {name}.").format(name=self.counsellor_combo.currentText())
            )
        return bool(done)

    # --- leave, training, extra hours -----------------------------------------------------
    def show_absences(self, *, select_id: int | None = None) -> None:
        counsellor_id = self._counsellor()
        rows: list[Absence] = []
        if counsellor_id is not None:
            today = self._today()
            rows = (
                attempt(
                    self,
                    self._prompter,
                    lambda: self._schedule.absences(
                        actor=self._actor,
                        counsellor_id=counsellor_id,
                        first_day=today,
                        last_day=today + timedelta(days=ABSENCE_DAYS_AHEAD),
                    ),
                )
                or []
            )
        self.absences_panel.set_rows(rows, select_id=select_id)

    def add_absence(self) -> AbsenceDialog | None:
        counsellor_id = self._counsellor()
        if counsellor_id is None:
            return None
        hours = (
            attempt(
                self,
                self._prompter,
                lambda: self._schedule.counsellor_hours(
                    actor=self._actor, counsellor_id=counsellor_id
                ),
            )
            or []
        )
        dialog = AbsenceDialog(
            self._schedule,
            self._actor,
            self._prompter,
            counsellor_id=counsellor_id,
            counsellor_name=self.counsellor_combo.currentText(),
            stations=[(h.station_id, h.station_name) for h in hours],
            station_id=self._station(),
            zone=self._zone(),
            today=self._today(),
            parent=self,
        )
        open_dialog(dialog, lambda: self._absence_added(dialog.saved))
        return dialog

    def _absence_added(self, saved: AbsenceSaved) -> None:
        self.show_absences()
        affected = saved.affected
        self.affected_panel.set_rows(affected)
        self.affected_panel.setVisible(bool(affected))
        self.affected_label.setText(
            ngettext(
                "{n} booked appointment falls in this time. It stays booked: ask the station's "
                "staff to move or cancel it.",
                "{n} booked appointments fall in this time. They stay booked: ask the "
                "station's staff to move or cancel them.",
                len(affected),
            ).format(n=len(affected))
        )

    def remove_absence(self) -> None:
        absence: Absence | None = self.absences_panel.selected()
        if absence is None:
            return
        question = _("Remove this entry ({kind}, {when})?").format(
            kind=absence.kind.title, when=long_when(absence.starts_at, self._zone())
        )
        if not self._prompter.confirm(self, _("Remove"), question):
            return
        attempt(
            self,
            self._prompter,
            lambda: self._schedule.remove_absence(actor=self._actor, absence_id=absence.id),
        )
        self.show_absences()

    def clear(self) -> None:
        self.absences_panel.set_rows([])
        self.affected_panel.set_rows([])
        self.affected_panel.hide()
        self.counsellor_combo.clear()
        self.hours_editor.set_periods([])
        self.hours_saved_label.clear()
