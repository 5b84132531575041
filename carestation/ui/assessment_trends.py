"""A client's questionnaires: a chart per instrument with the bands shaded, whether the change
is reliable, and a table of every result with its raw answers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from PySide6.QtCharts import QAreaSeries, QChart, QChartView, QDateTimeAxis, QLineSeries, QValueAxis
from PySide6.QtCore import QDate, QDateTime, QMargins, QPointF, Qt, QTime, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from carestation.assessments import Instrument, load_instrument
from carestation.domain.assessment_values import (
    AssessmentRecord,
    ClientAssessments,
    InstrumentTrend,
)
from carestation.domain.values import Actor
from carestation.i18n import _, current_language, ngettext
from carestation.ui.prompts import Prompter
from carestation.ui.record_panel import RecordPanel
from carestation.ui.style import Tone, set_tone
from carestation.ui.table_model import Column, RecordTableModel
from carestation.ui.views.base import attempt

Loader = Callable[[], ClientAssessments | None]

# Band shading from least to most severe; translucent so the score line stays the focus.
SEVERITY_COLOURS = ("#4caf50", "#cddc39", "#ffc107", "#ff9800", "#f44336")
BAND_ALPHA = 70
LINE_COLOUR = "#1a3d6e"
BADGE_TONES: dict[str, Tone] = {"improved": "success", "deteriorated": "error", "neutral": "hint"}
MAX_COLUMN_WIDTH = 220


class AssessmentReader(Protocol):
    """The part of AssessmentService this panel uses."""

    def client_assessments(self, actor: Actor, *, client_id: int) -> ClientAssessments: ...


def client_loader(
    service: AssessmentReader,
    actor: Actor,
    prompter: Prompter,
    *,
    client_id: int,
    parent: QWidget,
) -> Loader:
    """A loader for AssessmentsPanel that reports a refused or failed read to the user."""
    return lambda: attempt(
        parent, prompter, lambda: service.client_assessments(actor, client_id=client_id)
    )


def severity_colours(instrument: Instrument) -> list[QColor]:
    """One colour per band in band order, green for the best band and red for the worst."""
    n = len(instrument.bands)
    picks = {1: [0], 2: [0, 4], 3: [0, 2, 4], 4: [0, 2, 3, 4]}.get(n, list(range(5)))
    colours = [QColor(SEVERITY_COLOURS[min(i, 4)]) for i in picks]
    colours += [colours[-1]] * (n - len(colours))
    if instrument.higher_is_better:
        colours.reverse()
    for colour in colours:
        colour.setAlpha(BAND_ALPHA)
    return colours


def band_label(instrument: Instrument, slug: str) -> str:
    try:
        return instrument.band(slug).label.text(current_language())
    except ValueError:
        return slug


def value_text(instrument: Instrument, total: int, percent: int | None) -> str:
    if percent is not None:
        return _("{total} ({percent} %)").format(total=total, percent=percent)
    return str(total)


def axis_title(instrument: Instrument) -> str:
    if instrument.band_basis == "percent":
        return _("Wellbeing, percent score (higher is better)")
    if instrument.higher_is_better:
        return _("Total score (higher is better)")
    return _("Total score (lower is better)")


def tick_interval(span: int) -> int:
    """A round step that divides the scale exactly, so its top (27, 21 ...) gets a label too."""
    for step in (5, 10, 20, 4, 3, 2):
        if span % step == 0 and 3 <= span // step <= 10:
            return step
    return max(1, span // 5)


def _msecs(moment: datetime) -> float:
    """The wall-clock time in the station's zone, as the axis (which shows local time) needs."""
    local = QDateTime(
        QDate(moment.year, moment.month, moment.day), QTime(moment.hour, moment.minute)
    )
    return float(local.toMSecsSinceEpoch())


