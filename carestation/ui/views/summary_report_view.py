"""The managers' summary report (汇总报告): choose a period, month or quarter blocks and stations,
compute the figures in a worker, look at the key figures and the chart, then print, save a PDF
or export CSV or Excel. Each output is numbered by the service (which writes the audit entry)
just before it is written. No names, client codes or notes are ever shown here."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import BinaryIO, Literal, Protocol

from PySide6.QtCore import QDate, QStandardPaths, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from carestation.domain.errors import ValidationError
from carestation.domain.roles import Permission
from carestation.domain.summary_values import Grouping, SummaryReportData
from carestation.domain.values import Actor
from carestation.i18n import N_, _, current_language, ngettext
from carestation.reports import write_atomically
from carestation.ui.personal_report_dialog import REPORT_LANGUAGES, pdf_bytes
from carestation.ui.prompts import Prompter
from carestation.ui.report_printing import (
    BackgroundJob,
    BusyIndicator,
    PrintFailed,
    ShowDialog,
    failure_text,
    pdf_preview_dialog,
    report_doc_name,
    run_modal,
)
from carestation.ui.style import set_tone
from carestation.ui.summary_report_widgets import (
    FigureRow,
    FiguresTable,
    StationPicker,
    StatusChart,
    ThresholdControl,
    block_rows,
    figure_columns,
    station_rows,
)
from carestation.ui.table_model import RecordTableModel
from carestation.ui.views.base import View, attempt

Output = Literal["print", "pdf", "csv", "xlsx"]
NAMED_STATIONS = 3  # more chosen stations than this are counted, not named


class SummaryReports(Protocol):
    """What the screen needs of carestation.services.summary_report.SummaryReportService."""

    def summary(
        self,
        actor: Actor,
        *,
        first_month: date,
        last_month: date,
        station_ids: Sequence[int] | None,
        grouping: Grouping,
    ) -> SummaryReportData: ...
    def issue(self, actor: Actor, data: SummaryReportData, *, output: str) -> str: ...
    def suppression_k(self, actor: Actor) -> int: ...
    def set_suppression_k(self, actor: Actor, *, k: int) -> int: ...


class StationLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...


class StationDirectory(Protocol):
    """carestation.services.admin.AdminService: the active stations to choose from."""

    def list_stations(self, *, actor: Actor) -> Sequence[StationLike]: ...


class SummaryWriter(Protocol):
    def __call__(
        self, out: BinaryIO, *, data: SummaryReportData, lang: str, report_number: str
    ) -> int: ...


# The writers load reportlab and openpyxl only when a report is written.
def write_summary_pdf(
    out: BinaryIO, *, data: SummaryReportData, lang: str, report_number: str
) -> int:
    from carestation.reports.summary import write_summary_report

    return write_summary_report(out, data=data, lang=lang, report_number=report_number)


def write_summary_csv(
    out: BinaryIO, *, data: SummaryReportData, lang: str, report_number: str
) -> int:
    from carestation.reports.summary_export import write_summary_csv as write

    return write(out, data=data, lang=lang, report_number=report_number)


def write_summary_xlsx(
    out: BinaryIO, *, data: SummaryReportData, lang: str, report_number: str
) -> int:
    from carestation.reports.summary_export import write_summary_xlsx as write

    return write(out, data=data, lang=lang, report_number=report_number)


@dataclass(frozen=True)
class Writers:
    pdf: SummaryWriter = write_summary_pdf
    csv: SummaryWriter = write_summary_csv
    xlsx: SummaryWriter = write_summary_xlsx

    def for_output(self, output: Output) -> SummaryWriter:
        return {"print": self.pdf, "pdf": self.pdf, "csv": self.csv, "xlsx": self.xlsx}[output]


# (suggested file name, output) -> the chosen path, or None when cancelled
ChooseExportPath = Callable[[str, str], str | None]
SUFFIXES: dict[str, str] = {"pdf": ".pdf", "csv": ".csv", "xlsx": ".xlsx"}


def _file_filter(output: str) -> str:
    return {
        "pdf": _("PDF files (*.pdf)"),
        "csv": _("CSV files (*.csv)"),
        "xlsx": _("Excel workbooks (*.xlsx)"),
    }[output]


def ask_export_path(parent: QWidget | None) -> ChooseExportPath:
    """The save dialog, in Documents with the suggested (neutral) name and the format's filter."""

    def choose(suggested: str, output: str) -> str | None:
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        path, _chosen = QFileDialog.getSaveFileName(
            parent,
            _("Save the summary report"),
            str(Path(folder) / suggested),
            _file_filter(output),
        )
        return path or None

    return choose


