"""One client's record for station staff and counsellors: registered details and their
correction, consents (taken, withdrawn, the form printed for signature), and, for counsellors,
the client's cases and the disclosures of their information."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from html import escape
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from carestation.domain.booking import ClientSummary
from carestation.domain.errors import CareStationError, PermissionDenied
from carestation.domain.records import CaseSummary
from carestation.domain.rights import (
    MAX_RECIPIENT,
    ConsentRecord,
    ConsentWording,
    DisclosureRecord,
)
from carestation.domain.roles import Permission
from carestation.domain.values import Actor, Station
from carestation.domain.vocab import ConsentPurpose, DisclosureBasis, RiskLevel
from carestation.i18n import _, current_language
from carestation.services.consent import load_consent_wording
from carestation.services.container import Services
from carestation.ui.client_picker import ClientDialog
from carestation.ui.crisis_widgets import CrisisBanner, RaiseFlagDialog
from carestation.ui.keyboard import enter_opens
from carestation.ui.printing import Block, Printable, print_document
from carestation.ui.prompts import Prompter
from carestation.ui.record_panel import FormDialog, RecordPanel, open_dialog, yes_no
from carestation.ui.style import set_tone
from carestation.ui.table_model import Column, RecordTableModel
from carestation.ui.views.base import attempt
from carestation.ui.views.schedule_dialogs import date_edit, pydate, qdate

if TYPE_CHECKING:
    from carestation.ui.client_questionnaires import QuestionnairesTab

DEFAULT_ZONE = "Asia/Shanghai"
ShowPreview = Callable[[QWidget | None, Printable, str, Prompter], None]
_RISK_ORDER = {level: n for n, level in enumerate(RiskLevel)}
_BOLD = re.compile(r"\*\*(.+?)\*\*")
# A line with a blank to sign or date on (ASCII or full-width underscores).
_SIGNATURE = re.compile(r"_{4,}|＿{4,}")


# --- small helpers --------------------------------------------------------------------------------
def day_text(moment: datetime | date | None) -> str:
    return f"{moment:%Y-%m-%d}" if moment is not None else ""


def when_text(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment is not None else ""


def _value_label(object_name: str) -> QLabel:
    """A read-only value that never interprets what a user typed as rich text."""
    label = QLabel(objectName=object_name, wordWrap=True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _text_box(object_name: str, accessible: str, placeholder: str = "") -> QPlainTextEdit:
    edit = QPlainTextEdit(objectName=object_name, placeholderText=placeholder)
    edit.setAccessibleName(accessible)
    edit.setTabChangesFocus(True)  # Tab moves on, as in every other field
    edit.setMinimumHeight(70)
    edit.setMaximumHeight(120)
    return edit


# --- the consent wording as HTML ------------------------------------------------------------------
def _inline(text: str) -> str:
    return _BOLD.sub(r"<b>\1</b>", escape(text))


def wording_html(text: str, *, signing_space: bool = False) -> str:
    """A consent text's paragraphs, bullet lists and **bold**, as escaped HTML. With
    `signing_space`, a line with blanks to sign on gets room above it (for the printed form)."""
    parts: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        lines = [line.strip() for line in paragraph.splitlines() if line.strip()]
        if not lines:
            continue
        if all(line.startswith("- ") for line in lines):
            items = "".join(f"<li>{_inline(line[2:])}</li>" for line in lines)
            parts.append(f"<ul>{items}</ul>")
            continue
        style = ""
        if signing_space and _SIGNATURE.search(paragraph):
            style = ' style="margin-top: 22px; margin-bottom: 10px;"'
        parts.append(f"<p{style}>" + "<br/>".join(_inline(line) for line in lines) + "</p>")
    return "".join(parts)


def wording_document_html(wording: ConsentWording) -> str:
    """The whole form for reading on screen."""
    parts = [f"<h2>{escape(wording.title)}</h2>", wording_html(wording.introduction)]
    for section in wording.sections:
        parts.append(f"<h3>{escape(section.title)}</h3>")
        parts.append(wording_html(section.text))
    return "".join(parts)


def consent_form(
    *,
    wording: ConsentWording,
    client: ClientSummary,
    station_name: str,
    printed_on: date,
) -> Printable:
    """The consent form to print and sign: the client's code and name, the station and the date
    at the top, then every part of the form with its signature lines. The name is on the paper
    because the person signs it; it is never in the print job's name."""
    version = _("Form version {version}").format(version=wording.version)
    rows = (
        (_("Client code"), client.client_code),
        (_("Full name"), client.name),
        (_("Station"), station_name),
        (_("Date"), printed_on.isoformat()),
    )
    table = "".join(
        f'<tr><td class="label" width="22%">{escape(k)}</td><td class="value">{escape(v)}</td></tr>'
        for k, v in rows
    )
    blocks: list[Block] = [
        f"<h1>{escape(wording.title)}</h1>",
        f'<p class="small">{escape(version)}</p>',
        f'<table width="100%" cellspacing="0" cellpadding="3" style="margin-bottom: 10px;">'
        f"{table}</table>",
        wording_html(wording.introduction),
    ]
    for section in wording.sections:
        blocks.append(f"<h2>{escape(section.title)}</h2>")
        blocks.append(wording_html(section.text, signing_space=True))
    footer = _("Consent form, version {version}; client code {code}").format(
        version=wording.version, code=client.client_code
    )
    return Printable(tuple(blocks), footer=footer)


