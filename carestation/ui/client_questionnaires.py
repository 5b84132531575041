"""The Questionnaires tab of the client record: trends and raw answers, giving a questionnaire
in the session, and the personal wellbeing report."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QDialog, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from carestation.domain.values import Actor
from carestation.i18n import _
from carestation.services.container import Services
from carestation.ui.assessment_dialog import AssessmentDialog
from carestation.ui.assessment_trends import AssessmentsPanel, client_loader
from carestation.ui.prompts import Prompter


class QuestionnairesTab(QWidget):
    """For counsellors (GIVE_ASSESSMENTS). Loads on first show: every reading is audited."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        prompter: Prompter,
        *,
        client_id: int,
        client_code: Callable[[], str],
        on_recorded: Callable[[], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, objectName="questionnaires_tab")
        self._services, self._actor, self._prompter = services, actor, prompter
        self._client_id = client_id
        self._client_code = client_code
        self._on_recorded = on_recorded
        self.panel = AssessmentsPanel(
            client_loader(services.assessments, actor, prompter, client_id=client_id, parent=self)
        )
        self.panel.questionnaire_requested.connect(self.give_questionnaire)
        self.report_button = QPushButton(
            _("&Personal report..."), objectName="personal_report", autoDefault=False
        )
        self.report_button.setToolTip(
            _("Print or save the personal wellbeing report the client takes home")
        )
        self.report_button.clicked.connect(self.personal_report)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.report_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.panel, 1)
        layout.addLayout(row)

    def reload(self) -> None:
        self.panel.reload()

    def clear(self) -> None:
        self.panel.clear()

    def give_questionnaire(self) -> QDialog:
        dialog = AssessmentDialog(
            self._services.assessments,
            self._actor,
            self._prompter,
            client_id=self._client_id,
            client_label=self._client_code(),
            parent=self,
        )
        dialog.form_recorded.connect(lambda _form: self._recorded())
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def personal_report(self) -> QDialog:
        from carestation.ui.personal_report_dialog import PersonalReportDialog

        dialog = PersonalReportDialog(
            self._services.reports,
            self._actor,
            self._prompter,
            client_id=self._client_id,
            client_code=self._client_code(),
            parent=self,
        )
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def _recorded(self) -> None:
        self.panel.reload()
        self._on_recorded()
