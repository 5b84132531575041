"""Pieces of the summary report screen: the station picker, the tables of key figures, the chart
of appointments by status and the admin's threshold control. People are printed as the report
shows them (`BandCount.shown`); nothing here adds up or works out a count of people."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCharts import (
    QBarSet,
    QCategoryAxis,
    QChart,
    QChartView,
    QStackedBarSeries,
    QValueAxis,
)
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontMetrics, QPainter, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from carestation.domain.assessment_values import BandCount
from carestation.domain.summary_values import BlockFigures, SummaryBlock
from carestation.domain.vocab import AppointmentStatus
from carestation.i18n import N_, _
from carestation.ui.table_model import Column, RecordTableModel

# Lines break at spaces, and between any two Chinese characters or full-width marks.
_BREAKS = re.compile(r"\s+|(?<=[\u3000-\u9fff\uff00-\uffef])|(?=[\u3000-\u9fff\uff00-\uffef])")
NO_VALUE = "—"  # a rate with nothing to divide by
STATUS_COLOURS = {
    AppointmentStatus.COMPLETED: "#2e7d32",
    AppointmentStatus.CHECKED_IN: "#66bb6a",
    AppointmentStatus.BOOKED: "#1565c0",
    AppointmentStatus.NO_SHOW: "#ef6c00",
    AppointmentStatus.CANCELLED: "#9e9e9e",
}
# More blocks than this and only every few get a label on the axis, so the labels stay readable.
MAX_AXIS_LABELS = 12
MAX_K_INPUT = 100
WRAP_TITLES_AT = 48  # pixels: a column title longer than this may wrap
HEADER_PADDING = 14
MAX_FIRST_COLUMN = 220  # pixels: longer station names are elided in the middle when room is short
MIN_FIRST_COLUMN = 120


def percent(value: float | None) -> str:
    return NO_VALUE if value is None else f"{value:.1%}"


def block_axis(labels: Sequence[str]) -> QCategoryAxis:
    """The blocks along the bottom, bars at 0, 1, 2 ...: every n-th one labelled, with the room
    of n bars, so that labels are not cut short when there are many blocks."""
    axis = QCategoryAxis()
    axis.setLabelsPosition(QCategoryAxis.AxisLabelsPosition.AxisLabelsPositionOnValue)
    axis.setRange(-0.5, len(labels) - 0.5)
    axis.setStartValue(-0.5)
    step = -(-len(labels) // MAX_AXIS_LABELS)
    for index in range(0, len(labels), step):
        axis.append(labels[index], index)
    axis.setGridLineVisible(False)
    return axis


def _people(cell: BandCount) -> int:
    """Sort key of a people cell: hidden cells (count None) sort first, all alike."""
    return -1 if cell.count is None else cell.count


@dataclass(frozen=True)
class FigureRow:
    """One row of a figures table: a block of the selection, or one station in a block."""

    label: str
    figures: BlockFigures


def figure_columns(first: Callable[[], str]) -> list[Column[FigureRow]]:
    """The key figures; `first` gives the first column's title (month, quarter or station)."""
    status = AppointmentStatus.COMPLETED

    def right(title: str, text: object, key: object) -> Column[FigureRow]:
        return Column(lambda: _(title), text, sort_key=key, align_right=True)  # type: ignore[arg-type]

    def rate(r: FigureRow, which: str) -> float:
        value = getattr(r.figures.appointments, which).value
        return -1.0 if value is None else float(value)

    def hours(r: FigureRow) -> float:
        ratio = r.figures.counsellor_hours.ratio
        return -1.0 if ratio is None else ratio

    return [
        Column(first, lambda r: r.label),
        right(
            N_("Appointments"),
            lambda r: str(r.figures.appointments.total),
            lambda r: r.figures.appointments.total,
        ),
        Column(
            lambda: status.title,
            lambda r: str(r.figures.appointments.by_status[status]),
            sort_key=lambda r: r.figures.appointments.by_status[status],
            align_right=True,
        ),
        right(
            N_("No-show rate"),
            lambda r: percent(r.figures.appointments.no_show.value),
            lambda r: rate(r, "no_show"),
        ),
        right(
            N_("Late cancellation rate"),
            lambda r: percent(r.figures.appointments.late_cancellation.value),
            lambda r: rate(r, "late_cancellation"),
        ),
        right(
            N_("Counsellor hours use"),
            lambda r: percent(r.figures.counsellor_hours.ratio),
            hours,
        ),
        right(
            N_("Lectures held"),
            lambda r: str(r.figures.lectures_held),
            lambda r: r.figures.lectures_held,
        ),
        right(
            N_("Lecture attendance"),
            lambda r: r.figures.lecture_attendance.shown,
            lambda r: _people(r.figures.lecture_attendance),
        ),
        right(
            N_("First sessions (people)"),
            lambda r: r.figures.waiting.people.shown,
            lambda r: _people(r.figures.waiting.people),
        ),
        right(
            N_("Median wait (days)"),
            lambda r: r.figures.waiting.shown_median,
            lambda r: (
                -1 if r.figures.waiting.median_days is None else r.figures.waiting.median_days
            ),
        ),
        right(
            N_("Crisis flags raised"),
            lambda r: r.figures.crisis_raised.shown,
            lambda r: _people(r.figures.crisis_raised),
        ),
        right(
            N_("Crisis flags closed"),
            lambda r: r.figures.crisis_closed.shown,
            lambda r: _people(r.figures.crisis_closed),
        ),
    ]


