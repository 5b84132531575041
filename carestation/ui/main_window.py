"""The main window: assembles the screens a role may use, and handles lock and sign-out."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from carestation.domain.roles import Permission
from carestation.domain.values import Actor
from carestation.i18n import _
from carestation.services.container import Services
from carestation.settings import Settings
from carestation.ui import style
from carestation.ui.account_dialogs import ChangePasswordDialog, PreferencesDialog, about_text
from carestation.ui.connection_status import CHECK_MS, ConnectionBanner
from carestation.ui.idle import IdleWatcher
from carestation.ui.keyboard import tip_with_shortcut
from carestation.ui.kiosk_launcher import KioskLauncher
from carestation.ui.lock_screen import LockScreen
from carestation.ui.prompts import Prompter
from carestation.ui.risk_alert_bar import RiskAlertBar
from carestation.ui.views.base import View


def build_views(services: Services, actor: Actor, prompter: Prompter) -> list[View]:
    """The screens this actor's role may use, in navigation order. Modules load only when the
    role needs them, so signing in stays quick."""
    views: list[View] = []
    if actor.can(Permission.VIEW_STATION_APPOINTMENTS):
        from carestation.ui.views.calendar_view import StationCalendarView
        from carestation.ui.views.day_list import StationDayView
        from carestation.ui.views.lectures_view import LecturesView
        from carestation.ui.views.reminders_view import RemindersView
        from carestation.ui.views.waitlist_view import WaitlistView

        views.append(StationCalendarView(services, actor, prompter))
        views.append(StationDayView(services.appointments, services.admin, actor, prompter))
        views.append(WaitlistView(services, actor, prompter))
        views.append(LecturesView(services, actor, prompter))
        views.append(RemindersView(services, actor, prompter))
    if actor.can(Permission.VIEW_OWN_APPOINTMENTS):
        from carestation.ui.views.calendar_view import CounsellorCalendarView
        from carestation.ui.views.day_list import MyDayView

        views.append(CounsellorCalendarView(services, actor, prompter))
        views.append(MyDayView(services.appointments, actor, prompter))
    if actor.can(Permission.KEEP_CASE_RECORDS):
        from carestation.ui.views.cases_view import CosignQueueView, MyCasesView
        from carestation.ui.views.followups_view import FollowUpsView

        views.append(MyCasesView(services, actor, prompter))
        views.append(CosignQueueView(services, actor, prompter))
        views.append(FollowUpsView(services.crisis, actor, prompter))
    if actor.can(Permission.ACT_ON_RISK_ALERTS):
        from carestation.ui.views.risk_alerts_view import RiskAlertsView

        views.append(RiskAlertsView(services.risk_alerts, actor, prompter))
    if actor.can(Permission.REGISTER_CLIENTS):
        from carestation.ui.views.clients_view import ClientsView

        views.append(ClientsView(services, actor, prompter))
    if actor.can(Permission.VIEW_SUMMARY):
        from carestation.ui.views.summary_report_view import SummaryReportView

        views.append(
            SummaryReportView(services.summary_report, actor, prompter, stations=services.admin)
        )
    if actor.can(Permission.RUN_CAMPAIGNS) or actor.can(Permission.VIEW_SUMMARY):
        from carestation.ui.views.campaigns_view import CampaignsView

        views.append(CampaignsView(services.campaigns, actor, prompter, stations=services.admin))
    if actor.can(Permission.MANAGE_STATIONS):
        from carestation.ui.views.admin_stations import StationsView

        views.append(
            StationsView(services.admin, actor, prompter, records=services.station_records)
        )
    if actor.can(Permission.MANAGE_SCHEDULE):
        from carestation.ui.views.schedule_settings_view import ScheduleSettingsView

        views.append(ScheduleSettingsView(services, actor, prompter))
    if actor.can(Permission.MANAGE_USERS):
        from carestation.ui.views.admin_users import UsersView

        views.append(UsersView(services.admin, actor, prompter))
    if actor.can(Permission.VIEW_AUDIT):
        from carestation.ui.views.audit_view import AuditView

        views.append(AuditView(services.audit_queries, services.keys, actor, prompter))
    if actor.can(Permission.HANDLE_DATA_REQUESTS):
        from carestation.ui.views.data_requests_view import DataRequestsView

        views.append(DataRequestsView(services, actor, prompter))
    if actor.can(Permission.MANAGE_KEYS):
        from carestation.ui.views.key_view import KeyView

        views.append(KeyView(services.keys, actor, prompter))
    return views


class MainWindow(QMainWindow):
    signed_out = Signal()

    def __init__(
        self,
        services: Services,
        actor: Actor,
        settings: Settings,
        prompter: Prompter,
        *,
        station_name: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._services, self._actor, self._settings, self._prompter = (
            services,
            actor,
            settings,
            prompter,
        )
        self._signing_out = False
        self._unsaved_draft = False
        self.setObjectName("main_window")
        # No personal data in the title: it shows in task bars and screen-sharing lists.
        self.setWindowTitle(" · ".join(filter(None, ["CareStation", station_name])))
        self.resize(QSize(1200, 760))

        self.views = build_views(services, actor, prompter)
        for view in self.views:
            opened = getattr(view, "appointment_opened", None)
            if opened is not None:
                opened.connect(self.open_appointment)
            requested = getattr(view, "booking_requested", None)
            if requested is not None:
                requested.connect(
                    lambda start, resource, v=view: self.book_from_calendar(v, start, resource)
                )
        self._loaded: set[int] = set()
        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setAccessibleName(_("Screens"))
        self.nav.setMinimumWidth(150)
        self.nav.setMaximumWidth(260)
        self.nav.setStyleSheet("QListWidget::item { padding: 6px 8px; }")
        self.stack = QStackedWidget()
        for view in self.views:
            QListWidgetItem(view.title(), self.nav)
            self.stack.addWidget(view)
        self.nav.currentRowChanged.connect(self.show_view)

        self.splitter = QSplitter()
        self.splitter.addWidget(self.nav)
        self.splitter.addWidget(self.stack)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([200, 1000])
        self.workspace = QWidget(objectName="workspace")
        workspace_layout = QVBoxLayout(self.workspace)
        workspace_layout.setContentsMargins(0, 0, 0, 0)
        workspace_layout.setSpacing(0)
        # Says "no connection" in words while the server cannot be reached, and retries.
        self.connection_banner = ConnectionBanner(
            services.db.ping, self, check_ms=None if services.db.is_sqlite else CHECK_MS
        )
        self.connection_banner.restored.connect(self._connection_restored)
        workspace_layout.addWidget(self.connection_banner)
        self.alert_bar = self._alert_bar()
        if self.alert_bar is not None:
            workspace_layout.addWidget(self.alert_bar)
        workspace_layout.addWidget(self.splitter, 1)
        self.kiosk_launcher = KioskLauncher(services, actor, prompter, self)
        self.kiosk_launcher.session_saved.connect(lambda _saved: self._alerts_changed())
        self.lock_screen = LockScreen(services.auth, actor)
        self.lock_screen.unlocked.connect(self.unlock)
        self.lock_screen.sign_out_requested.connect(self.sign_out)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.workspace)
        self.pages.addWidget(self.lock_screen)
        self.setCentralWidget(self.pages)

        self._build_menus()
        roles = ", ".join(r.title for r in sorted(actor.roles))
        self.statusBar().showMessage(
            _("Signed in as {name} ({roles})").format(name=actor.display_name, roles=roles)
            + (f"  ·  {station_name}" if station_name else "")
        )
        self.idle = IdleWatcher(settings.get("idle_lock_minutes"), self)
        self.idle.went_idle.connect(self.lock)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.idle)
        self.idle.start()
        self.connection_banner.start()
        if self.views:
            self.nav.setCurrentRow(0)

    def _build_menus(self) -> None:
        self._menus: list[QMenu] = []
        menu = self.menuBar().addMenu(_("&CareStation"))
        self.lock_action = QAction(_("&Lock screen"), self)
        self.lock_action.setShortcut(QKeySequence("Ctrl+L"))
        self.lock_action.triggered.connect(self.lock)
        password = QAction(_("Change &password..."), self)
        password.triggered.connect(self._change_password)
        prefs = QAction(_("P&references..."), self)
        prefs.triggered.connect(self._preferences)
        self.sign_out_action = QAction(_("&Sign out"), self)
        self.sign_out_action.setShortcut(QKeySequence("Ctrl+Shift+L"))
        self.sign_out_action.triggered.connect(self.sign_out)
        quit_action = QAction(_("&Quit"), self)
        # Not StandardKey.Quit: Windows has none (Alt+F4 closes the window there as well).
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        quit_action.triggered.connect(self.close)
        self.backups_action: QAction | None = None
        if self._actor.can(Permission.MANAGE_BACKUPS):
            self.backups_action = QAction(_("&Backups..."), self)
            self.backups_action.triggered.connect(self.open_backups)
        first = [self.lock_action, password, prefs]
        if self.backups_action is not None:
            first.append(self.backups_action)
        for action in (*first, None, self.sign_out_action, quit_action):
            if action is None:
                menu.addSeparator()
            else:
                menu.addAction(action)
        self.new_booking_action: QAction | None = None
        if self._actor.can(Permission.BOOK_AT_STATION) or self._actor.can(Permission.BOOK_OWN):
            self.new_booking_action = QAction(_("&New booking..."), self)
            self.new_booking_action.setShortcut(QKeySequence.StandardKey.New)
            self.new_booking_action.triggered.connect(lambda: self.new_booking())
            menu.insertAction(self.lock_action, self.new_booking_action)
            menu.insertSeparator(self.lock_action)
        go = self.menuBar().addMenu(_("&Go"))
        for i, view in enumerate(self.views):
            action = QAction(view.title(), self)
            if i < 9:
                action.setShortcut(QKeySequence(f"Ctrl+{i + 1}"))
            action.triggered.connect(lambda _checked=False, i=i: self.nav.setCurrentRow(i))
            go.addAction(action)
        refresh = QAction(_("&Refresh"), self)
        refresh.setShortcut(QKeySequence.StandardKey.Refresh)
        refresh.triggered.connect(self.refresh_current)
        # The screen's own search box and main print, for the screens that have one.
        self.find_action = QAction(_("&Find..."), self)
        self.find_action.setShortcut(QKeySequence.StandardKey.Find)
        self.find_action.triggered.connect(self.find_in_current)
        go.addSeparator()
        go.addAction(self.find_action)
        go.addAction(refresh)
        view_menu = self.menuBar().addMenu(_("&View"))
        self.contrast_action = QAction(_("&High contrast"), self, checkable=True)
        self.contrast_action.setChecked(style.is_high_contrast())
        if style.system_wants_high_contrast():
            # The system's setting wins; it is turned off there.
            self.contrast_action.setEnabled(False)
            self.contrast_action.setToolTip(_("The system's settings ask for high contrast."))
        self.contrast_action.toggled.connect(self.set_high_contrast)
        view_menu.addAction(self.contrast_action)
        self.print_action = QAction(_("&Print..."), self)
        self.print_action.setShortcut(QKeySequence.StandardKey.Print)
        self.print_action.triggered.connect(self.print_current)
        menu.insertAction(self.lock_action, self.print_action)
        menu.insertSeparator(self.lock_action)
        for view in self.views:
            button = view.print_button()
            if button is not None:
                tip = button.toolTip() or button.text().replace("&", "")
                tip_with_shortcut(button, tip, QKeySequence.StandardKey.Print)
            field = view.search_field()
            if field is not None:
                tip = field.toolTip() or field.accessibleName()
                tip_with_shortcut(field, tip, QKeySequence.StandardKey.Find)
        self.day_reports_action: QAction | None = None
        if self._actor.can(Permission.GIVE_ASSESSMENTS):
            self.day_reports_action = QAction(_("Personal &reports for a day..."), self)
            self.day_reports_action.triggered.connect(self._day_reports)
            menu.insertAction(self.lock_action, self.day_reports_action)
            menu.insertSeparator(self.lock_action)
        self.kiosk_actions: list[QAction] = []
        if self.kiosk_launcher.available:
            kiosk_menu = self.menuBar().addMenu(_("&Self-service"))
            welcome = QAction(_("Open the &self-service screen"), self)
            welcome.setShortcut(QKeySequence("Ctrl+K"))
            welcome.triggered.connect(self.kiosk_launcher.open_welcome)
            anonymous = QAction(_("Start an &anonymous questionnaire on the screen..."), self)
            anonymous.triggered.connect(
                lambda: self.kiosk_launcher.choose_and_start(client_id=None)
            )
            self.kiosk_actions = [welcome, anonymous]
            for action in self.kiosk_actions:
                kiosk_menu.addAction(action)
            self._menus.append(kiosk_menu)
        help_menu = self.menuBar().addMenu(_("&Help"))
        about_instruments = QAction(_("About the &questionnaires"), self)
        about_instruments.triggered.connect(self._about_instruments)
        help_menu.addAction(about_instruments)
        about = QAction(_("&About CareStation"), self)
        about.triggered.connect(
            lambda: self._prompter.info(self, _("About CareStation"), about_text())
        )
        help_menu.addAction(about)
        self._menus += [menu, go, view_menu, help_menu]

    # --- risk alerts -----------------------------------------------------------------------
    def _alert_bar(self) -> RiskAlertBar | None:
        if not self._actor.can(Permission.ACT_ON_RISK_ALERTS):
            return None
        from carestation.ui.views.risk_alerts_view import RiskAlertsView, link

        bar = RiskAlertBar(self._services.risk_alerts, self._actor, self)
        for index, view in enumerate(self.views):
            if isinstance(view, RiskAlertsView):
                link(bar, view)
                bar.open_requested.connect(lambda i=index: self.nav.setCurrentRow(i))
        bar.start()
        return bar

    def _connection_restored(self) -> None:
        """The server is back: reload what the screens show (they may have failed meanwhile)."""
        if self.is_locked:
            return
        self.refresh_current()
        self._alerts_changed()

    def _alerts_changed(self) -> None:
        if self.alert_bar is not None:
            self.alert_bar.refresh()

    def _day_reports(self) -> QDialog:
        from carestation.ui.personal_report_dialog import DayReportsDialog

        dialog = DayReportsDialog(
            self._services.reports,
            self._actor,
            self._prompter,
            today=self._services.crisis.today(self._actor.station_id),
            parent=self,
        )
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def _about_instruments(self) -> None:
        from carestation.ui.about_instruments import AboutInstrumentsDialog

        dialog = AboutInstrumentsDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    # --- navigation ----------------------------------------------------------------------
    def show_view(self, index: int) -> None:
        if not 0 <= index < len(self.views):
            return
        self.stack.setCurrentIndex(index)
        view = self.views[index]
        self.find_action.setEnabled(view.search_field() is not None)
        self.print_action.setEnabled(view.print_button() is not None)
        if index not in self._loaded:
            # Load on first show, not at start-up: the first screen appears sooner.
            self._loaded.add(index)
            self.views[index].refresh()

    def refresh_current(self) -> None:
        index = self.stack.currentIndex()
        if 0 <= index < len(self.views):
            self.views[index].refresh()

    def find_in_current(self) -> None:
        view = self.current_view()
        field = view.search_field() if view is not None else None
        if field is not None:
            field.setFocus(Qt.FocusReason.ShortcutFocusReason)
            select_all = getattr(field, "selectAll", None)
            if callable(select_all):
                select_all()

    def print_current(self) -> None:
        view = self.current_view()
        button = view.print_button() if view is not None else None
        if button is not None and button.isEnabled():
            button.click()

    def current_view(self) -> View | None:
        index = self.stack.currentIndex()
        return self.views[index] if 0 <= index < len(self.views) else None

    # --- lock and sign-out ---------------------------------------------------------------
    @property
    def is_locked(self) -> bool:
        return self.pages.currentWidget() is self.lock_screen

    def lock(self) -> None:
        if self.is_locked:
            return
        self._forget_screens()
        if self.alert_bar is not None:
            self.alert_bar.clear()
        self.pages.setCurrentWidget(self.lock_screen)
        for menu in self._menus:
            menu.menuAction().setVisible(False)
        self.statusBar().hide()
        self.idle.stop()
        self.lock_screen.prepare()

    def unlock(self) -> None:
        self.pages.setCurrentWidget(self.workspace)
        if self._unsaved_draft:
            self._unsaved_draft = False
            self._prompter.error(
                self,
                _("A note draft was not saved"),
                _(
                    "When the screen locked, a session note draft could not be saved (the "
                    "database or the key was not available). Open the note again and check it."
                ),
            )
        for menu in self._menus:
            menu.menuAction().setVisible(True)
        self.statusBar().show()
        self.idle.start()
        if self.alert_bar is not None:
            self.alert_bar.start()
        self.refresh_current()
        index = self.stack.currentIndex()
        if index >= 0:
            self._loaded.add(index)

    def _forget_screens(self) -> None:
        """On lock, sign-out and close: note drafts are saved, then every window that shows a
        person's data is wiped and closed, and every screen forgets what it showed."""
        from carestation.ui.case_window import close_record_windows

        if not close_record_windows(self):
            self._unsaved_draft = True
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QDialog) and widget.isVisible() and widget is not self:
                clear = getattr(widget, "clear", None)
                if callable(clear):
                    clear()
                widget.reject()
        for view in self.views:
            view.clear()
        self._loaded.clear()

    def sign_out(self) -> None:
        if self._signing_out:
            return
        self._signing_out = True
        self.kiosk_launcher.shut_down()
        self._forget_screens()
        self.idle.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.idle)
        self.close()
        self.signed_out.emit()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.connection_banner.shut_down()
        self.kiosk_launcher.shut_down()
        self._forget_screens()
        if self.alert_bar is not None:
            self.alert_bar.clear()
        self.idle.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.idle)
        super().closeEvent(event)

    # --- booking ---------------------------------------------------------------------------
    def new_booking(
        self,
        *,
        station_id: int | None = None,
        start: datetime | None = None,
        counsellor_id: int | None = None,
        room_id: int | None = None,
    ) -> QDialog | None:
        from carestation.ui.booking_dialog import BookingDialog

        view = self.current_view()
        shown = getattr(view, "station_id", None) if station_id is None else None
        # From a screen that shows one station (calendar, day list): book at that station.
        station = station_id or (shown() if callable(shown) else None) or self._actor.station_id
        if station is None:
            self._prompter.error(self, _("New booking"), _("This account works at no station."))
            return None
        if counsellor_id is None and Permission.BOOK_AT_STATION not in self._actor.permissions:
            counsellor_id = self._actor.user_id  # counsellors book for themselves
        dialog = BookingDialog(
            self._services,
            self._actor,
            self._prompter,
            station_id=station,
            start=start,
            counsellor_id=counsellor_id,
            room_id=room_id,
            parent=self,
        )
        dialog.accepted.connect(self.refresh_current)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def book_from_calendar(self, view: View, start: datetime, resource: object) -> QDialog | None:
        by_room = bool(getattr(view, "by_room", lambda: False)())
        station_id = getattr(view, "station_id", lambda: None)()
        return self.new_booking(
            station_id=station_id,
            start=start,
            counsellor_id=None if by_room else resource,  # type: ignore[arg-type]
            room_id=resource if by_room else None,  # type: ignore[arg-type]
        )

    def open_appointment(self, appointment_id: int) -> QDialog:
        from carestation.ui.appointment_dialog import AppointmentDialog

        dialog = AppointmentDialog(
            self._services, self._actor, self._prompter, appointment_id, parent=self
        )
        dialog.changed.connect(lambda _id: self.refresh_current())
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    # --- dialogs -------------------------------------------------------------------------
    def _change_password(self) -> None:
        ChangePasswordDialog(self._services.auth, self._actor, self._prompter, self).exec()

    def open_backups(self) -> QDialog:
        from carestation.ui.backups_dialog import BackupsDialog

        dialog = BackupsDialog(
            self._services.backups, self._actor, self._settings, self._prompter, parent=self
        )
        # The database was replaced: back to the sign-in window, so everyone signs in again
        # against the restored accounts and nothing on screen shows the old data.
        dialog.restored.connect(self.sign_out, Qt.ConnectionType.QueuedConnection)
        dialog.open()
        return dialog

    def set_high_contrast(self, on: bool) -> None:
        """View → High contrast: at once in every window, and from the next start on (the
        sign-in window too)."""
        self._settings.set("high_contrast", int(on))
        self._settings.save()
        app = QApplication.instance()
        if isinstance(app, QApplication):
            style.apply_look(app, high_contrast=on)

    def _preferences(self) -> None:
        stations = self._services.admin.list_stations(actor=self._actor)
        dialog = PreferencesDialog(self._settings, self._actor, stations, self._prompter, self)
        if dialog.exec():
            self.idle.set_minutes(self._settings.get("idle_lock_minutes"))


def nav_titles(window: MainWindow) -> list[str]:
    return [window.nav.item(i).text() for i in range(window.nav.count())]
