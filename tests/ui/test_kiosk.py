"""The self-service screen, driven with taps and keys as a visitor and staff would, over fake
services that record exactly what would be saved."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QLineEdit, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from carestation.assessments import Instrument, instrument_codes, load_instrument, score
from carestation.domain.assessment_values import (
    AnonymousProfile,
    CampaignCodeCheck,
    FormAnswers,
    RecordedForm,
    RecordedSession,
    risk_reasons,
)
from carestation.domain.errors import (
    AuthenticationFailed,
    CareStationError,
    Conflict,
    PermissionDenied,
    ValidationError,
)
from carestation.domain.roles import Role
from carestation.domain.values import Actor
from carestation.domain.vocab import AgeBand, Gender, Industry
from carestation.i18n import current_language, set_language
from carestation.ui.kiosk import KioskWindow, StationHelp
from carestation.ui.kiosk.exit_dialog import StaffExitDialog
from carestation.ui.kiosk.widgets import OptionButton, ReviewRow
from carestation.ui.prompts import RecordingPrompter
from tests.ui.typing import type_text

ACTOR = Actor(
    user_id=7,
    username="staff01",
    display_name="王芳",
    roles=frozenset({Role.STAFF}),
    station_ids=frozenset({1}),
    station_id=1,
)
STATION = StationHelp(name="暨阳街道职工情绪管理服务站", phone="0575-87001234")
GOOD_CODE = "K7QP-4XM2"
USED_CODE = "USED-0001"
WALK_IN = ("phq9", "gad7", "who5", "pss10", "k10")
W = TypeVar("W", bound=QWidget)


# --- fakes ---------------------------------------------------------------------------------------
def _recorded(forms: Sequence[FormAnswers]) -> RecordedSession:
    # Scored for real, so a risky answer pattern gives the help page exactly as the service would.
    out = []
    for form in forms:
        result = score(form.instrument, form.answers)
        out.append(
            RecordedForm(score=result, assessment_id=None, risk_reasons=risk_reasons(result))
        )
    return RecordedSession(tuple(out))


@dataclass
class FakeAssessments:
    calls: list[tuple] = field(default_factory=list)
    refuse_client: CareStationError | None = None
    fail: Exception | None = None

    def check_kiosk_client(self, actor: Actor, /, *, client_id: int) -> None:
        self.calls.append(("check", client_id))
        if self.refuse_client is not None:
            raise self.refuse_client

    def record_kiosk_for_client(
        self, actor: Actor, /, *, client_id: int, forms: Sequence[FormAnswers]
    ) -> RecordedSession:
        self.calls.append(("client", client_id, tuple(forms)))
        if self.fail is not None:
            raise self.fail
        return _recorded(forms)

    def record_anonymous(
        self, actor: Actor, /, *, forms: Sequence[FormAnswers], profile: AnonymousProfile
    ) -> RecordedSession:
        self.calls.append(("anonymous", tuple(forms), profile))
        if self.fail is not None:
            raise self.fail
        return _recorded(forms)

    @property
    def saved(self) -> list[tuple]:
        return [c for c in self.calls if c[0] != "check"]


@dataclass
class FakeCampaigns:
    calls: list[tuple] = field(default_factory=list)
    instruments: tuple[str, ...] = ("phq9", "gad7")

    def check_code(self, actor: Actor, /, *, code: str) -> CampaignCodeCheck:
        self.calls.append(("check", code))
        clean = code.upper().replace("-", "").replace(" ", "")
        if clean == GOOD_CODE.replace("-", ""):
            return CampaignCodeCheck(
                code=GOOD_CODE,
                campaign_id=3,
                campaign_name="水务集团普测",
                instruments=self.instruments,
            )
        if clean == USED_CODE.replace("-", ""):
            raise Conflict("This code has already been used. Each code can be used once.")
        raise ValidationError({"code": "This code is not known. Check it against your slip."})

    def record(
        self, actor: Actor, /, *, code: str, forms: Sequence[FormAnswers]
    ) -> RecordedSession:
        self.calls.append(("record", code, tuple(forms)))
        return _recorded(forms)


class FakeAuth:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int]] = []

    def verify_station_staff(self, *, username: str, password: str, station_id: int) -> Actor:
        self.calls.append((username, password, station_id))
        if username == "staff02":
            raise PermissionDenied("Only a member of this station's team can close it.")
        if username == "staff01" and password == "right password":
            return ACTOR
        raise AuthenticationFailed("The user name or password is not right. Please try again.")


@dataclass
class FakeServices:
    assessments: FakeAssessments = field(default_factory=FakeAssessments)
    campaigns: FakeCampaigns = field(default_factory=FakeCampaigns)
    auth: FakeAuth = field(default_factory=FakeAuth)


# --- driving the screen --------------------------------------------------------------------------
@dataclass
class Kiosk:
    window: KioskWindow
    services: FakeServices
    prompter: RecordingPrompter
    qtbot: QtBot

    @property
    def page(self) -> str:
        return self.current.objectName()

    @property
    def current(self) -> QWidget:
        page = self.window.stack.currentWidget()
        assert page is not None
        return page

    def tap(self, widget: QWidget) -> None:
        assert widget.isVisible(), widget.objectName()
        assert widget.isEnabled(), widget.objectName()
        self.qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)

    def find(self, cls: type[W], name: str) -> W:
        found = self.window.findChild(cls, name)
        assert found is not None, name
        return found

    def button(self, name: str) -> QAbstractButton:
        return self.find(QAbstractButton, name)

    def options(self) -> list[OptionButton]:
        """The answers on screen, top to bottom."""
        buttons = list(self.window.question.option_buttons.values())
        return sorted(buttons, key=lambda b: b.mapTo(self.window, b.rect().topLeft()).y())

    def choose(self, code: int) -> None:
        assert self.page == "kiosk_question"
        self.tap(self.window.question.option_buttons[code])

    def walk_in(self, instrument: str, *, profile: bool = False) -> None:
        self.tap(self.button("welcome_walk_in"))
        assert self.page == "kiosk_choose"
        self.tap(self.button(f"choose_{instrument}"))
        assert self.page == "kiosk_profile"
        if not profile:
            self.tap(self.button("profile_skip"))
            assert self.page == "kiosk_intro"

    def answer_form(self, codes: Sequence[int], extras: Sequence[int] = ()) -> None:
        assert self.page == "kiosk_intro"
        self.tap(self.button("intro_start"))
        for code in (*codes, *extras):
            self.choose(code)

    def shown_text(self, root: QWidget | None = None) -> str:
        """Every text a visitor could read on the current page."""
        root = root or self.current
        parts = []
        for widget in root.findChildren(QWidget):
            if not widget.isVisibleTo(root) and widget is not root:
                continue
            if isinstance(widget, (QLabel, QPushButton, QLineEdit)):
                parts.append(widget.text())
        return "\n".join(parts)

    def all_widget_text(self) -> str:
        """Every text held by any widget of the window, shown or not."""
        parts = []
        for widget in self.window.findChildren(QWidget):
            if isinstance(widget, (QLabel, QPushButton, QLineEdit)):
                parts.append(widget.text())
        return "\n".join(parts)


@pytest.fixture
def make_kiosk(qtbot: QtBot) -> Iterator[Callable[..., Kiosk]]:
    made: list[KioskWindow] = []

    def make(*, language: str = "en", idle_seconds: int = 90, **kwargs: object) -> Kiosk:
        services = FakeServices()
        prompter = RecordingPrompter()
        options = {"advance_ms": 0, "done_delay_ms": 0, **kwargs}
        window = KioskWindow(
            services,
            ACTOR,
            STATION,
            prompter,
            language,
            idle_seconds,
            **options,  # type: ignore[arg-type]
        )
        qtbot.addWidget(window)
        window.resize(1366, 768)
        window.show()
        made.append(window)
        return Kiosk(window, services, prompter, qtbot)

    yield make
    for window in made:
        window._authorised = True  # let the test's window go without a password
        window.close()


def codes_for(instrument: Instrument, seed: int) -> tuple[list[int], list[int]]:
    """A varied but deterministic set of answers (every option used somewhere)."""
    codes = [o.code for o in instrument.options]
    answers = [codes[(i + seed) % len(codes)] for i in range(len(instrument.items))]
    extras = [e.options[(seed + 1) % len(e.options)].code for e in instrument.extra_items]
    return answers, extras


BAND_TEXTS = sorted(
    {
        text
        for code in instrument_codes()
        for band in load_instrument(code).bands
        for text in (band.slug.replace("_", " "), band.label.en, band.label.zh_cn)
    }
)


# --- every questionnaire, both languages ---------------------------------------------------------
@pytest.mark.parametrize("language", ["zh_CN", "en"])
@pytest.mark.parametrize("code", WALK_IN)
def test_every_questionnaire_can_be_taken_in_both_languages(
    make_kiosk: Callable[..., Kiosk], code: str, language: str
) -> None:
    kiosk = make_kiosk(language=language)
    instrument = load_instrument(code)
    kiosk.walk_in(code)
    assert instrument.title(language) in kiosk.shown_text()
    assert instrument.instructions(language) in kiosk.shown_text()
    answers, extras = codes_for(instrument, seed=len(code))
    kiosk.tap(kiosk.button("intro_start"))
    questions = [i.text(language) for i in instrument.items] + [
        e.text(language) for e in instrument.extra_items
    ]
    total = len(questions)
    for number, (text, chosen) in enumerate(
        zip(questions, [*answers, *extras], strict=True), start=1
    ):
        page = kiosk.window.question
        assert page.text.text() == text
        assert (
            page.count_label.text()
            == {
                "en": f"Question {number} of {total}",
                "zh_CN": f"第 {number} 题，共 {total} 题",
            }[language]
        )
        assert (page.progress.value(), page.progress.maximum()) == (number, total)
        options = (
            instrument.options
            if number <= len(instrument.items)
            else instrument.extra_items[0].options
        )
        # One big button per answer, in the paper form's order.
        assert [b.label_text for b in kiosk.options()] == [o.label(language) for o in options]
        assert all(b.height() >= 64 and b.width() >= 600 for b in kiosk.options())
        kiosk.choose(chosen)
    assert kiosk.page == "kiosk_review"
    assert kiosk.services.assessments.calls == []  # nothing saved before Submit
    kiosk.tap(kiosk.button("review_submit"))
    expected = FormAnswers(
        instrument=code,
        answers=tuple(answers),
        extra_answers=tuple((e.id, c) for e, c in zip(instrument.extra_items, extras, strict=True)),
        language=language,
    )
    assert kiosk.services.assessments.calls == [("anonymous", (expected,), AnonymousProfile())]
    assert kiosk.page in ("kiosk_help", "kiosk_thanks")


def test_who5_lists_five_first_and_records_the_codes_not_the_positions(
    make_kiosk: Callable[..., Kiosk],
) -> None:
    kiosk = make_kiosk()
    kiosk.walk_in("who5")
    kiosk.tap(kiosk.button("intro_start"))
    assert [b.objectName() for b in kiosk.options()] == [f"option_{c}" for c in (5, 4, 3, 2, 1, 0)]
    for _ in range(5):
        kiosk.tap(kiosk.options()[0])  # the top answer each time: "All of the time"
    kiosk.tap(kiosk.button("review_submit"))
    (_kind, (form,), _profile) = kiosk.services.assessments.calls[0]
    assert form.answers == (5, 5, 5, 5, 5)


def test_the_unscored_difficulty_question_comes_after_the_scored_ones(
    make_kiosk: Callable[..., Kiosk],
) -> None:
    kiosk = make_kiosk()
    gad7 = load_instrument("gad7")
    kiosk.walk_in("gad7")
    kiosk.answer_form([0] * 7)
    page = kiosk.window.question
    assert page.text.text() == gad7.extra_items[0].text("en")
    assert page.count_label.text() == "Question 8 of 8"
    assert [b.label_text for b in kiosk.options()] == [
        o.label("en") for o in gad7.extra_items[0].options
    ]
    kiosk.choose(2)
    kiosk.tap(kiosk.button("review_submit"))
    (_kind, (form,), _profile) = kiosk.services.assessments.calls[0]
    assert form.answers == (0,) * 7
    assert form.extra_answers == (("8", 2),)


# --- back, change, review ------------------------------------------------------------------------
def test_back_shows_the_earlier_choice_and_the_review_changes_answers(
    make_kiosk: Callable[..., Kiosk],
) -> None:
    kiosk = make_kiosk()
    phq9 = load_instrument("phq9")
    kiosk.walk_in("phq9")
    kiosk.tap(kiosk.button("intro_start"))
    kiosk.choose(1)
    kiosk.choose(2)
    assert kiosk.window.question.count_label.text() == "Question 3 of 10"
    kiosk.tap(kiosk.button("question_back"))
    page = kiosk.window.question
    assert page.text.text() == phq9.items[1].text("en")
    assert [b.isChecked() for b in kiosk.options()] == [False, False, True, False]
    assert "\u2713" in page.option_buttons[2].tick.text()  # marked by a tick, not colour alone
    kiosk.choose(3)  # change question 2 on the way
    for _ in range(7):
        kiosk.choose(0)
    kiosk.choose(1)  # difficulty
    assert kiosk.page == "kiosk_review"
    rows = kiosk.window.review.row_widgets
    assert len(rows) == 10
    assert rows[1].answer.text() == "\u2713 Nearly every day"
    # Change question 4 from the review page: back there afterwards, not to question 5.
    kiosk.tap(rows[3])
    assert kiosk.page == "kiosk_question"
    assert kiosk.window.question.text.text() == phq9.items[3].text("en")
    assert kiosk.button("question_back").text() == "Back to the list"
    assert kiosk.window.question.option_buttons[0].isChecked()
    kiosk.choose(2)
    assert kiosk.page == "kiosk_review"
    assert kiosk.window.review.row_widgets[3].answer.text() == "\u2713 More than half the days"
    # Back from a change without choosing keeps the answer.
    kiosk.tap(kiosk.window.review.row_widgets[0])
    kiosk.tap(kiosk.button("question_back"))
    assert kiosk.page == "kiosk_review"
    kiosk.tap(kiosk.button("review_submit"))
    (_kind, (form,), _profile) = kiosk.services.assessments.calls[0]
    assert form.answers == (1, 3, 0, 2, 0, 0, 0, 0, 0)
    assert form.extra_answers == (("10", 1),)


def test_review_back_returns_to_the_last_question_and_intro_back_leaves_the_form(
    make_kiosk: Callable[..., Kiosk],
) -> None:
    kiosk = make_kiosk()
    kiosk.walk_in("who5")
    kiosk.answer_form([3] * 5)
    kiosk.tap(kiosk.button("review_back"))
    assert kiosk.window.question.count_label.text() == "Question 5 of 5"
    for _ in range(5):
        kiosk.tap(kiosk.button("question_back"))
    assert kiosk.page == "kiosk_intro"
    kiosk.tap(kiosk.button("intro_back"))
    assert kiosk.page == "kiosk_profile"
    assert kiosk.services.assessments.calls == []


def test_answers_move_on_after_a_short_moment(
    make_kiosk: Callable[..., Kiosk], qtbot: QtBot
) -> None:
    kiosk = make_kiosk(advance_ms=150)
    kiosk.walk_in("gad7")
    kiosk.tap(kiosk.button("intro_start"))
    qtbot.wait(300)  # past the double-tap guard
    kiosk.choose(2)
    # Still on question 1, the choice highlighted, then on to question 2 by itself.
    assert kiosk.window.question.count_label.text() == "Question 1 of 8"
    assert kiosk.window.question.option_buttons[2].isChecked()
    qtbot.waitUntil(lambda: kiosk.window.question.count_label.text() == "Question 2 of 8")
    assert not any(b.isChecked() for b in kiosk.options())


def test_a_tap_straight_after_a_new_question_is_not_taken_as_its_answer(
    make_kiosk: Callable[..., Kiosk], qtbot: QtBot
) -> None:
    kiosk = make_kiosk(advance_ms=400)
    kiosk.walk_in("gad7")
    kiosk.tap(kiosk.button("intro_start"))
    kiosk.choose(1)  # within the guard: the second half of the tap on Start
    assert not any(b.isChecked() for b in kiosk.options())
    qtbot.wait(300)
    kiosk.choose(1)
    assert kiosk.window.question.option_buttons[1].isChecked()


def test_anonymous_profile_is_recorded_as_chosen(make_kiosk: Callable[..., Kiosk]) -> None:
    kiosk = make_kiosk()
    kiosk.walk_in("who5", profile=True)
    assert kiosk.button("profile_age_none").isChecked()  # "Prefer not to say" by default
    kiosk.tap(kiosk.button(f"profile_age_{AgeBand.FROM_35_TO_44}"))
    kiosk.tap(kiosk.button(f"profile_industry_{Industry.SANITATION_SERVICES}"))
    assert not kiosk.button("profile_age_none").isChecked()
    assert kiosk.button("profile_gender_none").isChecked()
    kiosk.tap(kiosk.button("profile_continue"))
    kiosk.answer_form([4] * 5)
    kiosk.tap(kiosk.button("review_submit"))
    (_kind, _forms, profile) = kiosk.services.assessments.calls[0]
    assert profile == AnonymousProfile(
        age_band=AgeBand.FROM_35_TO_44, gender=None, industry=Industry.SANITATION_SERVICES
    )
    assert Gender.UNSPECIFIED not in [
        v for v in kiosk.window.profile.gender.values if v is not None
    ]


# --- risk ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_a_risky_answer_shows_where_to_get_help_and_never_a_score(
    make_kiosk: Callable[..., Kiosk], language: str
) -> None:
    kiosk = make_kiosk(language=language)
    kiosk.walk_in("phq9")
    kiosk.answer_form([0, 0, 0, 0, 0, 0, 0, 0, 1], [0])  # item 9 "several days", total 1
    kiosk.tap(kiosk.button("review_submit"))
    assert kiosk.page == "kiosk_help"
    text = kiosk.shown_text()
    for number in ("12356", "12351", "120", STATION.phone):
        assert number in text
    if language == "en":
        assert "Thank you for your honesty." in text
        assert "A member of our team will come to you shortly." in text
    lowered = text.lower()
    for band in BAND_TEXTS:
        assert band.lower() not in lowered, band
    for word in ("score", "total", "risk", "band", "severe", "depress"):
        assert word not in lowered
    assert kiosk.button("help_done").isVisible()
    kiosk.tap(kiosk.button("help_done"))
    assert kiosk.page == "kiosk_welcome"


def test_a_k10_of_30_shows_help_too(make_kiosk: Callable[..., Kiosk]) -> None:
    kiosk = make_kiosk()
    kiosk.walk_in("k10")
    kiosk.answer_form([3] * 10)  # total 30
    kiosk.tap(kiosk.button("review_submit"))
    assert kiosk.page == "kiosk_help"
    assert "30" not in kiosk.shown_text()


def test_a_calm_result_shows_thanks_without_a_score(make_kiosk: Callable[..., Kiosk]) -> None:
    kiosk = make_kiosk()
    kiosk.walk_in("k10")
    kiosk.answer_form([5, 5, 5, 1, 1, 1, 1, 1, 1, 1])  # total 22: "high", no alert
    kiosk.tap(kiosk.button("review_submit"))
    assert kiosk.page == "kiosk_thanks"
    text = kiosk.shown_text().lower()
    assert "22" not in text
    assert "high" not in text
    assert "12356" not in text


def test_done_waits_a_moment_so_a_double_tap_on_submit_cannot_skip_the_help_page(
    make_kiosk: Callable[..., Kiosk], qtbot: QtBot
) -> None:
    kiosk = make_kiosk(done_delay_ms=300)
    kiosk.walk_in("phq9")
    kiosk.answer_form([0] * 8 + [2], [0])
    kiosk.tap(kiosk.button("review_submit"))
    assert kiosk.page == "kiosk_help"
    assert not kiosk.button("help_done").isEnabled()
    qtbot.waitUntil(kiosk.button("help_done").isEnabled)
    assert len(kiosk.services.assessments.saved) == 1


# --- campaign codes ------------------------------------------------------------------------------
def test_code_errors_are_shown_and_going_back_leaves_nothing(
    make_kiosk: Callable[..., Kiosk],
) -> None:
    kiosk = make_kiosk()
    kiosk.tap(kiosk.button("welcome_code"))
    field = kiosk.find(QLineEdit, "code_field")
    error = kiosk.find(QLabel, "code_error")
    kiosk.tap(kiosk.button("code_continue"))
    assert error.isVisible()
    assert error.text() == "Please enter the code from your slip."
    assert kiosk.services.campaigns.calls == []
    # Look-alikes that no code contains cannot be typed on the screen's keyboard.
    assert [kiosk.button(f"key_{k}").isEnabled() for k in "01ILO2Z"] == [False] * 5 + [True] * 2
    for key in "ZZZZ2":
        kiosk.tap(kiosk.button(f"key_{key}"))
    kiosk.tap(kiosk.button("key_delete"))
    assert field.text() == "ZZZZ"
    kiosk.tap(kiosk.button("code_continue"))
    assert error.isVisible()
    assert error.text() == "This code is not known. Check it against your slip."
    field.clear()
    type_text(kiosk.qtbot, field, "used-0001")
    kiosk.qtbot.keyClick(field, Qt.Key.Key_Return)
    assert error.text() == "This code has already been used. Each code can be used once."
    assert kiosk.page == "kiosk_code"
    kiosk.tap(kiosk.button("code_back"))
    assert kiosk.page == "kiosk_welcome"
    assert field.text() == ""
    assert error.text() == ""
    assert not error.isVisibleTo(kiosk.window)
    kiosk.tap(kiosk.button("welcome_code"))
    assert field.text() == ""
    assert not error.isVisible()


def test_a_campaign_code_unlocks_its_questionnaires_and_the_code_is_used_once(
    make_kiosk: Callable[..., Kiosk],
) -> None:
    kiosk = make_kiosk(language="zh_CN")
    kiosk.tap(kiosk.button("welcome_code"))
    type_text(kiosk.qtbot, kiosk.find(QLineEdit, "code_field"), "k7qp 4xm2")
    kiosk.tap(kiosk.button("code_continue"))
    assert kiosk.page == "kiosk_intro"
    assert load_instrument("phq9").title("zh_CN") in kiosk.shown_text()
    assert "第 1 份问卷，共 2 份" in kiosk.shown_text()
    kiosk.answer_form([1] * 9, [1])
    assert kiosk.page == "kiosk_intro"
    assert load_instrument("gad7").title("zh_CN") in kiosk.shown_text()
    kiosk.answer_form([2] * 7, [0])
    assert len(kiosk.window.review.row_widgets) == 18
    kiosk.tap(kiosk.button("review_submit"))
    assert kiosk.services.campaigns.calls[-1] == (
        "record",
        GOOD_CODE,
        (
            FormAnswers("phq9", (1,) * 9, (("10", 1),), "zh_CN"),
            FormAnswers("gad7", (2,) * 7, (("8", 0),), "zh_CN"),
        ),
    )
    assert kiosk.services.assessments.calls == []
    assert kiosk.page == "kiosk_help"  # PHQ-9 item 9 answered "several days"
    assert GOOD_CODE in kiosk.shown_text()
    assert "免费的随访谈话" in kiosk.shown_text()


def test_campaign_thanks_page_offers_the_follow_up_with_the_code(
    make_kiosk: Callable[..., Kiosk], qtbot: QtBot
) -> None:
    kiosk = make_kiosk()
    kiosk.services.campaigns.instruments = ("who5",)
    kiosk.tap(kiosk.button("welcome_code"))
    type_text(qtbot, kiosk.find(QLineEdit, "code_field"), GOOD_CODE)
    kiosk.tap(kiosk.button("code_continue"))
    kiosk.answer_form([3] * 5)
    kiosk.tap(kiosk.button("review_submit"))
    assert kiosk.page == "kiosk_thanks"
    text = kiosk.shown_text()
    assert GOOD_CODE in text
    assert (
        "If you would like a free follow-up talk, give your code to the station staff; you do "
        "not have to tell anyone your answers."
    ) in text
    kiosk.tap(kiosk.button("thanks_done"))
    assert kiosk.page == "kiosk_welcome"
    assert GOOD_CODE not in kiosk.all_widget_text()


def test_progress_runs_across_all_forms_of_the_session(make_kiosk: Callable[..., Kiosk]) -> None:
    kiosk = make_kiosk()
    kiosk.tap(kiosk.button("welcome_code"))
    type_text(kiosk.qtbot, kiosk.find(QLineEdit, "code_field"), GOOD_CODE)
    kiosk.tap(kiosk.button("code_continue"))
    kiosk.answer_form([0] * 9, [0])
    kiosk.tap(kiosk.button("intro_start"))
    kiosk.choose(0)
    kiosk.choose(0)
    page = kiosk.window.question
    assert page.count_label.text() == "Question 3 of 8"
    assert (page.progress.value(), page.progress.maximum()) == (13, 18)


# --- a client's session started by staff ---------------------------------------------------------
def test_staff_start_a_session_for_a_client(make_kiosk: Callable[..., Kiosk]) -> None:
    kiosk = make_kiosk()
    assert kiosk.window.start_for_client(42, ["gad7", "who5"])
    assert kiosk.services.assessments.calls == [("check", 42)]
    assert kiosk.page == "kiosk_ready"
    assert "2 questionnaires" in kiosk.shown_text()
    # The client chooses Chinese before beginning.
    kiosk.tap(kiosk.button("ready_language_zh_CN"))
    assert current_language() == "zh_CN"
    kiosk.tap(kiosk.button("ready_begin"))
    kiosk.answer_form([3] * 7, [3])
    assert load_instrument("who5").title("zh_CN") in kiosk.shown_text()
    kiosk.answer_form([1] * 5)
    kiosk.tap(kiosk.button("review_submit"))
    assert kiosk.services.assessments.saved == [
        (
            "client",
            42,
            (
                FormAnswers("gad7", (3,) * 7, (("8", 3),), "zh_CN"),
                FormAnswers("who5", (1,) * 5, (), "zh_CN"),
            ),
        )
    ]
    assert kiosk.page == "kiosk_thanks"
    kiosk.tap(kiosk.button("thanks_done"))
    # The next visitor starts in the kiosk's own language.
    assert kiosk.page == "kiosk_welcome"
    assert current_language() == "en"
    assert kiosk.button("welcome_language_en").isChecked()


def test_a_client_the_service_refuses_is_never_started(make_kiosk: Callable[..., Kiosk]) -> None:
    kiosk = make_kiosk()
    kiosk.services.assessments.refuse_client = Conflict(
        "The client has not given consent for assessments."
    )
    assert not kiosk.window.start_for_client(42, ["phq9"])
    assert kiosk.page == "kiosk_welcome"
    assert kiosk.prompter.shown == [
        ("error", "Self-service screen", "The client has not given consent for assessments.")
    ]


def test_a_visitor_in_progress_is_never_interrupted(make_kiosk: Callable[..., Kiosk]) -> None:
    kiosk = make_kiosk()
    kiosk.walk_in("who5")
    kiosk.answer_form([2, 2])
    assert not kiosk.window.start_for_client(42, ["phq9"])
    assert not kiosk.window.start_anonymous(["phq9"])
    assert kiosk.services.assessments.calls == []  # not even checked
    assert kiosk.prompter.shown[0][1] == "Self-service screen in use"
    assert kiosk.page == "kiosk_question"
    assert kiosk.window.question.count_label.text() == "Question 3 of 5"


def test_staff_may_offer_an_anonymous_questionnaire(make_kiosk: Callable[..., Kiosk]) -> None:
    kiosk = make_kiosk()
    assert kiosk.window.start_anonymous(["pss10"])
    assert kiosk.page == "kiosk_profile"
    kiosk.tap(kiosk.button("profile_skip"))
    kiosk.answer_form([4] * 10)
    kiosk.tap(kiosk.button("review_submit"))
    (_kind, (form,), _profile) = kiosk.services.assessments.calls[0]
    assert form == FormAnswers("pss10", (4,) * 10, (), "en")


# --- saving fails ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "error",
    [
        ValidationError({"answers": "Question 3 has no answer."}),
        Conflict("The client has withdrawn consent for assessments."),
        CareStationError("The database cannot be reached."),
    ],
    ids=["validation", "conflict", "other"],
)
def test_a_failed_save_keeps_the_answers_for_staff_to_help(
    make_kiosk: Callable[..., Kiosk], error: CareStationError
) -> None:
    kiosk = make_kiosk(idle_seconds=1)
    kiosk.window.start_for_client(42, ["gad7"])
    kiosk.tap(kiosk.button("ready_begin"))
    kiosk.answer_form([1, 2, 3, 0, 1, 2, 3], [2])
    kiosk.services.assessments.fail = error
    kiosk.tap(kiosk.button("review_submit"))
    assert kiosk.page == "kiosk_problem"
    assert str(error) in kiosk.shown_text()
    assert not kiosk.window.idle.active  # waits for staff; does not time out and discard
    kiosk.tap(kiosk.button("problem_back"))
    assert kiosk.page == "kiosk_review"
    assert kiosk.window.review.row_widgets[2].answer.text() == "\u2713 Nearly every day"
    kiosk.tap(kiosk.button("review_submit"))
    assert kiosk.page == "kiosk_problem"
    kiosk.services.assessments.fail = None
    kiosk.tap(kiosk.button("problem_retry"))
    assert kiosk.page == "kiosk_thanks"
    saved = kiosk.services.assessments.saved
    assert len(saved) == 3
    assert saved[0] == saved[1] == saved[2]
    assert saved[2][2] == (FormAnswers("gad7", (1, 2, 3, 0, 1, 2, 3), (("8", 2),), "en"),)


def test_an_unexpected_failure_is_calm_too(make_kiosk: Callable[..., Kiosk]) -> None:
    kiosk = make_kiosk()
    kiosk.walk_in("who5")
    kiosk.answer_form([1] * 5)
    kiosk.services.assessments.fail = RuntimeError("disk on fire")
    kiosk.tap(kiosk.button("review_submit"))
    assert kiosk.page == "kiosk_problem"
    assert "disk on fire" not in kiosk.shown_text()


# --- inactivity ----------------------------------------------------------------------------------
def test_inactivity_discards_everything_unsaved(
    make_kiosk: Callable[..., Kiosk], qtbot: QtBot
) -> None:
    kiosk = make_kiosk(idle_seconds=1, countdown_seconds=1)
    phq9 = load_instrument("phq9")
    kiosk.walk_in("phq9")
    kiosk.answer_form([3] * 9, [3])
    kiosk.tap(kiosk.window.review.row_widgets[8])  # changing item 9, then walks away
    qtbot.waitUntil(lambda: kiosk.page == "kiosk_still_there", timeout=3000)
    assert "Are you still there?" in kiosk.shown_text()
    assert phq9.items[8].text("en") not in kiosk.shown_text()
    qtbot.waitUntil(lambda: kiosk.page == "kiosk_welcome", timeout=3000)
    assert kiosk.services.assessments.calls == []
    held = kiosk.all_widget_text()
    for item in phq9.items:
        assert item.text("en") not in held
    for option in phq9.options:
        assert option.label("en") not in held
    assert kiosk.window.question.option_buttons == {}
    assert kiosk.window.review.row_widgets == []
    assert kiosk.window.findChildren(ReviewRow) == [] or all(
        not r.isVisible() for r in kiosk.window.findChildren(ReviewRow)
    )
    # A new visitor starts from nothing.
    kiosk.walk_in("phq9")
    kiosk.tap(kiosk.button("intro_start"))
    assert not any(b.isChecked() for b in kiosk.options())


def test_continue_keeps_the_visitor_where_they_were(
    make_kiosk: Callable[..., Kiosk], qtbot: QtBot
) -> None:
    kiosk = make_kiosk(idle_seconds=1, countdown_seconds=20)
    kiosk.tap(kiosk.button("welcome_code"))
    type_text(qtbot, kiosk.find(QLineEdit, "code_field"), GOOD_CODE)
    kiosk.tap(kiosk.button("code_continue"))
    kiosk.answer_form([2, 2, 2])
    qtbot.waitUntil(lambda: kiosk.page == "kiosk_still_there", timeout=3000)
    assert "20 seconds" in kiosk.shown_text()
    qtbot.waitUntil(lambda: "19 seconds" in kiosk.shown_text(), timeout=2500)
    kiosk.tap(kiosk.button("still_there_continue"))
    assert kiosk.page == "kiosk_question"
    assert kiosk.window.question.count_label.text() == "Question 4 of 10"
    kiosk.tap(kiosk.button("question_back"))
    assert kiosk.window.question.option_buttons[2].isChecked()


def test_the_closing_pages_return_to_welcome_by_themselves(
    make_kiosk: Callable[..., Kiosk], qtbot: QtBot
) -> None:
    kiosk = make_kiosk(idle_seconds=1)
    kiosk.walk_in("who5")
    kiosk.answer_form([5] * 5)
    kiosk.tap(kiosk.button("review_submit"))
    assert kiosk.page == "kiosk_thanks"
    qtbot.waitUntil(lambda: kiosk.page == "kiosk_welcome", timeout=3000)


def test_input_keeps_the_session_alive(make_kiosk: Callable[..., Kiosk], qtbot: QtBot) -> None:
    kiosk = make_kiosk(idle_seconds=1)
    kiosk.walk_in("phq9")
    kiosk.tap(kiosk.button("intro_start"))
    for _ in range(4):
        qtbot.wait(600)
        kiosk.qtbot.mouseMove(kiosk.window.question.text)
        kiosk.qtbot.mouseClick(kiosk.window.question.text, Qt.MouseButton.LeftButton)
    assert kiosk.page == "kiosk_question"


# --- language ------------------------------------------------------------------------------------
def test_the_language_toggle_switches_only_while_the_kiosk_runs(
    make_kiosk: Callable[..., Kiosk],
) -> None:
    set_language("en")
    kiosk = make_kiosk(language="zh_CN")
    assert current_language() == "zh_CN"
    assert kiosk.button("welcome_language_zh_CN").isChecked()
    kiosk.tap(kiosk.button("welcome_language_en"))
    assert current_language() == "en"
    assert kiosk.window.language == "en"
    kiosk.walk_in("gad7")
    kiosk.tap(kiosk.button("intro_start"))
    assert kiosk.window.question.text.text() == load_instrument("gad7").items[0].text("en")
    kiosk.window.show_welcome()  # visitor abandoned: back to the kiosk's language
    assert current_language() == "zh_CN"


def test_a_kiosk_never_shown_does_not_change_the_app_language(qtbot: QtBot) -> None:
    set_language("en")
    window = KioskWindow(FakeServices(), ACTOR, STATION, RecordingPrompter(), "zh_CN")
    qtbot.addWidget(window)
    assert current_language() == "en"
    window._authorised = True


# --- leaving -------------------------------------------------------------------------------------
def _child(dialog: QWidget, name: str) -> QPushButton:
    found = dialog.findChild(QPushButton, name)
    assert found is not None, name
    return found


def _exit_dialog(kiosk: Kiosk) -> StaffExitDialog:
    kiosk.tap(kiosk.button("staff_exit"))
    dialogs = [d for d in kiosk.window.findChildren(StaffExitDialog) if d.isVisible()]
    assert len(dialogs) == 1
    return dialogs[0]


def test_only_a_staff_password_closes_the_kiosk(
    make_kiosk: Callable[..., Kiosk], qtbot: QtBot
) -> None:
    set_language("en")
    kiosk = make_kiosk(language="zh_CN")
    window = kiosk.window
    # Escape and close requests (Alt+F4, the window manager) are ignored.
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.close()
    event = QCloseEvent()
    QApplication.sendEvent(window, event)
    assert not event.isAccepted()
    assert window.isVisible()

    dialog = _exit_dialog(kiosk)
    type_text(qtbot, dialog.username, "staff01")
    type_text(qtbot, dialog.password, "wrong password")
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    assert dialog.message.isVisible()
    assert dialog.message.text() == "The user name or password is not right. Please try again."
    assert dialog.password.text() == ""
    assert window.isVisible()

    dialog.username.clear()
    type_text(qtbot, dialog.username, "staff02")
    type_text(qtbot, dialog.password, "right password")
    kiosk.tap(_child(dialog, "exit_ok"))
    assert "this station" in dialog.message.text()
    assert window.isVisible()

    dialog.username.clear()
    type_text(qtbot, dialog.username, "staff01")
    type_text(qtbot, dialog.password, "right password")
    with qtbot.waitSignal(window.closed, timeout=1000):
        kiosk.tap(_child(dialog, "exit_ok"))
    assert not window.isVisible()
    assert kiosk.services.auth.calls[-1] == ("staff01", "right password", 1)
    assert current_language() == "en"  # the app's own language back
    assert dialog.password.text() == ""
    assert dialog.username.text() == ""


def test_cancelling_the_staff_dialog_forgets_what_was_typed(
    make_kiosk: Callable[..., Kiosk], qtbot: QtBot
) -> None:
    kiosk = make_kiosk()
    dialog = _exit_dialog(kiosk)
    type_text(qtbot, dialog.username, "staff01")
    type_text(qtbot, dialog.password, "half a passw")
    kiosk.tap(_child(dialog, "exit_cancel"))
    assert not dialog.isVisible()
    assert kiosk.window.isVisible()
    dialog = _exit_dialog(kiosk)
    assert dialog.username.text() == ""
    assert dialog.password.text() == ""
    dialog.reject()


def test_staff_can_close_from_the_save_problem_page(make_kiosk: Callable[..., Kiosk]) -> None:
    kiosk = make_kiosk()
    kiosk.walk_in("who5")
    kiosk.answer_form([1] * 5)
    kiosk.services.assessments.fail = Conflict("No.")
    kiosk.tap(kiosk.button("review_submit"))
    kiosk.tap(kiosk.button("problem_staff"))
    assert any(d.isVisible() for d in kiosk.window.findChildren(StaffExitDialog))
