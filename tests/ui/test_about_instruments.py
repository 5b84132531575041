"""The "About the questionnaires" page: every instrument's licence, attribution and sources, in
the language of the app, as read-only selectable text."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from dataclasses import replace

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from carestation.assessments import LocalizedText, instrument_codes, load_instrument
from carestation.i18n import set_language
from carestation.ui.about_instruments import AboutInstrumentsDialog, instrument_html


def make(qtbot: QtBot) -> AboutInstrumentsDialog:
    dialog = AboutInstrumentsDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_every_instrument_with_its_licence_attribution_and_sources(qtbot: QtBot) -> None:
    dialog = make(qtbot)
    assert dialog.windowTitle() == "About the questionnaires"
    text = dialog.browser.toPlainText()
    for code in instrument_codes():
        instrument = load_instrument(code)
        for value in (
            instrument.title.en,
            instrument.recall_period.en,
            instrument.licence.en,
            instrument.attribution.en,
            instrument.translation_source.en,
            *[note.en for note in instrument.notes],
        ):
            assert value in text, (code, value)
    for key in ("Version", "Recall period", "Licence", "Attribution", "Translation source"):
        assert text.count(key) >= len(instrument_codes())
    assert "© World Health Organization 2003" in text  # the K10 notice its licence requires


def test_in_chinese_when_the_app_is_in_chinese(qtbot: QtBot) -> None:
    set_language("zh_CN")
    dialog = make(qtbot)
    text = dialog.browser.toPlainText()
    who5 = load_instrument("who5")
    assert who5.title.zh_cn in text
    assert who5.licence.zh_cn in text
    assert who5.translation_source.zh_cn in text
    assert who5.title.en not in text


def test_read_only_and_selectable(qtbot: QtBot) -> None:
    dialog = make(qtbot)
    browser = dialog.browser
    assert browser.isReadOnly()
    flags = browser.textInteractionFlags()
    assert flags & Qt.TextInteractionFlag.TextSelectableByMouse
    assert not browser.openExternalLinks()


def test_definition_text_is_shown_as_text_never_as_markup() -> None:
    k10 = replace(load_instrument("k10"), notes=(LocalizedText("<b>bold</b> & co", "<b>x</b>"),))
    html = instrument_html(k10, "zh_CN")
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in html
    assert "<b>bold</b>" not in html