class FiguresTable(QTableView):
    """A table of key figures whose columns fit their figures; when they do not all fit the
    width, long titles wrap (at most three lines, never inside a word) rather than pushing the
    last columns out of sight."""

    def __init__(self, name: str, model: RecordTableModel[FigureRow]) -> None:
        super().__init__(objectName=name)
        self.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.setModel(model)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        # Station names share a long prefix; their ends tell them apart (the tooltip has all).
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        rows = self.verticalHeader()
        rows.hide()
        rows.setDefaultSectionSize(rows.fontMetrics().height() + 8)
        header = self.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        model.modelReset.connect(self.fit_columns)
        self.fit_columns()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.fit_columns()  # a hidden tab had no width to fit to

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self.fit_columns()

    def _titles(self) -> list[str]:
        model = self.model()
        return [
            str(model.headerData(c, Qt.Orientation.Horizontal) or "")
            for c in range(model.columnCount())
        ]

    def fit_columns(self) -> None:
        header = self.horizontalHeader()
        metrics = header.fontMetrics()
        titles = self._titles()
        figures = [self.sizeHintForColumn(c) for c in range(len(titles))]
        natural = [
            max(f, metrics.horizontalAdvance(t) + HEADER_PADDING)
            for f, t in zip(figures, titles, strict=True)
        ]
        wrapped = [
            _wrapped(metrics, t, f, first=c == 0)
            for c, (t, f) in enumerate(zip(titles, figures, strict=True))
        ]
        widths, lines = list(natural), 1
        # Wrap the titles that save the most room first, only until everything fits.
        by_saving = sorted(range(len(titles)), key=lambda c: wrapped[c][0] - natural[c])
        for column in by_saving:
            if sum(widths) <= self.viewport().width() or wrapped[column][0] >= natural[column]:
                break
            widths[column] = wrapped[column][0]
            lines = max(lines, wrapped[column][1])
        if widths and sum(widths) > self.viewport().width():
            # Still too wide: the names give way, down to a readable minimum.
            rest = sum(widths[1:])
            widths[0] = max(MIN_FIRST_COLUMN, min(natural[0], self.viewport().width() - rest))
        for column, width in enumerate(widths):
            header.resizeSection(column, width)
        header.setFixedHeight(metrics.lineSpacing() * lines + HEADER_PADDING)


def _unbreakable(text: str) -> list[str]:
    """The pieces a title cannot be wrapped inside: words, and single Chinese characters."""
    return [piece for piece in _BREAKS.split(text) if piece]


