"""Appointment lists for one day: a station's day for staff, a counsellor's own day."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from PySide6.QtCore import QDate, QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from carestation.domain.values import Actor, AppointmentRow, Station
from carestation.i18n import N_, _, ngettext
from carestation.services.admin import AdminService
from carestation.services.appointments import AppointmentQueries
from carestation.ui.keyboard import (
    NEXT_PERIOD,
    PREVIOUS_PERIOD,
    TODAY,
    enter_opens,
    screen_shortcut,
)
from carestation.ui.prompts import Prompter
from carestation.ui.table_model import SORT_ROLE, Column, RecordTableModel
from carestation.ui.views.base import View, attempt


def _time_span(a: AppointmentRow) -> str:
    return f"{a.starts_at:%H:%M}–{a.ends_at:%H:%M}"


def _columns(*, with_station: bool, with_counsellor: bool) -> list[Column[AppointmentRow]]:
    station = [Column(lambda: _("Station"), lambda a: a.station_name)] if with_station else []
    counsellor = (
        [Column(lambda: _("Counsellor"), lambda a: a.counsellor_name or "—")]
        if with_counsellor
        else []
    )
    return [
        Column(lambda: _("Time"), _time_span, sort_key=lambda a: a.starts_at),
        *station,
        Column(lambda: _("Type"), lambda a: a.type.title),
        Column(
            lambda: _("Client"), lambda a: a.client_name or "—", tooltip=lambda a: a.client_code
        ),
        Column(lambda: _("Client code"), lambda a: a.client_code),
        *counsellor,
        Column(lambda: _("Room"), lambda a: a.room_name or a.modality.title),
        Column(lambda: _("Status"), lambda a: a.status.title),
    ]


class _DayListBase(View):
    # A double-click or Enter on a row: the main window opens the appointment.
    appointment_opened = Signal(int)

    def __init__(
        self,
        prompter: Prompter,
        *,
        with_station: bool,
        with_counsellor: bool,
        leading: Sequence[QWidget] = (),
        parent: QWidget | None = None,
    ) -> None:
        """`leading`: controls at the start of the toolbar (laid out here, so that the tab order
        follows the screen: Qt appends a widget added later to the end of it)."""
        super().__init__(parent)
        self._prompter = prompter
        self.model: RecordTableModel[AppointmentRow] = RecordTableModel(
            _columns(with_station=with_station, with_counsellor=with_counsellor), self
        )
        proxy = QSortFilterProxyModel(self)
        proxy.setSourceModel(self.model)
        proxy.setSortRole(SORT_ROLE)
        self.table = QTableView()
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.table.setObjectName("appointments_table")
        self.table.setAccessibleName(_("Appointments"))
        self.table.setModel(proxy)
        self.table.doubleClicked.connect(
            lambda index: self.appointment_opened.emit(
                self.model.row_value(proxy.mapToSource(index).row()).id
            )
        )
        enter_opens(self.table)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)

        self.date_edit = QDateEdit(QDate.currentDate())
        self.date_edit.setObjectName("day")
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("yyyy-MM-dd ddd")
        self.date_edit.setAccessibleName(_("Day"))
        prev_btn = QPushButton(_("◀ Previous day"))
        today_btn = QPushButton(_("Today"))
        next_btn = QPushButton(_("Next day ▶"))
        prev_btn.clicked.connect(lambda: self.date_edit.setDate(self.date_edit.date().addDays(-1)))
        next_btn.clicked.connect(lambda: self.date_edit.setDate(self.date_edit.date().addDays(1)))
        today_btn.clicked.connect(lambda: self.date_edit.setDate(QDate.currentDate()))
        screen_shortcut(self, PREVIOUS_PERIOD, prev_btn.click, prev_btn)
        screen_shortcut(self, NEXT_PERIOD, next_btn.click, next_btn)
        screen_shortcut(self, TODAY, today_btn.click, today_btn)
        self.date_edit.dateChanged.connect(lambda _d: self.refresh())

        self.toolbar = QHBoxLayout()
        for widget in leading:
            self.toolbar.addWidget(widget)
        self.toolbar.addWidget(prev_btn)
        self.toolbar.addWidget(self.date_edit)
        self.toolbar.addWidget(next_btn)
        self.toolbar.addWidget(today_btn)
        self.toolbar.addStretch(1)
        self.count_label = QLabel()
        self.count_label.setObjectName("count")
        layout = QVBoxLayout(self)
        layout.addLayout(self.toolbar)
        layout.addWidget(self.table)
        layout.addWidget(self.count_label)

    def day(self) -> date:
        d = self.date_edit.date()
        return date(d.year(), d.month(), d.day())

    def show_rows(self, rows: list[AppointmentRow]) -> None:
        self.model.set_rows(rows)
        active = sum(1 for r in rows if r.status.value != "cancelled")
        self.count_label.setText(
            ngettext("{n} appointment", "{n} appointments", len(rows)).format(n=len(rows))
            + "  ·  "
            + _("{n} not cancelled").format(n=active)
        )

    def clear(self) -> None:
        self.model.clear()
        self.count_label.clear()


class StationDayView(_DayListBase):
    """Staff: everything booked at one of their stations on a day."""

    TITLE = N_("Today at the station")

    def __init__(
        self,
        appointments: AppointmentQueries,
        admin: AdminService,
        actor: Actor,
        prompter: Prompter,
        parent: QWidget | None = None,
    ) -> None:
        station_combo = QComboBox(objectName="station", accessibleName=_("Station"))
        super().__init__(
            prompter,
            with_station=False,
            with_counsellor=True,
            leading=[QLabel(_("Station")), station_combo],
            parent=parent,
        )
        self._appointments = appointments
        self._admin = admin
        self._actor = actor
        self.station_combo = station_combo
        stations: list[Station] = [
            s for s in admin.list_stations(actor=actor) if s.id in actor.station_ids
        ]
        for s in stations:
            self.station_combo.addItem(s.name, s.id)
        if actor.station_id is not None:
            index = self.station_combo.findData(actor.station_id)
            if index >= 0:
                self.station_combo.setCurrentIndex(index)
        self.station_combo.currentIndexChanged.connect(lambda _i: self.refresh())

    def station_id(self) -> int | None:
        """The station shown (New booking books there)."""
        return self.station_combo.currentData()

    def refresh(self) -> None:
        station_id = self.station_combo.currentData()
        if station_id is None:
            self.show_rows([])
            return
        rows = attempt(
            self,
            self._prompter,
            lambda: self._appointments.station_day(
                actor=self._actor, station_id=station_id, day=self.day()
            ),
        )
        self.show_rows(rows or [])


class MyDayView(_DayListBase):
    """Counsellors: their own appointments on a day, across the stations they work at."""

    TITLE = N_("My day")

    def __init__(
        self,
        appointments: AppointmentQueries,
        actor: Actor,
        prompter: Prompter,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(prompter, with_station=True, with_counsellor=False, parent=parent)
        self._appointments = appointments
        self._actor = actor

    def refresh(self) -> None:
        rows = attempt(
            self,
            self._prompter,
            lambda: self._appointments.my_day(actor=self._actor, day=self.day()),
        )
        self.show_rows(rows or [])