def build_chart(instrument: Instrument, trend: InstrumentTrend) -> QChart:
    """The scores over time on the band basis, over one translucent area per band."""
    lang = current_language()
    chart = QChart()
    chart.setTitle(instrument.title.text(lang))
    chart.setMargins(QMargins(4, 4, 4, 4))
    times = [_msecs(p.taken_at) for p in trend.points]
    pad = max((times[-1] - times[0]) * 0.05, 7 * 24 * 3600 * 1000.0)
    left, right = times[0] - pad, times[-1] + pad
    values = instrument.band_values()
    half = values.step / 2
    low, high = values[0], values[-1]

    x_axis = QDateTimeAxis()
    x_axis.setFormat("yyyy-MM-dd")
    x_axis.setTitleText(_("Date"))
    x_axis.setRange(
        QDateTime.fromMSecsSinceEpoch(int(left)), QDateTime.fromMSecsSinceEpoch(int(right))
    )
    x_axis.setTickCount(min(max(len(times), 2), 6))
    y_axis = QValueAxis()
    y_axis.setRange(low, high)
    y_axis.setTitleText(axis_title(instrument))
    y_axis.setLabelFormat("%d")
    y_axis.setTickType(QValueAxis.TickType.TicksDynamic)
    y_axis.setTickAnchor(low)
    y_axis.setTickInterval(tick_interval(high - low))
    chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
    chart.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)

    # Highest band first, so the legend reads top to bottom like the chart.
    shaded = list(zip(instrument.bands, severity_colours(instrument), strict=True))
    for band, colour in reversed(shaded):
        # Half a step beyond each band's ends, so neighbouring bands meet without a gap and a
        # score on a cut-off sits clearly inside its own band.
        bottom, top = max(low, band.min - half), min(high, band.max + half)
        upper, lower = QLineSeries(), QLineSeries()
        upper.append([QPointF(left, top), QPointF(right, top)])
        lower.append([QPointF(left, bottom), QPointF(right, bottom)])
        area = QAreaSeries(upper, lower)
        # The area does not own its edges; parented to it, they live exactly as long.
        upper.setParent(area)
        lower.setParent(area)
        area.setName(band.label.text(lang))
        area.setBrush(QBrush(colour))
        area.setPen(QPen(Qt.PenStyle.NoPen))
        area.setObjectName(f"band_{band.slug}")
        chart.addSeries(area)
        area.attachAxis(x_axis)
        area.attachAxis(y_axis)

    line = QLineSeries()
    line.setObjectName("scores")
    line.setName(_("Percent score") if instrument.band_basis == "percent" else _("Total score"))
    pen = QPen(QColor(LINE_COLOUR))
    pen.setWidth(2)
    line.setPen(pen)
    line.setPointsVisible(True)
    line.setPointLabelsVisible(True)
    line.setPointLabelsFormat("@yPoint")
    line.setPointLabelsClipping(False)
    line.append([QPointF(x, p.value) for x, p in zip(times, trend.points, strict=True)])
    chart.addSeries(line)
    line.attachAxis(x_axis)
    line.attachAxis(y_axis)

    chart.legend().setAlignment(Qt.AlignmentFlag.AlignRight)
    chart.legend().setShowToolTips(True)
    return chart


def change_text(instrument: Instrument, trend: InstrumentTrend) -> tuple[str, str]:
    """The reliable-change badge: its words and its style key ("" words: no badge)."""
    if instrument.reliable_change is None:
        return "", "neutral"
    if trend.change is None:
        return _("Change needs a second result"), "neutral"
    return {
        "improved": (_("Reliable improvement"), "improved"),
        "deteriorated": (_("Reliable deterioration"), "deteriorated"),
    }.get(trend.change, (_("No reliable change"), "neutral"))


def recovery_text(instrument: Instrument, trend: InstrumentTrend) -> tuple[str, str]:
    if trend.recovered is None:
        return "", "neutral"
    if trend.recovered:
        text = _("Recovery: started at or above caseness ({caseness}) and is now below it")
    else:
        text = _("No recovery yet: started at or above caseness ({caseness}) and is still there")
    return text.format(caseness=instrument.caseness), "improved" if trend.recovered else "neutral"