def with_suffix(path: str | Path, suffix: str) -> Path:
    target = Path(path)
    return target if target.suffix.lower() == suffix else target.with_name(target.name + suffix)


def suggested_name(data: SummaryReportData, output: str) -> str:
    """Neutral: the period only."""
    period = f"{data.first_month:%Y-%m}_{data.last_month:%Y-%m}"
    return f"CareStation summary {period}{SUFFIXES[output]}"


def render(writer: SummaryWriter, data: SummaryReportData, lang: str, number: str) -> bytes:
    """The output written into memory (run in the worker)."""
    out = io.BytesIO()
    writer(out, data=data, lang=lang, report_number=number)
    return out.getvalue()


def write_file_atomically(content: bytes, path: Path) -> Path:
    """Writes beside `path`, then moves into place: a failure leaves nothing behind and an
    existing file untouched. Raises PrintFailed with the reason."""
    try:
        write_atomically(path, content)
    except OSError as exc:
        raise PrintFailed(
            _("The file could not be saved to {path}: {reason}. Choose another folder.").format(
                path=path, reason=exc.strerror or type(exc).__name__
            )
        ) from None
    return path


# --- months and quarters ---------------------------------------------------------------------
def month_of(d: QDate) -> date:
    return date(d.year(), d.month(), 1)


def default_period(today: date) -> tuple[date, date]:
    """The last 12 whole months before this one."""
    last = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
    first = date(last.year - 1 + (last.month == 12), last.month % 12 + 1, 1)
    return first, last


def snap_to_quarters(first: date, last: date) -> tuple[date, date]:
    """The whole quarters that cover `first`..`last`."""
    start = first.replace(month=first.month - (first.month - 1) % 3)
    end = last.replace(month=last.month + (3 - last.month % 3) % 3)
    return start, end


def _qdate(d: date) -> QDate:
    return QDate(d.year, d.month, 1)


def stations_text(data: SummaryReportData, *, everyone: bool) -> str:
    """Which stations: all of them, a few by name, or how many (names are long)."""
    count = len(data.stations)
    if everyone:
        return _("all active stations ({n})").format(n=count)
    if count <= NAMED_STATIONS:
        return ", ".join(s.name for s in data.stations)
    return ngettext("{n} chosen station", "{n} chosen stations", count).format(n=count)


def k_text(k: int) -> str:
    return _(
        "Numbers of people from 1 to {below} are shown as \u201c<{k}\u201d; \u201c·\u201d marks "
        "a number hidden so that it cannot be worked out from the others. Appointments and hours "
        "describe the service and are shown in full. No names, client codes or notes appear."
    ).format(k=k, below=k - 1)


