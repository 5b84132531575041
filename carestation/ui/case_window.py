"""A case (个案) on screen: its header, the client's crisis banner, the timeline of what happened,
and opening, changing and closing a case."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from carestation.assessments import InstrumentDefinitionError, load_instrument
from carestation.domain.errors import CareStationError, PermissionDenied, ValidationError
from carestation.domain.records import CaseDetail, CaseSummary, TimelineItem, TimelineKind
from carestation.domain.roles import Permission
from carestation.domain.values import Actor
from carestation.domain.vocab import CaseOutcome, RiskLevel, Topic
from carestation.i18n import _, current_language, ngettext
from carestation.services.container import Services
from carestation.ui.client_picker import ClientPicker
from carestation.ui.crisis_widgets import CrisisBanner, RaiseFlagDialog
from carestation.ui.keyboard import buttons_last, enter_opens
from carestation.ui.note_editor import NoteEditor, moment_text
from carestation.ui.prompts import Prompter
from carestation.ui.record_panel import FormDialog, open_dialog
from carestation.ui.style import set_tone
from carestation.ui.table_model import Column, RecordTableModel
from carestation.ui.views.base import attempt


def topics_text(topics: Iterable[Topic]) -> str:
    return ", ".join(t.title for t in topics)


def case_status_text(case: CaseSummary) -> str:
    """ "In progress", or "Closed: Improved"."""
    if case.is_open or case.outcome is None:
        return case.status.title
    return _("{status}: {outcome}").format(status=case.status.title, outcome=case.outcome.title)


def assessment_names(code: str, band: str) -> tuple[str, str]:
    """The questionnaire's short title and the band's label in the current language; the stored
    codes when the definition is unknown (an instrument retired since)."""
    try:
        instrument = load_instrument(code)
        language = current_language()
        return instrument.short_title(language), instrument.band(band).label(language)
    except (ValueError, InstrumentDefinitionError):
        return code, band


def timeline_details(item: TimelineItem) -> str:
    """What the timeline says about an event: statuses and figures, never text or reasons."""
    kind = item.kind
    if kind is TimelineKind.APPOINTMENT:
        parts = [
            item.appointment_type.title if item.appointment_type else "",
            item.appointment_status.title if item.appointment_status else "",
        ]
        return " · ".join(p for p in parts if p)
    if kind is TimelineKind.NOTE:
        parts = [item.note_status.title if item.note_status else "", item.author_name or ""]
        if item.addenda_count:
            parts.append(
                ngettext("{n} addendum", "{n} addenda", item.addenda_count).format(
                    n=item.addenda_count
                )
            )
        return " · ".join(p for p in parts if p)
    if kind is TimelineKind.ASSESSMENT:
        instrument, band = assessment_names(item.instrument or "", item.band or "")
        return _("{instrument}: total {total}, {band}").format(
            instrument=instrument or "—",
            total="—" if item.total is None else item.total,
            band=band or "—",
        )
    if kind is TimelineKind.FOLLOW_UP:
        return _("Recorded") if item.done else _("Due")
    if kind is TimelineKind.CASE_CLOSED and item.outcome is not None:
        return _("Outcome: {outcome}").format(outcome=item.outcome.title)
    return ""


def timeline_columns() -> list[Column[TimelineItem]]:
    return [
        Column(lambda: _("When"), lambda i: moment_text(i.at)),
        Column(lambda: _("What"), lambda i: i.kind.title),
        Column(lambda: _("Details"), timeline_details),
    ]


def _plain_label(object_name: str) -> QLabel:
    label = QLabel(objectName=object_name, wordWrap=True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


# --- the small forms -------------------------------------------------------------------------------
class _CaseForm(FormDialog):
    """A form whose service refusals (a consent missing, an open crisis flag, a stale version)
    are shown in the dialog, above its buttons, with everything typed kept."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        prompter: Prompter,
        title: str,
        object_name: str,
        parent: QWidget | None,
    ) -> None:
        super().__init__(prompter, title, object_name, parent)
        self._services, self._actor = services, actor
        self.refusal_label = QLabel(objectName="error_refused", wordWrap=True)
        self.refusal_label.setTextFormat(Qt.TextFormat.PlainText)
        set_tone(self.refusal_label, "error")
        self.refusal_label.hide()

    def finish(self) -> None:
        self.layout().addWidget(self.refusal_label)
        self.errors.register("refused", self.refusal_label)
        super().finish()

    def topic_boxes(self) -> tuple[QWidget, dict[Topic, QCheckBox]]:
        box = QWidget(objectName="topics_box")
        box.setAccessibleName(_("Topics"))
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        checks: dict[Topic, QCheckBox] = {}
        for n, topic in enumerate(Topic):
            check = QCheckBox(topic.title, box, objectName=f"topic_{topic.value}")
            check.setAccessibleName(topic.title)
            grid.addWidget(check, n // 2, n % 2)
            checks[topic] = check
        return box, checks

    def risk_combo(self, current: RiskLevel | None) -> QComboBox:
        combo = QComboBox(objectName="risk_combo")
        combo.setAccessibleName(_("Risk level"))
        combo.setPlaceholderText(_("Choose a risk level"))
        for level in RiskLevel:
            combo.addItem(level.title, level.value)
        combo.setCurrentIndex(combo.findData(current.value) if current is not None else -1)
        return combo

    def save(self) -> object:
        try:
            return self.apply()
        except (ValidationError, PermissionDenied):
            raise
        except CareStationError as exc:
            raise ValidationError({"refused": str(exc)}) from exc

    def apply(self) -> object:
        raise NotImplementedError


class OpenCaseDialog(_CaseForm):
    """Opens a case for a client with the signed-in counsellor: its topics (at least one) and
    risk level. Without `client_id`, the client is first found with the client picker."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        prompter: Prompter,
        *,
        client_id: int | None,
        client_label: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(services, actor, prompter, _("Open a case"), "open_case_dialog", parent)
        self._client_id = client_id
        self.picker: ClientPicker | None = None
        if client_id is None:
            self.picker = self.row(
                "client",
                _("&Client"),
                ClientPicker(services.clients, actor, prompter, station_id=actor.station_id),
            )
        else:
            label = _plain_label("case_client")
            label.setText(client_label)
            self.form.addRow(_("Client"), label)
        box, self.topic_checks = self.topic_boxes()
        self.row("topics", _("Topics"), box)
        self.risk = self.row("risk_level", _("&Risk level"), self.risk_combo(None))
        self.finish()
        self.ok_button.setText(_("&Open the case"))
        if self.picker is not None:
            self.picker.client_chosen.connect(
                lambda _c: self.topic_checks[Topic.WORK_STRESS].setFocus()
            )
            self.picker.setFocus()
        else:
            self.topic_checks[Topic.WORK_STRESS].setFocus()

    def problems(self) -> dict[str, str]:
        if self.picker is not None and self.picker.chosen is None:
            return {"client": _("Find the client and choose them from the list first.")}
        return {}

    def chosen_client(self) -> int:
        if self.picker is not None:
            assert self.picker.chosen is not None
            return self.picker.chosen.id
        assert self._client_id is not None
        return self._client_id

    def apply(self) -> CaseSummary:
        return self._services.cases.open_case(
            self._actor,
            client_id=self.chosen_client(),
            topics=[t for t, check in self.topic_checks.items() if check.isChecked()],
            risk_level=self.risk.currentData(),
        )


class EditCaseDialog(_CaseForm):
    """The case's topics and risk level, changed by its counsellor."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        prompter: Prompter,
        case: CaseSummary,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            services, actor, prompter, _("Change the case"), "edit_case_dialog", parent
        )
        self._case = case
        label = _plain_label("case_client")
        label.setText(case.client_code)
        self.form.addRow(_("Client code"), label)
        box, self.topic_checks = self.topic_boxes()
        for topic, check in self.topic_checks.items():
            check.setChecked(topic in case.topics)
        self.row("topics", _("Topics"), box)
        self.risk = self.row("risk_level", _("&Risk level"), self.risk_combo(case.risk_level))
        self.finish()
        next(iter(self.topic_checks.values())).setFocus()

    def apply(self) -> CaseSummary:
        return self._services.cases.update_case(
            self._actor,
            self._case.id,
            topics=[t for t, check in self.topic_checks.items() if check.isChecked()],
            risk_level=self.risk.currentData(),
            expected_version=self._case.version,
        )


