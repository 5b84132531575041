"""Opens the station's self-service screen from the main window: at its welcome page, or with
chosen questionnaires for a registered client or an anonymous visitor."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from carestation.assessments import instrument_codes, load_instrument
from carestation.domain.roles import Permission
from carestation.domain.values import Actor
from carestation.i18n import _, current_language
from carestation.services.container import Services
from carestation.ui.prompts import Prompter

# Offered first when staff start questionnaires for a client: the usual pair at intake.
DEFAULT_CHOICE = ("phq9", "gad7")


class InstrumentChoiceDialog(QDialog):
    """Which questionnaires to put on the self-service screen, in the order they will be asked."""

    def __init__(
        self, *, for_client: bool, prompter: Prompter, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent, objectName="kiosk_choice_dialog")
        self._prompter = prompter
        self.setWindowTitle(_("Questionnaires on the self-service screen"))
        intro = QLabel(
            _(
                "Choose the questionnaires the client will answer on the self-service screen. "
                "The results are saved to the client's record when they finish."
            )
            if for_client
            else _(
                "Choose the questionnaires the visitor will answer anonymously. Nothing will "
                "link the answers to the person."
            ),
            wordWrap=True,
        )
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        lang = current_language()
        self.boxes: dict[str, QCheckBox] = {}
        for code in instrument_codes():
            if code == "mood":
                continue
            box = QCheckBox(load_instrument(code).title.text(lang), objectName=f"choose_{code}")
            box.setChecked(code in DEFAULT_CHOICE)
            self.boxes[code] = box
            layout.addWidget(box)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(_("&Start on the screen"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def chosen(self) -> list[str]:
        return [code for code, box in self.boxes.items() if box.isChecked()]

    def accept(self) -> None:
        if not self.chosen():
            self._prompter.error(
                self, _("Choose a questionnaire"), _("Tick at least one questionnaire.")
            )
            return
        super().accept()


class KioskLauncher(QObject):
    """Holds the one self-service screen of this PC. The main window hides while the screen
    covers the only monitor, so switching tasks cannot lead into a signed-in CareStation; with
    a second monitor the screen opens there and the main window stays usable."""

    session_saved = Signal(object)  # RecordedSession
    closed = Signal()

    def __init__(
        self,
        services: Services,
        actor: Actor,
        prompter: Prompter,
        main_window: QWidget,
        *,
        idle_seconds: int = 90,
    ) -> None:
        super().__init__(main_window)
        self._services, self._actor, self._prompter = services, actor, prompter
        self._main = main_window
        self._idle_seconds = idle_seconds
        self.kiosk: QWidget | None = None
        self._hid_main = False

    @property
    def available(self) -> bool:
        return self._actor.can(Permission.RUN_KIOSK) and self._actor.station_id is not None

    def _station(self) -> object | None:
        for station in self._services.admin.list_stations(actor=self._actor):
            if station.id == self._actor.station_id:
                return station
        return None

    def _ensure(self) -> QWidget | None:
        from carestation.ui.kiosk import KioskWindow

        if self.kiosk is not None:
            return self.kiosk
        station = self._station()
        if station is None or not self.available:
            self._prompter.error(
                self._main,
                _("Self-service screen"),
                _("The self-service screen runs at a station: sign in at your station first."),
            )
            return None
        kiosk = KioskWindow(
            self._services,
            self._actor,
            station,  # type: ignore[arg-type]
            self._prompter,
            current_language(),
            self._idle_seconds,
        )
        kiosk.session_saved.connect(self.session_saved)
        kiosk.closed.connect(self._closed)
        self.kiosk = kiosk
        return kiosk

    def _cover(self, kiosk: QWidget) -> None:
        screens = QGuiApplication.screens()
        main_screen = self._main.screen()
        others = [s for s in screens if s is not main_screen]
        target = others[0] if others else main_screen
        if target is not None:
            kiosk.setScreen(target)
            kiosk.setGeometry(target.geometry())
        kiosk.showFullScreen()
        kiosk.raise_()
        kiosk.activateWindow()
        if not others and self._main.isVisible():
            self._main.hide()
            self._hid_main = True

    def open_welcome(self) -> bool:
        kiosk = self._ensure()
        if kiosk is None:
            return False
        if not kiosk.isVisible():
            kiosk.open()  # type: ignore[attr-defined]
            self._cover(kiosk)
        else:
            kiosk.raise_()
        return True

    def start(self, *, client_id: int | None, instruments: Sequence[str]) -> bool:
        """Puts `instruments` on the screen for a client (None: an anonymous visitor)."""
        kiosk = self._ensure()
        if kiosk is None:
            return False
        if client_id is None:
            started = kiosk.start_anonymous(instruments)  # type: ignore[attr-defined]
            if not started:
                self._prompter.error(
                    self._main,
                    _("Self-service screen in use"),
                    _(
                        "Someone is using the self-service screen right now. Wait until they "
                        "have finished, then try again."
                    ),
                )
        else:
            started = kiosk.start_for_client(client_id, instruments)  # type: ignore[attr-defined]
        if started:
            self._cover(kiosk)
        elif not kiosk.isVisible():
            self._drop()
        return bool(started)

    def choose_and_start(self, *, client_id: int | None, parent: QWidget | None = None) -> bool:
        dialog = InstrumentChoiceDialog(
            for_client=client_id is not None, prompter=self._prompter, parent=parent or self._main
        )
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return False
        return self.start(client_id=client_id, instruments=dialog.chosen())

    def _closed(self) -> None:
        self._drop()
        if self._hid_main:
            self._hid_main = False
            self._main.show()
            self._main.raise_()
        self.closed.emit()

    def _drop(self) -> None:
        kiosk, self.kiosk = self.kiosk, None
        if kiosk is not None:
            kiosk.deleteLater()

    def shut_down(self) -> None:
        """On sign-out: the screen closes whatever a visitor was doing (nothing is saved)."""
        kiosk, self.kiosk = self.kiosk, None
        if kiosk is not None:
            kiosk.show_welcome()  # type: ignore[attr-defined]
            kiosk.hide()
            kiosk.deleteLater()
        self._hid_main = False


def find_launcher(widget: QWidget | None) -> KioskLauncher | None:
    """The launcher of the main window `widget` belongs to (dialogs opened from any screen)."""
    while widget is not None:
        launcher = getattr(widget, "kiosk_launcher", None)
        if isinstance(launcher, KioskLauncher):
            return launcher
        widget = widget.parentWidget()
    return None
