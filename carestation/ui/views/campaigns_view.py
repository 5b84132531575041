"""Screening campaigns (普测): staff create them, issue and print one-time codes, follow up a
code holder's request and close them; managers see the list and the anonymised summaries."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QStandardPaths, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QLabel, QPushButton, QVBoxLayout, QWidget

from carestation.domain.assessment_values import CampaignCodeCheck, CampaignInfo
from carestation.domain.roles import Permission
from carestation.domain.values import Actor
from carestation.i18n import N_, _, current_language, ngettext
from carestation.ui.campaign_dialogs import (
    Campaigns,
    ChooseSavePath,
    FollowUpByCodeDialog,
    IssueCodesDialog,
    NewCampaignDialog,
    OpenFile,
    PdfSaver,
    SlipWriter,
    SummaryWriter,
    dates_text,
    open_with_system,
    write_slips_pdf,
    write_summary_pdf,
)
from carestation.ui.campaign_summary_dialog import SummaryDialog
from carestation.ui.keyboard import enter_opens
from carestation.ui.prompts import Prompter
from carestation.ui.record_panel import RecordPanel, open_dialog
from carestation.ui.risk_alert_bar import instrument_title
from carestation.ui.table_model import Column, RecordTableModel
from carestation.ui.views.base import View, attempt

DATES_COLUMN = 3


class StationLike(Protocol):
    id: int
    phone: str


class StationDirectory(Protocol):
    """carestation.services.admin.AdminService: for the station's phone on the code slips."""

    def list_stations(self, *, actor: Actor) -> Sequence[StationLike]: ...


def progress_text(c: CampaignInfo) -> str:
    percent = round(100 * c.used / c.issued) if c.issued else 0
    return _("{used} / {issued} ({percent}%)").format(used=c.used, issued=c.issued, percent=percent)


def status_text(c: CampaignInfo, today: date) -> str:
    if c.closed_at is not None:
        return _("Closed by staff")
    if today < c.starts_on:
        return _("Not started")
    if today > c.ends_on:
        return _("Ended")
    return _("In progress")


def _columns(today: Callable[[], date]) -> list[Column[CampaignInfo]]:
    return [
        Column(lambda: _("Campaign"), lambda c: c.name),
        Column(lambda: _("Work unit"), lambda c: c.work_unit),
        Column(lambda: _("Station"), lambda c: c.station_name),
        Column(lambda: _("Dates"), dates_text, sort_key=lambda c: c.starts_on),
        Column(
            lambda: _("Questionnaires"),
            lambda c: ", ".join(instrument_title(i, short=True) for i in c.instruments),
        ),
        Column(
            lambda: _("Codes used / issued"),
            progress_text,
            sort_key=lambda c: c.used / c.issued if c.issued else 0.0,
            align_right=True,
        ),
        Column(
            lambda: _("Follow-ups"),
            lambda c: str(c.follow_ups),
            sort_key=lambda c: c.follow_ups,
            align_right=True,
        ),
        Column(lambda: _("Status"), lambda c: status_text(c, today())),
    ]


def is_running(c: CampaignInfo | None) -> bool:
    return c is not None and c.closed_at is None


