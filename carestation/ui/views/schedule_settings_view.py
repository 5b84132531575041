"""The administrator's schedule settings: booking rules, closed days, counsellors' hours and leave."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from carestation.domain.scheduling import DEFAULT_RULES, BookingRules
from carestation.domain.values import Actor, Station
from carestation.domain.vocab import AppointmentType
from carestation.i18n import N_, _
from carestation.services.container import Services
from carestation.services.schedule_admin import Closure, Holiday
from carestation.ui.keyboard import enter_opens
from carestation.ui.prompts import Prompter
from carestation.ui.record_panel import RecordPanel, open_dialog
from carestation.ui.table_model import Column, RecordTableModel
from carestation.ui.views.base import View, attempt
from carestation.ui.views.counsellor_hours_tab import CounsellorHoursTab
from carestation.ui.views.schedule_dialogs import (
    DEFAULT_ZONE,
    ClosureDialog,
    RulesDialog,
    fill_stations,
    long_day,
    minutes_text,
)


@dataclass(frozen=True)
class RuleRow:
    id: int
    type: AppointmentType
    rules: BookingRules

    @property
    def own(self) -> bool:
        return self.rules != DEFAULT_RULES[self.type]


@dataclass(frozen=True)
class HolidayRow:
    id: int
    holiday: Holiday


@dataclass(frozen=True)
class ClosureRow:
    id: int
    closure: Closure


def _hours_text(hours: int) -> str:
    return minutes_text(hours * 60)


def _rule_columns() -> list[Column[RuleRow]]:
    return [
        Column(lambda: _("Type"), lambda r: r.type.title, sort_key=lambda r: r.id),
        Column(lambda: _("Length"), lambda r: minutes_text(r.rules.default_minutes)),
        Column(lambda: _("Break after"), lambda r: minutes_text(r.rules.buffer_minutes)),
        Column(lambda: _("Minimum notice"), lambda r: minutes_text(r.rules.min_notice_minutes)),
        Column(
            lambda: _("Late cancellation within"), lambda r: _hours_text(r.rules.late_cancel_hours)
        ),
        Column(
            lambda: _("Weekly limit per client"),
            lambda r: str(r.rules.weekly_cap) if r.rules.weekly_cap else _("No limit"),
        ),
        Column(lambda: _("Set by"), lambda r: _("This station") if r.own else _("Default")),
    ]


def _holiday_columns() -> list[Column[HolidayRow]]:
    return [
        Column(lambda: _("Day"), lambda r: long_day(r.holiday.day), sort_key=lambda r: r.id),
        Column(
            lambda: _("Kind"),
            lambda r: _("Working day") if r.holiday.makeup_workday else _("Day off"),
        ),
        Column(lambda: _("Name"), lambda r: r.holiday.name),
    ]


def _closure_columns() -> list[Column[ClosureRow]]:
    return [
        Column(lambda: _("Day"), lambda r: long_day(r.closure.day), sort_key=lambda r: r.id),
        Column(lambda: _("Reason"), lambda r: r.closure.reason),
    ]


class ScheduleSettingsView(View):
    TITLE = N_("Schedule settings")

    def __init__(
        self,
        services: Services,
        actor: Actor,
        prompter: Prompter,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, objectName="schedule_settings_view")
        self._services, self._actor, self._prompter = services, actor, prompter
        self._schedule = services.schedule_admin
        self._stations: dict[int, Station] = {}
        self._loaded = False
        self.station_combo = QComboBox(objectName="schedule_station_combo")
        station_label = QLabel(_("&Station"))
        station_label.setBuddy(self.station_combo)
        top = QHBoxLayout()
        top.addWidget(station_label)
        top.addWidget(self.station_combo)
        top.addStretch(1)
        self.tabs = QTabWidget(objectName="schedule_tabs")
        self.tabs.addTab(self._build_rules_tab(), _("&Booking rules"))
        self.tabs.addTab(self._build_closures_tab(), _("Closed &days"))
        self.hours_tab = CounsellorHoursTab(services, actor, prompter, self)
        self.tabs.addTab(self.hours_tab, _("Counsellors' &hours"))
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)
        self.station_combo.currentIndexChanged.connect(lambda _i: self.reload())

    # --- building -------------------------------------------------------------------------
    def _build_rules_tab(self) -> QWidget:
        self.rules_panel = RecordPanel(
            _("Booking rules"), RecordTableModel(_rule_columns()), "rules_table"
        )
        self.rules_panel.add_button(_("&Edit..."), "edit_rules", self.edit_rules)
        self.rules_panel.add_button(
            _("&Use the defaults"),
            "reset_rules",
            self.reset_rules,
            enabled_when=lambda r: r is not None and r.own,
        )
        self.rules_panel.buttons.addStretch(1)
        self.rules_panel.table.doubleClicked.connect(lambda _index: self.edit_rules())
        enter_opens(self.rules_panel.table)
        return self.rules_panel

    def _build_closures_tab(self) -> QWidget:
        self.year_spin = QSpinBox(objectName="holiday_year_spin", minimum=2000, maximum=2099)
        self.year_spin.setValue(self._today().year)
        year_label = QLabel(_("&Year"))
        year_label.setBuddy(self.year_spin)
        row = QHBoxLayout()
        row.addWidget(year_label)
        row.addWidget(self.year_spin)
        row.addStretch(1)
        self.holidays_panel = RecordPanel(
            _("Public holidays and make-up working days"),
            RecordTableModel(_holiday_columns()),
            "holidays_table",
        )
        self.closures_panel = RecordPanel(
            _("Days the station is closed"), RecordTableModel(_closure_columns()), "closures_table"
        )
        self.closures_panel.add_button(
            _("&Add..."),
            "add_closure",
            self.add_closure,
            enabled_when=lambda _r: self._station() is not None,
        )
        self.closures_panel.add_button(_("&Remove"), "remove_closure", self.remove_closure)
        self.closures_panel.buttons.addStretch(1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.holidays_panel)
        splitter.addWidget(self.closures_panel)
        page = QWidget()
        column = QVBoxLayout(page)
        column.addLayout(row)
        column.addWidget(splitter, 1)
        self.year_spin.valueChanged.connect(lambda _y: self.show_closed_days())
        return page

    def _station(self) -> int | None:
        return self.station_combo.currentData()

    def _station_name(self, station_id: int | None) -> str:
        if station_id is None:
            return _("All stations")
        station = self._stations.get(station_id)
        return station.name if station else "—"

    def _zone(self) -> ZoneInfo:
        station = self._stations.get(self._station() or 0)
        return ZoneInfo(station.time_zone) if station else DEFAULT_ZONE

    def _today(self) -> date:
        return self._schedule.clock.now().astimezone(self._zone()).date()

    # StationContext, for the counsellors' hours tab.
    def station_id(self) -> int | None:
        return self._station()

    def station_name(self, station_id: int | None) -> str:
        return self._station_name(station_id)

    def zone(self) -> ZoneInfo:
        return self._zone()

    # --- loading --------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._loaded and not event.spontaneous():
            self.reload()

    def refresh(self) -> None:
        if self.station_combo.count() == 0:
            stations = attempt(
                self, self._prompter, lambda: self._services.admin.list_stations(actor=self._actor)
            )
            self._stations = {s.id: s for s in stations or []}
            self.station_combo.blockSignals(True)
            fill_stations(self.station_combo, list(self._stations.values()), self._actor.station_id)
            self.station_combo.blockSignals(False)
        self.reload()

    def reload(self) -> None:
        self.show_rules()
        self.show_closed_days()
        self.hours_tab.reload()
        self._loaded = True

    def clear(self) -> None:
        for panel in (self.rules_panel, self.closures_panel):
            panel.set_rows([])
        self.hours_tab.clear()
        self._loaded = False

    # --- booking rules --------------------------------------------------------------------
    def show_rules(self, *, select_id: int | None = None) -> None:
        station_id = self._station()
        rules = None
        if station_id is not None:
            rules = attempt(
                self,
                self._prompter,
                lambda: self._schedule.rules(actor=self._actor, station_id=station_id),
            )
        rows = [RuleRow(n, t, r) for n, (t, r) in enumerate((rules or {}).items())]
        if select_id is None and (chosen := self.rules_panel.selected()) is not None:
            select_id = chosen.id
        self.rules_panel.set_rows(rows, select_id=select_id)

    def edit_rules(self) -> RulesDialog | None:
        row: RuleRow | None = self.rules_panel.selected()
        station_id = self._station()
        if row is None or station_id is None:
            return None
        dialog = RulesDialog(
            self._schedule, self._actor, self._prompter, station_id, row.type, row.rules, self
        )
        open_dialog(dialog, lambda: self.show_rules(select_id=row.id))
        return dialog

    def reset_rules(self) -> None:
        row: RuleRow | None = self.rules_panel.selected()
        station_id = self._station()
        if row is None or station_id is None:
            return
        question = _("Use the default rules for {type} at this station again?").format(
            type=row.type.title
        )
        if not self._prompter.confirm(self, _("Use the defaults"), question):
            return
        attempt(
            self,
            self._prompter,
            lambda: self._schedule.reset_rules(
                actor=self._actor, station_id=station_id, type=row.type
            ),
        )
        self.show_rules(select_id=row.id)

    # --- closed days ----------------------------------------------------------------------
    def show_closed_days(self, *, select_day: date | None = None) -> None:
        year = self.year_spin.value()
        holidays = self._schedule.holidays(year=year)
        self.holidays_panel.set_rows([HolidayRow(h.day.toordinal(), h) for h in holidays])
        station_id = self._station()
        closures: list[Closure] = []
        if station_id is not None:
            closures = (
                attempt(
                    self,
                    self._prompter,
                    lambda: self._schedule.closures(
                        actor=self._actor,
                        station_id=station_id,
                        first_day=date(year, 1, 1),
                        last_day=date(year, 12, 31),
                    ),
                )
                or []
            )
        self.closures_panel.set_rows(
            [ClosureRow(c.day.toordinal(), c) for c in closures],
            select_id=select_day.toordinal() if select_day else None,
        )

    def add_closure(self) -> ClosureDialog | None:
        station_id = self._station()
        if station_id is None:
            return None
        dialog = ClosureDialog(
            self._schedule,
            self._actor,
            self._prompter,
            station_id,
            self._today() + timedelta(days=1),
            parent=self,
        )
        open_dialog(dialog, lambda: self._closure_added(dialog.saved))
        return dialog

    def _closure_added(self, closure: Closure) -> None:
        self.year_spin.blockSignals(True)
        self.year_spin.setValue(closure.day.year)
        self.year_spin.blockSignals(False)
        self.show_closed_days(select_day=closure.day)

    def remove_closure(self) -> None:
        row: ClosureRow | None = self.closures_panel.selected()
        station_id = self._station()
        if row is None or station_id is None:
            return
        day = row.closure.day
        question = _("Open the station again on {day}?").format(day=long_day(day))
        if not self._prompter.confirm(self, _("Remove the closed day"), question):
            return
        attempt(
            self,
            self._prompter,
            lambda: self._schedule.remove_closure(
                actor=self._actor, station_id=station_id, day=day
            ),
        )
        self.show_closed_days()