class CloseCaseDialog(_CaseForm):
    """The case's outcome and its closing summary (required; kept encrypted)."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        prompter: Prompter,
        case: CaseSummary,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            services, actor, prompter, _("Close the case"), "close_case_dialog", parent
        )
        self._case = case
        label = _plain_label("case_client")
        label.setText(case.client_code)
        self.form.addRow(_("Client code"), label)
        self.outcome_combo = self.row(
            "outcome", _("&Outcome"), QComboBox(objectName="outcome_combo")
        )
        self.outcome_combo.setAccessibleName(_("Outcome"))
        self.outcome_combo.setPlaceholderText(_("Choose the outcome"))
        for outcome in CaseOutcome:
            self.outcome_combo.addItem(outcome.title, outcome.value)
        self.outcome_combo.setCurrentIndex(-1)  # a deliberate choice: it goes into the reports
        self.summary_edit = self.row(
            "summary",
            _("Closing &summary"),
            QPlainTextEdit(
                objectName="closing_summary_edit",
                placeholderText=_("What the work was about, what changed, what was agreed."),
            ),
        )
        self.summary_edit.setAccessibleName(_("Closing summary"))
        self.summary_edit.setTabChangesFocus(True)
        self.summary_edit.setMinimumHeight(140)
        self.finish()
        self.ok_button.setText(_("C&lose the case"))
        self.outcome_combo.setFocus()

    def apply(self) -> CaseSummary:
        return self._services.cases.close_case(
            self._actor,
            self._case.id,
            outcome=self.outcome_combo.currentData(),
            summary=self.summary_edit.toPlainText(),
            expected_version=self._case.version,
        )


# --- the case window -------------------------------------------------------------------------------
class CaseDialog(QDialog):
    """One case: who and what it is about, the client's crisis banner, the timeline (double-click
    a session or a note to open the session's note), and raising a flag or closing the case."""

    case_changed = Signal(int)  # the case's id

    def __init__(
        self,
        services: Services,
        actor: Actor,
        prompter: Prompter,
        *,
        case_id: int,
        parent: QWidget | None = None,
    ) -> None:
        # Neutral title: no client in window lists or screen sharing.
        super().__init__(parent, objectName="case_dialog", windowTitle=_("Case"))
        self._services, self._actor, self._prompter = services, actor, prompter
        self.case_id = case_id
        self.detail: CaseDetail | None = None
        self._wiped = False

        self.banner = CrisisBanner(services.crisis, actor, prompter, self)
        self.banner.flag_cleared.connect(lambda _flag: self.reload())

        self.labels: dict[str, QLabel] = {}
        header = QFormLayout()
        right = QFormLayout()
        for form, key, title in (
            (header, "client_code", _("Client code")),
            (header, "counsellor", _("Counsellor")),
            (header, "station", _("Station")),
            (header, "opened", _("Opened")),
            (right, "status", _("Status")),
            (right, "risk", _("Risk level")),
            (right, "topics", _("Topics")),
        ):
            label = _plain_label(f"case_{key}")
            self.labels[key] = label
            form.addRow(title, label)
        self.edit_button = QPushButton(_("&Edit..."), objectName="edit_case", autoDefault=False)
        self.edit_button.setToolTip(_("Change the topics and the risk level"))
        self.edit_button.clicked.connect(self.on_edit)
        columns = QHBoxLayout()
        columns.addLayout(header, 1)
        columns.addLayout(right, 1)
        columns.addWidget(self.edit_button, 0, Qt.AlignmentFlag.AlignTop)

        self.closing_box = QGroupBox(_("Closing summary"), objectName="closing_box")
        self.closed_label = _plain_label("case_closed")
        self.summary_view = QPlainTextEdit(objectName="closing_summary", readOnly=True)
        self.summary_view.setAccessibleName(_("Closing summary"))
        self.summary_view.setTabChangesFocus(True)
        self.summary_view.setMaximumHeight(130)
        closing = QVBoxLayout(self.closing_box)
        closing.addWidget(self.closed_label)
        closing.addWidget(self.summary_view)
        self.closing_box.hide()

        self.timeline_model: RecordTableModel[TimelineItem] = RecordTableModel(
            timeline_columns(), self
        )
        timeline_title = QLabel(_("Timeline"))
        bold = QFont(timeline_title.font())
        bold.setBold(True)
        timeline_title.setFont(bold)
        self.timeline = QTableView(objectName="timeline_table", accessibleName=_("Timeline"))
        self.timeline.setModel(self.timeline_model)
        self.timeline.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.timeline.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.timeline.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.timeline.setTabKeyNavigation(False)
        self.timeline.setAlternatingRowColors(True)
        self.timeline.verticalHeader().hide()
        head = self.timeline.horizontalHeader()
        head.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        head.setStretchLastSection(True)
        self.timeline.doubleClicked.connect(self._row_activated)
        enter_opens(self.timeline)
        self.timeline.selectionModel().selectionChanged.connect(self._update_buttons)
        timeline_title.setBuddy(self.timeline)

        self.note_button = QPushButton(
            _("Session &note..."), objectName="open_note", autoDefault=False
        )
        self.note_button.setToolTip(_("Open the note of the selected session (or double-click it)"))
        self.note_button.clicked.connect(self.open_selected_note)
        self.flag_button = QPushButton(
            _("Raise crisis &flag..."), objectName="raise_flag", autoDefault=False
        )
        self.flag_button.clicked.connect(self.on_raise_flag)
        self.questionnaire_button = QPushButton(
            _("&Questionnaire..."), objectName="give_questionnaire", autoDefault=False
        )
        self.questionnaire_button.setToolTip(
            _("Give a questionnaire now, linked to this case and the selected session")
        )
        self.questionnaire_button.clicked.connect(self.give_questionnaire)
        self.close_case_button = QPushButton(
            _("C&lose case..."), objectName="close_case", autoDefault=False
        )
        self.close_case_button.clicked.connect(self.on_close_case)
        done = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        done.rejected.connect(self.reject)
        buttons = QHBoxLayout()
        for button in (
            self.note_button,
            self.questionnaire_button,
            self.flag_button,
            self.close_case_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(done)

        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addLayout(columns)
        layout.addWidget(self.closing_box)
        layout.addSpacing(8)
        layout.addWidget(timeline_title)
        layout.addWidget(self.timeline, 1)
        layout.addLayout(buttons)
        buttons_last(self, box=done)
        self.reload()
        self.resize(900, 680)

    # --- loading ------------------------------------------------------------------------------
    @property
    def case(self) -> CaseSummary | None:
        return self.detail.case if self.detail is not None else None

    def reload(self) -> None:
        detail = attempt(
            self, self._prompter, lambda: self._services.cases.get_case(self._actor, self.case_id)
        )
        self.detail = detail
        if detail is None:
            self._fill_header(None)
            self.timeline_model.set_rows([])
            self.banner.clear()
            self._update_buttons()
            return
        self._fill_header(detail)
        self.banner.show_for(detail.case.client_id)
        self.reload_timeline()

    def reload_timeline(self) -> None:
        if self._wiped:
            return  # a note window saving as it closes for a lock: nothing to show any more
        items = attempt(
            self, self._prompter, lambda: self._services.cases.timeline(self._actor, self.case_id)
        )
        self.timeline_model.set_rows(items or [])
        self._update_buttons()

    def _fill_header(self, detail: CaseDetail | None) -> None:
        for label in self.labels.values():
            label.clear()
        self.summary_view.clear()
        self.closed_label.clear()
        self.closing_box.hide()
        if detail is None:
            return
        case = detail.case
        text = self.labels
        text["client_code"].setText(case.client_code)
        text["counsellor"].setText(case.counsellor_name)
        text["station"].setText(case.station_name)
        text["opened"].setText(moment_text(case.opened_at))
        text["status"].setText(case_status_text(case))
        text["risk"].setText(case.risk_level.title)
        high = case.risk_level is RiskLevel.HIGH
        # In bold words ("High"), not by colour alone.
        set_tone(text["risk"], "error" if high else None, bold=high)
        text["topics"].setText(topics_text(case.topics))
        if not case.is_open:
            closed = moment_text(case.closed_at) if case.closed_at else "—"
            self.closed_label.setText(
                _("Closed on {date} by {name}. Outcome: {outcome}").format(
                    date=closed,
                    name=detail.closed_by_name or "—",
                    outcome=case.outcome.title if case.outcome else "—",
                )
            )
            if detail.closing_summary is not None:
                self.summary_view.setPlainText(detail.closing_summary)
                self.summary_view.show()
            else:
                self.summary_view.hide()
            self.closing_box.show()

    def _is_counsellor(self) -> bool:
        case = self.case
        return case is not None and case.counsellor_id == self._actor.user_id

    def _update_buttons(self) -> None:
        case = self.case
        open_case = case is not None and case.is_open
        self.edit_button.setVisible(open_case and self._is_counsellor())
        self.close_case_button.setVisible(open_case and self._is_counsellor())
        self.flag_button.setVisible(open_case and self._actor.can(Permission.KEEP_CASE_RECORDS))
        self.questionnaire_button.setVisible(
            open_case and self._actor.can(Permission.GIVE_ASSESSMENTS)
        )
        self.note_button.setEnabled(self._note_appointment(self.selected()) is not None)

    def selected(self) -> TimelineItem | None:
        rows = self.timeline.selectionModel().selectedRows()
        return self.timeline_model.row_value(rows[0].row()) if rows else None

    @staticmethod
    def _note_appointment(item: TimelineItem | None) -> int | None:
        if item is None or item.kind not in (TimelineKind.APPOINTMENT, TimelineKind.NOTE):
            return None
        return item.appointment_id

    def _has_note(self, appointment_id: int) -> bool:
        return any(
            i.kind is TimelineKind.NOTE and i.appointment_id == appointment_id
            for i in self.timeline_model.rows()
        )

    # --- actions ------------------------------------------------------------------------------
    def give_questionnaire(self) -> QDialog | None:
        from carestation.ui.assessment_dialog import AssessmentDialog

        case = self.case
        if case is None:
            return None
        item = self.selected()
        appointment_id = (
            item.appointment_id
            if item is not None and item.kind is TimelineKind.APPOINTMENT
            else None
        )
        dialog = AssessmentDialog(
            self._services.assessments,
            self._actor,
            self._prompter,
            client_id=case.client_id,
            client_label=case.client_code,
            case_id=self.case_id,
            appointment_id=appointment_id,
            parent=self,
        )
        dialog.form_recorded.connect(lambda _form: self.reload())
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def _row_activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.open_note_for(self.timeline_model.row_value(index.row()))

    def open_selected_note(self) -> NoteEditor | None:
        return self.open_note_for(self.selected())

    def open_note_for(self, item: TimelineItem | None) -> NoteEditor | None:
        appointment_id = self._note_appointment(item)
        if appointment_id is None:
            return None
        if not self._has_note(appointment_id) and not self._is_counsellor():
            self._prompter.info(
                self, _("Session note"), _("No note has been written for this session yet.")
            )
            return None
        editor = NoteEditor(
            self._services,
            self._actor,
            self._prompter,
            appointment_id=appointment_id,
            parent=self,
        )
        editor.note_changed.connect(lambda _id: self.reload_timeline())
        editor.finished.connect(editor.deleteLater)
        editor.open()
        return editor

    def on_raise_flag(self) -> RaiseFlagDialog | None:
        case = self.case
        if case is None:
            return None
        dialog = RaiseFlagDialog(
            self._services.crisis,
            self._actor,
            self._prompter,
            client_id=case.client_id,
            client_label=case.client_code,
            station_id=case.station_id,
            case_id=case.id,
            parent=self,
        )
        open_dialog(dialog, self.reload)
        return dialog

    def on_edit(self) -> EditCaseDialog | None:
        case = self.case
        if case is None:
            return None
        dialog = EditCaseDialog(self._services, self._actor, self._prompter, case, self)
        open_dialog(dialog, self._changed)
        return dialog

    def on_close_case(self) -> CloseCaseDialog | None:
        case = self.case
        if case is None:
            return None
        dialog = CloseCaseDialog(self._services, self._actor, self._prompter, case, self)
        open_dialog(dialog, self._changed)
        return dialog

    def _changed(self) -> None:
        self.reload()
        self.case_changed.emit(self.case_id)

    # --- lock and sign-out --------------------------------------------------------------------
    def clear(self) -> None:
        """Closes the case's note windows (saving drafts), forgets everything shown, closes."""
        if self._wiped:
            return
        self._wiped = True
        for editor in self.findChildren(NoteEditor):
            editor.clear()
        self.detail = None
        self._fill_header(None)
        self.timeline_model.set_rows([])
        self.banner.clear()
        self.done(QDialog.DialogCode.Rejected)


def close_record_windows(root: QWidget) -> bool:
    """Saves and closes every session-note and case window under `root` (for the main window's
    lock and sign-out). False when some draft could not be saved."""
    saved = True
    for editor in root.findChildren(NoteEditor):
        if not editor.wiped:
            saved = editor.flush() and saved
            editor.clear()
    for dialog in root.findChildren(CaseDialog):
        dialog.clear()
    return saved
