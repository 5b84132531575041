"""About the questionnaires: each instrument's version, recall period, licence, attribution,
source of the translation and notes, as its definition file states them."""

from __future__ import annotations

from html import escape

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from carestation.assessments import Instrument, instrument_codes, load_instrument
from carestation.i18n import _, current_language

STYLE = """
h2 { margin-top: 18px; margin-bottom: 4px; }
td.key { font-weight: bold; padding-right: 12px; white-space: nowrap; vertical-align: top; }
td { padding-bottom: 4px; vertical-align: top; }
"""


def instrument_html(instrument: Instrument, lang: str) -> str:
    """One instrument's section; every text is escaped (definition files are data, not markup)."""

    def row(key: str, value: str) -> str:
        return f'<tr><td class="key">{escape(key)}</td><td>{escape(value)}</td></tr>'

    notes = "".join(f"<li>{escape(note.text(lang))}</li>" for note in instrument.notes)
    rows = [
        row(_("Version"), instrument.version),
        row(_("Questions"), str(len(instrument.items))),
        row(_("Recall period"), instrument.recall_period.text(lang)),
        row(_("Licence"), instrument.licence.text(lang)),
        row(_("Attribution"), instrument.attribution.text(lang)),
        row(_("Translation source"), instrument.translation_source.text(lang)),
    ]
    notes_title = escape(_("Notes"))
    notes_row = (
        f'<tr><td class="key">{notes_title}</td><td><ul style="margin: 0;">{notes}</ul></td></tr>'
        if notes
        else ""
    )
    return (
        f'<h2><a name="{instrument.code}"></a>{escape(instrument.title.text(lang))}</h2>'
        f'<table cellspacing="0" cellpadding="2">{"".join(rows)}{notes_row}</table>'
    )


def about_html(lang: str | None = None) -> str:
    lang = lang or current_language()
    instruments = [load_instrument(code) for code in instrument_codes()]
    contents = "".join(
        f'<li><a href="#{i.code}">{escape(i.title.text(lang))}</a></li>' for i in instruments
    )
    intro = _(
        "Every questionnaire is scored exactly by its published rules. Wording and translations "
        "come from the definition files below; each states where its text comes from."
    )
    return f"<p>{escape(intro)}</p><ul>{contents}</ul>" + "".join(
        instrument_html(i, lang) for i in instruments
    )


class AboutInstrumentsDialog(QDialog):
    """Read-only, scrollable, selectable text in the current language."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            parent, objectName="about_instruments", windowTitle=_("About the questionnaires")
        )
        self.browser = QTextBrowser(objectName="instruments_text")
        self.browser.setAccessibleName(_("About the questionnaires"))
        self.browser.setOpenLinks(True)  # only the contents' anchors; no external links
        self.browser.setOpenExternalLinks(False)
        self.browser.document().setDefaultStyleSheet(STYLE)
        self.browser.setHtml(about_html())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser, 1)
        layout.addWidget(buttons)
        self.resize(820, 700)
