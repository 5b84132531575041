"""Printing the personal wellbeing report (个人心理健康评估报告) for one client, or for everyone a
counsellor saw on a day: choose the language (and whether the name is printed), then preview
and print, or save a PDF. Each click asks the service for the report (which numbers it and
writes the audit entry) and writes the PDF in memory, in a worker thread."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import BinaryIO, Protocol

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from carestation.domain.report_values import PersonalReportData
from carestation.domain.values import Actor
from carestation.i18n import _, current_language, ngettext
from carestation.ui.keyboard import buttons_last, screen_shortcut
from carestation.ui.prompts import Prompter
from carestation.ui.report_printing import (
    BackgroundJob,
    BusyIndicator,
    ChooseSavePath,
    PrintFailed,
    ShowDialog,
    ask_save_path,
    failure_text,
    pdf_preview_dialog,
    report_doc_name,
    report_file_name,
    run_modal,
    with_pdf_suffix,
    write_pdf_file,
)
from carestation.ui.style import set_tone
from carestation.ui.views.base import attempt

# Language names are shown in their own language, whatever the screen's language is.
REPORT_LANGUAGES: tuple[tuple[str, str], ...] = (("zh_CN", "中文"), ("en", "English"))


class PersonalReports(Protocol):
    """What the dialog needs of carestation.services.reports.ReportService."""

    def personal_report(
        self, actor: Actor, *, client_id: int, include_name: bool, lang: str
    ) -> PersonalReportData: ...


class DayReports(Protocol):
    def clients_seen_on(self, actor: Actor, *, day: date) -> list[tuple[int, str]]: ...
    def personal_reports_for_day(
        self, actor: Actor, *, day: date, lang: str
    ) -> list[PersonalReportData]: ...


class ReportWriter(Protocol):
    def __call__(
        self, out: BinaryIO, *, data: PersonalReportData, lang: str | None = None
    ) -> int: ...


class ReportsWriter(Protocol):
    def __call__(self, out: BinaryIO, *, reports: Sequence[PersonalReportData]) -> int: ...


def write_personal_report(
    out: BinaryIO, *, data: PersonalReportData, lang: str | None = None
) -> int:
    from carestation.reports.personal import write_personal_report as write

    return write(out, data=data, lang=lang)


def write_personal_reports(out: BinaryIO, *, reports: Sequence[PersonalReportData]) -> int:
    from carestation.reports.personal import write_personal_reports as write

    return write(out, reports=reports)


def pdf_bytes(write: Callable[[BinaryIO], object]) -> bytes:
    """The PDF written into memory (run in the worker)."""
    out = io.BytesIO()
    write(out)
    data = out.getvalue()
    if not data.startswith(b"%PDF"):
        raise PrintFailed(_("The report could not be written."))
    return data


def batch_name(reports: Sequence[PersonalReportData]) -> str:
    """Neutral: the first and last report numbers."""
    first, last = reports[0].report_number, reports[-1].report_number
    return first if first == last else f"{first}_{last}"


def _hint(text: str, name: str) -> QLabel:
    label = QLabel(text, objectName=name, wordWrap=True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    set_tone(label, "hint")
    return label


def _language_combo() -> QComboBox:
    combo = QComboBox(objectName="report_language")
    for code, name in REPORT_LANGUAGES:
        combo.addItem(name, code)
    index = combo.findData(current_language())
    combo.setCurrentIndex(max(index, 0))
    return combo


class _ReportDialogBase(QDialog):
    """The buttons, busy line and worker shared by the single and the day dialogs."""

    def __init__(
        self,
        prompter: Prompter,
        *,
        object_name: str,
        title: str,
        preview_text: str,
        save_text: str,
        choose_save_path: ChooseSavePath | None,
        show_dialog: ShowDialog,
        parent: QWidget | None,
    ) -> None:
        super().__init__(parent, objectName=object_name, windowTitle=title)
        self.setMinimumWidth(520)
        self._prompter = prompter
        self._choose = choose_save_path or ask_save_path(self)
        self._show_dialog = show_dialog
        self.job = BackgroundJob(self)
        self.job.busy_changed.connect(self._set_busy)
        self.job.failed.connect(self._job_failed)
        self.saved_path: Path | None = None
        self.busy = BusyIndicator(self)
        self.preview_button = QPushButton(preview_text, objectName="preview_report")
        self.preview_button.setDefault(True)
        self.preview_button.clicked.connect(self.preview)
        self.save_button = QPushButton(save_text, objectName="save_report")
        self.save_button.setAutoDefault(False)
        self.save_button.clicked.connect(self.save)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.buttons.addButton(self.preview_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.rejected.connect(self.reject)
        # As in the main window's menu: Ctrl+P prints (preview first), Ctrl+S saves the PDF.
        screen_shortcut(self, "Ctrl+P", self.preview_button.click, self.preview_button)
        screen_shortcut(self, "Ctrl+S", self.save_button.click, self.save_button)
        self.language_combo = _language_combo()
        self._layout = QVBoxLayout(self)

    def language(self) -> str:
        return str(self.language_combo.currentData())

    def set_language(self, lang: str) -> None:
        self.language_combo.setCurrentIndex(self.language_combo.findData(lang))

    def preview(self) -> bool:
        raise NotImplementedError

    def save(self) -> bool:
        raise NotImplementedError

    def _finish_layout(self) -> None:
        self._layout.addWidget(self.busy)
        self._layout.addWidget(self.buttons)
        buttons_last(self, box=self.buttons)
        self._fit()

    def _fit(self) -> None:
        """Tall enough for the wrapped texts (a window ignores their height-for-width)."""
        self._layout.activate()
        width = max(self.sizeHint().width(), self.minimumWidth())
        self.resize(width, self._layout.totalHeightForWidth(width))

    def _inputs(self) -> list[QWidget]:
        return [self.language_combo]

    def _set_busy(self, busy: bool) -> None:
        for widget in [self.preview_button, self.save_button, *self._inputs()]:
            widget.setEnabled(not busy)
        if busy:
            self.setCursor(Qt.CursorShape.BusyCursor)
        else:
            self.unsetCursor()
            self.busy.stop()
            self._enable_actions()

    def _enable_actions(self) -> None:
        """Subclasses disable the buttons when there is nothing to print."""

    def _job_failed(self, exc: BaseException) -> None:
        if self.isVisible():
            self._prompter.error(self, _("The report could not be prepared"), failure_text(exc))

    def _write_then(
        self, busy_text: str, write: Callable[[BinaryIO], object], then: Callable[[bytes], None]
    ) -> bool:
        self.busy.start(busy_text)
        return self.job.start(lambda: pdf_bytes(write), lambda data: self._deliver(then, data))

    def _deliver(self, then: Callable[[bytes], None], data: bytes) -> None:
        if self.isVisible():  # closed meanwhile: the user no longer wants it
            then(data)

    def _preview_bytes(self, data: bytes, doc_name: str) -> None:
        try:
            dialog = pdf_preview_dialog(self, data, doc_name, self._prompter)
        except PrintFailed as exc:
            self._prompter.error(self, _("Printing failed"), str(exc))
            return
        self._show_dialog(dialog)

    def _save_bytes(
        self, suggested: str, busy_text: str, write: Callable[[BinaryIO], object]
    ) -> bool:
        chosen = self._choose(suggested)
        if not chosen:
            return False
        path = with_pdf_suffix(chosen)
        self.busy.start(busy_text)
        return self.job.start(
            lambda: write_pdf_file(pdf_bytes(write), path), lambda p: self._saved(p)
        )

    def _saved(self, path: Path) -> None:
        self.saved_path = path
        if self.isVisible():
            self._prompter.info(
                self, _("PDF saved"), _("The PDF was saved to {path}.").format(path=path)
            )


class PersonalReportDialog(_ReportDialogBase):
    """One client's report, from the Questionnaires tab of the client record."""

    def __init__(
        self,
        service: PersonalReports,
        actor: Actor,
        prompter: Prompter,
        *,
        client_id: int,
        client_code: str,
        writer: ReportWriter = write_personal_report,
        choose_save_path: ChooseSavePath | None = None,
        show_dialog: ShowDialog = run_modal,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            prompter,
            object_name="personal_report_dialog",
            title=_("Personal wellbeing report"),
            preview_text=_("&Preview and print..."),
            save_text=_("&Save as PDF..."),
            choose_save_path=choose_save_path,
            show_dialog=show_dialog,
            parent=parent,
        )
        self._service, self._actor = service, actor
        self._client_id, self._writer = client_id, writer
        self.last_report: PersonalReportData | None = None
        client = QLabel(_("Client {code}").format(code=client_code), objectName="report_client")
        client.setTextFormat(Qt.TextFormat.PlainText)
        font = client.font()
        font.setBold(True)
        client.setFont(font)
        intro = _hint(
            _(
                "A report for the client to take home: the latest questionnaire results in "
                "plain words, self-care suggestions and where to get help. Each printout gets "
                "its own report number and is recorded in the audit log."
            ),
            "report_intro",
        )
        self.name_check = QCheckBox(
            _("Print the client's &name on this report (only on this printout)"),
            objectName="report_include_name",
        )
        name_hint = _hint(_("Unticked, the report shows only the client code."), "report_name_hint")
        form = QFormLayout()
        form.addRow(_("&Language"), self.language_combo)
        form.addRow("", self.name_check)
        form.addRow("", name_hint)
        self._layout.addWidget(client)
        self._layout.addWidget(intro)
        self._layout.addSpacing(6)
        self._layout.addLayout(form)
        self._layout.addStretch(1)
        self._finish_layout()
        self.preview_button.setFocus()

    def _inputs(self) -> list[QWidget]:
        return [self.language_combo, self.name_check]

    def _report(self) -> PersonalReportData | None:
        lang, include_name = self.language(), self.name_check.isChecked()
        data = attempt(
            self,
            self._prompter,
            lambda: self._service.personal_report(
                self._actor, client_id=self._client_id, include_name=include_name, lang=lang
            ),
            title=_("The report could not be prepared"),
        )
        if data is not None:
            self.last_report = data
        return data

    def _write(self, data: PersonalReportData) -> Callable[[BinaryIO], object]:
        writer, lang = self._writer, self.language()
        return lambda out: writer(out, data=data, lang=lang)

    def preview(self) -> bool:
        if self.job.busy:
            return False
        data = self._report()
        if data is None:
            return False
        number = data.report_number
        return self._write_then(
            _("Preparing report {number}...").format(number=number),
            self._write(data),
            lambda pdf: self._preview_bytes(pdf, report_doc_name(number)),
        )

    def save(self) -> bool:
        if self.job.busy:
            return False
        data = self._report()
        if data is None:
            return False
        return self._save_bytes(
            report_file_name(data.report_number),
            _("Saving report {number}...").format(number=data.report_number),
            self._write(data),
        )


