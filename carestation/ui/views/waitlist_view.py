"""Staff's waitlist: who is waiting for which time, and the first free slot that fits each now."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from carestation.domain.booking import BookingRefused, SlotOption, WaitlistInput, WaitlistItem
from carestation.domain.errors import CareStationError
from carestation.domain.scheduling import TYPE_SPECS
from carestation.domain.values import Actor
from carestation.domain.vocab import AppointmentType
from carestation.i18n import N_, _
from carestation.services.container import Services
from carestation.ui.client_picker import ClientPicker
from carestation.ui.keyboard import enter_opens
from carestation.ui.prompts import Prompter
from carestation.ui.record_panel import FormDialog, RecordPanel, open_dialog
from carestation.ui.table_model import Column
from carestation.ui.views.base import View, attempt
from carestation.ui.views.schedule_dialogs import (
    MAX_NOTE,
    MarkedTableModel,
    date_edit,
    fill_stations,
    pydate,
    pytime,
    qtime,
    short_day,
    short_when,
    span,
)

# Crisis sessions are booked at once by the counsellor, lectures have their own list.
WAITLIST_TYPES = (AppointmentType.COUNSELLING, AppointmentType.POD, AppointmentType.ONLINE)
DEFAULT_WINDOW_DAYS = 14
OFFER_COLUMN = 7


def offer_text(slot: SlotOption | None) -> str:
    """'11-24 Tue 10:00 陈静 个人咨询室一'."""
    if slot is None:
        return _("No free time yet")
    parts = [short_when(slot.starts_at), slot.counsellor_name, slot.room_name]
    return " ".join(p for p in parts if p)


def days_text(item: WaitlistItem) -> str:
    if item.earliest == item.latest:
        return short_day(item.earliest)
    return f"{short_day(item.earliest)} – {short_day(item.latest)}"


@dataclass(frozen=True)
class WaitingRow:
    id: int
    position: int  # in the order they were added: the service lists the oldest first
    item: WaitlistItem
    searching: bool = False  # the free slot is still being looked for


class _OfferSearch(QObject):
    """Carries a background search's outcome to the GUI thread: (generation, items or error)."""

    finished = Signal(int, object)


class _OfferJob(QRunnable):
    def __init__(
        self, search: Callable[[], list[WaitlistItem]], generation: int, signals: _OfferSearch
    ) -> None:
        super().__init__()
        self._run_search, self._generation, self._signals = search, generation, signals

    def run(self) -> None:
        result: object
        try:
            result = self._run_search()
        except Exception as exc:  # shown on the GUI thread, never raised in a worker
            result = exc
        with contextlib.suppress(RuntimeError):  # the screen was closed meanwhile
            self._signals.finished.emit(self._generation, result)


def _columns() -> list[Column[WaitingRow]]:
    return [
        Column(lambda: _("No."), lambda r: str(r.position), sort_key=lambda r: r.position),
        Column(
            lambda: _("Client"),
            lambda r: f"{r.item.client_name} ({r.item.client_code})",
            sort_key=lambda r: r.item.client_name,
        ),
        Column(lambda: _("Type"), lambda r: r.item.type.title),
        Column(lambda: _("Counsellor"), lambda r: r.item.counsellor_name or _("Any")),
        Column(lambda: _("Days"), lambda r: days_text(r.item), sort_key=lambda r: r.item.earliest),
        Column(lambda: _("Times"), lambda r: span(r.item.time_from, r.item.time_to)),
        Column(lambda: _("Note"), lambda r: r.item.note),
        Column(
            lambda: _("Free slot now"),
            lambda r: _("Looking...") if r.searching else offer_text(r.item.offer),
            sort_key=lambda r: r.item.offer.starts_at.isoformat() if r.item.offer else "~",
        ),
    ]


