"""The administrator's screen for the person's rights (PIPL arts. 45-47) and for retention.

A person asks for a copy of their data, or for its erasure; the administrator finds their
record by what the person gives (client code, phone number or full name), exports it as a
JSON file and a readable PDF, or erases it. The retention box shows what the stations'
retention periods would purge now, and purges it on request.

Files carry the client's code, never their name: in their names, in the PDF's title and in the
print job name (spoolers log job names; PDF readers show titles).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from html import escape
from itertools import pairwise
from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from carestation.domain.booking import ClientSummary
from carestation.domain.errors import CareStationError
from carestation.domain.rights import (
    MAX_REQUEST_REF,
    ClientExport,
    ErasureReport,
    ExportSection,
    PurgeReport,
    StationPurge,
)
from carestation.domain.values import Actor
from carestation.i18n import N_, _, ngettext
from carestation.services.container import Services
from carestation.ui.client_picker import mask_phone
from carestation.ui.printing import Block, Printable, PrintFailed, Table, save_pdf
from carestation.ui.prompts import Prompter
from carestation.ui.record_panel import FormDialog, RecordPanel, open_dialog
from carestation.ui.table_model import Column, RecordTableModel
from carestation.ui.views.base import View, attempt

# Asked for the folder the two export files go to; None when the user cancels.
ChooseFolder = Callable[[], str | None]

# A section prints as one table with a column per field when it has at most this many fields
# and no long text; otherwise each record prints as its own table of (field, value) rows.
MAX_TABLE_COLUMNS = 7
MAX_CELL_WIDTH = 48  # in Latin-character widths (a Chinese character counts two)
# About how many Latin characters of 10-point type (with cell padding) fit across A4; wider
# tables print their cells a size smaller.
DENSE_WIDTH = 88
PAGE_WIDTH = 100  # the same, without padding
CELL_PADDING = 2
RETENTION_ROWS_SHOWN = 6
DENSE_CELL = '<span style="font-size: 8.5pt;">{}</span>'


def export_file_names(client_code: str) -> tuple[str, str]:
    """The JSON and PDF file names: the client's code, never their name."""
    return f"{client_code}-export.json", f"{client_code}-export.pdf"


def export_doc_name(client_code: str) -> str:
    """The PDF's title and print job name."""
    return f"CareStation export {client_code}"


def _compact_code(text: str) -> str:
    return "".join(text.split()).replace("-", "").upper()


# --- the readable copy --------------------------------------------------------------------------
def _e(text: object) -> str:
    return escape(str(text)).replace("\n", "<br/>")


def _width(text: str) -> int:
    """How wide `text` prints, in Latin characters: CJK characters take two."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _longest_word(text: str) -> int:
    """The widest piece that cannot wrap (Chinese text wraps between any two characters)."""
    return max((_width(w) if w.isascii() else 2 for w in text.split()), default=0)


def _fits_columns(section: ExportSection) -> bool:
    if len(section.columns) > MAX_TABLE_COLUMNS:
        return False
    return all(
        _width(line) <= MAX_CELL_WIDTH
        for row in section.table
        for value in row
        for line in value.splitlines() or [""]
    )


def _column_widths(section: ExportSection, *, dense: bool) -> list[int]:
    """Percent of the page per column. Each column first gets room for its longest header word
    (bold) and value word, which cannot wrap; what is left of the page goes to the columns
    whose text would otherwise wrap, in proportion to how much more they want."""
    scale = 0.85 if dense else 1.0
    least, wanted = [], []
    for index, label in enumerate(section.columns):
        values = [row[index] for row in section.table]
        floor = max([_longest_word(label) * 1.3, *(_longest_word(v) * scale for v in values)])
        widest = max([_width(label) * 1.1, *(_width(v) * scale for v in values)])
        least.append(floor + CELL_PADDING)
        wanted.append(max(floor, min(widest, MAX_CELL_WIDTH * 0.6)) + CELL_PADDING)
    spare = PAGE_WIDTH - sum(least)
    more = sum(wanted) - sum(least)
    if sum(wanted) <= PAGE_WIDTH:
        weights = wanted
    elif spare <= 0 or more <= 0:
        weights = least
    else:
        weights = [lo + spare * (hi - lo) / more for lo, hi in zip(least, wanted, strict=True)]
    total = sum(weights)
    widths = [max(1, round(100 * w / total)) for w in weights]
    widths[-1] += 100 - sum(widths)
    return widths


def _dense(section: ExportSection) -> bool:
    """Whether the section's columns need smaller type to fit the page width."""
    wanted = sum(
        max([_width(label), *(_width(row[i]) for row in section.table)]) + 3
        for i, label in enumerate(section.columns)
    )
    return wanted > DENSE_WIDTH


