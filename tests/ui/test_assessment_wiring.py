"""The assessment screens as the main window assembles them, over the real services: the risk
alert bar, the self-service screen launcher, the client record's Questionnaires tab, the case
window's Questionnaire button and the pod rating box in the appointment window."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from carestation.domain.assessment_values import AnonymousProfile, FormAnswers
from carestation.domain.roles import Role
from carestation.domain.vocab import (
    AppointmentStatus,
    AppointmentType,
    ConsentPurpose,
    RiskLevel,
    Topic,
)
from carestation.services.container import Services
from carestation.settings import Settings
from carestation.ui.client_record import ClientRecordDialog
from carestation.ui.main_window import MainWindow
from carestation.ui.prompts import RecordingPrompter
from carestation.ui.views.risk_alerts_view import RiskAlertsView
from tests.factories import World, add_appointment, build_world, give_consent

RISKY_PHQ9 = FormAnswers("phq9", (1, 1, 1, 0, 0, 1, 0, 0, 2))


@pytest.fixture
def world(sqlite_services: Services) -> World:
    return build_world(sqlite_services)


def _window(qtbot: QtBot, services: Services, world: World, role: Role, tmp: Path) -> MainWindow:
    window = MainWindow(
        services,
        world.actor(role),
        Settings(tmp / "settings.json"),
        RecordingPrompter(),
        station_name="暨阳",
    )
    qtbot.addWidget(window)
    window.show()
    return window


def test_risk_alert_bar_appears_for_station_staff_and_leads_to_the_alerts(
    qtbot: QtBot, sqlite_services: Services, world: World, tmp_path: Path
) -> None:
    window = _window(qtbot, sqlite_services, world, Role.STAFF, tmp_path)
    bar = window.alert_bar
    assert bar is not None
    assert bar.isHidden()
    sqlite_services.assessments.record_anonymous(
        world.staff, forms=[RISKY_PHQ9], profile=AnonymousProfile()
    )
    bar.refresh()
    assert bar.isVisible()
    assert "1" in bar.text_label.text()
    qtbot.mouseClick(bar.act_button, Qt.MouseButton.LeftButton)
    assert isinstance(window.current_view(), RiskAlertsView)
    window.lock()
    assert bar.isHidden()


def test_managers_and_admins_get_no_alert_bar_and_no_self_service_menu(
    qtbot: QtBot, sqlite_services: Services, world: World, tmp_path: Path
) -> None:
    for role in (Role.MANAGER, Role.ADMIN):
        window = _window(qtbot, sqlite_services, world, role, tmp_path)
        assert window.alert_bar is None
        assert window.kiosk_actions == []
        assert not window.kiosk_launcher.available


def test_self_service_screen_for_a_client_needs_their_consent(
    qtbot: QtBot, sqlite_services: Services, world: World, tmp_path: Path
) -> None:
    window = _window(qtbot, sqlite_services, world, Role.STAFF, tmp_path)
    launcher = window.kiosk_launcher
    assert not launcher.start(client_id=world.client_id, instruments=["phq9"])
    prompter = window._prompter  # type: ignore[attr-defined]
    assert prompter.shown[-1][0] == "error"
    assert "consent" in prompter.shown[-1][2]
    assert launcher.kiosk is None
    assert window.isVisible()

    give_consent(sqlite_services, world, ConsentPurpose.ASSESSMENT)
    assert launcher.start(client_id=world.client_id, instruments=["phq9", "gad7"])
    kiosk = launcher.kiosk
    assert kiosk is not None
    assert kiosk.isVisible()
    assert kiosk.busy  # type: ignore[attr-defined]
    # One monitor: the main window hides so switching tasks cannot reach it.
    assert not window.isVisible()
    window.sign_out()
    assert launcher.kiosk is None


def test_counsellor_gives_a_questionnaire_from_the_client_record_and_sees_the_trend(
    qtbot: QtBot, sqlite_services: Services, world: World
) -> None:
    give_consent(sqlite_services, world, ConsentPurpose.COUNSELLING)
    give_consent(sqlite_services, world, ConsentPurpose.ASSESSMENT)
    counsellor = world.counsellor
    sqlite_services.cases.open_case(
        counsellor, client_id=world.client_id, topics={Topic.WORK_STRESS}, risk_level=RiskLevel.LOW
    )
    prompter = RecordingPrompter()
    record = ClientRecordDialog(sqlite_services, counsellor, prompter, client_id=world.client_id)
    qtbot.addWidget(record)
    record.show()
    assert record.questionnaires is not None
    for answers in ((2, 2, 2, 2, 1, 1, 1, 1, 0), (1, 0, 1, 0, 1, 0, 0, 0, 0)):
        sqlite_services.assessments.record_in_session(
            counsellor, client_id=world.client_id, form=FormAnswers("phq9", answers)
        )
    assert record.show_tab("questionnaires_tab")
    panel = record.questionnaires.panel
    data = panel.data
    assert data is not None
    [trend] = [t for t in data.trends if t.instrument == "phq9"]
    assert [p.total for p in trend.points] == [12, 3]
    assert trend.change == "improved"
    assert trend.recovered is True
    dialog = record.questionnaires.give_questionnaire()
    qtbot.addWidget(dialog)
    assert dialog.isVisible()
    record.clear()
    assert not prompter.shown


def test_case_window_offers_a_questionnaire_for_an_open_case(
    qtbot: QtBot, sqlite_services: Services, world: World
) -> None:
    give_consent(sqlite_services, world, ConsentPurpose.COUNSELLING)
    case = sqlite_services.cases.open_case(
        world.counsellor,
        client_id=world.client_id,
        topics={Topic.WORK_STRESS},
        risk_level=RiskLevel.LOW,
    )
    from carestation.ui.case_window import CaseDialog

    dialog = CaseDialog(sqlite_services, world.counsellor, RecordingPrompter(), case_id=case.id)
    qtbot.addWidget(dialog)
    dialog.show()
    button = dialog.findChild(QPushButton, "give_questionnaire")
    assert button is not None
    assert button.isVisible()
    questionnaire = dialog.give_questionnaire()
    assert questionnaire is not None
    qtbot.addWidget(questionnaire)
    assert questionnaire.case_id == case.id  # type: ignore[attr-defined]


def test_pod_bookings_get_the_before_and_after_rating_others_do_not(
    qtbot: QtBot, sqlite_services: Services, world: World
) -> None:
    from carestation.ui.appointment_dialog import AppointmentDialog

    start = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    end = datetime(2026, 11, 23, 2, 15, tzinfo=UTC)
    pod = add_appointment(
        sqlite_services,
        world,
        start,
        end,
        type_=AppointmentType.POD,
        counsellor_id=None,
        status=AppointmentStatus.COMPLETED,
    )
    talk = add_appointment(
        sqlite_services,
        world,
        datetime(2026, 11, 23, 3, 0, tzinfo=UTC),
        datetime(2026, 11, 23, 4, 0, tzinfo=UTC),
    )
    prompter = RecordingPrompter()
    pod_dialog = AppointmentDialog(sqlite_services, world.staff, prompter, pod)
    qtbot.addWidget(pod_dialog)
    assert pod_dialog.pod_box is not None
    talk_dialog = AppointmentDialog(sqlite_services, world.staff, prompter, talk)
    qtbot.addWidget(talk_dialog)
    assert talk_dialog.pod_box is None


def test_personal_report_from_the_questionnaires_tab_and_the_day_batch_from_the_menu(
    qtbot: QtBot, sqlite_services: Services, world: World, tmp_path: Path
) -> None:
    from carestation.ui.personal_report_dialog import DayReportsDialog, PersonalReportDialog

    record = ClientRecordDialog(
        sqlite_services, world.counsellor, RecordingPrompter(), client_id=world.client_id
    )
    qtbot.addWidget(record)
    assert record.questionnaires is not None
    dialog = record.questionnaires.personal_report()
    qtbot.addWidget(dialog)
    assert isinstance(dialog, PersonalReportDialog)
    record.clear()

    counsellor_window = _window(qtbot, sqlite_services, world, Role.COUNSELLOR, tmp_path)
    assert counsellor_window.day_reports_action is not None
    day = counsellor_window._day_reports()
    qtbot.addWidget(day)
    assert isinstance(day, DayReportsDialog)
    staff_window = _window(qtbot, sqlite_services, world, Role.STAFF, tmp_path)
    assert staff_window.day_reports_action is None
