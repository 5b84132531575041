"""The composition root: builds the database, services and settings, and hands them to the UI."""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QEventLoop,
    QLibraryInfo,
    QLocale,
    QLockFile,
    QObject,
    QThread,
    QTimer,
    QTranslator,
)
from PySide6.QtWidgets import QApplication, QDialog

from carestation.domain.errors import CareStationError
from carestation.i18n import _, current_language, set_language, system_language
from carestation.settings import Settings, data_dir, default_database_url
from carestation.ui import style
from carestation.ui.fonts import apply_app_font
from carestation.ui.prompts import Prompter, QtPrompter, RecordingPrompter
from carestation.ui.sign_in_dialog import DemoAccountHint, SignInDialog

# Only what the sign-in window needs is imported before it shows: the database layer, the
# services, the key store and the main window are imported in a worker thread while it is up
# (see _open_in_background), so start-up costs little more than Qt itself.
if TYPE_CHECKING:
    from PySide6.QtCore import QMessageLogContext, QtMsgType
    from sqlalchemy.engine import URL, Engine

    from carestation.db import connection
    from carestation.domain.roles import Role
    from carestation.domain.values import Actor
    from carestation.services.container import Services
    from carestation.ui.main_window import MainWindow

DEMO_SIZE = {"stations": 10, "clients": 2000, "months": 12, "seed": 1}
# app.exec()'s return value when the sign-in window's connection dialog chose another database:
# run_gui then opens it and starts again.
RECONNECT = 0x5EC0


def start_url(
    cli_url: str | None,
    settings: Settings,
    store: connection.PasswordStore | None,
    password: str | None = None,
) -> URL:
    """The database to open: --db, else the saved setting, else the embedded file; with the
    password typed for this run or kept in the keyring when the URL has none."""
    from carestation.db import connection

    url = connection.parse(cli_url or settings.get("database_url") or default_database_url())
    return connection.with_password(url, store, password)


def _make_app() -> QApplication:
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    app = QApplication(sys.argv[:1])
    app.setApplicationName("CareStation")
    app.setOrganizationName("CareStation")
    return app


def _install_qt_translations(app: QApplication) -> QTranslator | None:
    """Qt's own strings (stock buttons and dialogs) in Chinese; returns the translator installed."""
    if current_language() != "zh_CN":
        return None
    translator = QTranslator(app)
    path = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    QLocale.setDefault(QLocale(QLocale.Language.Chinese, QLocale.Country.China))
    if translator.load(
        QLocale(QLocale.Language.Chinese, QLocale.Country.China), "qtbase", "_", path
    ):
        app.installTranslator(translator)
        return translator
    return None


def _fresh_demo_database(prompter: Prompter) -> tuple[str, list[DemoAccountHint]]:
    """Writes a new demo database in the data folder (replacing the last one)."""
    from carestation.db.demo import generate_demo
    from carestation.db.migrate import open_database
    from carestation.domain.roles import Role

    folder = data_dir() / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "carestation-demo.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path.as_posix()}"
    from PySide6.QtWidgets import QProgressDialog

    progress = QProgressDialog(_("Preparing the demo database..."), "", 0, 100)
    progress.setCancelButton(None)
    progress.setWindowTitle("CareStation")
    progress.setMinimumDuration(300)

    def on_progress(stage: str, fraction: float) -> None:
        progress.setValue(int(fraction * 100))
        QApplication.processEvents()

    engine, _result = open_database(url)
    try:
        summary = generate_demo(engine, progress=on_progress, **DEMO_SIZE)
    finally:
        engine.dispose()
        progress.close()
    hints = [DemoAccountHint(a.username, a.password, Role(a.role).title) for a in summary.accounts]
    return url, hints


