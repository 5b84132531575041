"""The administrator's view of the audit trail (newest first): filtered by the database, searched
in the list, and checked for tampering."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Any

from PySide6.QtCore import QDate, QObject, QRunnable, QSortFilterProxyModel, Qt, QThreadPool, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from carestation.domain.errors import CareStationError
from carestation.domain.values import Actor, AuditEntry
from carestation.i18n import N_, _, ngettext
from carestation.services.audit import VerifyResult
from carestation.services.audit_labels import (
    ACTIONS,
    RESULTS,
    action_title,
    result_title,
    role_title,
)
from carestation.services.audit_queries import AuditQueries
from carestation.services.key_admin import KeyAdminService
from carestation.ui.prompts import Prompter
from carestation.ui.table_model import SORT_ROLE, Column, RecordTableModel
from carestation.ui.views.base import View, attempt

LIMIT = 1000
DEFAULT_DAYS = 30


def local_midnight(day: date) -> datetime:
    """The start of `day` on this PC's clock, as an aware datetime (the trail is shown so too)."""
    return datetime.combine(day, time.min).astimezone()


def verify_message(result: VerifyResult) -> str:
    """The outcome of checking the chain, in plain words."""
    if result.ok:
        return ngettext(
            "The audit trail is intact: {count} entry checked.",
            "The audit trail is intact: {count} entries checked.",
            result.checked,
        ).format(count=result.checked)
    if result.broken_id is None:
        return _(
            "The audit trail has been tampered with: {reason}. The {count} entries found are "
            "intact."
        ).format(reason=result.reason, count=result.checked)
    if result.broken_seq is None:
        return _(
            "The audit trail has been tampered with: entry #{id} — {reason}. Entries before it "
            "are intact."
        ).format(id=result.broken_id, reason=result.reason)
    return _(
        "The audit trail has been tampered with: entry #{id} (position {seq}) — {reason}. "
        "Entries before it are intact."
    ).format(id=result.broken_id, seq=result.broken_seq, reason=result.reason)


class _VerifySignals(QObject):
    """Carries the check's outcome to the GUI thread: (generation, VerifyResult or error)."""

    finished = Signal(int, object)


class _VerifyJob(QRunnable):
    def __init__(
        self, verify: Callable[[], VerifyResult], generation: int, signals: _VerifySignals
    ) -> None:
        super().__init__()
        self._verify, self._generation, self._signals = verify, generation, signals

    def run(self) -> None:
        result: object
        try:
            result = self._verify()
        except Exception as exc:  # shown on the GUI thread, never raised in a worker
            result = exc
        with contextlib.suppress(RuntimeError):  # the screen was closed meanwhile
            self._signals.finished.emit(self._generation, result)