class DayReportsDialog(_ReportDialogBase):
    """Everyone a counsellor saw on a day who has questionnaires and consent to printed reports:
    all their reports (codes only) in one preview or one PDF."""

    def __init__(
        self,
        service: DayReports,
        actor: Actor,
        prompter: Prompter,
        *,
        writer_many: ReportsWriter = write_personal_reports,
        today: date | None = None,
        choose_save_path: ChooseSavePath | None = None,
        show_dialog: ShowDialog = run_modal,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            prompter,
            object_name="day_reports_dialog",
            title=_("Personal reports for a day"),
            preview_text=_("&Preview and print all..."),
            save_text=_("&Save all as one PDF..."),
            choose_save_path=choose_save_path,
            show_dialog=show_dialog,
            parent=parent,
        )
        self._service, self._actor, self._writer = service, actor, writer_many
        self.clients: list[tuple[int, str]] = []
        self.last_reports: list[PersonalReportData] = []
        day = today or date.today()
        intro = _hint(
            _(
                "Clients you saw on the chosen day who have filled in questionnaires and agreed "
                "to printed reports. The reports show client codes only; each gets its own "
                "report number and is recorded in the audit log."
            ),
            "day_reports_intro",
        )
        self.date_edit = QDateEdit(QDate(day.year, day.month, day.day), objectName="report_day")
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("yyyy-MM-dd")
        self.date_edit.setMaximumDate(QDate(day.year, day.month, day.day))
        self.date_edit.dateChanged.connect(self.refresh)
        self.client_list = QListWidget(objectName="report_clients")
        self.client_list.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.client_list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.client_list.setMinimumHeight(140)
        self.found_label = QLabel(objectName="report_clients_found", wordWrap=True)
        self.found_label.setTextFormat(Qt.TextFormat.PlainText)
        form = QFormLayout()
        form.addRow(_("&Day"), self.date_edit)
        form.addRow(_("&Language"), self.language_combo)
        self._layout.addWidget(intro)
        self._layout.addSpacing(6)
        self._layout.addLayout(form)
        self._layout.addWidget(self.found_label)
        self._layout.addWidget(self.client_list, 1)
        self._finish_layout()
        self.refresh()
        self.date_edit.setFocus()

    def _inputs(self) -> list[QWidget]:
        return [self.language_combo, self.date_edit]

    def day(self) -> date:
        d = self.date_edit.date()
        return date(d.year(), d.month(), d.day())

    def set_day(self, day: date) -> None:
        self.date_edit.setDate(QDate(day.year, day.month, day.day))

    def refresh(self) -> None:
        day = self.day()
        found = attempt(
            self, self._prompter, lambda: self._service.clients_seen_on(self._actor, day=day)
        )
        self.clients = list(found or [])
        self.client_list.clear()
        self.client_list.addItems([code for _id, code in self.clients])
        if self.clients:
            self.found_label.setText(
                ngettext(
                    "{count} client seen on {day}:",
                    "{count} clients seen on {day}:",
                    len(self.clients),
                ).format(count=len(self.clients), day=day.isoformat())
            )
        else:
            self.found_label.setText(
                _("No one seen on {day} has questionnaires and consent to printed reports.").format(
                    day=day.isoformat()
                )
            )
        self._enable_actions()

    def _enable_actions(self) -> None:
        ready = bool(self.clients) and not self.job.busy
        self.preview_button.setEnabled(ready)
        self.save_button.setEnabled(ready)

    def _reports(self) -> list[PersonalReportData] | None:
        day, lang = self.day(), self.language()
        reports = attempt(
            self,
            self._prompter,
            lambda: self._service.personal_reports_for_day(self._actor, day=day, lang=lang),
            title=_("The reports could not be prepared"),
        )
        if reports is None:
            return None
        if not reports:
            self._prompter.info(
                self,
                _("Personal reports for a day"),
                _("There is no report to print for {day}.").format(day=day.isoformat()),
            )
            return None
        self.last_reports = list(reports)
        return self.last_reports

    def _write(self, reports: list[PersonalReportData]) -> Callable[[BinaryIO], object]:
        writer = self._writer
        return lambda out: writer(out, reports=reports)

    def preview(self) -> bool:
        if self.job.busy:
            return False
        reports = self._reports()
        if reports is None:
            return False
        name = batch_name(reports)
        return self._write_then(
            ngettext(
                "Preparing {count} report...", "Preparing {count} reports...", len(reports)
            ).format(count=len(reports)),
            self._write(reports),
            lambda pdf: self._preview_bytes(pdf, report_doc_name(name)),
        )

    def save(self) -> bool:
        if self.job.busy:
            return False
        reports = self._reports()
        if reports is None:
            return False
        return self._save_bytes(
            report_file_name(batch_name(reports)),
            ngettext("Saving {count} report...", "Saving {count} reports...", len(reports)).format(
                count=len(reports)
            ),
            self._write(reports),
        )
