"""Pieces shared by the waitlist, lecture and schedule-settings screens, and the latter's dialogs."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, QDateTime, Qt, QTime
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QGridLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QStyle,
    QTimeEdit,
    QWidget,
)

from carestation.domain.booking import Appointment
from carestation.domain.scheduling import BookingRules, WeeklyPeriod
from carestation.domain.values import Actor, Station
from carestation.domain.vocab import AppointmentType, ExceptionKind
from carestation.i18n import _, ngettext
from carestation.services.schedule_admin import Absence, Closure, ScheduleAdminService
from carestation.ui.hours_editor import WEEKDAYS
from carestation.ui.prompts import Prompter
from carestation.ui.record_panel import FormDialog
from carestation.ui.table_model import Column, Index, RecordTableModel
from carestation.ui.views.admin_stations import WEEKDAY_ABBREVIATIONS

T = TypeVar("T")
DEFAULT_ZONE = ZoneInfo("Asia/Shanghai")
MAX_NOTE = 200


# --- text -----------------------------------------------------------------------------------
def short_day(day: date) -> str:
    """'11-24 Tue' (周二 in Chinese): enough within the next weeks."""
    return f"{day:%m-%d} {_(WEEKDAY_ABBREVIATIONS[day.weekday()])}"


def long_day(day: date) -> str:
    return f"{day:%Y-%m-%d} {_(WEEKDAY_ABBREVIATIONS[day.weekday()])}"


def short_when(moment: datetime) -> str:
    return f"{short_day(moment.date())} {moment:%H:%M}"


def span(start: time | datetime, end: time | datetime) -> str:
    return f"{start:%H:%M}–{end:%H:%M}"


def minutes_text(minutes: int) -> str:
    """'None', '45 minutes', '2 hours', '1 day': whichever unit divides evenly."""
    if minutes == 0:
        return _("None")
    if minutes % 1440 == 0:
        days = minutes // 1440
        return ngettext("{n} day", "{n} days", days).format(n=days)
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("{n} hour", "{n} hours", hours).format(n=hours)
    return ngettext("{n} minute", "{n} minutes", minutes).format(n=minutes)


# --- Qt and Python dates --------------------------------------------------------------------
def qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def pydate(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


def qtime(value: time) -> QTime:
    return QTime(value.hour, value.minute)


def pytime(value: QTime) -> time:
    return time(value.hour(), value.minute())


def qdatetime(moment: datetime) -> QDateTime:
    return QDateTime(qdate(moment.date()), qtime(moment.time()))


def aware(value: QDateTime, zone: ZoneInfo) -> datetime:
    return datetime.combine(pydate(value.date()), pytime(value.time()), tzinfo=zone)


def date_edit(day: date, object_name: str) -> QDateEdit:
    edit = QDateEdit(qdate(day), calendarPopup=True, objectName=object_name)
    edit.setDisplayFormat("yyyy-MM-dd ddd")
    return edit


def date_time_edit(moment: datetime, object_name: str) -> QDateTimeEdit:
    edit = QDateTimeEdit(qdatetime(moment), calendarPopup=True, objectName=object_name)
    edit.setDisplayFormat("yyyy-MM-dd ddd HH:mm")
    return edit


# --- combos ---------------------------------------------------------------------------------
def fill_stations(combo: QComboBox, stations: Sequence[Station], preferred: int | None) -> None:
    combo.clear()
    for station in stations:
        combo.addItem(station.name, station.id)
    index = combo.findData(preferred)
    if index >= 0:
        combo.setCurrentIndex(index)


def select_data(combo: QComboBox, value: object) -> None:
    index = combo.findData(value)
    if index >= 0:
        combo.setCurrentIndex(index)


# --- a table model that marks cells ---------------------------------------------------------
class MarkedTableModel(RecordTableModel[T]):
    """Cells for which `marked(value, column)` is true are bold with a tick icon, so they stand
    out without relying on colour."""

    def __init__(
        self,
        columns: Sequence[Column[T]],
        marked: Callable[[T, int], bool],
        parent: Any = None,
    ) -> None:
        super().__init__(columns, parent)
        self._marked = marked
        self._bold = QFont()
        self._bold.setBold(True)
        style = QApplication.style()
        self._icon = style.standardIcon(QStyle.StandardPixmap.SP_DialogApplyButton)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (
            role in (Qt.ItemDataRole.FontRole, Qt.ItemDataRole.DecorationRole)
            and index.isValid()
            and 0 <= index.row() < self.rowCount()
            and self._marked(self.row_value(index.row()), index.column())
        ):
            return self._bold if role == Qt.ItemDataRole.FontRole else self._icon
        return super().data(index, role)


# --- a counsellor's weekly hours ------------------------------------------------------------
MORNING = (time(9, 0), time(12, 0))
AFTERNOON = (time(14, 0), time(17, 0))


class WeeklyHoursEditor(QWidget):
    """Up to two periods a day (most stations close for lunch): works that day, from, to, and
    optionally a second period."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="weekly_hours_editor")
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        for column, text in enumerate(
            (_("Works that day"), _("From"), _("To"), _("Second period"), _("From"), _("To")), 1
        ):
            grid.addWidget(QLabel(text), 0, column)
        self._rows: list[tuple[QCheckBox, QTimeEdit, QTimeEdit, QCheckBox, QTimeEdit, QTimeEdit]]
        self._rows = []
        for day, name in enumerate(WEEKDAYS):
            works = QCheckBox(objectName=f"works_{day}")
            works.setAccessibleName(_("{day}: works").format(day=_(name)))
            second = QCheckBox(objectName=f"second_{day}")
            second.setAccessibleName(_("{day}: second period").format(day=_(name)))
            edits = []
            for key, text in (
                ("from", _("{day}: from")),
                ("to", _("{day}: to")),
                ("from2", _("{day}: second period from")),
                ("to2", _("{day}: second period to")),
            ):
                edit = QTimeEdit(objectName=f"{key}_{day}", displayFormat="HH:mm")
                edit.setAccessibleName(text.format(day=_(name)))
                edits.append(edit)
            start, end, start2, end2 = edits
            works.toggled.connect(self._sync)
            second.toggled.connect(self._sync)
            grid.addWidget(QLabel(_(name)), day + 1, 0)
            for column, widget in enumerate((works, start, end, second, start2, end2), 1):
                grid.addWidget(widget, day + 1, column)
            self._rows.append((works, start, end, second, start2, end2))
        # Tab runs along each day as it reads: works, from, to, second period, from, to.
        for before, after in itertools.pairwise([w for row in self._rows for w in row]):
            QWidget.setTabOrder(before, after)
        grid.setColumnStretch(7, 1)
        self.set_periods([])

    def _sync(self) -> None:
        for works, start, end, second, start2, end2 in self._rows:
            on = works.isChecked()
            for widget in (start, end, second):
                widget.setEnabled(on)
            for widget in (start2, end2):
                widget.setEnabled(on and second.isChecked())

    def set_periods(self, periods: Sequence[WeeklyPeriod]) -> None:
        by_day: dict[int, list[WeeklyPeriod]] = {}
        for p in sorted(periods, key=lambda p: (p.weekday, p.start)):
            by_day.setdefault(p.weekday, []).append(p)
        for day, (works, start, end, second, start2, end2) in enumerate(self._rows):
            found = by_day.get(day, [])
            first = (found[0].start, found[0].end) if found else MORNING
            # A third period cannot be shown: it merges into the second (the rarest case).
            other = (found[1].start, found[-1].end) if len(found) > 1 else AFTERNOON
            works.setChecked(bool(found))
            second.setChecked(len(found) > 1)
            start.setTime(qtime(first[0]))
            end.setTime(qtime(first[1]))
            start2.setTime(qtime(other[0]))
            end2.setTime(qtime(other[1]))
        self._sync()

    def periods(self) -> list[WeeklyPeriod]:
        result = []
        for day, (works, start, end, second, start2, end2) in enumerate(self._rows):
            if not works.isChecked():
                continue
            result.append(WeeklyPeriod(day, pytime(start.time()), pytime(end.time())))
            if second.isChecked():
                result.append(WeeklyPeriod(day, pytime(start2.time()), pytime(end2.time())))
        return result

    def row_widgets(self, weekday: int) -> tuple[QWidget, ...]:
        """works, from, to, second, from, to"""
        return self._rows[weekday]