class SummaryReportView(View):
    TITLE = N_("Summary report")

    def __init__(
        self,
        reports: SummaryReports,
        actor: Actor,
        prompter: Prompter,
        parent: QWidget | None = None,
        *,
        stations: StationDirectory | None = None,
        today: Callable[[], date] = date.today,
        writers: Writers | None = None,
        choose_path: ChooseExportPath | None = None,
        show_dialog: ShowDialog = run_modal,
    ) -> None:
        super().__init__(parent, objectName="summary_report_view")
        self._reports, self._actor, self._prompter = reports, actor, prompter
        self._stations, self._today = stations, today
        self._writers = writers or Writers()
        self._choose = choose_path or ask_export_path(self)
        self._show_dialog = show_dialog
        self.data: SummaryReportData | None = None
        self.saved_path: Path | None = None
        self._all_chosen = True
        self._generation = 0  # bumped by clear(): a result computed before it is dropped
        self.job = BackgroundJob(self)
        self.job.busy_changed.connect(self._set_busy)
        self.job.failed.connect(self._job_failed)
        self.busy = BusyIndicator(self)

        controls = self._build_controls()
        results = self._build_results()
        splitter = QSplitter(Qt.Orientation.Horizontal, objectName="summary_report_splitter")
        splitter.addWidget(controls)
        splitter.addWidget(results)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([240, 900])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        self._show_result(None)

    # --- building ------------------------------------------------------------------------------
    def _build_controls(self) -> QWidget:
        first, last = default_period(self._today())
        self.first_edit = self._month_edit(first, "first_month", _("First month"))
        self.last_edit = self._month_edit(last, "last_month", _("Last month"))
        self.grouping_combo = QComboBox(objectName="grouping")
        self.grouping_combo.addItem(_("By month"), "month")
        self.grouping_combo.addItem(_("By quarter"), "quarter")
        self.grouping_combo.currentIndexChanged.connect(lambda _i: self._grouping_changed())
        self.language_combo = QComboBox(objectName="report_language")
        for code, name in REPORT_LANGUAGES:
            self.language_combo.addItem(name, code)
        self.language_combo.setCurrentIndex(
            max(self.language_combo.findData(current_language()), 0)
        )
        form = QFormLayout()
        form.addRow(_("&From"), self.first_edit)
        form.addRow(_("&To"), self.last_edit)
        form.addRow(_("&Blocks"), self.grouping_combo)
        form.addRow(_("Report &language"), self.language_combo)
        self.picker = StationPicker()
        stations_box = QGroupBox(_("Stations"))
        box_layout = QVBoxLayout(stations_box)
        box_layout.addWidget(self.picker)
        self.show_button = QPushButton(_("&Show"), objectName="show_summary")
        self.show_button.setDefault(True)
        self.show_button.clicked.connect(self.compute)
        panel = QWidget(objectName="summary_report_controls")
        panel.setMinimumWidth(220)
        column = QVBoxLayout(panel)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(form)
        column.addWidget(stations_box, 1)
        column.addWidget(self.show_button)
        self.threshold: ThresholdControl | None = None
        if self._actor.can(Permission.MANAGE_STATIONS):
            self.threshold = ThresholdControl()
            self.threshold.save_requested.connect(self.save_threshold)
            column.addWidget(self.threshold)
        return panel

    def _month_edit(self, month: date, name: str, accessible: str) -> QDateEdit:
        edit = QDateEdit(_qdate(month), objectName=name)
        edit.setDisplayFormat("yyyy-MM")
        edit.setCalendarPopup(True)
        edit.setAccessibleName(accessible)
        return edit

    def _build_results(self) -> QWidget:
        self.period_label = QLabel(objectName="summary_period", wordWrap=True)
        self.period_label.setTextFormat(Qt.TextFormat.PlainText)
        font = self.period_label.font()
        font.setBold(True)
        self.period_label.setFont(font)
        self.k_label = QLabel(objectName="summary_k", wordWrap=True)
        self.k_label.setTextFormat(Qt.TextFormat.PlainText)
        set_tone(self.k_label, "hint")
        self.chart = StatusChart()
        self.model: RecordTableModel[FigureRow] = RecordTableModel(
            figure_columns(self._block_title), self
        )
        self.blocks_table = FiguresTable("summary_blocks_table", self.model)
        self.stations_model: RecordTableModel[FigureRow] = RecordTableModel(
            figure_columns(lambda: _("Station")), self
        )
        self.stations_table = FiguresTable("summary_stations_table", self.stations_model)
        self.blocks_table.setAccessibleName(_("Figures of the chosen stations together"))
        self.stations_table.setAccessibleName(_("Figures of each station"))
        self.block_combo = QComboBox(objectName="summary_block")
        self.block_combo.currentIndexChanged.connect(self._show_block)
        self.tabs = QTabWidget(objectName="summary_tabs")
        self.tabs.addTab(self.blocks_table, _("The chosen stations together"))
        self.tabs.addTab(self._stations_tab(), _("Each station"))
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.chart)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        panel = QWidget(objectName="summary_report_results")
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.period_label)
        layout.addWidget(self.k_label)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.busy)
        layout.addLayout(self._build_buttons())
        return panel

    def _stations_tab(self) -> QWidget:
        tab = QWidget()
        row = QHBoxLayout()
        label = QLabel(_("&Period shown"))
        label.setBuddy(self.block_combo)
        row.addWidget(label)
        row.addWidget(self.block_combo)
        row.addStretch(1)
        layout = QVBoxLayout(tab)
        layout.addLayout(row)
        layout.addWidget(self.stations_table, 1)
        return tab

    def _build_buttons(self) -> QHBoxLayout:
        def button(text: str, name: str, slot: Callable[[], object]) -> QPushButton:
            b = QPushButton(text, objectName=name, autoDefault=False)
            b.clicked.connect(slot)
            row.addWidget(b)
            return b

        row = QHBoxLayout()
        self.preview_button = button(_("&Preview and print..."), "preview_summary", self.preview)
        self.save_pdf_button = button(
            _("Save as P&DF..."), "save_summary_pdf", lambda: self.export("pdf")
        )
        self.csv_button = button(
            _("Export &CSV..."), "export_summary_csv", lambda: self.export("csv")
        )
        self.xlsx_button = button(
            _("Export &Excel..."), "export_summary_xlsx", lambda: self.export("xlsx")
        )
        row.addStretch(1)
        return row

    def _output_buttons(self) -> list[QPushButton]:
        return [self.preview_button, self.save_pdf_button, self.csv_button, self.xlsx_button]

    # --- View ----------------------------------------------------------------------------------
    def print_button(self) -> QAbstractButton:
        return self.preview_button

    def refresh(self) -> None:
        """The stations to choose from and the threshold (cheap); the report waits for Show."""
        directory = self._stations
        if directory is not None:
            stations = attempt(
                self, self._prompter, lambda: directory.list_stations(actor=self._actor)
            )
            if stations is not None:
                self.picker.set_stations([(s.id, s.name) for s in stations])
        k = attempt(self, self._prompter, lambda: self._reports.suppression_k(self._actor))
        if k is not None:
            if self.data is None:
                self.k_label.setText(k_text(k))
            if self.threshold is not None:
                self.threshold.spin.setValue(k)

    def clear(self) -> None:
        self._generation += 1
        self._show_result(None)

    # --- choosing --------------------------------------------------------------------------------
    def grouping(self) -> Grouping:
        return "quarter" if self.grouping_combo.currentData() == "quarter" else "month"

    def set_grouping(self, grouping: Grouping) -> None:
        self.grouping_combo.setCurrentIndex(self.grouping_combo.findData(grouping))

    def language(self) -> str:
        return str(self.language_combo.currentData())

    def set_period(self, first: date, last: date) -> None:
        self.first_edit.setDate(_qdate(first))
        self.last_edit.setDate(_qdate(last))

    def period(self) -> tuple[date, date]:
        return month_of(self.first_edit.date()), month_of(self.last_edit.date())

    def _grouping_changed(self) -> None:
        if self.grouping() == "quarter":
            self._snap()

    def _snap(self) -> None:
        first, last = self.period()
        if first <= last:
            self.set_period(*snap_to_quarters(first, last))

    # --- computing -------------------------------------------------------------------------------
    def compute(self) -> bool:
        """Asks the service for the figures, in the worker; False when busy."""
        if self.job.busy:
            return False
        if self.grouping() == "quarter":
            self._snap()
        first, last = self.period()
        grouping, station_ids = self.grouping(), self.picker.chosen()
        reports, actor, generation = self._reports, self._actor, self._generation
        self.busy.start(_("Computing the summary report..."))
        return self.job.start(
            lambda: reports.summary(
                actor,
                first_month=first,
                last_month=last,
                station_ids=station_ids,
                grouping=grouping,
            ),
            lambda data: self._computed(data, generation, everyone=station_ids is None),
        )

    def _computed(self, data: SummaryReportData, generation: int, *, everyone: bool) -> None:
        if generation == self._generation:  # not cleared (locked) meanwhile
            self._all_chosen = everyone
            self._show_result(data)

    def _show_result(self, data: SummaryReportData | None) -> None:
        self.data = data
        blocks = data.blocks if data is not None else ()
        self.model.set_rows(block_rows(blocks))
        self.chart.show_blocks(blocks)
        self.chart.setVisible(bool(blocks))  # no empty frame before the first Show
        self.block_combo.blockSignals(True)
        self.block_combo.clear()
        for block in blocks:
            self.block_combo.addItem(block.label)
        self.block_combo.blockSignals(False)
        if blocks:
            self.block_combo.setCurrentIndex(len(blocks) - 1)
        self._show_block(self.block_combo.currentIndex())
        self.period_label.setText(self._period_text(data))
        if data is not None:
            self.k_label.setText(k_text(data.k))
        self._enable_outputs()

    def _period_text(self, data: SummaryReportData | None) -> str:
        if data is None:
            return _("Choose the period, the blocks and the stations, then press Show.")
        return _("{first} to {last}, {blocks}; {stations}").format(
            first=f"{data.first_month:%Y-%m}",
            last=f"{data.last_month:%Y-%m}",
            blocks=_("by month") if data.grouping == "month" else _("by quarter"),
            stations=stations_text(data, everyone=self._all_chosen),
        )

    def _show_block(self, index: int) -> None:
        blocks = self.data.blocks if self.data is not None else ()
        rows = station_rows(blocks[index]) if 0 <= index < len(blocks) else []
        self.stations_model.set_rows(rows)

    def _block_title(self) -> str:
        by_quarter = self.data is not None and self.data.grouping == "quarter"
        return _("Quarter") if by_quarter else _("Month")

    def _set_busy(self, busy: bool) -> None:
        inputs: list[QWidget] = [
            self.show_button,
            self.first_edit,
            self.last_edit,
            self.grouping_combo,
            self.language_combo,
            self.picker,
        ]
        if self.threshold is not None:
            inputs.append(self.threshold)
        for widget in inputs:
            widget.setEnabled(not busy)
        if busy:
            for b in self._output_buttons():
                b.setEnabled(False)
            self.setCursor(Qt.CursorShape.BusyCursor)
        else:
            self.unsetCursor()
            self.busy.stop()
            self._enable_outputs()

    def _enable_outputs(self) -> None:
        ready = self.data is not None and not self.job.busy
        for b in self._output_buttons():
            b.setEnabled(ready)

    def _job_failed(self, exc: BaseException) -> None:
        if isinstance(exc, ValidationError):
            self._prompter.error(self, _("Please check"), "\n".join(exc.errors.values()))
        else:
            self._prompter.error(self, _("The summary report failed"), failure_text(exc))

    # --- outputs ---------------------------------------------------------------------------------
    def _issue(self, data: SummaryReportData, output: Output) -> str | None:
        return attempt(
            self,
            self._prompter,
            lambda: self._reports.issue(self._actor, data, output=output),
            title=_("The report could not be prepared"),
        )

    def preview(self) -> bool:
        data = self.data
        if data is None or self.job.busy:
            return False
        number = self._issue(data, "print")
        if number is None:
            return False
        writer, lang, generation = self._writers.pdf, self.language(), self._generation
        self.busy.start(_("Preparing report {number}...").format(number=number))
        return self.job.start(
            lambda: pdf_bytes(lambda out: writer(out, data=data, lang=lang, report_number=number)),
            lambda pdf: self._preview_bytes(pdf, number, generation),
        )

    def _preview_bytes(self, pdf: bytes, number: str, generation: int) -> None:
        if generation != self._generation:
            return
        try:
            dialog = pdf_preview_dialog(self, pdf, report_doc_name(number), self._prompter)
        except PrintFailed as exc:
            self._prompter.error(self, _("Printing failed"), str(exc))
            return
        self._show_dialog(dialog)

    def export(self, output: Output) -> bool:
        """Saves the figures as a PDF, CSV or Excel file where the user chooses."""
        data = self.data
        if data is None or self.job.busy or output not in SUFFIXES:
            return False
        chosen = self._choose(suggested_name(data, output), output)
        if not chosen:
            return False
        path = with_suffix(chosen, SUFFIXES[output])
        number = self._issue(data, output)
        if number is None:
            return False
        writer, lang = self._writers.for_output(output), self.language()
        self.busy.start(_("Saving report {number}...").format(number=number))

        def work() -> Path:
            content = render(writer, data, lang, number)
            if output == "pdf" and not content.startswith(b"%PDF"):
                raise PrintFailed(_("The report could not be written."))
            return write_file_atomically(content, path)

        return self.job.start(work, lambda p: self._saved(p, number))

    def _saved(self, path: Path, number: str) -> None:
        self.saved_path = path
        self._prompter.info(
            self,
            _("Report saved"),
            _("Report {number} was saved to {path}.").format(number=number, path=path),
        )

    # --- the threshold (administrators) ------------------------------------------------------
    def save_threshold(self, k: int) -> int | None:
        if self.threshold is None:
            return None
        saved = attempt(
            self,
            self._prompter,
            lambda: self._reports.set_suppression_k(self._actor, k=k),
            title=_("The threshold was not saved"),
        )
        if saved is None:
            return None
        self.threshold.spin.setValue(saved)
        if self.data is not None and self.data.k != saved:
            self._show_result(None)  # figures under the old threshold must not be exported
        self.k_label.setText(k_text(saved))
        self._prompter.info(
            self,
            _("Threshold saved"),
            _("Reports now hide numbers of people below {k}.").format(k=saved),
        )
        return saved
