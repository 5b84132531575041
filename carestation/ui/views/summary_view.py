"""Managers' overview: appointments per station and month, by status and type. No names."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSet,
    QChart,
    QChartView,
    QStackedBarSeries,
    QValueAxis,
)
from PySide6.QtCore import QDate, QSortFilterProxyModel, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from carestation.domain.values import Actor, MonthlyStationCounts
from carestation.domain.vocab import AppointmentStatus, AppointmentType
from carestation.i18n import N_, _
from carestation.services.summary import SummaryService
from carestation.ui.prompts import Prompter
from carestation.ui.table_model import SORT_ROLE, Column, RecordTableModel
from carestation.ui.views.base import View, attempt

_STATUS_COLOURS = {
    AppointmentStatus.COMPLETED: "#2e7d32",
    AppointmentStatus.CHECKED_IN: "#66bb6a",
    AppointmentStatus.BOOKED: "#1565c0",
    AppointmentStatus.NO_SHOW: "#ef6c00",
    AppointmentStatus.CANCELLED: "#9e9e9e",
}


def _columns() -> list[Column[MonthlyStationCounts]]:
    cols: list[Column[MonthlyStationCounts]] = [
        Column(lambda: _("Station"), lambda r: r.station_name),
        Column(lambda: _("Month"), lambda r: f"{r.month:%Y-%m}", sort_key=lambda r: r.month),
        Column(
            lambda: _("Appointments"),
            lambda r: str(r.total),
            sort_key=lambda r: r.total,
            align_right=True,
        ),
    ]
    for status in AppointmentStatus:
        cols.append(
            Column(
                lambda s=status: s.title,
                lambda r, s=status: str(r.by_status.get(s, 0)),
                sort_key=lambda r, s=status: r.by_status.get(s, 0),
                align_right=True,
            )
        )
    for type_ in AppointmentType:
        cols.append(
            Column(
                lambda t=type_: t.title,
                lambda r, t=type_: str(r.by_type.get(t, 0)),
                sort_key=lambda r, t=type_: r.by_type.get(t, 0),
                align_right=True,
            )
        )
    return cols


def _month_start(d: QDate) -> date:
    return date(d.year(), d.month(), 1)


class SummaryView(View):
    TITLE = N_("Overview across stations")

    def __init__(
        self,
        summary: SummaryService,
        actor: Actor,
        prompter: Prompter,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._summary = summary
        self._actor = actor
        self._prompter = prompter
        today = QDate.currentDate()
        self.from_edit = QDateEdit(QDate(today.year(), today.month(), 1).addMonths(-11))
        self.to_edit = QDateEdit(QDate(today.year(), today.month(), 1))
        for edit, name in ((self.from_edit, _("From month")), (self.to_edit, _("To month"))):
            edit.setDisplayFormat("yyyy-MM")
            edit.setCalendarPopup(True)
            edit.setAccessibleName(name)
        self.from_edit.setObjectName("from_month")
        self.to_edit.setObjectName("to_month")
        show = QPushButton(_("Show"))
        show.clicked.connect(self.refresh)
        bar = QHBoxLayout()
        bar.addWidget(QLabel(_("From month")))
        bar.addWidget(self.from_edit)
        bar.addWidget(QLabel(_("to month")))
        bar.addWidget(self.to_edit)
        bar.addWidget(show)
        bar.addStretch(1)

        note = QLabel(
            _(
                "Counts of appointments (the service, not people). No names, client codes or notes "
                "are shown here."
            )
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: #555;")

        self.model: RecordTableModel[MonthlyStationCounts] = RecordTableModel(_columns(), self)
        proxy = QSortFilterProxyModel(self)
        proxy.setSourceModel(self.model)
        proxy.setSortRole(SORT_ROLE)
        self.table = QTableView()
        self.table.setObjectName("summary_table")
        self.table.setModel(proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

        self.chart = QChart()
        self.chart.setObjectName("summary_chart")
        self.chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        self.chart_view = QChartView(self.chart)
        self.chart_view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.chart_view.setMinimumHeight(260)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.chart_view)
        splitter.addWidget(self.table)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(note)
        layout.addWidget(splitter, 1)

    def refresh(self) -> None:
        rows = attempt(
            self,
            self._prompter,
            lambda: self._summary.monthly_counts(
                actor=self._actor,
                first_month=_month_start(self.from_edit.date()),
                last_month=_month_start(self.to_edit.date()),
            ),
        )
        self.model.set_rows(rows or [])
        self._draw_chart(rows or [])

    def _draw_chart(self, rows: list[MonthlyStationCounts]) -> None:
        self.chart.removeAllSeries()
        for axis in self.chart.axes():
            self.chart.removeAxis(axis)
        months = sorted({r.month for r in rows})
        self.chart.setTitle(_("Appointments per month (total of the stations shown)"))
        if not months:
            return
        totals: dict[AppointmentStatus, dict[date, int]] = defaultdict(lambda: defaultdict(int))
        for r in rows:
            for status, n in r.by_status.items():
                totals[status][r.month] += n
        series = QStackedBarSeries()
        for status, colour in _STATUS_COLOURS.items():
            bar = QBarSet(status.title)
            bar.setColor(colour)
            bar.append([float(totals[status][m]) for m in months])
            series.append(bar)
        self.chart.addSeries(series)
        x = QBarCategoryAxis()
        x.append([f"{m:%Y-%m}" for m in months])
        y = QValueAxis()
        y.setLabelFormat("%d")
        peak = max(sum(totals[s][m] for s in totals) for m in months)
        y.setRange(0, max(peak, 1))
        self.chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
        self.chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(x)
        series.attachAxis(y)
        y.applyNiceNumbers()

    def clear(self) -> None:
        self.model.clear()
        self.chart.removeAllSeries()
