"""Risk alerts at the user's stations: the open ones first (oldest first, each to be acted on),
then those acted on in the last two weeks (newest first), with what was done and by whom."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QFont, QShowEvent
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from carestation.domain.assessment_values import RiskAlertInfo, risk_reason_text
from carestation.domain.values import Actor
from carestation.i18n import N_, _, ngettext
from carestation.ui.crisis_widgets import when_text
from carestation.ui.keyboard import enter_opens
from carestation.ui.prompts import Prompter
from carestation.ui.record_panel import RecordPanel, open_dialog
from carestation.ui.risk_alert_bar import (
    ActOnAlertDialog,
    RiskAlertBar,
    RiskAlerts,
    instrument_title,
    who_text,
)
from carestation.ui.style import tone_color
from carestation.ui.table_model import Column, Index, RecordTableModel
from carestation.ui.views.base import View, attempt

RECENT_DAYS = 14
WHY_COLUMN, WHY_WIDTH = 4, 260  # the full rule is in the tooltip and in the act dialog
_FAR_FUTURE = 10**11  # seconds; turns "newest first" into an ascending text key


def status_text(alert: RiskAlertInfo) -> str:
    return _("Open: act now") if alert.is_open else _("Acted on")


def order_key(alert: RiskAlertInfo) -> str:
    """Open alerts first, oldest first; then acted ones, newest first (as text, so Qt sorts)."""
    if alert.is_open:
        return f"0 {int(alert.raised_at.timestamp()):012d}"
    assert alert.acted_at is not None
    return f"1 {_FAR_FUTURE - int(alert.acted_at.timestamp()):012d}"


def _crisis_cell(alert: RiskAlertInfo) -> str:
    if alert.crisis_flag_id is not None:
        return _("Raised")
    return "—" if alert.client_id is None else _("No")


def _columns() -> list[Column[RiskAlertInfo]]:
    # What the person on duty needs first on the left; the station last (usually only one).
    return [
        Column(lambda: _("Status"), status_text, sort_key=order_key),
        Column(
            lambda: _("Raised"), lambda a: when_text(a.raised_at), sort_key=lambda a: a.raised_at
        ),
        Column(
            lambda: _("Who"),
            lambda a: who_text(a, short=True),
            tooltip=lambda a: who_text(a),
        ),
        Column(lambda: _("Questionnaire"), lambda a: instrument_title(a.instrument, short=True)),
        Column(
            lambda: _("Why"),
            lambda a: risk_reason_text(a.reason),
            tooltip=lambda a: risk_reason_text(a.reason),
        ),
        Column(lambda: _("Crisis flag"), _crisis_cell),
        Column(lambda: _("What was done"), lambda a: a.action.title if a.action else ""),
        Column(lambda: _("By"), lambda a: a.acted_by_name),
        Column(
            lambda: _("When"),
            lambda a: when_text(a.acted_at) if a.acted_at else "",
            sort_key=lambda a: a.acted_at.isoformat() if a.acted_at else "",
        ),
        Column(lambda: _("Note"), lambda a: a.note.replace("\n", " "), tooltip=lambda a: a.note),
        Column(lambda: _("Station"), lambda a: a.station_name),
    ]


class RiskAlertModel(RecordTableModel[RiskAlertInfo]):
    """Open alerts in dark red with their status in bold words: colour is never the only cue."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(_columns(), parent)
        self._bold = QFont()
        self._bold.setBold(True)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (
            role in (Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.FontRole)
            and index.isValid()
            and 0 <= index.row() < self.rowCount()
            and self.row_value(index.row()).is_open
        ):
            if role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(tone_color("error"))
            if index.column() == 0:
                return self._bold
        return super().data(index, role)


def split(recent: list[RiskAlertInfo]) -> list[RiskAlertInfo]:
    """The service's recent list (every open alert, and those acted on lately) as the screen
    shows it: open ones oldest first, then acted ones newest first."""
    open_alerts = sorted((a for a in recent if a.is_open), key=lambda a: (a.raised_at, a.id))
    acted = sorted((a for a in recent if not a.is_open), key=order_key)
    return [*open_alerts, *acted]


