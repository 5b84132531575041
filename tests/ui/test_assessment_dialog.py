"""The counsellor's questionnaire dialog, driven as a counsellor would, against a fake service
that scores with the real rules."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtWidgets import QDialog, QGroupBox, QLabel
from pytestqt.qtbot import QtBot

from carestation.assessments import load_instrument
from carestation.domain.assessment_values import FormAnswers, risk_reason_text
from carestation.domain.roles import Role
from carestation.domain.values import Actor
from carestation.i18n import set_language
from carestation.ui.assessment_dialog import SESSION_INSTRUMENTS, AssessmentDialog
from carestation.ui.prompts import RecordingPrompter
from tests.ui.assessment_fakes import FakeAssessments

COUNSELLOR = Actor(
    user_id=3,
    username="chen",
    display_name="陈静",
    roles=frozenset({Role.COUNSELLOR}),
    station_ids=frozenset({1}),
    station_id=1,
)


def make(
    qtbot: QtBot,
    instrument: str = "phq9",
    service: FakeAssessments | None = None,
    prompter: RecordingPrompter | None = None,
) -> tuple[AssessmentDialog, FakeAssessments, RecordingPrompter]:
    service = service or FakeAssessments()
    prompter = prompter or RecordingPrompter()
    dialog = AssessmentDialog(
        service,
        COUNSELLOR,
        prompter,
        client_id=5,
        client_label="C-000123",
        case_id=11,
        appointment_id=12,
        instrument=instrument,
    )
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog, service, prompter


def fill(dialog: AssessmentDialog, answers: list[int | None]) -> None:
    for number, code in enumerate(answers, start=1):
        if code is not None:
            dialog.answer(number, code)


def text(dialog: AssessmentDialog, name: str) -> str:
    label = dialog.findChild(QLabel, name)
    assert label is not None, name
    return label.text() if label.isVisibleTo(dialog) else ""


def the_form(service: FakeAssessments) -> FormAnswers:
    assert len(service.calls) == 1, service.calls
    form = service.calls[0]["form"]
    assert isinstance(form, FormAnswers)
    return form


def test_phq9_all_ones_previews_nine_mild_and_flags_item_9(qtbot: QtBot) -> None:
    dialog, _service, _prompter = make(qtbot)
    fill(dialog, [1] * 8)
    assert text(dialog, "preview_total") == "The score appears when every question is answered."
    assert text(dialog, "preview_progress") == "8 of 9 questions answered"
    dialog.answer(9, 1)
    assert text(dialog, "preview_progress") == "9 of 9 questions answered"
    assert text(dialog, "preview_total") == "Total 9 (possible 0–27)"
    assert text(dialog, "preview_band") == "Band: Mild depressive symptoms"
    flags = text(dialog, "preview_flags")
    assert "Item 9 shows thoughts of death or self-harm" in flags
    assert risk_reason_text("self_harm_item") in flags


def test_saving_records_raw_codes_in_order_and_the_difficulty_answer(qtbot: QtBot) -> None:
    dialog, service, _prompter = make(qtbot)
    fill(dialog, [0, 1, 2, 3, 0, 1, 2, 3, 0])
    difficulty = dialog.extra_rows["10"]
    difficulty.group.button(2).click()
    with qtbot.waitSignal(dialog.form_recorded) as recorded:
        dialog.save_button.click()
    assert the_form(service) == FormAnswers(
        instrument="phq9",
        answers=(0, 1, 2, 3, 0, 1, 2, 3, 0),
        extra_answers=(("10", 2),),
        language="en",
        prorate=False,
    )
    call = service.calls[0]
    assert (call["client_id"], call["case_id"], call["appointment_id"]) == (5, 11, 12)
    assert call["actor"] is COUNSELLOR
    assert recorded.args[0].score.total == 12
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert not dialog.risk_banner.isVisibleTo(dialog)


def test_difficulty_item_is_apart_and_marked_not_scored(qtbot: QtBot) -> None:
    dialog, _service, _prompter = make(qtbot)
    assert len(dialog.rows) == 9
    box = dialog.findChild(QGroupBox, "extra_10")
    assert box is not None
    assert box.title() == "Not scored"
    assert dialog.extra_rows["10"].text_label.text().startswith("If you checked off any problems")
    fill(dialog, [0] * 9)
    assert text(dialog, "preview_total") == "Total 0 (possible 0–27)"  # difficulty not needed


def test_who5_records_raw_codes_not_option_positions(qtbot: QtBot) -> None:
    dialog, service, _prompter = make(qtbot, "who5")
    # The paper form lists "All of the time" (5) first: click by position, as a user would.
    for row, position in zip(dialog.rows, [0, 1, 2, 4, 5], strict=True):
        row.buttons()[position].click()
    assert [b.text().splitlines()[0] for b in dialog.rows[0].buttons()] == [
        "All of the time",
        "Most of the time",
        "More than half",
        "Less than half",
        "Some of the time",
        "At no time",
    ]
    assert text(dialog, "preview_total") == "Raw score 13 of 25; percent score 52 %"
    assert text(dialog, "preview_band") == "Band: Adequate wellbeing"
    assert "An item was answered 0 or 1: follow-up advised" in text(dialog, "preview_flags")
    dialog.save_button.click()
    assert the_form(service).answers == (5, 4, 3, 1, 0)


def test_unanswered_question_is_refused_with_its_number(qtbot: QtBot) -> None:
    dialog, service, _prompter = make(qtbot)
    fill(dialog, [1, 1, 1, None, 1, 1, 1, 1, 0])
    assert dialog.on_save() is None
    assert service.calls == []
    assert text(dialog, "problem_label") == "Question 4 has no answer."
    row = dialog.row(4)
    assert row.property("missing") is True
    assert row.missing_label.isVisibleTo(dialog)
    assert row.missing_label.text() == "No answer"
    assert not dialog.row(3).missing_label.isVisibleTo(dialog)
    dialog.answer(4, 2)
    assert row.property("missing") is False
    dialog.save_button.click()
    assert the_form(service).answers == (1, 1, 1, 2, 1, 1, 1, 1, 0)


def test_several_unanswered_questions_are_all_named(qtbot: QtBot) -> None:
    dialog, service, _prompter = make(qtbot, "gad7")
    fill(dialog, [1, None, 1, 1, None, 1, None])
    dialog.save_button.click()
    assert text(dialog, "problem_label") == "Questions 2, 5, 7 have no answer."
    assert [r.property("missing") for r in dialog.rows] == [
        False,
        True,
        False,
        False,
        True,
        False,
        True,
    ]
    assert service.calls == []


def test_k10_prorates_one_unanswered_question_only_when_asked(qtbot: QtBot) -> None:
    dialog, service, _prompter = make(qtbot, "k10")
    assert dialog.prorate_check.isVisibleTo(dialog)
    fill(dialog, [3, 4, None, 5, 2, 4, 4, 3, 2, 4])
    dialog.save_button.click()
    assert text(dialog, "problem_label") == "Question 3 has no answer."
    assert service.calls == []
    dialog.prorate_check.setChecked(True)
    # round(10 x 31 / 9) = round(34.4) = 34
    assert text(dialog, "preview_total") == (
        "Total 34 (possible 10–50) — prorated over one unanswered question (K10 rule)"
    )
    assert text(dialog, "preview_band") == "Band: Very high psychological distress"
    assert text(dialog, "preview_flags") == (
        "Saving raises a risk alert for the counsellor on duty:\n• "
        + risk_reason_text("k10_very_high")
    )
    dialog.save_button.click()
    form = the_form(service)
    assert form.answers == (3, 4, None, 5, 2, 4, 4, 3, 2, 4)
    assert form.prorate is True


def test_k10_prorating_allows_one_unanswered_question_only(qtbot: QtBot) -> None:
    dialog, service, _prompter = make(qtbot, "k10")
    dialog.prorate_check.setChecked(True)
    fill(dialog, [3, None, None, 5, 2, 4, 4, 3, 2, 4])
    assert text(dialog, "preview_total") == "The score appears when every question is answered."
    dialog.save_button.click()
    assert text(dialog, "problem_label") == (
        "Questions 2, 3 have no answer. The prorating rule allows one unanswered question only."
    )
    assert service.calls == []


def test_prorating_is_offered_for_k10_only(qtbot: QtBot) -> None:
    dialog, _service, _prompter = make(qtbot)
    for code in SESSION_INSTRUMENTS:
        dialog.instrument_combo.setCurrentIndex(SESSION_INSTRUMENTS.index(code))
        assert dialog.prorate_check.isVisibleTo(dialog) is (code == "k10"), code


def test_a_risk_result_keeps_the_dialog_open_with_the_crisis_message(qtbot: QtBot) -> None:
    dialog, service, _prompter = make(qtbot, "k10")
    fill(dialog, [4] * 10)  # total 40: very high
    with qtbot.waitSignal(dialog.form_recorded):
        dialog.save_button.click()
    assert dialog.isVisible()
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.risk_banner.isVisibleTo(dialog)
    assert text(dialog, "risk_heading") == "Crisis flag raised: act now"
    body = text(dialog, "risk_text")
    assert risk_reason_text("k10_very_high") in body
    assert "A crisis flag has been raised on this client." in body
    assert "stays open until the action taken is recorded" in body
    assert not dialog.save_button.isVisibleTo(dialog)
    assert not dialog.scroll.isEnabled()
    assert "Saving raises" not in text(dialog, "preview_flags")  # it has been saved
    dialog.close_button.click()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert len(service.calls) == 1


def test_risk_without_crisis_flag_still_demands_action(qtbot: QtBot) -> None:
    dialog, _service, _prompter = make(qtbot, service=FakeAssessments(crisis_flag=False))
    fill(dialog, [0] * 8 + [2])
    dialog.save_button.click()
    assert text(dialog, "risk_heading") == "Risk alert raised: act now"
    assert risk_reason_text("self_harm_item") in text(dialog, "risk_text")
    assert "crisis flag has been raised" not in text(dialog, "risk_text")


def test_a_refusal_from_the_service_is_shown_and_nothing_is_recorded(qtbot: QtBot) -> None:
    service = FakeAssessments(refuse="The client has not consented to assessments.")
    dialog, _service, prompter = make(qtbot, service=service)
    fill(dialog, [0] * 9)
    recorded: list[object] = []
    dialog.form_recorded.connect(recorded.append)
    dialog.save_button.click()
    assert prompter.shown == [
        ("error", "The questionnaire was not saved", "The client has not consented to assessments.")
    ]
    assert recorded == []
    assert dialog.isVisible()
    assert dialog.recorded is None


def test_questions_in_chinese_while_the_app_is_in_english(qtbot: QtBot) -> None:
    dialog, service, _prompter = make(qtbot)
    assert dialog.language_combo.currentData() == "en"
    fill(dialog, [2, 2])
    dialog.language_combo.setCurrentIndex(dialog.language_combo.findData("zh_CN"))
    phq9 = load_instrument("phq9")
    assert dialog.row(1).text_label.text() == phq9.items[0].text.zh_cn
    assert dialog.row(1).buttons()[1].text() == "好几天\n(1)"
    assert dialog.answers()[:3] == (2, 2, None)  # answers survive the change of language
    fill(dialog, [None, None, 0, 0, 0, 0, 0, 0, 0])
    dialog.save_button.click()
    assert the_form(service).language == "zh_CN"
    assert the_form(service).answers == (2, 2, 0, 0, 0, 0, 0, 0, 0)


def test_chinese_ui_lists_instruments_by_chinese_title(qtbot: QtBot) -> None:
    set_language("zh_CN")
    dialog, _service, _prompter = make(qtbot, "who5")
    titles = [dialog.instrument_combo.itemText(i) for i in range(5)]
    assert titles == [load_instrument(c).title.zh_cn for c in SESSION_INSTRUMENTS]
    assert dialog.instrument_combo.currentData() == "who5"
    assert dialog.language_combo.currentData() == "zh_CN"
    fill(dialog, [5, 5, 5, 5, 5])
    assert "身心状态良好" in text(dialog, "preview_band")


def test_changing_questionnaire_asks_before_clearing_answers(qtbot: QtBot) -> None:
    dialog, _service, prompter = make(qtbot, prompter=RecordingPrompter(answer=False))
    fill(dialog, [1, 2])
    dialog.instrument_combo.setCurrentIndex(SESSION_INSTRUMENTS.index("gad7"))
    assert prompter.shown[0][0] == "confirm"
    assert dialog.code == "phq9"
    assert dialog.answers()[:2] == (1, 2)
    prompter.answer = True
    dialog.instrument_combo.setCurrentIndex(SESSION_INSTRUMENTS.index("gad7"))
    assert dialog.code == "gad7"
    assert dialog.answers() == (None,) * 7
    assert dialog.form_title_label.text() == load_instrument("gad7").title.en


def test_pss10_band_comes_with_the_no_cut_offs_note(qtbot: QtBot) -> None:
    dialog, _service, _prompter = make(qtbot, "pss10")
    fill(dialog, [2] * 10)
    assert text(dialog, "preview_total") == "Total 20 (possible 0–40)"
    assert text(dialog, "preview_band") == "Band: Moderate perceived stress"
    assert text(dialog, "preview_note") == "Reference ranges: the author publishes no cut-offs."


def test_unknown_code_is_refused_by_the_test_helper(qtbot: QtBot) -> None:
    dialog, _service, _prompter = make(qtbot)
    with pytest.raises(ValueError, match="no option with code 4"):
        dialog.answer(1, 4)