class AppController(QObject):
    """Set-up on first start, then sign-in -> main window -> sign-out, until the user quits."""

    def __init__(
        self,
        app: QApplication,
        services: Services,
        settings: Settings,
        prompter: Prompter,
        demo_accounts: list[DemoAccountHint],
        *,
        store: connection.PasswordStore | None = None,
        url: URL | None = None,
        sign_in: SignInDialog | None = None,
    ) -> None:
        """`sign_in`: the window already shown while the database opened; it becomes ready
        once the keys are open (see show_sign_in)."""
        from carestation.db import connection
        from carestation.ui.backup_scheduler import BackupScheduler

        super().__init__()
        self.app = app
        self.services = services
        self.settings = settings
        self.prompter = prompter
        self.demo_accounts = demo_accounts
        self.store = store
        self.url = connection.without_password(url) if url is not None else None
        self.window: MainWindow | None = None
        self.sign_in: SignInDialog | None = sign_in
        # Set when the connection dialog chose a database: (URL without password, password).
        self.next_connection: tuple[URL, str] | None = None
        self.backup_scheduler = BackupScheduler(
            services.backups, lambda: self.settings.get("backup_folder"), self
        )

    def _station(self) -> tuple[int | None, str]:
        station_id = self.settings.get("station_id") or None
        stations = {s.id: s.name for s in self._all_stations()}
        if station_id not in stations:
            station_id = min(stations) if len(stations) == 1 else None
        return station_id, stations.get(station_id, "") if station_id else ""

    def _all_stations(self) -> list:  # type: ignore[type-arg]
        from sqlalchemy import select

        from carestation.db.models import Station
        from carestation.services.conversions import station_value

        with self.services.db.read() as session:
            return [
                station_value(s)
                for s in session.scalars(select(Station).where(Station.active.is_(True)))
            ]

    def start(self) -> bool:
        if self.services.setup.needs_setup():
            from carestation.ui.setup_dialog import SetupDialog

            if self.sign_in is not None:  # nobody can sign in before the first account exists
                self.sign_in.hide()
            dialog = SetupDialog(self.services.setup, self.prompter)
            if dialog.exec() != QDialog.DialogCode.Accepted or dialog.result_value is None:
                return False
            station, actor = dialog.result_value
            self.settings.set("station_id", station.id)
            self.settings.save()
            self._show_recovery_code(actor)
        elif not self.unlock_keys():
            return False
        self.show_sign_in()
        # After the sign-in window is up, so the check across every station never delays it.
        QTimer.singleShot(0, self.purge_expired)
        self.backup_scheduler.start()
        return True

    def purge_expired(self) -> None:
        """Confidential texts past their station's retention period are deleted at start-up (and
        by `carestation purge`). The log gets counts only; the audit trail one entry."""
        import logging

        try:
            retention = self.services.retention
            if retention.preview().purged:
                retention.purge_expired()
        except CareStationError as exc:
            logging.getLogger("carestation.retention").warning("purge at start-up failed: %s", exc)

    def unlock_keys(self) -> bool:
        """Before anyone signs in: the key that protects confidential records must be open.
        From this PC's key store when it is there; otherwise the passphrase or the recovery
        code; on a database from an older version, set up now."""
        from carestation.services.keys import KeyState
        from carestation.ui.key_dialogs import KeySetupDialog, UnlockDialog

        vault = self.services.vault
        state = vault.state()
        if state is KeyState.UNLOCKED or (state is KeyState.LOCKED and vault.try_unlock()):
            return True
        if state is KeyState.NOT_SET_UP:
            setup = KeySetupDialog(vault, self.prompter)
            if setup.exec() != QDialog.DialogCode.Accepted:
                return False
            self._show_recovery_code(None)
            return True
        unlock = UnlockDialog(vault, self.prompter)
        if unlock.exec() != QDialog.DialogCode.Accepted:
            return False
        self.services.audit.record_now(actor=None, action="unlock_keys", username="")
        return True

    def _show_recovery_code(self, actor: Actor | None) -> None:
        from carestation.ui.key_dialogs import RecoveryCodeDialog

        vault = self.services.vault
        RecoveryCodeDialog(vault.recovery_code()).exec()
        with self.services.db.write() as session:
            vault.note_code_shown(session)
            self.services.audit.record(session, actor=actor, action="show_recovery_code")

    def show_sign_in(self) -> None:
        # After a restore of another PC's database the key is locked: its recovery code first.
        if not self.services.vault.is_unlocked and not self.unlock_keys():
            self.app.quit()
            return
        from carestation.db import connection

        station_id, station_name = self._station()
        database = connection.safe_text(self.url) if self.url is not None else ""
        if self.sign_in is None:
            self.sign_in = SignInDialog(self.services.auth, station_id=station_id)
        sign_in = self.sign_in
        sign_in.accepted.connect(self._signed_in)
        sign_in.rejected.connect(self.app.quit)
        sign_in.connection_requested.connect(self.open_connection_dialog)
        sign_in.show()
        # Last: a Sign in pressed while the database opened goes ahead here.
        sign_in.set_ready(
            self.services.auth,
            station_id=station_id,
            station_name=station_name,
            demo_accounts=self.demo_accounts,
            database=database,
        )

    def open_connection_dialog(self) -> bool:
        """From the sign-in window. After Save, the app leaves its event loop with RECONNECT
        and run_gui opens the chosen database (no one is signed in, so nothing is lost)."""
        from carestation.ui.connection_dialog import ConnectionDialog

        dialog = ConnectionDialog(
            self.settings, self.store, self.prompter, current=self.url, parent=self.sign_in
        )
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.chosen_url is None:
            return False
        self.next_connection = (dialog.chosen_url, dialog.password)
        if self.sign_in is not None:
            self.sign_in.rejected.disconnect(self.app.quit)
            quit_on_close = self.app.quitOnLastWindowClosed()
            self.app.setQuitOnLastWindowClosed(False)
            self.sign_in.close()
            self.app.setQuitOnLastWindowClosed(quit_on_close)
            self.sign_in.deleteLater()
            self.sign_in = None
        self.app.exit(RECONNECT)
        return True

    def choose_station(self, actor: Actor) -> Actor:
        """Once per PC: on a server with several stations and no station chosen for this PC,
        someone who works at several stations is asked which one this PC is at."""
        from carestation.ui.connection_dialog import StationChoiceDialog

        stations = self._all_stations()
        if self.settings.get("station_id") in {s.id for s in stations}:
            return actor
        theirs = [s for s in stations if s.id in actor.station_ids]
        if len(stations) < 2 or len(theirs) < 2:
            return actor
        dialog = StationChoiceDialog(theirs, self.sign_in)
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.chosen is None:
            return actor
        self.settings.set("station_id", dialog.chosen)
        self.settings.save()
        return dataclasses.replace(actor, station_id=dialog.chosen)

    def _signed_in(self) -> None:
        from carestation.ui.main_window import MainWindow

        assert self.sign_in is not None
        assert self.sign_in.actor is not None
        actor = self.choose_station(self.sign_in.actor)
        _station_id, station_name = self._station()
        names = {s.id: s.name for s in self._all_stations()}
        self.window = MainWindow(
            self.services,
            actor,
            self.settings,
            self.prompter,
            station_name=names.get(actor.station_id, station_name) if actor.station_id else "",
        )
        self.window.signed_out.connect(self.show_sign_in)
        self.window.show()
        self.sign_in.deleteLater()
        self.sign_in = None


