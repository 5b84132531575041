"""Staff's reminder calls for a day, and the printouts: day sheet, slips, PDF and .ics export."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, QSortFilterProxyModel, QStandardPaths, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from carestation.domain.booking import Appointment
from carestation.domain.roles import Permission
from carestation.domain.values import Actor, Station
from carestation.domain.vocab import AppointmentStatus
from carestation.i18n import N_, _, ngettext
from carestation.services.calendar_export import CalendarExport
from carestation.services.container import Services
from carestation.ui.keyboard import enter_opens
from carestation.ui.printing import (
    Printable,
    PrintFailed,
    appointment_slip,
    day_sheet,
    print_document,
    reminder_list,
    save_pdf,
)
from carestation.ui.prompts import Prompter
from carestation.ui.record_panel import FormDialog, open_dialog
from carestation.ui.table_model import SORT_ROLE, Column, RecordTableModel
from carestation.ui.views.base import View, attempt

ChooseSavePath = Callable[[str], str | None]
ShowPreview = Callable[[QWidget | None, Printable, str, Prompter], None]


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _date(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


def _columns() -> list[Column[Appointment]]:
    return [
        Column(
            lambda: _("Time"),
            lambda a: f"{a.starts_at:%H:%M}–{a.ends_at:%H:%M}",
            sort_key=lambda a: a.starts_at,
        ),
        Column(lambda: _("Client"), lambda a: a.client_name or "—"),
        Column(lambda: _("Phone"), lambda a: a.client_phone or "—"),
        Column(lambda: _("Client code"), lambda a: a.client_code),
        Column(lambda: _("Type"), lambda a: a.type.title),
        Column(lambda: _("Counsellor"), lambda a: a.counsellor_name or "—"),
        Column(lambda: _("Room"), lambda a: a.room_name or a.address or a.modality.title),
    ]


class RemindersView(View):
    """The people to phone about a day's bookings (tomorrow's, by default), and everything
    printed at the desk. Print jobs and PDF titles carry neutral names only."""

    TITLE = N_("Reminders and printing")

    def __init__(
        self,
        services: Services,
        actor: Actor,
        prompter: Prompter,
        parent: QWidget | None = None,
        *,
        choose_save_path: ChooseSavePath | None = None,
        show_preview: ShowPreview = print_document,
        calendar_export: CalendarExport | None = None,
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._actor = actor
        self._prompter = prompter
        self._choose_save_path = choose_save_path or self._ask_save_path
        self._show_preview = show_preview
        self._calendar_export = calendar_export or services.calendar_export
        self._stations: dict[int, Station] = {
            s.id: s for s in services.admin.list_stations(actor=actor) if s.id in actor.station_ids
        }

        self.station_combo = QComboBox(objectName="station")
        self.station_combo.setAccessibleName(_("Station"))
        for station in self._stations.values():
            self.station_combo.addItem(station.name, station.id)
        if actor.station_id is not None and self.station_combo.findData(actor.station_id) >= 0:
            self.station_combo.setCurrentIndex(self.station_combo.findData(actor.station_id))
        self.date_edit = QDateEdit(_qdate(self._today() + timedelta(days=1)), objectName="day")
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("yyyy-MM-dd ddd")
        self.date_edit.setAccessibleName(_("Day"))
        tomorrow = QPushButton(_("Tomorrow"), objectName="tomorrow")
        tomorrow.clicked.connect(
            lambda: self.date_edit.setDate(_qdate(self._today() + timedelta(days=1)))
        )

        self.model: RecordTableModel[Appointment] = RecordTableModel(_columns(), self)
        self._proxy = QSortFilterProxyModel(self)
        self._proxy.setSourceModel(self.model)
        self._proxy.setSortRole(SORT_ROLE)
        self.table = QTableView(objectName="reminders_table")
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.table.setAccessibleName(_("Appointments to remind"))
        self.table.setModel(self._proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.count_label = QLabel(objectName="count")

        self.print_list_button = QPushButton(_("Print reminder list"), objectName="print_list")
        self.print_day_button = QPushButton(_("Print day sheet"), objectName="print_day")
        self.print_slip_button = QPushButton(_("Print slip"), objectName="print_slip")
        self.save_pdf_button = QPushButton(_("Save day sheet as PDF..."), objectName="save_pdf")
        self.export_button = QPushButton(
            _("Export counsellor calendar (.ics)..."), objectName="export_ics"
        )
        self.print_slip_button.setEnabled(False)
        self.print_list_button.clicked.connect(self.print_reminder_list)
        self.print_day_button.clicked.connect(self.print_day_sheet)
        self.print_slip_button.clicked.connect(self.print_slip)
        self.save_pdf_button.clicked.connect(self.save_day_sheet_pdf)
        self.export_button.clicked.connect(self.open_calendar_export)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.table.doubleClicked.connect(lambda _index: self.print_slip())
        enter_opens(self.table)

        top = QHBoxLayout()
        top.addWidget(QLabel(_("Station")))
        top.addWidget(self.station_combo)
        top.addWidget(QLabel(_("Day")))
        top.addWidget(self.date_edit)
        top.addWidget(tomorrow)
        top.addStretch(1)
        buttons = QHBoxLayout()
        for button in (
            self.print_list_button,
            self.print_slip_button,
            self.print_day_button,
            self.save_pdf_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        hint = QLabel(
            _(
                "Booked appointments with a client on the chosen day. On the phone give only the "
                "time and place, never the reason for the visit."
            )
        )
        hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(hint)
        layout.addWidget(self.table)
        layout.addWidget(self.count_label)
        layout.addLayout(buttons)
        self.station_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self.date_edit.dateChanged.connect(lambda _d: self.refresh())
        self._update_buttons()

    # --- state ------------------------------------------------------------------------------
    def station(self) -> Station | None:
        station_id = self.station_combo.currentData()
        return self._stations.get(station_id) if station_id is not None else None

    def day(self) -> date:
        return _date(self.date_edit.date())

    def _zone(self) -> ZoneInfo:
        station = self.station()
        return ZoneInfo(station.time_zone if station else "Asia/Shanghai")

    def _now(self) -> datetime:
        return self._services.schedule.clock.now().astimezone(self._zone())

    def _today(self) -> date:
        return self._now().date()

    def selected(self) -> Appointment | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.model.row_value(self._proxy.mapToSource(rows[0]).row())

    def _update_buttons(self) -> None:
        has_station = self.station() is not None
        for button in (
            self.print_list_button,
            self.print_day_button,
            self.save_pdf_button,
            self.export_button,
        ):
            button.setEnabled(has_station)
        self.print_slip_button.setEnabled(self.selected() is not None)

    def print_button(self) -> QAbstractButton:
        return self.print_list_button

    def refresh(self) -> None:
        station = self.station()
        rows: list[Appointment] = []
        if station is not None:
            found = attempt(
                self,
                self._prompter,
                lambda: self._services.schedule.station_days(
                    actor=self._actor, station_id=station.id, first_day=self.day(), days=1
                ),
            )
            # The same people reminders() lists, kept as appointments so a slip can be printed.
            rows = [
                a
                for a in found or []
                if a.status is AppointmentStatus.BOOKED
                and a.client_id is not None
                and a.starts_at.date() == self.day()
            ]
        self.model.set_rows(rows)
        self.count_label.setText(
            ngettext("{n} person to call", "{n} people to call", len(rows)).format(n=len(rows))
        )
        self._update_buttons()

    def clear(self) -> None:
        self.model.clear()
        self.count_label.clear()
        self._update_buttons()

    # --- printing ---------------------------------------------------------------------------
    def _day_sheet(self) -> Printable | None:
        station = self.station()
        if station is None:
            return None
        appointments = attempt(
            self,
            self._prompter,
            lambda: self._services.schedule.station_days(
                actor=self._actor, station_id=station.id, first_day=self.day(), days=1
            ),
        )
        if appointments is None:
            return None
        return day_sheet(
            heading=station.name,
            day=self.day(),
            appointments=[a for a in appointments if a.starts_at.date() == self.day()],
            printed_at=self._now(),
            printed_by=self._actor.display_name,
        )

    def _day_sheet_name(self) -> str:
        return _("CareStation day sheet {day}").format(day=self.day().isoformat())

    def _logged(self, document: str, ref: str) -> bool:
        """Records the print in the audit trail first; False (and a message) if refused."""
        station = self.station()
        if station is None:
            return False
        done = attempt(
            self,
            self._prompter,
            lambda: (
                self._services.print_log.record(
                    actor=self._actor, document=document, station_id=station.id, ref=ref
                )
                or True
            ),
        )
        return bool(done)

    def print_day_sheet(self) -> None:
        sheet = self._day_sheet()
        if sheet is not None and self._logged("day_sheet", self.day().isoformat()):
            self._show_preview(self, sheet, self._day_sheet_name(), self._prompter)

    def print_reminder_list(self) -> None:
        station = self.station()
        if station is None:
            return
        # Through reminders(), which records in the audit trail that the phone list was taken.
        rows = attempt(
            self,
            self._prompter,
            lambda: self._services.schedule.reminders(
                actor=self._actor, station_id=station.id, day=self.day()
            ),
        )
        if rows is None:
            return
        document = reminder_list(
            station_name=station.name,
            day=self.day(),
            rows=rows,
            printed_at=self._now(),
            printed_by=self._actor.display_name,
        )
        name = _("CareStation reminder list {day}").format(day=self.day().isoformat())
        self._show_preview(self, document, name, self._prompter)

    def print_slip(self) -> None:
        appointment, station = self.selected(), self.station()
        if appointment is None or station is None:
            return
        rules = self._services.schedule_admin.rules(actor=self._actor, station_id=station.id)
        slip = appointment_slip(
            appointment=appointment,
            station=station,
            cancel_hours=rules[appointment.type].late_cancel_hours,
            printed_at=self._now(),
        )
        name = _("CareStation slip A-{number}").format(number=f"{appointment.id:06d}")
        if self._logged("slip", str(appointment.id)):
            self._show_preview(self, slip, name, self._prompter)

    def save_day_sheet_pdf(self) -> Path | None:
        sheet = self._day_sheet()
        if sheet is None:
            return None
        chosen = self._choose_save_path(f"carestation-day-sheet-{self.day().isoformat()}.pdf")
        if not chosen:
            return None
        path = Path(chosen)
        if not self._logged("day_sheet_pdf", self.day().isoformat()):
            return None
        try:
            save_pdf(sheet, path, self._day_sheet_name())
        except PrintFailed as exc:
            self._prompter.error(self, _("The PDF was not saved"), str(exc))
            return None
        self._prompter.info(
            self,
            _("PDF saved"),
            _("The day sheet was saved to {path}. It names clients: keep it safe.").format(
                path=path
            ),
        )
        return path

    def open_calendar_export(self) -> CalendarExportDialog | None:
        station = self.station()
        if station is None:
            return None
        dialog = CalendarExportDialog(
            self._calendar_export,
            self._services,
            self._actor,
            station.id,
            self.day(),
            self._prompter,
            self._choose_save_path,
            self,
        )
        open_dialog(dialog, lambda: None)
        return dialog

    def _ask_save_path(self, suggested: str) -> str | None:
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        filters = {
            ".pdf": _("PDF files (*.pdf)"),
            ".ics": _("Calendar files (*.ics)"),
        }
        path, _chosen = QFileDialog.getSaveFileName(
            self,
            _("Save as"),
            str(Path(folder) / suggested),
            filters.get(Path(suggested).suffix, ""),
        )
        return path or None


class CalendarExportDialog(FormDialog):
    """Chooses a counsellor and days, and saves their appointments as an .ics file."""

    def __init__(
        self,
        export: CalendarExport,
        services: Services,
        actor: Actor,
        station_id: int,
        first_day: date,
        prompter: Prompter,
        choose_save_path: ChooseSavePath,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(prompter, _("Export counsellor calendar"), "calendar_export", parent)
        self._export = export
        self._actor = actor
        self._choose_save_path = choose_save_path
        self.saved_path: Path | None = None
        self.counsellor_combo = self.row("counsellor", _("Counsellor"), QComboBox())
        self.counsellor_combo.setObjectName("counsellor")
        for user in services.admin.list_counsellors(actor=actor, station_id=station_id):
            self.counsellor_combo.addItem(user.display_name, user.id)
        self.first_edit = self.row(
            "first_day", _("From"), QDateEdit(_qdate(first_day), objectName="first_day")
        )
        self.last_edit = self.row(
            "last_day",
            _("To"),
            QDateEdit(_qdate(first_day + timedelta(days=30)), objectName="last_day"),
        )
        for edit in (self.first_edit, self.last_edit):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.names_check = QCheckBox(
            _("Include clients' names (only in your own calendar)"), objectName="with_names"
        )
        self.form.addRow("", self.names_check)
        self.note = QLabel(objectName="note")
        self.note.setWordWrap(True)
        self.form.addRow(self.note)
        self.counsellor_combo.currentIndexChanged.connect(lambda _i: self._update())
        self.names_check.toggled.connect(lambda _on: self._update())
        self.finish()
        self.ok_button.setText(_("Save..."))
        self.ok_button.setObjectName("save")
        self._update()

    def _own(self) -> bool:
        return self.counsellor_combo.currentData() == self._actor.user_id and self._actor.can(
            Permission.VIEW_OWN_APPOINTMENTS
        )

    def _update(self) -> None:
        own = self._own()
        self.names_check.setVisible(own)
        if not own:
            self.names_check.setChecked(False)
        if self.names_check.isChecked():
            text = _(
                "The file will contain the type, place and time of each appointment and the "
                "name of the client. Calendar programs copy it to phones and online accounts: "
                "include names only if your calendar stays on this computer."
            )
        else:
            text = _(
                "The file will contain the type, place and time of each appointment, but not "
                "who it is with. Cancelled appointments are left out."
            )
        self.note.setText(text)
        self.ok_button.setEnabled(self.counsellor_combo.count() > 0)

    def save(self) -> Path | None:
        counsellor_id = self.counsellor_combo.currentData()
        first, last = _date(self.first_edit.date()), _date(self.last_edit.date())
        data = self._export.counsellor_ics(
            actor=self._actor,
            counsellor_id=counsellor_id,
            first_day=first,
            last_day=last,
            include_client_names=self.names_check.isChecked(),
        )
        chosen = self._choose_save_path(
            f"carestation-calendar-{counsellor_id}-{first.isoformat()}.ics"
        )
        if not chosen:
            return None  # the dialog stays open
        path = Path(chosen)
        try:
            path.write_bytes(data)
        except OSError as exc:
            self._prompter.error(
                self,
                _("The calendar was not saved"),
                _("{path} could not be written: {reason}").format(
                    path=path, reason=exc.strerror or exc
                ),
            )
            return None
        self.saved_path = path
        count = data.count(b"BEGIN:VEVENT")
        self._prompter.info(
            self,
            _("Calendar saved"),
            ngettext(
                "{n} appointment was saved to {path}.",
                "{n} appointments were saved to {path}.",
                count,
            ).format(n=count, path=path),
        )
        return path
