"""The audit trail screen: filters the database applies, the quick search, and verifying the chain
(including a row changed behind the app's back), on a real database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QComboBox, QDateEdit, QLineEdit, QPushButton
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select, text

from carestation.db.models import AuditEvent
from carestation.domain.errors import AuthenticationFailed, PermissionDenied
from carestation.domain.roles import Role
from carestation.domain.values import Actor, StationInput, UserInput
from carestation.services.container import Services
from carestation.ui.prompts import RecordingPrompter
from carestation.ui.views.audit_view import AuditView, verify_message
from tests.conftest import FakeClock
from tests.factories import PASSWORD
from tests.ui.typing import type_text

USER, ACTION, RECORD, RESULT = 1, 4, 5, 6  # table columns


@dataclass
class Env:
    services: Services
    admin: Actor
    staff: Actor
    staff_id: int
    prompter: RecordingPrompter
    view: AuditView
    clock: FakeClock


def _today(clock: FakeClock) -> date:
    return clock.now().astimezone().date()


@pytest.fixture
def env(qtbot: QtBot, services: Services, clock: FakeClock) -> Env:
    """Set-up and some activity today; one refused action; one sign-in 40 days ago."""
    station, admin = services.setup.create_first_admin(
        station=StationInput(name="诸暨市职工情绪管理服务站"),
        username="admin",
        display_name="管理员",
        password=PASSWORD,
    )
    now = clock.current
    clock.current = now - timedelta(days=40)
    services.auth.sign_in(username="admin", password=PASSWORD)
    clock.current = now
    staff_user = services.admin.create_user(
        actor=admin,
        data=UserInput(
            username="staff01",
            display_name="王芳",
            roles=frozenset({Role.STAFF}),
            station_ids=frozenset({station.id}),
        ),
        password=PASSWORD,
    )
    staff = services.auth.sign_in(username="staff01", password=PASSWORD)
    with pytest.raises(AuthenticationFailed):
        services.auth.sign_in(username="staff01", password="not the password")
    with pytest.raises(PermissionDenied):
        services.admin.list_users(actor=staff)
    prompter = RecordingPrompter()
    view = AuditView(services.audit_queries, services.keys, admin, prompter)
    qtbot.addWidget(view)
    view.resize(1200, 700)
    view.show()
    qtbot.waitExposed(view)
    view.refresh()
    return Env(services, admin, staff, staff_user.id, prompter, view, clock)


def rows(view: AuditView) -> list[list[str]]:
    proxy = view.table.model()
    return [
        [proxy.index(r, c).data() for c in range(proxy.columnCount())]
        for r in range(proxy.rowCount())
    ]


def column(view: AuditView, index: int) -> list[str]:
    return [row[index] for row in rows(view)]


def choose(combo: QComboBox, code: str) -> None:
    index = combo.findData(code)
    assert index >= 0, code
    combo.setCurrentIndex(index)


def apply(view: AuditView) -> None:
    button = view.findChild(QPushButton, "audit_apply")
    assert button is not None
    button.click()


def test_the_last_thirty_days_are_shown_newest_first(env: Env) -> None:
    view = env.view
    today = _today(env.clock)
    assert view.since_edit.date().toPython() == today - timedelta(days=29)
    assert view.until_edit.date().toPython() == today
    # The sign-in 40 days ago is outside; today's entries are in, newest first.
    assert column(view, ACTION) == [
        "List users",
        "Sign in",
        "Sign in",
        "Create user",
        "First set-up",
    ]
    assert column(view, RESULT) == ["Refused: not allowed", "Failed", "Done", "Done", "Done"]
    assert view.findChild(type(view.count_label), "audit_count").text() == "5 matching entries."


def test_the_date_range_reaches_back_and_until_is_the_whole_last_day(env: Env) -> None:
    view = env.view
    today = _today(env.clock)
    view.since_edit.setDate(QDate(today - timedelta(days=45)))
    apply(view)
    old_day = (today - timedelta(days=40)).isoformat()
    assert [row[ACTION] for row in rows(view) if row[0].startswith(old_day)] == ["Sign in"]
    assert len(rows(view)) == 6

    view.until_edit.setDate(QDate(today - timedelta(days=1)))
    apply(view)
    assert column(view, ACTION) == ["Sign in"]  # nothing from today

    view.since_edit.setDate(QDate(today))
    view.until_edit.setDate(QDate(today))
    apply(view)
    assert len(rows(view)) == 5


def test_the_to_date_cannot_be_before_the_from_date(env: Env) -> None:
    view = env.view
    today = _today(env.clock)
    view.since_edit.setDate(QDate(today + timedelta(days=2)))
    assert view.until_edit.date().toPython() == today + timedelta(days=2)


def test_filter_by_user_name_applies_on_enter(qtbot: QtBot, env: Env) -> None:
    view = env.view
    edit = view.findChild(QLineEdit, "audit_username")
    assert edit is view.username_edit
    type_text(qtbot, edit, "staff01")
    assert len(rows(view)) == 5  # not applied yet
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert column(view, USER) == ["staff01", "staff01", "staff01"]
    assert column(view, ACTION) == ["List users", "Sign in", "Sign in"]


def test_filter_by_action_and_result(env: Env) -> None:
    view = env.view
    assert view.action_combo.itemText(0) == "All actions"
    choose(view.action_combo, "sign_in")
    assert view.action_combo.currentText() == "Sign in"
    apply(view)
    assert column(view, ACTION) == ["Sign in", "Sign in"]
    assert column(view, RESULT) == ["Failed", "Done"]

    choose(view.result_combo, "failed")
    apply(view)
    assert column(view, RESULT) == ["Failed"]

    choose(view.action_combo, "")
    choose(view.result_combo, "denied")
    apply(view)
    assert column(view, ACTION) == ["List users"]
    assert view.result_combo.itemText(0) == "All results"
    assert [view.result_combo.itemData(i) for i in range(view.result_combo.count())][:4] == [
        "",
        "ok",
        "denied",
        "failed",
    ]


def test_filter_by_record_reference(qtbot: QtBot, env: Env) -> None:
    view = env.view
    type_text(qtbot, view.object_edit, str(env.staff_id))
    qtbot.keyClick(view.object_edit, Qt.Key.Key_Return)
    assert column(view, ACTION) == ["Create user"]
    assert column(view, RECORD) == [f"user {env.staff_id}"]


def test_filters_reach_the_service_as_typed(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    view = env.view
    calls: list[dict[str, Any]] = []
    real = env.services.audit_queries.entries

    def spy(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(env.services.audit_queries, "entries", spy)
    view.username_edit.setText("  staff01 ")
    choose(view.action_combo, "sign_in")
    view.object_edit.setText("C-0001")
    choose(view.result_combo, "ok")
    today = _today(env.clock)
    apply(view)
    (call,) = calls
    assert call["username"] == "staff01"
    assert call["action"] == "sign_in"
    assert call["object_ref"] == "C-0001"
    assert call["result"] == "ok"
    assert call["since"].date() == today - timedelta(days=29)
    assert call["since"].time().isoformat() == "00:00:00"
    assert call["until"].date() == today + timedelta(days=1)  # exclusive: all of "To" is in
    assert call["since"].tzinfo is not None


def test_the_quick_filter_searches_what_is_shown(qtbot: QtBot, env: Env) -> None:
    view = env.view
    type_text(qtbot, view.filter, "refused")
    assert column(view, ACTION) == ["List users"]
    view.filter.clear()
    assert len(rows(view)) == 5


def test_verify_reports_an_intact_chain(qtbot: QtBot, env: Env) -> None:
    with env.services.db.read() as session:
        count = session.scalar(select(func.count()).select_from(AuditEvent))
    env.view.verify_button.click()
    qtbot.waitUntil(lambda: bool(env.prompter.shown), timeout=10000)
    assert env.prompter.shown == [
        (
            "info",
            "Verify the chain",
            f"The audit trail is intact: {count} entries checked.",
        )
    ]
    assert env.view.verify_button.isEnabled()
    # The check itself is in the trail, and the list shows it.
    assert column(env.view, ACTION)[0] == "Verify the audit trail"


def test_verify_names_the_entry_changed_behind_the_apps_back(qtbot: QtBot, env: Env) -> None:
    with env.services.db.read() as session:
        target = session.scalars(select(AuditEvent).where(AuditEvent.action == "create_user")).one()
        target_id, target_seq = target.id, target.seq
    with env.services.db.write() as session:
        session.execute(
            text("UPDATE audit_event SET detail = 'x' WHERE id = :id"), {"id": target_id}
        )
    env.view.verify_button.click()
    qtbot.waitUntil(lambda: bool(env.prompter.shown), timeout=10000)
    ((kind, title, message),) = env.prompter.shown
    assert (kind, title) == ("error", "Verify the chain")
    assert message == (
        f"The audit trail has been tampered with: entry #{target_id} (position {target_seq}) — "
        "the entry was changed after it was written. Entries before it are intact."
    )


def test_verify_message_for_entries_removed_from_the_end() -> None:
    from carestation.services.audit import VerifyResult

    result = VerifyResult(False, 7, None, 9, "entries were removed from the end of the trail")
    assert verify_message(result) == (
        "The audit trail has been tampered with: entries were removed from the end of the "
        "trail. The 7 entries found are intact."
    )
    assert verify_message(VerifyResult(True, 1)) == "The audit trail is intact: 1 entry checked."


def test_clear_forgets_the_entries_and_a_running_check(qtbot: QtBot, env: Env) -> None:
    env.view.verify_button.click()
    env.view.clear()
    assert rows(env.view) == []
    qtbot.waitUntil(lambda: not env.view.verifying, timeout=10000)
    assert env.prompter.shown == []  # nobody is told after the screen was cleared
    assert rows(env.view) == []


def test_inputs_have_accessible_names(env: Env) -> None:
    widgets = [
        *env.view.findChildren(QLineEdit),
        *env.view.findChildren(QComboBox),
        *env.view.findChildren(QDateEdit),
    ]
    ours = [w for w in widgets if w.objectName().startswith("audit_")]
    assert len(ours) == 7
    assert [w.objectName() for w in ours if not w.accessibleName()] == []


def test_the_table_model_passes_the_model_tester(qtmodeltester: Any, env: Env) -> None:
    qtmodeltester.check(env.view.model)
    env.view.filter.setText("sign")
    qtmodeltester.check(env.view.proxy)