def _backup_folder(url: URL, settings: Settings) -> Path | None:
    """Where the embedded database's backups go; None for a database server."""
    from carestation.db.backups import folder_for
    from carestation.db.engine import sqlite_path

    path = sqlite_path(url)
    return folder_for(path, settings.get("backup_folder")) if path is not None else None


@dataclasses.dataclass
class _Opened:
    """What the worker thread opened: the store and URL always (when they could be made), the
    services, or the error that stopped it."""

    store: connection.PasswordStore | None = None
    url: URL | None = None
    engine: Engine | None = None
    services: Services | None = None
    backup: Path | None = None
    error: CareStationError | None = None


class _OpenThread(QThread):
    """Opens (and if need be migrates) the database and builds the services off the GUI
    thread, importing the heavy modules on the way, while the sign-in window takes input."""

    def __init__(
        self,
        settings: Settings,
        chosen: str | None,
        password: str,
        store: connection.PasswordStore | None,
    ) -> None:
        super().__init__()
        self.settings, self.chosen, self.password = settings, chosen, password
        self.opened = _Opened(store=store)
        self.crash: BaseException | None = None

    def run(self) -> None:
        try:
            self._open()
        except CareStationError as exc:
            self.opened.error = exc
        except BaseException as exc:  # re-raised in the GUI thread, where it is reported
            self.crash = exc

    def _open(self) -> None:
        from carestation import logs

        logs.configure(logs.log_file_path())  # here: logging's handlers cost the window time
        from carestation.db import connection
        from carestation.db.engine import Database
        from carestation.db.migrate import open_database
        from carestation.security import secret_store
        from carestation.services.container import build_services
        from carestation.services.keys import KeyVault

        opened = self.opened
        if opened.store is None:
            opened.store = secret_store.open_os_store()
        opened.url = url = start_url(self.chosen, self.settings, opened.store, self.password)
        if connection.safe_text(url) == connection.safe_text(default_database_url()):
            data_dir().mkdir(parents=True, exist_ok=True)
        engine, result = open_database(
            url.render_as_string(hide_password=False),
            backup_folder=_backup_folder(url, self.settings),
        )
        opened.engine, opened.backup = engine, result.backup
        db = Database(engine)
        opened.services = build_services(db, vault=KeyVault(db, opened.store))
        # Imported now rather than on the first sign-in, which then opens the main window at once.
        import carestation.ui.connection_dialog
        import carestation.ui.key_dialogs
        import carestation.ui.main_window  # noqa: F401