def day_prefixed(errors: dict[str, str]) -> dict[str, str]:
    """'hours.2' messages name their weekday: they all show under the one editor."""
    result = {}
    for key, message in errors.items():
        head, _dot, day = key.partition(".")
        if head == "hours" and day.isdigit() and 0 <= int(day) < len(WEEKDAYS):
            message = _("{day}: {problem}").format(day=_(WEEKDAYS[int(day)]), problem=message)
        result[key] = message
    return result


# --- booking rules --------------------------------------------------------------------------
def _spin(object_name: str, low: int, high: int, step: int, suffix: str) -> QSpinBox:
    spin = QSpinBox(objectName=object_name, minimum=low, maximum=high, singleStep=step)
    spin.setSuffix(suffix)
    return spin


class RulesDialog(FormDialog):
    def __init__(
        self,
        schedule: ScheduleAdminService,
        actor: Actor,
        prompter: Prompter,
        station_id: int,
        type_: AppointmentType,
        rules: BookingRules,
        parent: QWidget | None = None,
    ) -> None:
        title = _("Booking rules: {type}").format(type=type_.title)
        super().__init__(prompter, title, "rules_dialog", parent)
        self._schedule, self._actor = schedule, actor
        self._station_id, self._type = station_id, type_
        minutes, hours = _(" minutes"), _(" hours")
        self.length_spin = self.row(
            "default_minutes", _("&Length"), _spin("length_spin", 5, 720, 5, minutes)
        )
        self.buffer_spin = self.row(
            "buffer_minutes", _("&Break after"), _spin("buffer_spin", 0, 240, 5, minutes)
        )
        self.notice_spin = self.row(
            "min_notice_minutes",
            _("Minimum &notice"),
            _spin("notice_spin", 0, 60 * 24 * 30, 15, minutes),
        )
        self.late_spin = self.row(
            "late_cancel_hours",
            _("&Late cancellation within"),
            _spin("late_cancel_spin", 0, 24 * 14, 1, hours),
        )
        self.cap_spin = self.row(
            "weekly_cap", _("&Weekly limit per client"), _spin("weekly_cap_spin", 0, 20, 1, "")
        )
        self.cap_spin.setSpecialValueText(_("No limit"))
        self.finish()
        self.length_spin.setValue(rules.default_minutes)
        self.buffer_spin.setValue(rules.buffer_minutes)
        self.notice_spin.setValue(rules.min_notice_minutes)
        self.late_spin.setValue(rules.late_cancel_hours)
        self.cap_spin.setValue(rules.weekly_cap or 0)
        self.length_spin.setFocus()

    def rules(self) -> BookingRules:
        cap = self.cap_spin.value()
        return BookingRules(
            default_minutes=self.length_spin.value(),
            buffer_minutes=self.buffer_spin.value(),
            min_notice_minutes=self.notice_spin.value(),
            late_cancel_hours=self.late_spin.value(),
            weekly_cap=cap or None,
        )

    def save(self) -> BookingRules:
        rules = self.rules()
        self._schedule.set_rules(
            actor=self._actor, station_id=self._station_id, type=self._type, rules=rules
        )
        return rules


