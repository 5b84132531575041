"""Assessments end to end over the REAL services (SQLite and PostgreSQL): every questionnaire on
the self-service screen (anonymous walk-in) and in a counsellor's session, in both languages,
driven by clicks; a client's questionnaires started from the main window; a risky answer up to
the alert that must be acted on; and a visitor who walks away half-way."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QPushButton, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from carestation.assessments import Instrument, instrument_codes, load_instrument, score
from carestation.db import models as m
from carestation.domain.assessment_values import risk_reasons
from carestation.domain.vocab import AssessmentMode, ConsentPurpose, RiskAction
from carestation.services.assessment_forms import local_midnight
from carestation.services.container import Services
from carestation.settings import Settings
from carestation.ui.assessment_dialog import AssessmentDialog
from carestation.ui.kiosk import KioskWindow
from carestation.ui.kiosk.exit_dialog import StaffExitDialog
from carestation.ui.main_window import MainWindow
from carestation.ui.prompts import RecordingPrompter
from carestation.ui.risk_alert_bar import ActOnAlertDialog
from tests.factories import PASSWORD, World, build_world, give_consent

INSTRUMENTS = ("phq9", "gad7", "who5", "pss10", "k10")
LANGUAGES = ("zh_CN", "en")
HOTLINES = ("12356", "12351", "120")
# Words that would tell a visitor their result; the help page must show none of them.
VERDICT_WORDS = ("score", "total", "risk", "band", "severe", "depress", "得分", "总分", "风险")
BAND_TEXTS = sorted(
    {
        text
        for code in instrument_codes()
        for band in load_instrument(code).bands
        for text in (band.slug.replace("_", " "), band.label.en, band.label.zh_cn)
    }
)


class FastKiosk(KioskWindow):
    """The real screen, without the pauses meant for human eyes (answer -> next, Done)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("advance_ms", 0)
        kwargs.setdefault("done_delay_ms", 0)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def world(services: Services) -> World:
    return build_world(services)


