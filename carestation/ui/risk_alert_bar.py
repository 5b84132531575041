"""Risk alerts on screen: the banner that stays in the main window while any result needs
someone to act now, and the dialog in which the person on duty records what was done."""

from __future__ import annotations

import logging
from typing import Protocol

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from carestation.assessments import load_instrument
from carestation.domain.assessment_values import RiskAlertInfo, risk_reason_text
from carestation.domain.errors import CareStationError, Conflict
from carestation.domain.roles import Permission
from carestation.domain.values import Actor
from carestation.domain.vocab import AssessmentMode, RiskAction
from carestation.i18n import _, current_language, ngettext
from carestation.ui.crisis_widgets import when_text
from carestation.ui.prompts import Prompter
from carestation.ui.record_panel import FormDialog, yes_no
from carestation.ui.style import set_tone

log = logging.getLogger(__name__)

NOTE_LIMIT = 1000
DEFAULT_POLL_MS = 15_000


class RiskAlerts(Protocol):
    """What the alert screens need of carestation.services.risk_alerts.RiskAlertService."""

    def count_open(self, actor: Actor) -> int: ...
    def recent(self, actor: Actor, *, days: int = 14) -> list[RiskAlertInfo]: ...
    def act(
        self, actor: Actor, *, alert_id: int, action: RiskAction, note: str = ""
    ) -> RiskAlertInfo: ...


def instrument_title(code: str, *, short: bool = False) -> str:
    """The questionnaire's name in the current language (its code if it is unknown)."""
    try:
        instrument = load_instrument(code)
    except ValueError:
        return code
    text = instrument.short_title if short else instrument.title
    return text.text(current_language())


def who_text(alert: RiskAlertInfo, *, short: bool = False) -> str:
    """The client's code, or who the anonymous person was (never a name)."""
    if alert.client_code:
        return alert.client_code
    if alert.mode is AssessmentMode.COUNSELLOR:
        return _("Client without a code")
    if short:
        return _("Anonymous visitor")
    return _("Anonymous visitor at the self-service screen")


def crisis_text(alert: RiskAlertInfo) -> str:
    if alert.crisis_flag_id is not None:
        return _("Yes: a crisis flag was raised on the client's record")
    if alert.client_id is None:
        return _("No (anonymous: there is no record to flag)")
    return yes_no(False)


class RiskAlertBar(QFrame):
    """A banner for the main window, shown while any result at the user's stations needs
    someone to act now ("2 results need someone to act now" and a "See and act" button), and
    hidden when there are none. It asks the service every `interval_ms`, and at once through
    `refresh()`. If the check fails it stays visible and says so: a silent failure would look
    exactly like "no alerts"."""

    open_requested = Signal()
    count_changed = Signal(int)  # after each check that changed the number

    def __init__(
        self,
        alerts: RiskAlerts,
        actor: Actor,
        parent: QWidget | None = None,
        *,
        interval_ms: int = DEFAULT_POLL_MS,
    ) -> None:
        super().__init__(parent, objectName="risk_alert_bar")
        self._alerts, self._actor = alerts, actor
        self.count: int | None = None
        self.failed = False
        self.setFrameShape(QFrame.Shape.StyledPanel)
        set_tone(self, "alarm", boxed=True)  # with a warning icon and the count in words
        self.setAccessibleName(_("Risk alerts"))
        self.icon_label = QLabel(objectName="risk_alert_icon")
        icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        self.icon_label.setPixmap(icon.pixmap(28, 28))
        self.icon_label.setAccessibleName(_("Warning"))
        self.text_label = QLabel(objectName="risk_alert_text")
        self.text_label.setTextFormat(Qt.TextFormat.PlainText)
        font = QFont(self.text_label.font())
        font.setBold(True)
        font.setPointSizeF(max(font.pointSizeF(), 9.0) * 1.2)
        self.text_label.setFont(font)
        self.act_button = QPushButton(_("&See and act"), self, objectName="risk_alert_open")
        self.act_button.setAutoDefault(False)
        self.act_button.clicked.connect(self.open_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addWidget(self.icon_label)
        layout.addWidget(self.text_label, 1)
        layout.addWidget(self.act_button)
        self.timer = QTimer(self, objectName="risk_alert_timer")
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.refresh)
        self.hide()

    @property
    def enabled_for_actor(self) -> bool:
        return self._actor.can(Permission.ACT_ON_RISK_ALERTS)

    def start(self) -> None:
        """Checks now and then every interval (after sign-in and unlock)."""
        if not self.enabled_for_actor:
            return
        self.refresh()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def clear(self) -> None:
        """On lock and sign-out: stop asking and show nothing until `start()`."""
        self.stop()
        self.count = None
        self.failed = False
        self.text_label.clear()
        self.hide()

    def refresh(self) -> None:
        if not self.enabled_for_actor:
            self.hide()
            return
        try:
            count = self._alerts.count_open(self._actor)
        except CareStationError as exc:
            self._show_failure(str(exc))
            return
        except Exception:  # the database went away: say so, keep trying, never crash a timer
            log.exception("risk alert check failed")
            self._show_failure(_("the database could not be reached"))
            return
        self._show_count(count)

    def _show_count(self, count: int) -> None:
        before = self.count
        self.count, self.failed = count, False
        if count <= 0:
            self.text_label.clear()
            self.setAccessibleDescription("")
            self.hide()
        else:
            text = ngettext(
                "{n} result needs someone to act now",
                "{n} results need someone to act now",
                count,
            ).format(n=count)
            self.text_label.setText(text)
            self.setAccessibleDescription(text)
            self.act_button.show()
            self.show()
            if before is None or count > before:
                QApplication.alert(self.window())  # the task-bar entry asks for attention
        if count != before:
            self.count_changed.emit(count)

    def _show_failure(self, reason: str) -> None:
        self.failed = True
        text = _("Risk alerts could not be checked ({reason}). Trying again.").format(reason=reason)
        self.text_label.setText(text)
        self.setAccessibleDescription(text)
        self.act_button.setVisible(bool(self.count))
        self.show()


