"""The screens around the questions: each questionnaire's introduction and the review page."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from carestation.i18n import _
from carestation.ui.kiosk.session import Intro, KioskSession
from carestation.ui.kiosk.start_pages import questions_text
from carestation.ui.kiosk.style import TICK
from carestation.ui.kiosk.widgets import Page, ReviewRow, button, clear_layout, label, scroll_area


class IntroPage(Page):
    start = Signal()
    back_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("kiosk_intro", parent)
        self.position = label("muted", name="intro_position")
        self.title = label("title", name="intro_title")
        self.period = label("subtitle", name="intro_period")
        self.instructions = label("body", name="intro_instructions")
        self.count = label("muted", name="intro_count")
        self.back = button("secondary", "intro_back")
        self.back.clicked.connect(self.back_requested)
        self.ok = button("primary", "intro_start")
        self.ok.clicked.connect(self.start)
        footer = QHBoxLayout()
        footer.addWidget(self.back)
        footer.addStretch(1)
        footer.addWidget(self.ok)
        self.body.addWidget(self.position)
        self.body.addStretch(1)
        self.body.addWidget(self.title)
        self.body.addWidget(self.period)
        self.body.addSpacing(12)
        self.body.addWidget(self.instructions)
        self.body.addWidget(self.count)
        self.body.addStretch(2)
        self.body.addLayout(footer)
        self.retranslate()

    def show_intro(self, intro: Intro, lang: str, *, forms: int) -> None:
        instrument = intro.instrument
        self.position.setText(
            _("Questionnaire {number} of {count}").format(number=intro.form + 1, count=forms)
            if forms > 1
            else ""
        )
        self.title.setText(instrument.title(lang))
        self.period.setText(
            _("These questions are about {period}.").format(period=instrument.recall_period(lang))
        )
        self.instructions.setText(instrument.instructions(lang))
        self.count.setText(
            questions_text(len(instrument.items) + len(instrument.extra_items))
            + " · "
            + _("Tap the answer that fits best; the next question follows by itself.")
        )

    def retranslate(self) -> None:
        self.back.setText(_("Back"))
        self.ok.setText(_("Start"))

    def clear(self) -> None:
        for widget in (self.position, self.title, self.period, self.instructions, self.count):
            widget.clear()


class ReviewPage(Page):
    change_requested = Signal(int)  # the step of the question to change
    submit_requested = Signal()
    back_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("kiosk_review", parent)
        self.title = label("title", name="review_title")
        self.hint = label("body", name="review_hint")
        holder = QWidget()
        self.rows = QVBoxLayout(holder)
        self.rows.setContentsMargins(0, 0, 8, 0)
        self.rows.setSpacing(10)
        self.area = scroll_area(holder, "review_rows")
        self.back = button("secondary", "review_back")
        self.back.clicked.connect(self.back_requested)
        self.submit = button("primary", "review_submit")
        self.submit.clicked.connect(self.submit_requested)
        footer = QHBoxLayout()
        footer.addWidget(self.back)
        footer.addStretch(1)
        footer.addWidget(self.submit)
        self.body.addWidget(self.title)
        self.body.addWidget(self.hint)
        self.body.addWidget(self.area, 1)
        self.body.addLayout(footer)
        self.row_widgets: list[ReviewRow] = []
        self.retranslate()

    def show_session(self, session: KioskSession, lang: str, *, focus_step: int | None) -> None:
        self.clear()
        change = _("Change")
        focus: ReviewRow | None = None
        for form, instrument in enumerate(session.instruments):
            header = label("group", instrument.title(lang))
            self.rows.addWidget(header)
            for question in session.questions:
                if question.form != form:
                    continue
                step = session.step_of(question)
                chosen = session.option_label(question, lang)
                row = ReviewRow(
                    f"review_row_{step}",
                    f"{question.number}. {question.text(lang)}",
                    f"{TICK} {chosen}" if chosen else _("Not answered yet"),
                    change,
                )
                row.clicked.connect(lambda step=step: self.change_requested.emit(step))
                self.rows.addWidget(row)
                row.show()
                self.row_widgets.append(row)
                if step == focus_step:
                    focus = row
        self.rows.addStretch(1)
        self.submit.setEnabled(session.complete)
        if focus is not None:
            # Back from changing an answer: show the row that changed, not the top of the list
            # (once the new rows have their geometry).
            QTimer.singleShot(0, self, lambda: self._reveal(focus))
        else:
            self.area.verticalScrollBar().setValue(0)

    def _reveal(self, row: ReviewRow) -> None:
        if row in self.row_widgets:
            self.area.ensureWidgetVisible(row, 0, 60)
            row.setFocus()

    def retranslate(self) -> None:
        self.title.setText(_("Check your answers"))
        self.hint.setText(_("Tap an answer to change it. Nothing is saved until you press Submit."))
        self.back.setText(_("Back"))
        self.submit.setText(_("Submit"))

    def clear(self) -> None:
        self.row_widgets.clear()
        clear_layout(self.rows)