class WaitlistDialog(FormDialog):
    """Puts a client on the waitlist for a type, optionally a counsellor, and a window."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        prompter: Prompter,
        station_id: int,
        today: date,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(prompter, _("Add to the waitlist"), "waitlist_dialog", parent)
        self._services, self._actor, self._station_id = services, actor, station_id
        self.picker = self.row(
            "client",
            _("&Client"),
            ClientPicker(services.clients, actor, prompter, station_id=station_id),
        )
        self.type_combo = self.row("type", _("&Type"), QComboBox(objectName="type_combo"))
        for kind in WAITLIST_TYPES:
            self.type_combo.addItem(kind.title, kind.value)
        self.counsellor_combo = self.row(
            "counsellor", _("C&ounsellor"), QComboBox(objectName="counsellor_combo")
        )
        self.counsellor_combo.addItem(_("Any counsellor"), None)
        for user in services.admin.list_counsellors(actor=actor, station_id=station_id):
            self.counsellor_combo.addItem(user.display_name, user.id)
        self.first_edit = self.row("earliest", _("&First day"), date_edit(today, "first_day_edit"))
        last = today + timedelta(days=DEFAULT_WINDOW_DAYS)
        self.last_edit = self.row("latest", _("Last &day"), date_edit(last, "last_day_edit"))
        self.from_edit = self.row(
            "time_from", _("&Earliest time"), self._time_edit("time_from_edit", time(8, 0))
        )
        self.to_edit = self.row(
            "time_to", _("Latest ti&me"), self._time_edit("time_to_edit", time(18, 0))
        )
        self.note_edit = self.row(
            "note",
            _("&Note"),
            QLineEdit(
                objectName="note_edit",
                maxLength=MAX_NOTE,
                placeholderText=_("Such as: only after work; prefers a woman counsellor"),
            ),
        )
        self.finish()
        self.type_combo.currentIndexChanged.connect(self._type_changed)
        self.picker.client_chosen.connect(lambda _client: self.type_combo.setFocus())
        self._type_changed()
        self.picker.setFocus()

    @staticmethod
    def _time_edit(object_name: str, value: time) -> QTimeEdit:
        return QTimeEdit(qtime(value), objectName=object_name, displayFormat="HH:mm")

    def kind(self) -> AppointmentType:
        return AppointmentType(self.type_combo.currentData())

    def _type_changed(self) -> None:
        needs = TYPE_SPECS[self.kind()].needs_counsellor
        if not needs:
            self.counsellor_combo.setCurrentIndex(0)
        self.counsellor_combo.setEnabled(needs)

    def problems(self) -> dict[str, str]:
        if self.picker.chosen is None:
            return {"client": _("Find the client and choose them from the list first.")}
        return {}

    def waitlist_input(self) -> WaitlistInput:
        assert self.picker.chosen is not None
        return WaitlistInput(
            client_id=self.picker.chosen.id,
            station_id=self._station_id,
            type=self.kind(),
            earliest=pydate(self.first_edit.date()),
            latest=pydate(self.last_edit.date()),
            time_from=pytime(self.from_edit.time()),
            time_to=pytime(self.to_edit.time()),
            counsellor_id=self.counsellor_combo.currentData(),
            note=self.note_edit.text(),
        )

    def save(self) -> WaitlistItem:
        return self._services.waitlist.add(actor=self._actor, data=self.waitlist_input())


class WaitlistView(View):
    TITLE = N_("Waitlist")

    def __init__(
        self,
        services: Services,
        actor: Actor,
        prompter: Prompter,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, objectName="waitlist_view")
        self._services, self._actor, self._prompter = services, actor, prompter
        self._loaded = False
        self._zones: dict[int, ZoneInfo] = {}
        # Created first, so it is destroyed first: its destructor waits for a running search.
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._search = _OfferSearch(self)
        self._search.finished.connect(self._offers_found)
        self._generation = 0
        self.searching = False  # True while free slots are being looked for
        self.station_combo = QComboBox(objectName="waitlist_station_combo")
        station_label = QLabel(_("&Station"))
        station_label.setBuddy(self.station_combo)
        self.summary_label = QLabel(objectName="waitlist_summary")
        top = QHBoxLayout()
        top.addWidget(station_label)
        top.addWidget(self.station_combo)
        top.addStretch(1)
        top.addWidget(self.summary_label)

        model: MarkedTableModel[WaitingRow] = MarkedTableModel(
            _columns(), lambda r, column: column == OFFER_COLUMN and r.item.offer is not None
        )
        self.panel = RecordPanel(_("Waiting clients"), model, "waitlist_table")
        self.panel.add_button(
            _("&Add..."),
            "add_waiting",
            self.add_entry,
            enabled_when=lambda _r: self._station() is not None,
        )
        self.book_button = self.panel.add_button(
            _("&Book the free slot"),
            "book_offer",
            self.book_offer,
            enabled_when=lambda r: r is not None and r.item.offer is not None,
        )
        self.panel.add_button(_("&Withdraw"), "withdraw_waiting", self.withdraw)
        self.panel.buttons.addStretch(1)
        self.panel.table.doubleClicked.connect(lambda _index: self._book_if_offered())
        enter_opens(self.panel.table)
        self.message_label = QLabel(objectName="waitlist_message", wordWrap=True)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.panel, 1)
        layout.addWidget(self.message_label)
        self.station_combo.currentIndexChanged.connect(lambda _i: self.reload())

    # --- loading --------------------------------------------------------------------------
    def _station(self) -> int | None:
        return self.station_combo.currentData()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # The main window loads a screen the first time it is shown; offers change all the
        # time, so they are worked out again whenever staff come back to this screen.
        if self._loaded and not event.spontaneous():
            self.reload()

    def refresh(self) -> None:
        if self.station_combo.count() == 0:
            stations = attempt(
                self, self._prompter, lambda: self._services.admin.list_stations(actor=self._actor)
            )
            mine = [s for s in stations or [] if s.id in self._actor.station_ids]
            self._zones = {s.id: ZoneInfo(s.time_zone) for s in mine}
            self.station_combo.blockSignals(True)
            fill_stations(self.station_combo, mine, self._actor.station_id)
            self.station_combo.blockSignals(False)
        self.reload()

    def reload(self, *, select_id: int | None = None) -> None:
        """Lists the entries at once, then finds their free slots in the background: that
        search looks day by day through each entry's window and can take seconds."""
        self._generation += 1
        station_id = self._station()
        items: list[WaitlistItem] = []
        if station_id is not None:
            items = (
                attempt(
                    self,
                    self._prompter,
                    lambda: self._services.waitlist.entries(
                        actor=self._actor, station_id=station_id, with_offers=False
                    ),
                )
                or []
            )
        self.searching = bool(items)
        self._show(items, select_id=select_id)
        self._loaded = True
        if self.searching and station_id is not None:
            waitlist, actor = self._services.waitlist, self._actor
            self._pool.start(
                _OfferJob(
                    lambda: waitlist.entries(actor=actor, station_id=station_id),
                    self._generation,
                    self._search,
                )
            )

    def _offers_found(self, generation: int, result: object) -> None:
        if generation != self._generation:
            return  # the station changed or the list was reloaded meanwhile
        self.searching = False
        if isinstance(result, list):
            self._show(result)
            return
        self._show([row.item for row in self.panel.model.rows()])
        self.summary_label.setText(
            _("The free slots could not be worked out: {problem}").format(problem=str(result))
        )

    def _show(self, items: list[WaitlistItem], *, select_id: int | None = None) -> None:
        if select_id is None and (chosen := self.selected()) is not None:
            select_id = chosen.id
        rows = [WaitingRow(item.id, n, item, self.searching) for n, item in enumerate(items, 1)]
        self.panel.set_rows(rows, select_id=select_id)
        if self.searching:
            text = _("{n} waiting; looking for free slots...").format(n=len(items))
        else:
            offered = sum(1 for i in items if i.offer is not None)
            text = _("{n} waiting, {m} with a free slot now").format(n=len(items), m=offered)
        self.summary_label.setText(text)

    def clear(self) -> None:
        self._generation += 1
        self.searching = False
        self.panel.set_rows([])
        self.summary_label.clear()
        self.message_label.clear()
        self._loaded = False

    def selected(self) -> WaitlistItem | None:
        row = self.panel.selected()
        return row.item if row is not None else None

    def _today(self) -> date:
        zone = self._zones.get(self._station() or 0, ZoneInfo("Asia/Shanghai"))
        return self._services.waitlist.clock.now().astimezone(zone).date()

    # --- actions --------------------------------------------------------------------------
    def add_entry(self) -> WaitlistDialog | None:
        station_id = self._station()
        if station_id is None:
            return None
        dialog = WaitlistDialog(
            self._services, self._actor, self._prompter, station_id, self._today(), parent=self
        )
        open_dialog(dialog, lambda: self._added(dialog.saved))
        return dialog

    def _added(self, item: WaitlistItem) -> None:
        self.reload(select_id=item.id)
        self.message_label.setText(
            _("{name} is on the waitlist for {type}.").format(
                name=item.client_name, type=item.type.title
            )
        )

    def _book_if_offered(self) -> None:
        item = self.selected()
        if item is not None and item.offer is not None:
            self.book_offer()

    def book_offer(self) -> int | None:
        """Books the selected entry's free slot once the user confirms; the appointment id."""
        item = self.selected()
        if item is None or item.offer is None:
            return None
        offer = offer_text(item.offer)
        question = _("Book {name} for {type} at {offer}?").format(
            name=item.client_name, type=item.type.title, offer=offer
        )
        if not self._prompter.confirm(self, _("Book the free slot"), question):
            return None
        slot = item.offer
        try:
            appointment_id = self._services.waitlist.book_offer(
                actor=self._actor, entry_id=item.id, slot=slot
            )
        except BookingRefused as refused:
            # Someone may have taken the time meanwhile: show why, then the current offers.
            self._prompter.error(self, _("The free slot could not be booked"), str(refused))
            self.reload()
            return None
        except CareStationError as exc:
            self._prompter.error(self, _("The free slot could not be booked"), str(exc))
            self.reload()
            return None
        self.reload()
        self.message_label.setText(
            _("Booked {name}: {offer}. Let them know the time.").format(
                name=item.client_name, offer=offer
            )
        )
        return appointment_id

    def withdraw(self) -> None:
        item = self.selected()
        if item is None:
            return
        question = _("Take {name} off the waitlist?").format(name=item.client_name)
        if not self._prompter.confirm(self, _("Withdraw from the waitlist"), question):
            return
        done = attempt(
            self,
            self._prompter,
            lambda: self._services.waitlist.withdraw(actor=self._actor, entry_id=item.id) or True,
        )
        self.reload()
        if done:
            self.message_label.setText(
                _("{name} is no longer on the waitlist.").format(name=item.client_name)
            )