# --- driving the screens like a person ----------------------------------------------------------
def tap(qtbot: QtBot, widget: QWidget | None) -> None:
    assert widget is not None
    assert widget.isVisible(), widget.objectName()
    assert widget.isEnabled(), widget.objectName()
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def click_radio(qtbot: QtBot, radio: QAbstractButton | None) -> None:
    """A click on the radio's circle, as a person aims (a stretched radio's blank right-hand
    part does not take clicks)."""
    assert radio is not None
    assert radio.isVisible(), radio.objectName()
    assert radio.isEnabled(), radio.objectName()
    qtbot.mouseClick(radio, Qt.MouseButton.LeftButton, pos=QPoint(8, radio.height() // 2))
    assert radio.isChecked(), radio.objectName()


def page(kiosk: KioskWindow) -> str:
    current = kiosk.stack.currentWidget()
    assert current is not None
    return current.objectName()


def button(kiosk: KioskWindow, name: str) -> QPushButton:
    found = kiosk.findChild(QPushButton, name)
    assert found is not None, name
    return found


def shown_text(kiosk: KioskWindow) -> str:
    root = kiosk.stack.currentWidget()
    assert root is not None
    return "\n".join(
        w.text()
        for w in root.findChildren(QWidget)
        if isinstance(w, (QLabel, QPushButton, QLineEdit)) and w.isVisibleTo(root)
    )


def answers_for(instrument: Instrument, seed: int) -> tuple[list[int], list[int]]:
    """Varied raw codes (every option used somewhere), item 9 of the PHQ-9 left at 0."""
    codes = [o.code for o in instrument.options]
    answers = [codes[(i * 3 + seed) % len(codes)] for i in range(len(instrument.items))]
    if instrument.code == "phq9":
        answers[8] = 0
    extras = [e.options[seed % len(e.options)].code for e in instrument.extra_items]
    return answers, extras


def answer_on_screen(qtbot: QtBot, kiosk: KioskWindow, codes: Sequence[int]) -> None:
    """From an intro page: Start, then one tap per question."""
    assert page(kiosk) == "kiosk_intro"
    tap(qtbot, button(kiosk, "intro_start"))
    for code in codes:
        assert page(kiosk) == "kiosk_question"
        tap(qtbot, kiosk.question.option_buttons[code])


def walk_in(qtbot: QtBot, kiosk: KioskWindow, code: str) -> None:
    tap(qtbot, button(kiosk, "welcome_walk_in"))
    assert page(kiosk) == "kiosk_choose"
    tap(qtbot, button(kiosk, f"choose_{code}"))
    assert page(kiosk) == "kiosk_profile"
    tap(qtbot, button(kiosk, "profile_skip"))


def staff_close(qtbot: QtBot, kiosk: KioskWindow) -> None:
    """A member of the station's team closes the screen with their real password."""
    if page(kiosk) != "kiosk_welcome":
        kiosk.show_welcome()  # the staff button is on the welcome page
    tap(qtbot, button(kiosk, "staff_exit"))
    [dialog] = [d for d in kiosk.findChildren(StaffExitDialog) if d.isVisible()]
    qtbot.keyClicks(dialog.username, "staff01")
    qtbot.keyClicks(dialog.password, PASSWORD)
    with qtbot.waitSignal(kiosk.closed, timeout=2000):
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)


@pytest.fixture
def kiosks(qtbot: QtBot, services: Services, world: World) -> Iterator[list[KioskWindow]]:
    made: list[KioskWindow] = []
    yield made
    for kiosk in made:
        if kiosk.isVisible():
            staff_close(qtbot, kiosk)


def open_kiosk(
    qtbot: QtBot,
    services: Services,
    world: World,
    made: list[KioskWindow],
    language: str,
    **options: int,
) -> KioskWindow:
    [station] = [
        s for s in services.admin.list_stations(actor=world.staff) if s.id == world.station_id
    ]
    kiosk = FastKiosk(services, world.staff, station, RecordingPrompter(), language, **options)
    qtbot.addWidget(kiosk)
    kiosk.resize(1366, 768)
    kiosk.show()
    made.append(kiosk)
    return kiosk


def rows(services: Services) -> list[m.Assessment]:
    with services.db.read() as session:
        return list(session.scalars(select(m.Assessment).order_by(m.Assessment.id)))


def alerts(services: Services) -> list[m.RiskAlert]:
    with services.db.read() as session:
        return list(session.scalars(select(m.RiskAlert).order_by(m.RiskAlert.id)))


def main_window(qtbot: QtBot, services: Services, world: World, tmp: Path) -> MainWindow:
    window = MainWindow(
        services,
        world.staff,
        Settings(tmp / "settings.json"),
        RecordingPrompter(),
        station_name="暨阳",
    )
    qtbot.addWidget(window)
    window.show()
    return window


# --- a. every questionnaire, both modes, both languages ------------------------------------------
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("code", INSTRUMENTS)
def test_an_anonymous_walk_in_saves_exactly_what_was_tapped(
    qtbot: QtBot,
    services: Services,
    world: World,
    kiosks: list[KioskWindow],
    code: str,
    language: str,
) -> None:
    instrument = load_instrument(code)
    kiosk = open_kiosk(qtbot, services, world, kiosks, language)
    walk_in(qtbot, kiosk, code)
    assert instrument.title(language) in shown_text(kiosk)
    answers, extras = answers_for(instrument, seed=len(code))
    answer_on_screen(qtbot, kiosk, [*answers, *extras])
    assert page(kiosk) == "kiosk_review"
    assert rows(services) == []  # nothing before Submit
    tap(qtbot, button(kiosk, "review_submit"))
    expected = score(code, answers)
    risky = bool(risk_reasons(expected))  # K10 of 30 or more
    assert page(kiosk) == ("kiosk_help" if risky else "kiosk_thanks")
    [row] = rows(services)
    assert (row.instrument, row.answers, row.language) == (code, answers, language)
    assert row.extra_answers == (
        {e.id: c for e, c in zip(instrument.extra_items, extras, strict=True)} or None
    )
    assert (row.total, row.band, row.instrument_version) == (
        expected.total,
        expected.band,
        instrument.version,
    )
    assert row.mode is AssessmentMode.ANONYMOUS
    assert (row.client_id, row.administered_by, row.case_id, row.campaign_id) == (None,) * 4
    assert row.station_id == world.station_id
    assert row.taken_at == local_midnight(services.audit.clock.now(), "Asia/Shanghai")
    assert len(alerts(services)) == risky


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("code", INSTRUMENTS)
def test_a_counsellor_gives_the_questionnaire_in_a_session(
    qtbot: QtBot, services: Services, world: World, code: str, language: str
) -> None:
    give_consent(services, world, ConsentPurpose.ASSESSMENT)
    instrument = load_instrument(code)
    dialog = AssessmentDialog(
        services.assessments,
        world.counsellor,
        RecordingPrompter(),
        client_id=world.client_id,
        client_label="ABCD-EFGH-1",
        instrument=code,
    )
    qtbot.addWidget(dialog)
    dialog.show()
    # Save stays on screen, title bar and task bar included (1366 x 768 at many stations).
    assert dialog.height() <= dialog.screen().availableGeometry().height() - 80
    combo = dialog.language_combo
    combo.setCurrentIndex(combo.findData(language))  # "Questions in": 中文 / English
    assert dialog.form_title_label.text() == instrument.title(language)
    assert dialog.row(1).text_label.text() == instrument.items[0].text(language)
    answers, extras = answers_for(instrument, seed=len(code) + 1)
    for number, chosen in enumerate(answers, start=1):
        click_radio(qtbot, dialog.row(number).group.button(chosen))
    for extra, chosen in zip(instrument.extra_items, extras, strict=True):
        click_radio(qtbot, dialog.extra_rows[extra.id].group.button(chosen))
    assert list(dialog.answers()) == answers
    with qtbot.waitSignal(dialog.form_recorded):
        tap(qtbot, dialog.save_button)
    [row] = rows(services)
    assert (row.instrument, row.answers, row.language) == (code, answers, language)
    assert row.total == score(code, answers).total
    assert row.mode is AssessmentMode.COUNSELLOR
    assert (row.client_id, row.administered_by) == (world.client_id, world.counsellor.user_id)
    assert row.taken_at == services.audit.clock.now()  # exact time, not the day


# --- b. a client's questionnaires, started from the main window ----------------------------------
def test_staff_start_questionnaires_for_a_client_and_close_the_screen_with_a_password(
    qtbot: QtBot,
    services: Services,
    world: World,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("carestation.ui.kiosk.KioskWindow", FastKiosk)
    give_consent(services, world, ConsentPurpose.ASSESSMENT)
    window = main_window(qtbot, services, world, tmp_path)
    launcher = window.kiosk_launcher
    assert launcher.start(client_id=world.client_id, instruments=["phq9", "gad7"])
    kiosk = launcher.kiosk
    assert isinstance(kiosk, KioskWindow)
    assert not window.isVisible()  # one monitor: the main window hides
    assert page(kiosk) == "kiosk_ready"
    tap(qtbot, button(kiosk, "ready_language_zh_CN"))
    tap(qtbot, button(kiosk, "ready_begin"))
    phq9, gad7 = [0, 1, 2, 3, 0, 1, 2, 1, 0], [3, 2, 1, 0, 1, 2, 3]
    answer_on_screen(qtbot, kiosk, [*phq9, 1])
    answer_on_screen(qtbot, kiosk, [*gad7, 2])
    with qtbot.waitSignal(launcher.session_saved):
        tap(qtbot, button(kiosk, "review_submit"))
    assert page(kiosk) == "kiosk_thanks"
    saved = rows(services)
    assert [(r.instrument, r.answers, r.extra_answers) for r in saved] == [
        ("phq9", phq9, {"10": 1}),
        ("gad7", gad7, {"8": 2}),
    ]
    for row in saved:
        assert (row.client_id, row.mode, row.language) == (
            world.client_id,
            AssessmentMode.KIOSK,
            "zh_CN",
        )
        assert row.administered_by is None
        assert row.taken_at == services.audit.clock.now()
    tap(qtbot, button(kiosk, "thanks_done"))
    assert page(kiosk) == "kiosk_welcome"
    with qtbot.waitSignal(launcher.closed):
        staff_close(qtbot, kiosk)
    assert window.isVisible()
    assert launcher.kiosk is None


# --- c. risk ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_risky_walk_in_shows_help_and_the_alert_must_be_acted_on(
    qtbot: QtBot,
    services: Services,
    world: World,
    kiosks: list[KioskWindow],
    tmp_path: Path,
    language: str,
) -> None:
    window = main_window(qtbot, services, world, tmp_path)
    bar = window.alert_bar
    assert bar is not None
    bar.refresh()
    assert bar.isHidden()
    kiosk = open_kiosk(qtbot, services, world, kiosks, language)
    walk_in(qtbot, kiosk, "phq9")
    answer_on_screen(qtbot, kiosk, [0, 0, 0, 0, 0, 0, 0, 0, 1, 0])  # item 9 "several days"
    tap(qtbot, button(kiosk, "review_submit"))
    assert page(kiosk) == "kiosk_help"
    text = shown_text(kiosk)
    for number in (*HOTLINES, "0575-87001234"):
        assert number in text
    lowered = text.lower()
    for verdict in (*BAND_TEXTS, *VERDICT_WORDS):
        assert verdict.lower() not in lowered, verdict
    [alert] = alerts(services)
    assert (alert.instrument, alert.reason, alert.mode) == (
        "phq9",
        "self_harm_item",
        AssessmentMode.ANONYMOUS,
    )
    assert (alert.client_id, alert.assessment_id, alert.acted_at) == (None, None, None)
    tap(qtbot, button(kiosk, "help_done"))
    assert page(kiosk) == "kiosk_welcome"
    staff_close(qtbot, kiosk)  # a colleague comes; the app speaks its own language again

    bar.refresh()
    assert bar.isVisible()
    assert bar.text_label.text() == "1 result needs someone to act now"
    [info] = services.risk_alerts.open_alerts(world.staff)
    dialog = ActOnAlertDialog(services.risk_alerts, world.staff, RecordingPrompter(), info, window)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.detail_labels["who"].text() == "Anonymous visitor at the self-service screen"
    tap(qtbot, dialog.ok_button)  # no action chosen: refused, still open
    assert dialog.isVisible()
    error = dialog.findChild(QLabel, "error_action")
    assert error is not None
    assert error.isVisible()
    assert alerts(services)[0].acted_at is None
    click_radio(qtbot, dialog.action_buttons[RiskAction.SPOKE_WITH_PERSON])
    qtbot.keyClicks(dialog.note_edit, "Sat with her; she called 12356.")
    tap(qtbot, dialog.ok_button)
    assert not dialog.isVisible()
    [acted] = alerts(services)
    assert acted.action is RiskAction.SPOKE_WITH_PERSON
    assert acted.acted_by == world.staff.user_id
    assert acted.note_ciphertext is not None
    assert b"12356" not in acted.note_ciphertext  # sealed, not plain
    bar.refresh()
    assert bar.isHidden()


def test_a_risky_answer_from_an_identified_client_raises_a_crisis_flag_too(
    qtbot: QtBot,
    services: Services,
    world: World,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("carestation.ui.kiosk.KioskWindow", FastKiosk)
    give_consent(services, world, ConsentPurpose.ASSESSMENT)
    window = main_window(qtbot, services, world, tmp_path)
    launcher = window.kiosk_launcher
    assert launcher.start(client_id=world.client_id, instruments=["phq9"])
    kiosk = launcher.kiosk
    assert isinstance(kiosk, KioskWindow)
    tap(qtbot, button(kiosk, "ready_begin"))
    answer_on_screen(qtbot, kiosk, [1, 1, 0, 0, 0, 0, 0, 0, 2, 1])
    tap(qtbot, button(kiosk, "review_submit"))
    assert page(kiosk) == "kiosk_help"
    assert "12356" in shown_text(kiosk)
    [row] = rows(services)
    [alert] = alerts(services)
    with services.db.read() as session:
        [flag] = session.scalars(select(m.CrisisFlag)).all()
        assert (flag.client_id, flag.assessment_id, flag.cleared_at) == (
            world.client_id,
            row.id,
            None,
        )
    assert (alert.client_id, alert.assessment_id, alert.crisis_flag_id) == (
        world.client_id,
        row.id,
        flag.id,
    )
    tap(qtbot, button(kiosk, "help_done"))
    staff_close(qtbot, kiosk)
    assert window.isVisible()
    bar = window.alert_bar
    assert bar is not None
    bar.refresh()
    assert bar.isVisible()
    [info] = services.risk_alerts.open_alerts(world.staff)
    dialog = ActOnAlertDialog(services.risk_alerts, world.staff, RecordingPrompter(), info, window)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.detail_labels["who"].text() == "ABCD-EFGH-1"
    assert dialog.detail_labels["crisis"].text().startswith("Yes")
    click_radio(qtbot, dialog.action_buttons[RiskAction.BOOKED_SESSION])
    tap(qtbot, dialog.ok_button)
    bar.refresh()
    assert bar.isHidden()


# --- e. walking away half-way ------------------------------------------------------------------
def test_a_visitor_who_walks_away_leaves_nothing_saved_and_nothing_on_screen(
    qtbot: QtBot, services: Services, world: World, kiosks: list[KioskWindow]
) -> None:
    kiosk = open_kiosk(qtbot, services, world, kiosks, "zh_CN", idle_seconds=1, countdown_seconds=1)
    phq9 = load_instrument("phq9")
    walk_in(qtbot, kiosk, "phq9")
    tap(qtbot, button(kiosk, "intro_start"))
    for code in (3, 3, 2, 1, 3):
        tap(qtbot, kiosk.question.option_buttons[code])
    assert page(kiosk) == "kiosk_question"
    qtbot.waitUntil(lambda: page(kiosk) == "kiosk_still_there", timeout=4000)
    qtbot.waitUntil(lambda: page(kiosk) == "kiosk_welcome", timeout=4000)
    assert rows(services) == []
    assert alerts(services) == []
    assert kiosk.question.option_buttons == {}
    assert kiosk.review.row_widgets == []
    held = "\n".join(
        w.text() for w in kiosk.findChildren(QWidget) if isinstance(w, (QLabel, QPushButton))
    )
    for item in phq9.items:
        assert item.text("zh_CN") not in held
    # The next visitor starts from nothing: no earlier answer is ticked.
    walk_in(qtbot, kiosk, "phq9")
    tap(qtbot, button(kiosk, "intro_start"))
    assert not any(b.isChecked() for b in kiosk.question.option_buttons.values())