def first_latest_text(instrument: Instrument, trend: InstrumentTrend) -> str:
    first, latest = trend.points[0], trend.points[-1]
    return _("First {first} on {first_date}; latest {latest} on {latest_date}").format(
        first=first.value,
        first_date=f"{first.taken_at:%Y-%m-%d}",
        latest=latest.value,
        latest_date=f"{latest.taken_at:%Y-%m-%d}",
    )


# --------------------------------------------------------------------------- the table


def answer_tooltip(instrument: Instrument, index: int, code: int | None) -> str:
    lang = current_language()
    item = instrument.items[index]
    if code is None:
        answer = _("no answer")
    else:
        labels = {o.code: o.label.text(lang) for o in instrument.options}
        answer = f"{code} = {labels.get(code, '?')}"
    return _("Q{number}. {question}").format(number=item.id, question=item.text.text(lang)) + (
        f"\n{answer}"
    )


def record_columns(instrument: Instrument, answers_visible: bool) -> list[Column[AssessmentRecord]]:
    """Date, instrument, mode, total, band, flags; then one column per item, and the unscored
    items, for readers who may see answers."""

    def flag_text(r: AssessmentRecord) -> str:
        known = {f.slug: f.label.text(current_language()) for f in instrument.flags}
        return "; ".join(known.get(slug, slug) for slug in r.flags)

    columns: list[Column[AssessmentRecord]] = [
        Column(lambda: _("Date"), lambda r: f"{r.taken_at:%Y-%m-%d %H:%M}", lambda r: r.taken_at),
        Column(
            lambda: _("Questionnaire"), lambda r: instrument.short_title.text(current_language())
        ),
        Column(lambda: _("Mode"), lambda r: r.mode.title),
        Column(
            lambda: _("Total"),
            lambda r: (
                value_text(instrument, r.total, r.percent)
                + (" " + _("(prorated)") if r.prorated else "")
            ),
            lambda r: r.total,
            align_right=True,
        ),
        Column(lambda: _("Band"), lambda r: band_label(instrument, r.band)),
        Column(lambda: _("Flags"), flag_text),
    ]
    if not answers_visible:
        return columns

    def answer_column(i: int) -> Column[AssessmentRecord]:
        def code(r: AssessmentRecord) -> int | None:
            return r.answers[i] if r.answers is not None and i < len(r.answers) else None

        return Column(
            lambda: _("Q{number}").format(number=i + 1),
            lambda r: "—" if code(r) is None else str(code(r)),
            lambda r: -1 if code(r) is None else code(r),
            align_right=True,
            tooltip=lambda r: answer_tooltip(instrument, i, code(r)),
        )

    def extra_column(item_id: str) -> Column[AssessmentRecord]:
        def code(r: AssessmentRecord) -> str:
            value = dict(r.extra_answers or ()).get(item_id)
            return "—" if value is None else str(value)

        return Column(lambda: _("Q{number} (not scored)").format(number=item_id), code)

    columns += [answer_column(i) for i in range(len(instrument.items))]
    columns += [extra_column(extra.id) for extra in instrument.extra_items]
    return columns


class AssessmentTableModel(RecordTableModel[AssessmentRecord]):
    """The results of one instrument; its columns change with the instrument shown."""

    def show_records(
        self, records: Sequence[AssessmentRecord], columns: Sequence[Column[AssessmentRecord]]
    ) -> None:
        self.beginResetModel()
        self._columns = list(columns)
        self._rows = list(records)
        self.endResetModel()


# --------------------------------------------------------------------------- the panel


