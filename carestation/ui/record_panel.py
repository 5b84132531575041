"""Building blocks of the administration screens: a record table with buttons, a form dialog."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from carestation.i18n import _
from carestation.ui.forms import FieldErrors
from carestation.ui.prompts import Prompter
from carestation.ui.table_model import SORT_ROLE, RecordTableModel
from carestation.ui.views.base import attempt

W = TypeVar("W", bound=QWidget)
MAX_COLUMN_WIDTH = 320


def yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


class RecordPanel(QGroupBox):
    """A titled, sortable, read-only table of records (values with `id` and `active`) and a row
    of buttons that follow the selection."""

    def __init__(
        self,
        title: str,
        model: RecordTableModel[Any],
        object_name: str,
        proxy: QSortFilterProxyModel | None = None,
    ) -> None:
        super().__init__(title)
        self.model = model
        model.setParent(self)
        self.proxy = proxy or QSortFilterProxyModel(self)
        self.proxy.setSourceModel(model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setSortLocaleAware(True)
        self.proxy.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.table = QTableView(self, objectName=object_name, accessibleName=title)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)  # Tab moves on to the buttons
        self.table.setAlternatingRowColors(True)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.selectionModel().selectionChanged.connect(self.update_buttons)
        self.buttons = QHBoxLayout()
        self._rules: list[tuple[QPushButton, Callable[[Any], bool], bool]] = []
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addLayout(self.buttons)

    def add_button(
        self,
        text: str,
        object_name: str,
        slot: Callable[[], object],
        *,
        enabled_when: Callable[[Any], bool] = lambda record: record is not None,
        toggle: bool = False,
    ) -> QPushButton:
        """`toggle`: a Deactivate/Reactivate button whose text follows the selected record."""
        result = QPushButton(text, self, objectName=object_name, autoDefault=False)
        result.clicked.connect(slot)
        self.buttons.addWidget(result)
        self._rules.append((result, enabled_when, toggle))
        return result

    def update_buttons(self) -> None:
        record = self.selected()
        for b, enabled_when, toggle in self._rules:
            b.setEnabled(enabled_when(record))
            if toggle:
                b.setText(_("Reactivate") if record and not record.active else _("Deactivate"))

    def selected(self) -> Any:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_value(self.proxy.mapToSource(rows[0]).row()) if rows else None

    def set_rows(self, rows: Sequence[Any], *, select_id: int | None = None) -> None:
        self.model.set_rows(rows)
        # Fit the columns to their text, within reason; the full text is in each cell's tooltip.
        self.table.resizeColumnsToContents()
        header = self.table.horizontalHeader()
        for column in range(header.count() - 1):
            header.resizeSection(column, min(header.sectionSize(column), MAX_COLUMN_WIDTH))
        for row, value in enumerate(rows):
            index = self.proxy.mapFromSource(self.model.index(row, 0))
            if value.id == select_id and index.isValid():
                self.table.setCurrentIndex(index)
                self.table.scrollTo(index)
                break
        self.update_buttons()

    def toggle_selected(
        self, prompter: Prompter, title: str, question: str, set_active: Callable[[bool], object]
    ) -> bool:
        """Deactivates the selected record once the user confirms, or reactivates it; True when
        the service did it."""
        record = self.selected()
        if record is None or (record.active and not prompter.confirm(self, title, question)):
            return False
        return attempt(self, prompter, lambda: set_active(not record.active)) is not None


class FormDialog(QDialog):
    """A form saved through a service on OK: it closes on success and otherwise stays open with
    the service's messages beside the fields. Subclasses add rows, then call `finish()`."""

    def __init__(
        self, prompter: Prompter, title: str, object_name: str, parent: QWidget | None
    ) -> None:
        super().__init__(parent, objectName=object_name, windowTitle=title)
        # Station names run to twenty characters or more; leave room for them.
        self.setMinimumWidth(560)
        self._prompter = prompter
        self.saved: Any = None
        self.errors = FieldErrors()
        self.form = QFormLayout()
        QVBoxLayout(self).addLayout(self.form)

    def row(self, key: str, label: str, widget: W, form: QFormLayout | None = None) -> W:
        self.errors.add_row(form or self.form, key, label, widget)
        return widget

    def finish(self) -> None:
        # Created last, so the tab order runs through the fields first.
        box = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok_button = box.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setDefault(True)
        box.accepted.connect(self.on_ok)
        box.rejected.connect(self.reject)
        self.layout().addWidget(box)

    def problems(self) -> dict[str, str]:
        """Problems found before asking the service (such as two passwords that differ)."""
        return {}

    # Each dialog defines `save`: it calls the service and returns what was saved.
    save: Callable[[], Any]

    def on_ok(self) -> None:
        problems = self.problems()
        if problems:
            self.errors.show(problems)
            self._fit()
            return
        saved = attempt(self, self._prompter, self.save, errors=self.errors)
        if saved is not None:
            self.saved = saved
            self.accept()
        else:
            self._fit()

    def _fit(self) -> None:
        """Grows the window for the messages just shown, so they never overlap the next field."""
        self.layout().activate()
        self.resize(self.width(), max(self.height(), self.sizeHint().height()))


def open_dialog(dialog: QDialog, on_accepted: Callable[[], None]) -> None:
    """Window-modal but not blocking, so the caller (and a test) keeps control."""
    dialog.accepted.connect(on_accepted)
    dialog.finished.connect(dialog.deleteLater)
    dialog.open()