def consent_form_name() -> str:
    """The print job's and the PDF's name: neutral, never a person's name or code."""
    return _("CareStation consent form")


# --- consent state ------------------------------------------------------------------------------------
def consent_state(
    purpose: ConsentPurpose, records: Sequence[ConsentRecord], current_version: str | None
) -> tuple[str, bool]:
    """What to say about the purpose now, and whether a consent is in force."""
    mine = [r for r in records if r.purpose is purpose]
    active = next((r for r in reversed(mine) if r.in_force), None)
    if active is not None:
        text = _("Given on {date} (taken by {name}, form version {version})").format(
            date=day_text(active.given_at),
            name=active.taken_by or "—",
            version=active.wording_version,
        )
        if current_version and active.wording_version != current_version:
            text += "\n" + _("Given on an older form: ask the client to sign the current one.")
        return text, True
    withdrawn = [r for r in mine if r.withdrawn_at is not None]
    if withdrawn:
        last = max(withdrawn, key=lambda r: r.withdrawn_at or r.given_at)
        return _("Withdrawn on {date}").format(date=day_text(last.withdrawn_at)), False
    return _("Never given"), False


def consent_columns() -> list[Column[ConsentRecord]]:
    # The station last: its long name may be cut short, the rest is what staff look for.
    return [
        Column(lambda: _("Purpose"), lambda r: r.purpose.title),
        Column(lambda: _("In force"), lambda r: yes_no(r.in_force)),
        Column(
            lambda: _("Given on"), lambda r: when_text(r.given_at), sort_key=lambda r: r.given_at
        ),
        Column(lambda: _("Taken by"), lambda r: r.taken_by),
        Column(lambda: _("Form version"), lambda r: r.wording_version),
        Column(
            lambda: _("Withdrawn on"),
            lambda r: when_text(r.withdrawn_at),
            sort_key=lambda r: r.withdrawn_at.isoformat() if r.withdrawn_at else "",
        ),
        Column(lambda: _("Withdrawn by"), lambda r: r.withdrawn_by),
        Column(lambda: _("Station"), lambda r: r.station_name),
    ]


def case_columns() -> list[Column[CaseSummary]]:
    def status(case: CaseSummary) -> str:
        if case.is_open or case.outcome is None:
            return case.status.title
        return _("{status}: {outcome}").format(status=case.status.title, outcome=case.outcome.title)

    return [
        Column(
            lambda: _("Opened"), lambda c: day_text(c.opened_at), sort_key=lambda c: c.opened_at
        ),
        Column(lambda: _("Counsellor"), lambda c: c.counsellor_name),
        Column(lambda: _("Topics"), lambda c: ", ".join(t.title for t in c.topics)),
        Column(lambda: _("Status"), status),
        Column(
            lambda: _("Risk level"),
            lambda c: c.risk_level.title,
            sort_key=lambda c: _RISK_ORDER[c.risk_level],
        ),
        Column(lambda: _("Station"), lambda c: c.station_name),
    ]


def disclosure_columns() -> list[Column[DisclosureRecord]]:
    return [
        Column(
            lambda: _("Date"),
            lambda d: d.disclosed_on.isoformat(),
            sort_key=lambda d: d.disclosed_on,
        ),
        Column(lambda: _("To whom"), lambda d: d.recipient),
        Column(lambda: _("What"), lambda d: d.what.replace("\n", " ")),
        Column(lambda: _("Why"), lambda d: d.why.replace("\n", " ")),
        Column(lambda: _("Basis"), lambda d: d.basis.title),
        Column(lambda: _("Recorded by"), lambda d: d.recorded_by),
    ]


