"""A counsellor's cases and the notes waiting for their co-signature. Clients appear by code only:
these lists are on screen in counselling rooms and shared offices."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from carestation.domain.records import CaseSummary, NoteHeader
from carestation.domain.values import Actor
from carestation.domain.vocab import CaseStatus, RiskLevel
from carestation.i18n import N_, _, ngettext
from carestation.services.container import Services
from carestation.ui.case_window import CaseDialog, OpenCaseDialog, case_status_text, topics_text
from carestation.ui.keyboard import enter_opens
from carestation.ui.note_editor import NoteEditor, moment_text
from carestation.ui.prompts import Prompter
from carestation.ui.record_panel import RecordPanel, open_dialog
from carestation.ui.table_model import Column, RecordTableModel
from carestation.ui.views.base import View, attempt

_RISK_ORDER = {level: n for n, level in enumerate(RiskLevel)}


def case_columns() -> list[Column[CaseSummary]]:
    return [
        Column(lambda: _("Client code"), lambda c: c.client_code),
        Column(
            lambda: _("Opened"), lambda c: f"{c.opened_at:%Y-%m-%d}", sort_key=lambda c: c.opened_at
        ),
        Column(lambda: _("Topics"), lambda c: topics_text(c.topics)),
        Column(
            lambda: _("Risk level"),
            lambda c: c.risk_level.title,
            sort_key=lambda c: _RISK_ORDER[c.risk_level],
        ),
        Column(lambda: _("Status"), case_status_text),
        Column(
            lambda: _("Closed"),
            lambda c: f"{c.closed_at:%Y-%m-%d}" if c.closed_at else "",
            sort_key=lambda c: c.closed_at.isoformat() if c.closed_at else "",
        ),
        Column(lambda: _("Counsellor"), lambda c: c.counsellor_name),
        Column(lambda: _("Station"), lambda c: c.station_name),
    ]


def queue_columns() -> list[Column[NoteHeader]]:
    return [
        Column(lambda: _("Client code"), lambda h: h.client_code),
        Column(
            lambda: _("Session"),
            lambda h: moment_text(h.appointment_starts_at),
            sort_key=lambda h: h.appointment_starts_at,
        ),
        Column(lambda: _("Author"), lambda h: h.author_name),
        Column(
            lambda: _("Waiting since"),
            lambda h: moment_text(h.waiting_since) if h.waiting_since else "",
            sort_key=lambda h: h.waiting_since.isoformat() if h.waiting_since else "",
        ),
    ]


def _close_windows(view: QWidget) -> None:
    """The case and note windows opened from this screen: saved, wiped and closed."""
    for editor in view.findChildren(NoteEditor):
        editor.clear()
    for dialog in view.findChildren(CaseDialog):
        dialog.clear()


class MyCasesView(View):
    TITLE = N_("My cases")

    def __init__(
        self,
        services: Services,
        actor: Actor,
        prompter: Prompter,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, objectName="my_cases_view")
        self._services, self._actor, self._prompter = services, actor, prompter
        self._loaded = False
        self.filter_combo = QComboBox(objectName="case_filter")
        self.filter_combo.setAccessibleName(_("Which cases"))
        for text, status in (
            (_("Open cases"), CaseStatus.OPEN.value),
            (_("Closed cases"), CaseStatus.CLOSED.value),
            (_("All cases"), None),
        ):
            self.filter_combo.addItem(text, status)
        filter_label = QLabel(_("S&how"))
        filter_label.setBuddy(self.filter_combo)
        self.summary_label = QLabel(objectName="cases_summary")
        top = QHBoxLayout()
        top.addWidget(filter_label)
        top.addWidget(self.filter_combo)
        top.addStretch(1)
        top.addWidget(self.summary_label)

        model: RecordTableModel[CaseSummary] = RecordTableModel(case_columns())
        self.panel = RecordPanel(_("Cases"), model, "cases_table")
        self.panel.add_button(_("&Open the case..."), "show_case", self.open_selected)
        self.panel.add_button(
            _("&New case..."), "new_case", self.new_case, enabled_when=lambda _r: True
        )
        self.panel.buttons.addStretch(1)
        self.panel.table.doubleClicked.connect(lambda _index: self.open_selected())
        enter_opens(self.panel.table)
        self.message_label = QLabel(objectName="cases_message", wordWrap=True)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.panel, 1)
        layout.addWidget(self.message_label)
        self.filter_combo.currentIndexChanged.connect(lambda _i: self.refresh())

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._loaded and not event.spontaneous():
            self.refresh()

    def status(self) -> CaseStatus | None:
        value = self.filter_combo.currentData()
        return CaseStatus(value) if value else None

    def refresh(self, *, select_id: int | None = None) -> None:
        status = self.status()
        rows = (
            attempt(
                self,
                self._prompter,
                lambda: self._services.cases.my_cases(self._actor, status=status),
            )
            or []
        )
        if select_id is None and (chosen := self.selected()) is not None:
            select_id = chosen.id
        self.panel.set_rows(rows, select_id=select_id)
        self.summary_label.setText(ngettext("{n} case", "{n} cases", len(rows)).format(n=len(rows)))
        self._loaded = True

    def clear(self) -> None:
        self._loaded = False
        _close_windows(self)
        self.panel.set_rows([])
        self.summary_label.clear()
        self.message_label.clear()

    def selected(self) -> CaseSummary | None:
        return self.panel.selected()

    def open_selected(self) -> CaseDialog | None:
        case = self.selected()
        return self.open_case(case.id) if case is not None else None

    def open_case(self, case_id: int) -> CaseDialog:
        dialog = CaseDialog(
            self._services, self._actor, self._prompter, case_id=case_id, parent=self
        )
        dialog.case_changed.connect(lambda _id: self.refresh() if self._loaded else None)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def new_case(self) -> OpenCaseDialog:
        dialog = OpenCaseDialog(
            self._services, self._actor, self._prompter, client_id=None, parent=self
        )
        open_dialog(dialog, lambda: self._opened(dialog.saved))
        return dialog

    def _opened(self, case: CaseSummary) -> None:
        if self.status() is CaseStatus.CLOSED:
            self.filter_combo.setCurrentIndex(0)  # reloads
        self.refresh(select_id=case.id)
        self.message_label.setText(_("A case is open for {code}.").format(code=case.client_code))


class CosignQueueView(View):
    TITLE = N_("Notes to co-sign")

    def __init__(
        self,
        services: Services,
        actor: Actor,
        prompter: Prompter,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, objectName="cosign_queue_view")
        self._services, self._actor, self._prompter = services, actor, prompter
        self._loaded = False
        self.summary_label = QLabel(objectName="cosign_summary")
        model: RecordTableModel[NoteHeader] = RecordTableModel(queue_columns())
        self.panel = RecordPanel(_("Notes waiting for your co-signature"), model, "cosign_table")
        self.panel.add_button(_("&Open the note..."), "open_queued_note", self.open_selected)
        self.panel.buttons.addStretch(1)
        self.panel.table.sortByColumn(3, Qt.SortOrder.AscendingOrder)  # longest waiting first
        self.panel.table.doubleClicked.connect(lambda _index: self.open_selected())
        enter_opens(self.panel.table)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.panel, 1)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._loaded and not event.spontaneous():
            self.refresh()

    def refresh(self) -> None:
        rows = (
            attempt(self, self._prompter, lambda: self._services.notes.cosign_queue(self._actor))
            or []
        )
        chosen = self.selected()
        self.panel.set_rows(rows, select_id=chosen.id if chosen is not None else None)
        self.summary_label.setText(
            ngettext(
                "{n} note is waiting for your co-signature",
                "{n} notes are waiting for your co-signature",
                len(rows),
            ).format(n=len(rows))
        )
        self._loaded = True

    def _refresh_if_loaded(self) -> None:
        if self._loaded:  # not while the screen is being cleared for a lock
            self.refresh()

    def clear(self) -> None:
        self._loaded = False
        _close_windows(self)
        self.panel.set_rows([])
        self.summary_label.clear()

    def selected(self) -> NoteHeader | None:
        return self.panel.selected()

    def open_selected(self) -> NoteEditor | None:
        header = self.selected()
        if header is None:
            return None
        editor = NoteEditor(
            self._services,
            self._actor,
            self._prompter,
            appointment_id=header.appointment_id,
            parent=self,
        )
        editor.note_changed.connect(lambda _id: self._refresh_if_loaded())
        editor.finished.connect(lambda _result: self._refresh_if_loaded())
        editor.finished.connect(editor.deleteLater)
        editor.open()
        return editor
