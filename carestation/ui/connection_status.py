"""Whether the database server can be reached: a banner in the main window that says so in words
while it cannot, tries again every few seconds in a worker thread, and hides itself (and lets the
window reload what it shows) when the server is back.

Any screen or dialog learns of a lost connection through `attempt` (carestation.ui.views.base),
which calls `report_connection_lost`: that walks up from the widget to the window holding a
`ConnectionBanner`. Nothing the user typed is touched: a dialog whose save failed stays open."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from carestation.domain.errors import DatabaseUnavailable
from carestation.i18n import _
from carestation.ui.style import set_tone

log = logging.getLogger(__name__)

RETRY_MS = 5_000  # while offline
CHECK_MS = 30_000  # while online, so an idle station notices too (one SELECT 1)
# Amber with dark text (contrast about 9:1); the icon and the words carry the meaning, the
# colour only draws the eye.


class _ProbeSignals(QObject):
    """Carries a probe's outcome to the GUI thread: the error, or None when the server answered."""

    done = Signal(object)


class _Probe(QRunnable):
    def __init__(self, probe: Callable[[], None], signals: _ProbeSignals) -> None:
        super().__init__()
        self._probe, self._signals = probe, signals

    def run(self) -> None:
        outcome: Exception | None = None
        try:
            self._probe()
        except Exception as exc:  # reported on the GUI thread, never raised in a worker
            outcome = exc
        with contextlib.suppress(RuntimeError):  # the window was closed meanwhile
            self._signals.done.emit(outcome)


class ConnectionBanner(QFrame):
    """Hidden while the server answers. When a service call fails with DatabaseUnavailable
    (`connection_lost`) or the periodic check fails, it shows "No connection to the database
    server...", tries every `retry_ms`, and on success hides and emits `restored`."""

    restored = Signal()
    went_offline = Signal()

    def __init__(
        self,
        probe: Callable[[], None],
        parent: QWidget | None = None,
        *,
        retry_ms: int = RETRY_MS,
        check_ms: int | None = CHECK_MS,
        now: Callable[[], datetime] = datetime.now,
    ) -> None:
        super().__init__(parent, objectName="connection_banner")
        self._probe, self._now = probe, now
        self._retry_ms, self._check_ms = retry_ms, check_ms
        self.offline = False
        self.checking = False
        self.last_error = ""
        # Created first, so it is destroyed first: its destructor waits for a running probe.
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _ProbeSignals(self)
        self._signals.done.connect(self._probe_done)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        set_tone(self, "warning", boxed=True)  # the icon and the words say it too
        self.setAccessibleName(_("Connection to the database server"))
        self.icon_label = QLabel(objectName="connection_icon")
        icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        self.icon_label.setPixmap(icon.pixmap(28, 28))
        self.icon_label.setAccessibleName(_("Warning"))
        self.text_label = QLabel(objectName="connection_text", wordWrap=True)
        self.text_label.setTextFormat(Qt.TextFormat.PlainText)
        self.text_label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        font = QFont(self.text_label.font())
        font.setBold(True)
        self.text_label.setFont(font)
        self.detail_label = QLabel(objectName="connection_detail", wordWrap=True)
        self.detail_label.setTextFormat(Qt.TextFormat.PlainText)
        self.retry_button = QPushButton(_("&Try again now"), self, objectName="connection_retry")
        self.retry_button.setAutoDefault(False)
        self.retry_button.clicked.connect(self.check_now)
        words = QWidget()
        column = QVBoxLayout(words)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(self.text_label)
        column.addWidget(self.detail_label)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addWidget(self.icon_label, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(words, 1)
        layout.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.timer = QTimer(self, objectName="connection_timer")
        self.timer.timeout.connect(self.check_now)
        self.hide()

    @property
    def retry_seconds(self) -> int:
        return max(1, round(self._retry_ms / 1000))

    # --- what the window calls ----------------------------------------------------------------
    def start(self) -> None:
        """Checks every `check_ms` while online (if set) and every `retry_ms` while offline."""
        self._arm()

    def stop(self) -> None:
        self.timer.stop()

    def shut_down(self, wait_ms: int = 0) -> None:
        """On close: stop checking; optionally wait for a probe still running."""
        self.stop()
        self._pool.clear()
        if wait_ms:
            self._pool.waitForDone(wait_ms)

    def connection_lost(self, error: Exception | None = None) -> None:
        """A service call found the server gone: say so at once and start retrying."""
        if error is not None:
            self.last_error = str(error)
        if not self.offline:
            self.offline = True
            log.warning("database connection lost: %s", self.last_error or "(no detail)")
            self._show_offline()
            self.went_offline.emit()
        self._arm()

    def check_now(self) -> None:
        """Asks the server in a worker thread; at most one check runs at a time."""
        if self.checking:
            return
        self.checking = True
        self.retry_button.setEnabled(False)
        if self.offline:
            self.detail_label.setText(_("Trying to connect..."))
        self._pool.start(_Probe(self._probe, self._signals))

    # --- inside -----------------------------------------------------------------------------
    def _arm(self) -> None:
        interval = self._retry_ms if self.offline else self._check_ms
        if interval is None:
            self.timer.stop()
            return
        if not self.timer.isActive() or self.timer.interval() != interval:
            self.timer.start(interval)

    def _probe_done(self, error: object) -> None:
        self.checking = False
        self.retry_button.setEnabled(True)
        if error is None:
            if self.offline:
                self.offline = False
                self.last_error = ""
                self.hide()
                log.info("database connection restored")
                self.restored.emit()
            self._arm()
            return
        if not isinstance(error, DatabaseUnavailable):
            # Not a lost connection (a bug, a full disk...): worth a log line, not a banner.
            log.error("connection check failed: %r", error)
            return
        if not self.offline:
            self.connection_lost(error)
            return
        self.last_error = str(error)
        self.detail_label.setText(
            _("Last tried at {time}. Retrying every {seconds} s.").format(
                time=self._now().strftime("%H:%M:%S"), seconds=self.retry_seconds
            )
        )

    def _show_offline(self) -> None:
        text = _(
            "No connection to the database server. Your work is kept; CareStation retries "
            "every {seconds} s."
        ).format(seconds=self.retry_seconds)
        self.text_label.setText(text)
        self.detail_label.setText(
            _("Nothing is saved until the connection is back; save again then.")
        )
        self.setAccessibleDescription(text)
        self.show()


def report_connection_lost(widget: QWidget | None, error: Exception | None = None) -> bool:
    """Tells the connection banner of `widget`'s window (or of a window up its parent chain)
    that the server is gone. False when there is none (a dialog shown on its own)."""
    current = widget
    while current is not None:
        window = current.window()
        banner = getattr(window, "connection_banner", None)
        if isinstance(banner, ConnectionBanner):
            banner.connection_lost(error)
            return True
        current = window.parentWidget()
    return False
