"""Giving a questionnaire in a session: the paper form on screen, a live score, and saving it."""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from carestation.assessments import Instrument, Option, Score, load_instrument, score
from carestation.domain.assessment_values import (
    FormAnswers,
    RecordedForm,
    risk_reason_text,
    risk_reasons,
)
from carestation.domain.values import Actor
from carestation.i18n import _, current_language, ngettext
from carestation.ui.prompts import Prompter
from carestation.ui.style import set_tone
from carestation.ui.views.base import attempt

# The questionnaires a counsellor gives in a session (the 0-10 distress rating belongs to pods).
SESSION_INSTRUMENTS: tuple[str, ...] = ("phq9", "gad7", "who5", "pss10", "k10")
# Each language named in itself, as language menus do everywhere; not translated on purpose.
QUESTION_LANGUAGES: tuple[tuple[str, str], ...] = (("zh_CN", "中文"), ("en", "English"))


class SessionRecorder(Protocol):
    """The part of AssessmentService this dialog uses."""

    def record_in_session(
        self,
        actor: Actor,
        *,
        client_id: int,
        form: FormAnswers,
        case_id: int | None = None,
        appointment_id: int | None = None,
    ) -> RecordedForm: ...


def option_text(option: Option, lang: str) -> str:
    """The option as the paper form shows it: its words (wrapped if long) over its code."""
    label = option.label.text(lang)
    if " " in label and len(label) > 18:
        # Two lines of about equal length read better than a long line and a stub.
        middle = len(label) // 2
        spaces = [i for i, ch in enumerate(label) if ch == " "]
        cut = min(spaces, key=lambda i: abs(i - middle))
        label = f"{label[:cut]}\n{label[cut + 1 :]}"
    return f"{label}\n({option.code})".replace("&", "&&")


def pss_note() -> str:
    return _("Reference ranges: the author publishes no cut-offs.")


