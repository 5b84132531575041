"""The risk-alert banner, the act-on-alert dialog and the alerts screen, driven with qtbot over a
fake service that returns the contract's values."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLabel, QRadioButton, QWidget
from pytestqt.qtbot import QtBot

from carestation.domain.assessment_values import RiskAlertInfo
from carestation.domain.errors import Conflict, DatabaseProblem
from carestation.domain.roles import Role
from carestation.domain.values import Actor
from carestation.domain.vocab import AssessmentMode, RiskAction
from carestation.services.container import Services
from carestation.services.risk_alerts import RiskAlertService
from carestation.ui.prompts import RecordingPrompter
from carestation.ui.risk_alert_bar import DEFAULT_POLL_MS, ActOnAlertDialog, RiskAlertBar
from carestation.ui.views.risk_alerts_view import RiskAlertsView, link
from tests.conftest import FakeClock
from tests.factories import build_world

SHANGHAI = timezone(timedelta(hours=8))
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
SELF_HARM = (
    "PHQ-9 question 9 (thoughts of being better off dead or of self-harm) was answered above "
    "'not at all'."
)
K10 = "The K10 total is 30 or more (very high psychological distress)."


def actor(role: Role = Role.STAFF) -> Actor:
    return Actor(
        user_id=3,
        username="wangfang",
        display_name="王芳",
        roles=frozenset({role}),
        station_ids=frozenset({1}),
        station_id=1,
    )


def alert(alert_id: int, **changes: object) -> RiskAlertInfo:
    base = RiskAlertInfo(
        id=alert_id,
        station_id=1,
        station_name="诸暨市总工会职工情绪管理服务站",
        raised_at=T0,
        mode=AssessmentMode.ANONYMOUS,
        instrument="phq9",
        reason="self_harm_item",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


ANON = alert(7)
CLIENT = alert(
    8,
    raised_at=T0 + timedelta(minutes=20),
    mode=AssessmentMode.KIOSK,
    instrument="k10",
    reason="k10_very_high",
    client_id=41,
    client_code="C-000041",
    crisis_flag_id=5,
)
ACTED_OLD = alert(
    3,
    raised_at=T0 - timedelta(days=3),
    acted_at=T0 - timedelta(days=3, minutes=-10),
    acted_by_name="陈静",
    action=RiskAction.SPOKE_WITH_PERSON,
    note="陪同至咨询室",
)
ACTED_NEW = alert(
    4,
    raised_at=T0 - timedelta(days=1),
    acted_at=T0 - timedelta(days=1, minutes=-5),
    acted_by_name="陈静",
    action=RiskAction.GAVE_HOTLINES,
)


class FakeAlerts:
    def __init__(self, *open_alerts: RiskAlertInfo, acted: tuple[RiskAlertInfo, ...] = ()) -> None:
        self.open = list(open_alerts)
        self.acted = list(acted)
        self.calls: list[tuple[str, object]] = []
        self.conflict: str | None = None
        self.failure: Exception | None = None

    def count_open(self, actor: Actor) -> int:
        self.calls.append(("count_open", actor.username))
        if self.failure is not None:
            raise self.failure
        return len(self.open)

    def open_alerts(self, actor: Actor) -> list[RiskAlertInfo]:
        return sorted(self.open, key=lambda a: a.raised_at)

    def recent(self, actor: Actor, *, days: int = 14) -> list[RiskAlertInfo]:
        self.calls.append(("recent", days))
        return sorted(
            [*self.open, *self.acted], key=lambda a: a.acted_at or a.raised_at, reverse=True
        )

    def act(
        self, actor: Actor, *, alert_id: int, action: RiskAction, note: str = ""
    ) -> RiskAlertInfo:
        self.calls.append(("act", (alert_id, action, note)))
        if self.conflict is not None:
            raise Conflict(self.conflict)
        found = next(a for a in self.open if a.id == alert_id)
        done = replace(
            found, acted_at=T0 + timedelta(hours=1), acted_by_name="王芳", action=action, note=note
        )
        self.open.remove(found)
        self.acted.append(done)
        return done


def bar_in_window(qtbot: QtBot, alerts: FakeAlerts, **kwargs: object) -> RiskAlertBar:
    window = QWidget()
    qtbot.addWidget(window)
    bar = RiskAlertBar(alerts, kwargs.pop("who", actor()), window, **kwargs)  # type: ignore[arg-type]
    window.show()
    bar.test_window = window  # type: ignore[attr-defined]  # qtbot keeps only a weak reference
    return bar


def error_text(dialog: QDialog, key: str) -> str:
    label = dialog.findChild(QLabel, f"error_{key}")
    assert label is not None, key
    return label.text() if label.isVisibleTo(dialog) else ""


# --- the banner -------------------------------------------------------------------------------
def test_the_bar_shows_the_count_in_words_and_hides_at_zero(qtbot: QtBot) -> None:
    alerts = FakeAlerts(ANON, CLIENT)
    bar = bar_in_window(qtbot, alerts)
    assert bar.timer.interval() == DEFAULT_POLL_MS == 15_000
    assert not bar.isVisible()  # nothing shown before the first check
    with qtbot.waitSignal(bar.count_changed) as changed:
        bar.start()
    assert changed.args == [2]
    assert bar.isVisible()
    assert bar.text_label.text() == "2 results need someone to act now"
    assert bar.text_label.font().bold()
    assert not bar.icon_label.pixmap().isNull()  # an icon, not colour alone
    assert bar.accessibleDescription() == "2 results need someone to act now"
    assert bar.act_button.text() == "&See and act"
    with qtbot.waitSignal(bar.open_requested):
        qtbot.mouseClick(bar.act_button, Qt.MouseButton.LeftButton)

    alerts.open.remove(ANON)
    bar.refresh()
    assert bar.text_label.text() == "1 result needs someone to act now"
    alerts.open.clear()
    with qtbot.waitSignal(bar.count_changed) as changed:
        bar.refresh()
    assert changed.args == [0]
    assert not bar.isVisible()
    assert bar.text_label.text() == ""


def test_the_bar_polls_on_its_timer_and_stops_when_cleared(qtbot: QtBot) -> None:
    alerts = FakeAlerts()
    bar = bar_in_window(qtbot, alerts, interval_ms=30)
    bar.start()
    assert not bar.isVisible()
    alerts.open.append(ANON)  # a result arrives; nobody calls refresh()
    qtbot.waitUntil(lambda: bar.isVisible(), timeout=2000)
    assert bar.text_label.text() == "1 result needs someone to act now"

    bar.clear()  # lock
    assert not bar.isVisible()
    assert not bar.timer.isActive()
    polled = len(alerts.calls)
    qtbot.wait(120)
    assert len(alerts.calls) == polled  # no checks while locked
    bar.start()  # unlock
    assert bar.isVisible()


def test_a_failed_check_is_shown_not_mistaken_for_no_alerts(qtbot: QtBot) -> None:
    alerts = FakeAlerts()
    alerts.failure = DatabaseProblem("the database file is locked")
    bar = bar_in_window(qtbot, alerts)
    bar.refresh()
    assert bar.isVisible()
    assert bar.failed
    assert bar.text_label.text() == (
        "Risk alerts could not be checked (the database file is locked). Trying again."
    )
    assert not bar.act_button.isVisible()
    alerts.failure = None
    alerts.open.append(ANON)
    bar.refresh()
    assert not bar.failed
    assert bar.text_label.text() == "1 result needs someone to act now"


def test_the_bar_stays_hidden_and_silent_for_managers(qtbot: QtBot) -> None:
    alerts = FakeAlerts(ANON)
    bar = bar_in_window(qtbot, alerts, who=actor(Role.MANAGER))
    bar.start()
    bar.refresh()
    assert not bar.isVisible()
    assert not bar.timer.isActive()
    assert alerts.calls == []


# --- the act dialog ---------------------------------------------------------------------------
def test_the_dialog_shows_the_alert_and_refuses_without_an_action(qtbot: QtBot) -> None:
    alerts, prompter = FakeAlerts(ANON), RecordingPrompter()
    dialog = ActOnAlertDialog(alerts, actor(), prompter, ANON)
    qtbot.addWidget(dialog)
    dialog.show()
    texts = {k: label.text() for k, label in dialog.detail_labels.items()}
    assert texts == {
        "station": "诸暨市总工会职工情绪管理服务站",
        "raised": "2026-11-23 10:00",
        "instrument": "Patient Health Questionnaire (PHQ-9)",
        "reason": SELF_HARM,
        "who": "Anonymous visitor at the self-service screen",
        "crisis": "No (anonymous: there is no record to flag)",
    }
    radios = dialog.findChildren(QRadioButton)
    assert [r.text() for r in radios] == [a.title for a in RiskAction]
    assert not any(r.isChecked() for r in radios)  # no default

    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert error_text(dialog, "action") == (
        "Choose what was done. The alert stays open until an action is recorded."
    )
    assert [c for c in alerts.calls if c[0] == "act"] == []
    assert prompter.shown == []

    dialog.action_buttons[RiskAction.GAVE_HOTLINES].setChecked(True)
    qtbot.keyClicks(dialog.note_edit, "Went to the screen; she took the card. ")
    assert dialog.counter_label.text() == "39 of 1000 characters"
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert ("act", (7, RiskAction.GAVE_HOTLINES, "Went to the screen; she took the card.")) in (
        alerts.calls
    )
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.saved.action is RiskAction.GAVE_HOTLINES


def test_an_identified_client_alert_names_the_code_and_the_crisis_flag(qtbot: QtBot) -> None:
    dialog = ActOnAlertDialog(FakeAlerts(CLIENT), actor(), RecordingPrompter(), CLIENT)
    qtbot.addWidget(dialog)
    assert dialog.detail_labels["who"].text() == "C-000041"
    assert dialog.detail_labels["reason"].text() == K10
    assert dialog.detail_labels["instrument"].text() == "Kessler Psychological Distress Scale (K10)"
    assert dialog.detail_labels["crisis"].text() == (
        "Yes: a crisis flag was raised on the client's record"
    )


def test_a_note_over_1000_characters_is_refused(qtbot: QtBot) -> None:
    alerts = FakeAlerts(ANON)
    dialog = ActOnAlertDialog(alerts, actor(), RecordingPrompter(), ANON)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.action_buttons[RiskAction.SPOKE_WITH_PERSON].setChecked(True)
    dialog.note_edit.setPlainText("x" * 1001)
    assert dialog.counter_label.text() == "1001 of 1000 characters"
    dialog.ok_button.click()
    assert dialog.isVisible()
    assert error_text(dialog, "note") == (
        "The note is 1001 characters long; shorten it to 1000 or fewer."
    )
    assert [c for c in alerts.calls if c[0] == "act"] == []


def test_someone_else_acting_first_is_shown_and_the_dialog_closes(qtbot: QtBot) -> None:
    alerts, prompter = FakeAlerts(ANON), RecordingPrompter()
    alerts.conflict = "陈静 already recorded an action on this alert at 10:05."
    dialog = ActOnAlertDialog(alerts, actor(), prompter, ANON)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.action_buttons[RiskAction.SPOKE_WITH_PERSON].setChecked(True)
    with qtbot.waitSignal(dialog.acted_elsewhere) as elsewhere:
        dialog.ok_button.click()
    assert elsewhere.args == [7]
    assert prompter.shown == [
        (
            "error",
            "Someone else has acted on this alert",
            "陈静 already recorded an action on this alert at 10:05.",
        )
    ]
    assert not dialog.isVisible()
    assert dialog.result() == QDialog.DialogCode.Rejected


# --- the alerts screen ------------------------------------------------------------------------
@pytest.fixture
def view_env(qtbot: QtBot) -> tuple[RiskAlertsView, FakeAlerts, RecordingPrompter]:
    alerts, prompter = FakeAlerts(CLIENT, ANON, acted=(ACTED_OLD, ACTED_NEW)), RecordingPrompter()
    view = RiskAlertsView(alerts, actor(), prompter)
    qtbot.addWidget(view)
    view.resize(1200, 500)
    view.show()
    view.refresh()
    return view, alerts, prompter


def cells(view: RiskAlertsView, column: int) -> list[str]:
    proxy = view.panel.proxy
    return [proxy.index(r, column).data() for r in range(proxy.rowCount())]


def test_the_view_lists_open_alerts_first_then_recent_acted_ones(
    view_env: tuple[RiskAlertsView, FakeAlerts, RecordingPrompter], qtmodeltester
) -> None:  # type: ignore[no-untyped-def]
    view, alerts, _prompter = view_env
    assert view.title() == "Risk alerts"
    qtmodeltester.check(view.panel.model)
    assert cells(view, 0) == ["Open: act now", "Open: act now", "Acted on", "Acted on"]
    assert [a.id for a in view.rows()] == [7, 8, 4, 3]
    assert cells(view, 1) == [
        "2026-11-23 10:00",
        "2026-11-23 10:20",
        "2026-11-22 10:00",
        "2026-11-20 10:00",
    ]
    assert cells(view, 2)[:2] == ["Anonymous visitor", "C-000041"]
    assert cells(view, 3) == ["PHQ-9", "K10", "PHQ-9", "PHQ-9"]
    assert cells(view, 4) == [SELF_HARM, K10, SELF_HARM, SELF_HARM]
    assert cells(view, 5)[:2] == ["—", "Raised"]
    assert cells(view, 6)[2:] == [
        "Gave the help lines (12356, 12351, 120)",
        "Spoke with the person in private",
    ]
    assert cells(view, 7)[2:] == ["陈静", "陈静"]
    assert cells(view, 8)[2:] == ["2026-11-22 10:05", "2026-11-20 10:10"]
    assert cells(view, 9)[3] == "陪同至咨询室"
    assert cells(view, 10)[0] == "诸暨市总工会职工情绪管理服务站"
    assert view.selected() == ANON  # the oldest open alert, ready for "See and act"
    assert view.act_button.isEnabled()
    assert view.summary_label.text() == "2 alerts need someone to act now"
    assert ("recent", 14) in alerts.calls
    first = view.panel.proxy.index(0, 0)
    assert first.data(Qt.ItemDataRole.FontRole).bold()  # open: bold words, not only red

    view.panel.table.selectRow(2)  # an acted one cannot be acted on again
    assert not view.act_button.isEnabled()
    assert view.act_on_selected() is None


def test_double_click_opens_the_dialog_and_acting_updates_list_and_bar(
    qtbot: QtBot, view_env: tuple[RiskAlertsView, FakeAlerts, RecordingPrompter]
) -> None:
    view, alerts, _prompter = view_env
    bar = bar_in_window(qtbot, alerts)
    link(bar, view)
    bar.start()
    assert bar.text_label.text() == "2 results need someone to act now"

    table = view.panel.table
    rect = table.visualRect(view.panel.proxy.index(1, 2))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert view.selected() == CLIENT
    rect = table.visualRect(view.panel.proxy.index(0, 2))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    dialogs = [d for d in view.findChildren(ActOnAlertDialog) if d.isVisible()]
    assert len(dialogs) == 1
    dialog = dialogs[0]
    assert dialog.alert == ANON
    dialog.action_buttons[RiskAction.CONTACTED_EXPERT].setChecked(True)
    with qtbot.waitSignal(view.alert_acted) as acted:
        dialog.ok_button.click()
    assert acted.args == [7]
    assert [a.id for a in view.rows()] == [8, 7, 4, 3]
    assert cells(view, 0) == ["Open: act now", "Acted on", "Acted on", "Acted on"]
    assert view.message_label.text() == (
        "Recorded for the alert of 2026-11-23 10:00: Contacted the on-duty expert."
    )
    assert bar.text_label.text() == "1 result needs someone to act now"  # at once, via link()


def test_clear_drops_every_alert_on_lock(
    view_env: tuple[RiskAlertsView, FakeAlerts, RecordingPrompter],
) -> None:
    view, _alerts, _prompter = view_env
    view.clear()
    assert view.rows() == []
    assert view.panel.proxy.rowCount() == 0
    assert view.summary_label.text() == ""


# --- over the real service on SQLite ----------------------------------------------------------
def test_bar_view_and_dialog_over_the_real_service(
    qtbot: QtBot, sqlite_services: Services, clock: FakeClock
) -> None:
    world = build_world(sqlite_services)
    s = sqlite_services
    service = RiskAlertService(s.db, s.audit, clock, s.vault)
    with s.db.write() as session:
        for instrument, reason in (("phq9", "self_harm_item"), ("k10", "k10_very_high")):
            service.raise_alert(
                session,
                station_id=world.station_id,
                mode=AssessmentMode.ANONYMOUS,
                instrument=instrument,
                reason=reason,
            )
    prompter = RecordingPrompter()
    bar = bar_in_window(qtbot, service, who=world.staff)  # type: ignore[arg-type]
    view = RiskAlertsView(service, world.staff, prompter)
    qtbot.addWidget(view)
    link(bar, view)
    bar.start()
    assert bar.text_label.text() == "2 results need someone to act now"
    view.show()
    view.refresh()
    assert cells(view, 3) == ["PHQ-9", "K10"]
    assert cells(view, 2) == ["Anonymous visitor", "Anonymous visitor"]

    dialog = view.act_on_selected()
    assert dialog is not None
    dialog.action_buttons[RiskAction.SPOKE_WITH_PERSON].setChecked(True)
    dialog.note_edit.setPlainText("陪同至咨询室")
    dialog.ok_button.click()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert bar.text_label.text() == "1 result needs someone to act now"
    assert cells(view, 0) == ["Open: act now", "Acted on"]
    assert cells(view, 9) == ["", "陪同至咨询室"]  # the note, decrypted for the reader

    # A colleague acts on the other one while this user has the dialog open.
    view.panel.table.selectRow(0)
    dialog = view.act_on_selected()
    assert dialog is not None
    service.act(world.counsellor, alert_id=dialog.alert.id, action=RiskAction.GAVE_HOTLINES)
    dialog.action_buttons[RiskAction.CONTACTED_EXPERT].setChecked(True)
    dialog.ok_button.click()
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert prompter.shown[-1][:2] == ("error", "Someone else has acted on this alert")
    assert prompter.shown[-1][2].startswith(f"{world.counsellor.display_name} already recorded")
    assert cells(view, 0) == ["Acted on", "Acted on"]
    assert not bar.isVisible()
