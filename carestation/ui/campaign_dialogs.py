"""The dialogs of the screening-campaign screen: a new campaign, more codes, a follow-up asked
for with a code, and the anonymised summary; and saving their PDFs off the GUI thread."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QDate, QObject, QRunnable, Qt, QThreadPool, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from carestation.assessments import instrument_codes
from carestation.domain.assessment_values import (
    CampaignCodeCheck,
    CampaignInfo,
    CampaignInput,
    CampaignSummary,
)
from carestation.domain.values import Actor
from carestation.i18n import _
from carestation.ui.forms import FieldErrors
from carestation.ui.prompts import Prompter
from carestation.ui.record_panel import FormDialog
from carestation.ui.risk_alert_bar import instrument_title
from carestation.ui.style import set_tone
from carestation.ui.views.base import attempt

MAX_CODES = 10_000
# The one-item mood rating belongs to pod sessions, not to a screening.
NOT_FOR_CAMPAIGNS = frozenset({"mood"})


class Campaigns(Protocol):
    """What the campaign screens need of carestation.services.campaigns.CampaignService."""

    def create(self, actor: Actor, *, data: CampaignInput) -> CampaignInfo: ...
    def issue_codes(self, actor: Actor, *, campaign_id: int, count: int) -> CampaignInfo: ...
    def list_campaigns(self, actor: Actor) -> list[CampaignInfo]: ...
    def unused_codes(self, actor: Actor, *, campaign_id: int) -> list[str]: ...
    def close(self, actor: Actor, *, campaign_id: int, version: int) -> CampaignInfo: ...
    def summary(self, actor: Actor, *, campaign_id: int, k: int = 10) -> CampaignSummary: ...
    def request_follow_up(self, actor: Actor, *, code: str) -> CampaignCodeCheck: ...


class SlipWriter(Protocol):
    def __call__(
        self,
        out: Path,
        *,
        campaign: CampaignInfo,
        codes: Sequence[str],
        station_name: str,
        station_phone: str,
        lang: str,
    ) -> int: ...


class SummaryWriter(Protocol):
    def __call__(
        self, out: Path, *, summary: CampaignSummary, station_name: str, lang: str
    ) -> int: ...


ChooseSavePath = Callable[[str], str | None]  # suggested file name -> chosen path or None
OpenFile = Callable[[Path], None]


def write_slips_pdf(
    out: Path,
    *,
    campaign: CampaignInfo,
    codes: Sequence[str],
    station_name: str,
    station_phone: str,
    lang: str,
) -> int:
    from carestation.reports.campaign_slips import write_code_slips

    return write_code_slips(
        out,
        campaign=campaign,
        codes=codes,
        station_name=station_name,
        station_phone=station_phone,
        lang=lang,
    )


def write_summary_pdf(out: Path, *, summary: CampaignSummary, station_name: str, lang: str) -> int:
    from carestation.reports.campaign_summary import write_campaign_summary

    return write_campaign_summary(out, summary=summary, station_name=station_name, lang=lang)


def _error_label(dialog: QWidget, key: str) -> QLabel:
    label = dialog.findChild(QLabel, f"error_{key}")
    assert label is not None, key
    return label


def open_with_system(path: Path) -> None:
    """Opens the file in the PC's PDF viewer, from which the user prints."""
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _date(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


def dates_text(c: CampaignInfo) -> str:
    return _("{first} to {last}").format(first=c.starts_on.isoformat(), last=c.ends_on.isoformat())


# --- PDFs off the GUI thread ---------------------------------------------------------------
class _PdfSignals(QObject):
    finished = Signal(object)  # pages (int) or the exception


class _PdfJob(QRunnable):
    def __init__(self, write: Callable[[], int], signals: _PdfSignals) -> None:
        super().__init__()
        self._write, self._signals = write, signals

    def run(self) -> None:
        result: object
        try:
            result = self._write()
        except Exception as exc:  # shown on the GUI thread, never raised in a worker
            result = exc
        with contextlib.suppress(RuntimeError):  # the window was closed meanwhile
            self._signals.finished.emit(result)


class PdfSaver(QObject):
    """Writes one PDF at a time in a worker thread; on failure removes the half-written file
    and tells the user; on success calls `on_saved(path, pages)` on the GUI thread."""

    def __init__(self, parent: QWidget, prompter: Prompter) -> None:
        super().__init__(parent)
        self._widget, self._prompter = parent, prompter
        # Created first, so destroyed first: its destructor waits for a running job.
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _PdfSignals(self)
        self._signals.finished.connect(self._finished)
        self._pending: tuple[Path, Callable[[Path, int], None]] | None = None

    @property
    def busy(self) -> bool:
        return self._pending is not None

    def start(
        self, path: Path, write: Callable[[Path], int], on_saved: Callable[[Path, int], None]
    ) -> bool:
        if self._pending is not None:
            return False
        self._pending = (path, on_saved)
        self._pool.start(_PdfJob(lambda: write(path), self._signals))
        return True

    def _finished(self, outcome: object) -> None:
        if self._pending is None:
            return
        path, on_saved = self._pending
        self._pending = None
        if isinstance(outcome, BaseException):
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)  # a half-written PDF is of no use to anyone
            reason = outcome.strerror if isinstance(outcome, OSError) else str(outcome)
            self._prompter.error(
                self._widget,
                _("The PDF was not saved"),
                _("{path} could not be written: {reason}. Choose another folder.").format(
                    path=path, reason=reason or type(outcome).__name__
                ),
            )
            return
        on_saved(path, int(outcome) if isinstance(outcome, int) else 0)


