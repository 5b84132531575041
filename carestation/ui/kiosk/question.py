"""One question on its own screen: the text in large type, the answers as big touch buttons in
the paper form's order, the progress through the session, and Back."""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QVBoxLayout, QWidget

from carestation.i18n import _
from carestation.ui.kiosk.session import Question
from carestation.ui.kiosk.widgets import (
    OptionButton,
    Page,
    button,
    clear_layout,
    label,
    scroll_area,
)

# Instructions this short are one sentence that leads into every item ("Over the last 2 weeks,
# how often have you been bothered by ..."): repeated above each question as on the paper form.
# Longer ones (WHO-5, PSS-10, K10, whose items read on their own) stay on the intro page.
STEM_MAX_CHARS = 110


class QuestionPage(Page):
    answered = Signal(int)  # the code of the option chosen
    back_requested = Signal()

    def __init__(self, *, guard_ms: int = 250, parent: QWidget | None = None) -> None:
        super().__init__("kiosk_question", parent)
        # A tap that lands within this time of a new question is taken as the second half of the
        # previous tap (a double tap), not as an answer to a question the person has not read.
        self._guard_ms = guard_ms
        self._shown = QElapsedTimer()
        self._question: Question | None = None
        self._chosen: int | None = None
        self.option_buttons: dict[int, OptionButton] = {}

        self.back = button("secondary", "question_back")
        self.back.clicked.connect(self.back_requested)
        self.form_label = label("muted", name="question_form", wrap=False)
        self.count_label = label("muted", name="question_count", wrap=False)
        self.count_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        # Back sits at the top, away from the answers, so it is not hit by mistake.
        header = QHBoxLayout()
        header.setSpacing(20)
        header.addWidget(self.back)
        header.addWidget(self.form_label, 1)
        header.addWidget(self.count_label)
        self.progress = QProgressBar()
        self.progress.setObjectName("question_progress")
        self.progress.setTextVisible(False)
        self.stem = label("stem", name="question_stem")
        self.text = label("question", name="question_text")
        self.text.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)

        holder = QWidget()
        self.options = QVBoxLayout(holder)
        self.options.setContentsMargins(0, 0, 0, 0)
        self.options.setSpacing(10)
        self.options_area = scroll_area(holder, "question_options")

        self.body.setContentsMargins(24, 18, 24, 18)
        self.body.setSpacing(10)
        self.body.addLayout(header)
        self.body.addWidget(self.progress)
        self.body.addSpacing(6)
        self.body.addWidget(self.stem)
        self.body.addWidget(self.text)
        self.body.addSpacing(6)
        self.body.addWidget(self.options_area, 1)
        self.retranslate()

    @property
    def question(self) -> Question | None:
        return self._question

    def show_question(
        self,
        question: Question,
        lang: str,
        *,
        chosen: int | None,
        total: int,
        changing: bool,
    ) -> None:
        """Fills the page for `question`; `chosen` is highlighted when the person comes back."""
        self.clear()
        self._question = question
        self._chosen = chosen
        instrument = question.instrument
        self.form_label.setText(
            f"{instrument.short_title(lang)} · {instrument.recall_period(lang)}"
        )
        self.count_label.setText(
            _("Question {number} of {count}").format(number=question.number, count=question.count)
        )
        self.progress.setRange(0, total)
        self.progress.setValue(question.overall)
        self.progress.setAccessibleName(
            _("Question {number} of {count}").format(number=question.overall, count=total)
        )
        stem = instrument.instructions(lang)
        self.stem.setText(stem if not question.extra and len(stem) <= STEM_MAX_CHARS else "")
        self.stem.setVisible(bool(self.stem.text()))
        self.text.setText(question.text(lang))
        for option in question.options:
            # The unscored extra questions print no numbers on the paper form.
            number = "" if question.extra else str(option.code)
            widget = OptionButton(f"option_{option.code}", option.label(lang), number)
            widget.clicked.connect(lambda _checked=False, code=option.code: self._clicked(code))
            self.option_buttons[option.code] = widget
            self.options.addWidget(widget)
            widget.show()  # at once, not on the next event loop pass (a tap may come first)
        self.options.addStretch(1)
        self._show_choice()
        self.back.setText(_("Back to the list") if changing else _("Back"))
        self._shown.start()

    def clear(self) -> None:
        self._question = None
        self._chosen = None
        self.option_buttons.clear()
        clear_layout(self.options)
        for widget in (self.stem, self.text, self.form_label, self.count_label):
            widget.clear()
        self.progress.reset()

    def _clicked(self, code: int) -> None:
        if self._shown.isValid() and self._shown.elapsed() < self._guard_ms:
            self._show_choice()  # undo the toggle Qt made
            return
        self._chosen = code
        self._show_choice()
        self.answered.emit(code)

    def _show_choice(self) -> None:
        for code, widget in self.option_buttons.items():
            chosen = code == self._chosen
            widget.setChecked(chosen)
            widget.setAccessibleDescription(_("Chosen") if chosen else "")

    def retranslate(self) -> None:
        if self._question is None:
            self.back.setText(_("Back"))
