"""The clients screen for station staff and counsellors: find a client as you type, register a
new one, and open a client's record."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from carestation.domain.booking import ClientSummary
from carestation.domain.values import Actor
from carestation.i18n import N_, _, ngettext
from carestation.services.clients import SEARCH_LIMIT
from carestation.services.container import Services
from carestation.ui.client_picker import ClientDialog, mask_phone
from carestation.ui.client_record import ClientRecordDialog, ShowPreview
from carestation.ui.keyboard import enter_opens
from carestation.ui.printing import print_document
from carestation.ui.prompts import Prompter
from carestation.ui.record_panel import RecordPanel, open_dialog
from carestation.ui.table_model import Column, RecordTableModel
from carestation.ui.views.base import View, attempt

SEARCH_DELAY_MS = 250


def client_columns() -> list[Column[ClientSummary]]:
    return [
        Column(lambda: _("Client code"), lambda c: c.client_code),
        Column(lambda: _("Full name"), lambda c: c.name),
        Column(lambda: _("Phone"), lambda c: mask_phone(c.phone)),
        Column(lambda: _("Work unit"), lambda c: c.work_unit),
        Column(
            lambda: _("Birth year"),
            lambda c: str(c.birth_year) if c.birth_year else "",
            sort_key=lambda c: c.birth_year or 0,
        ),
    ]


class ClientsView(View):
    TITLE = N_("Clients")

    def __init__(
        self,
        services: Services,
        actor: Actor,
        prompter: Prompter,
        parent: QWidget | None = None,
        *,
        show_preview: ShowPreview = print_document,
    ) -> None:
        super().__init__(parent, objectName="clients_view")
        self._services, self._actor, self._prompter = services, actor, prompter
        self._show_preview = show_preview
        self.search_edit = QLineEdit(
            objectName="clients_search",
            placeholderText=_("Name, phone number or client code"),
            accessibleName=_("Find a client"),
            clearButtonEnabled=True,
        )
        search_label = QLabel(_("&Find"))
        search_label.setBuddy(self.search_edit)
        self.status_label = QLabel(objectName="clients_status", wordWrap=True)
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        top = QHBoxLayout()
        top.addWidget(search_label)
        top.addWidget(self.search_edit, 1)

        model: RecordTableModel[ClientSummary] = RecordTableModel(client_columns())
        self.panel = RecordPanel(_("Matching clients"), model, "clients_table")
        self.panel.table.sortByColumn(1, Qt.SortOrder.AscendingOrder)
        self.open_button = self.panel.add_button(
            _("&Open the record..."), "open_client_record", self.open_selected
        )
        self.register_button = self.panel.add_button(
            _("&Register a client..."),
            "register_client",
            self.register_client,
            enabled_when=lambda _r: True,
        )
        self.panel.buttons.addStretch(1)
        self.panel.table.doubleClicked.connect(lambda _index: self.open_selected())
        enter_opens(self.panel.table)
        self.message_label = QLabel(objectName="clients_message", wordWrap=True)
        self.message_label.setTextFormat(Qt.TextFormat.PlainText)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status_label)
        layout.addWidget(self.panel, 1)
        layout.addWidget(self.message_label)
        self._timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.search_now)
        self.search_edit.textEdited.connect(lambda _text: self._timer.start())
        self.search_edit.installEventFilter(self)
        self.panel.table.installEventFilter(self)
        self.setFocusProxy(self.search_edit)
        self.panel.update_buttons()

    # --- searching ------------------------------------------------------------------------
    def search_field(self) -> QWidget:
        return self.search_edit

    def refresh(self) -> None:
        if self.search_edit.text().strip():
            self.search_now()
        self.search_edit.setFocus()

    def search_now(self, *, select_id: int | None = None) -> list[ClientSummary]:
        self._timer.stop()
        text = self.search_edit.text().strip()
        found: list[ClientSummary] = []
        if text:
            found = (
                attempt(
                    self,
                    self._prompter,
                    lambda: self._services.clients.search(actor=self._actor, text=text),
                )
                or []
            )
        self._show(found, select_id=select_id)
        if not text:
            self.status_label.clear()
        elif not found:
            self.status_label.setText(
                _('Nobody matches "{text}". Check the spelling, or register a new client.').format(
                    text=text
                )
            )
        elif len(found) >= SEARCH_LIMIT:
            self.status_label.setText(
                _("The first {n} matches are shown: type more to narrow the search.").format(
                    n=len(found)
                )
            )
        else:
            self.status_label.setText(
                ngettext("{n} client found", "{n} clients found", len(found)).format(n=len(found))
            )
        return found

    def _show(self, rows: list[ClientSummary], *, select_id: int | None = None) -> None:
        if select_id is None and rows:
            select_id = rows[0].id if len(rows) == 1 else None
        self.panel.set_rows(rows, select_id=select_id)

    def results(self) -> list[ClientSummary]:
        return self.panel.model.rows()

    def selected(self) -> ClientSummary | None:
        return self.panel.selected()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            key = event.key()
            enter = key in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            if watched is self.search_edit:
                if enter:
                    self.search_now()
                    return True
                if key == Qt.Key.Key_Down and self.panel.model.rowCount():
                    if self._timer.isActive():
                        self.search_now()
                    self.panel.table.setFocus()
                    if self.selected() is None:
                        self.panel.table.selectRow(0)
                    return True
            elif watched is self.panel.table and enter:
                self.open_selected()
                return True
        return super().eventFilter(watched, event)

    # --- opening and registering ------------------------------------------------------------
    def open_selected(self) -> ClientRecordDialog | None:
        client = self.selected()
        return self.open_record(client.id) if client is not None else None

    def open_record(self, client_id: int) -> ClientRecordDialog:
        dialog = ClientRecordDialog(
            self._services,
            self._actor,
            self._prompter,
            client_id=client_id,
            parent=self,
            show_preview=self._show_preview,
        )
        dialog.client_changed.connect(lambda _id: self._client_changed(client_id))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def _client_changed(self, client_id: int) -> None:
        if self.search_edit.text().strip():
            self.search_now(select_id=client_id)

    def register_client(self) -> ClientDialog:
        """The registration form, prefilled from the search text."""
        text = self.search_edit.text().strip()
        digits = text.replace("-", "").replace(" ", "")
        is_phone = digits.isdigit()
        dialog = ClientDialog(
            self._services.clients,
            self._actor,
            self._prompter,
            station_id=self._actor.station_id,
            name="" if is_phone or text.isascii() else text,
            phone=text if is_phone else "",
            parent=self,
        )
        open_dialog(dialog, lambda: self._registered(dialog.saved))
        return dialog

    def _registered(self, client: ClientSummary) -> None:
        """Shows the client (a new record, or the existing one the user chose to use) and opens
        their record, where consent is taken next."""
        self._timer.stop()
        self.search_edit.setText(client.client_code)
        self._show([client], select_id=client.id)
        self.status_label.clear()
        self.message_label.setText(
            _("{name} is registered with the code {code}.").format(
                name=client.name, code=client.client_code
            )
        )
        self.open_record(client.id)

    # --- lock and sign-out ------------------------------------------------------------------
    def clear(self) -> None:
        self._timer.stop()
        for record in self.findChildren(ClientRecordDialog):
            record.clear()
        for form in self.findChildren(ClientDialog):
            form.reject()
        self.search_edit.clear()
        self.panel.set_rows([])
        self.status_label.clear()
        self.message_label.clear()