class AssessmentsPanel(QWidget):
    """A client's results: instruments on the left; for the chosen one its chart (built the first
    time it is chosen), whether the change is reliable, and the table of results."""

    questionnaire_requested = Signal()  # "Give a questionnaire..." was clicked

    def __init__(
        self,
        source: ClientAssessments | Loader | None = None,
        parent: QWidget | None = None,
        *,
        can_give: bool = True,
    ) -> None:
        """`source`: the data, or a loader called by `reload()` (not here: reads are audited,
        so a tab loads when first opened)."""
        super().__init__(parent, objectName="assessments_panel")
        self._loader: Loader | None = None if isinstance(source, ClientAssessments) else source
        self.data: ClientAssessments | None = None
        self.charts: dict[str, QChartView] = {}

        self.give_button = QPushButton(
            _("&Give a questionnaire..."), objectName="give_questionnaire", autoDefault=False
        )
        self.give_button.clicked.connect(self.questionnaire_requested)
        self.give_button.setVisible(can_give)
        self.empty_label = QLabel(_("No questionnaires yet."), objectName="no_assessments")
        top = QHBoxLayout()
        top.addWidget(self.empty_label)
        top.addStretch(1)
        top.addWidget(self.give_button)

        self.instrument_list = QListWidget(objectName="instrument_list")
        self.instrument_list.setAccessibleName(_("Questionnaires taken"))
        self.instrument_list.setMaximumWidth(180)
        self.instrument_list.currentItemChanged.connect(lambda *_a: self._show_current())
        self.change_badge = self._badge("change_badge")
        self.recovery_badge = self._badge("recovery_badge")
        self.summary_label = QLabel(objectName="trend_summary", wordWrap=True)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reference_label = QLabel(objectName="reference_note", wordWrap=True)
        self.reference_label.hide()
        badges = QHBoxLayout()
        badges.addWidget(self.change_badge)
        badges.addWidget(self.recovery_badge)
        badges.addWidget(self.summary_label, 1)
        self.chart_stack = QStackedWidget(objectName="chart_stack")
        self.chart_stack.setMinimumHeight(300)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addLayout(badges)
        right_layout.addWidget(self.reference_label)
        right_layout.addWidget(self.chart_stack, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.instrument_list)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)

        self.answers_note = QLabel(
            _("Item answers are shown to experts and emotion regulators only."),
            objectName="answers_hidden_note",
            wordWrap=True,
        )
        set_tone(self.answers_note, "warning", boxed=True)
        self.answers_note.hide()
        self.model = AssessmentTableModel([], self)
        self.results = RecordPanel(_("Results"), self.model, "assessment_table")
        self.results.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.results.table.setWordWrap(False)
        self.table, self.proxy = self.results.table, self.results.proxy
        # A stretched last column would push its answer code far from its heading.
        self.table.horizontalHeader().setStretchLastSection(False)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 3)
        layout.addWidget(self.answers_note)
        layout.addWidget(self.results, 2)
        if isinstance(source, ClientAssessments):
            self.set_data(source)
        else:
            self._show_nothing()

    @staticmethod
    def _badge(object_name: str) -> QLabel:
        badge = QLabel(objectName=object_name)
        badge.hide()
        return badge

    # --- data ---------------------------------------------------------------------------------
    def reload(self) -> None:
        """Asks the loader again (after a questionnaire was saved, say)."""
        if self._loader is not None:
            data = self._loader()
            if data is not None:
                self.set_data(data)

    def set_data(self, data: ClientAssessments) -> None:
        chosen = self.current_instrument()
        self.data = data
        self._drop_charts()
        self.instrument_list.blockSignals(True)
        self.instrument_list.clear()
        counts: dict[str, int] = {}
        for record in data.records:
            counts[record.instrument] = counts.get(record.instrument, 0) + 1
        codes = [t.instrument for t in data.trends]
        codes += [c for c in counts if c not in codes]
        lang = current_language()
        for code in codes:
            instrument = load_instrument(code)
            text = ngettext(
                "{name}: {count} result", "{name}: {count} results", counts.get(code, 0)
            )
            item = QListWidgetItem(
                text.format(name=instrument.short_title.text(lang), count=counts.get(code, 0))
            )
            item.setData(Qt.ItemDataRole.UserRole, code)
            item.setToolTip(instrument.title.text(lang))
            self.instrument_list.addItem(item)
        self.instrument_list.blockSignals(False)
        self.empty_label.setVisible(not codes)
        if not codes:
            self._show_nothing()
            return
        row = codes.index(chosen) if chosen in codes else 0
        self.instrument_list.setCurrentRow(row)  # shows it, through currentItemChanged

    def clear(self) -> None:
        """Forgets everything shown (on lock and sign-out)."""
        self.data = None
        self._drop_charts()
        self.instrument_list.clear()
        self._show_nothing()

    def _drop_charts(self) -> None:
        for view in self.charts.values():
            self.chart_stack.removeWidget(view)
            view.deleteLater()
        self.charts = {}

    def current_instrument(self) -> str | None:
        item = self.instrument_list.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def select_instrument(self, code: str) -> None:
        for row in range(self.instrument_list.count()):
            if self.instrument_list.item(row).data(Qt.ItemDataRole.UserRole) == code:
                self.instrument_list.setCurrentRow(row)
                return
        raise ValueError(f"no results for {code}")

    def trend(self, code: str) -> InstrumentTrend | None:
        if self.data is None:
            return None
        return next((t for t in self.data.trends if t.instrument == code), None)

    def chart(self, code: str) -> QChart | None:
        view = self.charts.get(code)
        return view.chart() if view is not None else None

    # --- showing ------------------------------------------------------------------------------
    def _show_nothing(self) -> None:
        self.model.show_records([], [])
        for badge in (self.change_badge, self.recovery_badge):
            badge.hide()
        self.summary_label.clear()
        self.reference_label.hide()
        self.answers_note.hide()
        self.empty_label.setVisible(True)

    def _show_current(self) -> None:
        code, data = self.current_instrument(), self.data
        if code is None or data is None:
            self._show_nothing()
            return
        instrument = load_instrument(code)
        trend = self.trend(code)
        if trend is not None and trend.points:
            if code not in self.charts:
                view = QChartView(build_chart(instrument, trend))
                view.setObjectName(f"chart_{code}")
                view.setRenderHint(QPainter.RenderHint.Antialiasing)
                view.setAccessibleName(instrument.title.text(current_language()))
                self.charts[code] = view
                self.chart_stack.addWidget(view)
            self.chart_stack.setCurrentWidget(self.charts[code])
            self.summary_label.setText(first_latest_text(instrument, trend))
            self._set_badge(self.change_badge, *change_text(instrument, trend))
            self._set_badge(self.recovery_badge, *recovery_text(instrument, trend))
        else:
            self.summary_label.clear()
            self.change_badge.hide()
            self.recovery_badge.hide()
        self.reference_label.setText(
            _("Reference ranges: the author publishes no cut-offs.") if code == "pss10" else ""
        )
        self.reference_label.setVisible(code == "pss10")
        records = [r for r in data.records if r.instrument == code]
        self.model.show_records(records, record_columns(instrument, data.answers_visible))
        self.answers_note.setVisible(not data.answers_visible)
        self.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        self._fit_columns()

    def _fit_columns(self) -> None:
        """Columns as wide as their text, within reason. Measured here because the table's own
        resizeColumnsToContents asks every cell through Python and costs ~25 ms."""
        metrics = self.table.fontMetrics()
        header = self.table.horizontalHeader()
        bold = QFont(header.font())
        bold.setBold(True)
        header_metrics = QFontMetrics(bold)
        model = self.model
        for column in range(model.columnCount()):
            title = str(model.headerData(column, Qt.Orientation.Horizontal))
            texts = {str(model.index(row, column).data()) for row in range(model.rowCount())}
            width = max(
                [header_metrics.horizontalAdvance(title) + 24]
                + [metrics.horizontalAdvance(text) + 14 for text in texts]
            )
            header.resizeSection(column, min(width, MAX_COLUMN_WIDTH))

    @staticmethod
    def _set_badge(badge: QLabel, text: str, style: str) -> None:
        badge.setText(text)  # "Improved", "Deteriorated" ...: the words carry it, not the colour
        set_tone(
            badge,
            BADGE_TONES[style],
            boxed=True,
            bold=True,
            extra="border-radius: 10px; padding: 3px 10px;",
        )
        badge.setAccessibleName(text)
        badge.setVisible(bool(text))
