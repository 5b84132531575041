"""The administrator's view of the audit trail (newest first)."""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from carestation.domain.values import Actor, AuditEntry
from carestation.i18n import N_, _, ngettext
from carestation.services.audit_labels import action_title, result_title, role_title
from carestation.services.audit_queries import AuditQueries
from carestation.ui.prompts import Prompter
from carestation.ui.table_model import SORT_ROLE, Column, RecordTableModel
from carestation.ui.views.base import View, attempt

LIMIT = 1000


class AuditView(View):
    TITLE = N_("Audit trail")

    def __init__(
        self,
        audit: AuditQueries,
        actor: Actor,
        prompter: Prompter,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._audit = audit
        self._actor = actor
        self._prompter = prompter
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
        self.table = QTableView()
        self.table.setObjectName("audit_table")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.filter = QLineEdit()
        self.filter.setObjectName("audit_filter")
        self.filter.setPlaceholderText(_("Filter by user, action, result..."))
        self.filter.setAccessibleName(_("Filter"))
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        reload_btn = QPushButton(_("Reload"))
        reload_btn.clicked.connect(self.refresh)
        bar = QHBoxLayout()
        bar.addWidget(self.filter, 1)
        bar.addWidget(reload_btn)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.table)
        layout.addWidget(
            QLabel(
                ngettext(
                    "The newest entry is shown.", "The newest {n} entries are shown.", LIMIT
                ).format(n=LIMIT)
            )
        )

    def refresh(self) -> None:
        rows = attempt(
            self, self._prompter, lambda: self._audit.entries(actor=self._actor, limit=LIMIT)
        )
        self.model.set_rows(rows or [])
        self.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)

    def clear(self) -> None:
        self.model.clear()