def _open_in_background(
    app: QApplication, sign_in: SignInDialog, thread: _OpenThread, settings: Settings
) -> _Opened | None:
    """Runs the thread while the sign-in window is up; None when the user quit meanwhile."""
    loop = QEventLoop()
    quit_pressed: list[bool] = []

    def on_quit() -> None:
        quit_pressed.append(True)
        loop.quit()

    thread.finished.connect(loop.quit)
    sign_in.rejected.connect(on_quit)
    # The thread starts once the window is on screen: its imports would otherwise hold the
    # GIL while the window is being drawn.
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline and not (
        sign_in.windowHandle() is not None and sign_in.windowHandle().isExposed()
    ):
        app.processEvents()
        time.sleep(0.001)
    app.processEvents()
    # The system's own high-contrast setting is asked only now (asking loads Qt's enums, 20 ms);
    # when it is on, the window changes at once, before anyone has read it.
    style.start_look(app, lambda: bool(settings.get("high_contrast")))
    thread.start()
    if not thread.isFinished():
        loop.exec()
    thread.wait()
    sign_in.rejected.disconnect(on_quit)
    if thread.crash is not None:
        raise thread.crash
    if quit_pressed:
        if thread.opened.engine is not None:
            thread.opened.engine.dispose()
        return None
    return thread.opened


def single_instance_lock() -> QLockFile | None:
    """One copy of the app per user on a PC: a second would fight the first over the demo file
    (which --demo replaces) and the log file (which Windows cannot rename while it is open).
    Returns the held lock, or None when another copy holds it. A lock left by a copy that
    crashed is taken over (Qt checks that its process is gone)."""
    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    lock = QLockFile(str(folder / "carestation.lock"))
    lock.setStaleLockTime(0)  # stale only when its process is gone, however long it has run
    return lock if lock.tryLock(200) else None


