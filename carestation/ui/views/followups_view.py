"""A counsellor's crisis follow-ups: the checks due by a day at their stations, overdue first in
red and marked in words, each recorded from here."""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QBrush, QFont, QShowEvent
from PySide6.QtWidgets import (
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from carestation.domain.crisis import FollowUpItem, follow_up_label
from carestation.domain.values import Actor
from carestation.i18n import N_, _, ngettext
from carestation.services.crisis import CrisisService
from carestation.ui.crisis_widgets import RecordFollowUpDialog, when_text
from carestation.ui.keyboard import enter_opens
from carestation.ui.prompts import Prompter
from carestation.ui.record_panel import RecordPanel, open_dialog
from carestation.ui.style import tone_color
from carestation.ui.table_model import Column, Index, RecordTableModel
from carestation.ui.views.base import View, attempt

STATUS_COLUMN = 1


def status_text(item: FollowUpItem) -> str:
    return _("Overdue") if item.overdue else _("Due")


def _columns() -> list[Column[FollowUpItem]]:
    return [
        Column(lambda: _("Due"), lambda f: when_text(f.due_at), sort_key=lambda f: f.due_at),
        Column(
            lambda: _("Status"),
            status_text,
            sort_key=lambda f: (0 if f.overdue else 1, f.due_at.isoformat()),
        ),
        Column(lambda: _("Client code"), lambda f: f.client_code),
        Column(
            lambda: _("Check"),
            lambda f: _("{after} after the flag").format(after=follow_up_label(f.after)),
            sort_key=lambda f: f.after.total_seconds(),
        ),
        Column(
            lambda: _("Flag raised"),
            lambda f: f"{f.flag_raised_at:%Y-%m-%d}",
            sort_key=lambda f: f.flag_raised_at,
        ),
        Column(lambda: _("Flag"), lambda f: _("Open") if f.flag_open else _("Cleared")),
        Column(lambda: _("Station"), lambda f: f.station_name),
    ]


class FollowUpModel(RecordTableModel[FollowUpItem]):
    """Overdue rows in red, and their status in bold words: colour is never the only cue."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(_columns(), parent)
        self._bold = QFont()
        self._bold.setBold(True)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (
            role in (Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.FontRole)
            and index.isValid()
            and 0 <= index.row() < self.rowCount()
            and self.row_value(index.row()).overdue
        ):
            if role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(tone_color("error"))  # from the palette: high contrast too
            if index.column() == STATUS_COLUMN:
                return self._bold
        return super().data(index, role)


class FollowUpsView(View):
    TITLE = N_("Crisis follow-ups")

    def __init__(
        self,
        crisis: CrisisService,
        actor: Actor,
        prompter: Prompter,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, objectName="followups_view")
        self._crisis, self._actor, self._prompter = crisis, actor, prompter
        self._loaded = False
        self.date_edit = QDateEdit(objectName="followups_day", calendarPopup=True)
        self.date_edit.setDisplayFormat("yyyy-MM-dd ddd")
        self.date_edit.setAccessibleName(_("Due by the end of"))
        day_label = QLabel(_("Due by the end of &day"))
        day_label.setBuddy(self.date_edit)
        today_button = QPushButton(_("&Today"), objectName="followups_today", autoDefault=False)
        today_button.clicked.connect(lambda: self._set_day(self._today()))
        self.summary_label = QLabel(objectName="followups_summary")
        top = QHBoxLayout()
        top.addWidget(day_label)
        top.addWidget(self.date_edit)
        top.addWidget(today_button)
        top.addStretch(1)
        top.addWidget(self.summary_label)

        self.panel = RecordPanel(_("Follow-ups to record"), FollowUpModel(), "followups_table")
        self.record_button = self.panel.add_button(
            _("&Record follow-up..."), "record_followup", self.record_selected
        )
        self.panel.buttons.addStretch(1)
        self.panel.table.doubleClicked.connect(lambda _index: self.record_selected())
        enter_opens(self.panel.table)
        self.message_label = QLabel(objectName="followups_message", wordWrap=True)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.panel, 1)
        layout.addWidget(self.message_label)
        self.date_edit.dateChanged.connect(lambda _d: self.reload() if self._loaded else None)

    # --- loading ------------------------------------------------------------------------------
    def _today(self) -> date:
        return self._crisis.today(self._actor.station_id)

    def _set_day(self, day: date) -> None:
        self.date_edit.setDate(QDate(day.year, day.month, day.day))

    def day(self) -> date:
        d = self.date_edit.date()
        return date(d.year(), d.month(), d.day())

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # Follow-ups fall due as time passes and colleagues record them: reload on coming back.
        if self._loaded and not event.spontaneous():
            self.reload()

    def refresh(self) -> None:
        if not self._loaded:
            self.date_edit.blockSignals(True)
            self._set_day(self._today())
            self.date_edit.blockSignals(False)
        self.reload()

    def reload(self, *, select_id: int | None = None) -> None:
        items = attempt(
            self,
            self._prompter,
            lambda: self._crisis.followups_due(self._actor, day=self.day()),
        )
        rows = items or []
        if select_id is None and (chosen := self.selected()) is not None:
            select_id = chosen.id
        self.panel.set_rows(rows, select_id=select_id)
        overdue = sum(1 for r in rows if r.overdue)
        self.summary_label.setText(
            ngettext("{n} follow-up due", "{n} follow-ups due", len(rows)).format(n=len(rows))
            + "  ·  "
            + _("{n} overdue").format(n=overdue)
        )
        self._loaded = True

    def clear(self) -> None:
        self.panel.set_rows([])
        self.summary_label.clear()
        self.message_label.clear()
        self._loaded = False

    def selected(self) -> FollowUpItem | None:
        return self.panel.selected()

    # --- actions ------------------------------------------------------------------------------
    def record_selected(self) -> RecordFollowUpDialog | None:
        item = self.selected()
        if item is None:
            return None
        dialog = RecordFollowUpDialog(self._crisis, self._actor, self._prompter, item, parent=self)
        open_dialog(dialog, lambda: self._recorded(item))
        return dialog

    def _recorded(self, item: FollowUpItem) -> None:
        self.reload()
        self.message_label.setText(
            _("The {after} follow-up for {code} is recorded.").format(
                after=follow_up_label(item.after), code=item.client_code
            )
        )