# --- the small dialogs ------------------------------------------------------------------------------
class CorrectClientDialog(ClientDialog):
    """The registration form, filled with the record as it is, saving a correction. A change
    someone else made meanwhile is refused rather than overwritten."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        prompter: Prompter,
        client: ClientSummary,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            services.clients, actor, prompter, name=client.name, phone=client.phone, parent=parent
        )
        self.setObjectName("correct_client_dialog")
        self.setWindowTitle(_("Correct the client's details"))
        self._rights, self._client = services.rights, client
        self.work_unit_edit.setText(client.work_unit)
        self.gender_combo.setCurrentIndex(max(0, self.gender_combo.findData(client.gender.value)))
        if client.birth_year is not None:
            self.birth_year_spin.setValue(client.birth_year)
        self.ok_button.setText(_("&Save"))

    def save(self) -> ClientSummary:
        return self._rights.correct(
            self._actor, client_id=self._client.id, data=self.client_input(), expected=self._client
        )


class RecordConsentDialog(FormDialog):
    """The consent form on screen in the current language, and one box per purpose: the client
    agrees to each separately, so none is ticked in advance."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        prompter: Prompter,
        *,
        client: ClientSummary,
        wording: ConsentWording,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(prompter, _("Record consent"), "record_consent_dialog", parent)
        self._services, self._actor, self._client, self._wording = services, actor, client, wording
        self.wording_view = QTextBrowser(objectName="consent_wording")
        self.wording_view.setAccessibleName(_("The consent form"))
        self.wording_view.setOpenLinks(False)
        self.wording_view.setHtml(wording_document_html(wording))
        self.wording_view.setMinimumHeight(300)
        self.wording_view.setTabChangesFocus(True)
        self.form.addRow(self.wording_view)
        box = QWidget(objectName="purpose_boxes")
        box.setAccessibleName(_("Purposes the client agrees to"))
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        self.purpose_checks: dict[ConsentPurpose, QCheckBox] = {}
        for purpose in ConsentPurpose:
            check = QCheckBox(purpose.title, box, objectName=f"consent_{purpose.value}")
            check.setAccessibleName(purpose.title)
            column.addWidget(check)
            self.purpose_checks[purpose] = check
        self.row("purposes", _("The client agrees to"), box)
        note = QLabel(
            _(
                "The client signs the printed form under each purpose they agree to. Tick only "
                "the purposes they have signed for; keep the signed form at the station."
            ),
            objectName="consent_note",
            wordWrap=True,
        )
        set_tone(note, "hint")
        self.form.addRow(note)
        self.finish()
        self.ok_button.setText(_("&Record consent"))
        self.resize(760, 700)
        next(iter(self.purpose_checks.values())).setFocus()

    def chosen(self) -> frozenset[ConsentPurpose]:
        return frozenset(p for p, check in self.purpose_checks.items() if check.isChecked())

    def save(self) -> list[ConsentRecord]:
        return self._services.consent.give(
            self._actor,
            client_id=self._client.id,
            purposes=self.chosen(),
            language=self._wording.language,
        )