def run_gui(*, db_url: str | None, lang: str | None, demo: bool) -> int:
    """The sign-in window appears first and takes input at once; the database opens behind it
    (pressing Sign in early signs in as soon as it is open)."""
    settings = Settings()
    set_language(lang or settings.get("language") or system_language())
    app = _make_app()
    _install_qt_translations(app)
    apply_app_font(app)
    if settings.get("high_contrast"):  # chosen on this PC: the sign-in window has it too
        style.apply_look(app, high_contrast=True)
    prompter = QtPrompter()
    lock = single_instance_lock()
    if lock is None:
        prompter.error(
            None,
            _("CareStation is already open"),
            _(
                "CareStation is already running for this user on this PC. Switch to its window "
                "(it may be minimised or behind other windows), or quit it before starting "
                "another."
            ),
        )
        return 1
    try:
        return _run_gui(app, settings, prompter, db_url=db_url, demo=demo)
    finally:
        lock.unlock()


def _run_gui(
    app: QApplication, settings: Settings, prompter: Prompter, *, db_url: str | None, demo: bool
) -> int:
    # Until the controller runs, windows come and go (sign-in, error, connection dialog).
    app.setQuitOnLastWindowClosed(False)
    store: connection.PasswordStore | None = None
    demo_accounts: list[DemoAccountHint] = []
    chosen, password = db_url, ""
    if demo:
        chosen, demo_accounts = _fresh_demo_database(prompter)
        settings.set("station_id", 1)
    while True:
        sign_in = SignInDialog(None, station_id=None)
        sign_in.show()
        opened = _open_in_background(
            app, sign_in, _OpenThread(settings, chosen, password, store), settings
        )
        if opened is None:
            sign_in.deleteLater()
            return 0
        store, url = opened.store, opened.url
        if opened.error is not None or opened.services is None:
            from carestation.db import connection
            from carestation.ui.connection_dialog import ConnectionDialog

            sign_in.hide()
            sign_in.deleteLater()
            reason = connection.scrub(
                str(opened.error), password, url.password if url is not None else None
            )
            if not prompter.confirm(
                None,
                _("CareStation cannot open the database"),
                _("{reason}\n\nOpen the database connection settings?").format(reason=reason),
            ):
                return 1
            dialog = ConnectionDialog(settings, store, prompter, current=url)
            if dialog.exec() != QDialog.DialogCode.Accepted or dialog.chosen_url is None:
                return 1
            chosen = dialog.chosen_url.render_as_string(hide_password=False)
            password = dialog.password
            continue
        if opened.backup is not None:
            print(f"carestation: backup before migration: {opened.backup}", file=sys.stderr)
        engine = opened.engine
        assert engine is not None
        controller = AppController(
            app,
            opened.services,
            settings,
            prompter,
            demo_accounts,
            store=store,
            url=url,
            sign_in=sign_in,
        )
        if not controller.start():
            sign_in.deleteLater()
            engine.dispose()
            return 0
        app.setQuitOnLastWindowClosed(True)
        code = app.exec()
        app.setQuitOnLastWindowClosed(False)
        controller.backup_scheduler.shut_down()
        engine.dispose()
        if code != RECONNECT or controller.next_connection is None:
            return code
        next_url, password = controller.next_connection
        chosen = next_url.render_as_string(hide_password=False)
        demo_accounts = []