def _section_blocks(section: ExportSection) -> list[Block]:
    blocks: list[Block] = [f"<h2>{_e(section.title)}</h2>"]
    if section.remark:
        blocks.append(f'<p class="note">{_e(section.remark)}</p>')
    if not section.entries:
        blocks.append("<p>" + _e(_("Nothing is held.")) + "</p>")
        return blocks
    if section.key == "identity" or (len(section.entries) == 1 and not _fits_columns(section)):
        rows = tuple((_e(label), _e(value)) for label, value in section.entries[0])
        blocks.append(Table(((_("Item"), 28), (_("What is held"), 72)), rows))
        return blocks
    if _fits_columns(section):
        dense = _dense(section)
        widths = _column_widths(section, dense=dense)
        headers = tuple(zip(section.columns, widths, strict=True))
        style = DENSE_CELL if dense else "{}"
        cells = tuple(tuple(style.format(_e(v)) for v in row) for row in section.table)
        blocks.append(Table(headers, cells))
        return blocks
    count = len(section.entries)
    for number, entry in enumerate(section.entries, 1):
        title = _("Record {n} of {count}").format(n=number, count=count)
        rows = tuple((_e(label), _e(value)) for label, value in entry)
        blocks.append(Table(((title, 28), ("", 72)), rows))
        blocks.append('<p style="font-size: 4pt;">&nbsp;</p>')
    return blocks


def export_document(
    export: ClientExport, *, station_name: str, station_contact: str = ""
) -> Printable:
    """The copy handed to the person: every section of the export as a heading and a table.

    The person's name is in the body (it is their copy) but not in the footer, which repeats on
    every page: pages left on a printer should not say whose they are.
    """
    code = export.identity.client_code
    prepared = _("Prepared on {date} by {user}").format(
        date=f"{export.generated_at:%Y-%m-%d}", user=export.generated_by
    )
    blocks: list[Block] = [
        "<h1>" + _e(_("Personal data held by CareStation")) + "</h1>",
        f'<p class="sub"><b>{_e(station_name)}</b></p>' if station_name else "",
        f"<p>{_e(station_contact)}</p>" if station_contact else "",
        "<p>" + _e(_("Client code: {code}").format(code=code)) + "<br/>" + _e(prepared) + "</p>",
        '<p class="note">'
        + _e(
            _(
                "This is a copy of all the personal information this service holds about you, "
                "given at your request under the Personal Information Protection Law (art. 45). "
                "Keep it safe: it contains sensitive information about your health."
            )
        )
        + "</p>",
    ]
    withheld = any(n.text is None for n in export.notes)
    for section in export.sections():
        blocks.extend(_section_blocks(section))
        if section.key == "notes" and withheld and not section.remark:
            blocks.append(
                '<p class="note">'
                + _e(
                    _(
                        "The contents of session notes are released by the counsellor who "
                        "wrote them, on request."
                    )
                )
                + "</p>"
            )
    blocks.append(
        "<h2>"
        + _e(_("Your rights"))
        + "</h2><p>"
        + _e(
            _(
                "You may ask the station to correct this information, withdraw a consent at any "
                "time, or ask for your information to be erased."
            )
        )
        + "</p>"
    )
    footer = "{code}  ·  {prepared}".format(
        code=_("Client code: {code}").format(code=code),
        prepared=_("Prepared {time}").format(time=f"{export.generated_at:%Y-%m-%d %H:%M}"),
    )
    return Printable(tuple(b for b in blocks if b), footer=footer)