def _label(text: str = "", object_name: str = "", *, bold: bool = False) -> QLabel:
    label = QLabel(text, objectName=object_name, wordWrap=True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if bold:
        font = QFont(label.font())
        font.setBold(True)
        label.setFont(font)
    return label


class QuestionRow(QFrame):
    """One question: its number and words, and its options in the paper form's order. The button
    ids are the options' raw codes, so the answer is the code, never the position."""

    answered = Signal()

    def __init__(
        self,
        number: str,
        text: str,
        options: tuple[Option, ...],
        lang: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, objectName="question_row")
        self.number = number
        self.setProperty("missing", False)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.group = QButtonGroup(self)
        grid = QGridLayout(self)
        number_label = _label(f"{number}." if number else "", "question_number", bold=True)
        number_label.setMinimumWidth(28)
        self.text_label = _label(text, "question_text")
        self.missing_label = _label(_("No answer"), "question_missing", bold=True)
        set_tone(self.missing_label, "error")
        self.missing_label.hide()
        grid.addWidget(number_label, 0, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.text_label, 0, 1)
        grid.addWidget(self.missing_label, 0, 2, Qt.AlignmentFlag.AlignTop)
        grid.setColumnStretch(1, 1)
        buttons = QHBoxLayout()
        for option in options:
            button = QRadioButton(option_text(option, lang), self)
            button.setObjectName(f"option_{option.code}")
            accessible = option.label.text(lang)
            button.setAccessibleName(
                _("Question {number}: {answer}").format(number=number, answer=accessible)
                if number
                else accessible
            )
            self.group.addButton(button, option.code)
            buttons.addWidget(button, 1)
        grid.addLayout(buttons, 1, 1, 1, 2)
        self.group.idToggled.connect(self._toggled)

    def _toggled(self, _code: int, checked: bool) -> None:
        if checked:
            self.set_missing(False)
            self.answered.emit()

    def answer(self) -> int | None:
        return self.group.checkedId() if self.group.checkedButton() is not None else None

    def set_answer(self, code: int | None) -> None:
        button = self.group.button(code) if code is not None else None
        if button is not None:
            button.setChecked(True)

    def buttons(self) -> list[QAbstractButton]:
        return self.group.buttons()

    def set_missing(self, missing: bool) -> None:
        self.setProperty("missing", missing)
        self.missing_label.setVisible(missing)  # "No answer" in words, not only a red frame
        set_tone(self, "error" if missing else None, boxed=True)


class AssessmentDialog(QDialog):
    """A counsellor gives one questionnaire in a session and saves it to the client's record.

    Emits `form_recorded` with the RecordedForm once saved. A result that needs someone to act
    now (PHQ-9 item 9, K10 of 30 or more) keeps the dialog open with a red notice."""

    form_recorded = Signal(object)  # RecordedForm

    def __init__(
        self,
        service: SessionRecorder,
        actor: Actor,
        prompter: Prompter,
        *,
        client_id: int,
        client_label: str = "",
        case_id: int | None = None,
        appointment_id: int | None = None,
        instrument: str = "phq9",
        parent: QWidget | None = None,
    ) -> None:
        # Neutral title: no client in window lists or on a shared screen.
        super().__init__(parent, objectName="assessment_dialog", windowTitle=_("Questionnaire"))
        self._service, self._actor, self._prompter = service, actor, prompter
        self.client_id, self.case_id, self.appointment_id = client_id, case_id, appointment_id
        self.recorded: RecordedForm | None = None
        self.rows: list[QuestionRow] = []
        self.extra_rows: dict[str, QuestionRow] = {}

        self.instrument_combo = QComboBox(objectName="instrument_combo")
        lang = current_language()
        for code in SESSION_INSTRUMENTS:
            self.instrument_combo.addItem(load_instrument(code).title.text(lang), code)
        self.instrument_combo.setCurrentIndex(
            SESSION_INSTRUMENTS.index(load_instrument(instrument).code)
        )
        self._shown_code = self.code
        self.language_combo = QComboBox(objectName="language_combo")
        for value, name in QUESTION_LANGUAGES:
            self.language_combo.addItem(name, value)
        self.language_combo.setCurrentIndex(self.language_combo.findData(lang))
        header = QFormLayout()
        if client_label:
            header.addRow(_("Client"), _label(client_label, "client_label"))
        header.addRow(_("&Questionnaire"), self.instrument_combo)
        header.addRow(_("Questions &in"), self.language_combo)  # labels get their buddies

        self.form_title_label = _label("", "form_title", bold=True)
        self.instructions_label = _label("", "instructions")
        self.scroll = QScrollArea(objectName="questions_scroll")
        self.scroll.setAccessibleName(_("Questions"))
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.prorate_check = QCheckBox(
            _("Score with one question unanswered (K10 prorating rule)"),
            objectName="prorate_check",
        )
        self.prorate_check.toggled.connect(self.update_preview)

        self.preview = QFrame(objectName="score_preview")
        set_tone(self.preview, "hint", boxed=True)
        self.progress_label = _label("", "preview_progress")
        self.total_label = _label("", "preview_total", bold=True)
        self.band_label = _label("", "preview_band", bold=True)
        self.note_label = _label("", "preview_note")
        self.flags_label = _label("", "preview_flags")
        set_tone(self.flags_label, "error")
        preview = QVBoxLayout(self.preview)
        preview.addWidget(_label(_("Score preview"), bold=True))
        for label in self._result_labels():
            preview.addWidget(label)

        self.risk_banner = QFrame(objectName="risk_banner")
        set_tone(self.risk_banner, "error", boxed=True)
        self.risk_heading = _label("", "risk_heading", bold=True)
        self.risk_text = _label("", "risk_text")
        risk = QVBoxLayout(self.risk_banner)
        risk.addWidget(self.risk_heading)
        risk.addWidget(self.risk_text)
        self.risk_banner.hide()

        self.problem_label = _label("", "problem_label")
        set_tone(self.problem_label, "error", boxed=True)
        self.problem_label.hide()
        box = QDialogButtonBox(self)
        self.save_button = QPushButton(_("&Save"), objectName="save_assessment")
        self.save_button.setDefault(True)
        box.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.cancel_button = box.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.close_button = QPushButton(_("&Close"), objectName="close_assessment")
        box.addButton(self.close_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.close_button.hide()
        self.save_button.clicked.connect(self.on_save)
        box.rejected.connect(self.reject)
        box.accepted.connect(self.accept)

        layout = QVBoxLayout(self)
        layout.addWidget(self.risk_banner)
        layout.addLayout(header)
        layout.addWidget(self.form_title_label)
        layout.addWidget(self.instructions_label)
        layout.addWidget(self.scroll, 1)
        layout.addWidget(self.preview)
        layout.addWidget(self.problem_label)
        layout.addWidget(box)
        self.instrument_combo.currentIndexChanged.connect(self._instrument_chosen)
        self.language_combo.currentIndexChanged.connect(lambda _i: self._build(keep=True))
        self._build(keep=False)
        self.instrument_combo.setFocus()  # top-left first; Tab then runs down the questions
        # Never beyond the screen (1366 x 768 is common at stations): Save must stay visible;
        # the questions scroll instead.
        screen = (parent or self).screen()
        room = screen.availableGeometry() if screen is not None else None
        self.resize(
            min(1040, room.width() - 40) if room is not None else 1040,
            min(780, room.height() - 80) if room is not None else 780,
        )

    # --- what is shown ------------------------------------------------------------------------
    def _result_labels(self) -> list[QLabel]:
        return [
            self.progress_label,
            self.total_label,
            self.band_label,
            self.note_label,
            self.flags_label,
        ]

    @property
    def code(self) -> str:
        return str(self.instrument_combo.currentData())

    @property
    def instrument(self) -> Instrument:
        return load_instrument(self.code)

    @property
    def question_language(self) -> str:
        return str(self.language_combo.currentData())

    def answers(self) -> tuple[int | None, ...]:
        return tuple(row.answer() for row in self.rows)

    def extra_answers(self) -> tuple[tuple[str, int], ...]:
        return tuple(
            (item_id, answer)
            for item_id, row in self.extra_rows.items()
            if (answer := row.answer()) is not None
        )

    def row(self, number: int) -> QuestionRow:
        return self.rows[number - 1]

    def answer(self, number: int, code: int) -> None:
        """Ticks the option with raw `code` on question `number` (1-based), as a click would."""
        button = self.row(number).group.button(code)
        if button is None:
            raise ValueError(f"question {number} has no option with code {code}")
        button.click()

    def _instrument_chosen(self) -> None:
        if any(a is not None for a in self.answers()) and not self._prompter.confirm(
            self,
            _("Change the questionnaire"),
            _("The answers given so far will be cleared. Change the questionnaire?"),
        ):
            self.instrument_combo.blockSignals(True)
            self.instrument_combo.setCurrentIndex(SESSION_INSTRUMENTS.index(self._shown_code))
            self.instrument_combo.blockSignals(False)
            return
        self._shown_code = self.code
        self._build(keep=False)

    def _build(self, *, keep: bool) -> None:
        """(Re)builds the form for the chosen questionnaire and language; `keep` keeps answers."""
        old = self.answers() if keep else ()
        old_extra = dict(self.extra_answers()) if keep else {}
        instrument, lang = self.instrument, self.question_language
        self.form_title_label.setText(instrument.title.text(lang))
        self.instructions_label.setText(
            "\n".join(
                [
                    _("Recall period: {period}").format(period=instrument.recall_period.text(lang)),
                    instrument.instructions.text(lang),
                ]
            )
        )
        page = QWidget(objectName="questions_page")
        column = QVBoxLayout(page)
        self.rows = []
        for item in instrument.items:
            row = QuestionRow(item.id, item.text.text(lang), instrument.options, lang, page)
            row.answered.connect(self.update_preview)
            column.addWidget(row)
            self.rows.append(row)
        self.extra_rows = {}
        for extra in instrument.extra_items:
            group = QGroupBox(_("Not scored"), page, objectName=f"extra_{extra.id}")
            inner = QVBoxLayout(group)
            inner.addWidget(_label(_("This question is asked with the form but never scored.")))
            row = QuestionRow("", extra.text.text(lang), extra.options, lang, group)
            row.setAccessibleName(_("Not scored"))
            inner.addWidget(row)
            column.addWidget(group)
            self.extra_rows[extra.id] = row
        column.addWidget(self.prorate_check)
        self.prorate_check.setVisible(instrument.prorate_one_missing)
        if not instrument.prorate_one_missing:
            self.prorate_check.setChecked(False)
        column.addStretch(1)
        # The checkbox moved to the new page above, so deleting the old page leaves it alive.
        previous = self.scroll.takeWidget()
        self.scroll.setWidget(page)
        if previous is not None:
            previous.deleteLater()
        for row, code in zip(self.rows, old, strict=False):
            row.set_answer(code)
        for item_id, code in old_extra.items():
            if item_id in self.extra_rows:
                self.extra_rows[item_id].set_answer(code)
        self.problem_label.hide()
        self.update_preview()

    def current_score(self) -> Score | None:
        """The score of the form as it stands, or None while it is incomplete."""
        answers = self.answers()
        missing = answers.count(None)
        if missing == 0:
            return score(self.code, answers)
        if missing == 1 and self.instrument.prorate_one_missing and self.prorate_check.isChecked():
            return score(self.code, answers, missing="prorate")
        return None

    def update_preview(self) -> None:
        instrument, ui = self.instrument, current_language()
        answers = self.answers()
        answered = len(answers) - answers.count(None)
        self.progress_label.setText(
            _("{answered} of {count} questions answered").format(
                answered=answered, count=len(answers)
            )
        )
        result = self.current_score()
        for label in self._result_labels()[1:]:
            label.clear()
            label.hide()
        if result is None:
            self.total_label.setText(_("The score appears when every question is answered."))
            self.total_label.show()
            return
        if result.percent is not None:
            total = _("Raw score {total} of {maximum}; percent score {percent} %").format(
                total=result.total, maximum=instrument.max_total, percent=result.percent
            )
        else:
            total = _("Total {total} (possible {minimum}–{maximum})").format(
                total=result.total, minimum=instrument.min_total, maximum=instrument.max_total
            )
        if result.prorated:
            total += " " + _("— prorated over one unanswered question (K10 rule)")
        self.total_label.setText(total)
        band = instrument.band(result.band).label.text(ui)
        self.band_label.setText(_("Band: {band}").format(band=band))
        self.total_label.show()
        self.band_label.show()
        if instrument.code == "pss10":
            self.note_label.setText(pss_note())
            self.note_label.show()
        lines = [f"• {instrument.flag(slug).label.text(ui)}" for slug in result.flags]
        if lines:
            lines.insert(0, _("Flags:"))
        risks = risk_reasons(result) if self.recorded is None else ()  # saved: see the banner
        if risks:
            lines.append(_("Saving raises a risk alert for the counsellor on duty:"))
            lines.extend(f"• {risk_reason_text(key)}" for key in risks)
        if lines:
            self.flags_label.setText("\n".join(lines))
            self.flags_label.show()

    # --- saving -------------------------------------------------------------------------------
    def problems(self) -> str:
        """Why the form cannot be saved yet (and the unanswered rows marked), or ""."""
        answers = self.answers()
        missing = [row.number for row in self.rows if row.answer() is None]
        prorating = self.instrument.prorate_one_missing and self.prorate_check.isChecked()
        allowed = prorating and len(missing) == 1
        for row in self.rows:
            row.set_missing(row.answer() is None and not allowed)
        if not missing or allowed:
            return ""
        message = ngettext(
            "Question {numbers} has no answer.", "Questions {numbers} have no answer.", len(missing)
        ).format(numbers=", ".join(missing))
        if prorating:
            message += " " + _("The prorating rule allows one unanswered question only.")
        elif len(answers) - len(missing) == 0:
            message = _("No question has been answered yet.")
        return message

    def on_save(self) -> RecordedForm | None:
        message = self.problems()
        if message:
            self.problem_label.setText(message)
            self.problem_label.show()
            first = next(row for row in self.rows if row.answer() is None)
            self.scroll.ensureWidgetVisible(first)
            first.buttons()[0].setFocus()
            return None
        self.problem_label.hide()
        answers = self.answers()
        form = FormAnswers(
            instrument=self.code,
            answers=answers,
            extra_answers=self.extra_answers(),
            language=self.question_language,
            prorate=None in answers,
        )
        result = attempt(
            self,
            self._prompter,
            lambda: self._service.record_in_session(
                self._actor,
                client_id=self.client_id,
                form=form,
                case_id=self.case_id,
                appointment_id=self.appointment_id,
            ),
            title=_("The questionnaire was not saved"),
        )
        if result is None:
            return None
        self.recorded = result
        self.form_recorded.emit(result)
        if result.needs_help_now:
            self._show_risk(result)
        else:
            self.accept()
        return result

    def _show_risk(self, result: RecordedForm) -> None:
        """Saved, but someone must act now: say so in red words and keep the window open."""
        heading = (
            _("Crisis flag raised: act now")
            if result.crisis_flag_id is not None
            else _("Risk alert raised: act now")
        )
        lines = [f"• {risk_reason_text(key)}" for key in result.risk_reasons]
        if result.crisis_flag_id is not None:
            lines.append(_("A crisis flag has been raised on this client."))
        lines.append(
            _(
                "A risk alert has been raised for the counsellor on duty. It stays open until "
                "the action taken is recorded: act on it now."
            )
        )
        self.risk_heading.setText(heading)
        self.risk_text.setText("\n".join(lines))
        self.risk_banner.setAccessibleName(heading)
        self.risk_banner.show()
        self.update_preview()
        self.scroll.setEnabled(False)
        self.instrument_combo.setEnabled(False)
        self.language_combo.setEnabled(False)
        self.save_button.hide()
        self.cancel_button.hide()
        self.close_button.show()
        self.close_button.setDefault(True)
        QTimer.singleShot(0, self.close_button.setFocus)