def selfcheck(db_url: str | None) -> int:
    """Builds the main window offscreen for every role and renders every screen once, after
    checking every resource a build could miss: the gettext and Qt catalogues, fonts (a PDF is
    written and opened with QtPdf), instrument definitions, report and consent texts, the
    migrations (a fresh database is migrated from empty), the database drivers and the keyring
    back-ends. An exception escaping into Qt during the check fails it too."""
    from PySide6.QtCore import qInstallMessageHandler

    from carestation.db.engine import Database
    from carestation.security import secret_store
    from carestation.services.container import build_services
    from carestation.services.keys import KeyVault

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    started = time.perf_counter()
    previous_handler = qInstallMessageHandler(_quiet_offscreen_noise)
    app = _make_app()
    apply_app_font(app)
    failures: list[str] = []
    previous_hook = sys.excepthook

    def record(kind: type[BaseException], exc: BaseException, tb: object) -> None:
        failures.append(f"unhandled {kind.__name__}: {exc}")
        previous_hook(kind, exc, tb)  # type: ignore[arg-type]

    sys.excepthook = record
    # ignore_cleanup_errors: on Windows a file still open (a SQLite handle, a log) cannot be
    # deleted; the check's verdict must not depend on that.
    tmp = tempfile.TemporaryDirectory(prefix="carestation-selfcheck-", ignore_cleanup_errors=True)
    try:
        failures += _selfcheck_resources(Path(tmp.name))
        engine: Engine | None
        try:
            engine = _selfcheck_database(db_url, Path(tmp.name), failures)
        except CareStationError:
            raise  # the database given cannot be used: the command's one-line error
        except Exception as exc:  # a missing migrations folder, a missing driver ...
            failures.append(f"database: {type(exc).__name__}: {exc}")
            engine = None
        if engine is not None:
            try:
                db = Database(engine)
                vault = KeyVault(db, secret_store.open_os_store())
                if not vault.try_unlock():
                    print(
                        "selfcheck: FAILED the protection key of this database is not in this "
                        "PC's key store; start the app once to unlock it",
                        file=sys.stderr,
                    )
                    return 1
                failures += _selfcheck_windows(app, build_services(db, vault=vault), Path(tmp.name))
            finally:
                engine.dispose()
    finally:
        sys.excepthook = previous_hook
        qInstallMessageHandler(previous_handler)
        tmp.cleanup()
    for failure in failures:
        print(f"selfcheck: FAILED {failure}", file=sys.stderr)
    print(
        f"selfcheck: {'ok' if not failures else 'failed'} in {time.perf_counter() - started:.1f} s"
    )
    return 0 if not failures else 1


def _selfcheck_database(db_url: str | None, folder: Path, failures: list[str]) -> Engine:
    """The database to render: `db_url`, or a fresh SQLite file in `folder` that the bundled
    migrations bring from empty to head, then filled with a small demo data set."""
    from carestation.db import connection
    from carestation.db.migrate import open_database
    from carestation.security import secret_store

    if db_url is not None:
        # Like the app: a server password that is not in the URL comes from the keyring.
        url = connection.with_password(connection.parse(db_url), secret_store.open_os_store())
        engine, _r = open_database(url.render_as_string(hide_password=False))
        return engine
    from carestation.db.demo import generate_demo
    from carestation.db.migrate import head_revision, inspect_connection

    engine, result = open_database(f"sqlite:///{Path(folder, 'selfcheck.db').as_posix()}")
    with engine.connect() as conn:
        _state, revision = inspect_connection(conn)
    if result.state_before.value != "empty" or revision != head_revision():
        failures.append(f"migrations: fresh database at {revision}, not {head_revision()}")
    else:
        print(f"selfcheck: migrations: empty database migrated to {revision}")
    generate_demo(engine, stations=3, clients=150, months=3, seed=7)
    return engine


def _selfcheck_windows(app: QApplication, services: Services, folder: Path) -> list[str]:
    from carestation.domain.roles import Role
    from carestation.ui.main_window import MainWindow

    failures: list[str] = []
    for role in Role:
        actor = _selfcheck_actor(services, role)
        if actor is None:
            print(f"selfcheck: no active user with role {role.value}; skipped")
            continue
        prompter = RecordingPrompter()
        window = MainWindow(
            services,
            actor,
            Settings(folder / "settings.json"),
            prompter,
        )
        window.show()
        for index, view in enumerate(window.views):
            window.nav.setCurrentRow(index)
            app.processEvents()
            if window.grab().isNull():
                failures.append(f"{role.value}: {view.title()} did not render")
        if window.backups_action is not None:
            dialog = window.open_backups()
            app.processEvents()
            if dialog.grab().isNull():
                failures.append(f"{role.value}: the Backups dialog did not render")
            dialog.close()
        for kind, title, text in prompter.shown:
            if kind == "error":
                failures.append(f"{role.value}: {title}: {text}")
        window.lock()
        app.processEvents()
        window.close()
        print(f"selfcheck: {role.value}: {len(window.views)} screens rendered")
    return failures