class DisclosureDialog(FormDialog):
    """Records that the client's information left the station: when, to whom, what, why, and on
    what basis (with the consent that allowed it, when the basis is consent)."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        prompter: Prompter,
        *,
        client_id: int,
        client_label: str,
        today: date,
        consents: Sequence[ConsentRecord],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(prompter, _("Record a disclosure"), "disclosure_dialog", parent)
        self._services, self._actor, self._client_id = services, actor, client_id
        client_value = _value_label("disclosure_client")
        client_value.setText(client_label)
        self.form.addRow(_("Client"), client_value)
        self.date_edit = self.row(
            "disclosed_on", _("&Date given"), date_edit(today, "disclosed_on_edit")
        )
        self.date_edit.setMaximumDate(qdate(today))
        self.date_edit.setAccessibleName(_("Date given"))
        self.recipient_edit = self.row(
            "recipient",
            _("&To whom"),
            QLineEdit(
                objectName="recipient_edit",
                maxLength=MAX_RECIPIENT,
                placeholderText=_(
                    "A role and an organisation, such as: duty doctor, city hospital"
                ),
            ),
        )
        self.recipient_edit.setAccessibleName(_("To whom"))
        self.what_edit = self.row(
            "what", _("&What was given"), _text_box("what_edit", _("What was given"))
        )
        self.why_edit = self.row("why", _("W&hy"), _text_box("why_edit", _("Why")))
        self.basis_combo = self.row("basis", _("&Basis"), QComboBox(objectName="basis_combo"))
        self.basis_combo.setAccessibleName(_("Basis"))
        self.basis_combo.setPlaceholderText(_("Choose the basis"))
        for basis in DisclosureBasis:
            self.basis_combo.addItem(basis.title, basis.value)
        self.basis_combo.setCurrentIndex(-1)  # a deliberate choice
        self.consent_combo = self.row(
            "consent_id", _("&Consent"), QComboBox(objectName="consent_combo")
        )
        self.consent_combo.setAccessibleName(_("The consent that allowed it"))
        in_force = [c for c in consents if c.in_force]
        self.consent_combo.setPlaceholderText(
            _("Choose the consent") if in_force else _("No consent in force")
        )
        for consent in in_force:
            self.consent_combo.addItem(
                _("{purpose}, given on {date}").format(
                    purpose=consent.purpose.title, date=day_text(consent.given_at)
                ),
                consent.id,
            )
        self.consent_combo.setCurrentIndex(-1)
        self.finish()
        self.ok_button.setText(_("&Record"))
        self.basis_combo.currentIndexChanged.connect(lambda _i: self._basis_changed())
        self._basis_changed()
        self.recipient_edit.setFocus()

    def basis(self) -> DisclosureBasis | None:
        value = self.basis_combo.currentData()
        return DisclosureBasis(value) if value else None

    def _basis_changed(self) -> None:
        by_consent = self.basis() is DisclosureBasis.CONSENT
        self.consent_combo.setEnabled(by_consent)
        if not by_consent:
            self.consent_combo.setCurrentIndex(-1)

    def problems(self) -> dict[str, str]:
        if self.basis() is None:
            return {"basis": _("Choose the basis on which the information was given.")}
        return {}

    def save(self) -> DisclosureRecord:
        basis = self.basis()
        assert basis is not None
        consent_id = self.consent_combo.currentData() if basis is DisclosureBasis.CONSENT else None
        return self._services.disclosures.record(
            self._actor,
            client_id=self._client_id,
            disclosed_on=pydate(self.date_edit.date()),
            recipient=self.recipient_edit.text(),
            what=self.what_edit.toPlainText(),
            why=self.why_edit.toPlainText(),
            basis=basis,
            consent_id=consent_id,
        )


# --- the record window ------------------------------------------------------------------------------
class ClientRecordDialog(QDialog):
    """The client's record. Its title names the client by code only: window lists and shared
    screens must not show who uses the service. Counsellors also see the client's cases and
    disclosures; those tabs load when first opened, because each reading is audited."""

    client_changed = Signal(int)  # the client's id: details or consents changed

    def __init__(
        self,
        services: Services,
        actor: Actor,
        prompter: Prompter,
        *,
        client_id: int,
        parent: QWidget | None = None,
        show_preview: ShowPreview = print_document,
    ) -> None:
        super().__init__(parent, objectName="client_record_dialog", windowTitle=_("Client record"))
        self._services, self._actor, self._prompter = services, actor, prompter
        self._show_preview = show_preview
        self.client_id = client_id
        self.client: ClientSummary | None = None
        self.consents: list[ConsentRecord] = []
        self._wiped = False
        self._loaded_tabs: set[str] = set()
        self._station = self._work_station()
        counsellor = actor.can(Permission.KEEP_CASE_RECORDS)

        self.banner = CrisisBanner(services.crisis, actor, prompter, self)
        self.tabs = QTabWidget(self, objectName="record_tabs")
        self.tabs.setAccessibleName(_("Client record"))
        self.tabs.addTab(self._details_tab(), _("&Details"))
        self.tabs.addTab(self._consents_tab(), _("Co&nsents"))
        self.cases_panel: RecordPanel | None = None
        self.disclosures_panel: RecordPanel | None = None
        if counsellor:
            self.tabs.addTab(self._cases_tab(), _("C&ases"))
            self.tabs.addTab(self._disclosures_tab(), _("D&isclosures"))
        self.questionnaires: QuestionnairesTab | None = None
        if actor.can(Permission.GIVE_ASSESSMENTS):
            from carestation.ui.client_questionnaires import QuestionnairesTab

            self.questionnaires = QuestionnairesTab(
                services,
                actor,
                prompter,
                client_id=client_id,
                client_code=lambda: self.client.client_code if self.client else "",
                on_recorded=lambda: self.banner.show_for(client_id),
                parent=self,
            )
            self.tabs.addTab(self.questionnaires, _("&Questionnaires"))
        self.message_label = QLabel(objectName="record_message", wordWrap=True)
        self.message_label.setTextFormat(Qt.TextFormat.PlainText)
        done = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        done.rejected.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(self.message_label, 1)
        bottom.addWidget(done)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(bottom)
        self.tabs.currentChanged.connect(lambda _i: self._load_current_tab())
        self.resize(960, 660)
        self.reload()

    # --- building the tabs ----------------------------------------------------------------------
    def _details_tab(self) -> QWidget:
        tab = QWidget(objectName="details_tab")
        form = QFormLayout()
        self.detail_labels: dict[str, QLabel] = {}
        for key, title in (
            ("name", _("Full name")),
            ("phone", _("Phone")),
            ("work_unit", _("Work unit")),
            ("gender", _("Gender")),
            ("birth_year", _("Birth year")),
            ("client_code", _("Client code")),
            ("registered", _("Registered on")),
        ):
            label = _value_label(f"detail_{key}")
            label.setAccessibleName(title)
            self.detail_labels[key] = label
            form.addRow(title, label)
        self.correct_button = QPushButton(
            _("&Correct..."), tab, objectName="correct_client", autoDefault=False
        )
        self.correct_button.setToolTip(_("Correct the registered details, at the client's request"))
        self.correct_button.clicked.connect(self.on_correct)
        self.correct_button.setVisible(self._actor.can(Permission.CORRECT_CLIENTS))
        self.kiosk_button = QPushButton(
            _("Questionnaires on the &self-service screen..."),
            tab,
            objectName="kiosk_for_client",
            autoDefault=False,
        )
        self.kiosk_button.setToolTip(
            _("The client answers on the station's self-service screen (needs their consent)")
        )
        self.kiosk_button.clicked.connect(self.on_kiosk)
        self.kiosk_button.setVisible(self._actor.can(Permission.RUN_KIOSK))
        buttons = QHBoxLayout()
        buttons.addWidget(self.correct_button)
        buttons.addWidget(self.kiosk_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(tab)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addStretch(1)
        return tab

    def _consents_tab(self) -> QWidget:
        tab = QWidget(objectName="consents_tab")
        current = QGroupBox(_("Consent now, by purpose"), tab)
        grid = QGridLayout(current)
        grid.setColumnStretch(1, 1)
        self.consent_state_labels: dict[ConsentPurpose, QLabel] = {}
        self.withdraw_buttons: dict[ConsentPurpose, QPushButton] = {}
        for row, purpose in enumerate(ConsentPurpose):
            title = QLabel(purpose.title)
            bold = title.font()
            bold.setBold(True)
            title.setFont(bold)
            state = _value_label(f"consent_state_{purpose.value}")
            state.setAccessibleName(purpose.title)
            withdraw = QPushButton(
                _("Withdraw..."),
                current,
                objectName=f"withdraw_{purpose.value}",
                autoDefault=False,
            )
            withdraw.setAccessibleName(
                _("Withdraw consent for {purpose}").format(purpose=purpose.title)
            )
            withdraw.clicked.connect(lambda _checked=False, p=purpose: self.on_withdraw(p))
            grid.addWidget(title, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(state, row, 1)
            grid.addWidget(withdraw, row, 2, Qt.AlignmentFlag.AlignTop)
            self.consent_state_labels[purpose] = state
            self.withdraw_buttons[purpose] = withdraw
        self.record_consent_button = QPushButton(
            _("&Record consent..."), tab, objectName="record_consent", autoDefault=False
        )
        self.record_consent_button.clicked.connect(self.on_record_consent)
        self.print_form_button = QPushButton(
            _("&Print consent form..."), tab, objectName="print_consent_form", autoDefault=False
        )
        self.print_form_button.clicked.connect(self.print_consent_form)
        buttons = QHBoxLayout()
        buttons.addWidget(self.record_consent_button)
        buttons.addWidget(self.print_form_button)
        buttons.addStretch(1)
        model: RecordTableModel[ConsentRecord] = RecordTableModel(consent_columns())
        self.consent_history = RecordPanel(_("History"), model, "consent_history_table")
        self.consent_history.table.sortByColumn(2, Qt.SortOrder.DescendingOrder)
        layout = QVBoxLayout(tab)
        layout.addWidget(current)
        layout.addLayout(buttons)
        layout.addWidget(self.consent_history, 1)
        # Reading order: each purpose with its withdraw button, then the actions, then history.
        QWidget.setTabOrder(
            self.withdraw_buttons[ConsentPurpose.REPORT_PRINTING], self.record_consent_button
        )
        QWidget.setTabOrder(self.record_consent_button, self.print_form_button)
        QWidget.setTabOrder(self.print_form_button, self.consent_history.table)
        return tab

    def _cases_tab(self) -> QWidget:
        tab = QWidget(objectName="cases_tab")
        model: RecordTableModel[CaseSummary] = RecordTableModel(case_columns())
        panel = RecordPanel(_("Cases you may see"), model, "client_cases_table")
        panel.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        panel.add_button(_("&Show the case..."), "show_case", self.open_selected_case)
        panel.add_button(
            _("&Open a case..."), "open_case", self.on_open_case, enabled_when=lambda _r: True
        )
        panel.add_button(
            _("Raise crisis &flag..."),
            "raise_flag",
            self.on_raise_flag,
            enabled_when=lambda _r: True,
        )
        panel.buttons.addStretch(1)
        panel.table.doubleClicked.connect(lambda _index: self.open_selected_case())
        enter_opens(panel.table)
        self.cases_panel = panel
        layout = QVBoxLayout(tab)
        layout.addWidget(panel, 1)
        return tab

    def _disclosures_tab(self) -> QWidget:
        tab = QWidget(objectName="disclosures_tab")
        intro = QLabel(
            _(
                "Each time the client's information is given to anyone outside the station: to "
                "whom, what, why and on what basis. The client may see this list."
            ),
            wordWrap=True,
        )
        set_tone(intro, "hint")
        model: RecordTableModel[DisclosureRecord] = RecordTableModel(disclosure_columns())
        panel = RecordPanel(_("Disclosures"), model, "disclosures_table")
        panel.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        panel.add_button(
            _("&Record a disclosure..."),
            "record_disclosure",
            self.on_record_disclosure,
            enabled_when=lambda _r: True,
        )
        panel.buttons.addStretch(1)
        self.disclosures_note = QLabel(objectName="disclosures_note", wordWrap=True)
        self.disclosures_note.setTextFormat(Qt.TextFormat.PlainText)
        self.disclosures_note.hide()
        self.disclosures_panel = panel
        layout = QVBoxLayout(tab)
        layout.addWidget(intro)
        layout.addWidget(self.disclosures_note)
        layout.addWidget(panel, 1)
        return tab

    # --- loading --------------------------------------------------------------------------------
    def _work_station(self) -> Station | None:
        stations = attempt(
            self, self._prompter, lambda: self._services.admin.list_stations(actor=self._actor)
        )
        mine = [s for s in stations or [] if s.id in self._actor.station_ids]
        preferred = [s for s in mine if s.id == self._actor.station_id]
        return next(iter(preferred or mine), None)

    def _zone(self) -> ZoneInfo:
        return ZoneInfo(self._station.time_zone if self._station else DEFAULT_ZONE)

    def _today(self) -> date:
        return self._services.clients.clock.now().astimezone(self._zone()).date()

    def reload(self) -> None:
        """Reads the record again: details, the banner, consents, and the open tab."""
        if self._wiped:
            return
        client = attempt(
            self,
            self._prompter,
            lambda: self._services.clients.get(actor=self._actor, client_id=self.client_id),
        )
        self._fill_details(client)
        self.banner.show_for(self.client_id if client is not None else None)
        self.reload_consents()
        self._loaded_tabs.clear()
        self._load_current_tab()

    def _fill_details(self, client: ClientSummary | None) -> None:
        self.client = client
        values: dict[str, str] = {}
        if client is not None:
            values = {
                "name": client.name,
                "phone": client.phone,
                "work_unit": client.work_unit or "—",
                "gender": client.gender.title,
                "birth_year": str(client.birth_year) if client.birth_year else _("Not given"),
                "client_code": client.client_code,
                "registered": day_text(
                    client.registered_at.astimezone(self._zone()) if client.registered_at else None
                ),
            }
        for key, label in self.detail_labels.items():
            label.setText(values.get(key, ""))
        self.setWindowTitle(
            _("Client record {code}").format(code=client.client_code)
            if client is not None
            else _("Client record")
        )
        enabled = client is not None
        for button in (
            self.correct_button,
            self.record_consent_button,
            self.print_form_button,
        ):
            button.setEnabled(enabled)

    def reload_consents(self) -> None:
        records: list[ConsentRecord] = []
        if self.client is not None:
            records = (
                attempt(
                    self,
                    self._prompter,
                    lambda: self._services.consent.consents(self._actor, self.client_id),
                )
                or []
            )
        self.consents = records
        version = self._current_version()
        for purpose, label in self.consent_state_labels.items():
            if self.client is None:
                label.clear()
                self.withdraw_buttons[purpose].setEnabled(False)
                continue
            text, in_force = consent_state(purpose, records, version)
            label.setText(text)
            set_tone(label, "success" if in_force else "hint")  # the text says which
            self.withdraw_buttons[purpose].setEnabled(in_force)
        self.consent_history.set_rows(records)

    def _current_version(self) -> str | None:
        try:
            return load_consent_wording(current_language()).version
        except (CareStationError, OSError, ValueError):
            return None

    def _load_current_tab(self) -> None:
        if self._wiped or self.client is None:
            return
        tab = self.tabs.currentWidget()
        name = tab.objectName() if tab is not None else ""
        if name in self._loaded_tabs:
            return
        if name == "cases_tab":
            self.reload_cases()
        elif name == "disclosures_tab":
            self.reload_disclosures()
        elif name == "questionnaires_tab" and self.questionnaires is not None:
            self._loaded_tabs.add(name)
            self.questionnaires.reload()

    def reload_cases(self, *, select_id: int | None = None) -> None:
        if self.cases_panel is None:
            return
        self._loaded_tabs.add("cases_tab")
        rows = (
            attempt(
                self,
                self._prompter,
                lambda: self._services.cases.cases_for_client(self._actor, self.client_id),
            )
            or []
        )
        self.cases_panel.set_rows(rows, select_id=select_id)

    def reload_disclosures(self) -> None:
        if self.disclosures_panel is None:
            return
        self._loaded_tabs.add("disclosures_tab")
        rows: list[DisclosureRecord] = []
        note = ""
        try:
            rows = self._services.disclosures.for_client(self._actor, self.client_id)
        except PermissionDenied:
            # Not one of the client's counsellors: say so here, not in a box on every visit.
            note = _(
                "Only the client's own counsellors see and record disclosures: the counsellor of "
                "one of their cases or appointments, or the station's supervisor."
            )
        except CareStationError as exc:
            note = str(exc)
        self.disclosures_panel.set_rows(rows)
        self.disclosures_note.setText(note)
        set_tone(self.disclosures_note, "error" if note else None)
        self.disclosures_note.setVisible(bool(note))

    def show_tab(self, object_name: str) -> bool:
        """Makes the named tab current (loading it); False when this user has no such tab."""
        for index in range(self.tabs.count()):
            tab = self.tabs.widget(index)
            if tab is not None and tab.objectName() == object_name:
                self.tabs.setCurrentIndex(index)
                self._load_current_tab()
                return True
        return False

    def tab_names(self) -> list[str]:
        tabs = (self.tabs.widget(i) for i in range(self.tabs.count()))
        return [tab.objectName() for tab in tabs if tab is not None]

    def _say(self, text: str) -> None:
        self.message_label.setText(text)

    # --- details --------------------------------------------------------------------------------
    def on_correct(self) -> CorrectClientDialog | None:
        client = self.client
        if client is None or not self._actor.can(Permission.CORRECT_CLIENTS):
            return None
        dialog = CorrectClientDialog(self._services, self._actor, self._prompter, client, self)
        open_dialog(dialog, lambda: self._corrected(dialog.saved))
        return dialog

    def on_kiosk(self) -> bool:
        from carestation.ui.kiosk_launcher import find_launcher

        launcher = find_launcher(self)
        if launcher is None:
            self._prompter.error(
                self,
                _("Self-service screen"),
                _("Open the client's record from the main window to use the self-service screen."),
            )
            return False
        return launcher.choose_and_start(client_id=self.client_id, parent=self)

    def _corrected(self, client: ClientSummary) -> None:
        self._fill_details(client)
        self._say(_("The client's details were corrected."))
        self.client_changed.emit(self.client_id)

    # --- consents -------------------------------------------------------------------------------
    def _wording(self) -> ConsentWording | None:
        station = self._station
        if station is None:
            self._prompter.error(
                self,
                _("No station"),
                _("Sign in at a station to print or record the station's consent form."),
            )
            return None
        return attempt(
            self,
            self._prompter,
            lambda: self._services.consent.wording(
                language=current_language(), station_id=station.id
            ),
        )

    def on_record_consent(self) -> RecordConsentDialog | None:
        client = self.client
        wording = self._wording() if client is not None else None
        if client is None or wording is None:
            return None
        dialog = RecordConsentDialog(
            self._services, self._actor, self._prompter, client=client, wording=wording, parent=self
        )
        open_dialog(dialog, self._consent_given)
        return dialog

    def _consent_given(self) -> None:
        self.reload_consents()
        self._say(_("The client's consent was recorded."))
        self.client_changed.emit(self.client_id)

    def on_withdraw(self, purpose: ConsentPurpose) -> bool:
        """Records the withdrawal once the user confirms; True when it was recorded."""
        if self.client is None:
            return False
        question = _(
            "Record that the client withdraws consent for {purpose}? From now on nothing is "
            "processed for this purpose."
        ).format(purpose=purpose.title)
        if not self._prompter.confirm(self, _("Withdraw consent"), question):
            return False
        done = attempt(
            self,
            self._prompter,
            lambda: self._services.consent.withdraw(
                self._actor, client_id=self.client_id, purpose=purpose
            ),
        )
        self.reload_consents()
        if done is None:
            return False
        self._say(_("Consent for {purpose} is withdrawn.").format(purpose=purpose.title))
        self.client_changed.emit(self.client_id)
        return True

    def build_consent_form(self) -> Printable | None:
        """The form to print for this client, in the current language."""
        client = self.client
        wording = self._wording() if client is not None else None
        if client is None or wording is None or self._station is None:
            return None
        return consent_form(
            wording=wording,
            client=client,
            station_name=self._station.name,
            printed_on=self._today(),
        )

    def print_consent_form(self) -> None:
        form = self.build_consent_form()
        client = self.client
        if form is None or client is None or self._station is None:
            return
        station_id = self._station.id
        logged = attempt(
            self,
            self._prompter,
            lambda: (
                self._services.print_log.record(
                    actor=self._actor,
                    document="consent_form",
                    station_id=station_id,
                    ref=client.client_code,
                )
                or True
            ),
        )
        if logged:
            self._show_preview(self, form, consent_form_name(), self._prompter)

    # --- cases ----------------------------------------------------------------------------------
    def selected_case(self) -> CaseSummary | None:
        return self.cases_panel.selected() if self.cases_panel is not None else None

    def open_selected_case(self) -> QDialog | None:
        case = self.selected_case()
        return self.open_case(case.id) if case is not None else None

    def open_case(self, case_id: int) -> QDialog:
        from carestation.ui.case_window import CaseDialog

        dialog = CaseDialog(
            self._services, self._actor, self._prompter, case_id=case_id, parent=self
        )
        dialog.case_changed.connect(lambda _id: self._case_changed())
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def _case_changed(self) -> None:
        if not self._wiped:
            self.banner.show_for(self.client_id)
            self.reload_cases()

    def on_open_case(self) -> QDialog | None:
        client = self.client
        if client is None:
            return None
        from carestation.ui.case_window import OpenCaseDialog

        dialog = OpenCaseDialog(
            self._services,
            self._actor,
            self._prompter,
            client_id=client.id,
            client_label=client.client_code,
            parent=self,
        )
        open_dialog(dialog, lambda: self._case_opened(dialog.saved))
        return dialog

    def _case_opened(self, case: CaseSummary) -> None:
        self.reload_cases(select_id=case.id)
        self._say(_("A case is open for {code}.").format(code=case.client_code))

    def on_raise_flag(self) -> RaiseFlagDialog | None:
        client = self.client
        if client is None:
            return None
        chosen = self.selected_case()
        dialog = RaiseFlagDialog(
            self._services.crisis,
            self._actor,
            self._prompter,
            client_id=client.id,
            client_label=client.client_code,
            case_id=chosen.id if chosen is not None and chosen.is_open else None,
            parent=self,
        )
        open_dialog(dialog, self._flag_raised)
        return dialog

    def _flag_raised(self) -> None:
        self.banner.show_for(self.client_id)
        self._say(_("The crisis flag is raised. Follow the station's checklist."))

    # --- disclosures ----------------------------------------------------------------------------
    def on_record_disclosure(self) -> DisclosureDialog | None:
        client = self.client
        if client is None:
            return None
        dialog = DisclosureDialog(
            self._services,
            self._actor,
            self._prompter,
            client_id=client.id,
            client_label=client.client_code,
            today=self._today(),
            consents=self.consents,
            parent=self,
        )
        open_dialog(dialog, self._disclosure_recorded)
        return dialog

    def _disclosure_recorded(self) -> None:
        self.reload_disclosures()
        self._say(_("The disclosure was recorded."))

    # --- lock and sign-out ----------------------------------------------------------------------
    def clear(self) -> None:
        """Closes the windows opened from here (saving note drafts), forgets everything shown,
        and closes."""
        if self._wiped:
            return
        self._wiped = True
        try:
            from carestation.ui.case_window import close_record_windows
        except ImportError:  # pragma: no cover - the case window is a separate module
            pass
        else:
            close_record_windows(self)
        for dialog in self.findChildren(QDialog):
            if dialog is not self and dialog.isVisible():
                dialog.reject()
        self.client = None
        self.consents = []
        self._fill_details(None)
        for label in self.consent_state_labels.values():
            label.clear()
        self.consent_history.set_rows([])
        if self.cases_panel is not None:
            self.cases_panel.set_rows([])
        if self.disclosures_panel is not None:
            self.disclosures_panel.set_rows([])
            self.disclosures_note.clear()
        if self.questionnaires is not None:
            self.questionnaires.clear()
        self.message_label.clear()
        self.banner.clear()
        self.done(QDialog.DialogCode.Rejected)