# --- closed days ----------------------------------------------------------------------------
class ClosureDialog(FormDialog):
    def __init__(
        self,
        schedule: ScheduleAdminService,
        actor: Actor,
        prompter: Prompter,
        station_id: int,
        day: date,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(prompter, _("Close the station for a day"), "closure_dialog", parent)
        self._schedule, self._actor, self._station_id = schedule, actor, station_id
        self.day_edit = self.row("day", _("&Day"), date_edit(day, "closure_day_edit"))
        self.reason_edit = self.row(
            "reason",
            _("&Reason"),
            QLineEdit(
                objectName="closure_reason_edit",
                maxLength=MAX_NOTE,
                placeholderText=_("Shown to staff when they try to book that day"),
            ),
        )
        self.finish()
        self.day_edit.setFocus()

    def save(self) -> Closure:
        return self._schedule.add_closure(
            actor=self._actor,
            station_id=self._station_id,
            day=pydate(self.day_edit.date()),
            reason=self.reason_edit.text(),
        )


# --- leave, training and extra hours --------------------------------------------------------
@dataclass(frozen=True)
class AbsenceSaved:
    kind: ExceptionKind
    starts_at: datetime
    ends_at: datetime
    affected: list[Appointment]  # the booked appointments that fall in it


class AbsenceDialog(FormDialog):
    def __init__(
        self,
        schedule: ScheduleAdminService,
        actor: Actor,
        prompter: Prompter,
        *,
        counsellor_id: int,
        counsellor_name: str,
        stations: Sequence[tuple[int, str]],
        station_id: int | None,
        zone: ZoneInfo,
        today: date,
        parent: QWidget | None = None,
    ) -> None:
        title = _("Leave, training or extra hours: {name}").format(name=counsellor_name)
        super().__init__(prompter, title, "absence_dialog", parent)
        self._schedule, self._actor = schedule, actor
        self._counsellor_id, self._zone = counsellor_id, zone
        self.kind_combo = self.row("kind", _("&Kind"), QComboBox(objectName="absence_kind_combo"))
        for kind in ExceptionKind:
            self.kind_combo.addItem(kind.title, kind.value)
        tomorrow = datetime.combine(today + timedelta(days=1), time(9, 0))
        self.start_edit = self.row(
            "starts_at", _("&From"), date_time_edit(tomorrow, "absence_start_edit")
        )
        self.end_edit = self.row(
            "ends_at", _("&Until"), date_time_edit(tomorrow.replace(hour=17), "absence_end_edit")
        )
        self.station_combo = self.row(
            "station",
            _("&Station (extra hours only)"),
            QComboBox(objectName="absence_station_combo"),
        )
        for ident, name in stations:
            self.station_combo.addItem(name, ident)
        select_data(self.station_combo, station_id)
        self.note_edit = self.row(
            "note", _("&Note"), QLineEdit(objectName="absence_note_edit", maxLength=MAX_NOTE)
        )
        self.finish()
        self.kind_combo.currentIndexChanged.connect(self._kind_changed)
        self._kind_changed()
        self.kind_combo.setFocus()

    def kind(self) -> ExceptionKind:
        return ExceptionKind(self.kind_combo.currentData())

    def _kind_changed(self) -> None:
        # Leave and training apply at every station; extra hours are at one.
        self.station_combo.setEnabled(self.kind() is ExceptionKind.EXTRA)

    def save(self) -> AbsenceSaved:
        kind = self.kind()
        starts_at = aware(self.start_edit.dateTime(), self._zone)
        ends_at = aware(self.end_edit.dateTime(), self._zone)
        affected = self._schedule.add_absence(
            actor=self._actor,
            counsellor_id=self._counsellor_id,
            kind=kind,
            starts_at=starts_at,
            ends_at=ends_at,
            station_id=self.station_combo.currentData() if kind is ExceptionKind.EXTRA else None,
            note=self.note_edit.text(),
        )
        return AbsenceSaved(kind, starts_at, ends_at, affected)


def long_when(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{long_day(local.date())} {local:%H:%M}"


def absence_columns(
    station_names: Callable[[int | None], str], zone: Callable[[], ZoneInfo]
) -> list[Column[Absence]]:
    return [
        Column(
            lambda: _("From"),
            lambda a: long_when(a.starts_at, zone()),
            sort_key=lambda a: a.starts_at,
        ),
        Column(
            lambda: _("Until"),
            lambda a: long_when(a.ends_at, zone()),
            sort_key=lambda a: a.ends_at,
        ),
        Column(lambda: _("Kind"), lambda a: a.kind.title),
        Column(lambda: _("Station"), lambda a: station_names(a.station_id)),
        Column(lambda: _("Note"), lambda a: a.note),
    ]
