"""The screens before the questions: welcome, screening code, choosing a questionnaire, the
optional anonymous profile, and the start of a session prepared by staff."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from carestation.assessments import load_instrument
from carestation.domain import campaign_codes
from carestation.domain.assessment_values import AnonymousProfile
from carestation.domain.vocab import AgeBand, Gender, Industry
from carestation.i18n import N_, _, current_language, ngettext
from carestation.ui.kiosk.style import set_role
from carestation.ui.kiosk.widgets import (
    FlowLayout,
    LanguageToggle,
    Page,
    TileButton,
    button,
    label,
    scroll_area,
)

# The walk-in questionnaires in the order offered, each with a plain-words topic.
WALK_IN_CHOICES: tuple[tuple[str, str, str], ...] = (
    ("who5", N_("Wellbeing"), N_("How you have been feeling in general")),
    ("phq9", N_("Mood"), N_("Low mood, interest, sleep and energy")),
    ("gad7", N_("Worry and anxiety"), N_("Feeling nervous, worrying, not being able to relax")),
    ("pss10", N_("Stress"), N_("How stressful and out of control life has felt")),
    ("k10", N_("Distress"), N_("Feeling tired out, nervous, hopeless or restless")),
)


def questions_text(count: int) -> str:
    return ngettext("{count} question", "{count} questions", count).format(count=count)


class WelcomePage(Page):
    code_chosen = Signal()
    walk_in_chosen = Signal()
    staff_requested = Signal()

    def __init__(self, station_name: str, parent: QWidget | None = None) -> None:
        super().__init__("kiosk_welcome", parent)
        self.language = LanguageToggle("welcome_language")
        top = QHBoxLayout()
        self.station = label("muted", station_name, name="welcome_station")
        top.addWidget(self.station, 1)
        top.addWidget(self.language)
        self.title = label("title", name="welcome_title")
        self.title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.kind = label("subtitle", name="welcome_kind")
        self.kind.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.code = button("big", "welcome_code")
        self.code.clicked.connect(self.code_chosen)
        self.walk_in = button("big", "welcome_walk_in")
        self.walk_in.clicked.connect(self.walk_in_chosen)
        self.privacy = label("muted", name="welcome_privacy")
        self.privacy.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.staff = button("staff", "staff_exit")
        self.staff.clicked.connect(self.staff_requested)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.staff)

        self.body.addLayout(top)
        self.body.addStretch(2)
        self.body.addWidget(self.title)
        self.body.addWidget(self.kind)
        self.body.addSpacing(36)
        self.body.addWidget(self.code)
        self.body.addSpacing(8)
        self.body.addWidget(self.walk_in)
        self.body.addSpacing(20)
        self.body.addWidget(self.privacy)
        self.body.addStretch(3)
        self.body.addLayout(bottom)
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText(_("Welcome"))
        self.kind.setText(_("A few quiet minutes for yourself"))
        self.code.setText(_("I have a screening code"))
        self.walk_in.setText(_("Take a short wellbeing check"))
        self.privacy.setText(_("You do not need to give your name."))
        self.staff.setText(_("Staff"))
        self.staff.setAccessibleName(_("Staff: close the self-service screen"))


# The on-screen keyboard for codes (a QR scanner or a keyboard can type into the field too).
# Keys for characters no code contains (0, 1, I, L, O) stay in place but cannot be pressed, so
# the layout is the familiar one and a look-alike cannot be typed by mistake.
_KEY_ROWS = ("1234567890", "QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM")


class CodePage(Page):
    code_entered = Signal(str)
    back_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("kiosk_code", parent)
        self.title = label("title", name="code_title")
        self.hint = label("body", name="code_hint")
        self.field = QLineEdit()
        self.field.setObjectName("code_field")
        set_role(self.field, "code")
        self.field.setMaxLength(24)
        self.field.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.field.returnPressed.connect(self._submit)
        self.field.textEdited.connect(lambda _text: self.set_error(""))
        self.error = label("error", name="code_error")
        self.error.hide()

        keys = QWidget()
        grid = QGridLayout(keys)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(8)
        for row, chars in enumerate(_KEY_ROWS):
            for col, char in enumerate(chars):
                key = button("key", f"key_{char}", char)
                key.setFocusPolicy(Qt.FocusPolicy.NoFocus)
                key.clicked.connect(lambda _checked=False, c=char: self._type(c))
                key.setEnabled(char in campaign_codes.ALPHABET)
                grid.addWidget(key, row, col)
        self.delete = button("key", "key_delete", "\u232b")
        self.delete.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.delete.clicked.connect(self._backspace)
        grid.addWidget(self.delete, len(_KEY_ROWS) - 1, 8, 1, 2)

        self.back = button("secondary", "code_back")
        self.back.clicked.connect(self.back_requested)
        self.ok = button("primary", "code_continue")
        self.ok.clicked.connect(self._submit)
        footer = QHBoxLayout()
        footer.addWidget(self.back)
        footer.addStretch(1)
        footer.addWidget(self.ok)

        self.body.addWidget(self.title)
        self.body.addWidget(self.hint)
        self.body.addWidget(self.field)
        self.body.addWidget(self.error)
        self.body.addStretch(1)
        self.body.addWidget(keys)
        self.body.addStretch(1)
        self.body.addLayout(footer)
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText(_("Enter your screening code"))
        self.hint.setText(_("The code is printed on the slip you were given."))
        self.field.setAccessibleName(_("Screening code"))
        self.delete.setAccessibleName(_("Delete the last character"))
        self.back.setText(_("Back"))
        self.ok.setText(_("Continue"))

    def prepare(self) -> None:
        self.clear()
        self.field.setFocus()

    def clear(self) -> None:
        self.field.clear()
        self.set_error("")

    def set_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    def _type(self, char: str) -> None:
        self.field.insert(char)
        self.set_error("")
        self.field.setFocus()

    def _backspace(self) -> None:
        self.field.backspace()
        self.field.setFocus()

    def _submit(self) -> None:
        code = self.field.text().strip()
        if not code:
            self.set_error(_("Please enter the code from your slip."))
            return
        self.code_entered.emit(code)


class ChoosePage(Page):
    chosen = Signal(str)
    back_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("kiosk_choose", parent)
        self.title = label("title", name="choose_title")
        self.hint = label("body", name="choose_hint")
        holder = QWidget()
        tiles = QGridLayout(holder)
        tiles.setContentsMargins(0, 0, 0, 0)
        tiles.setSpacing(12)
        self.tiles: dict[str, TileButton] = {}
        for i, (code, _topic, _detail) in enumerate(WALK_IN_CHOICES):
            tile = TileButton(f"choose_{code}")
            tile.clicked.connect(lambda _checked=False, c=code: self.chosen.emit(c))
            tiles.addWidget(tile, i, 0)
            self.tiles[code] = tile
        tiles.setRowStretch(len(WALK_IN_CHOICES), 1)
        self.back = button("secondary", "choose_back")
        self.back.clicked.connect(self.back_requested)
        footer = QHBoxLayout()
        footer.addWidget(self.back)
        footer.addStretch(1)
        self.body.addWidget(self.title)
        self.body.addWidget(self.hint)
        self.body.addWidget(scroll_area(holder, "choose_list"), 1)
        self.body.addLayout(footer)
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText(_("Choose a short questionnaire"))
        self.hint.setText(
            _(
                "Each takes a few minutes. There are no right or wrong answers; choose what fits best."
            )
        )
        for code, topic, detail in WALK_IN_CHOICES:
            instrument = load_instrument(code)
            count = len(instrument.items) + len(instrument.extra_items)
            self.tiles[code].set_texts(
                _(topic),
                _("{description} · {name}, {questions}").format(
                    description=_(detail),
                    name=instrument.short_title(current_language()),
                    questions=questions_text(count),
                ),
            )
        self.back.setText(_("Back"))


class _Choice(QWidget):
    """Big toggle buttons that wrap like words; the first is always "Prefer not to say"."""

    def __init__(self, name: str, values: tuple[object, ...]) -> None:
        super().__init__()
        self.setObjectName(name)
        flow = FlowLayout(self, spacing=10)
        self.values = (None, *values)
        self.buttons: list[QPushButton] = []
        for i, value in enumerate(self.values):
            widget = button("toggle", f"{name}_{value if value is not None else 'none'}")
            widget.setCheckable(True)
            widget.clicked.connect(lambda _checked=False, i=i: self.select(i))
            flow.addWidget(widget)
            self.buttons.append(widget)
        self.select(0)

    def select(self, index: int) -> None:
        for i, widget in enumerate(self.buttons):
            widget.setChecked(i == index)

    @property
    def value(self) -> object:
        for widget, value in zip(self.buttons, self.values, strict=True):
            if widget.isChecked():
                return value
        return None

    def retranslate(self) -> None:
        for widget, value in zip(self.buttons, self.values, strict=True):
            title = _("Prefer not to say") if value is None else value.title  # type: ignore[attr-defined]
            widget.setText(title)
            widget.updateGeometry()
        layout = self.layout()
        if layout is not None:
            layout.invalidate()


class ProfilePage(Page):
    done = Signal(object)  # an AnonymousProfile
    back_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("kiosk_profile", parent, width=1240)
        self.title = label("title", name="profile_title")
        self.hint = label("body", name="profile_hint")
        self.age_label = label("group")
        self.age = _Choice("profile_age", tuple(AgeBand))
        self.gender_label = label("group")
        genders = (Gender.FEMALE, Gender.MALE, Gender.OTHER)
        self.gender = _Choice("profile_gender", genders)
        self.industry_label = label("group")
        self.industry = _Choice("profile_industry", tuple(Industry))
        self.back = button("secondary", "profile_back")
        self.back.clicked.connect(self.back_requested)
        self.skip = button("secondary", "profile_skip")
        self.skip.clicked.connect(self._skip)
        self.ok = button("primary", "profile_continue")
        self.ok.clicked.connect(self._continue)
        footer = QHBoxLayout()
        footer.addWidget(self.back)
        footer.addStretch(1)
        footer.addWidget(self.skip)
        footer.addWidget(self.ok)

        holder = QWidget()
        groups = QVBoxLayout(holder)
        groups.setContentsMargins(0, 0, 0, 0)
        groups.setSpacing(8)
        for caption, choice in (
            (self.age_label, self.age),
            (self.gender_label, self.gender),
            (self.industry_label, self.industry),
        ):
            groups.addWidget(caption)
            groups.addWidget(choice)
            groups.addSpacing(4)
        groups.addStretch(1)
        self.body.addWidget(self.title)
        self.body.addWidget(self.hint)
        self.body.addWidget(scroll_area(holder, "profile_groups"), 1)
        self.body.addLayout(footer)
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText(_("A little about you (you may skip this)"))
        self.hint.setText(
            _(
                "It helps the union plan its services. It is counted only in statistics and "
                "is never linked to you."
            )
        )
        self.age_label.setText(_("Age"))
        self.gender_label.setText(_("Gender"))
        self.industry_label.setText(_("The kind of work you do"))
        for choice in (self.age, self.gender, self.industry):
            choice.retranslate()
        self.back.setText(_("Back"))
        self.skip.setText(_("Skip"))
        self.ok.setText(_("Continue"))

    def clear(self) -> None:
        for choice in (self.age, self.gender, self.industry):
            choice.select(0)

    def _skip(self) -> None:
        self.clear()
        self.done.emit(AnonymousProfile())

    def _continue(self) -> None:
        self.done.emit(
            AnonymousProfile(
                age_band=self.age.value,  # type: ignore[arg-type]
                gender=self.gender.value,  # type: ignore[arg-type]
                industry=self.industry.value,  # type: ignore[arg-type]
            )
        )


class ReadyPage(Page):
    """The start of a session staff prepared for a client: no name, just what comes next."""

    begin = Signal()
    not_now = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("kiosk_ready", parent)
        self._forms = 0
        self.language = LanguageToggle("ready_language")
        top = QHBoxLayout()
        top.addStretch(1)
        top.addWidget(self.language)
        self.title = label("title", name="ready_title")
        self.title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.text = label("body", name="ready_text")
        self.text.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.count = label("subtitle", name="ready_count")
        self.count.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.start = button("big", "ready_begin")
        self.start.clicked.connect(self.begin)
        self.later = button("secondary", "ready_not_now")
        self.later.clicked.connect(self.not_now)
        footer = QHBoxLayout()
        footer.addWidget(self.later)
        footer.addStretch(1)
        self.body.addLayout(top)
        self.body.addStretch(2)
        self.body.addWidget(self.title)
        self.body.addWidget(self.text)
        self.body.addWidget(self.count)
        self.body.addSpacing(30)
        self.body.addWidget(self.start)
        self.body.addStretch(3)
        self.body.addLayout(footer)
        self.retranslate()

    def set_forms(self, count: int) -> None:
        self._forms = count
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText(_("Welcome"))
        self.text.setText(
            _(
                "A few short questions have been prepared for you. There are no right or wrong "
                "answers; choose what fits you best."
            )
        )
        self.count.setText(
            ngettext("{count} questionnaire", "{count} questionnaires", self._forms).format(
                count=self._forms
            )
            if self._forms
            else ""
        )
        self.start.setText(_("Begin"))
        self.later.setText(_("Not now"))

    def clear(self) -> None:
        self._forms = 0
        self.count.clear()