class RiskAlertsView(View):
    TITLE = N_("Risk alerts")

    alert_acted = Signal(int)  # an alert's id, after this user or a colleague acted on it

    def __init__(
        self,
        alerts: RiskAlerts,
        actor: Actor,
        prompter: Prompter,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, objectName="risk_alerts_view")
        self._alerts, self._actor, self._prompter = alerts, actor, prompter
        self._loaded = False
        intro = QLabel(
            _(
                "Results that need someone to act now. An alert stays open until someone "
                "records what was done. Acted-on alerts of the last {days} days are listed below "
                "the open ones."
            ).format(days=RECENT_DAYS),
            wordWrap=True,
        )
        self.summary_label = QLabel(objectName="risk_alerts_summary")
        bold = QFont(self.summary_label.font())
        bold.setBold(True)
        self.summary_label.setFont(bold)
        self.panel = RecordPanel(_("Alerts"), RiskAlertModel(), "risk_alerts_table")
        self.act_button = self.panel.add_button(
            _("&See and act..."),
            "act_on_alert",
            self.act_on_selected,
            enabled_when=lambda a: a is not None and a.is_open,
        )
        self.panel.buttons.addStretch(1)
        self.panel.table.doubleClicked.connect(lambda _index: self.act_on_selected())
        enter_opens(self.panel.table)
        self.message_label = QLabel(objectName="risk_alerts_message", wordWrap=True)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.panel, 1)
        layout.addWidget(self.message_label)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._loaded and not event.spontaneous():
            self.refresh()

    def refresh(self) -> None:
        # One call (and one audit entry): `recent` lists every open alert as well.
        found = attempt(
            self, self._prompter, lambda: self._alerts.recent(self._actor, days=RECENT_DAYS)
        )
        rows = split(found or [])
        selected = self.selected()
        # Keep the selection; otherwise select the oldest open alert, ready for "See and act".
        if selected is not None and any(a.id == selected.id for a in rows):
            select_id: int | None = selected.id
        else:
            select_id = next((a.id for a in rows if a.is_open), None)
        self.panel.set_rows(rows, select_id=select_id)
        header = self.panel.table.horizontalHeader()
        header.resizeSection(WHY_COLUMN, min(header.sectionSize(WHY_COLUMN), WHY_WIDTH))
        open_count = sum(1 for a in rows if a.is_open)
        if open_count:
            self.summary_label.setText(
                ngettext(
                    "{n} alert needs someone to act now",
                    "{n} alerts need someone to act now",
                    open_count,
                ).format(n=open_count)
            )
        else:
            self.summary_label.setText(_("No alert is waiting."))
        self._loaded = True

    def refresh_if_shown(self, _count: int = 0) -> None:
        """Connected to the bar's `count_changed`: new alerts appear while the list is open."""
        if self._loaded and self.isVisible():
            self.refresh()

    def clear(self) -> None:
        self.panel.set_rows([])
        self.summary_label.clear()
        self.message_label.clear()
        self._loaded = False

    def selected(self) -> RiskAlertInfo | None:
        return self.panel.selected()

    def rows(self) -> list[RiskAlertInfo]:
        return self.panel.model.rows()

    def act_on_selected(self) -> ActOnAlertDialog | None:
        alert = self.selected()
        if alert is None or not alert.is_open:
            return None
        dialog = ActOnAlertDialog(self._alerts, self._actor, self._prompter, alert, parent=self)
        dialog.acted_elsewhere.connect(self._acted_elsewhere)
        open_dialog(dialog, lambda: self._acted(dialog))
        return dialog

    def _acted(self, dialog: ActOnAlertDialog) -> None:
        saved: RiskAlertInfo = dialog.saved
        self.refresh()
        self.message_label.setText(
            _("Recorded for the alert of {when}: {action}.").format(
                when=when_text(saved.raised_at),
                action=saved.action.title if saved.action else "",
            )
        )
        self.alert_acted.emit(saved.id)

    def _acted_elsewhere(self, alert_id: int) -> None:
        self.refresh()
        self.alert_acted.emit(alert_id)


def link(bar: RiskAlertBar, view: RiskAlertsView) -> None:
    """Keeps the banner and the list in step: acting in the list updates the banner at once,
    and new alerts found by the banner's check appear in the list while it is shown."""
    view.alert_acted.connect(lambda _id: bar.refresh())
    bar.count_changed.connect(view.refresh_if_shown)
