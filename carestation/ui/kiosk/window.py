"""The self-service ("kiosk") screen: a full-screen window visitors use on their own, and the
controller that walks one visitor from the welcome screen to help or thanks.

Nothing is saved before Submit, and Submit saves the whole session in one service call. Any
other way out (Back to the start, the inactivity countdown, a staff exit) discards the answers
and clears every page, so the next person sees nothing of the last one.

What the window can and cannot stop (for whoever deploys it):
- It ignores close requests (Alt+F4, the window manager's close) and Escape until a member of
  this station's team has entered their password, and it has no frame or menus.
- It cannot stop the operating system: Alt+Tab, the Windows key, Ctrl+Alt+Del, a tablet's edge
  swipes or a second screen still reach other programs. Hide the main window while the kiosk
  runs (so task switching does not lead into a signed-in CareStation), and for an unattended
  screen use the OS kiosk mode (Windows Assigned Access, or a dedicated account whose shell is
  CareStation).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent, QShowEvent
from PySide6.QtWidgets import QStackedWidget, QVBoxLayout, QWidget

from carestation.assessments import Instrument, load_instrument
from carestation.domain.assessment_values import (
    AnonymousProfile,
    CampaignCodeCheck,
    RecordedSession,
)
from carestation.domain.errors import CareStationError
from carestation.domain.values import Actor
from carestation.i18n import _, current_language, normalise_language, set_language
from carestation.ui.kiosk.end_pages import HelpPage, ProblemPage, StillTherePage, ThanksPage
from carestation.ui.kiosk.exit_dialog import StaffExitDialog
from carestation.ui.kiosk.form_pages import IntroPage, ReviewPage
from carestation.ui.kiosk.idle import KioskIdleTimer
from carestation.ui.kiosk.protocols import KioskServices, StationContact
from carestation.ui.kiosk.question import QuestionPage
from carestation.ui.kiosk.session import Intro, KioskSession, Question, SessionKind
from carestation.ui.kiosk.start_pages import (
    ChoosePage,
    CodePage,
    ProfilePage,
    ReadyPage,
    WelcomePage,
)
from carestation.ui.kiosk.style import STYLE_SHEET, kiosk_font
from carestation.ui.kiosk.widgets import Page
from carestation.ui.prompts import Prompter, QtPrompter

log = logging.getLogger(__name__)


@contextmanager
def _speaking(lang: str) -> Iterator[None]:
    """Produces text in `lang` without leaving the app's language changed."""
    before = current_language()
    set_language(lang)
    try:
        yield
    finally:
        set_language(before)


