"""The screens after Submit (help now, or thanks), the save problem, and "Are you still there?".

None of them ever shows a score, a band or a risk label: the person sees where help is, not a
verdict."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QWidget

from carestation.i18n import N_, _, ngettext
from carestation.ui.kiosk.style import set_role
from carestation.ui.kiosk.widgets import Page, button, label

# Help lines shown to anyone whose answers need a person now (issue 5, "Risk").
HOTLINES: tuple[tuple[str, str], ...] = (
    ("12356", N_("National psychological assistance hotline")),
    ("12351", N_("Trade-union workers' hotline")),
    ("120", N_("Emergency")),
)


def _follow_up_text() -> str:
    return _(
        "If you would like a free follow-up talk, give your code to the station staff; you do "
        "not have to tell anyone your answers."
    )


class _DonePage(Page):
    """A closing page; Done is enabled a moment after it appears, so the second half of a
    double tap on Submit cannot dismiss it before it is read."""

    done = Signal()

    def __init__(self, name: str, done_delay_ms: int, parent: QWidget | None = None) -> None:
        super().__init__(name, parent)
        self._delay = done_delay_ms
        self.finish = button("primary", f"{name.removeprefix('kiosk_')}_done")
        self.finish.clicked.connect(self.done)
        self._enable = QTimer(self)
        self._enable.setSingleShot(True)
        self._enable.timeout.connect(lambda: self.finish.setEnabled(True))

    def arm(self) -> None:
        if self._delay > 0:
            self.finish.setEnabled(False)
            self._enable.start(self._delay)
        else:
            self.finish.setEnabled(True)

    def footer(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.finish)
        return row


class HelpPage(_DonePage):
    def __init__(self, station_phone: str, *, done_delay_ms: int, parent: QWidget | None = None):
        super().__init__("kiosk_help", done_delay_ms, parent)
        self._phone = station_phone.strip()
        self.title = label("title", name="help_title")
        self.lead = label("subtitle", name="help_lead")
        lines = QFrame()
        set_role(lines, "card")
        grid = QGridLayout(lines)
        grid.setContentsMargins(28, 18, 28, 18)
        grid.setHorizontalSpacing(28)
        grid.setVerticalSpacing(10)
        rows: list[tuple[str, str | None]] = list(HOTLINES)
        if self._phone:
            rows.append((self._phone, None))  # None: "This station"
        self.names: list[tuple[QLabel, str | None]] = []
        for i, (number, text) in enumerate(rows):
            phone = label("phone", number, name=f"help_phone_{i}", wrap=False)
            name = label("body", name=f"help_line_{i}")
            grid.addWidget(phone, i, 0, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(name, i, 1)
            self.names.append((name, text))
        grid.setColumnStretch(1, 1)
        self.staff_coming = label("body", name="help_staff_coming")
        self.follow_up = label("body", name="help_follow_up")
        self.code = label("code", name="help_code", wrap=False)
        self.code.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.code_row = QWidget()
        code_row = QHBoxLayout(self.code_row)
        code_row.setContentsMargins(0, 0, 0, 0)
        code_row.addWidget(self.code)
        code_row.addStretch(1)
        self.body.addStretch(1)
        self.body.addWidget(self.title)
        self.body.addWidget(self.lead)
        self.body.addSpacing(8)
        self.body.addWidget(lines)
        self.body.addSpacing(8)
        self.body.addWidget(self.staff_coming)
        self.body.addWidget(self.follow_up)
        self.body.addWidget(self.code_row)
        self.body.addStretch(2)
        self.body.addLayout(self.footer())
        self._code = ""
        self.retranslate()

    def show_help(self, *, code: str = "") -> None:
        self._code = code
        self.retranslate()
        self.arm()

    def retranslate(self) -> None:
        self.title.setText(_("Thank you for your honesty."))
        self.lead.setText(_("Talking to someone can help, and you don't have to wait:"))
        for widget, text in self.names:
            if text is None:
                widget.setText(_("This station's phone"))
            else:
                widget.setText(_(text))
        self.staff_coming.setText(_("A member of our team will come to you shortly."))
        self.follow_up.setText(_follow_up_text() if self._code else "")
        self.follow_up.setVisible(bool(self._code))
        self.code.setText(self._code)
        self.code_row.setVisible(bool(self._code))
        self.finish.setText(_("Finish"))

    def clear(self) -> None:
        self._code = ""
        self.retranslate()


class ThanksPage(_DonePage):
    def __init__(self, *, done_delay_ms: int, parent: QWidget | None = None) -> None:
        super().__init__("kiosk_thanks", done_delay_ms, parent)
        self.title = label("title", name="thanks_title")
        self.title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.text = label("subtitle", name="thanks_text")
        self.text.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.follow_up = label("body", name="thanks_follow_up")
        self.follow_up.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.code = label("code", name="thanks_code", wrap=False)
        self.code.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.code_row = QWidget()
        code_row = QHBoxLayout(self.code_row)
        code_row.setContentsMargins(0, 0, 0, 0)
        code_row.addStretch(1)
        code_row.addWidget(self.code)
        code_row.addStretch(1)
        self.talk = label("body", name="thanks_talk")
        self.talk.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.body.addStretch(2)
        self.body.addWidget(self.title)
        self.body.addWidget(self.text)
        self.body.addSpacing(20)
        self.body.addWidget(self.follow_up)
        self.body.addWidget(self.code_row)
        self.body.addWidget(self.talk)
        self.body.addStretch(3)
        self.body.addLayout(self.footer())
        self._code = ""
        self.retranslate()

    def show_thanks(self, *, code: str = "") -> None:
        self._code = code
        self.retranslate()
        self.arm()

    def retranslate(self) -> None:
        self.title.setText(_("Thank you"))
        self.text.setText(_("Your answers have been received. Take good care of yourself."))
        self.follow_up.setText(_follow_up_text() if self._code else "")
        self.follow_up.setVisible(bool(self._code))
        self.code.setText(self._code)
        self.code_row.setVisible(bool(self._code))
        self.talk.setText(
            _("If you would like to talk to someone, our staff are glad to help at any time.")
        )
        self.finish.setText(_("Finish"))

    def clear(self) -> None:
        self._code = ""
        self.retranslate()


class ProblemPage(Page):
    """Saving failed: the answers stay in memory (off screen) so staff can help."""

    retry = Signal()
    back_to_answers = Signal()
    staff_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("kiosk_problem", parent)
        self.title = label("title", name="problem_title")
        self.text = label("subtitle", name="problem_text")
        self.detail = label("error", name="problem_detail")
        self.again = button("primary", "problem_retry")
        self.again.clicked.connect(self.retry)
        self.answers = button("secondary", "problem_back")
        self.answers.clicked.connect(self.back_to_answers)
        self.staff = button("staff", "problem_staff")
        self.staff.clicked.connect(self.staff_requested)
        footer = QHBoxLayout()
        footer.addWidget(self.answers)
        footer.addStretch(1)
        footer.addWidget(self.again)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.staff)
        self.body.addStretch(1)
        self.body.addWidget(self.title)
        self.body.addWidget(self.text)
        self.body.addSpacing(12)
        self.body.addWidget(self.detail)
        self.body.addStretch(2)
        self.body.addLayout(footer)
        self.body.addLayout(bottom)
        self.retranslate()

    def show_problem(self, message: str) -> None:
        self.detail.setText(message)
        self.detail.setVisible(bool(message))

    def retranslate(self) -> None:
        self.title.setText(_("Your answers could not be saved just now"))
        self.text.setText(
            _(
                "Please ask a member of staff for help. Your answers are kept until then; "
                "nothing is lost."
            )
        )
        self.again.setText(_("Try again"))
        self.answers.setText(_("Back to my answers"))
        self.staff.setText(_("Staff"))

    def clear(self) -> None:
        self.detail.clear()


class StillTherePage(Page):
    """Shown after a quiet spell; when the countdown ends everything is discarded."""

    continued = Signal()
    timed_out = Signal()

    def __init__(self, seconds: int, parent: QWidget | None = None) -> None:
        super().__init__("kiosk_still_there", parent)
        self._seconds = max(1, seconds)
        self._left = self._seconds
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._on_tick)
        self.title = label("title", name="still_there_title")
        self.title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.text = label("subtitle", name="still_there_text")
        self.text.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.keep = button("big", "still_there_continue")
        self.keep.clicked.connect(self._continue)
        self.body.addStretch(2)
        self.body.addWidget(self.title)
        self.body.addWidget(self.text)
        self.body.addSpacing(30)
        self.body.addWidget(self.keep)
        self.body.addStretch(3)
        self.retranslate()

    def start(self) -> None:
        self._left = self._seconds
        self.retranslate()
        self._tick.start()

    def stop(self) -> None:
        self._tick.stop()

    @property
    def running(self) -> bool:
        return self._tick.isActive()

    def _on_tick(self) -> None:
        self._left -= 1
        if self._left <= 0:
            self._tick.stop()
            self.timed_out.emit()
            return
        self.retranslate()

    def _continue(self) -> None:
        self._tick.stop()
        self.continued.emit()

    def retranslate(self) -> None:
        self.title.setText(_("Are you still there?"))
        self.text.setText(
            ngettext(
                "This screen will start over in {seconds} second and your answers will be cleared.",
                "This screen will start over in {seconds} seconds and your answers will be "
                "cleared.",
                self._left,
            ).format(seconds=self._left)
        )
        self.keep.setText(_("Continue"))