class ActOnAlertDialog(FormDialog):
    """One alert, and what was done about it: an action must be chosen (none is preselected)
    and a note may be added. If a colleague has acted meanwhile, the user is told who, the
    dialog emits `acted_elsewhere` (so the lists refresh) and closes."""

    acted_elsewhere = Signal(int)  # the alert's id

    def __init__(
        self,
        alerts: RiskAlerts,
        actor: Actor,
        prompter: Prompter,
        alert: RiskAlertInfo,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(prompter, _("Act on a risk alert"), "act_on_alert_dialog", parent)
        self._alerts, self._actor, self.alert = alerts, actor, alert
        self._conflict: Conflict | None = None
        self.setMinimumWidth(620)
        heading = QLabel(_("A result needs someone to act now"), objectName="alert_heading")
        bold = QFont(heading.font())
        bold.setBold(True)
        bold.setPointSizeF(max(bold.pointSizeF(), 9.0) * 1.2)
        heading.setFont(bold)
        self.form.addRow(heading)
        rows = (
            ("station", _("Station"), alert.station_name),
            ("raised", _("Time"), when_text(alert.raised_at)),
            ("instrument", _("Questionnaire"), instrument_title(alert.instrument)),
            ("reason", _("Why"), risk_reason_text(alert.reason)),
            ("who", _("Who"), who_text(alert)),
            ("crisis", _("Crisis flag"), crisis_text(alert)),
        )
        self.detail_labels: dict[str, QLabel] = {}
        for key, title, text in rows:
            label = QLabel(text, objectName=f"alert_{key}", wordWrap=True)
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.form.addRow(title, label)
            self.detail_labels[key] = label
        if alert.mode is not AssessmentMode.COUNSELLOR:
            guide = QLabel(
                _(
                    "The self-service screen showed the person the help lines, not a result. "
                    "If they are still at the station, go to them now."
                ),
                objectName="alert_guide",
                wordWrap=True,
            )
            self.form.addRow("", guide)

        box = QWidget(objectName="alert_actions")
        box.setAccessibleName(_("What was done"))
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        self.action_group = QButtonGroup(self)
        self.action_group.setExclusive(True)
        self.action_buttons: dict[RiskAction, QRadioButton] = {}
        for action in RiskAction:
            radio = QRadioButton(action.title, box, objectName=f"action_{action.value}")
            radio.setChecked(False)
            self.action_group.addButton(radio)
            column.addWidget(radio)
            self.action_buttons[action] = radio
        self.row("action", _("What was done"), box)

        self.note_edit = QPlainTextEdit(objectName="alert_note")
        self.note_edit.setAccessibleName(_("Note (optional)"))
        self.note_edit.setPlaceholderText(_("Optional: who went, what was agreed, whom you told."))
        self.note_edit.setTabChangesFocus(True)
        self.note_edit.setMinimumHeight(80)
        self.counter_label = QLabel(objectName="alert_note_counter")
        self.counter_label.setAlignment(Qt.AlignmentFlag.AlignRight)
        note_box = QWidget()
        note_column = QVBoxLayout(note_box)
        note_column.setContentsMargins(0, 0, 0, 0)
        note_column.addWidget(self.note_edit)
        note_column.addWidget(self.counter_label)
        self.row("note", _("&Note"), note_box)
        self.note_edit.textChanged.connect(self._count)
        self._count()
        self.finish()
        self.ok_button.setText(_("&Save what was done"))
        self.ok_button.setObjectName("save_action")
        first = next(iter(self.action_buttons.values()))
        first.setFocus()

    def clear(self) -> None:
        """On lock: the main window calls this before closing open dialogs."""
        self.note_edit.clear()

    def chosen(self) -> RiskAction | None:
        for action, radio in self.action_buttons.items():
            if radio.isChecked():
                return action
        return None

    def _count(self) -> None:
        n = len(self.note_edit.toPlainText())
        self.counter_label.setText(
            _("{count} of {limit} characters").format(count=n, limit=NOTE_LIMIT)
        )
        over = n > NOTE_LIMIT
        set_tone(self.counter_label, "error" if over else None, bold=over)

    def problems(self) -> dict[str, str]:
        found: dict[str, str] = {}
        if self.chosen() is None:
            found["action"] = _(
                "Choose what was done. The alert stays open until an action is recorded."
            )
        n = len(self.note_edit.toPlainText())
        if n > NOTE_LIMIT:
            found["note"] = _(
                "The note is {count} characters long; shorten it to {limit} or fewer."
            ).format(count=n, limit=NOTE_LIMIT)
        return found

    def save(self) -> RiskAlertInfo | None:
        action = self.chosen()
        assert action is not None  # problems() refused the form otherwise
        try:
            return self._alerts.act(
                self._actor,
                alert_id=self.alert.id,
                action=action,
                note=self.note_edit.toPlainText().strip(),
            )
        except Conflict as exc:
            self._conflict = exc
            return None

    def on_ok(self) -> None:
        self._conflict = None
        super().on_ok()
        if self._conflict is not None:
            self._prompter.error(
                self, _("Someone else has acted on this alert"), str(self._conflict)
            )
            self.acted_elsewhere.emit(self.alert.id)
            self.reject()
