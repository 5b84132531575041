"""Takes the daily backup of the embedded database in a worker thread while the app runs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from carestation.db.backups import BackupInfo

log = logging.getLogger("carestation.backups")

CHECK_MS = 60 * 60 * 1000  # hourly: a backup is taken once the last one is a day old


class DailyBackups(Protocol):
    @property
    def available(self) -> bool: ...
    def folder(self, chosen: str) -> Path: ...
    def daily_if_due(self, *, folder: Path) -> BackupInfo | None: ...


class _Signals(QObject):
    finished = Signal(object)  # BackupInfo | None | Exception


class _Job(QRunnable):
    def __init__(self, call: Callable[[], BackupInfo | None], signals: _Signals) -> None:
        super().__init__()
        self._call, self._signals = call, signals

    def run(self) -> None:
        try:
            result: object = self._call()
        except Exception as exc:  # logged on the GUI thread; the next check tries again
            result = exc
        self._signals.finished.emit(result)


class BackupScheduler(QObject):
    """At start-up and then every hour, backs up if the last daily or manual backup is older
    than a day. Never on the GUI thread; never two at once."""

    backup_finished = Signal(object)  # BackupInfo | None | Exception

    def __init__(
        self,
        service: DailyBackups,
        chosen_folder: Callable[[], str],
        parent: QObject | None = None,
        *,
        check_ms: int = CHECK_MS,
    ) -> None:
        super().__init__(parent)
        self._service, self._chosen_folder = service, chosen_folder
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _Signals(self)
        self._signals.finished.connect(self._finished)
        self._running = False
        self._timer = QTimer(self)
        self._timer.setInterval(check_ms)
        self._timer.timeout.connect(self.check)

    def start(self) -> None:
        if not self._service.available:
            return
        self._timer.start()
        QTimer.singleShot(0, self.check)

    def check(self) -> None:
        if self._running:
            return
        self._running = True
        folder = self._service.folder(self._chosen_folder())
        self._pool.start(_Job(lambda: self._service.daily_if_due(folder=folder), self._signals))

    def _finished(self, result: object) -> None:
        self._running = False
        if isinstance(result, Exception):
            log.warning("daily backup failed: %s", result)
        elif isinstance(result, BackupInfo):
            log.info("daily backup written: %s", result.path.name)
        self.backup_finished.emit(result)

    def shut_down(self) -> None:
        self._timer.stop()
        self._pool.waitForDone()