# --- new campaign and more codes -----------------------------------------------------------
class NewCampaignDialog(FormDialog):
    """Name, work unit, questionnaires, dates and how many codes to issue now."""

    def __init__(
        self,
        campaigns: Campaigns,
        actor: Actor,
        prompter: Prompter,
        *,
        today: date,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(prompter, _("New screening campaign"), "new_campaign_dialog", parent)
        self._campaigns, self._actor = campaigns, actor
        self.name_edit = self.row(
            "name", _("Campaign &name"), QLineEdit(objectName="campaign_name")
        )
        self.name_edit.setPlaceholderText(_("For example: 2026 autumn screening"))
        self.name_edit.setMaxLength(200)
        self.unit_edit = self.row(
            "work_unit", _("&Work unit"), QLineEdit(objectName="campaign_work_unit")
        )
        self.unit_edit.setPlaceholderText(_("The employer or work unit screened"))
        self.unit_edit.setMaxLength(200)
        box = QWidget(objectName="campaign_instruments")
        box.setAccessibleName(_("Questionnaires"))
        grid = QVBoxLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        self.instrument_boxes: dict[str, QCheckBox] = {}
        for code in instrument_codes():
            if code in NOT_FOR_CAMPAIGNS:
                continue
            check = QCheckBox(instrument_title(code), box, objectName=f"instrument_{code}")
            grid.addWidget(check)
            self.instrument_boxes[code] = check
        self.row("instruments", _("Questionnaires"), box)
        self.starts_edit = self.row(
            "starts_on", _("&From"), QDateEdit(_qdate(today), objectName="campaign_starts_on")
        )
        self.ends_edit = self.row(
            "ends_on",
            _("&To"),
            QDateEdit(_qdate(today).addDays(30), objectName="campaign_ends_on"),
        )
        for edit in (self.starts_edit, self.ends_edit):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        # The service may name the pair of dates together.
        self.errors.register("dates", _error_label(self, "ends_on"), self.ends_edit)
        self.codes_spin = self.row(
            "codes", _("&Codes to issue now"), QSpinBox(objectName="campaign_codes")
        )
        self.codes_spin.setRange(0, MAX_CODES)
        self.codes_spin.setValue(50)
        hint = QLabel(
            _(
                "Each code can be used once, by one person, at the self-service screen. The "
                "codes say nothing about who received them."
            ),
            wordWrap=True,
        )
        set_tone(hint, "hint")
        self.form.addRow("", hint)
        self.finish()
        self.ok_button.setText(_("&Create campaign"))
        self.name_edit.setFocus()

    def data(self) -> CampaignInput:
        return CampaignInput(
            name=self.name_edit.text().strip(),
            work_unit=self.unit_edit.text().strip(),
            instruments=tuple(c for c, box in self.instrument_boxes.items() if box.isChecked()),
            starts_on=_date(self.starts_edit.date()),
            ends_on=_date(self.ends_edit.date()),
            codes=self.codes_spin.value(),
        )

    def save(self) -> CampaignInfo:
        return self._campaigns.create(self._actor, data=self.data())


class IssueCodesDialog(FormDialog):
    def __init__(
        self,
        campaigns: Campaigns,
        actor: Actor,
        prompter: Prompter,
        campaign: CampaignInfo,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(prompter, _("Issue more codes"), "issue_codes_dialog", parent)
        self._campaigns, self._actor, self._campaign = campaigns, actor, campaign
        self.form.addRow(_("Campaign"), QLabel(campaign.name, wordWrap=True))
        self.form.addRow(
            _("Codes so far"),
            QLabel(
                _("{used} used of {issued} issued").format(
                    used=campaign.used, issued=campaign.issued
                )
            ),
        )
        self.count_spin = self.row("count", _("&How many more"), QSpinBox(objectName="count"))
        self.count_spin.setRange(1, MAX_CODES)
        self.count_spin.setValue(20)
        self.errors.register("codes", _error_label(self, "count"), self.count_spin)
        self.finish()
        self.ok_button.setText(_("&Issue codes"))
        self.count_spin.setFocus()

    def save(self) -> CampaignInfo:
        return self._campaigns.issue_codes(
            self._actor, campaign_id=self._campaign.id, count=self.count_spin.value()
        )


# --- follow-up asked for with a code -------------------------------------------------------
class FollowUpByCodeDialog(QDialog):
    """Staff type the code a participant brings; the request is recorded, and a session can be
    booked from here (`booking_requested(code, campaign_id)`)."""

    recorded = Signal(object)  # the CampaignCodeCheck
    booking_requested = Signal(str, int)

    def __init__(
        self, campaigns: Campaigns, actor: Actor, prompter: Prompter, parent: QWidget | None
    ) -> None:
        super().__init__(parent, objectName="follow_up_dialog", windowTitle=_("Follow-up by code"))
        self.setMinimumWidth(520)
        self._campaigns, self._actor, self._prompter = campaigns, actor, prompter
        self.result_check: CampaignCodeCheck | None = None
        intro = QLabel(
            _(
                "A participant may ask for a follow-up talk by showing their code. Type the "
                "code from their slip; nothing about their answers is shown."
            ),
            wordWrap=True,
        )
        self.errors = FieldErrors()
        form = QFormLayout()
        self.code_edit = QLineEdit(objectName="follow_up_code")
        self.code_edit.setMaxLength(32)
        self.errors.add_row(form, "code", _("&Code"), self.code_edit)
        self.done_label = QLabel(objectName="follow_up_done", wordWrap=True)
        self.done_label.setTextFormat(Qt.TextFormat.PlainText)
        self.done_label.hide()
        self.record_button = QPushButton(_("&Record the request"), objectName="record_follow_up")
        self.record_button.setDefault(True)
        self.record_button.clicked.connect(self.record)
        self.book_button = QPushButton(_("&Book a session..."), objectName="book_follow_up")
        self.book_button.setAutoDefault(False)
        self.book_button.clicked.connect(self._book)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        box.addButton(self.record_button, QDialogButtonBox.ButtonRole.ActionRole)
        box.addButton(self.book_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.book_button.hide()  # after addButton, which shows it
        box.rejected.connect(self.reject)
        self._layout = QVBoxLayout(self)
        self._layout.addWidget(intro)
        self._layout.addLayout(form)
        self._layout.addWidget(self.done_label)
        self._layout.addWidget(box)
        self._fit()

    def _fit(self) -> None:
        """Tall enough for the wrapped texts (a window ignores their height-for-width)."""
        self._layout.activate()
        width = max(self.width(), self.minimumWidth())
        self.resize(width, max(self.height(), self._layout.totalHeightForWidth(width)))

    def record(self) -> CampaignCodeCheck | None:
        self.errors.clear()
        code = self.code_edit.text().strip()
        if not code:
            self.errors.show({"code": _("Type the code printed on the participant's slip.")})
            self._fit()
            return None
        check = attempt(
            self,
            self._prompter,
            lambda: self._campaigns.request_follow_up(self._actor, code=code),
            errors=self.errors,
        )
        if check is None:
            self._fit()
            return None
        self.result_check = check
        self.done_label.setText(
            _(
                "The follow-up request for code {code} ({campaign}) is recorded. You can now "
                "book a session."
            ).format(code=check.code, campaign=check.campaign_name)
        )
        self.done_label.show()
        self.code_edit.setText(check.code)
        self.code_edit.setReadOnly(True)
        self.record_button.hide()
        self.book_button.show()
        self.book_button.setDefault(True)
        self.book_button.setFocus()
        self._fit()
        self.recorded.emit(check)
        return check

    def _book(self) -> None:
        if self.result_check is None:
            return
        self.booking_requested.emit(self.result_check.code, self.result_check.campaign_id)
        self.accept()