class AuditView(View):
    TITLE = N_("Audit trail")

    def __init__(
        self,
        audit: AuditQueries,
        keys: KeyAdminService,
        actor: Actor,
        prompter: Prompter,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, objectName="audit_view")
        self._audit = audit
        self._keys = keys
        self._actor = actor
        self._prompter = prompter
        # Created first, so it is destroyed first: its destructor waits for a running check.
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _VerifySignals(self)
        self._signals.finished.connect(self._verified)
        self._generation = 0
        self.verifying = False

        self.model: RecordTableModel[AuditEntry] = RecordTableModel(
            [
                Column(
                    lambda: _("When"),
                    lambda e: e.occurred_at.astimezone().strftime("%Y-%m-%d %H:%M:%S"),
                    sort_key=lambda e: e.id,
                ),
                Column(lambda: _("User"), lambda e: e.username),
                Column(lambda: _("Role"), lambda e: role_title(e.role)),
                Column(lambda: _("Station"), lambda e: e.station_name),
                Column(
                    lambda: _("Action"),
                    lambda e: action_title(e.action),
                    tooltip=lambda e: e.action,
                ),
                Column(lambda: _("Record"), lambda e: f"{e.object_type} {e.object_ref}".strip()),
                Column(lambda: _("Result"), lambda e: result_title(e.result)),
                Column(lambda: _("Detail"), lambda e: e.detail),
            ],
            self,
        )
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

        # --- the database's filters ----------------------------------------------------------
        self.username_edit = QLineEdit(objectName="audit_username")
        self.username_edit.setAccessibleName(_("User name"))
        self.username_edit.setClearButtonEnabled(True)
        self.action_combo = QComboBox(objectName="audit_action")
        self.action_combo.setAccessibleName(_("Action"))
        self.action_combo.addItem(_("All actions"), "")
        for code in ACTIONS:
            self.action_combo.addItem(action_title(code), code)
        self.action_combo.setMaxVisibleItems(20)
        self.object_edit = QLineEdit(objectName="audit_object_ref")
        self.object_edit.setAccessibleName(_("Record reference"))
        self.object_edit.setPlaceholderText(_("Client code or record number"))
        self.object_edit.setClearButtonEnabled(True)
        self.result_combo = QComboBox(objectName="audit_result")
        self.result_combo.setAccessibleName(_("Result"))
        self.result_combo.addItem(_("All results"), "")
        for code in RESULTS:
            self.result_combo.addItem(result_title(code), code)
        today = self._today()
        self.since_edit = self._date_edit("audit_since", _("From date"))
        self.until_edit = self._date_edit("audit_until", _("To date"))
        self.since_edit.dateChanged.connect(self.until_edit.setMinimumDate)
        self.since_edit.setDate(_qdate(today - timedelta(days=DEFAULT_DAYS - 1)))
        self.until_edit.setDate(_qdate(today))
        self.apply_button = QPushButton(_("A&pply"), objectName="audit_apply", autoDefault=False)
        self.apply_button.clicked.connect(self.refresh)
        for edit in (self.username_edit, self.object_edit):
            edit.returnPressed.connect(self.refresh)

        filters = QGridLayout()
        cells: list[tuple[str, QWidget]] = [
            (_("&User name"), self.username_edit),
            (_("&Action"), self.action_combo),
            (_("Rec&ord"), self.object_edit),
            (_("R&esult"), self.result_combo),
            (_("&From"), self.since_edit),
            (_("&To"), self.until_edit),
        ]
        for i, (text, widget) in enumerate(cells):
            row, column = divmod(i, 3)
            label = QLabel(text)
            label.setBuddy(widget)
            filters.addWidget(label, row, column * 2)
            # The last field of the first row reaches over the Apply button's column.
            span = 2 if (row, column) == (0, 2) else 1
            filters.addWidget(widget, row, column * 2 + 1, 1, span)
        for column in (1, 3, 5):
            filters.setColumnStretch(column, 1)
        filters.addWidget(self.apply_button, 1, 6)

        # --- searching what is shown, and checking the chain ---------------------------------
        self.filter = QLineEdit(objectName="audit_filter")
        self.filter.setPlaceholderText(_("Find in the list: user, action, result..."))
        self.filter.setAccessibleName(_("Find in the list"))
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.verify_button = QPushButton(
            _("&Verify the chain"), objectName="verify_audit", autoDefault=False
        )
        self.verify_button.setToolTip(
            _("Checks that no entry of the whole audit trail was changed, removed or inserted.")
        )
        self.verify_button.clicked.connect(self.verify)
        bar = QHBoxLayout()
        bar.addWidget(self.filter, 1)
        bar.addWidget(self.verify_button)

        self.table = QTableView(objectName="audit_table")
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.table.setAccessibleName(_("Audit trail"))
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setTabKeyNavigation(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.count_label = QLabel(objectName="audit_count")

        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addLayout(bar)
        layout.addWidget(self.table)
        layout.addWidget(self.count_label)
        order = [w for _text, w in cells] + [
            self.apply_button,
            self.filter,
            self.verify_button,
            self.table,
        ]
        for first, second in pairwise(order):
            QWidget.setTabOrder(first, second)

    def _date_edit(self, name: str, accessible: str) -> QDateEdit:
        edit = QDateEdit(objectName=name, calendarPopup=True)
        edit.setAccessibleName(accessible)
        edit.setDisplayFormat("yyyy-MM-dd")
        return edit

    def _today(self) -> date:
        # The service's clock decides what "today" is (a fixed one in tests).
        return self._audit.clock.now().astimezone().date()

    # --- loading ---------------------------------------------------------------------------
    def filters(self) -> dict[str, Any]:
        """The filters as the service takes them; `until` is the start of the day after "To"."""
        since: date = self.since_edit.date().toPython()  # type: ignore[assignment]
        until: date = self.until_edit.date().toPython()  # type: ignore[assignment]
        return {
            "username": self.username_edit.text().strip() or None,
            "action": self.action_combo.currentData() or None,
            "object_ref": self.object_edit.text().strip() or None,
            "result": self.result_combo.currentData() or None,
            "since": local_midnight(since),
            "until": local_midnight(until + timedelta(days=1)),
        }

    def search_field(self) -> QWidget:
        return self.filter

    def refresh(self) -> None:
        filters = self.filters()
        rows = attempt(
            self,
            self._prompter,
            lambda: self._audit.entries(actor=self._actor, limit=LIMIT, **filters),
        )
        rows = rows or []
        self.model.set_rows(rows)
        self.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        if len(rows) >= LIMIT:
            text = _(
                "Only the newest {count} matching entries are shown; narrow the filters to see "
                "older ones."
            ).format(count=LIMIT)
        else:
            text = ngettext(
                "{count} matching entry.", "{count} matching entries.", len(rows)
            ).format(count=len(rows))
        self.count_label.setText(text)

    # --- checking the chain ----------------------------------------------------------------
    def verify(self) -> None:
        """Walks the whole chain in the background; the outcome is shown in a message."""
        if self.verifying:
            return
        self.verifying = True
        self.verify_button.setEnabled(False)
        self.verify_button.setText(_("Checking..."))
        self._generation += 1
        actor, keys = self._actor, self._keys
        self._pool.start(
            _VerifyJob(lambda: keys.verify_audit(actor=actor), self._generation, self._signals)
        )

    def _verified(self, generation: int, outcome: object) -> None:
        self.verifying = False
        self.verify_button.setEnabled(True)
        self.verify_button.setText(_("&Verify the chain"))
        if generation != self._generation:
            return  # the screen was cleared meanwhile
        if isinstance(outcome, CareStationError):
            self._prompter.error(self, _("Verify the chain"), str(outcome))
            return
        if isinstance(outcome, BaseException):
            raise outcome
        assert isinstance(outcome, VerifyResult)
        if outcome.ok:
            self._prompter.info(self, _("Verify the chain"), verify_message(outcome))
        else:
            self._prompter.error(self, _("Verify the chain"), verify_message(outcome))
        self.refresh()  # the check itself is in the trail now

    def clear(self) -> None:
        self._generation += 1  # a check still running reports to nobody
        self.model.clear()
        self.count_label.clear()


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)