def _wrapped(metrics: QFontMetrics, title: str, figures: int, *, first: bool) -> tuple[int, int]:
    """(column width, title lines) for a title that may wrap over a column `figures` wide."""
    title_width = metrics.horizontalAdvance(title)
    if first:
        return min(max(figures, title_width + HEADER_PADDING), MAX_FIRST_COLUMN), 1
    widest_piece = max((metrics.horizontalAdvance(p) for p in _unbreakable(title)), default=0)
    room = max(figures - HEADER_PADDING, WRAP_TITLES_AT, widest_piece, -(-title_width // 3))
    lines = min(3, -(-title_width // room))
    if " " not in title:  # Chinese: split evenly over its lines
        room = max(figures - HEADER_PADDING, widest_piece, -(-title_width // lines))
    return room + HEADER_PADDING, lines


def block_rows(blocks: Sequence[SummaryBlock]) -> list[FigureRow]:
    return [FigureRow(b.label, b.selection) for b in blocks]


def station_rows(block: SummaryBlock) -> list[FigureRow]:
    return [FigureRow(s.station_name, s.figures) for s in block.stations]


# --- the chart --------------------------------------------------------------------------------
class StatusChart(QChartView):
    """Appointments per block, stacked by status (operational counts, shown in full)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.chart_ = QChart()
        self.chart_.setObjectName("summary_report_chart")
        self.chart_.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        self.chart_.setMargins(self.chart_.margins() * 0)
        super().__init__(self.chart_, parent)
        self.setObjectName("summary_report_chart_view")
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setMinimumHeight(200)

    def clear(self) -> None:
        self.chart_.removeAllSeries()
        for axis in self.chart_.axes():
            self.chart_.removeAxis(axis)
        self.chart_.setTitle("")

    def show_blocks(self, blocks: Sequence[SummaryBlock]) -> None:
        self.clear()
        if not blocks:
            return
        self.chart_.setTitle(_("Appointments by status (the chosen stations together)"))
        series = QStackedBarSeries()
        for status, colour in STATUS_COLOURS.items():
            bar = QBarSet(status.title)
            bar.setColor(colour)
            bar.append([float(b.selection.appointments.by_status[status]) for b in blocks])
            series.append(bar)
        self.chart_.addSeries(series)
        series.setBarWidth(max(0.15, min(0.7, 0.1 * len(blocks))))
        x = block_axis([b.label for b in blocks])
        y = QValueAxis()
        y.setLabelFormat("%d")
        peak = max(b.selection.appointments.total for b in blocks)
        y.setRange(0, max(peak, 1))
        self.chart_.addAxis(x, Qt.AlignmentFlag.AlignBottom)
        self.chart_.addAxis(y, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(x)
        series.attachAxis(y)
        y.applyNiceNumbers()

    def series_values(self) -> dict[str, list[float]]:
        """What is drawn, by bar set label (for tests)."""
        out: dict[str, list[float]] = {}
        for series in self.chart_.series():
            for bar in series.barSets():  # type: ignore[attr-defined]
                out[bar.label()] = [bar.at(i) for i in range(bar.count())]
        return out


# --- the stations ----------------------------------------------------------------------------
class StationPicker(QWidget):
    """ "All stations", or a ticked few of the active stations."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="station_picker")
        self.all_check = QCheckBox(_("&All stations"), objectName="all_stations")
        self.all_check.setChecked(True)
        self.list = QListWidget(objectName="station_list")
        self.list.setAccessibleName(_("Stations"))
        self.list.setEnabled(False)
        # Station names share a long prefix; their ends tell them apart.
        self.list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.all_check.toggled.connect(lambda on: self.list.setEnabled(not on))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.all_check)
        layout.addWidget(self.list, 1)

    def set_stations(self, stations: Sequence[tuple[int, str]]) -> None:
        ticked = set(self.ticked())
        self.list.clear()
        for station_id, name in stations:
            item = QListWidgetItem(name, self.list)
            item.setData(Qt.ItemDataRole.UserRole, station_id)
            item.setToolTip(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            checked = station_id in ticked
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def set_ticked(self, station_ids: Sequence[int] | None) -> None:
        self.all_check.setChecked(station_ids is None)
        wanted = set(station_ids or ())
        for i in range(self.list.count()):
            item = self.list.item(i)
            on = item.data(Qt.ItemDataRole.UserRole) in wanted
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def ticked(self) -> list[int]:
        return [
            int(self.list.item(i).data(Qt.ItemDataRole.UserRole))
            for i in range(self.list.count())
            if self.list.item(i).checkState() == Qt.CheckState.Checked
        ]

    def chosen(self) -> list[int] | None:
        """None: every active station; otherwise the ticked ones in list order."""
        return None if self.all_check.isChecked() else self.ticked()


# --- the admin's threshold -------------------------------------------------------------------
class ThresholdControl(QGroupBox):
    """ "Hide numbers of people below [k] Save": only for administrators."""

    save_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_("All reports (administrator)"), parent, objectName="threshold_control")
        label = QLabel(_("Hide numbers of people &below"), wordWrap=True)
        # The service explains the lowest allowed value, so the box lets any small number in.
        self.spin = QSpinBox(objectName="threshold_k")
        self.spin.setRange(1, MAX_K_INPUT)
        label.setBuddy(self.spin)
        self.save_button = QPushButton(_("Save"), objectName="save_threshold")
        self.save_button.setAutoDefault(False)
        self.save_button.clicked.connect(lambda: self.save_requested.emit(self.spin.value()))
        row = QHBoxLayout()
        row.addWidget(self.spin)
        row.addWidget(self.save_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addLayout(row)
