"""The anonymised summary of a screening campaign for the employer's union: counts per band with
small cells suppressed, never anyone's result; and saving it as a PDF."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from carestation.assessments import load_instrument
from carestation.domain.assessment_values import CampaignSummary
from carestation.i18n import _, current_language
from carestation.ui.campaign_dialogs import (
    ChooseSavePath,
    OpenFile,
    PdfSaver,
    SummaryWriter,
    dates_text,
)
from carestation.ui.prompts import Prompter
from carestation.ui.risk_alert_bar import instrument_title
from carestation.ui.table_model import Column, Index, RecordTableModel


def band_title(code: str, band: str) -> str:
    try:
        return load_instrument(code).band(band).label.text(current_language())
    except ValueError:
        return band


@dataclass(frozen=True)
class _Cell:
    instrument: str  # the questionnaire's title on its first row only
    band: str
    shown: str
    total: bool


def summary_rows(summary: CampaignSummary) -> list[_Cell]:
    rows: list[_Cell] = []
    for dist in summary.distributions:
        title = instrument_title(dist.instrument)
        for n, cell in enumerate(dist.cells):
            rows.append(
                _Cell(
                    title if n == 0 else "",
                    band_title(dist.instrument, cell.band),
                    cell.shown,
                    False,
                )
            )
        rows.append(_Cell("" if dist.cells else title, _("All forms"), dist.total.shown, True))
    return rows


class _SummaryModel(RecordTableModel[_Cell]):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(
            [
                Column(lambda: _("Questionnaire"), lambda c: c.instrument),
                Column(lambda: _("Band"), lambda c: c.band),
                Column(lambda: _("Forms"), lambda c: c.shown, align_right=True),
            ],
            parent,
        )
        self._bold = QFont()
        self._bold.setBold(True)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.FontRole and index.isValid() and index.row() < self.rowCount():
            row = self.row_value(index.row())
            if row.total or (index.column() == 0 and row.instrument):
                return self._bold
        return super().data(index, role)


class SummaryDialog(QDialog):
    """The anonymised summary for the employer's union: counts per band, small cells shown as
    "<k", never anyone's result. "Save as PDF..." writes the printable version."""

    def __init__(
        self,
        summary: CampaignSummary,
        prompter: Prompter,
        *,
        choose_save_path: ChooseSavePath,
        write_summary: SummaryWriter,
        open_file: OpenFile,
        parent: QWidget | None = None,
    ) -> None:
        c = summary.campaign
        super().__init__(parent, objectName="summary_dialog", windowTitle=_("Campaign summary"))
        self.setMinimumSize(640, 560)
        self.resize(720, 680)
        self.summary, self._prompter = summary, prompter
        self._choose, self._write, self._open = choose_save_path, write_summary, open_file
        self.saver = PdfSaver(self, prompter)
        self.saved_path: Path | None = None
        head = QGridLayout()
        facts = (
            (_("Campaign"), c.name),
            (_("Work unit"), c.work_unit),
            (_("Dates"), dates_text(c)),
            (_("Participants"), summary.participants.shown),
            (_("Prepared"), f"{summary.generated_at:%Y-%m-%d %H:%M}"),
        )
        for n, (title, value) in enumerate(facts):
            head.addWidget(QLabel(title), n, 0)
            label = QLabel(value, objectName=f"summary_{n}", wordWrap=True)
            label.setTextFormat(Qt.TextFormat.PlainText)
            head.addWidget(label, n, 1)
        head.setColumnStretch(1, 1)
        self.model = _SummaryModel(self)
        self.model.set_rows(summary_rows(summary))
        self.table = QTableView(objectName="summary_table")
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        # The service's notes explain the marks ("<10", "·") and how to read the bands.
        lines = list(summary.notes)
        self.notes_label = QLabel("\n".join(lines), objectName="summary_notes", wordWrap=True)
        self.notes_label.setTextFormat(Qt.TextFormat.PlainText)
        self.pdf_button = QPushButton(_("&Save as PDF..."), objectName="save_summary_pdf")
        self.pdf_button.setAutoDefault(False)
        self.pdf_button.clicked.connect(self.save_pdf)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        box.addButton(self.pdf_button, QDialogButtonBox.ButtonRole.ActionRole)
        box.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.notes_label)
        layout.addWidget(box)

    def shown_cells(self) -> list[tuple[str, str]]:
        return [(r.band, r.shown) for r in self.model.rows()]

    def save_pdf(self) -> bool:
        c = self.summary.campaign
        chosen = self._choose(f"carestation-campaign-{c.id:06d}-summary.pdf")
        if not chosen:
            return False
        lang = current_language()
        return self.saver.start(
            Path(chosen),
            lambda out: self._write(
                out, summary=self.summary, station_name=c.station_name, lang=lang
            ),
            self._saved,
        )

    def _saved(self, path: Path, pages: int) -> None:
        self.saved_path = path
        if self._prompter.confirm(
            self,
            _("PDF saved"),
            _("The summary was saved to {path}. Open it now to print it?").format(path=path),
        ):
            self._open(path)