class KioskWindow(QWidget):
    """The self-service screen of one station.

    `services`: see KioskServices. `actor`: the signed-in staff member or counsellor who opened
    it (RUN_KIOSK); every save is made in their name. `station`: name and phone shown to the
    visitor. `language`: the language each visitor starts in. `idle_seconds`: quiet time before
    "Are you still there?", which counts down `countdown_seconds` before discarding everything.
    `advance_ms`: the moment between choosing an answer and the next question.
    """

    closed = Signal()  # after a staff member closed the screen with their password
    session_saved = Signal(object)  # the RecordedSession, for the main window (alerts refresh)

    def __init__(
        self,
        services: KioskServices,
        actor: Actor,
        station: StationContact,
        prompter: Prompter | None = None,
        language: str = "zh_CN",
        idle_seconds: int = 90,
        *,
        countdown_seconds: int = 20,
        advance_ms: int = 400,
        done_delay_ms: int = 1200,
    ) -> None:
        super().__init__(None)
        if actor.station_id is None:
            raise ValueError("the kiosk runs at a station: the actor has no current station")
        self._services = services
        self._actor = actor
        self._station_id: int = actor.station_id
        self._prompter = prompter or QtPrompter()
        self._home_language = normalise_language(language) or "zh_CN"
        self._language = self._home_language
        self._app_language: str | None = None  # the app's language while the kiosk is shown
        self._advance_ms = advance_ms
        self._authorised = False
        self._session: KioskSession | None = None
        self._step = 0  # index into the session's steps while answering
        self._changing = False  # answering from the review page: go back there afterwards
        self._pending_anonymous: list[Instrument] = []  # chosen, profile page still to come
        self._paused_page: QWidget | None = None  # where "Continue" returns to

        self.setObjectName("kiosk_window")
        self.setWindowTitle("CareStation")
        self.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setFont(kiosk_font(self))
        self.setStyleSheet(STYLE_SHEET)

        with _speaking(self._language):
            self.welcome = WelcomePage(station.name)
            self.code = CodePage()
            self.choose = ChoosePage()
            self.profile = ProfilePage()
            self.ready = ReadyPage()
            self.intro = IntroPage()
            self.question = QuestionPage(guard_ms=min(250, max(0, advance_ms)))
            self.review = ReviewPage()
            self.problem = ProblemPage()
            self.help = HelpPage(station.phone, done_delay_ms=done_delay_ms)
            self.thanks = ThanksPage(done_delay_ms=done_delay_ms)
            self.still_there = StillTherePage(countdown_seconds)
        self.pages: list[Page] = [
            self.welcome,
            self.code,
            self.choose,
            self.profile,
            self.ready,
            self.intro,
            self.question,
            self.review,
            self.problem,
            self.help,
            self.thanks,
            self.still_there,
        ]
        self.stack = QStackedWidget()
        self.stack.setObjectName("kiosk_pages")
        for page in self.pages:
            self.stack.addWidget(page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        for toggle in (self.welcome.language, self.ready.language):
            toggle.set_language(self._language)
            toggle.language_chosen.connect(self._switch_language)

        self.idle = KioskIdleTimer(self, idle_seconds)
        self.idle.went_idle.connect(self._on_idle)
        self._advance = QTimer(self)
        self._advance.setSingleShot(True)
        self._advance.timeout.connect(self._advance_now)
        self._exit_dialog: StaffExitDialog | None = None
        self._connect()
        self.stack.setCurrentWidget(self.welcome)

    # ------------------------------------------------------------------ public API

    def open(self) -> None:
        """Shows the screen full screen on its monitor, at the welcome page."""
        self.show_welcome()
        # Cover the screen even where no window manager honours the full-screen request.
        screen = self.screen()
        if screen is not None:
            self.setGeometry(screen.geometry())
        self.showFullScreen()

    def show_welcome(self) -> None:
        """Back to the neutral welcome page; whatever was in progress is discarded unsaved."""
        self._discard()
        self._set_language(self._home_language)
        self._show(self.welcome, idle=False)

    @property
    def busy(self) -> bool:
        """A visitor is part-way through (anything but the welcome and closing pages)."""
        return self._session is not None or self.stack.currentWidget() in (
            self.code,
            self.choose,
            self.profile,
            self.still_there,
        )

    def start_for_client(self, client_id: int, instruments: Sequence[str]) -> bool:
        """Prepares questionnaires for a registered client; False (and says why) when refused.

        Refused while a visitor is using the screen, or when the service refuses the client
        (no assessment consent, unknown client ...), before the client has answered anything.
        """
        if self.busy:
            self._prompter.error(
                None,
                _("Self-service screen in use"),
                _(
                    "Someone is using the self-service screen right now. Wait until they have "
                    "finished, then try again."
                ),
            )
            return False
        forms = [load_instrument(code) for code in instruments]
        try:
            self._services.assessments.check_kiosk_client(self._actor, client_id=client_id)
        except CareStationError as exc:
            self._prompter.error(None, _("Self-service screen"), str(exc))
            return False
        self._discard()
        self._session = KioskSession(SessionKind.CLIENT, forms, client_id=client_id)
        self._set_language(self._home_language)
        self.ready.set_forms(len(forms))
        self._show(self.ready)
        return True

    def start_anonymous(self, instruments: Sequence[str]) -> bool:
        """Starts an anonymous session with these questionnaires (the walk-in path, or staff
        offering a particular one); goes through the optional profile page first."""
        if self.busy:
            return False
        self._begin_anonymous(instruments)
        return True

    def _begin_anonymous(self, instruments: Sequence[str]) -> None:
        forms = [load_instrument(code) for code in instruments]
        self._discard()
        self._pending_anonymous = forms
        self._show(self.profile)

    # ------------------------------------------------------------------ wiring

    def _connect(self) -> None:
        self.welcome.code_chosen.connect(self._to_code)
        self.welcome.walk_in_chosen.connect(self._to_choose)
        self.welcome.staff_requested.connect(self._ask_staff)
        self.code.code_entered.connect(self._check_code)
        self.code.back_requested.connect(self.show_welcome)
        self.choose.chosen.connect(lambda code: self._begin_anonymous([code]))
        self.choose.back_requested.connect(self.show_welcome)
        self.profile.done.connect(self._profile_done)
        self.profile.back_requested.connect(self._profile_back)
        self.ready.begin.connect(lambda: self._go(0))
        self.ready.not_now.connect(self.show_welcome)
        self.intro.start.connect(lambda: self._go(self._step + 1))
        self.intro.back_requested.connect(lambda: self._go(self._step - 1))
        self.question.answered.connect(self._answered)
        self.question.back_requested.connect(self._question_back)
        self.review.change_requested.connect(self._change)
        self.review.back_requested.connect(self._review_back)
        self.review.submit_requested.connect(self._submit)
        self.problem.retry.connect(self._submit)
        self.problem.back_to_answers.connect(self._to_review)
        self.problem.staff_requested.connect(self._ask_staff)
        self.help.done.connect(self.show_welcome)
        self.thanks.done.connect(self.show_welcome)
        self.still_there.continued.connect(self._resume)
        self.still_there.timed_out.connect(self.show_welcome)

    # ------------------------------------------------------------------ navigation

    def _show(self, page: QWidget, *, idle: bool = True) -> None:
        self.stack.setCurrentWidget(page)
        page.setFocus(Qt.FocusReason.OtherFocusReason)
        if idle:
            self.idle.start()
        else:
            self.idle.stop()

    def _to_choose(self) -> None:
        self._discard()
        self._show(self.choose)

    def _to_code(self) -> None:
        self._show(self.code)
        self.code.prepare()

    def _check_code(self, code: str) -> None:
        try:
            check: CampaignCodeCheck = self._services.campaigns.check_code(self._actor, code=code)
            forms = [load_instrument(c) for c in check.instruments]
        except CareStationError as exc:
            self.code.set_error(str(exc))
            return
        except Exception:
            log.exception("checking a screening code failed")
            self.code.set_error(_("The code could not be checked just now. Please ask the staff."))
            return
        self.code.clear()
        self._session = KioskSession(SessionKind.CAMPAIGN, forms, code=check.code)
        self._go(0)

    def _profile_done(self, profile: AnonymousProfile) -> None:
        forms = self._pending_anonymous
        if not forms:
            self.show_welcome()
            return
        self._session = KioskSession(SessionKind.ANONYMOUS, forms, profile=profile)
        self._go(0)

    def _profile_back(self) -> None:
        self.profile.clear()
        self._pending_anonymous = []
        self._show(self.choose)

    def _before_first_step(self) -> None:
        """Back from the first introduction: to where this kind of session began."""
        session = self._session
        if session is None or session.kind is SessionKind.CAMPAIGN:
            # The code is not kept on screen: going back starts the code entry afresh.
            self._session = None
            self._to_code()
        elif session.kind is SessionKind.ANONYMOUS:
            self._pending_anonymous = list(session.instruments)
            self._session = None
            self._show(self.profile)
        else:
            self._show(self.ready)

    def _go(self, step: int) -> None:
        session = self._session
        if session is None:
            self.show_welcome()
            return
        self._advance.stop()
        self._changing = False
        if step < 0:
            self._before_first_step()
            return
        if step >= len(session.steps):
            self._to_review()
            return
        self._step = step
        current = session.steps[step]
        if isinstance(current, Intro):
            self.intro.show_intro(current, self._language, forms=len(session.instruments))
            self._show(self.intro)
        else:
            self._show_question(current)

    def _show_question(self, question: Question) -> None:
        assert self._session is not None
        self.question.show_question(
            question,
            self._language,
            chosen=self._session.answer(question),
            total=self._session.total_questions,
            changing=self._changing,
        )
        self._show(self.question)

    def _answered(self, code: int) -> None:
        session = self._session
        question = self.question.question
        if session is None or question is None:
            return
        session.set_answer(question, code)
        # A short moment to see the choice highlighted; a second tap restarts it.
        if self._advance_ms <= 0:
            self._advance_now()
        else:
            self._advance.start(self._advance_ms)

    def _advance_now(self) -> None:
        if self._session is None:
            return
        if self._changing:
            self._to_review(focus=self._step)
        else:
            self._go(self._step + 1)

    def _question_back(self) -> None:
        self._advance.stop()
        if self._changing:
            self._to_review(focus=self._step)
        else:
            self._go(self._step - 1)

    def _change(self, step: int) -> None:
        session = self._session
        if session is None:
            return
        current = session.steps[step]
        if not isinstance(current, Question):
            return
        self._step = step
        self._changing = True
        self._show_question(current)

    def _review_back(self) -> None:
        if self._session is not None:
            self._go(len(self._session.steps) - 1)

    def _to_review(self, focus: int | None = None) -> None:
        self._advance.stop()
        self._changing = False
        if self._session is None:
            self.show_welcome()
            return
        self.question.clear()
        self.review.show_session(self._session, self._language, focus_step=focus)
        self._show(self.review)

    # ------------------------------------------------------------------ saving

    def _submit(self) -> None:
        session = self._session
        if session is None or not session.complete:
            return
        self.review.submit.setEnabled(False)  # one save, however many taps
        self.problem.again.setEnabled(False)
        forms = session.forms(self._language)
        try:
            result: RecordedSession
            if session.kind is SessionKind.CLIENT:
                assert session.client_id is not None
                result = self._services.assessments.record_kiosk_for_client(
                    self._actor, client_id=session.client_id, forms=forms
                )
            elif session.kind is SessionKind.CAMPAIGN:
                result = self._services.campaigns.record(
                    self._actor, code=session.code, forms=forms
                )
            else:
                result = self._services.assessments.record_anonymous(
                    self._actor, forms=forms, profile=session.profile
                )
        except CareStationError as exc:
            self._save_failed(str(exc))
            return
        except Exception:
            log.exception("saving a self-service session failed")
            self._save_failed("")
            return
        finally:
            self.review.submit.setEnabled(True)
            self.problem.again.setEnabled(True)
        code = session.code
        self._discard()
        self.session_saved.emit(result)
        if result.needs_help_now:
            self.help.show_help(code=code)
            self._show(self.help)
        else:
            self.thanks.show_thanks(code=code)
            self._show(self.thanks)

    def _save_failed(self, message: str) -> None:
        # The answers stay in memory so staff can help (try again, or back to the answers);
        # the page itself shows none of them, and it does not time out.
        self.review.clear()
        self.problem.show_problem(message)
        self._show(self.problem, idle=False)

    # ------------------------------------------------------------------ inactivity

    def _on_idle(self) -> None:
        page = self.stack.currentWidget()
        if page in (self.help, self.thanks):
            self.show_welcome()  # already saved: just start over
            return
        if page in (self.welcome, self.problem, self.still_there):
            return
        self._advance.stop()
        self._paused_page = page
        self._show(self.still_there, idle=False)
        self.still_there.start()

    def _resume(self) -> None:
        page = self._paused_page or self.welcome
        self._paused_page = None
        if page is self.welcome:
            self.show_welcome()
        else:
            self._show(page)

    # ------------------------------------------------------------------ language

    def _switch_language(self, lang: str) -> None:
        self._set_language(lang)

    def _set_language(self, lang: str) -> None:
        self._language = lang
        if self.isVisible():
            set_language(lang)
            self._retranslate()
        else:
            with _speaking(lang):
                self._retranslate()
        for toggle in (self.welcome.language, self.ready.language):
            toggle.set_language(lang)

    def _retranslate(self) -> None:
        for page in self.pages:
            page.retranslate()

    @property
    def language(self) -> str:
        return self._language

    # ------------------------------------------------------------------ clearing

    def _discard(self) -> None:
        """Forgets the visitor: answers, code, profile, and every page's content."""
        self._advance.stop()
        self.still_there.stop()
        if self._session is not None:
            self._session.discard()
        self._session = None
        self._pending_anonymous = []
        self._changing = False
        self._paused_page = None
        self._step = 0
        for page in self.pages:
            page.clear()

    # ------------------------------------------------------------------ leaving

    def _ask_staff(self) -> None:
        if self._exit_dialog is None:
            self._exit_dialog = StaffExitDialog(self._services.auth, self._station_id, self)
            self._exit_dialog.verified.connect(self._staff_verified)
        self._exit_dialog.open()

    def _staff_verified(self, _actor: Actor) -> None:
        self._authorised = True
        self.close()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._authorised = False
        if self._app_language is None:
            # The kiosk speaks its own language while shown; the app gets its own back on exit.
            self._app_language = current_language()
            set_language(self._language)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._authorised:
            # Alt+F4 and the window manager's close: only a staff password closes the kiosk.
            event.ignore()
            return
        self._discard()
        self.idle.detach()
        if self._app_language is not None:
            set_language(self._app_language)
            self._app_language = None
        super().closeEvent(event)
        self.closed.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            event.accept()  # no way out by keyboard
            return
        super().keyPressEvent(event)
