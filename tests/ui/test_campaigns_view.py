"""The screening-campaign screen and its dialogs, driven with qtbot over a fake service that
returns the contract's values; PDF writers, the save dialog and the PDF viewer are faked."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QDialog, QLabel, QPushButton
from pytestqt.qtbot import QtBot

from carestation.domain.assessment_values import (
    BandCount,
    BandDistribution,
    CampaignCodeCheck,
    CampaignInfo,
    CampaignInput,
    CampaignSummary,
)
from carestation.domain.errors import PermissionDenied, ValidationError
from carestation.domain.roles import Role
from carestation.domain.values import Actor
from carestation.ui.campaign_dialogs import (
    FollowUpByCodeDialog,
    IssueCodesDialog,
    NewCampaignDialog,
)
from carestation.ui.campaign_summary_dialog import SummaryDialog
from carestation.ui.prompts import RecordingPrompter
from carestation.ui.views.campaigns_view import CampaignsView
from tests.ui.typing import type_text

TODAY = date(2026, 11, 23)
STATION = "诸暨市总工会职工情绪管理服务站"


def actor(role: Role) -> Actor:
    return Actor(
        user_id=2,
        username=role.value,
        display_name="王芳",
        roles=frozenset({role}),
        station_ids=frozenset({1}),
        station_id=1,
    )


AUTUMN = CampaignInfo(
    id=5,
    station_id=1,
    station_name=STATION,
    name="2026 秋季普测",
    work_unit="诸暨市水务局",
    instruments=("phq9", "gad7"),
    starts_on=date(2026, 11, 1),
    ends_on=date(2026, 11, 30),
    issued=100,
    used=12,
    follow_ups=3,
    closed_at=None,
    version=2,
)
SPRING = replace(
    AUTUMN,
    id=2,
    name="2026 春季普测",
    instruments=("k10",),
    starts_on=date(2026, 3, 1),
    ends_on=date(2026, 3, 31),
    issued=40,
    used=40,
    follow_ups=0,
    closed_at=datetime(2026, 4, 2, 1, 0, tzinfo=UTC),
)
SUMMARY = CampaignSummary(
    campaign=AUTUMN,
    k=10,
    participants=BandCount("participants", 57, "57"),
    distributions=(
        BandDistribution(
            "phq9",
            cells=(
                BandCount("minimal", 31, "31"),
                BandCount("mild", 17, "17"),
                BandCount("moderate", None, "<10"),
                BandCount("moderately_severe", None, "·"),
                BandCount("severe", None, "<10"),
            ),
            total=BandCount("total", 57, "57"),
        ),
        BandDistribution(
            "gad7",
            cells=(
                BandCount("minimal", 40, "40"),
                BandCount("mild", 17, "17"),
                BandCount("moderate", 0, "0"),
                BandCount("severe", 0, "0"),
            ),
            total=BandCount("total", 57, "57"),
        ),
    ),
    generated_at=datetime(2026, 11, 23, 10, 0),
    notes=(
        "<10: fewer than 10 people.",
        "· : hidden so that a small count cannot be worked out.",
    ),
)


class FakeCampaigns:
    def __init__(self, *campaigns: CampaignInfo) -> None:
        self.campaigns = list(campaigns)
        self.calls: list[tuple[str, Any]] = []
        self.refusal: Exception | None = None
        self.codes = ["K7QP-3MX9", "H2TD-8WNR"]

    def _check(self) -> None:
        if self.refusal is not None:
            raise self.refusal

    def create(self, actor: Actor, *, data: CampaignInput) -> CampaignInfo:
        self.calls.append(("create", data))
        self._check()
        made = replace(
            AUTUMN, id=9, name=data.name, work_unit=data.work_unit, issued=data.codes, used=0
        )
        self.campaigns.append(made)
        return made

    def issue_codes(self, actor: Actor, *, campaign_id: int, count: int) -> CampaignInfo:
        self.calls.append(("issue_codes", (campaign_id, count)))
        self._check()
        i, c = next((i, c) for i, c in enumerate(self.campaigns) if c.id == campaign_id)
        self.campaigns[i] = replace(c, issued=c.issued + count, version=c.version + 1)
        return self.campaigns[i]

    def list_campaigns(self, actor: Actor) -> list[CampaignInfo]:
        return list(self.campaigns)

    def unused_codes(self, actor: Actor, *, campaign_id: int) -> list[str]:
        self.calls.append(("unused_codes", campaign_id))
        self._check()
        return list(self.codes)

    def close(self, actor: Actor, *, campaign_id: int, version: int) -> CampaignInfo:
        self.calls.append(("close", (campaign_id, version)))
        self._check()
        i, c = next((i, c) for i, c in enumerate(self.campaigns) if c.id == campaign_id)
        self.campaigns[i] = replace(c, closed_at=datetime(2026, 11, 23, 3, tzinfo=UTC))
        return self.campaigns[i]

    def summary(self, actor: Actor, *, campaign_id: int, k: int = 10) -> CampaignSummary:
        self.calls.append(("summary", campaign_id))
        self._check()
        return SUMMARY

    def request_follow_up(self, actor: Actor, *, code: str) -> CampaignCodeCheck:
        self.calls.append(("request_follow_up", code))
        self._check()
        return CampaignCodeCheck("K7QP3MX9", 5, AUTUMN.name, AUTUMN.instruments)


@dataclass
class Station:
    id: int
    phone: str


class FakeStations:
    def list_stations(self, *, actor: Actor) -> list[Station]:
        return [Station(1, "0575-87001234")]


@dataclass
class Env:
    view: CampaignsView
    campaigns: FakeCampaigns
    prompter: RecordingPrompter
    written: list[tuple[str, Path, dict[str, Any]]]
    opened: list[Path]
    chosen: list[str]
    save_to: Path | None


def make_env(qtbot: QtBot, tmp_path: Path, role: Role = Role.STAFF) -> Env:
    campaigns, prompter = FakeCampaigns(AUTUMN, SPRING), RecordingPrompter()
    env = Env(None, campaigns, prompter, [], [], [], tmp_path / "out.pdf")  # type: ignore[arg-type]

    def choose(suggested: str) -> str | None:
        env.chosen.append(suggested)
        return str(env.save_to) if env.save_to else None

    def write_slips(out: Path, **kwargs: Any) -> int:
        out.write_bytes(b"%PDF-1.4 slips")
        env.written.append(("slips", out, kwargs))
        return 1

    def write_summary(out: Path, **kwargs: Any) -> int:
        out.write_bytes(b"%PDF-1.4 summary")
        env.written.append(("summary", out, kwargs))
        return 2

    env.view = CampaignsView(
        campaigns,
        actor(role),
        prompter,
        stations=FakeStations(),
        today=lambda: TODAY,
        choose_save_path=choose,
        open_file=env.opened.append,
        write_slips=write_slips,
        write_summary=write_summary,
    )
    qtbot.addWidget(env.view)
    env.view.resize(1200, 500)
    env.view.show()
    env.view.refresh()
    return env


@pytest.fixture
def env(qtbot: QtBot, tmp_path: Path) -> Env:
    return make_env(qtbot, tmp_path)


def cells(view: CampaignsView, row: int) -> list[str]:
    proxy = view.panel.proxy
    return [proxy.index(row, c).data() for c in range(proxy.columnCount())]


def select(view: CampaignsView, campaign_id: int) -> None:
    proxy = view.panel.proxy
    for row in range(proxy.rowCount()):
        if view.panel.model.row_value(proxy.mapToSource(proxy.index(row, 0)).row()).id == (
            campaign_id
        ):
            view.panel.table.selectRow(row)
            return
    raise AssertionError(campaign_id)


def error_text(dialog: QDialog, key: str) -> str:
    label = dialog.findChild(QLabel, f"error_{key}")
    assert label is not None, key
    return label.text() if label.isVisibleTo(dialog) else ""


# --- the list ---------------------------------------------------------------------------------
def test_the_list_shows_progress_follow_ups_and_status(env: Env, qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    view = env.view
    assert view.title() == "Screening campaigns"
    qtmodeltester.check(view.panel.model)
    headers = [
        view.panel.proxy.headerData(c, Qt.Orientation.Horizontal)
        for c in range(view.panel.proxy.columnCount())
    ]
    assert headers == [
        "Campaign",
        "Work unit",
        "Station",
        "Dates",
        "Questionnaires",
        "Codes used / issued",
        "Follow-ups",
        "Status",
    ]
    # Newest first.
    assert cells(view, 0) == [
        "2026 秋季普测",
        "诸暨市水务局",
        STATION,
        "2026-11-01 to 2026-11-30",
        "PHQ-9, GAD-7",
        "12 / 100 (12%)",
        "3",
        "In progress",
    ]
    assert cells(view, 1)[4:] == ["K10", "40 / 40 (100%)", "0", "Closed by staff"]
    for name in ("new_campaign", "issue_codes", "print_slips", "close_campaign"):
        assert view.findChild(QPushButton, name).isVisible(), name
    select(view, 2)  # a closed campaign takes no more codes
    assert not view.issue_button.isEnabled()
    assert not view.slips_button.isEnabled()
    assert not view.close_button.isEnabled()
    assert view.summary_button.isEnabled()


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN])
def test_managers_see_the_list_and_summaries_but_no_code_actions(
    qtbot: QtBot, tmp_path: Path, role: Role
) -> None:
    env = make_env(qtbot, tmp_path, role)
    view = env.view
    assert len(view.rows()) == 2
    for button in (
        view.new_button,
        view.issue_button,
        view.slips_button,
        view.close_button,
        view.follow_up_button,
    ):
        assert button.isHidden(), button.objectName()
    assert view.summary_button.isVisible()
    select(view, 5)
    assert view.new_campaign() is None
    assert view.issue_codes() is None
    assert view.print_slips() is False
    assert view.close_campaign() is None
    assert view.follow_up_by_code() is None
    assert env.campaigns.calls == []
    dialog = view.show_summary()
    assert isinstance(dialog, SummaryDialog)
    assert env.campaigns.calls == [("summary", 5)]


def test_a_refusal_from_the_service_is_shown(env: Env) -> None:
    env.campaigns.refusal = PermissionDenied("You may not print code slips.")
    select(env.view, 5)
    assert env.view.print_slips() is False
    assert env.prompter.shown == [
        ("error", "The action could not be completed", "You may not print code slips.")
    ]
    assert env.written == []


# --- new campaign -----------------------------------------------------------------------------
def test_creating_a_campaign_passes_what_was_entered(qtbot: QtBot, env: Env) -> None:
    dialog = env.view.new_campaign()
    assert isinstance(dialog, NewCampaignDialog)
    boxes = dialog.findChildren(QCheckBox)
    assert [b.text() for b in boxes] == [
        "Patient Health Questionnaire (PHQ-9)",
        "Generalized Anxiety Disorder scale (GAD-7)",
        "World Health Organization Five Well-Being Index (WHO-5)",
        "Perceived Stress Scale (PSS-10)",
        "Kessler Psychological Distress Scale (K10)",
    ]  # no mood rating
    assert not any(b.isChecked() for b in boxes)
    assert dialog.starts_edit.date().toString("yyyy-MM-dd") == "2026-11-23"
    assert dialog.ends_edit.date().toString("yyyy-MM-dd") == "2026-12-23"
    type_text(qtbot, dialog.name_edit, "2026 冬季普测")
    type_text(qtbot, dialog.unit_edit, "诸暨市供电公司")
    dialog.instrument_boxes["k10"].setChecked(True)
    dialog.instrument_boxes["phq9"].setChecked(True)
    dialog.ends_edit.setDate(dialog.ends_edit.date().addDays(-8))
    dialog.codes_spin.setValue(80)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert env.campaigns.calls == [
        (
            "create",
            CampaignInput(
                name="2026 冬季普测",
                work_unit="诸暨市供电公司",
                instruments=("phq9", "k10"),
                starts_on=date(2026, 11, 23),
                ends_on=date(2026, 12, 15),
                codes=80,
            ),
        )
    ]
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert env.view.message_label.text() == "Campaign “2026 冬季普测” created with 80 codes."
    assert env.view.selected().id == 9
    assert len(env.view.rows()) == 3


def test_field_errors_appear_beside_their_fields(env: Env) -> None:
    env.campaigns.refusal = ValidationError(
        {
            "name": "Give the campaign a name.",
            "instruments": "Choose at least one questionnaire.",
            "dates": "The last day is before the first.",
            "codes": "Issue at most 5000 codes at a time.",
        }
    )
    dialog = env.view.new_campaign()
    assert dialog is not None
    dialog.ok_button.click()
    assert dialog.isVisible()
    assert error_text(dialog, "name") == "Give the campaign a name."
    assert error_text(dialog, "instruments") == "Choose at least one questionnaire."
    assert error_text(dialog, "ends_on") == "The last day is before the first."
    assert error_text(dialog, "codes") == "Issue at most 5000 codes at a time."
    assert error_text(dialog, "work_unit") == ""
    assert env.prompter.shown == []  # all beside their fields, no message box


def test_issuing_more_codes(env: Env) -> None:
    select(env.view, 5)
    dialog = env.view.issue_codes()
    assert isinstance(dialog, IssueCodesDialog)
    dialog.count_spin.setValue(30)
    dialog.ok_button.click()
    assert env.campaigns.calls == [("issue_codes", (5, 30))]
    assert env.view.message_label.text() == (
        "30 more codes issued for “2026 秋季普测”; print the slips next."
    )
    assert cells(env.view, 0)[5] == "12 / 130 (9%)"


# --- slips, closing, follow-ups ---------------------------------------------------------------
def test_printing_slips_writes_the_unused_codes_and_offers_to_open(
    qtbot: QtBot, env: Env, tmp_path: Path
) -> None:
    select(env.view, 5)
    assert env.view.print_slips() is True
    qtbot.waitUntil(lambda: not env.view.saver.busy, timeout=5000)
    assert env.chosen == ["carestation-campaign-000005-codes.pdf"]
    assert env.written == [
        (
            "slips",
            tmp_path / "out.pdf",
            {
                "campaign": AUTUMN,
                "codes": ["K7QP-3MX9", "H2TD-8WNR"],
                "station_name": STATION,
                "station_phone": "0575-87001234",
                "lang": "en",
            },
        )
    ]
    text = f"2 code slips saved to {tmp_path / 'out.pdf'} (1 page)."
    assert env.view.message_label.text() == text
    assert env.prompter.shown == [
        ("confirm", "Code slips saved", text + "\n\nOpen the file now to print it?")
    ]
    assert env.opened == [tmp_path / "out.pdf"]


def test_a_failed_pdf_is_removed_and_reported(qtbot: QtBot, env: Env, tmp_path: Path) -> None:
    def broken(out: Path, **kwargs: Any) -> int:
        out.write_bytes(b"%PDF-1.4 half")
        raise OSError(28, "No space left on device")

    env.view._write_slips = broken  # type: ignore[assignment]
    select(env.view, 5)
    env.view.print_slips()
    qtbot.waitUntil(lambda: bool(env.prompter.shown), timeout=5000)
    assert env.prompter.shown == [
        (
            "error",
            "The PDF was not saved",
            f"{tmp_path / 'out.pdf'} could not be written: No space left on device. "
            "Choose another folder.",
        )
    ]
    assert not (tmp_path / "out.pdf").exists()
    assert env.opened == []


def test_nothing_is_written_when_the_save_dialog_is_cancelled_or_no_code_is_left(
    env: Env,
) -> None:
    env.save_to = None
    select(env.view, 5)
    assert env.view.print_slips() is False
    env.campaigns.codes = []
    assert env.view.print_slips() is False
    assert env.prompter.shown == [
        (
            "info",
            "No codes to print",
            "Every code of “2026 秋季普测” has been used. Issue more codes first.",
        )
    ]
    assert env.written == []


def test_closing_asks_first_and_passes_the_version(env: Env) -> None:
    select(env.view, 5)
    env.prompter.answer = False
    assert env.view.close_campaign() is None
    assert [c for c in env.campaigns.calls if c[0] == "close"] == []
    env.prompter.answer = True
    closed = env.view.close_campaign()
    assert closed is not None
    assert env.campaigns.calls == [("close", (5, 2))]
    assert env.prompter.shown[-1][1] == "Close the campaign"
    assert cells(env.view, 0)[7] == "Closed by staff"
    assert env.view.message_label.text() == "“2026 秋季普测” is closed."


def test_follow_up_by_code_records_then_offers_booking(qtbot: QtBot, env: Env) -> None:
    dialog = env.view.follow_up_by_code()
    assert isinstance(dialog, FollowUpByCodeDialog)
    dialog.record_button.click()  # nothing typed
    assert error_text(dialog, "code") == "Type the code printed on the participant's slip."
    assert env.campaigns.calls == []
    assert dialog.book_button.isHidden()

    qtbot.keyClicks(dialog.code_edit, "k7qp 3mx9")
    dialog.record_button.click()
    assert env.campaigns.calls == [("request_follow_up", "k7qp 3mx9")]
    assert dialog.done_label.text() == (
        "The follow-up request for code K7QP3MX9 (2026 秋季普测) is recorded. You can now book "
        "a session."
    )
    assert env.view.message_label.text() == "Follow-up request recorded for code K7QP3MX9."
    assert dialog.book_button.isVisible()
    with qtbot.waitSignal(env.view.booking_requested_for_follow_up) as booking:
        dialog.book_button.click()
    assert booking.args == ["K7QP3MX9", 5]
    assert dialog.result() == QDialog.DialogCode.Accepted


def test_an_unknown_code_is_shown_beside_the_field(env: Env) -> None:
    env.campaigns.refusal = ValidationError({"code": "No campaign has the code K7QP-0000."})
    dialog = env.view.follow_up_by_code()
    assert dialog is not None
    dialog.code_edit.setText("K7QP-0000")
    dialog.record_button.click()
    assert error_text(dialog, "code") == "No campaign has the code K7QP-0000."
    assert dialog.book_button.isHidden()


# --- the summary ------------------------------------------------------------------------------
def test_the_summary_shows_suppressed_cells_and_saves_a_pdf(
    qtbot: QtBot, env: Env, tmp_path: Path
) -> None:
    select(env.view, 5)
    dialog = env.view.show_summary()
    assert isinstance(dialog, SummaryDialog)
    model = dialog.model
    table = [
        [model.index(r, c).data() for c in range(model.columnCount())]
        for r in range(model.rowCount())
    ]
    assert table == [
        ["Patient Health Questionnaire (PHQ-9)", "None or minimal depressive symptoms", "31"],
        ["", "Mild depressive symptoms", "17"],
        ["", "Moderate depressive symptoms", "<10"],
        ["", "Moderately severe depressive symptoms", "·"],
        ["", "Severe depressive symptoms", "<10"],
        ["", "All forms", "57"],
        ["Generalized Anxiety Disorder scale (GAD-7)", "None or minimal anxiety symptoms", "40"],
        ["", "Mild anxiety symptoms", "17"],
        ["", "Moderate anxiety symptoms", "0"],
        ["", "Severe anxiety symptoms", "0"],
        ["", "All forms", "57"],
    ]
    assert dialog.notes_label.text() == (
        "<10: fewer than 10 people.\n· : hidden so that a small count cannot be worked out."
    )
    assert dialog.findChild(QLabel, "summary_3").text() == "57"  # participants

    dialog.save_pdf()
    qtbot.waitUntil(lambda: dialog.saved_path is not None, timeout=5000)
    assert env.chosen == ["carestation-campaign-000005-summary.pdf"]
    assert env.written == [
        (
            "summary",
            tmp_path / "out.pdf",
            {"summary": SUMMARY, "station_name": STATION, "lang": "en"},
        )
    ]
    assert env.prompter.shown == [
        (
            "confirm",
            "PDF saved",
            f"The summary was saved to {tmp_path / 'out.pdf'}. Open it now to print it?",
        )
    ]
    assert env.opened == [tmp_path / "out.pdf"]


def test_clear_forgets_the_list(env: Env) -> None:
    env.view.clear()
    assert env.view.rows() == []
