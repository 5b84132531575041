"""The crisis banner, the raise / clear / follow-up dialogs and the follow-ups screen, driven as a
counsellor would, on real SQLite."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from dataclasses import dataclass
from datetime import date
from typing import TypeVar

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QCheckBox, QDialog, QLabel, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from carestation.domain.crisis import CrisisFlagInfo
from carestation.domain.values import Actor
from carestation.services.container import Services
from carestation.services.crisis import CrisisService
from carestation.ui.crisis_widgets import (
    ClearFlagDialog,
    CrisisBanner,
    RaiseFlagDialog,
    RecordFollowUpDialog,
)
from carestation.ui.prompts import RecordingPrompter
from carestation.ui.views.followups_view import FollowUpsView
from tests.conftest import FakeClock
from tests.factories import World, build_world
from tests.ui.typing import type_text
from tests.unit.test_crisis import counsellor_elsewhere

REASON = "多次表达轻生念头"
D = TypeVar("D", bound=QDialog)


@dataclass
class Env:
    services: Services
    world: World
    crisis: CrisisService
    prompter: RecordingPrompter
    clock: FakeClock

    def raise_flag(self) -> CrisisFlagInfo:
        return self.crisis.raise_flag(
            self.world.counsellor, client_id=self.world.client_id, reason=REASON
        )

    def banner(self, qtbot: QtBot, actor: Actor | None = None) -> CrisisBanner:
        widget = CrisisBanner(self.crisis, actor or self.world.counsellor, self.prompter)
        qtbot.addWidget(widget)
        return widget


@pytest.fixture
def env(sqlite_services: Services, clock: FakeClock) -> Env:
    world = build_world(sqlite_services)
    crisis = CrisisService(sqlite_services.db, sqlite_services.audit, clock, sqlite_services.vault)
    return Env(sqlite_services, world, crisis, RecordingPrompter(), clock)


def the_dialog(parent: QWidget, kind: type[D]) -> D:
    dialogs = [d for d in parent.findChildren(kind) if d.isVisible()]
    assert len(dialogs) == 1, dialogs
    return dialogs[0]


def error_text(dialog: QDialog, key: str) -> str:
    label = dialog.findChild(QLabel, f"error_{key}")
    assert label is not None, key
    return label.text() if label.isVisibleTo(dialog) else ""


def click(parent: QWidget, name: str) -> None:
    button = parent.findChild(QPushButton, name)
    assert button is not None, name
    assert button.isEnabled(), f"{name} is disabled"
    button.click()


# --- the banner ---------------------------------------------------------------------------------
def test_the_banner_shows_an_open_flag_only_to_counsellors_at_its_station(
    qtbot: QtBot, env: Env
) -> None:
    banner = env.banner(qtbot)
    banner.show_for(env.world.client_id)
    assert banner.isHidden()  # no flag yet

    env.raise_flag()
    banner.show_for(env.world.client_id)
    assert not banner.isHidden()
    assert banner.heading_label.text() == "At risk"
    assert banner.heading_label.font().bold()  # not only red: the words say it, in bold
    assert banner.raised_label.text() == "Flag raised 2026-11-23 10:00 by 陈静"
    assert banner.reason_label.text() == f"Reason: {REASON}"
    assert banner.next_label.text() == "Next follow-up: 2026-11-24 10:00 (24 hours)"
    assert banner.accessibleName() == "Crisis flag"
    assert banner.accessibleDescription().startswith("At risk Flag raised 2026-11-23 10:00")
    assert banner.clear_button.text() == "Record actions and &clear..."

    env.clock.advance(hours=25)
    banner.show_for(env.world.client_id)
    assert banner.next_label.text() == "Follow-up overdue since 2026-11-24 10:00 (24 hours)"

    for other in (env.world.staff, env.world.manager, env.world.admin):
        hidden = env.banner(qtbot, other)
        hidden.show_for(env.world.client_id)
        assert hidden.isHidden()
        assert hidden.reason_label.text() == ""
    elsewhere = env.banner(qtbot, counsellor_elsewhere(env.services, env.world))
    elsewhere.show_for(env.world.client_id)
    assert elsewhere.isHidden()
    assert env.prompter.shown == []  # hidden quietly, never a refusal on screen

    banner.clear()  # on lock and sign-out
    assert banner.isHidden()
    assert banner.reason_label.text() == ""
    assert banner.flag is None


def test_clearing_is_refused_until_steps_and_what_was_done_are_recorded(
    qtbot: QtBot, env: Env
) -> None:
    flag = env.raise_flag()
    banner = env.banner(qtbot)
    banner.show()
    banner.show_for(env.world.client_id)
    click(banner, "clear_flag")
    dialog = the_dialog(banner, ClearFlagDialog)
    boxes = dialog.findChildren(QCheckBox)
    assert [b.text() for b in boxes] == [
        "Stayed with the person",
        "Contacted the on-duty expert",
        "Called emergency services (120 / 110)",
        "Called the 12351 union hotline",
        "Informed an emergency contact",
        "Made a safety plan with the person",
    ]
    assert dialog.findChild(QLabel, "flag_reason").text() == REASON

    dialog.on_ok()
    assert dialog.isVisible()
    assert error_text(dialog, "what_was_done").startswith("Write what was done before clearing")
    assert error_text(dialog, "actions") == "Tick the steps of the checklist that were taken."

    type_text(qtbot, dialog.done_edit, "陪同至情绪稳定，联系值班专家")
    dialog.on_ok()
    assert dialog.isVisible()
    assert error_text(dialog, "what_was_done") == ""
    assert error_text(dialog, "actions") == "Tick the steps of the checklist that were taken."
    assert dialog.done_edit.toPlainText() == "陪同至情绪稳定，联系值班专家"  # nothing lost

    boxes[0].setFocus()
    qtbot.keyClick(boxes[0], Qt.Key.Key_Space)
    boxes[1].click()
    with qtbot.waitSignal(banner.flag_cleared) as cleared:
        dialog.on_ok()
    assert cleared.args == [flag.id]
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert banner.isHidden()
    assert env.crisis.has_open_flag(env.world.counsellor, env.world.client_id) is False
    (saved,) = env.crisis.flags_for_client(env.world.counsellor, env.world.client_id)
    assert saved.actions == ("stayed_with_person", "contacted_expert")
    assert saved.what_was_done == "陪同至情绪稳定，联系值班专家"
    assert env.prompter.shown == []


def test_the_clear_dialog_lists_the_stations_own_plan(qtbot: QtBot, env: Env) -> None:
    from carestation.db import models as m

    with env.services.db.write() as session:
        station = session.get(m.Station, env.world.station_id)
        assert station is not None
        station.crisis_plan = "陪伴当事人\n联系值班专家"
    flag = env.raise_flag()
    dialog = ClearFlagDialog(env.crisis, env.world.counsellor, env.prompter, flag)
    qtbot.addWidget(dialog)
    assert [b.text() for b in dialog.findChildren(QCheckBox)] == ["陪伴当事人", "联系值班专家"]
    dialog.findChild(QCheckBox, "step_1").setChecked(True)
    assert dialog.ticked() == frozenset({"联系值班专家"})


# --- raising ------------------------------------------------------------------------------------
def test_raising_a_flag_needs_a_reason_and_only_one_can_be_open(qtbot: QtBot, env: Env) -> None:
    def open_dialog() -> RaiseFlagDialog:
        dialog = RaiseFlagDialog(
            env.crisis,
            env.world.counsellor,
            env.prompter,
            client_id=env.world.client_id,
            client_label="ABCD-EFGH-1",
        )
        qtbot.addWidget(dialog)
        dialog.show()
        return dialog

    dialog = open_dialog()
    guide = dialog.findChild(QLabel, "checklist_guide").text().splitlines()
    assert guide[0] == "1. Stayed with the person"
    assert guide[3] == "4. Called the 12351 union hotline"
    dialog.on_ok()
    assert dialog.isVisible()
    assert (
        error_text(dialog, "reason") == "Say in a few words why the person is at risk (required)."
    )
    type_text(qtbot, dialog.reason_edit, REASON)
    dialog.on_ok()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.saved.reason == REASON
    assert env.crisis.has_open_flag(env.world.counsellor, env.world.client_id)

    second = open_dialog()
    type_text(qtbot, second.reason_edit, "again")
    second.on_ok()
    assert second.isVisible()
    kind, _title, text = env.prompter.shown[-1]
    assert kind == "error"
    assert "already has an open crisis flag" in text
    assert second.reason_edit.toPlainText() == "again"


# --- the follow-ups screen ----------------------------------------------------------------------
def rows(view: FollowUpsView) -> list[list[str]]:
    proxy = view.panel.table.model()
    return [
        [proxy.index(r, c).data() for c in range(proxy.columnCount())]
        for r in range(proxy.rowCount())
    ]


def test_the_follow_ups_screen_shows_overdue_checks_in_red_and_in_words(
    qtbot: QtBot, qtmodeltester, env: Env
) -> None:
    flag = env.raise_flag()
    env.clock.advance(hours=25)  # 11-24 11:00 in Shanghai: the 24-hour check is late
    view = FollowUpsView(env.crisis, env.world.counsellor, env.prompter)
    qtbot.addWidget(view)
    view.resize(1100, 600)
    view.show()
    qtbot.waitExposed(view)
    view.refresh()
    assert view.day() == date(2026, 11, 24)
    assert rows(view) == [
        [
            "2026-11-24 10:00",
            "Overdue",
            "ABCD-EFGH-1",
            "24 hours after the flag",
            "2026-11-23",
            "Open",
            "暨阳街道职工情绪管理服务站",
        ]
    ]
    proxy = view.panel.table.model()
    assert proxy.index(0, 2).data(Qt.ItemDataRole.ForegroundRole).color() == QColor("#b3261e")
    assert proxy.index(0, 1).data(Qt.ItemDataRole.FontRole).bold()
    assert view.summary_label.text() == "1 follow-up due  ·  1 overdue"
    qtmodeltester.check(view.panel.model)

    view.date_edit.setDate(QDate(2026, 11, 26))
    assert [r[1] for r in rows(view)] == ["Overdue", "Due"]
    assert proxy.index(1, 2).data(Qt.ItemDataRole.ForegroundRole) is None
    assert view.summary_label.text() == "2 follow-ups due  ·  1 overdue"

    view.panel.table.selectRow(0)
    click(view, "record_followup")
    dialog = the_dialog(view, RecordFollowUpDialog)
    assert dialog.findChild(QLabel, "followup_due").text() == (
        "2026-11-24 10:00 (24 hours after the flag): overdue"
    )
    dialog.on_ok()
    assert dialog.isVisible()
    assert error_text(dialog, "note").startswith("Write how the person is")
    type_text(qtbot, dialog.note_edit, "电话回访，情绪平稳")
    dialog.on_ok()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert [r[3] for r in rows(view)] == ["72 hours after the flag"]
    assert view.message_label.text() == "The 24 hours follow-up for ABCD-EFGH-1 is recorded."
    shown = env.crisis.open_flag(env.world.counsellor, env.world.client_id)
    assert shown is not None
    assert shown.id == flag.id
    assert shown.follow_ups[0].note == "电话回访，情绪平稳"

    view.clear()
    assert rows(view) == []
    assert view.summary_label.text() == ""


def test_the_follow_ups_screen_refuses_staff_with_a_message(qtbot: QtBot, env: Env) -> None:
    env.raise_flag()
    view = FollowUpsView(env.crisis, env.world.staff, env.prompter)
    qtbot.addWidget(view)
    view.refresh()
    assert rows(view) == []
    assert env.prompter.shown[-1][0] == "error"