class CampaignsView(View):
    TITLE = N_("Screening campaigns")

    # (code, campaign id): a participant asked for a follow-up talk; open the booking dialog.
    booking_requested_for_follow_up = Signal(str, int)

    def __init__(
        self,
        campaigns: Campaigns,
        actor: Actor,
        prompter: Prompter,
        parent: QWidget | None = None,
        *,
        stations: StationDirectory | None = None,
        today: Callable[[], date] = date.today,
        choose_save_path: ChooseSavePath | None = None,
        open_file: OpenFile = open_with_system,
        write_slips: SlipWriter = write_slips_pdf,
        write_summary: SummaryWriter = write_summary_pdf,
    ) -> None:
        super().__init__(parent, objectName="campaigns_view")
        self._campaigns, self._actor, self._prompter = campaigns, actor, prompter
        self._stations, self._today = stations, today
        self._choose = choose_save_path or self._ask_save_path
        self._open, self._write_slips, self._write_summary = open_file, write_slips, write_summary
        self.saver = PdfSaver(self, prompter)
        self.can_run = actor.can(Permission.RUN_CAMPAIGNS)
        intro = QLabel(
            _(
                "Each participant gets a one-time code on a slip and answers at the "
                "self-service screen. Results are never linked to a code or a person; the "
                "summary shows counts only."
            ),
            wordWrap=True,
        )
        self.panel = RecordPanel(
            _("Campaigns"), RecordTableModel(_columns(today)), "campaigns_table"
        )
        self.panel.table.sortByColumn(DATES_COLUMN, Qt.SortOrder.DescendingOrder)
        self.new_button = self._action(_("&New campaign..."), "new_campaign", self.new_campaign)
        self.issue_button = self.panel.add_button(
            _("&Issue more codes..."), "issue_codes", self.issue_codes, enabled_when=is_running
        )
        self.slips_button = self.panel.add_button(
            _("&Print code slips..."), "print_slips", self.print_slips, enabled_when=is_running
        )
        self.summary_button = self.panel.add_button(
            _("S&ummary..."), "campaign_summary", self.show_summary
        )
        self.close_button = self.panel.add_button(
            _("&Close campaign"), "close_campaign", self.close_campaign, enabled_when=is_running
        )
        self.panel.buttons.addStretch(1)
        self.follow_up_button = self._action(
            _("&Follow-up by code..."), "follow_up_by_code", self.follow_up_by_code
        )
        # Managers and admins read summaries only: the code actions are not theirs.
        for button in (self.new_button, self.issue_button, self.slips_button, self.close_button):
            button.setVisible(self.can_run)
        self.follow_up_button.setVisible(self.can_run and actor.can(Permission.BOOK_AT_STATION))
        self.panel.table.doubleClicked.connect(lambda _index: self.show_summary())
        enter_opens(self.panel.table)
        self.message_label = QLabel(objectName="campaigns_message", wordWrap=True)
        self.message_label.setTextFormat(Qt.TextFormat.PlainText)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.panel, 1)
        layout.addWidget(self.message_label)

    def _action(self, text: str, name: str, slot: Callable[[], object]) -> QPushButton:
        """A button that needs no selection."""
        button = QPushButton(text, self.panel, objectName=name, autoDefault=False)
        button.clicked.connect(slot)
        self.panel.buttons.addWidget(button)
        return button

    # --- loading ------------------------------------------------------------------------------
    def refresh(self, *, select_id: int | None = None) -> None:
        rows = attempt(self, self._prompter, lambda: self._campaigns.list_campaigns(self._actor))
        if select_id is None and (chosen := self.selected()) is not None:
            select_id = chosen.id
        self.panel.set_rows(rows or [], select_id=select_id)
        if self.selected() is None and self.panel.proxy.rowCount():
            self.panel.table.selectRow(0)  # the newest, so its buttons work at once

    def clear(self) -> None:
        self.panel.set_rows([])
        self.message_label.clear()

    def selected(self) -> CampaignInfo | None:
        return self.panel.selected()

    def rows(self) -> list[CampaignInfo]:
        return self.panel.model.rows()

    def _done(self, text: str, select_id: int | None = None) -> None:
        self.refresh(select_id=select_id)
        self.message_label.setText(text)

    # --- actions ------------------------------------------------------------------------------
    def new_campaign(self) -> NewCampaignDialog | None:
        if not self.can_run:
            return None
        dialog = NewCampaignDialog(
            self._campaigns, self._actor, self._prompter, today=self._today(), parent=self
        )
        open_dialog(dialog, lambda: self._created(dialog.saved))
        return dialog

    def _created(self, c: CampaignInfo) -> None:
        self._done(
            ngettext(
                "Campaign \u201c{name}\u201d created with {n} code.",
                "Campaign \u201c{name}\u201d created with {n} codes.",
                c.issued,
            ).format(name=c.name, n=c.issued),
            c.id,
        )

    def issue_codes(self) -> IssueCodesDialog | None:
        campaign = self.selected()
        if campaign is None or not self.can_run:
            return None
        dialog = IssueCodesDialog(self._campaigns, self._actor, self._prompter, campaign, self)
        open_dialog(dialog, lambda: self._issued(campaign, dialog.saved))
        return dialog

    def _issued(self, before: CampaignInfo, after: CampaignInfo) -> None:
        added = after.issued - before.issued
        self._done(
            ngettext(
                "{n} more code issued for \u201c{name}\u201d; print the slips next.",
                "{n} more codes issued for \u201c{name}\u201d; print the slips next.",
                added,
            ).format(n=added, name=after.name),
            after.id,
        )

    def close_campaign(self) -> CampaignInfo | None:
        campaign = self.selected()
        if campaign is None or not self.can_run:
            return None
        if not self._prompter.confirm(
            self,
            _("Close the campaign"),
            _(
                "Close \u201c{name}\u201d? Its unused codes stop working at once. The summary "
                "stays available."
            ).format(name=campaign.name),
        ):
            return None
        closed = attempt(
            self,
            self._prompter,
            lambda: self._campaigns.close(
                self._actor, campaign_id=campaign.id, version=campaign.version
            ),
        )
        if closed is not None:
            self._done(_("\u201c{name}\u201d is closed.").format(name=closed.name), closed.id)
        else:
            self.refresh()  # someone may have changed it meanwhile
        return closed

    def show_summary(self) -> SummaryDialog | None:
        campaign = self.selected()
        if campaign is None:
            return None
        summary = attempt(
            self,
            self._prompter,
            lambda: self._campaigns.summary(self._actor, campaign_id=campaign.id),
        )
        if summary is None:
            return None
        dialog = SummaryDialog(
            summary,
            self._prompter,
            choose_save_path=self._choose,
            write_summary=self._write_summary,
            open_file=self._open,
            parent=self,
        )
        open_dialog(dialog, lambda: None)
        return dialog

    def follow_up_by_code(self) -> FollowUpByCodeDialog | None:
        if not self.can_run:
            return None
        dialog = FollowUpByCodeDialog(self._campaigns, self._actor, self._prompter, self)
        dialog.recorded.connect(self._follow_up_recorded)
        dialog.booking_requested.connect(self.booking_requested_for_follow_up)
        open_dialog(dialog, lambda: None)
        return dialog

    def _follow_up_recorded(self, check: CampaignCodeCheck) -> None:
        self._done(
            _("Follow-up request recorded for code {code}.").format(code=check.code),
            check.campaign_id,
        )

    # --- code slips -----------------------------------------------------------------------------
    def print_slips(self) -> bool:
        """Writes the unused codes as a PDF of slips (in a worker), then offers to open it."""
        campaign = self.selected()
        if campaign is None or not self.can_run or self.saver.busy:
            return False
        codes = attempt(
            self,
            self._prompter,
            lambda: self._campaigns.unused_codes(self._actor, campaign_id=campaign.id),
        )
        if codes is None:
            return False
        if not codes:
            self._prompter.info(
                self,
                _("No codes to print"),
                _("Every code of \u201c{name}\u201d has been used. Issue more codes first.").format(
                    name=campaign.name
                ),
            )
            return False
        chosen = self._choose(f"carestation-campaign-{campaign.id:06d}-codes.pdf")
        if not chosen:
            return False
        phone, lang = self._station_phone(campaign.station_id), current_language()
        codes = list(codes)

        def write(out: Path) -> int:
            return self._write_slips(
                out,
                campaign=campaign,
                codes=codes,
                station_name=campaign.station_name,
                station_phone=phone,
                lang=lang,
            )

        self.message_label.setText(_("Writing the code slips..."))
        return self.saver.start(
            Path(chosen), write, lambda path, pages: self._slips_saved(path, pages, len(codes))
        )

    def _slips_saved(self, path: Path, pages: int, count: int) -> None:
        text = ngettext(
            "{n} code slip saved to {path}",
            "{n} code slips saved to {path}",
            count,
        ).format(n=count, path=path)
        text += " " + ngettext("({pages} page).", "({pages} pages).", pages).format(pages=pages)
        self.message_label.setText(text)
        if self._prompter.confirm(
            self,
            _("Code slips saved"),
            text + "\n\n" + _("Open the file now to print it?"),
        ):
            self._open(path)

    def _station_phone(self, station_id: int) -> str:
        directory = self._stations
        if directory is None:
            return ""
        stations = attempt(self, self._prompter, lambda: directory.list_stations(actor=self._actor))
        for station in stations or []:
            if station.id == station_id:
                return station.phone
        return ""

    def _ask_save_path(self, suggested: str) -> str | None:
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        path, _chosen = QFileDialog.getSaveFileName(
            self, _("Save as"), str(Path(folder) / suggested), _("PDF files (*.pdf)")
        )
        return path or None