# A string every catalogue translates, and its Chinese: proves the .mo file is in the build.
_SELFCHECK_MSGID = ("Sign in", "登录")


def _selfcheck_resources(folder: Path) -> list[str]:
    """Each check returns a line to print, or raises: a missing resource fails here, by name,
    rather than somewhere in a station's day."""
    checks = {
        "translations": _check_translations,
        "Qt translations": _check_qt_translations,
        "instruments": _check_instruments,
        "texts": _check_texts,
        "fonts and PDF": lambda: _check_pdf(folder),
        "Qt image formats": _check_image_formats,
        "holidays": _check_holidays,
        "database drivers": _check_drivers,
        "keyring": _check_keyring,
    }
    failures: list[str] = []
    for name, check in checks.items():
        try:
            print(f"selfcheck: {name}: {check()}")
        except Exception as exc:  # every problem is reported, not only the first
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
    return failures


def _check_translations() -> str:
    import gettext

    from carestation.i18n import DOMAIN
    from carestation.resources import resource_path

    folder = resource_path("translations")
    catalogue = gettext.translation(DOMAIN, localedir=str(folder), languages=["zh_CN"])
    msgid, expected = _SELFCHECK_MSGID
    if catalogue.gettext(msgid) != expected:
        raise RuntimeError(f"zh_CN translates {msgid!r} as {catalogue.gettext(msgid)!r}")
    return f"zh_CN catalogue in {folder}"


def _check_qt_translations() -> str:
    path = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    translator = QTranslator()
    china = QLocale(QLocale.Language.Chinese, QLocale.Country.China)
    if not translator.load(china, "qtbase", "_", path):
        raise FileNotFoundError(f"qtbase_zh_CN.qm not in {path}")
    return f"qtbase_zh_CN in {path}"


def _check_instruments() -> str:
    from carestation.assessments import instrument_codes, load_instrument

    loaded = [load_instrument(code) for code in instrument_codes()]
    return f"{len(loaded)} definitions"


def _check_texts() -> str:
    from carestation.reports.report_texts import check_report_texts
    from carestation.services.consent import load_consent_wording

    texts = check_report_texts()
    for lang in ("zh_CN", "en"):
        load_consent_wording(lang)
    return f"report texts {', '.join(sorted(texts))}; consent forms zh_CN, en"


def _check_pdf(folder: Path) -> str:
    """A one-page personal report in Chinese, with the bundled font embedded, opened by QtPdf
    (the print preview's reader) and drawn."""
    import io
    from datetime import date

    from carestation.domain.report_values import (
        InstrumentSection,
        PersonalReportData,
        ReportPoint,
    )
    from carestation.reports.fonts import FONT
    from carestation.reports.personal import write_personal_report
    from carestation.ui.fonts import register_fonts
    from carestation.ui.report_printing import PdfInMemory

    if not register_fonts():
        raise RuntimeError("the bundled font did not load into Qt")
    day = date(2026, 3, 14)
    data = PersonalReportData(
        report_number="R-000000",
        lang="zh_CN",
        station_name="自检服务站",
        station_address="",
        station_phone="",
        client_code="SELF-CHECK",
        client_name=None,
        counsellor_name="自检",
        issued_on=day,
        sections=(
            InstrumentSection(
                instrument="phq9",
                latest_total=6,
                latest_value=6,
                latest_band="mild",
                latest_on=day,
                points=(ReportPoint(day, 6),),
                change=None,
                follow_up_advised=False,
            ),
        ),
    )
    out = io.BytesIO()
    pages = write_personal_report(out, data=data)
    pdf = out.getvalue()
    if not pdf.startswith(b"%PDF") or FONT.encode() not in pdf:
        raise RuntimeError(f"the PDF does not embed {FONT}")
    document = PdfInMemory(pdf)
    from PySide6.QtCore import QSize

    image = document.document.render(0, QSize(120, 170))
    if image.isNull():
        raise RuntimeError("QtPdf could not draw the PDF")
    return f"personal report, {pages} page(s), {len(pdf):,} bytes, {FONT} embedded, drawn by QtPdf"


