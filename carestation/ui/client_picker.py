"""Finding a client by name, phone or code as you type, and registering a new one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Protocol

from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from carestation.domain.booking import ClientInput, ClientSummary, DuplicateClient
from carestation.domain.validation import MAX_NAME
from carestation.domain.values import Actor
from carestation.domain.vocab import Gender
from carestation.i18n import _
from carestation.ui.prompts import Prompter
from carestation.ui.record_panel import FormDialog, open_dialog
from carestation.ui.views.base import attempt

Index = QModelIndex | QPersistentModelIndex
SEARCH_DELAY_MS = 150
CLIENT_ROLE = Qt.ItemDataRole.UserRole
NO_BIRTH_YEAR = 1899  # the spin box's "not given" value, below the earliest valid year
LIST_ROWS = 5


class ClientDirectory(Protocol):
    """What the picker needs of the client service (a fake will do in tests)."""

    def search(self, *, actor: Actor, text: str) -> list[ClientSummary]: ...

    def register(
        self, *, actor: Actor, data: ClientInput, allow_duplicate: bool = False
    ) -> ClientSummary: ...


def mask_phone(phone: str) -> str:
    """138****8000; a landline keeps its area code: 0575-****1234. Enough to tell people apart
    on a screen others may see, without showing the whole number."""
    area, dash, local = phone.rpartition("-") if "-" in phone[:5] else ("", "", phone)
    if len(local) < 7:
        return phone
    keep = 0 if area else 3
    return f"{area}{dash}{local[:keep]}****{local[-4:]}"


def client_line(client: ClientSummary) -> str:
    parts = [client.name, mask_phone(client.phone), client.client_code, client.work_unit]
    return "  ·  ".join(p for p in parts if p)


class ClientListModel(QAbstractListModel):
    """Search results, one line each; the ClientSummary itself under CLIENT_ROLE."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[ClientSummary] = []

    def set_rows(self, rows: Sequence[ClientSummary]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rows(self) -> list[ClientSummary]:
        return list(self._rows)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        client = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return client_line(client)
        if role == Qt.ItemDataRole.ToolTipRole:
            return client_line(client)
        if role == CLIENT_ROLE:
            return client
        return None


class ClientDialog(FormDialog):
    """Registers a client with only what booking needs; offers the existing record when the
    same name and phone number are already registered."""

    def __init__(
        self,
        clients: ClientDirectory,
        actor: Actor,
        prompter: Prompter,
        *,
        station_id: int | None = None,
        name: str = "",
        phone: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(prompter, _("New client"), "client_dialog", parent)
        self._clients, self._actor, self._station_id = clients, actor, station_id
        self.name_edit = self.row(
            "name", _("&Name"), QLineEdit(name, maxLength=MAX_NAME, objectName="name_edit")
        )
        self.phone_edit = self.row(
            "phone",
            _("&Phone"),
            QLineEdit(phone, maxLength=20, objectName="phone_edit", placeholderText="13800000000"),
        )
        self.work_unit_edit = self.row(
            "work_unit",
            _("&Work unit"),
            QLineEdit(maxLength=2 * MAX_NAME, objectName="work_unit_edit"),
        )
        self.gender_combo = self.row("gender", _("&Gender"), QComboBox(objectName="gender_combo"))
        for gender in (Gender.UNSPECIFIED, Gender.FEMALE, Gender.MALE, Gender.OTHER):
            self.gender_combo.addItem(gender.title, gender.value)
        self.birth_year_spin = self.row(
            "birth_year", _("&Birth year"), QSpinBox(objectName="birth_year_spin")
        )
        self.birth_year_spin.setRange(NO_BIRTH_YEAR, date.today().year)
        self.birth_year_spin.setSpecialValueText(_("Not given"))
        self.birth_year_spin.setValue(NO_BIRTH_YEAR)
        self.finish()
        self.name_edit.setFocus()

    def on_ok(self) -> None:
        super().on_ok()
        if self.result() != QDialog.DialogCode.Accepted:
            # Messages appeared under the fields: grow rather than squeeze them (the form's
            # minimum width keeps Qt from doing it by itself).
            QTimer.singleShot(0, self, self.adjustSize)

    def client_input(self) -> ClientInput:
        year = self.birth_year_spin.value()
        return ClientInput(
            name=self.name_edit.text(),
            phone=self.phone_edit.text(),
            work_unit=self.work_unit_edit.text(),
            gender=Gender(self.gender_combo.currentData()),
            birth_year=None if year == NO_BIRTH_YEAR else year,
            home_station_id=self._station_id,
        )

    def save(self) -> ClientSummary:
        data = self.client_input()
        try:
            return self._clients.register(actor=self._actor, data=data)
        except DuplicateClient as duplicate:
            question = _("{message}\n\nUse the existing record?").format(message=str(duplicate))
            if self._prompter.confirm(self, _("Already registered"), question):
                return duplicate.existing
        return self._clients.register(actor=self._actor, data=data, allow_duplicate=True)


class ClientPicker(QWidget):
    """A search box over the clients, a short result list and "New client..."; emits
    `client_chosen` when the user picks one (double-click or Enter), or registers one."""

    client_chosen = Signal(object)  # ClientSummary

    def __init__(
        self,
        clients: ClientDirectory,
        actor: Actor,
        prompter: Prompter,
        *,
        station_id: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, objectName="client_picker")
        self._clients, self._actor, self._prompter = clients, actor, prompter
        self._station_id = station_id
        self.chosen: ClientSummary | None = None
        self.search_edit = QLineEdit(
            objectName="client_search_edit",
            placeholderText=_("Name, phone number or client code"),
            accessibleName=_("Find a client"),
            clearButtonEnabled=True,
        )
        self.new_button = QPushButton(
            _("&New client..."), objectName="new_client_button", autoDefault=False
        )
        self.new_button.clicked.connect(self.on_new_client)
        self.model = ClientListModel(self)
        self.results_view = QListView(
            objectName="client_results", accessibleName=_("Matching clients")
        )
        self.results_view.setModel(self.model)
        self.results_view.setEditTriggers(QListView.EditTrigger.NoEditTriggers)
        self.results_view.setUniformItemSizes(True)
        # Long lines end in "..." (the tooltip has all of it) rather than scroll sideways.
        self.results_view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        row_height = self.results_view.fontMetrics().height() + 6
        self.results_view.setFixedHeight(row_height * LIST_ROWS + 6)
        self.results_view.doubleClicked.connect(self._pick_index)
        self.results_view.hide()
        self.status_label = QLabel(objectName="client_status_label")
        self.status_label.setWordWrap(True)
        self.chosen_label = QLabel(_("No client chosen yet."), objectName="chosen_client_label")
        self.chosen_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top = QHBoxLayout()
        top.addWidget(self.search_edit, 1)
        top.addWidget(self.new_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.results_view)
        layout.addWidget(self.status_label)
        layout.addWidget(self.chosen_label)
        self.status_label.hide()
        self._timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.search_now)
        self.search_edit.textEdited.connect(lambda _text: self._timer.start())
        self.search_edit.installEventFilter(self)
        self.results_view.installEventFilter(self)
        self.setFocusProxy(self.search_edit)
        QWidget.setTabOrder(self.search_edit, self.results_view)
        QWidget.setTabOrder(self.results_view, self.new_button)

    # --- searching ------------------------------------------------------------------------
    def search_now(self) -> None:
        self._timer.stop()
        text = self.search_edit.text().strip()
        found: list[ClientSummary] = []
        if text:
            result = attempt(
                self, self._prompter, lambda: self._clients.search(actor=self._actor, text=text)
            )
            found = result or []
        self.model.set_rows(found)
        self.results_view.setVisible(bool(found))
        if text and not found:
            self.status_label.setText(
                _('Nobody matches "{text}". Check the spelling, or register a new client.').format(
                    text=text
                )
            )
        self.status_label.setVisible(bool(text) and not found)
        if found:
            self.results_view.setCurrentIndex(self.model.index(0, 0))

    def results(self) -> list[ClientSummary]:
        return self.model.rows()

    # --- choosing -------------------------------------------------------------------------
    def set_client(self, client: ClientSummary | None) -> None:
        """Shows `client` as chosen (None: nobody) without emitting `client_chosen`."""
        self.chosen = client
        if client is None:
            self.chosen_label.setText(_("No client chosen yet."))
        else:
            self.chosen_label.setText(
                _("Client: {name}, {phone}, code {code}").format(
                    name=client.name, phone=mask_phone(client.phone), code=client.client_code
                )
            )

    def choose(self, client: ClientSummary) -> None:
        self.set_client(client)
        self.client_chosen.emit(client)

    def _pick_index(self, index: QModelIndex) -> None:
        client = index.data(CLIENT_ROLE) if index.isValid() else None
        if isinstance(client, ClientSummary):
            self.choose(client)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return super().eventFilter(watched, event)
        key = event.key()
        enter = key in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if watched is self.search_edit:
            if key == Qt.Key.Key_Down:
                if self._timer.isActive():
                    self.search_now()
                if self.model.rowCount():
                    self.results_view.setFocus()
                    self.results_view.setCurrentIndex(self.model.index(0, 0))
                return True
            if enter:
                # Enter in the search box searches (and picks a single match); it must not
                # reach the dialog's default button and book before a client is chosen.
                self.search_now()
                if self.model.rowCount() == 1:
                    self._pick_index(self.model.index(0, 0))
                return True
        elif watched is self.results_view:
            if enter:
                self._pick_index(self.results_view.currentIndex())
                return True
            if key == Qt.Key.Key_Up and self.results_view.currentIndex().row() <= 0:
                self.search_edit.setFocus()
                return True
        return super().eventFilter(watched, event)

    # --- registering ----------------------------------------------------------------------
    def new_client_dialog(self) -> ClientDialog:
        """The registration dialog, prefilled from the search text; not yet shown."""
        text = self.search_edit.text().strip()
        digits = text.replace("-", "").replace(" ", "")
        is_phone = digits.isdigit()
        dialog = ClientDialog(
            self._clients,
            self._actor,
            self._prompter,
            station_id=self._station_id,
            name="" if is_phone else text,
            phone=text if is_phone else "",
            parent=self,
        )
        dialog.accepted.connect(lambda: self._registered(dialog))
        return dialog

    def on_new_client(self) -> ClientDialog:
        dialog = self.new_client_dialog()
        open_dialog(dialog, lambda: None)
        return dialog

    def _registered(self, dialog: ClientDialog) -> None:
        client: ClientSummary = dialog.saved
        self.model.set_rows([client])
        self.results_view.show()
        self.status_label.hide()
        self.results_view.setCurrentIndex(self.model.index(0, 0))
        self.choose(client)