# --- erasure ----------------------------------------------------------------------------------
def erasure_explanation() -> str:
    return _(
        "Erase only on the person's own written request (PIPL art. 47). It cannot be undone.\n\n"
        "Removed: the person's name, phone number, work unit, gender and birth year; their "
        "session notes and addenda; case closing summaries; crisis-flag reasons, what was done "
        "and follow-up notes; the records of information given to others; and the person's data "
        "key, so that these texts can no longer be read from this database. (A backup made "
        "before the erasure still holds them, readable only with the recovery code.) Their "
        "consents are "
        "withdrawn, and future appointments, lecture places and waitlist entries are cancelled.\n\n"
        "Kept, without identity: de-identified counts for statistics (appointments with type, "
        "time and status; cases with topics, outcome and dates; assessment scores). What is left "
        "gets a new random code that cannot be linked to the old one."
    )


def report_text(report: ErasureReport) -> str:
    lines = [f"{label}: {count}" for label, count in report.rows()]
    if not report.checkpointed:
        lines.append(
            _(
                "The database was busy: the removed text leaves its write-ahead log at the next "
                "checkpoint, which happens automatically."
            )
        )
    return "\n".join(lines)


class EraseDialog(FormDialog):
    """Explains what goes and what stays, asks for the request's reference and the client's code
    typed again; `saved` is then the ErasureReport."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        prompter: Prompter,
        client: ClientSummary,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(prompter, _("Erase a person's data"), "erase_dialog", parent)
        self.setMinimumWidth(640)
        self._services, self._actor, self.client = services, actor, client
        explanation = QLabel(erasure_explanation(), objectName="erase_explanation", wordWrap=True)
        who = QLabel(
            _("Client code: {code}").format(code=client.client_code), objectName="erase_client"
        )
        who.setStyleSheet("font-weight: bold;")
        # Above the form, not in it: a form row gets a wrapped label's height wrong.
        outer = self.layout()
        assert isinstance(outer, QVBoxLayout)
        outer.insertWidget(0, explanation)
        outer.insertWidget(1, who)
        # A top-level window does not grow for a wrapped label's height by itself.
        margins = outer.contentsMargins()
        text_width = self.minimumWidth() - margins.left() - margins.right()
        explanation.setMinimumHeight(explanation.heightForWidth(text_width))
        self.ref_edit = self.row(
            "request_ref",
            _("&Request reference"),
            QLineEdit(
                objectName="request_ref_edit",
                maxLength=MAX_REQUEST_REF,
                accessibleName=_("Request reference"),
                placeholderText=_("Such as the written request's date and number"),
            ),
        )
        self.code_edit = self.row(
            "confirm_code",
            _("&Type the client code to confirm"),
            QLineEdit(
                objectName="confirm_code_edit",
                accessibleName=_("Type the client code to confirm"),
            ),
        )
        self.finish()
        self.ok_button.setText(_("Erase"))
        self.ok_button.setObjectName("erase_ok")
        self.ref_edit.setFocus()

    def problems(self) -> dict[str, str]:
        problems: dict[str, str] = {}
        if not self.ref_edit.text().strip():
            problems["request_ref"] = _(
                "Enter the reference of the person's written request, such as its date and number."
            )
        if _compact_code(self.code_edit.text()) != _compact_code(self.client.client_code):
            problems["confirm_code"] = _(
                "Type the client code exactly as shown above, to confirm which record to erase."
            )
        return problems

    def save(self) -> ErasureReport:
        return self._services.rights.erase(
            self._actor, client_id=self.client.id, request_ref=self.ref_edit.text()
        )


# --- the screen ---------------------------------------------------------------------------------
def _client_columns() -> list[Column[ClientSummary]]:
    return [
        Column(lambda: _("Client code"), lambda c: c.client_code),
        Column(lambda: _("Full name"), lambda c: c.name),
        Column(lambda: _("Phone"), lambda c: mask_phone(c.phone)),
        Column(lambda: _("Work unit"), lambda c: c.work_unit),
    ]


def _retention_columns() -> list[Column[StationPurge]]:
    return [
        Column(lambda: _("Station"), lambda s: s.station_name),
        Column(
            lambda: _("Kept for"),
            lambda s: ngettext("{n} month", "{n} months", s.retention_months).format(
                n=s.retention_months
            ),
            sort_key=lambda s: s.retention_months,
        ),
        Column(lambda: _("Cases closed before"), lambda s: f"{s.cutoff:%Y-%m-%d}"),
        Column(lambda: _("Cases"), lambda s: str(s.cases), align_right=True),
        Column(lambda: _("Session notes"), lambda s: str(s.notes), align_right=True),
        Column(lambda: _("Addenda"), lambda s: str(s.addenda), align_right=True),
        Column(lambda: _("Summaries"), lambda s: str(s.case_summaries), align_right=True),
        Column(lambda: _("Crisis texts"), lambda s: str(s.crisis_texts), align_right=True),
        Column(lambda: _("Follow-up notes"), lambda s: str(s.follow_up_notes), align_right=True),
    ]


def purge_summary(report: PurgeReport, *, done: bool) -> str:
    total = report.purged
    if not done and not total:
        return _("Nothing would be purged now.")
    texts = ngettext("{n} text", "{n} texts", total).format(n=total)
    cases = report.total("cases")
    closed = ngettext("{n} closed case", "{n} closed cases", cases).format(n=cases)
    if done:
        return _("Deleted {texts}, from {cases}.").format(texts=texts, cases=closed)
    return _("Purging now would delete {texts}, from {cases}.").format(texts=texts, cases=closed)


class DataRequestsView(View):
    TITLE = N_("Personal data requests")

    def __init__(
        self,
        services: Services,
        actor: Actor,
        prompter: Prompter,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, objectName="data_requests_view")
        self._services, self._actor, self._prompter = services, actor, prompter
        # Tests replace it; the app asks with a folder dialog.
        self.choose_folder: ChooseFolder = self._ask_folder
        self.last_export: tuple[Path, Path] | None = None
        self.last_erasure: ErasureReport | None = None
        self.preview: PurgeReport | None = None

        intro = QLabel(
            _(
                "Use this screen when a person asks for a copy of their data or for its "
                "erasure. Find their record by client code, phone number or full name. Every "
                "search, export and erasure is recorded in the audit trail."
            ),
            objectName="data_requests_intro",
            wordWrap=True,
        )
        self.search_edit = QLineEdit(
            objectName="request_search",
            accessibleName=_("Client code, phone or full name"),
            placeholderText=_("Client code, phone number or full name"),
            clearButtonEnabled=True,
        )
        search_label = QLabel(_("&Client code, phone or name"))
        search_label.setBuddy(self.search_edit)
        self.find_button = QPushButton(_("&Find"), objectName="find_button", autoDefault=False)
        search_row = QHBoxLayout()
        search_row.addWidget(search_label)
        search_row.addWidget(self.search_edit, 1)
        search_row.addWidget(self.find_button)

        self.panel = RecordPanel(
            _("Records found"), RecordTableModel(_client_columns()), "request_results"
        )
        self.export_button = self.panel.add_button(_("&Export..."), "export_client", self.export)
        self.erase_button = self.panel.add_button(_("E&rase..."), "erase_client", self.erase)
        self.panel.buttons.addStretch(1)
        self.message_label = QLabel(objectName="data_requests_message", wordWrap=True)

        self.retention_box = QGroupBox(_("Retention"), objectName="retention_box")
        retention_intro = QLabel(
            _(
                "When a case has been closed longer than its station's retention period, its "
                "notes, closing summary and crisis texts are deleted; de-identified counts stay. "
                "This runs at every start of CareStation. What it would delete now:"
            ),
            wordWrap=True,
        )
        self.retention_model: RecordTableModel[StationPurge] = RecordTableModel(
            _retention_columns(), self
        )
        self.retention_table = QTableView(
            objectName="retention_table", accessibleName=_("What would be purged now")
        )
        self.retention_table.setModel(self.retention_model)
        self.retention_table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.retention_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.retention_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.retention_table.setTabKeyNavigation(False)
        self.retention_table.verticalHeader().hide()
        header = self.retention_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.retention_table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.retention_label = QLabel(objectName="retention_summary", wordWrap=True)
        self.check_button = QPushButton(
            _("Check &again"), objectName="retention_check", autoDefault=False
        )
        self.purge_button = QPushButton(
            _("&Purge now..."), objectName="purge_now", autoDefault=False
        )
        retention_buttons = QHBoxLayout()
        retention_buttons.addWidget(self.retention_label, 1)
        retention_buttons.addWidget(self.check_button)
        retention_buttons.addWidget(self.purge_button)
        box_layout = QVBoxLayout(self.retention_box)
        box_layout.addWidget(retention_intro)
        box_layout.addWidget(self.retention_table)
        box_layout.addLayout(retention_buttons)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(search_row)
        layout.addWidget(self.panel, 1)
        layout.addWidget(self.message_label)
        layout.addWidget(self.retention_box)

        order = [
            self.search_edit,
            self.find_button,
            self.panel.table,
            self.export_button,
            self.erase_button,
            self.retention_table,
            self.check_button,
            self.purge_button,
        ]
        for first, second in pairwise(order):
            QWidget.setTabOrder(first, second)

        self.find_button.clicked.connect(self.find_clients)
        self.search_edit.returnPressed.connect(self.find_clients)
        self.check_button.clicked.connect(self.refresh)
        self.purge_button.clicked.connect(self.purge)
        self.panel.update_buttons()
        self.purge_button.setEnabled(False)

    # --- View ---------------------------------------------------------------------------------
    def search_field(self) -> QWidget:
        return self.search_edit

    def refresh(self) -> None:
        """Works out the retention preview again; the search results are left as they are."""
        report = attempt(
            self, self._prompter, lambda: self._services.retention.preview(actor=self._actor)
        )
        self._show_preview(report)

    def clear(self) -> None:
        for dialog in self.findChildren(EraseDialog):
            dialog.reject()
        self.search_edit.clear()
        self.panel.set_rows([])
        self.message_label.clear()
        self.last_export = None
        self.last_erasure = None

    def _show_preview(self, report: PurgeReport | None) -> None:
        self.preview = report
        self.retention_model.set_rows(report.stations if report else [])
        self._fit_retention_table()
        if report is None:
            self.retention_label.setText(_("The retention check could not be made."))
        elif not report.stations:
            self.retention_label.setText(_("No station has a retention period set."))
        else:
            self.retention_label.setText(purge_summary(report, done=False))
        self.purge_button.setEnabled(report is not None and report.purged > 0)

    def _fit_retention_table(self) -> None:
        """Tall enough for every station up to a few, then it scrolls."""
        table = self.retention_table
        rows = min(max(self.retention_model.rowCount(), 1), RETENTION_ROWS_SHOWN)
        row_height = table.verticalHeader().defaultSectionSize()
        height = table.horizontalHeader().sizeHint().height() + rows * row_height
        table.setFixedHeight(height + 2 * table.frameWidth() + 2)

    # --- finding the person -------------------------------------------------------------------
    def find_clients(self) -> list[ClientSummary]:
        text = self.search_edit.text().strip()
        if not text:
            self.panel.set_rows([])
            self.message_label.setText(
                _("Type the client code, phone number or full name the person gave.")
            )
            return []
        found = attempt(
            self,
            self._prompter,
            lambda: self._services.rights.find_for_request(self._actor, text),
        )
        rows = found or []
        self._show_results(rows)
        if found is None:
            return []
        if not rows:
            self.message_label.setText(
                _(
                    "No record matches. Check the code or the phone number, or type the full "
                    "name exactly as it was registered."
                )
            )
        else:
            self.message_label.setText(
                ngettext(
                    "{n} record found. Check it is the person's before exporting or erasing.",
                    "{n} records found. Check which is the person's before exporting or erasing.",
                    len(rows),
                ).format(n=len(rows))
            )
        return rows

    def _show_results(self, rows: Sequence[ClientSummary]) -> None:
        self.panel.set_rows(rows, select_id=rows[0].id if len(rows) == 1 else None)

    def selected(self) -> ClientSummary | None:
        return self.panel.selected()

    # --- export ---------------------------------------------------------------------------------
    def _ask_folder(self) -> str | None:
        start = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        folder = QFileDialog.getExistingDirectory(
            self, _("Choose the folder for the exported files"), start
        )
        return folder or None

    def _station_name_and_contact(self) -> tuple[str, str]:
        stations = attempt(
            self, self._prompter, lambda: self._services.admin.list_stations(actor=self._actor)
        )
        for station in stations or []:
            if station.id == self._actor.station_id:
                contact = "  ·  ".join(p for p in (station.address, station.phone) if p)
                return station.name, contact
        return "", ""

    def export(self) -> tuple[Path, Path] | None:
        """Writes `<code>-export.json` and `<code>-export.pdf` into the chosen folder."""
        client = self.selected()
        if client is None:
            return None
        chosen = self.choose_folder()
        if not chosen:
            return None
        folder = Path(chosen)
        json_name, pdf_name = export_file_names(client.client_code)
        json_path, pdf_path = folder / json_name, folder / pdf_name
        existing = [p for p in (json_path, pdf_path) if p.exists()]
        if existing and not self._prompter.confirm(
            self,
            _("Replace the files?"),
            _("{files} already exist. Replace them?").format(
                files=", ".join(str(p) for p in existing)
            ),
        ):
            return None
        title = _("The export was not saved")
        rights = self._services.rights
        data = attempt(
            self, self._prompter, lambda: rights.export_json(self._actor, client.id), title=title
        )
        if data is None:
            return None
        export = attempt(
            self, self._prompter, lambda: rights.export(self._actor, client.id), title=title
        )
        if export is None:
            return None
        station_name, contact = self._station_name_and_contact()
        document = export_document(export, station_name=station_name, station_contact=contact)
        try:
            json_path.write_bytes(data)
        except OSError as exc:
            self._prompter.error(
                self,
                title,
                _("{path} could not be written: {problem}. Choose another folder.").format(
                    path=json_path, problem=exc.strerror or exc
                ),
            )
            return None
        try:
            save_pdf(document, pdf_path, export_doc_name(client.client_code))
        except (PrintFailed, CareStationError) as exc:
            # Half an export is of no use, and the JSON holds sensitive data: take it away too.
            with contextlib.suppress(OSError):
                json_path.unlink(missing_ok=True)
            self._prompter.error(self, title, str(exc))
            return None
        self.last_export = (json_path, pdf_path)
        self._prompter.info(
            self,
            _("Export saved"),
            _(
                "Saved:\n{json}\n{pdf}\n\nThe files hold this person's sensitive information. "
                "Give them only to the person, and delete them from this PC once handed over."
            ).format(json=json_path, pdf=pdf_path),
        )
        self.message_label.setText(_("Exported the record {code}.").format(code=client.client_code))
        return self.last_export

    # --- erasure --------------------------------------------------------------------------------
    def erase(self) -> EraseDialog | None:
        client = self.selected()
        if client is None:
            return None
        dialog = EraseDialog(self._services, self._actor, self._prompter, client, parent=self)
        open_dialog(dialog, lambda: self._erased(client, dialog.saved))
        return dialog

    def _erased(self, client: ClientSummary, report: ErasureReport) -> None:
        self.last_erasure = report
        rows = [r for r in self.panel.model.rows() if r.id != client.id]
        self.panel.set_rows(rows)
        self.message_label.setText(
            _("The record {code} was erased.").format(code=client.client_code)
        )
        self._prompter.info(self, _("Erased"), report_text(report))
        self.refresh()

    # --- retention ------------------------------------------------------------------------------
    def purge(self) -> PurgeReport | None:
        preview = self.preview
        question = _(
            "Delete now the notes, closing summaries and crisis texts of every case closed "
            "longer than its station's retention period? This cannot be undone."
        )
        if preview is not None:
            question = f"{purge_summary(preview, done=False)}\n\n{question}"
        if not self._prompter.confirm(self, _("Purge expired records"), question):
            return None
        report = attempt(
            self,
            self._prompter,
            lambda: self._services.retention.purge_expired(actor=self._actor),
        )
        if report is None:
            return None
        self._prompter.info(self, _("Purge done"), purge_summary(report, done=True))
        self.refresh()
        return report