def _check_image_formats() -> str:
    from PySide6.QtGui import QImageReader

    found = {bytes(f.data()).decode() for f in QImageReader.supportedImageFormats()}
    missing = {"png", "jpg", "svg", "ico"} - found
    if missing:
        raise RuntimeError(f"no plugin for {', '.join(sorted(missing))}")
    return ", ".join(sorted(found))


def _check_holidays() -> str:
    from carestation.domain.scheduling import china_calendar

    names = [china_calendar(2026, lang) for lang in ("zh_CN", "en")]
    return f"{len(names[0])} days of 2026 named in zh_CN and en"


def _check_drivers() -> str:
    from sqlalchemy.dialects import registry

    registry.load("sqlite.pysqlite")
    registry.load("postgresql.psycopg")
    from psycopg import pq

    from carestation.resources import is_frozen

    if is_frozen() and pq.__impl__ == "python":
        # The station PCs have no libpq of their own: the bundle must bring psycopg_binary's.
        raise RuntimeError("psycopg has no bundled libpq (psycopg_binary is missing)")
    return f"SQLite, PostgreSQL (psycopg {pq.__impl__}, libpq {pq.version()})"


def _check_keyring() -> str:
    """This platform's OS key store back-end is in the build (whether this PC offers one is
    another matter: the app then asks for the passphrase)."""
    import importlib
    from importlib.metadata import entry_points

    import keyring

    from carestation.security import secret_store

    if not entry_points(group="keyring.backends"):
        raise RuntimeError("keyring's entry points are missing (copy_metadata('keyring'))")
    if sys.platform == "win32":
        modules = ("keyring.backends.Windows", "win32ctypes.core")
    elif sys.platform == "darwin":
        modules = ("keyring.backends.macOS", "keyring.backends.macOS.api")
    else:
        modules = ("keyring.backends.SecretService", "secretstorage")
    for module in modules:
        importlib.import_module(module)
    backend = keyring.get_keyring()
    trusted = "trusted" if secret_store.backend_is_trusted(backend) else "not trusted"
    return f"{', '.join(modules)} present; this PC: {type(backend).__module__} ({trusted})"


def _quiet_offscreen_noise(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
    # The offscreen platform cannot resize native windows and says so for every window.
    if "propagateSizeHints" not in message:
        print(f"qt: {message}", file=sys.stderr)


def _selfcheck_actor(services: Services, role: Role):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from carestation.db import models as m
    from carestation.domain.values import Actor

    with services.db.read() as session:
        user = session.scalars(
            select(m.UserAccount)
            .where(m.UserAccount.active.is_(True), m.UserAccount.roles.any(m.UserRole.role == role))
            .order_by(m.UserAccount.id)
            .limit(1)
        ).first()
        if user is None:
            return None
        stations = frozenset(s.station_id for s in user.stations)
        # Marked so the audit trail shows these views were the self-check, not the person.
        return Actor(
            user_id=user.id,
            username=f"selfcheck/{user.username}"[:32],
            display_name=user.display_name,
            roles=frozenset({role}),
            station_ids=stations,
            station_id=min(stations) if stations else None,
        )
